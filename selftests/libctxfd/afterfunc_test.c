// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * AfterFunc's destroy callback (ctx_after_func_full()): who frees @arg.
 *
 * destroy(arg) runs exactly once, when the registration has ended on
 * both sides: its function has returned or can no longer run (stopped,
 * or a context that is never done), and its stop handle, if one was
 * asked for, has been released. On failure neither runs. A child process
 * never runs the destroy of a registration it inherited.
 */
#include <stdatomic.h>

#include "lib_test.h"

/* One registration's argument, recording what happened to it. */
struct probe {
	atomic_int fn_runs;
	atomic_int fn_done;		/* fn has returned */
	atomic_int destroys;
	atomic_int destroy_before_fn_done;
	struct lib_event fn_started, destroyed;
	struct lib_event release_fn;	/* fn waits for it if @block */
	bool block;
};

static void probe_init(struct probe *p, bool block)
{
	memset(p, 0, sizeof(*p));
	lib_event_init(&p->fn_started);
	lib_event_init(&p->destroyed);
	lib_event_init(&p->release_fn);
	p->block = block;
}

static void probe_fini(struct probe *p)
{
	lib_event_destroy(&p->fn_started);
	lib_event_destroy(&p->destroyed);
	lib_event_destroy(&p->release_fn);
}

static void probe_fn(void *arg)
{
	struct probe *p = arg;

	atomic_fetch_add(&p->fn_runs, 1);
	lib_event_post(&p->fn_started);
	if (p->block)
		lib_event_wait(&p->release_fn, LIB_LONG);
	atomic_store(&p->fn_done, 1);
}

static void probe_destroy(void *arg)
{
	struct probe *p = arg;

	if (atomic_load(&p->fn_runs) && !atomic_load(&p->fn_done))
		atomic_fetch_add(&p->destroy_before_fn_done, 1);
	atomic_fetch_add(&p->destroys, 1);
	lib_event_post(&p->destroyed);
}

/* Give a wrong second destroy (or an early one) a chance to show. */
static void settle(void)
{
	usleep(LIB_SHORT / CTX_MICROSECOND);
}

LIBTEST(DestroyRunsAfterFnWithoutStopHandle)
{
	ctx_cancel_t *cancel;
	struct probe p;
	ctx_t *c;

	probe_init(&p, false);
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	ASSERT_EQ(0, ctx_after_func_full(c, probe_fn, &p, probe_destroy, NULL));
	settle();
	EXPECT_EQ(0, atomic_load(&p.destroys));
	ctx_cancel(cancel);
	ASSERT_TRUE(lib_event_wait(&p.destroyed, LIB_LONG));
	settle();
	EXPECT_EQ(1, atomic_load(&p.fn_runs));
	EXPECT_EQ(1, atomic_load(&p.destroys));
	EXPECT_EQ(0, atomic_load(&p.destroy_before_fn_done));
	ctx_cancel_release(cancel);
	ctx_release(c);
	probe_fini(&p);
}

/* The stop handle keeps @arg alive: its holder may still use it. */
LIBTEST(DestroyWaitsForTheStopHandle)
{
	ctx_cancel_t *cancel;
	ctx_stop_t *stop;
	struct probe p;
	ctx_t *c;

	probe_init(&p, false);
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	ASSERT_EQ(0, ctx_after_func_full(c, probe_fn, &p, probe_destroy, &stop));
	ctx_cancel(cancel);
	ASSERT_TRUE(lib_event_wait(&p.fn_started, LIB_LONG));
	settle();
	EXPECT_EQ(0, atomic_load(&p.destroys));
	EXPECT_FALSE(ctx_stop(stop));
	ctx_stop_release(stop);
	ASSERT_TRUE(lib_event_wait(&p.destroyed, LIB_LONG));
	settle();
	EXPECT_EQ(1, atomic_load(&p.destroys));
	EXPECT_EQ(0, atomic_load(&p.destroy_before_fn_done));
	ctx_cancel_release(cancel);
	ctx_release(c);
	probe_fini(&p);
}

LIBTEST(DestroyRunsOnReleaseAfterASuccessfulStop)
{
	ctx_cancel_t *cancel;
	ctx_stop_t *stop;
	struct probe p;
	ctx_t *c;

	probe_init(&p, false);
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	ASSERT_EQ(0, ctx_after_func_full(c, probe_fn, &p, probe_destroy, &stop));
	EXPECT_TRUE(ctx_stop(stop));
	EXPECT_FALSE(ctx_stop(stop));
	EXPECT_EQ(0, atomic_load(&p.destroys));
	ctx_stop_release(stop);
	/* Nothing else holds it: destroyed before the release returns. */
	EXPECT_EQ(1, atomic_load(&p.destroys));
	ctx_cancel(cancel);
	settle();
	EXPECT_EQ(0, atomic_load(&p.fn_runs));
	EXPECT_EQ(1, atomic_load(&p.destroys));
	ctx_cancel_release(cancel);
	ctx_release(c);
	probe_fini(&p);
}

