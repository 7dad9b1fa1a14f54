// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Contexts as objects: Background and TODO, references, creation of
 * kernel children, adoption of descriptors, and Go's Done/Err/Cause.
 *
 * Done is final in the kernel, so once a context has been seen done its
 * err is cached and ctx_err() costs a load. While it is active, ctx_err()
 * is one zero-timeout poll() of the context fd (the price of a
 * non-blocking eventfd read); the first time it finds the context done,
 * one read() of the event record gives the err.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

static struct ctx_context ctx_background_ctx = {
	.fd = -1,
	.kind = CTX_KIND_BACKGROUND,
	.never_done = true,
	.immortal = true,
	.dl_state = CTX_DL_NONE,
};

static struct ctx_context ctx_todo_ctx = {
	.fd = -1,
	.kind = CTX_KIND_TODO,
	.never_done = true,
	.immortal = true,
	.dl_state = CTX_DL_NONE,
};

ctx_t *ctx_background(void)
{
	return &ctx_background_ctx;
}

ctx_t *ctx_todo(void)
{
	return &ctx_todo_ctx;
}

bool ctx__is_static(const struct ctx_context *ctx)
{
	return ctx->immortal;
}

ctx_t *ctx_retain(ctx_t *ctx)
{
	if (ctx && !ctx->immortal)
		atomic_fetch_add_explicit(&ctx->refs, 1, memory_order_relaxed);
	return ctx;
}

