// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Who canceled, and is it over: provenance (ctx_cause_origin), drained
 * (ctx_wait_drained) and teardown reports (ctx_teardown_report), all read
 * from the kernel's CTXFD_IOC_INFO (struct ctxfd_info, second size).
 */
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* INFO on @ctx, refused with -EOPNOTSUPP unless the kernel filled @need. */
static int ctx__info_with(struct ctx_context *ctx, struct ctxfd_info *info,
			  __u64 need, const char *what)
{
	int ret = ctx__info(ctx, info);

	if (ret < 0) {
		errno = -ret;
		return ctx__fail_errno("%s: CTXFD_IOC_INFO", what);
	}
	if ((info->mask & need) != need)
		return ctx__fail(EOPNOTSUPP,
				 "%s: the loaded ctxfd module is too old to report this (it predates provenance, drained and teardown reports): load a newer one",
				 what);
	return 0;
}

int ctx_cause_origin(ctx_t *ctx, struct ctx_origin *origin)
{
	static const char what[] = "ctx_cause_origin";
	struct ctxfd_info info;
	int ret;

	if (origin)
		memset(origin, 0, sizeof(*origin));
	if (!ctx || !origin)
		return ctx__fail(EINVAL, "%s: NULL %s", what,
				 ctx ? "origin" : "context");
	if (ctx->never_done)
		return 0;
	ret = ctx__info_with(ctx, &info, CTXFD_INFO_ORIGIN, what);
	if (ret < 0)
		return ret;
	if (!info.err)
		return 0;
	origin->reason = (int)info.reason;
	origin->via = (int)info.origin_via;
	origin->id = info.origin_id;
	origin->pid = info.origin_pid;
	memcpy(origin->comm, info.origin_comm, sizeof(origin->comm));
	origin->comm[sizeof(origin->comm) - 1] = '\0';
	origin->time_ns = (int64_t)info.done_time_ns;
	return info.err;
}

int ctx_teardown_report(ctx_t *ctx, struct ctx_teardown *report)
{
	static const char what[] = "ctx_teardown_report";
	struct ctxfd_info info;
	int ret;

	if (report)
		memset(report, 0, sizeof(*report));
	if (!ctx || !report)
		return ctx__fail(EINVAL, "%s: NULL %s", what,
				 ctx ? "report" : "context");
	if (ctx->fd < 0)	/* Background, TODO: nothing attaches */
		return 0;
	ret = ctx__info_with(ctx, &info, CTXFD_INFO_TEARDOWN, what);
	if (ret < 0)
		return ret;
	report->fired = info.td_fired;
	report->running = info.td_running;
	report->signalled = info.td_signalled;
	report->killed = info.td_killed;
	report->left = info.td_left;
	report->duration = info.td_duration_ns > INT64_MAX ? INT64_MAX :
			   (ctx_duration_t)info.td_duration_ns;
	return 0;
}

static int64_t ctx__mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ctx__ts_to_ns(&ts);
}

/*
 * Drained is final and the kernel signals it with EPOLLPRI on the
 * context's fd (EPOLLIN keeps meaning done): one INFO to learn that the
 * kernel tracks it (and to answer at once when it already is), then
 * ppoll() for POLLPRI.
 */
int ctx_wait_drained(ctx_t *ctx, ctx_duration_t timeout)
{
	static const char what[] = "ctx_wait_drained";
	struct ctxfd_info info;
	struct pollfd pfd;
	int64_t end = 0;
	int ret;

	if (!ctx)
		return ctx__fail(EINVAL, "%s: NULL context", what);
	if (ctx->never_done) {
		/* Never done, so never drained: like ctx_wait(). */
		struct timespec ts;

		if (timeout < 0)
			for (;;)
				pause();
		ctx__ns_to_ts(timeout, &ts);
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		return 0;
	}
	ret = ctx__info_with(ctx, &info, CTXFD_INFO_DRAIN, what);
	if (ret < 0)
		return ret;
	if (info.flags & CTXFD_INFO_DRAINED)
		return 1;
	if (timeout == 0)
		return 0;
	if (timeout > 0) {
		end = ctx__mono_ns();
		end = timeout > INT64_MAX - end ? INT64_MAX : end + timeout;
	}
	pfd.fd = ctx->fd;
	pfd.events = POLLPRI;
	for (;;) {
		struct timespec ts, *tsp = NULL;
		int n;

		if (timeout > 0) {
			int64_t left = end - ctx__mono_ns();

			ctx__ns_to_ts(left > 0 ? left : 0, &ts);
			tsp = &ts;
		}
		pfd.revents = 0;
		n = ppoll(&pfd, 1, tsp, NULL);
		if (n > 0) {
			if (pfd.revents & POLLNVAL)
				return ctx__fail(EBADF, "%s: the context's descriptor is closed",
						 what);
			if (pfd.revents & POLLPRI)
				return 1;
			continue;
		}
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return ctx__fail_errno("%s: ppoll", what);
	}
}