/*
 * stop() while fn runs returns false and never waits (Go); releasing the
 * handle then leaves @arg to fn, destroyed once fn has returned.
 */
LIBTEST(DestroyWaitsForARunningFn)
{
	ctx_cancel_t *cancel;
	ctx_stop_t *stop;
	struct probe p;
	ctx_t *c;

	probe_init(&p, true);
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	ASSERT_EQ(0, ctx_after_func_full(c, probe_fn, &p, probe_destroy, &stop));
	ctx_cancel(cancel);
	ASSERT_TRUE(lib_event_wait(&p.fn_started, LIB_LONG));
	EXPECT_FALSE(ctx_stop(stop));
	ctx_stop_release(stop);
	settle();
	EXPECT_EQ(0, atomic_load(&p.destroys));
	lib_event_post(&p.release_fn);
	ASSERT_TRUE(lib_event_wait(&p.destroyed, LIB_LONG));
	settle();
	EXPECT_EQ(1, atomic_load(&p.destroys));
	EXPECT_EQ(0, atomic_load(&p.destroy_before_fn_done));
	ctx_cancel_release(cancel);
	ctx_release(c);
	probe_fini(&p);
}

LIBTEST(DestroyOnAContextThatIsNeverDone)
{
	ctx_stop_t *stop;
	struct probe p;
	ctx_t *v;

	/* Without a stop handle nothing can ever run: destroyed at once. */
	probe_init(&p, false);
	ASSERT_EQ(0, ctx_after_func_full(ctx_background(), probe_fn, &p,
					 probe_destroy, NULL));
	EXPECT_EQ(1, atomic_load(&p.destroys));

	/* With one, on its release (stopped or not). */
	ASSERT_EQ(0, ctx_after_func_full(ctx_todo(), probe_fn, &p,
					 probe_destroy, &stop));
	EXPECT_EQ(1, atomic_load(&p.destroys));
	ctx_stop_release(stop);
	EXPECT_EQ(2, atomic_load(&p.destroys));

	ASSERT_EQ(0, ctx_with_value(ctx_background(), "k", "v", 1, &v));
	ASSERT_EQ(0, ctx_after_func_full(v, probe_fn, &p, probe_destroy, &stop));
	EXPECT_TRUE(ctx_stop(stop));
	EXPECT_EQ(2, atomic_load(&p.destroys));
	ctx_stop_release(stop);
	EXPECT_EQ(3, atomic_load(&p.destroys));
	settle();
	EXPECT_EQ(0, atomic_load(&p.fn_runs));
	ctx_release(v);
	probe_fini(&p);
}

LIBTEST(DestroyOnAContextAlreadyDone)
{
	ctx_cancel_t *cancel;
	ctx_stop_t *stop;
	struct probe p;
	ctx_t *c;

	probe_init(&p, false);
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	ctx_cancel(cancel);
	ASSERT_EQ(0, ctx_after_func_full(c, probe_fn, &p, probe_destroy, &stop));
	ASSERT_TRUE(lib_event_wait(&p.fn_started, LIB_LONG));
	EXPECT_FALSE(ctx_stop(stop));
	ctx_stop_release(stop);
	ASSERT_TRUE(lib_event_wait(&p.destroyed, LIB_LONG));
	settle();
	EXPECT_EQ(1, atomic_load(&p.fn_runs));
	EXPECT_EQ(1, atomic_load(&p.destroys));
	ctx_cancel_release(cancel);
	ctx_release(c);
	probe_fini(&p);
}

/* Releasing the handle of a pending registration lets it run later. */
LIBTEST(DestroyAfterFnWhenTheHandleWentFirst)
{
	ctx_cancel_t *cancel;
	ctx_stop_t *stop;
	struct probe p;
	ctx_t *c;

	probe_init(&p, false);
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	ASSERT_EQ(0, ctx_after_func_full(c, probe_fn, &p, probe_destroy, &stop));
	ctx_stop_release(stop);
	settle();
	EXPECT_EQ(0, atomic_load(&p.destroys));
	/* Releasing everything cancels (defer cancel()): fn, then destroy. */
	ctx_cancel_release(cancel);
	ctx_release(c);
	ASSERT_TRUE(lib_event_wait(&p.destroyed, LIB_LONG));
	settle();
	EXPECT_EQ(1, atomic_load(&p.fn_runs));
	EXPECT_EQ(1, atomic_load(&p.destroys));
	EXPECT_EQ(0, atomic_load(&p.destroy_before_fn_done));
	probe_fini(&p);
}

