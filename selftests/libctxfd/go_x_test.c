// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Go's src/context/x_test.go, ported to libctxfd, together with the
 * XTest* functions of src/context/context_test.go that x_test.go runs.
 * Each C test is named after its Go original.
 *
 * Translation rules:
 *  - Go's otherContext ("a Context that is not one of the types defined in
 *    context.go") becomes the same kernel context seen through a context
 *    object the library did not create: ctx_from_fd(ctx_fd(c)).
 *  - Checks on Go's private fields (cancelCtx.children) read the kernel's
 *    equivalent instead: nr_children and parent_id from CTXFD_IOC_INFO,
 *    and the registrations in the AfterFunc watcher's epoll set.
 *  - shortDuration stays short where something must not happen, and
 *    veryLongDuration/quiescent waits become LIB_LONG (finite, generous:
 *    the tests run in TCG, under ASan and valgrind).
 *  - Loops that repeat a behaviour to catch races run a fifth of their
 *    iterations in the valgrind group, as Go's do under testing.Short().
 *  - Discarded cancel functions ("c, _ := WithCancel(...)") are released
 *    at the end of the test: C has no garbage collector.
 *  - Causes are (code, message) pairs.
 *
 * Left out, with the reason:
 *  - TestAllocs: Go allocation counts (testing.AllocsPerRun).
 *  - The String() checks inside TestBackground, TestTODO, TestWithCancel,
 *    TestDeadline, TestTimeout, TestValues, TestLayers*: contexts have no
 *    String() in C. The rest of those tests is ported.
 * Ported as analogs:
 *  - TestCustomContextPropagation, TestCustomContextCause: Go's custom
 *    implementations of the Context interface become contexts the library
 *    did not make: another object on the same kernel context (otherContext
 *    above), or a root made with the raw kernel interface and adopted with
 *    ctx_cancel_from_fd() (its cancel is customCauseContext.cancel()).
 *  - TestCustomContextGoroutines: Go counts goroutines started to watch
 *    custom contexts; here, no thread is started per derived context or
 *    per AfterFunc registration (one watcher thread per process).
 *  - TestDeadlineExceededSupportsTimeout: Go's Timeout() method becomes
 *    the errno convention: CTX_DEADLINE_EXCEEDED is ETIMEDOUT.
 *  - TestWithValueChecksKey: a non-comparable or nil key becomes a NULL
 *    or empty key, refused with EINVAL instead of a panic.
 *  - TestInvalidDerivedFail: a nil parent is refused with EINVAL.
 */
#include <sched.h>

#include "lib_test.h"

#define SHORT		(1 * CTX_MILLISECOND)	/* Go's shortDuration */
#define VERY_LONG	(1000 * CTX_HOUR)	/* Go's veryLongDuration */

/* Go's otherContext{c}: the same context, through an adopted fd. */
static ctx_t *other(ctx_t *c)
{
	ctx_t *o = NULL;
	int fd = ctx_fd(c, 0);

	if (fd >= 0 && ctx_from_fd(fd, &o))
		close(fd);
	return o;
}

static struct timespec now_plus(ctx_duration_t d)
{
	struct timespec ts;
	int64_t ns = lib_now() + d;

	ts.tv_sec = ns / CTX_SECOND;
	ts.tv_nsec = ns % CTX_SECOND;
	return ts;
}

static uint64_t ctx_id(ctx_t *c)
{
	struct ctxfd_info info;

	return lib_info(c, &info) ? 0 : info.id;
}

static uint64_t ctx_parent_id(ctx_t *c)
{
	struct ctxfd_info info;

	return lib_info(c, &info) ? (uint64_t)-1 : info.parent_id;
}

static void noop(void *arg)
{
}

/* ---- Background, TODO, WithCancel ----------------------------------- */

LIBTEST(TestBackground)
{
	ctx_t *c = ctx_background();

	ASSERT_NE(NULL, c);
	EXPECT_EQ(-1, ctx_done_fd(c));		/* Go: Done() blocks forever */
	EXPECT_EQ(0, ctx_err(c));
	EXPECT_EQ(0, ctx_wait(c, LIB_SHORT));
}

LIBTEST(TestTODO)
{
	ctx_t *c = ctx_todo();

	ASSERT_NE(NULL, c);
	EXPECT_NE(ctx_background(), c);
	EXPECT_EQ(-1, ctx_done_fd(c));
	EXPECT_EQ(0, ctx_err(c));
	EXPECT_EQ(0, ctx_wait(c, LIB_SHORT));
}

LIBTEST(TestWithCancel)
{
	ctx_t *c1, *o, *c2, *contexts[3];
	ctx_cancel_t *cancel, *cancel2;
	int i;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c1, &cancel));
	o = other(c1);
	ASSERT_NE(NULL, o);
	ASSERT_EQ(0, ctx_with_cancel(o, &c2, &cancel2));
	contexts[0] = c1;
	contexts[1] = o;
	contexts[2] = c2;

	for (i = 0; i < 3; i++) {
		EXPECT_LE(0, ctx_done_fd(contexts[i])) TH_LOG("c[%d]", i);
		EXPECT_EQ(0, ctx_err(contexts[i])) TH_LOG("c[%d]", i);
		EXPECT_FALSE(lib_done_now(contexts[i])) TH_LOG("c[%d]", i);
	}

	ASSERT_EQ(0, ctx_cancel(cancel));	/* propagates synchronously */
	for (i = 0; i < 3; i++) {
		EXPECT_TRUE(lib_done_now(contexts[i])) TH_LOG("c[%d]", i);
		EXPECT_EQ(CTX_CANCELED, ctx_err(contexts[i])) TH_LOG("c[%d]", i);
	}

	ctx_cancel_release(cancel2);
	ctx_release(c2);
	ctx_release(o);
	ctx_cancel_release(cancel);
	ctx_release(c1);
}

/* ---- XTests of context_test.go ------------------------------------------ */

