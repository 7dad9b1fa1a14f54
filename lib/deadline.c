// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Go's WithDeadline, WithTimeout (and their Cause variants) and
 * ctx.Deadline(). Deadlines are kernel hrtimers on CLOCK_MONOTONIC or
 * CLOCK_BOOTTIME; the kernel keeps the earliest deadline of the ancestor
 * chain, gives no timer to a child whose parent expires first, and
 * creates a context whose deadline has passed already done (ETIMEDOUT).
 *
 * C's struct timespec does not say which clock it was read from, so
 * ctx_with_deadline() (CLOCK_MONOTONIC) refuses the one mistake it can
 * recognize, a CLOCK_REALTIME time, and ctx_with_deadline_clock() takes
 * the clock as an argument (Go's time.Time knows its wall and monotonic
 * readings).
 *
 * As in Go, the cancel function of a deadline context sets no cause: a
 * cause given with ..._cause() is recorded only when the deadline fires.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Longer timeouts are clamped (about 146 years) so that now + timeout
 * cannot overflow in the kernel. */
#define CTX_TIMEOUT_MAX ((ctx_duration_t)1 << 62)

#define CTX_YEAR	((int64_t)31557600 * CTX_SECOND)	/* 365.25 days */

static int ctx__with_deadline(ctx_t *parent, int64_t ns, bool relative,
			      clockid_t clockid, int code, const char *msg,
			      ctx_t **ctx, ctx_cancel_t **cancel,
			      const char *what)
{
	struct ctxfd_create args = { 0 };
	int ret;

	if (ctx)
		*ctx = NULL;
	if (cancel)
		*cancel = NULL;
	ret = ctx__cause_args(&args.deadline_cause, code, msg, what);
	if (ret)
		return ret;
	if (ns < 0)
		ns = 0;		/* in the past: born done, as in Go */
	if (relative && ns > CTX_TIMEOUT_MAX)
		ns = CTX_TIMEOUT_MAX;
	args.flags = relative ? CTXFD_CREATE_TIMEOUT : CTXFD_CREATE_DEADLINE;
	args.deadline_ns = ns;
	args.clockid = clockid;
	return ctx__with_cancel_args(parent, &args, false, ctx, cancel, what);
}

static int ctx__check_ts(const struct timespec *ts, const char *what)
{
	if (!ts)
		return ctx__fail(EINVAL, "%s: NULL deadline", what);
	if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
		return ctx__fail(EINVAL, "%s: tv_nsec out of range", what);
	return 0;
}

static int64_t ctx__clock_ns(clockid_t clockid)
{
	struct timespec ts;

	clock_gettime(clockid, &ts);
	return ctx__ts_to_ns(&ts);
}

/*
 * A CLOCK_REALTIME time passed as a CLOCK_MONOTONIC (or CLOCK_BOOTTIME)
 * one lies 50-odd years out, where no real deadline does: refuse a
 * @clockid time that is nearer to the wall clock's "now" than half the
 * distance between the two clocks' "now"s. Deadlines decades away
 * (INT64_MAX included) and in the past stay valid; so does everything
 * on a machine whose wall clock was never set.
 */
static int ctx__check_not_wall(int64_t ns, clockid_t clockid,
			       const char *what)
{
	int64_t base = ctx__clock_ns(clockid);
	int64_t wall = ctx__clock_ns(CLOCK_REALTIME);
	int64_t offset = wall - base, dist;

	if (ns <= base || offset < 20 * CTX_YEAR)
		return 0;
	dist = ns > wall ? ns - wall : wall - ns;
	if (dist >= offset / 2)
		return 0;
	return ctx__fail(EINVAL,
			 "%s: this deadline is a CLOCK_REALTIME time (%lld years away on %s): for wall-clock times call ctx_with_deadline_clock(parent, CLOCK_REALTIME, ...)",
			 what, (long long)((ns - base) / CTX_YEAR),
			 clockid == CLOCK_BOOTTIME ? "CLOCK_BOOTTIME" :
			 "CLOCK_MONOTONIC");
}

/*
 * A wall-clock (@clockid) time as a CLOCK_BOOTTIME one, at the current
 * offset: like Go's deadlines, which keep a monotonic reading, it does
 * not move when the wall clock is set later; unlike a CLOCK_MONOTONIC
 * one, it keeps counting while the machine is suspended, as the wall
 * clock does. Saturates; negative means "already past".
 */
static int64_t ctx__wall_to_boottime(int64_t ns, clockid_t clockid)
{
	int64_t boot = ctx__clock_ns(CLOCK_BOOTTIME);
	int64_t offset = ctx__clock_ns(clockid) - boot;

	if (offset > 0 && ns < INT64_MIN + offset)
		return -1;
	if (offset < 0 && ns > INT64_MAX + offset)
		return INT64_MAX;
	return ns - offset;
}