LIBTEST(FailedRegistrationCallsNeither)
{
	ctx_stop_t *stop = (ctx_stop_t *)1;
	struct probe p;

	probe_init(&p, false);
	EXPECT_EQ(-EINVAL, ctx_after_func_full(NULL, probe_fn, &p,
					       probe_destroy, &stop));
	EXPECT_EQ(NULL, stop);
	EXPECT_EQ(-EINVAL, ctx_after_func_full(ctx_background(), NULL, &p,
					       probe_destroy, &stop));
	settle();
	EXPECT_EQ(0, atomic_load(&p.destroys));
	EXPECT_EQ(0, atomic_load(&p.fn_runs));
	/* A NULL destroy is ctx_after_func(). */
	EXPECT_EQ(0, ctx_after_func_full(ctx_background(), probe_fn, &p, NULL,
					 NULL));
	probe_fini(&p);
}

/*
 * The child's copy of a pending registration never runs there, and its
 * destroy never runs there either: the parent's registration owns @arg.
 */
LIBTEST(ForkedChildNeverDestroysInheritedRegistrations)
{
	ctx_cancel_t *cancel;
	ctx_stop_t *stop;
	struct probe p, q;
	int status;
	pid_t pid;
	ctx_t *c;

	probe_init(&p, false);
	probe_init(&q, false);
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	ASSERT_EQ(0, ctx_after_func_full(c, probe_fn, &p, probe_destroy, &stop));
	ASSERT_EQ(0, ctx_after_func_full(c, probe_fn, &q, probe_destroy, NULL));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		bool stopped = ctx_stop(stop);

		ctx_stop_release(stop);
		ctx_cancel(cancel);
		usleep(LIB_SHORT / CTX_MICROSECOND);
		_exit(!stopped && !atomic_load(&p.destroys) &&
		      !atomic_load(&q.destroys) && !atomic_load(&p.fn_runs) ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The child canceled the shared context: the parent runs both. */
	ASSERT_TRUE(lib_event_wait(&q.destroyed, LIB_LONG));
	ASSERT_TRUE(lib_event_wait(&p.fn_started, LIB_LONG));
	ctx_stop_release(stop);
	ASSERT_TRUE(lib_event_wait(&p.destroyed, LIB_LONG));
	settle();
	EXPECT_EQ(1, atomic_load(&p.destroys));
	EXPECT_EQ(1, atomic_load(&q.destroys));
	ctx_cancel_release(cancel);
	ctx_release(c);
	probe_fini(&p);
	probe_fini(&q);
}

/* Many registrations, stopped and fired concurrently: one destroy each. */
struct race {
	atomic_int destroys;
	atomic_int runs;
};

static void race_fn(void *arg)
{
	atomic_fetch_add(&((struct race *)arg)->runs, 1);
}

static void race_destroy(void *arg)
{
	atomic_fetch_add(&((struct race *)arg)->destroys, 1);
}

struct stopper {
	ctx_stop_t **stops;
	int n;
	int stopped;
};

static void *stop_all(void *arg)
{
	struct stopper *s = arg;
	int i;

	for (i = 0; i < s->n; i += 2) {
		s->stopped += ctx_stop(s->stops[i]);
		ctx_stop_release(s->stops[i]);
	}
	return NULL;
}

LIBTEST(EachRegistrationIsDestroyedOnceUnderRaces)
{
	int rounds = lib_iterations(20), n = lib_short() ? 16 : 64, r, i;
	ctx_stop_t *stops[64];

	for (r = 0; r < rounds; r++) {
		struct race race = { 0 };
		struct stopper s = { .stops = stops, .n = n };
		ctx_cancel_t *cancel;
		int64_t end;
		pthread_t t;
		ctx_t *c;

		ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
		for (i = 0; i < n; i++)
			ASSERT_EQ(0, ctx_after_func_full(c, race_fn, &race,
							 race_destroy, &stops[i]));
		ASSERT_EQ(0, pthread_create(&t, NULL, stop_all, &s));
		ctx_cancel(cancel);
		for (i = 1; i < n; i += 2)
			ctx_stop_release(stops[i]);
		pthread_join(t, NULL);
		end = lib_now() + LIB_LONG;
		while (atomic_load(&race.destroys) < n && lib_now() < end)
			usleep(1000);
		settle();
		EXPECT_EQ(n, atomic_load(&race.destroys));
		EXPECT_EQ(n - s.stopped, atomic_load(&race.runs));
		ctx_cancel_release(cancel);
		ctx_release(c);
	}
}

TEST_HARNESS_MAIN