LIBTEST(TestParentFinishesChild)
{
	/*
	 * Context tree:
	 *   parent -> cancelChild
	 *   parent -> valueChild -> timerChild
	 *   parent -> afterChild (an AfterFunc)
	 */
	ctx_t *parent, *cancelChild, *valueChild, *timerChild, *precanceled;
	ctx_cancel_t *cancel, *stop1, *stop2;
	ctx_stop_t *afterStop;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &parent, &cancel));
	ASSERT_EQ(0, ctx_with_cancel(parent, &cancelChild, &stop1));
	ASSERT_EQ(0, ctx_with_value(parent, "key", "value", 5, &valueChild));
	ASSERT_EQ(0, ctx_with_timeout(valueChild, VERY_LONG, &timerChild, &stop2));
	ASSERT_EQ(0, ctx_after_func(parent, noop, NULL, &afterStop));

	EXPECT_FALSE(lib_done_now(parent));
	EXPECT_FALSE(lib_done_now(cancelChild));
	EXPECT_FALSE(lib_done_now(timerChild));
	EXPECT_FALSE(lib_done_now(valueChild));

	/*
	 * Go: parent's children are cancelChild, timerChild and an afterFunc.
	 * Kernel: value contexts are nodes too, so parent links cancelChild
	 * and valueChild, valueChild links timerChild, and the AfterFunc is a
	 * registration of the watcher.
	 */
	EXPECT_EQ(2, lib_nr_children(parent));
	EXPECT_EQ(1, lib_nr_children(valueChild));
	EXPECT_EQ(ctx_id(parent), ctx_parent_id(cancelChild));
	EXPECT_EQ(ctx_id(valueChild), ctx_parent_id(timerChild));
	EXPECT_EQ(1, lib_watch_count());

	ASSERT_EQ(0, ctx_cancel(cancel));
	EXPECT_EQ(0, lib_nr_children(parent));	/* cancel cleared children */

	EXPECT_TRUE(lib_done_now(parent));
	EXPECT_EQ(CTX_CANCELED, ctx_err(parent));
	EXPECT_TRUE(lib_done_now(cancelChild));
	EXPECT_EQ(CTX_CANCELED, ctx_err(cancelChild));
	EXPECT_TRUE(lib_done_now(valueChild));
	EXPECT_EQ(CTX_CANCELED, ctx_err(valueChild));
	EXPECT_TRUE(lib_done_now(timerChild));
	EXPECT_EQ(CTX_CANCELED, ctx_err(timerChild));

	/* A child of a canceled parent is born canceled. */
	ASSERT_EQ(0, ctx_with_value(parent, "key", "value", 5, &precanceled));
	EXPECT_TRUE(lib_done_now(precanceled));
	EXPECT_EQ(CTX_CANCELED, ctx_err(precanceled));

	ctx_stop(afterStop);
	ctx_stop_release(afterStop);
	ctx_release(precanceled);
	ctx_cancel_release(stop2);
	ctx_release(timerChild);
	ctx_release(valueChild);
	ctx_cancel_release(stop1);
	ctx_release(cancelChild);
	ctx_cancel_release(cancel);
	ctx_release(parent);
}

LIBTEST(TestChildFinishesFirst)
{
	ctx_t *cancelable, *parents[2];
	ctx_cancel_t *stop;
	int i;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &cancelable, &stop));
	parents[0] = ctx_background();
	parents[1] = cancelable;
	for (i = 0; i < 2; i++) {
		ctx_t *parent = parents[i], *child;
		bool pcok = parent != ctx_background();
		ctx_cancel_t *cancel;

		ASSERT_EQ(0, ctx_with_cancel(parent, &child, &cancel));
		EXPECT_FALSE(lib_done_now(parent));
		EXPECT_FALSE(lib_done_now(child));

		/* Go's parentCancelCtx linkage: the kernel parent id. */
		EXPECT_EQ(pcok ? ctx_id(parent) : 0, ctx_parent_id(child));
		if (pcok)
			EXPECT_EQ(1, lib_nr_children(parent));

		ASSERT_EQ(0, ctx_cancel(cancel));
		if (pcok)	/* the child's cancel removed it */
			EXPECT_EQ(0, lib_nr_children(parent));

		EXPECT_TRUE(lib_done_now(child));
		EXPECT_EQ(CTX_CANCELED, ctx_err(child));
		EXPECT_FALSE(lib_done_now(parent));
		EXPECT_EQ(0, ctx_err(parent));

		ctx_cancel_release(cancel);
		ctx_release(child);
	}
	ctx_cancel_release(stop);
	ctx_release(cancelable);
}

LIBTEST(TestCancelRemoves)
{
	ctx_cancel_t *c0, *cancel;
	ctx_t *ctx, *child;
	ctx_stop_t *stop;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &ctx, &c0));
	EXPECT_EQ(0, lib_nr_children(ctx)) TH_LOG("after creation");
	ASSERT_EQ(0, ctx_with_cancel(ctx, &child, &cancel));
	EXPECT_EQ(1, lib_nr_children(ctx)) TH_LOG("with WithCancel child");
	ctx_cancel(cancel);
	EXPECT_EQ(0, lib_nr_children(ctx)) TH_LOG("after canceling WithCancel child");
	ctx_cancel_release(cancel);
	ctx_release(child);
	ctx_cancel_release(c0);
	ctx_release(ctx);

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &ctx, &c0));
	EXPECT_EQ(0, lib_nr_children(ctx)) TH_LOG("after creation");
	ASSERT_EQ(0, ctx_with_timeout(ctx, 60 * CTX_MINUTE, &child, &cancel));
	EXPECT_EQ(1, lib_nr_children(ctx)) TH_LOG("with WithTimeout child");
	ctx_cancel(cancel);
	EXPECT_EQ(0, lib_nr_children(ctx)) TH_LOG("after canceling WithTimeout child");
	ctx_cancel_release(cancel);
	ctx_release(child);
	ctx_cancel_release(c0);
	ctx_release(ctx);

	/* Go's afterFunc child is a registration in the watcher's epoll set. */
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &ctx, &c0));
	EXPECT_EQ(0, lib_watch_count()) TH_LOG("after creation");
	ASSERT_EQ(0, ctx_after_func(ctx, noop, NULL, &stop));
	EXPECT_EQ(1, lib_watch_count()) TH_LOG("with AfterFunc child");
	EXPECT_TRUE(ctx_stop(stop));
	EXPECT_EQ(0, lib_watch_count()) TH_LOG("after stopping AfterFunc child");
	ctx_stop_release(stop);
	ctx_cancel_release(c0);
	ctx_release(ctx);
}

LIBTEST(TestCustomContextGoroutines)
{
	enum { N = 20 };
	ctx_t *ctx[N], *d1, *d2;
	ctx_cancel_t *cancel[N], *c1, *c2;
	ctx_stop_t *stop[N];
	int before, i;

	/* Deriving contexts starts no thread: the kernel propagates. */
	before = lib_thread_count();
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &d1, &c1));
	ASSERT_EQ(0, ctx_with_timeout(d1, VERY_LONG, &d2, &c2));
	EXPECT_EQ(before, lib_thread_count());
	ctx_cancel(c1);
	EXPECT_EQ(before, lib_thread_count());

	/* N pending AfterFuncs cost one watcher thread, not N threads. */
	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &ctx[i], &cancel[i]));
		ASSERT_EQ(0, ctx_after_func(ctx[i], noop, NULL, &stop[i]));
	}
	EXPECT_EQ(before + 1, lib_thread_count());
	for (i = 0; i < N; i++) {
		EXPECT_TRUE(ctx_stop(stop[i]));
		ctx_stop_release(stop[i]);
		ctx_cancel_release(cancel[i]);
		ctx_release(ctx[i]);
	}
	EXPECT_EQ(before + 1, lib_thread_count());

	ctx_cancel_release(c2);
	ctx_release(d2);
	ctx_cancel_release(c1);
	ctx_release(d1);
}

