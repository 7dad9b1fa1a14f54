/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libctxfd: Go's context package in C, on top of the ctxfd kernel module.
 *
 * A context lives in the kernel behind a file descriptor; this library holds
 * descriptors and gives them Go's API, one to one:
 *
 *   Go                              C
 *   context.Background(), TODO()    ctx_background(), ctx_todo()
 *   WithCancel(p)                   ctx_with_cancel(p, &ctx, &cancel)
 *   WithCancelCause(p)              ctx_with_cancel_cause(p, &ctx, &cancel)
 *   WithDeadline(p, t)              ctx_with_deadline(p, &t, &ctx, &cancel)
 *                                   ctx_with_deadline_clock(p, clk, &t, ...)
 *   WithDeadlineCause(p, t, c)      ctx_with_deadline_cause(p, &t, code, msg, ...)
 *   WithTimeout(p, d)               ctx_with_timeout(p, d, &ctx, &cancel)
 *   WithTimeoutCause(p, d, c)       ctx_with_timeout_cause(p, d, code, msg, ...)
 *   WithValue(p, k, v)              ctx_with_value(p, key, val, len, &ctx)
 *   WithoutCancel(p)                ctx_without_cancel(p, &ctx)
 *   (AfterFunc merge; JS any())     ctx_with_any(parents, n, &ctx, &cancel)
 *   (none)                          ctx_with_all(parents, n, &ctx, &cancel)
 *   AfterFunc(ctx, f) -> stop       ctx_after_func(ctx, fn, arg, &stop)
 *                                   ctx_after_func_full(..., destroy, &stop)
 *   stop()                          ctx_stop(stop)
 *   cancel() / cancel(cause)        ctx_cancel(cancel) / ctx_cancel_cause(...)
 *   ctx.Done()                      ctx_done_fd(ctx), ctx_wait(ctx, timeout)
 *   ctx.Err()                       ctx_err(ctx)
 *   context.Cause(ctx)              ctx_cause(ctx, &code, msg, len)
 *   ctx.Deadline()                  ctx_deadline(ctx, &ts)
 *   ctx.Value(k)                    ctx_value(ctx, key, buf, len)
 *   Canceled.Error() etc.           ctx_strerror(err)
 *
 * Ownership (there is no garbage collector, so references are explicit):
 *
 *  - Every function that hands out a ctx_t, ctx_cancel_t or ctx_stop_t
 *    hands out a new reference, owned by the caller: release it with
 *    ctx_release(), ctx_cancel_release() or ctx_stop_release(). Passing a
 *    context as a parent never consumes the caller's reference.
 *  - ctx_background() and ctx_todo() are static: retaining and releasing
 *    them does nothing.
 *  - A cancel handle and its context share the library's cancel-capable
 *    descriptor. When the process has released both (and closed every
 *    descriptor exported with ctx_cancel_fd()), the descriptor is closed
 *    and the kernel cancels the context: releasing everything is
 *    "defer cancel()". Keep the cancel handle (or the context) for as long
 *    as the context and its children should live.
 *  - Children do not keep their parent's ctx_t alive, but the kernel keeps
 *    the parent context itself alive for them.
 *  - Releasing a context or handle twice, or using it after its release,
 *    is undefined behaviour, as with free().
 *
 * Errors (one rule, libctxfd(7)): functions returning int or ssize_t
 * return 0 (or a documented non-negative value) on success and a negative
 * errno on failure, having changed nothing; functions returning bool
 * (ctx_deadline, ctx_stop) return false on failure and set errno, which
 * they leave alone on success. Out-parameters are cleared on failure.
 * NULL contexts, handles and keys are refused with EINVAL (releasing NULL
 * does nothing, like free(NULL)); a context whose descriptor the program
 * closed gives EBADF wherever the descriptor is needed. The one exception
 * to "failure changes nothing" is Go's: cancel always cancels (see
 * ctx_cancel_cause()). ctx_last_error() describes the last failure (or
 * report) of the calling thread in words. Every function is thread safe.
 *
 * fork(): contexts, handles and their descriptors are inherited like any
 * descriptor. The AfterFunc watcher thread is not: see ctx_after_func(3).
 *
 * See libctxfd(7) and the ctx_*(3) man pages.
 */