void ctx_release(ctx_t *ctx)
{
	if (!ctx || ctx->immortal)
		return;
	if (atomic_fetch_sub_explicit(&ctx->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (atomic_load_explicit(&ctx->af_used, memory_order_acquire))
		ctx__af_ctx_gone(ctx);
	if (ctx->fd >= 0)
		close(ctx->fd);
	free(ctx);
}

struct ctx_context *ctx__alloc(int fd, enum ctx_kind kind, bool never_done)
{
	struct ctx_context *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	atomic_init(&ctx->refs, 1);
	ctx->fd = fd;
	ctx->kind = kind;
	ctx->never_done = never_done;
	return ctx;
}

int64_t ctx__ts_to_ns(const struct timespec *ts)
{
	if (ts->tv_sec >= INT64_MAX / 1000000000 - 1)
		return INT64_MAX;
	if (ts->tv_sec <= INT64_MIN / 1000000000 + 1)
		return INT64_MIN;
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

void ctx__ns_to_ts(int64_t ns, struct timespec *ts)
{
	ts->tv_sec = ns / 1000000000;
	ts->tv_nsec = ns % 1000000000;
	if (ts->tv_nsec < 0) {
		ts->tv_sec--;
		ts->tv_nsec += 1000000000;
	}
}

int ctx__create(struct ctx_context *parent, struct ctxfd_create *args,
		const char *what)
{
	int fd;

	if (parent->fd < 0)
		return ctx__new_root(args, what);
	fd = ioctl(parent->fd, CTXFD_IOC_CREATE, args);
	if (fd < 0)
		return ctx__fail_errno("%s: CTXFD_IOC_CREATE", what);
	return fd;
}

int ctx__info(struct ctx_context *ctx, struct ctxfd_info *info)
{
	if (ioctl(ctx->fd, CTXFD_IOC_INFO, info) < 0)
		return -errno;
	if (info->err)
		atomic_store_explicit(&ctx->err, info->err, memory_order_release);
	return 0;
}

/*
 * Wrap @fd, checking that it is a context fd (and a cancel-capable one if
 * @want_cancel). On failure @fd is left alone.
 */
int ctx__adopt(int fd, bool want_cancel, struct ctx_context **out)
{
	struct ctxfd_info info;
	struct ctx_context *ctx;
	bool never_done;

	*out = NULL;
	if (fd < 0)
		return ctx__fail(EBADF, "descriptor %d is not a context", fd);
	if (ioctl(fd, CTXFD_IOC_INFO, &info) < 0) {
		if (errno == EBADF)
			return ctx__fail(EBADF, "descriptor %d is not open", fd);
		return ctx__fail(EBADF, "descriptor %d is not a ctxfd context", fd);
	}
	if (want_cancel && !(info.flags & CTXFD_INFO_CAN_CANCEL))
		return ctx__fail(EPERM,
				 "descriptor %d is a watch-only context: it cannot cancel",
				 fd);
	/* WithoutCancel, and WithValue roots, are never done. */
	never_done = (info.flags & CTXFD_INFO_WITHOUT_CANCEL) ||
		     ((info.flags & CTXFD_INFO_VALUE) && !info.parent_id);
	ctx = ctx__alloc(fd, CTX_KIND_ADOPTED, never_done);
	if (!ctx)
		return ctx__fail(ENOMEM, "out of memory");
	if (info.err)
		atomic_store_explicit(&ctx->err, info.err, memory_order_release);
	*out = ctx;
	return 0;
}

int ctx_done_fd(ctx_t *ctx)
{
	if (!ctx)
		return ctx__fail(EINVAL, "ctx_done_fd: NULL context");
	return ctx->never_done ? -1 : ctx->fd;
}

/*
 * Is the context done? A zero-timeout poll() of its fd answers without
 * touching the open file's flags (shared with every dup and every forked
 * child) and costs about what a non-blocking eventfd read does. Once it
 * says done, reading the event record cannot block (done is final), and
 * gives the err, which is then cached.
 */
static int ctx__err_slow(struct ctx_context *ctx, const char *what)
{
	struct pollfd pfd = { .fd = ctx->fd, .events = POLLIN };
	struct ctxfd_event ev;
	ssize_t n;
	int ret;

	do {
		ret = poll(&pfd, 1, 0);
	} while (ret < 0 && errno == EINTR);
	if (ret == 0)
		return 0;
	if (ret < 0)
		return ctx__fail_errno("%s: poll", what);
	if (pfd.revents & POLLNVAL) {
		errno = EBADF;
		return ctx__fail_errno("%s: poll", what);
	}
	do {
		n = read(ctx->fd, &ev, sizeof(ev));
	} while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(ev)) {
		atomic_store_explicit(&ctx->err, ev.err, memory_order_release);
		return ev.err;
	}
	if (n >= 0)
		errno = EIO;
	return ctx__fail_errno("%s: read", what);
}

int ctx__err(struct ctx_context *ctx, const char *what)
{
	int err = atomic_load_explicit(&ctx->err, memory_order_acquire);

	if (err || ctx->never_done)
		return err;
	return ctx__err_slow(ctx, what);
}

int ctx_err(ctx_t *ctx)
{
	if (__builtin_expect(!ctx, 0))
		return ctx__fail(EINVAL, "ctx_err: NULL context");
	return ctx__err(ctx, "ctx_err");
}

int ctx_cause(ctx_t *ctx, int *code, char *msg, size_t len)
{
	struct ctxfd_info info;
	int ret;

	if (code)
		*code = 0;
	if (msg && len)
		msg[0] = '\0';
	if (!ctx)
		return ctx__fail(EINVAL, "ctx_cause: NULL context");
	if (ctx->never_done)
		return 0;
	ret = ctx__info(ctx, &info);
	if (ret < 0) {
		errno = -ret;
		return ctx__fail_errno("ctx_cause: CTXFD_IOC_INFO");
	}
	if (!info.err)
		return 0;
	if (code)
		*code = info.cause_code;
	if (msg && len) {
		const char *text = info.cause_msg_len ? info.cause_msg :
				   ctx_strerror(info.cause_code);

		snprintf(msg, len, "%s", text);
	}
	return info.err;
}

/* Sleep for @ns (or forever if negative), restarting after signals. */
static void ctx__sleep(int64_t ns)
{
	struct timespec ts;

	if (ns < 0) {
		for (;;)
			pause();
	}
	ctx__ns_to_ts(ns, &ts);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int64_t ctx__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ctx__ts_to_ns(&ts);
}

int ctx_wait(ctx_t *ctx, ctx_duration_t timeout)
{
	struct pollfd pfd;
	int64_t end = 0;
	int err;

	if (!ctx)
		return ctx__fail(EINVAL, "ctx_wait: NULL context");
	if (ctx->never_done) {
		if (timeout)
			ctx__sleep(timeout);
		return 0;
	}
	/* Done is final: a cached err answers at once. */
	err = atomic_load_explicit(&ctx->err, memory_order_acquire);
	if (err)
		return err;
	/* A zero timeout is a done-check: one read(), like ctx_err(). */
	if (timeout == 0)
		return ctx__err(ctx, "ctx_wait");
	if (timeout > 0) {
		end = ctx__now_ns();
		end = timeout > INT64_MAX - end ? INT64_MAX : end + timeout;
	}
	pfd.fd = ctx->fd;
	pfd.events = POLLIN;
	for (;;) {
		struct timespec ts, *tsp = NULL;
		int n;

		if (timeout > 0) {
			int64_t left = end - ctx__now_ns();

			ctx__ns_to_ts(left > 0 ? left : 0, &ts);
			tsp = &ts;
		}
		n = ppoll(&pfd, 1, tsp, NULL);
		if (n > 0)
			return ctx__err(ctx, "ctx_wait");
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return ctx__fail_errno("ctx_wait: ppoll");
	}
}