/* ---- deadlines ------------------------------------------------------------ */

static void testDeadline(struct __test_metadata *_metadata, ctx_t *c,
			 const char *name)
{
	ASSERT_NE(NULL, c) TH_LOG("%s", name);
	EXPECT_TRUE(lib_done_within(c, LIB_LONG))
		TH_LOG("%s: context not timed out", name);
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_err(c)) TH_LOG("%s", name);
}

LIBTEST(TestDeadline)
{
	ctx_t *c, *o, *c2;
	ctx_cancel_t *k, *k2;
	struct timespec d;

	d = now_plus(SHORT);
	ASSERT_EQ(0, ctx_with_deadline(ctx_background(), &d, &c, &k));
	testDeadline(_metadata, c, "WithDeadline");
	ctx_cancel_release(k);
	ctx_release(c);

	d = now_plus(SHORT);
	ASSERT_EQ(0, ctx_with_deadline(ctx_background(), &d, &c, &k));
	o = other(c);
	testDeadline(_metadata, o, "WithDeadline+otherContext");
	ctx_release(o);
	ctx_cancel_release(k);
	ctx_release(c);

	d = now_plus(SHORT);
	ASSERT_EQ(0, ctx_with_deadline(ctx_background(), &d, &c, &k));
	o = other(c);
	d = now_plus(VERY_LONG);
	ASSERT_EQ(0, ctx_with_deadline(o, &d, &c2, &k2));
	testDeadline(_metadata, c2, "WithDeadline+otherContext+WithDeadline");
	ctx_cancel_release(k2);
	ctx_release(c2);
	ctx_release(o);
	ctx_cancel_release(k);
	ctx_release(c);

	d = now_plus(-SHORT);
	ASSERT_EQ(0, ctx_with_deadline(ctx_background(), &d, &c, &k));
	testDeadline(_metadata, c, "WithDeadline+inthepast");
	ctx_cancel_release(k);
	ctx_release(c);

	d = now_plus(0);
	ASSERT_EQ(0, ctx_with_deadline(ctx_background(), &d, &c, &k));
	testDeadline(_metadata, c, "WithDeadline+now");
	ctx_cancel_release(k);
	ctx_release(c);
}

LIBTEST(TestTimeout)
{
	ctx_t *c, *o, *c2;
	ctx_cancel_t *k, *k2;

	ASSERT_EQ(0, ctx_with_timeout(ctx_background(), SHORT, &c, &k));
	testDeadline(_metadata, c, "WithTimeout");
	ctx_cancel_release(k);
	ctx_release(c);

	ASSERT_EQ(0, ctx_with_timeout(ctx_background(), SHORT, &c, &k));
	o = other(c);
	testDeadline(_metadata, o, "WithTimeout+otherContext");
	ctx_release(o);
	ctx_cancel_release(k);
	ctx_release(c);

	ASSERT_EQ(0, ctx_with_timeout(ctx_background(), SHORT, &c, &k));
	o = other(c);
	ASSERT_EQ(0, ctx_with_timeout(o, VERY_LONG, &c2, &k2));
	testDeadline(_metadata, c2, "WithTimeout+otherContext+WithTimeout");
	ctx_cancel_release(k2);
	ctx_release(c2);
	ctx_release(o);
	ctx_cancel_release(k);
	ctx_release(c);
}

LIBTEST(TestCanceledTimeout)
{
	ctx_t *c, *o, *c2;
	ctx_cancel_t *k, *cancel;

	ASSERT_EQ(0, ctx_with_timeout(ctx_background(), CTX_SECOND, &c, &k));
	o = other(c);
	ASSERT_NE(NULL, o);
	ASSERT_EQ(0, ctx_with_timeout(o, VERY_LONG, &c2, &cancel));
	ASSERT_EQ(0, ctx_cancel(cancel));	/* propagates synchronously */
	EXPECT_TRUE(lib_done_now(c2));
	EXPECT_EQ(CTX_CANCELED, ctx_err(c2));

	ctx_cancel_release(cancel);
	ctx_release(c2);
	ctx_release(o);
	ctx_cancel_release(k);
	ctx_release(c);
}

/* ---- values ------------------------------------------------------------ */

/* Go's k1 = key1(1), k2 = key2(1) (same int, other type), k3 = key2(3). */
static const char k1[] = "context_test.key1(1)";
static const char k2[] = "context_test.key2(1)";
static const char k3[] = "context_test.key2(3)";

/* Expect @want for @key ("" : Go's nil, i.e. never bound or bound nil). */
static void check_value(struct __test_metadata *_metadata, ctx_t *c,
			const char *nm, const char *key, const char *want)
{
	char buf[64];
	ssize_t n = ctx_value(c, key, buf, sizeof(buf));

	if (!*want) {
		EXPECT_EQ(-ENOENT, n)
			TH_LOG("%s.Value(%s) = %zd, want nil", nm, key, n);
		return;
	}
	EXPECT_EQ((ssize_t)strlen(want), n) TH_LOG("%s.Value(%s)", nm, key);
	if (n == (ssize_t)strlen(want))
		EXPECT_EQ(0, memcmp(buf, want, (size_t)n))
			TH_LOG("%s.Value(%s) = %.*s want %s", nm, key,
			       (int)n, buf, want);
}

static void check(struct __test_metadata *_metadata, ctx_t *c, const char *nm,
		  const char *v1, const char *v2, const char *v3)
{
	ASSERT_NE(NULL, c) TH_LOG("%s", nm);
	check_value(_metadata, c, nm, k1, v1);
	check_value(_metadata, c, nm, k2, v2);
	check_value(_metadata, c, nm, k3, v3);
}