#ifndef CTXFD_H
#define CTXFD_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * LIBCTXFD_VERSION_MAJOR etc. - version of this header: ctxfd's one
 * version number (the file VERSION; `tools/version set` rewrites these
 * lines, and the build fails if they disagree with it).
 */
#define LIBCTXFD_VERSION_MAJOR	1
#define LIBCTXFD_VERSION_MINOR	1
#define LIBCTXFD_VERSION_PATCH	0

/** A context (Go's context.Context). Opaque, reference counted. */
typedef struct ctx_context ctx_t;
/** A cancel function (Go's CancelFunc / CancelCauseFunc). Opaque. */
typedef struct ctx_cancel_handle ctx_cancel_t;
/** The stop function of an AfterFunc registration. Opaque. */
typedef struct ctx_stop_handle ctx_stop_t;

/*
 * struct timespec is POSIX (and C11); <time.h> does not declare it under
 * -std=c99. Declared here, a prototype below names the same struct in C
 * and C++ alike, whatever the standard; a caller who fills one includes
 * <time.h> with _POSIX_C_SOURCE (or uses C11 or later).
 */
struct timespec;

/** A duration in nanoseconds (Go's time.Duration). */
typedef int64_t ctx_duration_t;

#define CTX_NANOSECOND	((ctx_duration_t)1)
#define CTX_MICROSECOND	((ctx_duration_t)1000)
#define CTX_MILLISECOND	((ctx_duration_t)1000000)
#define CTX_SECOND	((ctx_duration_t)1000000000)
#define CTX_MINUTE	(60 * CTX_SECOND)
#define CTX_HOUR	(60 * CTX_MINUTE)
/** CTX_FOREVER - ctx_wait() timeout that never expires. */
#define CTX_FOREVER	((ctx_duration_t)-1)

/** Values of ctx_err(): Go's context.Canceled and DeadlineExceeded. */
#define CTX_CANCELED		ECANCELED
#define CTX_DEADLINE_EXCEEDED	ETIMEDOUT

/**
 * Longest cause message in bytes, without the NUL. ctx_cancel_cause()
 * cuts longer ones (at a UTF-8 character boundary); the deadline
 * functions refuse them (E2BIG).
 */
#define CTX_CAUSE_MSG_MAX	127

/** Flag of ctx_fd() and ctx_cancel_fd(): the new fd survives execve(). */
#define CTX_NO_CLOEXEC		0x1

/** Name of the environment variable of ctx_from_env()/ctx_export_env(). */
#define CTX_ENV			"CTXFD"
/** Size of a buffer that holds any "CTXFD=<fd>" string, NUL included. */
#define CTX_ENV_MAX		32

/** Flags of ctx_kill_on_cancel(). */
#define CTX_KILL_DESCENDANTS		0x1	/* and every descendant */
#define CTX_KILL_DESCENDANTS_ONLY	0x2	/* the descendants only */

/* ---- Background, TODO and references -------------------------------- */

/** Go's Background(): never done, no deadline, no values, no fd. */
ctx_t *ctx_background(void);
/** Go's TODO(): like ctx_background(), for code that has no context yet. */
ctx_t *ctx_todo(void);
/** Take one more reference on @ctx; returns @ctx (NULL stays NULL). */
ctx_t *ctx_retain(ctx_t *ctx);
/** Drop a reference; the last one closes the library's descriptor. */
void ctx_release(ctx_t *ctx);

/* ---- Derived contexts ------------------------------------------------ */

/*
 * All of these create a child of @parent and store a new reference in
 * *ctx (and a cancel handle in *cancel); on failure they store NULL and
 * return a negative errno. A child of ctx_background() or ctx_todo() is a
 * new kernel root.
 */
int ctx_with_cancel(ctx_t *parent, ctx_t **ctx, ctx_cancel_t **cancel);
int ctx_with_cancel_cause(ctx_t *parent, ctx_t **ctx, ctx_cancel_t **cancel);
/*
 * @deadline: absolute CLOCK_MONOTONIC time. A time that is plainly a
 * CLOCK_REALTIME one (decades away on CLOCK_MONOTONIC) is refused with
 * -EINVAL: pass wall-clock times to ctx_with_deadline_clock().
 */
