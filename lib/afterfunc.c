// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Go's AfterFunc: one watcher thread per process waits, with epoll, for
 * every context that has pending registrations, and starts each function
 * in a thread of its own once its context is done.
 *
 * Objects (all under ctx_af_lock)
 * -------------------------------
 * struct ctx_af is the watch of one context object: a watch-only fd of its
 * own (so that a pending registration never keeps the cancel-capable fd
 * open: releasing every reference still cancels), the list of pending
 * registrations, and whether the fd is in the epoll set. References: one
 * from the context object (ctx->af) while it lives, one while in epoll.
 *
 * Retiring a watch (its last registration stopped, or it fired) removes
 * it from epoll at once but hands the epoll reference to a "graveyard"
 * that only the watcher empties, after it has processed a batch of
 * events: a batch may name a watch that another thread retired meanwhile,
 * and that watch must still be there (marked retired) when the watcher
 * looks at it. epoll_ctl(DEL) and the collection of events exclude each
 * other, so a watch retired before a batch was collected is never in it.
 *
 * struct ctx_stop_handle is one registration: one reference for the
 * pending/running side, one for the user's stop handle (if asked for).
 * The last reference runs the registration's destroy callback
 * (ctx_after_func_full()) and frees it: so destroy runs exactly once,
 * after fn has returned (the runner drops its reference then) or once fn
 * can no longer run, and never before the user released the handle.
 *
 * fork()
 * ------
 * The watcher thread does not survive fork(). In the child, registrations
 * pending at the time of the fork are dropped: they never run there (they
 * run in the parent), and ctx_stop() on them returns false. New
 * registrations in the child start a watcher of its own. The child never
 * touches the parent's epoll set (it is shared across fork). Nor does it
 * run the destroy callback of any registration made before the fork:
 * that registration, and what its argument owns, are the parent's
 * (registrations remember the fork generation they were made in).
 *
 * Starting the watcher waits until the thread runs ctx__watcher_main():
 * a fork() right after ctx_after_func() must not find it half started.
 * glibc's thread start-up is fork-safe, but a runtime that wraps it need
 * not be: gcc 12's ASan registers a new thread, under locks of its own
 * that no fork handler takes, after pthread_create() has returned; a child
 * forked at that moment inherits them locked and its own new threads hang
 * (selftests/libctxfd ForkDropsPendingAfterFuncsInTheChild, under ASan).
 *
 * Threads the library starts (the watcher, and one per function run) run
 * with every signal blocked, so they never take a signal the program
 * meant for one of its own threads (or for signalfd).
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

enum { CTX_REG_PENDING, CTX_REG_STOPPED, CTX_REG_STARTED };

struct ctx_stop_handle {
	atomic_uint refs;
	int state;				/* CTX_REG_* */
	void (*fn)(void *arg);
	void (*destroy)(void *arg);		/* NULL: none */
	void *arg;
	unsigned int gen;			/* ctx_af_gen when made */
	struct ctx_af *af;			/* while pending on a watch */
	struct ctx_stop_handle *prev, *next;	/* in af->regs */
	struct ctx_stop_handle *run_next;	/* in a list to start */
};

struct ctx_af {
	unsigned int refs;
	int fd;					/* own watch-only fd */
	bool in_epoll;
	bool fired;				/* the context is done */
	struct ctx_stop_handle *regs;		/* pending */
	struct ctx_af *prev, *next;		/* in ctx_w.active */
	struct ctx_af *grave_next;
};

static pthread_mutex_t ctx_af_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * Fork generation: incremented in every child (while it has one thread),
 * read without a lock.
 */
static unsigned int ctx_af_gen;

static struct {
	bool running;
	int epfd;
	int evfd;
	struct ctx_af *active;		/* in epoll */
	struct ctx_af *graveyard;	/* retired, epoll reference pending */
} ctx_w = { .epfd = -1, .evfd = -1 };

/* ---- registrations ---------------------------------------------------- */