LIBTEST(TestValues)
{
	ctx_t *c0, *c1, *c2, *c3, *c4, *o0, *o1, *o1v, *o2, *o3, *o4;

	c0 = ctx_background();
	check(_metadata, c0, "c0", "", "", "");

	ASSERT_EQ(0, ctx_with_value(ctx_background(), k1, "c1k1", 4, &c1));
	check(_metadata, c1, "c1", "c1k1", "", "");

	ASSERT_EQ(0, ctx_with_value(c1, k2, "c2k2", 4, &c2));
	check(_metadata, c2, "c2", "c1k1", "c2k2", "");

	ASSERT_EQ(0, ctx_with_value(c2, k3, "c3k3", 4, &c3));
	check(_metadata, c3, "c2", "c1k1", "c2k2", "c3k3");

	ASSERT_EQ(0, ctx_with_value(c3, k1, NULL, 0, &c4));
	check(_metadata, c4, "c4", "", "c2k2", "c3k3");

	o0 = other(ctx_background());
	check(_metadata, o0, "o0", "", "", "");

	ASSERT_EQ(0, ctx_with_value(ctx_background(), k1, "c1k1", 4, &o1v));
	o1 = other(o1v);
	check(_metadata, o1, "o1", "c1k1", "", "");

	ASSERT_EQ(0, ctx_with_value(o1, k2, "o2k2", 4, &o2));
	check(_metadata, o2, "o2", "c1k1", "o2k2", "");

	o3 = other(c4);
	check(_metadata, o3, "o3", "", "c2k2", "c3k3");

	ASSERT_EQ(0, ctx_with_value(o3, k3, NULL, 0, &o4));
	check(_metadata, o4, "o4", "", "c2k2", "");

	ctx_release(o4);
	ctx_release(o3);
	ctx_release(o2);
	ctx_release(o1);
	ctx_release(o1v);
	ctx_release(o0);
	ctx_release(c4);
	ctx_release(c3);
	ctx_release(c2);
	ctx_release(c1);
}

/* ---- concurrency ---------------------------------------------------------- */

static void *cancel_thread(void *arg)
{
	ctx_cancel(arg);
	return NULL;
}

LIBTEST(TestSimultaneousCancels)
{
	enum { MAX = 128 };
	ctx_t *ctxs[MAX];
	ctx_cancel_t *cancels[MAX];
	pthread_t threads[MAX];
	int order[MAX];
	int n = 1, q = 0, i;

	/* A tree of contexts, 4 children per node, at least 100 of them. */
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &ctxs[0], &cancels[0]));
	while (q < n && n < lib_iterations(100)) {
		ctx_t *parent = ctxs[q++];

		for (i = 0; i < 4; i++, n++) {
			ASSERT_EQ(0, ctx_with_cancel(parent, &ctxs[n], &cancels[n]));
		}
	}

	/* Start all the cancels in a random order. */
	for (i = 0; i < n; i++)
		order[i] = i;
	t_shuffle(order, (size_t)n, (uint64_t)lib_now());
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, cancel_thread,
					    cancels[order[i]]));
	}

	/* Wait on all the contexts in a random order. */
	t_shuffle(order, (size_t)n, (uint64_t)lib_now() + 1);
	for (i = 0; i < n; i++)
		EXPECT_TRUE(lib_done_within(ctxs[order[i]], LIB_LONG))
			TH_LOG("timed out waiting for context %d", order[i]);

	/* Wait for all the cancel functions to return. */
	for (i = 0; i < n; i++) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += LIB_LONG / CTX_SECOND;
		EXPECT_EQ(0, pthread_timedjoin_np(threads[i], NULL, &ts))
			TH_LOG("timed out waiting for cancel functions");
	}
	for (i = 0; i < n; i++) {
		ctx_cancel_release(cancels[i]);
		ctx_release(ctxs[i]);
	}
}

struct interlocked {
	ctx_t *parent;
	ctx_cancel_t *cancelChild;
};

static void *interlocked_thread(void *arg)
{
	struct interlocked *il = arg;

	ctx_wait(il->parent, LIB_LONG);
	ctx_cancel(il->cancelChild);
	return NULL;
}

LIBTEST(TestInterlockedCancels)
{
	struct interlocked il;
	ctx_cancel_t *cancelParent;
	ctx_t *child;
	pthread_t t;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &il.parent, &cancelParent));
	ASSERT_EQ(0, ctx_with_cancel(il.parent, &child, &il.cancelChild));
	ASSERT_EQ(0, pthread_create(&t, NULL, interlocked_thread, &il));
	ASSERT_EQ(0, ctx_cancel(cancelParent));
	EXPECT_TRUE(lib_done_within(child, LIB_LONG))
		TH_LOG("timed out waiting for child.Done()");
	ASSERT_EQ(0, pthread_join(t, NULL));

	ctx_cancel_release(il.cancelChild);
	ctx_release(child);
	ctx_cancel_release(cancelParent);
	ctx_release(il.parent);
}

static void testLayers(struct __test_metadata *_metadata, uint64_t seed,
		       bool testTimeout)
{
	enum { MIN_LAYERS = 30, MAX_LAYERS = 256 };
	ctx_t *ctxs[MAX_LAYERS];
	ctx_cancel_t *cancels[MAX_LAYERS];
	char vals[MAX_LAYERS][32];
	int nctx = 0, ncancel = 0, nvals = 0, numTimers = 0, i;
	__u64 r = seed ? seed : 1;
	ctx_t *ctx = ctx_background();

	for (i = 0; (i < MIN_LAYERS || !numTimers || !ncancel || !nvals) &&
		    i < MAX_LAYERS; i++) {
		ctx_t *next = NULL;

		switch (t_rand(&r) % 3) {
		case 0:
			snprintf(vals[nvals], sizeof(vals[0]), "layer-value-%d", i);
			ASSERT_EQ(0, ctx_with_value(ctx, vals[nvals], vals[nvals],
						    strlen(vals[nvals]), &next));
			nvals++;
			break;
		case 1:
			ASSERT_EQ(0, ctx_with_cancel(ctx, &next, &cancels[ncancel]));
			ncancel++;
			break;
		case 2:
			ASSERT_EQ(0, ctx_with_timeout(ctx,
						      testTimeout ? SHORT : VERY_LONG,
						      &next, &cancels[ncancel]));
			ncancel++;
			numTimers++;
			break;
		}
		ctxs[nctx++] = ctx = next;
	}

#define checkValues(when) do {						\
		int _j;							\
		for (_j = 0; _j < nvals; _j++) {			\
			char _buf[32];					\
			ssize_t _n = ctx_value(ctx, vals[_j], _buf, sizeof(_buf)); \
			EXPECT_EQ((ssize_t)strlen(vals[_j]), _n)		\
				TH_LOG("seed=%llu: %s: ctx.Value(%s)",	\
				       (unsigned long long)seed, when, vals[_j]); \
			if (_n > 0)					\
				EXPECT_EQ(0, memcmp(_buf, vals[_j], (size_t)_n)); \
		}							\
	} while (0)

	if (!testTimeout)
		EXPECT_FALSE(lib_done_now(ctx))
			TH_LOG("seed=%llu: ctx should not be canceled yet",
			       (unsigned long long)seed);
	checkValues("before cancel");
	if (testTimeout) {
		EXPECT_TRUE(lib_done_within(ctx, LIB_LONG))
			TH_LOG("seed=%llu: ctx should have timed out",
			       (unsigned long long)seed);
		checkValues("after timeout");
	} else {
		ctx_cancel(cancels[t_rand(&r) % (uint64_t)ncancel]);
		EXPECT_TRUE(lib_done_now(ctx))
			TH_LOG("seed=%llu: ctx should be canceled",
			       (unsigned long long)seed);
		checkValues("after cancel");
	}
