/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libctxfd internals: the objects behind ctx_t, ctx_cancel_t and
 * ctx_stop_t, and the helpers that the files of lib/ share.
 *
 * Objects
 * -------
 * struct ctx_context holds one descriptor on a kernel context: the
 * cancel-capable one for contexts made here with a cancel handle (the
 * handle is embedded and holds a reference), a watch-only one otherwise,
 * none (-1) for Background and TODO. Everything in it is immutable after
 * creation except the reference count, caches of final kernel state (done
 * is final, deadlines are immutable) and the AfterFunc watch pointer.
 *
 * Locking
 * -------
 * Contexts themselves take no lock: caches are atomics written once.
 * AfterFunc state (struct ctx_af, registrations, ctx->af) is under one
 * mutex in afterfunc.c. The /dev/ctxfd descriptor is under a mutex in
 * device.c.
 */
#ifndef CTXFD_INTERNAL_H
#define CTXFD_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>

#include <linux/ctxfd.h>

/* Everything ctxfd.h declares is the ABI; everything else stays hidden. */
#pragma GCC visibility push(default)
#include "ctxfd.h"
#pragma GCC visibility pop

#define CTX_HIDDEN __attribute__((visibility("hidden")))

/*
 * Symbol versions of a function whose behaviour changed (glibc's way):
 * the implementation of @name since release @ver is @impl, exported as
 * @name@@ver, the default that programs link against from then on
 * (CTX_SYMBOL_DEFAULT); an older behaviour stays available to programs
 * linked against release @ver as @name@ver (CTX_SYMBOL_COMPAT). List
 * @name in both nodes of libctxfd.map. The static library links the
 * default one.
 */
#define CTX_SYMBOL_DEFAULT(impl, name, ver)				\
	__asm__(".symver " #impl "," #name "@@" #ver);			\
	__attribute__((visibility("default"), used))
#define CTX_SYMBOL_COMPAT(impl, name, ver)				\
	__asm__(".symver " #impl "," #name "@" #ver);			\
	__attribute__((visibility("default"), used))

#define CTX_NOINLINE __attribute__((noinline))

enum ctx_kind {
	CTX_KIND_BACKGROUND,
	CTX_KIND_TODO,
	CTX_KIND_CANCEL,		/* cancelable, made here */
	CTX_KIND_VALUE,			/* WithValue */
	CTX_KIND_WITHOUT_CANCEL,	/* WithoutCancel */
	CTX_KIND_ADOPTED,		/* from an fd: kind unknown */
};

/* Deadline cache states. */
enum { CTX_DL_UNKNOWN, CTX_DL_NONE, CTX_DL_SET };

struct ctx_af;

struct ctx_cancel_handle {
	struct ctx_context *ctx;	/* holds a reference */
	bool cause_ok;			/* WithCancelCause (or adopted) */
};

struct ctx_context {
	atomic_uint refs;
	int fd;				/* -1 for Background/TODO */
	unsigned char kind;		/* enum ctx_kind */
	bool never_done;		/* Go's Done() == nil */
	bool immortal;			/* Background/TODO: no refcount */
	atomic_int err;			/* cached once done, else 0 */
	atomic_int dl_state;		/* CTX_DL_*, publishes @dl */
	struct timespec dl;
	atomic_bool af_used;		/* @af was ever set */
	struct ctx_af *af;		/* under the AfterFunc lock */
	struct ctx_cancel_handle cancel;	/* embedded handle */
};

/* core.c */
CTX_HIDDEN struct ctx_context *ctx__alloc(int fd, enum ctx_kind kind,
					  bool never_done);
CTX_HIDDEN bool ctx__is_static(const struct ctx_context *ctx);
CTX_HIDDEN int ctx__info(struct ctx_context *ctx, struct ctxfd_info *info);
CTX_HIDDEN int ctx__adopt(int fd, bool want_cancel, struct ctx_context **out);
/* ctx_err() of a non-NULL @ctx, failures described as @what's. */
CTX_HIDDEN int ctx__err(struct ctx_context *ctx, const char *what);

/*
 * Create a child of @parent with @args (a root if @parent has no fd).
 * Returns the new fd or a negative errno; @what names the caller in
 * error messages.
 */
CTX_HIDDEN int ctx__create(struct ctx_context *parent,
			   struct ctxfd_create *args, const char *what);
/* Make a cancelable child and its handle from a create request. */
CTX_HIDDEN int ctx__with_cancel_args(ctx_t *parent, struct ctxfd_create *args,
				     bool cause_ok, ctx_t **ctx,
				     ctx_cancel_t **cancel, const char *what);
/* Fill a struct ctxfd_cause; returns 0 or a negative errno. */
CTX_HIDDEN int ctx__cause_args(struct ctxfd_cause *cause, int code,
			       const char *msg, const char *what);

/* device.c: a new root from /dev/ctxfd, loading the module if needed. */
CTX_HIDDEN int ctx__new_root(struct ctxfd_create *args, const char *what);

/* afterfunc.c: drop the AfterFunc watch of a context being freed. */
CTX_HIDDEN void ctx__af_ctx_gone(struct ctx_context *ctx);

/* errors.c: record why the current call failed; return -@err. */
CTX_HIDDEN int ctx__fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same with errno, appending strerror(errno) to the message. */
CTX_HIDDEN int ctx__fail_errno(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* Describe a report of a call that did its job (see ctx_cancel_cause()). */
CTX_HIDDEN void ctx__note(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Nanoseconds of a timespec, saturating. */
CTX_HIDDEN int64_t ctx__ts_to_ns(const struct timespec *ts);
CTX_HIDDEN void ctx__ns_to_ts(int64_t ns, struct timespec *ts);

#endif /* CTXFD_INTERNAL_H */