static int ctx__deadline_on(ctx_t *parent, clockid_t clockid,
			    const struct timespec *deadline, int code,
			    const char *msg, ctx_t **ctx,
			    ctx_cancel_t **cancel, const char *what)
{
	int64_t ns;
	int ret;

	if (ctx)
		*ctx = NULL;
	if (cancel)
		*cancel = NULL;
	ret = ctx__check_ts(deadline, what);
	if (ret)
		return ret;
	ns = ctx__ts_to_ns(deadline);
	switch (clockid) {
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME:
		ret = ctx__check_not_wall(ns, clockid, what);
		if (ret)
			return ret;
		break;
	case CLOCK_REALTIME:
	case CLOCK_TAI:
		ns = ctx__wall_to_boottime(ns, clockid);
		clockid = CLOCK_BOOTTIME;
		break;
	default:
		return ctx__fail(EINVAL,
				 "%s: clock %d cannot carry a deadline: use CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_REALTIME or CLOCK_TAI",
				 what, (int)clockid);
	}
	return ctx__with_deadline(parent, ns, false, clockid, code, msg, ctx,
				  cancel, what);
}

int ctx_with_deadline(ctx_t *parent, const struct timespec *deadline,
		      ctx_t **ctx, ctx_cancel_t **cancel)
{
	return ctx__deadline_on(parent, CLOCK_MONOTONIC, deadline, 0, NULL,
				ctx, cancel, "ctx_with_deadline");
}

int ctx_with_deadline_cause(ctx_t *parent, const struct timespec *deadline,
			    int code, const char *msg, ctx_t **ctx,
			    ctx_cancel_t **cancel)
{
	return ctx__deadline_on(parent, CLOCK_MONOTONIC, deadline, code, msg,
				ctx, cancel, "ctx_with_deadline_cause");
}

int ctx_with_deadline_clock(ctx_t *parent, clockid_t clockid,
			    const struct timespec *deadline, ctx_t **ctx,
			    ctx_cancel_t **cancel)
{
	return ctx__deadline_on(parent, clockid, deadline, 0, NULL, ctx,
				cancel, "ctx_with_deadline_clock");
}

int ctx_with_deadline_clock_cause(ctx_t *parent, clockid_t clockid,
				  const struct timespec *deadline, int code,
				  const char *msg, ctx_t **ctx,
				  ctx_cancel_t **cancel)
{
	return ctx__deadline_on(parent, clockid, deadline, code, msg, ctx,
				cancel, "ctx_with_deadline_clock_cause");
}

int ctx_with_timeout(ctx_t *parent, ctx_duration_t timeout, ctx_t **ctx,
		     ctx_cancel_t **cancel)
{
	return ctx__with_deadline(parent, timeout, true, CLOCK_MONOTONIC, 0,
				  NULL, ctx, cancel, "ctx_with_timeout");
}

int ctx_with_timeout_cause(ctx_t *parent, ctx_duration_t timeout, int code,
			   const char *msg, ctx_t **ctx, ctx_cancel_t **cancel)
{
	return ctx__with_deadline(parent, timeout, true, CLOCK_MONOTONIC, code,
				  msg, ctx, cancel, "ctx_with_timeout_cause");
}

/* The deadline @ns on @clockid as a CLOCK_MONOTONIC time. */
static int64_t ctx__to_monotonic(int64_t ns, clockid_t clockid)
{
	struct timespec mono, other;

	if (clockid == CLOCK_MONOTONIC)
		return ns;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(clockid, &other);
	return ns - (ctx__ts_to_ns(&other) - ctx__ts_to_ns(&mono));
}

bool ctx_deadline(ctx_t *ctx, struct timespec *deadline)
{
	struct ctxfd_info info;
	int state, ret;

	if (deadline)
		memset(deadline, 0, sizeof(*deadline));
	if (!ctx || !deadline) {
		errno = EINVAL;
		ctx__fail_errno("ctx_deadline: NULL %s",
				ctx ? "result pointer" : "context");
		return false;
	}
	state = atomic_load_explicit(&ctx->dl_state, memory_order_acquire);
	if (state == CTX_DL_UNKNOWN) {
		if (ctx->fd < 0) {
			state = CTX_DL_NONE;
		} else if ((ret = ctx__info(ctx, &info)) < 0) {
			errno = -ret;
			ctx__fail_errno("ctx_deadline: CTXFD_IOC_INFO");
			return false;
		} else if (!(info.flags & CTXFD_INFO_HAS_DEADLINE)) {
			state = CTX_DL_NONE;
			atomic_store_explicit(&ctx->dl_state, state,
					      memory_order_release);
		} else if (info.clockid != CLOCK_MONOTONIC) {
			/* The offset to CLOCK_MONOTONIC moves: no cache. */
			ctx__ns_to_ts(ctx__to_monotonic(info.deadline_ns,
							info.clockid),
				      deadline);
			return true;
		} else {
			ctx__ns_to_ts(info.deadline_ns, &ctx->dl);
			state = CTX_DL_SET;
			atomic_store_explicit(&ctx->dl_state, state,
					      memory_order_release);
		}
	}
	if (state == CTX_DL_NONE)
		return false;
	*deadline = ctx->dl;
	return true;
}
