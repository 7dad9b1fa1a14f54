// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Go's WithCancel, WithCancelCause and cancel functions.
 *
 * A cancel handle is embedded in its context object and holds a reference
 * on it: both share the cancel-capable descriptor, which is closed (and
 * the context canceled by the kernel, if nobody else holds a cancel-capable
 * descriptor) once both are released.
 *
 * Cancel always cancels (Go's cancel functions cannot fail): a cause that
 * cannot be recorded as given is cut or dropped, and reported, but the
 * context is canceled whenever the handle has a descriptor to cancel.
 */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

enum ctx_cause_kind {
	CTX_CAUSE_OWN,		/* a code of the program's own */
	CTX_CAUSE_SENTINEL,	/* Go's Canceled or DeadlineExceeded */
	CTX_CAUSE_RESERVED,	/* would read as one of them: refused */
};

/*
 * Reserved cause codes. With no explicit cause, a context's cause code
 * is its err, CTX_CANCELED or CTX_DEADLINE_EXCEEDED (Go's Cause() falls
 * back to Err()), so a program's own code must never be one of those:
 * given with no message, or with the text ctx_cause() reports for them
 * (cancel(context.Cause(other)) passes them on), they are Go's sentinel
 * errors and mean just that; with a message of the program's own, or
 * negated, they are reserved. The rest of the errno range stays open:
 * cause codes are often errno values (ctx_strerror() describes them).
 */
static enum ctx_cause_kind ctx__cause_kind(int code, const char *msg)
{
	if (code == -CTX_CANCELED || code == -CTX_DEADLINE_EXCEEDED)
		return CTX_CAUSE_RESERVED;
	if (code != CTX_CANCELED && code != CTX_DEADLINE_EXCEEDED)
		return CTX_CAUSE_OWN;
	if (!msg || !*msg || !strcmp(msg, ctx_strerror(code)))
		return CTX_CAUSE_SENTINEL;
	return CTX_CAUSE_RESERVED;
}

int ctx__cause_args(struct ctxfd_cause *cause, int code, const char *msg,
		    const char *what)
{
	size_t len = msg ? strlen(msg) : 0;

	memset(cause, 0, sizeof(*cause));
	if (!code && len)
		return ctx__fail(EINVAL, "%s: a cause message needs a non-zero code",
				 what);
	switch (ctx__cause_kind(code, msg)) {
	case CTX_CAUSE_RESERVED:
		return ctx__fail(EINVAL,
				 "%s: cause code %d is reserved: as a code of the program's own it would read as \"%s\" (no cause); pick another code",
				 what, code, ctx_strerror(code));
	case CTX_CAUSE_SENTINEL:
		/* DeadlineExceeded is what a deadline records anyway. */
		if (code != CTX_DEADLINE_EXCEEDED)
			cause->code = code;
		return 0;
	case CTX_CAUSE_OWN:
		break;
	}
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

static int ctx__cancel(ctx_cancel_t *cancel, const struct ctxfd_cause *cause)
{
	struct ctxfd_cancel args = { 0 };

	if (cause)
		args.cause = *cause;
	return ioctl(cancel->ctx->fd, CTXFD_IOC_CANCEL, &args) < 0 ? -errno : 0;
}

int ctx_cancel(ctx_cancel_t *cancel)
{
	int ret;

	if (!cancel)
		return ctx__fail(EINVAL, "ctx_cancel: NULL cancel handle");
	ret = ctx__cancel(cancel, NULL);
	if (ret < 0) {
		errno = -ret;
		return ctx__fail_errno("ctx_cancel: CTXFD_IOC_CANCEL");
	}
	return 0;
}

/*
 * The longest prefix of @msg (longer than @max bytes) that fits in @max
 * bytes without splitting a UTF-8 character; a plain cut at @max if @msg
 * is not UTF-8 there.
 */
static size_t ctx__utf8_cut(const char *msg, size_t max)
{
	const unsigned char *s = (const unsigned char *)msg;
	size_t n = max;
	int back;

	/* s[n] is the first byte left out: if it continues a character,
	 * leave that whole character out (at most 4 bytes long). */
	for (back = 0; back < 3 && n > 0 && (s[n] & 0xc0) == 0x80; back++)
		n--;
	return (s[n] & 0xc0) == 0x80 ? max : n;
}

/*
 * Go's cancel functions cannot fail, and ours cancel whenever there is a
 * context to cancel: a cause that cannot be recorded as given is cut or
 * dropped, the context is canceled all the same, and the return value
 * (with ctx_last_error()) reports what happened.
 */
int ctx_cancel_cause(ctx_cancel_t *cancel, int code, const char *msg)
{
	static const char what[] = "ctx_cancel_cause";
	struct ctxfd_cause cause = { 0 };
	size_t len = msg ? strlen(msg) : 0, cut = 0;
	enum ctx_cause_kind kind = ctx__cause_kind(code, msg);
	const char *why = NULL;
	char refused[64];
	int ret;

	if (!cancel)
		return ctx__fail(EINVAL, "%s: NULL cancel handle", what);

	if (!code && !len) {
		/* cancel(nil) */
	} else if (kind == CTX_CAUSE_SENTINEL && code == CTX_CANCELED) {
		/* cancel(context.Canceled) is cancel(nil) */
	} else if (!cancel->cause_ok) {
		why = "this context was made by ctx_with_cancel() or a deadline function, whose cancel takes no cause (Go's CancelFunc): make it with ctx_with_cancel_cause() to give one";
	} else if (!code) {
		why = "a cause message needs a non-zero code";
	} else if (kind == CTX_CAUSE_RESERVED) {
		why = "the code is reserved: -ECANCELED, -ETIMEDOUT, and ECANCELED or ETIMEDOUT with a message of their own would read as no cause; pick another code";
	} else if (kind == CTX_CAUSE_SENTINEL) {
		cause.code = code;	/* cancel(context.DeadlineExceeded) */
	} else {
		cause.code = code;
		if (len > CTX_CAUSE_MSG_MAX) {
			cut = len;
			len = ctx__utf8_cut(msg, CTX_CAUSE_MSG_MAX);
		}
		cause.msg_len = (__u32)len;
		cause.msg = len ? (uintptr_t)msg : 0;
	}

	ret = ctx__cancel(cancel, why ? NULL : &cause);
	if (ret < 0 && !why && (cause.code || cause.msg_len) &&
	    ret != -EBADF && ret != -EPERM) {
		/* Whatever the kernel had against the cause: cancel anyway. */
		snprintf(refused, sizeof(refused), "the kernel refused it (%s)",
			 ctx_strerror(ret));
		why = refused;
		ret = ctx__cancel(cancel, NULL);
	}
	if (ret < 0) {
		errno = -ret;
		return ctx__fail_errno("%s: CTXFD_IOC_CANCEL", what);
	}
	if (why) {
		ctx__note("%s: canceled without the cause (code %d): %s", what,
			  code, why);
		return CTX_CAUSE_DROPPED;
	}
	if (cut) {
		ctx__note("%s: canceled; the cause message was cut from %zu to %zu bytes (CTX_CAUSE_MSG_MAX is %d)",
			  what, cut, len, CTX_CAUSE_MSG_MAX);
		return CTX_CAUSE_TRUNCATED;
	}
	return 0;
}

void ctx_cancel_release(ctx_cancel_t *cancel)
{
	if (cancel)
		ctx_release(cancel->ctx);
}