int ctx_with_deadline(ctx_t *parent, const struct timespec *deadline,
		      ctx_t **ctx, ctx_cancel_t **cancel);
int ctx_with_deadline_cause(ctx_t *parent, const struct timespec *deadline,
			    int code, const char *msg,
			    ctx_t **ctx, ctx_cancel_t **cancel);
int ctx_with_timeout(ctx_t *parent, ctx_duration_t timeout,
		     ctx_t **ctx, ctx_cancel_t **cancel);
int ctx_with_timeout_cause(ctx_t *parent, ctx_duration_t timeout,
			   int code, const char *msg,
			   ctx_t **ctx, ctx_cancel_t **cancel);
/*
 * @key: a NUL-terminated, non-empty string. @val/@len: the value bytes;
 * NULL/0 binds nil (Go's nil: no value), which shadows older bindings;
 * any other pointer with @len 0 binds the empty value "" (since 1.1).
 */
int ctx_with_value(ctx_t *parent, const char *key, const void *val,
		   size_t len, ctx_t **ctx);
int ctx_without_cancel(ctx_t *parent, ctx_t **ctx);

/* ---- Several parents (since 1.1) ------------------------------------- */

/** The most parents ctx_with_any() and ctx_with_all() take. */
#define CTX_MAX_PARENTS		64

/*
 * A context with the @n contexts of @parents (1 .. CTX_MAX_PARENTS) as its
 * parents, which may live in different trees and processes; a cancel
 * handle as with ctx_with_cancel() (it also takes a cause, as
 * ctx_cancel_cause() does for ctx_with_cancel_cause()). Values follow
 * @parents[0]. The same object given twice counts once; two different
 * objects on one kernel context are refused (-EINVAL).
 *
 * ctx_with_any(): done when the first parent is done, with its err and
 * cause; deadline the earliest of the parents'. Background and TODO
 * parents are never done and are ignored (but as @parents[0] they give
 * the new context their values: none).
 *
 * ctx_with_all(): done when the last parent is done, with its err and
 * cause; deadline the latest of the parents', none if one has none (and
 * never done through its parents if one is Background or TODO).
 *
 * Born done if that already holds. The kernel makes it done before the
 * cancel that made its parent done returns; releasing it detaches it from
 * its parents. See ctx_with_any(3).
 */
int ctx_with_any(ctx_t *const *parents, size_t n, ctx_t **ctx,
		 ctx_cancel_t **cancel);
int ctx_with_all(ctx_t *const *parents, size_t n, ctx_t **ctx,
		 ctx_cancel_t **cancel);

/* ---- Cancel handles --------------------------------------------------- */

/** Go's cancel(): cancel the context and its subtree; idempotent. */
int ctx_cancel(ctx_cancel_t *cancel);
/**
 * Go's cancel(cause) (WithCancelCause): @code non-zero, @msg NULL or a
 * string. Code 0 with no message is cancel(nil). The first cancel wins.
 * Cancel always cancels: returns 0, or, having canceled, a report:
 * CTX_CAUSE_TRUNCATED (@msg was cut to CTX_CAUSE_MSG_MAX bytes at a
 * UTF-8 boundary) or CTX_CAUSE_DROPPED (canceled without a cause, as
 * Go's cancel() would: the handle takes no cause - ctx_with_cancel(), the
 * deadline functions -, a message without a code, or a reserved code).
 * Reserved: CTX_CANCELED and CTX_DEADLINE_EXCEEDED with a message other
 * than their ctx_strerror() text, and their negatives; without one they
 * are Go's Canceled and DeadlineExceeded. Negative only if nothing could
 * be canceled (NULL handle, closed descriptor).
 */
int ctx_cancel_cause(ctx_cancel_t *cancel, int code, const char *msg);
/** Release a cancel handle (see "Ownership" above). NULL is ignored. */
void ctx_cancel_release(ctx_cancel_t *cancel);

/* ---- Observing -------------------------------------------------------- */

/**
 * Go's Done(): a descriptor that polls readable (POLLIN) once the context
 * is done, or -1 for a context that is never done (like Go's nil channel;
 * poll(2) ignores negative fds). It belongs to the context: do not close
 * it (ctx_fd() gives a descriptor of your own).
 */
