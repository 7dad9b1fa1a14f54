// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Go's WithDeadline, WithTimeout (and their Cause variants) and
 * ctx.Deadline(). Deadlines are kernel hrtimers on CLOCK_MONOTONIC; the
 * kernel keeps the earliest deadline of the ancestor chain, gives no timer
 * to a child whose parent expires first, and creates a context whose
 * deadline has passed already done (ETIMEDOUT).
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

static int ctx__with_deadline(ctx_t *parent, int64_t ns, bool relative,
			      int code, const char *msg, ctx_t **ctx,
			      ctx_cancel_t **cancel, const char *what)
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
	args.clockid = CLOCK_MONOTONIC;
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

int ctx_with_deadline(ctx_t *parent, const struct timespec *deadline,
		      ctx_t **ctx, ctx_cancel_t **cancel)
{
	int ret = ctx__check_ts(deadline, "ctx_with_deadline");

	if (ret) {
		if (ctx)
			*ctx = NULL;
		if (cancel)
			*cancel = NULL;
		return ret;
	}
	return ctx__with_deadline(parent, ctx__ts_to_ns(deadline), false, 0,
				  NULL, ctx, cancel, "ctx_with_deadline");
}

int ctx_with_deadline_cause(ctx_t *parent, const struct timespec *deadline,
			    int code, const char *msg, ctx_t **ctx,
			    ctx_cancel_t **cancel)
{
	int ret = ctx__check_ts(deadline, "ctx_with_deadline_cause");

	if (ret) {
		if (ctx)
			*ctx = NULL;
		if (cancel)
			*cancel = NULL;
		return ret;
	}
	return ctx__with_deadline(parent, ctx__ts_to_ns(deadline), false, code,
				  msg, ctx, cancel, "ctx_with_deadline_cause");
}

int ctx_with_timeout(ctx_t *parent, ctx_duration_t timeout, ctx_t **ctx,
		     ctx_cancel_t **cancel)
{
	return ctx__with_deadline(parent, timeout, true, 0, NULL, ctx, cancel,
				  "ctx_with_timeout");
}

int ctx_with_timeout_cause(ctx_t *parent, ctx_duration_t timeout, int code,
			   const char *msg, ctx_t **ctx, ctx_cancel_t **cancel)
{
	return ctx__with_deadline(parent, timeout, true, code, msg, ctx, cancel,
				  "ctx_with_timeout_cause");
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
	int state;

	if (!ctx || !deadline) {
		ctx__fail(EINVAL, "ctx_deadline: NULL argument");
		errno = EINVAL;
		return false;
	}
	state = atomic_load_explicit(&ctx->dl_state, memory_order_acquire);
	if (state == CTX_DL_UNKNOWN) {
		if (ctx->fd < 0) {
			state = CTX_DL_NONE;
		} else if (ctx__info(ctx, &info) < 0) {
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
	if (state == CTX_DL_NONE) {
		memset(deadline, 0, sizeof(*deadline));
		return false;
	}
	*deadline = ctx->dl;
	return true;
}