/* Drop a reference; the last one destroys @arg (see above). */
static void ctx__reg_put(struct ctx_stop_handle *reg)
{
	if (atomic_fetch_sub_explicit(&reg->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (reg->destroy && reg->gen == ctx_af_gen)
		reg->destroy(reg->arg);
	free(reg);
}

static void ctx__reg_unlink(struct ctx_af *af, struct ctx_stop_handle *reg)
{
	if (reg->prev)
		reg->prev->next = reg->next;
	else
		af->regs = reg->next;
	if (reg->next)
		reg->next->prev = reg->prev;
	reg->prev = reg->next = NULL;
	reg->af = NULL;
}

static void *ctx__runner_main(void *arg)
{
	struct ctx_stop_handle *reg = arg;

	reg->fn(reg->arg);
	ctx__reg_put(reg);
	return NULL;
}

/* Create a detached thread with every signal blocked. */
static int ctx__thread_create(void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t tid;
	int ret;

	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&tid, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return ret;
}

/*
 * Start @reg's function in a thread of its own. Should no thread be
 * available, run it here rather than lose it.
 */
static CTX_NOINLINE void ctx__runner_spawn(struct ctx_stop_handle *reg)
{
	if (ctx__thread_create(ctx__runner_main, reg))
		ctx__runner_main(reg);
}

/* ---- watches ---------------------------------------------------------- */

static void ctx__af_put_locked(struct ctx_af *af)
{
	if (--af->refs)
		return;
	close(af->fd);
	free(af);
}

static void ctx__watcher_wake(void)
{
	uint64_t one = 1;

	if (ctx_w.evfd >= 0 && write(ctx_w.evfd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, the watcher is awake anyway. */
	}
}

/* Take @af out of epoll; its epoll reference goes to the graveyard. */
static void ctx__af_retire_locked(struct ctx_af *af)
{
	epoll_ctl(ctx_w.epfd, EPOLL_CTL_DEL, af->fd, NULL);
	af->in_epoll = false;
	if (af->prev)
		af->prev->next = af->next;
	else
		ctx_w.active = af->next;
	if (af->next)
		af->next->prev = af->prev;
	af->prev = af->next = NULL;
	af->grave_next = ctx_w.graveyard;
	ctx_w.graveyard = af;
	ctx__watcher_wake();
}

/* @started: posted once the thread runs (see fork() above). */
static void *ctx__watcher_main(void *started)
{
	struct epoll_event evs[64];

	sem_post(started);
	for (;;) {
		struct ctx_stop_handle *run = NULL;
		struct ctx_af *grave;
		int i, n;

		n = epoll_wait(ctx_w.epfd, evs, 64, -1);
		if (n < 0)
			continue;	/* EINTR; nothing else can happen */

		pthread_mutex_lock(&ctx_af_lock);
		for (i = 0; i < n; i++) {
			struct ctx_af *af = evs[i].data.ptr;

			if (!af) {
				uint64_t cnt;

				if (read(ctx_w.evfd, &cnt, sizeof(cnt)) < 0) {
					/* EAGAIN: someone else woke us */
				}
				continue;
			}
			if (!af->in_epoll)
				continue;	/* retired meanwhile */
			/* Readable means done, and done is final. */
			af->fired = true;
			while (af->regs) {
				struct ctx_stop_handle *reg = af->regs;

				ctx__reg_unlink(af, reg);
				reg->state = CTX_REG_STARTED;
				reg->run_next = run;
				run = reg;
			}
			ctx__af_retire_locked(af);
		}
		grave = ctx_w.graveyard;
		ctx_w.graveyard = NULL;
		while (grave) {
			struct ctx_af *next = grave->grave_next;

			ctx__af_put_locked(grave);
			grave = next;
		}
		pthread_mutex_unlock(&ctx_af_lock);

		while (run) {
			struct ctx_stop_handle *next = run->run_next;

			ctx__runner_spawn(run);
			run = next;
		}
	}
	return NULL;
}

static CTX_NOINLINE int ctx__watcher_start_locked(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	sem_t started;
	int ret;

	if (ctx_w.running)
		return 0;
	if (ctx_w.epfd < 0) {
		ctx_w.epfd = epoll_create1(EPOLL_CLOEXEC);
		if (ctx_w.epfd < 0)
			return ctx__fail_errno("ctx_after_func: epoll_create1");
	}
	if (ctx_w.evfd < 0) {
		ctx_w.evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (ctx_w.evfd < 0)
			return ctx__fail_errno("ctx_after_func: eventfd");
		if (epoll_ctl(ctx_w.epfd, EPOLL_CTL_ADD, ctx_w.evfd, &ev) < 0) {
			ret = ctx__fail_errno("ctx_after_func: epoll_ctl");
			close(ctx_w.evfd);
			ctx_w.evfd = -1;
			return ret;
		}
	}
	sem_init(&started, 0, 0);
	ret = ctx__thread_create(ctx__watcher_main, &started);
	if (ret) {
		sem_destroy(&started);
		return ctx__fail(ret, "ctx_after_func: cannot start the watcher thread: %s",
				 strerrordesc_np(ret));
	}
	/* Under ctx_af_lock, which fork() waits for (atfork prepare). */
	while (sem_wait(&started) && errno == EINTR)
		;
	sem_destroy(&started);
	ctx_w.running = true;
	return 0;
}

/* The watch of @ctx, created and put into epoll as needed. */
static int ctx__af_get_locked(struct ctx_context *ctx, struct ctx_af **out)
{
	struct ctx_af *af = ctx->af;
	int ret;

	if (!af) {
		struct ctxfd_watch args = { 0 };

		af = calloc(1, sizeof(*af));
		if (!af)
			return ctx__fail(ENOMEM, "ctx_after_func: out of memory");
		af->fd = ioctl(ctx->fd, CTXFD_IOC_WATCH, &args);
		if (af->fd < 0) {
			ret = ctx__fail_errno("ctx_after_func: CTXFD_IOC_WATCH");
			free(af);
			return ret;
		}
		af->refs = 1;
		ctx->af = af;
		atomic_store_explicit(&ctx->af_used, true, memory_order_release);
	}
	if (!af->in_epoll && !af->fired) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = af };

		ret = ctx__watcher_start_locked();
		if (ret)
			return ret;
		if (epoll_ctl(ctx_w.epfd, EPOLL_CTL_ADD, af->fd, &ev) < 0)
			return ctx__fail_errno("ctx_after_func: epoll_ctl");
		af->in_epoll = true;
		af->refs++;
		af->next = ctx_w.active;
		if (af->next)
			af->next->prev = af;
		ctx_w.active = af;
	}
	*out = af;
	return 0;
}

void ctx__af_ctx_gone(struct ctx_context *ctx)
{
	pthread_mutex_lock(&ctx_af_lock);
	if (ctx->af) {
		ctx__af_put_locked(ctx->af);
		ctx->af = NULL;
	}
	pthread_mutex_unlock(&ctx_af_lock);
}

/* ---- fork ------------------------------------------------------------- */

static void ctx__af_atfork_prepare(void)
{
	pthread_mutex_lock(&ctx_af_lock);
}

static void ctx__af_atfork_parent(void)
{
	pthread_mutex_unlock(&ctx_af_lock);
}

/* The child has no watcher: drop what it would have watched. */
static void ctx__af_atfork_child(void)
{
	struct ctx_af *af;

	if (ctx_w.epfd >= 0)
		close(ctx_w.epfd);
	if (ctx_w.evfd >= 0)
		close(ctx_w.evfd);
	ctx_w.epfd = ctx_w.evfd = -1;
	ctx_w.running = false;
	ctx_af_gen++;

	while ((af = ctx_w.active)) {
		ctx_w.active = af->next;
		af->prev = af->next = NULL;
		af->in_epoll = false;
		while (af->regs) {
			struct ctx_stop_handle *reg = af->regs;

			ctx__reg_unlink(af, reg);
			reg->state = CTX_REG_STOPPED;
			ctx__reg_put(reg);
		}
		ctx__af_put_locked(af);
	}
	while ((af = ctx_w.graveyard)) {
		ctx_w.graveyard = af->grave_next;
		ctx__af_put_locked(af);
	}
	pthread_mutex_unlock(&ctx_af_lock);
}

static void ctx__af_init(void)
{
	pthread_atfork(ctx__af_atfork_prepare, ctx__af_atfork_parent,
		       ctx__af_atfork_child);
}

/* ---- the API ------------------------------------------------------------ */

int ctx_after_func(ctx_t *ctx, void (*fn)(void *arg), void *arg,
		   ctx_stop_t **stop)
{
	return ctx_after_func_full(ctx, fn, arg, NULL, stop);
}

int ctx_after_func_full(ctx_t *ctx, void (*fn)(void *arg), void *arg,
			void (*destroy)(void *arg), ctx_stop_t **stop)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct ctx_stop_handle *reg;
	struct ctx_af *af = NULL;
	bool run_now = false;
	int err;

	if (stop)
		*stop = NULL;
	if (!ctx || !fn)
		return ctx__fail(EINVAL, "ctx_after_func: NULL %s",
				 ctx ? "function" : "context");
	pthread_once(&once, ctx__af_init);

	reg = calloc(1, sizeof(*reg));
	if (!reg)
		return ctx__fail(ENOMEM, "ctx_after_func: out of memory");
	atomic_init(&reg->refs, stop ? 2 : 1);
	reg->fn = fn;
	reg->destroy = destroy;
	reg->arg = arg;
	reg->gen = ctx_af_gen;
	reg->state = CTX_REG_PENDING;

	if (ctx->never_done) {
		/* Never runs; only a stop handle can still see it. */
		if (!stop)
			ctx__reg_put(reg);	/* ends here: destroy */
		else
			*stop = reg;
		return 0;
	}

	err = ctx__err(ctx, "ctx_after_func");
	if (err < 0) {
		free(reg);
		return err;
	}
	if (!err) {
		pthread_mutex_lock(&ctx_af_lock);
		err = ctx__af_get_locked(ctx, &af);
		if (err) {
			pthread_mutex_unlock(&ctx_af_lock);
			free(reg);
			return err;
		}
		if (af->fired) {
			run_now = true;
		} else {
			reg->af = af;
			reg->next = af->regs;
			if (reg->next)
				reg->next->prev = reg;
			af->regs = reg;
		}
		pthread_mutex_unlock(&ctx_af_lock);
	} else {
		run_now = true;
	}

	if (stop)
		*stop = reg;
	if (run_now) {
		/* Nobody else can see it yet: no lock needed. */
		reg->state = CTX_REG_STARTED;
		ctx__runner_spawn(reg);
	}
	return 0;
}