#undef checkValues

	for (i = 0; i < ncancel; i++)
		ctx_cancel_release(cancels[i]);
	for (i = 0; i < nctx; i++)
		ctx_release(ctxs[i]);
}

LIBTEST(TestLayersCancel)
{
	testLayers(_metadata, (uint64_t)lib_now(), false);
}

LIBTEST(TestLayersTimeout)
{
	testLayers(_metadata, (uint64_t)lib_now(), true);
}

/* ---- causes ---------------------------------------------------------------- */

#define BECAUSE_CODE	4242
#define BECAUSE_MSG	"Because!"

LIBTEST(TestWithCancelCanceledParent)
{
	ctx_cancel_t *pcancel, *cancel;
	ctx_t *parent, *c;
	char msg[CTX_CAUSE_MSG_MAX + 1];
	int code;

	ASSERT_EQ(0, ctx_with_cancel_cause(ctx_background(), &parent, &pcancel));
	ASSERT_EQ(0, ctx_cancel_cause(pcancel, BECAUSE_CODE, BECAUSE_MSG));

	ASSERT_EQ(0, ctx_with_cancel(parent, &c, &cancel));
	EXPECT_TRUE(lib_done_now(c)) TH_LOG("child not done immediately upon construction");
	EXPECT_EQ(CTX_CANCELED, ctx_err(c));
	EXPECT_EQ(CTX_CANCELED, ctx_cause(c, &code, msg, sizeof(msg)));
	EXPECT_EQ(BECAUSE_CODE, code);
	EXPECT_STREQ(BECAUSE_MSG, msg);

	ctx_cancel_release(cancel);
	ctx_release(c);
	ctx_cancel_release(pcancel);
	ctx_release(parent);
}

static void *cancel_because_thread(void *arg)
{
	ctx_cancel_cause(arg, BECAUSE_CODE, BECAUSE_MSG);
	return NULL;
}

LIBTEST(TestWithCancelSimultaneouslyCanceledParent)
{
	int i;

	/* Cancel the parent concurrently with creating a child. */
	for (i = 0; i < lib_iterations(100); i++) {
		ctx_cancel_t *pcancel, *cancel;
		char msg[CTX_CAUSE_MSG_MAX + 1];
		ctx_t *parent, *c;
		pthread_t t;
		int code;

		ASSERT_EQ(0, ctx_with_cancel_cause(ctx_background(), &parent,
						   &pcancel));
		ASSERT_EQ(0, pthread_create(&t, NULL, cancel_because_thread,
					    pcancel));
		ASSERT_EQ(0, ctx_with_cancel(parent, &c, &cancel));
		EXPECT_TRUE(lib_done_within(c, LIB_LONG));
		EXPECT_EQ(CTX_CANCELED, ctx_err(c)) TH_LOG("iteration %d", i);
		EXPECT_EQ(CTX_CANCELED, ctx_cause(c, &code, msg, sizeof(msg)));
		EXPECT_EQ(BECAUSE_CODE, code) TH_LOG("iteration %d", i);
		EXPECT_STREQ(BECAUSE_MSG, msg);
		ASSERT_EQ(0, pthread_join(t, NULL));

		ctx_cancel_release(cancel);
		ctx_release(c);
		ctx_cancel_release(pcancel);
		ctx_release(parent);
	}
}

LIBTEST(TestWithValueChecksKey)
{
	ctx_t *c = (ctx_t *)1;

	/* Go panics on a non-comparable key; C has only strings: "" */
	EXPECT_EQ(-EINVAL, ctx_with_value(ctx_background(), "", "bar", 3, &c));
	EXPECT_EQ(NULL, c);
	/* Go: panic("nil key") */
	c = (ctx_t *)1;
	EXPECT_EQ(-EINVAL, ctx_with_value(ctx_background(), NULL, "bar", 3, &c));
	EXPECT_EQ(NULL, c);
	EXPECT_NE(NULL, strstr(ctx_last_error(), "NULL key"));
}

LIBTEST(TestInvalidDerivedFail)
{
	struct timespec d = now_plus(SHORT);
	ctx_cancel_t *cancel = (ctx_cancel_t *)1;
	ctx_t *c = (ctx_t *)1;

	EXPECT_EQ(-EINVAL, ctx_with_cancel(NULL, &c, &cancel));
	EXPECT_EQ(NULL, c);
	EXPECT_EQ(NULL, cancel);
	c = (ctx_t *)1;
	cancel = (ctx_cancel_t *)1;
	EXPECT_EQ(-EINVAL, ctx_with_deadline(NULL, &d, &c, &cancel));
	EXPECT_EQ(NULL, c);
	EXPECT_EQ(NULL, cancel);
	c = (ctx_t *)1;
	EXPECT_EQ(-EINVAL, ctx_with_value(NULL, "foo", "bar", 3, &c));
	EXPECT_EQ(NULL, c);
}

LIBTEST(TestDeadlineExceededSupportsTimeout)
{
	ctx_cancel_t *cancel;
	ctx_t *c;

	/* Go's Timeout() == true: in C, the timeout errno. */
	EXPECT_EQ(ETIMEDOUT, CTX_DEADLINE_EXCEEDED);
	EXPECT_STREQ("context deadline exceeded",
		     ctx_strerror(CTX_DEADLINE_EXCEEDED));
	ASSERT_EQ(0, ctx_with_timeout(ctx_background(), 0, &c, &cancel));
	EXPECT_EQ(ETIMEDOUT, ctx_err(c));
	ctx_cancel_release(cancel);
	ctx_release(c);
}

/* Go's causes: distinct errors, here distinct (code, message) pairs. */
#define PARENT_CAUSE	1, "parentCause"
#define CHILD_CAUSE	2, "childCause"
#define TOO_SLOW	3, "tooSlow"
#define FINISHED_EARLY	4, "finishedEarly"

/* What a case leaves to release. */
struct refs {
	ctx_t *ctx[4];
	ctx_cancel_t *cancel[4];
	int nctx, ncancel;
};

static ctx_t *keep(struct refs *r, ctx_t *c)
{
	r->ctx[r->nctx++] = c;
	return c;
}

static ctx_cancel_t *keepc(struct refs *r, ctx_cancel_t *k)
{
	r->cancel[r->ncancel++] = k;
	return k;
}

static void release_refs(struct refs *r)
{
	while (r->ncancel)
		ctx_cancel_release(r->cancel[--r->ncancel]);
	while (r->nctx)
		ctx_release(r->ctx[--r->nctx]);
}

