// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Go's WithCancel, WithCancelCause and cancel functions.
 *
 * A cancel handle is embedded in its context object and holds a reference
 * on it: both share the cancel-capable descriptor, which is closed (and
 * the context canceled by the kernel, if nobody else holds a cancel-capable
 * descriptor) once both are released.
 */
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

int ctx__cause_args(struct ctxfd_cause *cause, int code, const char *msg,
		    const char *what)
{
	size_t len = msg ? strlen(msg) : 0;

	memset(cause, 0, sizeof(*cause));
	if (!code && len)
		return ctx__fail(EINVAL, "%s: a cause message needs a non-zero code",
				 what);
	if (len > CTX_CAUSE_MSG_MAX)
		return ctx__fail(E2BIG, "%s: cause message longer than %d bytes",
				 what, CTX_CAUSE_MSG_MAX);
	cause->code = code;
	cause->msg_len = (__u32)len;
	cause->msg = len ? (uintptr_t)msg : 0;
	return 0;
}

int ctx__with_cancel_args(ctx_t *parent, struct ctxfd_create *args,
			  bool cause_ok, ctx_t **ctx, ctx_cancel_t **cancel,
			  const char *what)
{
	struct ctx_context *c;
	int fd;

	if (ctx)
		*ctx = NULL;
	if (cancel)
		*cancel = NULL;
	if (!parent)
		return ctx__fail(EINVAL, "%s: NULL parent", what);
	if (!ctx || !cancel)
		return ctx__fail(EINVAL, "%s: NULL result pointer", what);

	fd = ctx__create(parent, args, what);
	if (fd < 0)
		return fd;
	c = ctx__alloc(fd, CTX_KIND_CANCEL, false);
	if (!c) {
		close(fd);
		return ctx__fail(ENOMEM, "%s: out of memory", what);
	}
	atomic_store_explicit(&c->refs, 2, memory_order_relaxed);
	c->cancel.ctx = c;
	c->cancel.cause_ok = cause_ok;
	*ctx = c;
	*cancel = &c->cancel;
	return 0;
}

int ctx_with_cancel(ctx_t *parent, ctx_t **ctx, ctx_cancel_t **cancel)
{
	struct ctxfd_create args = { 0 };

	return ctx__with_cancel_args(parent, &args, false, ctx, cancel,
				     "ctx_with_cancel");
}

int ctx_with_cancel_cause(ctx_t *parent, ctx_t **ctx, ctx_cancel_t **cancel)
{
	struct ctxfd_create args = { 0 };

	return ctx__with_cancel_args(parent, &args, true, ctx, cancel,
				     "ctx_with_cancel_cause");
}

static int ctx__cancel(ctx_cancel_t *cancel, const struct ctxfd_cause *cause,
		       const char *what)
{
	struct ctxfd_cancel args = { 0 };

	if (cause)
		args.cause = *cause;
	if (ioctl(cancel->ctx->fd, CTXFD_IOC_CANCEL, &args) < 0)
		return ctx__fail_errno("%s: CTXFD_IOC_CANCEL", what);
	return 0;
}

int ctx_cancel(ctx_cancel_t *cancel)
{
	if (!cancel)
		return ctx__fail(EINVAL, "ctx_cancel: NULL cancel handle");
	return ctx__cancel(cancel, NULL, "ctx_cancel");
}

int ctx_cancel_cause(ctx_cancel_t *cancel, int code, const char *msg)
{
	struct ctxfd_cause cause;
	int ret;

	if (!cancel)
		return ctx__fail(EINVAL, "ctx_cancel_cause: NULL cancel handle");
	ret = ctx__cause_args(&cause, code, msg, "ctx_cancel_cause");
	if (ret)
		return ret;
	if (!cancel->cause_ok && cause.code)
		return ctx__fail(EINVAL,
				 "ctx_cancel_cause: this context was not made with a cause (use ctx_cancel)");
	return ctx__cancel(cancel, &cause, "ctx_cancel_cause");
}

void ctx_cancel_release(ctx_cancel_t *cancel)
{
	if (cancel)
		ctx_release(cancel->ctx);
}