bool ctx_stop(ctx_stop_t *stop)
{
	struct ctx_af *af;

	if (!stop) {
		errno = EINVAL;
		ctx__fail_errno("ctx_stop: NULL stop handle");
		return false;
	}
	pthread_mutex_lock(&ctx_af_lock);
	if (stop->state != CTX_REG_PENDING) {
		pthread_mutex_unlock(&ctx_af_lock);
		return false;
	}
	stop->state = CTX_REG_STOPPED;
	af = stop->af;
	if (af) {
		ctx__reg_unlink(af, stop);
		if (!af->regs && af->in_epoll)
			ctx__af_retire_locked(af);
	}
	pthread_mutex_unlock(&ctx_af_lock);
	ctx__reg_put(stop);	/* the pending side */
	return true;
}

void ctx_stop_release(ctx_stop_t *stop)
{
	bool orphan = false;

	if (!stop)
		return;
	pthread_mutex_lock(&ctx_af_lock);
	/* Pending on a context that is never done: it can never run now. */
	if (stop->state == CTX_REG_PENDING && !stop->af) {
		stop->state = CTX_REG_STOPPED;
		orphan = true;
	}
	pthread_mutex_unlock(&ctx_af_lock);
	if (orphan)
		ctx__reg_put(stop);
	ctx__reg_put(stop);
}