/* Create a context of the given kind, or NULL; @r keeps the references. */
#define WITH(fn, parent, ...) ({					\
	ctx_t *_c = NULL;						\
	ctx_cancel_t *_k = NULL;					\
	if (fn(parent, ##__VA_ARGS__, &_c, &_k) == 0) {			\
		keep(r, _c);						\
		keepc(r, _k);						\
	}								\
	last_cancel = _k;						\
	_c;								\
})

static ctx_cancel_t *last_cancel;

static ctx_t *cause_case(int n, struct refs *r)
{
	ctx_t *ctx, *w;
	ctx_cancel_t *cancel, *cancelParent, *cancelChild;

	switch (n) {
	case 0:	/* Background */
		return ctx_background();
	case 1:	/* TODO */
		return ctx_todo();
	case 2:	/* WithCancel */
		ctx = WITH(ctx_with_cancel, ctx_background());
		ctx_cancel(last_cancel);
		return ctx;
	case 3:	/* WithCancelCause */
		ctx = WITH(ctx_with_cancel_cause, ctx_background());
		ctx_cancel_cause(last_cancel, PARENT_CAUSE);
		return ctx;
	case 4:	/* WithCancelCause nil */
		ctx = WITH(ctx_with_cancel_cause, ctx_background());
		ctx_cancel_cause(last_cancel, 0, NULL);
		return ctx;
	case 5:	/* WithCancelCause: parent cause before child */
		ctx = WITH(ctx_with_cancel_cause, ctx_background());
		cancelParent = last_cancel;
		ctx = WITH(ctx_with_cancel_cause, ctx);
		cancelChild = last_cancel;
		ctx_cancel_cause(cancelParent, PARENT_CAUSE);
		ctx_cancel_cause(cancelChild, CHILD_CAUSE);
		return ctx;
	case 6:	/* WithCancelCause: parent cause after child */
		ctx = WITH(ctx_with_cancel_cause, ctx_background());
		cancelParent = last_cancel;
		ctx = WITH(ctx_with_cancel_cause, ctx);
		cancelChild = last_cancel;
		ctx_cancel_cause(cancelChild, CHILD_CAUSE);
		ctx_cancel_cause(cancelParent, PARENT_CAUSE);
		return ctx;
	case 7:	/* WithCancelCause: parent cause before nil */
		ctx = WITH(ctx_with_cancel_cause, ctx_background());
		cancelParent = last_cancel;
		ctx = WITH(ctx_with_cancel, ctx);
		cancelChild = last_cancel;
		ctx_cancel_cause(cancelParent, PARENT_CAUSE);
		ctx_cancel(cancelChild);
		return ctx;
	case 8:	/* WithCancelCause: parent cause after nil */
		ctx = WITH(ctx_with_cancel_cause, ctx_background());
		cancelParent = last_cancel;
		ctx = WITH(ctx_with_cancel, ctx);
		cancelChild = last_cancel;
		ctx_cancel(cancelChild);
		ctx_cancel_cause(cancelParent, PARENT_CAUSE);
		return ctx;
	case 9:	/* WithCancelCause: child cause after nil */
		ctx = WITH(ctx_with_cancel, ctx_background());
		cancelParent = last_cancel;
		ctx = WITH(ctx_with_cancel_cause, ctx);
		cancelChild = last_cancel;
		ctx_cancel(cancelParent);
		ctx_cancel_cause(cancelChild, CHILD_CAUSE);
		return ctx;
	case 10: /* WithCancelCause: child cause before nil */
		ctx = WITH(ctx_with_cancel, ctx_background());
		cancelParent = last_cancel;
		ctx = WITH(ctx_with_cancel_cause, ctx);
		cancelChild = last_cancel;
		ctx_cancel_cause(cancelChild, CHILD_CAUSE);
		ctx_cancel(cancelParent);
		return ctx;
	case 11: /* WithTimeout */
		ctx = WITH(ctx_with_timeout, ctx_background(), 0);
		ctx_cancel(last_cancel);
		return ctx;
	case 12: /* WithTimeout canceled */
		ctx = WITH(ctx_with_timeout, ctx_background(), 1000000 * CTX_SECOND);
		ctx_cancel(last_cancel);
		return ctx;
	case 13: /* WithTimeoutCause */
		ctx = WITH(ctx_with_timeout_cause, ctx_background(), 0, TOO_SLOW);
		ctx_cancel(last_cancel);
		return ctx;
	case 14: /* WithTimeoutCause canceled */
		ctx = WITH(ctx_with_timeout_cause, ctx_background(),
			   1000000 * CTX_SECOND, TOO_SLOW);
		ctx_cancel(last_cancel);
		return ctx;
	case 15: /* WithTimeoutCause stacked */
		ctx = WITH(ctx_with_cancel_cause, ctx_background());
		cancel = last_cancel;
		ctx = WITH(ctx_with_timeout_cause, ctx, 0, TOO_SLOW);
		ctx_cancel_cause(cancel, FINISHED_EARLY);
		return ctx;
	case 16: /* WithTimeoutCause stacked canceled */
		ctx = WITH(ctx_with_cancel_cause, ctx_background());
		cancel = last_cancel;
		ctx = WITH(ctx_with_timeout_cause, ctx, 1000000 * CTX_SECOND,
			   TOO_SLOW);
		ctx_cancel_cause(cancel, FINISHED_EARLY);
		return ctx;
	case 17: /* WithoutCancel */
		if (ctx_without_cancel(ctx_background(), &w))
			return NULL;
		return keep(r, w);
	case 18: /* WithoutCancel canceled */
		ctx = WITH(ctx_with_cancel_cause, ctx_background());
		cancel = last_cancel;
		if (ctx_without_cancel(ctx, &w))
			return NULL;
		keep(r, w);
		ctx_cancel_cause(cancel, FINISHED_EARLY);
		return w;
	case 19: /* WithoutCancel timeout */
		ctx = WITH(ctx_with_timeout_cause, ctx_background(), 0, TOO_SLOW);
		cancel = last_cancel;
		if (ctx_without_cancel(ctx, &w))
			return NULL;
		keep(r, w);
		ctx_cancel(cancel);
		return w;
	}
	return NULL;
}