int ctx_done_fd(ctx_t *ctx);
/**
 * Wait until @ctx is done or @timeout (CTX_FOREVER: no limit) expired.
 * Returns ctx_err() once done, 0 on timeout, a negative errno on failure.
 */
int ctx_wait(ctx_t *ctx, ctx_duration_t timeout);
/** Go's Err(): 0, CTX_CANCELED or CTX_DEADLINE_EXCEEDED (or -errno). */
int ctx_err(ctx_t *ctx);
/**
 * Go's Cause(): returns ctx_err(); once done, *code receives the cause
 * code (equal to the err when nobody gave a cause) and @msg (if not NULL,
 * @len bytes) the cause message, or ctx_strerror(code) when there is
 * none. While active, *code is 0 and @msg empty. @code may be NULL.
 */
int ctx_cause(ctx_t *ctx, int *code, char *msg, size_t len);
/**
 * Go's Deadline(): true and the effective deadline (absolute
 * CLOCK_MONOTONIC) if the context has one; false and zero otherwise. On
 * failure false, zero, and errno set (errno is left alone otherwise).
 */
bool ctx_deadline(ctx_t *ctx, struct timespec *deadline);
/**
 * Go's Value(): the value bound to @key by the nearest ancestor. Returns
 * its length (0 for ""), copied into @buf if it fits in @len bytes
 * (otherwise nothing is copied: ask again with a bigger buffer); -ENOENT
 * where Go's Value() is nil: no ancestor binds @key, or the nearest
 * binding is nil. (Programs built against 1.0 get 0 for nil, as then.)
 */
ssize_t ctx_value(ctx_t *ctx, const char *key, void *buf, size_t len);
/**
 * "context canceled", "context deadline exceeded", or the description of
 * the errno @err (sign ignored). Never NULL; static storage.
 */
const char *ctx_strerror(int err);
/**
 * Why the last failing ctx_* call of the calling thread failed, in words
 * (for instance what to run when the kernel module is missing). Thread
 * local; valid until the next failure on this thread; "" if none.
 */
const char *ctx_last_error(void);

/* ---- AfterFunc -------------------------------------------------------- */

/**
 * Go's AfterFunc(): run @fn(@arg) once, in a thread of its own, after @ctx
 * is done (at once if it already is). If @stop is not NULL it receives a
 * stop handle, to release with ctx_stop_release(). One watcher thread per
 * process waits for all registrations (epoll); no thread per registration.
 */
int ctx_after_func(ctx_t *ctx, void (*fn)(void *arg), void *arg,
		   ctx_stop_t **stop);
/**
 * Go's stop(): true if it prevented @fn from running; false if @fn has
 * been started already or the registration was stopped already (or
 * @stop is NULL: errno EINVAL). Never waits for @fn: to free @arg once
 * nothing uses it, register with ctx_after_func_full().
 */
bool ctx_stop(ctx_stop_t *stop);
/**
 * Release a stop handle; a pending @fn still runs when ctx is done. The
 * destroy callback of ctx_after_func_full() may run in this call.
 */
void ctx_stop_release(ctx_stop_t *stop);

/* ---- Across processes --------------------------------------------------- */

/** A new watch-only fd on @ctx, owned by the caller (O_CLOEXEC unless
 * @flags has CTX_NO_CLOEXEC). Returns the fd or -errno. */
int ctx_fd(ctx_t *ctx, int flags);
/** Adopt a context fd (any kind): on success the context owns @fd. */
int ctx_from_fd(int fd, ctx_t **ctx);
/** A new cancel-capable fd (a dup) of @cancel's context, caller-owned. */
int ctx_cancel_fd(ctx_cancel_t *cancel, int flags);
/** Adopt a cancel-capable fd: on success the handle and context own @fd. */
int ctx_cancel_from_fd(int fd, ctx_t **ctx, ctx_cancel_t **cancel);
/** Send a watch-only fd on @ctx over a unix socket (SCM_RIGHTS). */
int ctx_send(int sock, ctx_t *ctx);
/** Receive a context sent with ctx_send() or ctx_cancel_send(). */
int ctx_recv(int sock, ctx_t **ctx);
/** Send the cancel right of @cancel over a unix socket (SCM_RIGHTS). */
int ctx_cancel_send(int sock, ctx_cancel_t *cancel);
/** Receive a cancel right sent with ctx_cancel_send(). */
int ctx_cancel_recv(int sock, ctx_t **ctx, ctx_cancel_t **cancel);
/**
 * The context this process was started under: adopts the fd named by the
 * CTXFD environment variable, makes it O_CLOEXEC and unsets CTXFD; later
 * calls return the same context. Returns 1 with it, 0 with
 * ctx_background() if CTXFD is unset or empty, or a negative errno.
 */