static const struct {
	const char *name;
	int err;
	int code;		/* 0: Go's nil cause */
	const char *msg;
} cause_cases[] = {
	{ "Background", 0, 0, "" },
	{ "TODO", 0, 0, "" },
	{ "WithCancel", CTX_CANCELED, CTX_CANCELED, "context canceled" },
	{ "WithCancelCause", CTX_CANCELED, PARENT_CAUSE },
	{ "WithCancelCause nil", CTX_CANCELED, CTX_CANCELED, "context canceled" },
	{ "WithCancelCause: parent cause before child", CTX_CANCELED, PARENT_CAUSE },
	{ "WithCancelCause: parent cause after child", CTX_CANCELED, CHILD_CAUSE },
	{ "WithCancelCause: parent cause before nil", CTX_CANCELED, PARENT_CAUSE },
	{ "WithCancelCause: parent cause after nil", CTX_CANCELED, CTX_CANCELED,
	  "context canceled" },
	{ "WithCancelCause: child cause after nil", CTX_CANCELED, CTX_CANCELED,
	  "context canceled" },
	{ "WithCancelCause: child cause before nil", CTX_CANCELED, CHILD_CAUSE },
	{ "WithTimeout", CTX_DEADLINE_EXCEEDED, CTX_DEADLINE_EXCEEDED,
	  "context deadline exceeded" },
	{ "WithTimeout canceled", CTX_CANCELED, CTX_CANCELED, "context canceled" },
	{ "WithTimeoutCause", CTX_DEADLINE_EXCEEDED, TOO_SLOW },
	{ "WithTimeoutCause canceled", CTX_CANCELED, CTX_CANCELED,
	  "context canceled" },
	{ "WithTimeoutCause stacked", CTX_DEADLINE_EXCEEDED, TOO_SLOW },
	{ "WithTimeoutCause stacked canceled", CTX_CANCELED, FINISHED_EARLY },
	{ "WithoutCancel", 0, 0, "" },
	{ "WithoutCancel canceled", 0, 0, "" },
	{ "WithoutCancel timeout", 0, 0, "" },
};

LIBTEST(TestCause)
{
	size_t i;

	for (i = 0; i < sizeof(cause_cases) / sizeof(cause_cases[0]); i++) {
		char msg[CTX_CAUSE_MSG_MAX + 1];
		struct refs refs = { 0 }, *r = &refs;
		const char *name = cause_cases[i].name;
		ctx_t *ctx = cause_case((int)i, r);
		int code = -1;

		EXPECT_NE(NULL, ctx) TH_LOG("%s: %s", name, ctx_last_error());
		if (ctx) {
			EXPECT_EQ(cause_cases[i].err, ctx_err(ctx))
				TH_LOG("%s: ctx.Err()", name);
			EXPECT_EQ(cause_cases[i].err,
				  ctx_cause(ctx, &code, msg, sizeof(msg)))
				TH_LOG("%s", name);
			EXPECT_EQ(cause_cases[i].code, code)
				TH_LOG("%s: Cause(ctx) code", name);
			EXPECT_STREQ(cause_cases[i].msg, msg)
				TH_LOG("%s: Cause(ctx) message", name);
		}
		release_refs(r);
	}
}

LIBTEST(TestCauseRace)
{
	ctx_cancel_t *cancel;
	pthread_t t;
	ctx_t *ctx;
	int64_t end = lib_now() + LIB_LONG;
	bool seen = false;

	ASSERT_EQ(0, ctx_with_cancel_cause(ctx_background(), &ctx, &cancel));
	ASSERT_EQ(0, pthread_create(&t, NULL, cancel_because_thread, cancel));
	/* Poll Cause, rather than waiting for Done. */
	while (lib_now() < end) {
		char msg[CTX_CAUSE_MSG_MAX + 1];
		int code;

		if (ctx_cause(ctx, &code, msg, sizeof(msg))) {
			EXPECT_EQ(BECAUSE_CODE, code);
			EXPECT_STREQ(BECAUSE_MSG, msg);
			seen = true;
			break;
		}
		sched_yield();
	}
	EXPECT_TRUE(seen);
	ASSERT_EQ(0, pthread_join(t, NULL));
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

LIBTEST(TestWithoutCancel)
{
	struct timespec d = { 1, 1 };
	ctx_t *ctx, *w;
	char buf[16];

	ASSERT_EQ(0, ctx_with_value(ctx_background(), "key", "value", 5, &ctx));
	ASSERT_EQ(0, ctx_without_cancel(ctx, &w));
	EXPECT_FALSE(ctx_deadline(w, &d));
	EXPECT_EQ(0, d.tv_sec);
	EXPECT_EQ(0, d.tv_nsec);
	EXPECT_EQ(-1, ctx_done_fd(w));		/* Go: Done() == nil */
	EXPECT_EQ(0, ctx_err(w));
	EXPECT_EQ(5, ctx_value(w, "key", buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "value", 5));
	ctx_release(w);
	ctx_release(ctx);
}

/*
 * Go: a custom context wrapping ctx1 with a Done channel of its own; a
 * child of it sees ctx1's cancellation and cause. Here the custom context
 * is another object on ctx1's kernel context.
 */
LIBTEST(TestCustomContextPropagation)
{
	char msg[CTX_CAUSE_MSG_MAX + 1];
	ctx_cancel_t *cancel1, *cancel3;
	ctx_t *ctx1, *ctx2, *ctx3;
	int code;

	ASSERT_EQ(0, ctx_with_cancel_cause(ctx_background(), &ctx1, &cancel1));
	ctx2 = other(ctx1);
	ASSERT_NE(NULL, ctx2);
	ASSERT_EQ(0, ctx_with_cancel(ctx2, &ctx3, &cancel3));

	ASSERT_EQ(0, ctx_cancel_cause(cancel1, 77, "TestCustomContextPropagation"));

	EXPECT_LT(0, ctx_wait(ctx3, LIB_LONG));		/* <-ctx3.Done() */
	EXPECT_EQ(CTX_CANCELED, ctx_err(ctx3)) TH_LOG("child not canceled");
	EXPECT_EQ(CTX_CANCELED, ctx_cause(ctx3, &code, msg, sizeof(msg)));
	EXPECT_EQ(77, code) TH_LOG("child has wrong cause");
	EXPECT_STREQ("TestCustomContextPropagation", msg);

	ctx_cancel_release(cancel3);			/* defer cancel3() */
	ctx_release(ctx3);
	ctx_release(ctx2);
	ctx_cancel_release(cancel1);
	ctx_release(ctx1);
}

/* Go's customCauseContext: a root made with the raw kernel interface. */
static void new_custom_cause_context(struct __test_metadata *_metadata,
				     ctx_t **ccc, ctx_cancel_t **cancel)
{
	int dev = ctxfd_dev_or_skip();
	int fd = t_new(dev, 0);

	close(dev);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ctx_cancel_from_fd(fd, ccc, cancel));
}

static void expect_err_cause(struct __test_metadata *_metadata, ctx_t *c,
			     const char *what, int err, int code,
			     const char *msg)
{
	char got_msg[CTX_CAUSE_MSG_MAX + 1];
	int got_code;

	EXPECT_EQ(err, ctx_err(c)) TH_LOG("%s.Err()", what);
	EXPECT_EQ(err, ctx_cause(c, &got_code, got_msg, sizeof(got_msg)));
	EXPECT_EQ(code, got_code) TH_LOG("Cause(%s)", what);
	EXPECT_STREQ(msg, got_msg) TH_LOG("Cause(%s)", what);
}

LIBTEST(TestCustomContextCause)
{
	ctx_cancel_t *ccc_cancel, *causeFunc, *cancelFunc;
	ctx_t *ccc, *ctx;

	/* Canceling a custom context: Err and Cause are Canceled. */
	new_custom_cause_context(_metadata, &ccc, &ccc_cancel);
	ASSERT_EQ(0, t_cancel(ctx_done_fd(ccc), 0, NULL));	/* raw cancel */
	expect_err_cause(_metadata, ccc, "ccc", CTX_CANCELED, CTX_CANCELED,
			 "context canceled");
	ctx_cancel_release(ccc_cancel);
	ctx_release(ccc);

	/*
	 * WithCancelCause(ccc), then cancel the child with a cause: the
	 * child's cause is right, the custom parent is not canceled.
	 */
	new_custom_cause_context(_metadata, &ccc, &ccc_cancel);
	ASSERT_EQ(0, ctx_with_cancel_cause(ccc, &ctx, &causeFunc));
	ASSERT_EQ(0, ctx_cancel_cause(causeFunc, 78, "TestCustomContextCause"));
	expect_err_cause(_metadata, ctx, "ctx", CTX_CANCELED, 78,
			 "TestCustomContextCause");
	expect_err_cause(_metadata, ccc, "ccc", 0, 0, "");

	/*
	 * Now cancel the custom parent: the child keeps its cause, the
	 * parent is canceled without one.
	 */
	ASSERT_EQ(0, ctx_cancel(ccc_cancel));
	expect_err_cause(_metadata, ctx, "ctx", CTX_CANCELED, 78,
			 "TestCustomContextCause");
	expect_err_cause(_metadata, ccc, "ccc", CTX_CANCELED, CTX_CANCELED,
			 "context canceled");
	ctx_cancel_release(causeFunc);
	ctx_release(ctx);
	ctx_cancel_release(ccc_cancel);
	ctx_release(ccc);

	/* Canceling the custom context cancels a child of it. */
	new_custom_cause_context(_metadata, &ccc, &ccc_cancel);
	ASSERT_EQ(0, ctx_with_cancel(ccc, &ctx, &cancelFunc));
	ASSERT_EQ(0, ctx_cancel(ccc_cancel));
	expect_err_cause(_metadata, ctx, "ctx", CTX_CANCELED, CTX_CANCELED,
			 "context canceled");
	expect_err_cause(_metadata, ccc, "ccc", CTX_CANCELED, CTX_CANCELED,
			 "context canceled");
	ctx_cancel_release(cancelFunc);
	ctx_release(ctx);
	ctx_cancel_release(ccc_cancel);
	ctx_release(ccc);
}

/* ---- AfterFunc (the tests of x_test.go) ---------------------------------- */

static struct lib_event donec;

LIBTEST(TestAfterFuncCalledAfterCancel)
{
	ctx_cancel_t *cancel;
	ctx_stop_t *stop;
	ctx_t *ctx;

	lib_event_init(&donec);
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &ctx, &cancel));
	ASSERT_EQ(0, ctx_after_func(ctx, lib_post_fn, &donec, &stop));
	EXPECT_FALSE(lib_event_wait(&donec, LIB_SHORT))
		TH_LOG("AfterFunc called before context is done");
	ASSERT_EQ(0, ctx_cancel(cancel));
	EXPECT_TRUE(lib_event_wait(&donec, LIB_LONG))
		TH_LOG("AfterFunc not called after context is canceled");
	EXPECT_FALSE(ctx_stop(stop));
	ctx_stop_release(stop);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

LIBTEST(TestAfterFuncCalledAfterTimeout)
{
	ctx_cancel_t *cancel;
	ctx_t *ctx;

	lib_event_init(&donec);
	ASSERT_EQ(0, ctx_with_timeout(ctx_background(), SHORT, &ctx, &cancel));
	ASSERT_EQ(0, ctx_after_func(ctx, lib_post_fn, &donec, NULL));
	EXPECT_TRUE(lib_event_wait(&donec, LIB_LONG))
		TH_LOG("AfterFunc not called after context is canceled");
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

LIBTEST(TestAfterFuncCalledImmediately)
{
	ctx_cancel_t *cancel;
	ctx_t *ctx;

	lib_event_init(&donec);
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &ctx, &cancel));
	ASSERT_EQ(0, ctx_cancel(cancel));
	ASSERT_EQ(0, ctx_after_func(ctx, lib_post_fn, &donec, NULL));
	EXPECT_TRUE(lib_event_wait(&donec, LIB_LONG))
		TH_LOG("AfterFunc not called for already-canceled context");
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

LIBTEST(TestAfterFuncNotCalledAfterStop)
{
	ctx_cancel_t *cancel;
	ctx_stop_t *stop;
	ctx_t *ctx;

	lib_event_init(&donec);
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &ctx, &cancel));
	ASSERT_EQ(0, ctx_after_func(ctx, lib_post_fn, &donec, &stop));
	EXPECT_TRUE(ctx_stop(stop));
	ASSERT_EQ(0, ctx_cancel(cancel));
	EXPECT_FALSE(lib_event_wait(&donec, LIB_SHORT))
		TH_LOG("AfterFunc called for already-canceled context");
	EXPECT_FALSE(ctx_stop(stop));
	ctx_stop_release(stop);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

/* The function blocks until the test has read from "donec". */
static struct lib_event started, ack, finished;

static void blocking_send(void *arg)
{
	lib_event_post(&started);
	lib_event_wait(&ack, LIB_LONG);
	lib_event_post(&finished);
}

LIBTEST(TestAfterFuncCalledAsynchronously)
{
	ctx_cancel_t *cancel;
	ctx_stop_t *stop;
	ctx_t *ctx;

	lib_event_init(&started);
	lib_event_init(&ack);
	lib_event_init(&finished);
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &ctx, &cancel));
	ASSERT_EQ(0, ctx_after_func(ctx, blocking_send, NULL, &stop));
	/* cancel must not wait for the function, which is blocked. */
	ASSERT_EQ(0, ctx_cancel(cancel));
	EXPECT_TRUE(lib_event_wait(&started, LIB_LONG))
		TH_LOG("AfterFunc not called after context is canceled");
	lib_event_post(&ack);
	EXPECT_TRUE(lib_event_wait(&finished, LIB_LONG));
	EXPECT_FALSE(ctx_stop(stop));
	ctx_stop_release(stop);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

TEST_HARNESS_MAIN