int ctx_from_env(ctx_t **ctx);
/**
 * Prepare a child process: create a watch-only fd on @ctx that survives
 * execve() and, if @buf is not NULL, write "CTXFD=<fd>" into it (@len at
 * least CTX_ENV_MAX) for an envp[] array; with @buf NULL, setenv() it
 * (not thread safe: environ is shared). Returns the fd, which the caller
 * closes once the child has been started.
 */
int ctx_export_env(ctx_t *ctx, char *buf, size_t len);
/**
 * Process-tree teardown: when @ctx is done, the kernel sends @sig to @pid
 * (and/or its descendants, by @flags), then SIGKILL after @grace if not
 * zero. -ENOTTY until the kernel implements CTXFD_IOC_ATTACH.
 */
int ctx_kill_on_cancel(ctx_t *ctx, pid_t pid, int sig, ctx_duration_t grace,
		       unsigned int flags);

/* ---- Since libctxfd 1.1 ----------------------------------------------- */

/** Positive results of ctx_cancel_cause(): canceled, but not as asked. */
#define CTX_CAUSE_TRUNCATED	1	/* the message was cut */
#define CTX_CAUSE_DROPPED	2	/* canceled without the cause */

/**
 * Go's WithDeadline() for a time on @clockid: CLOCK_MONOTONIC and
 * CLOCK_BOOTTIME times are kept on their clock (a BOOTTIME deadline
 * counts time suspended); CLOCK_REALTIME and CLOCK_TAI (wall-clock)
 * times are converted to CLOCK_BOOTTIME when called, so that later
 * changes of the wall clock do not move the deadline (Go's deadlines
 * carry a monotonic reading for the same reason). Other clocks, and a
 * wall-clock time given as CLOCK_MONOTONIC or CLOCK_BOOTTIME, are
 * refused with -EINVAL. ctx_deadline() reports CLOCK_MONOTONIC times.
 */
int ctx_with_deadline_clock(ctx_t *parent, clockid_t clockid,
			    const struct timespec *deadline,
			    ctx_t **ctx, ctx_cancel_t **cancel);
int ctx_with_deadline_clock_cause(ctx_t *parent, clockid_t clockid,
				  const struct timespec *deadline,
				  int code, const char *msg,
				  ctx_t **ctx, ctx_cancel_t **cancel);

/**
 * ctx_after_func() plus the owner of @arg: @destroy(@arg), if not NULL,
 * runs exactly once, when the registration has ended on both sides:
 * @fn has returned or can no longer run (stopped, or @ctx is never
 * done), and the stop handle, if @stop was given, has been released. It
 * runs in the thread that ends it: @fn's, after @fn, or the caller of
 * ctx_stop_release() (or of this function). On failure neither
 * @fn nor @destroy runs. A child process never runs @destroy for a
 * registration inherited across fork().
 */
int ctx_after_func_full(ctx_t *ctx, void (*fn)(void *arg), void *arg,
			void (*destroy)(void *arg), ctx_stop_t **stop);

/* ---- Across machines (ctxd(8)), since libctxfd 1.1 --------------------- */

/** An export of a context under a name (ctx_export()). Opaque. */
typedef struct ctx_export_handle ctx_export_t;

/** Flag of ctx_join(): ask for the right to cancel the remote context. */
#define CTX_JOIN_CANCEL		0x1

/*
 * Cause codes of joined contexts that ctxd cancels on its own; the
 * messages say the same in words ("remote: lease lost" ...).
 */
#define CTX_CAUSE_LEASE_LOST	ENOLINK		/* the exporter's lease expired */
#define CTX_CAUSE_UNREACHABLE	EHOSTUNREACH	/* no etcd for --failsafe (fail-safe) */
#define CTX_CAUSE_WITHDRAWN	ECONNABORTED	/* the export ended, context active */
#define CTX_CAUSE_CTXD_STOPPED	ESHUTDOWN	/* the local ctxd stopped */

/**
 * Publish @ctx under @name through the local ctxd (ctx_export(3)): any
 * host can then ctx_join() it. @cancel (the handle of @ctx, or NULL)
 * lets joiners that hold the cancel right cancel it; @keys (a
 * NULL-terminated array, or NULL) names the values to carry. The export
 * lasts until ctx_export_release() (or the process's exit).
 */
int ctx_export(ctx_t *ctx, ctx_cancel_t *cancel, const char *name,
	       const char *const *keys, ctx_export_t **exp);
/** Withdraw an export (joiners of a still active context are canceled). */
void ctx_export_release(ctx_export_t *exp);
/**
 * A context that follows the one exported as @name, on any host
 * (ctx_join(3)): watch-only, or with CTX_JOIN_CANCEL (etcd credentials
 * from $CTXD_USER) a cancel handle whose cancel reaches the exporter.
 */
int ctx_join(const char *name, unsigned int flags, ctx_t **ctx,
	     ctx_cancel_t **cancel);

/* ---- Who canceled, and is it over (since 1.1) ------------------------- */

/** struct ctx_origin::reason: why the context is done (0 while active). */
#define CTX_REASON_CANCEL	1	/* a cancel function (ctx_cancel...) */
#define CTX_REASON_DEADLINE	2	/* the deadline passed */
#define CTX_REASON_CLOSE	3	/* the last cancel-capable fd closed */
#define CTX_REASON_EXIT		4	/* ... by the exit of its holder */
#define CTX_REASON_REMOTE	5	/* a cancel relayed from elsewhere */

/** struct ctx_origin::via: how the cancellation reached the context. */
#define CTX_VIA_SELF		0	/* it began at this context */
#define CTX_VIA_ANCESTOR	1	/* it began at an ancestor */
#define CTX_VIA_PARENT		2	/* it came through a merge parent */

/** Size of struct ctx_origin::comm, NUL included. */
#define CTX_COMM_LEN		16

/**
 * Where a cancellation began: see ctx_cause_origin(3). A context canceled
 * with an ancestor reports the ancestor's origin (@via says so).
 */
struct ctx_origin {
	int reason;		/* CTX_REASON_*, 0 while active */
	int via;		/* CTX_VIA_* */
	uint64_t id;		/* the kernel id of the context it began at */
	pid_t pid;		/* who began it (0: a deadline, or not visible) */
	char comm[CTX_COMM_LEN];	/* its name then ("" without one) */
	int64_t time_ns;	/* when, on CLOCK_BOOTTIME */
	uint64_t __reserved[4];	/* zero; room for later fields */
};

/**
 * Who canceled @ctx, and when: returns ctx_err() and, once done, fills
 * *@origin (all zero while active, or for a context that is never done).
 * -EOPNOTSUPP on a kernel that does not record provenance.
 */
int ctx_cause_origin(ctx_t *ctx, struct ctx_origin *origin);

/**
 * Wait until @ctx is drained: done, every descendant context released by
 * every process, and every process attached to it (ctx_kill_on_cancel())
 * exited. Returns 1 once drained, 0 when @timeout (CTX_FOREVER: no limit)
 * expired, a negative errno on failure (-EOPNOTSUPP: the kernel does not
 * track it).
 */
int ctx_wait_drained(ctx_t *ctx, ctx_duration_t timeout);

/**
 * What the teardowns of ctx_kill_on_cancel() on @ctx did: see
 * ctx_teardown_report(3). All zero until one has fired.
 */
struct ctx_teardown {
	unsigned int fired;	/* attachments that fired */
	unsigned int running;	/* of those, still with processes alive */
	unsigned int signalled;	/* processes sent their signal */
	unsigned int killed;	/* processes that needed SIGKILL */
	unsigned int left;	/* processes still alive (or given up on) */
	ctx_duration_t duration;	/* first fire to last exit (or now) */
	uint64_t __reserved[4];	/* zero; room for later fields */
};

/** Fill *@report; 0 or a negative errno (-EOPNOTSUPP: old kernel). */
int ctx_teardown_report(ctx_t *ctx, struct ctx_teardown *report);

#ifdef __cplusplus
}
#endif

#endif /* CTXFD_H */
