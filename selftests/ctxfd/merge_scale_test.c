// SPDX-License-Identifier: GPL-2.0
/*
 * Merged contexts at scale and under races:
 *
 *  - a chain of 10 000 merges of merges: one cancel at the bottom makes
 *    the top done before it returns (no recursion: the kernel walks a
 *    work list), and the chain is freed in any order, also by closing
 *    the only fd that holds all of it;
 *  - the same in ALL mode, after one parent shared by all 10 000 merges
 *    (10 000 links on one list) was canceled first;
 *  - 64 parents, each the root of a 10 000-node tree: ANY is done with
 *    the first root canceled, ALL with the last, before the cancel
 *    returns;
 *  - races, many rounds with both sides on different CPUs: releasing a
 *    merged context while its parents are canceled; creating one while
 *    its parents are canceled (once both returned it must be done);
 *    every charge given back at the end.
 *
 * Sizes follow CTXFD_SCALE_N like scale_test (default 100 000: chains
 * and trees of N / 10 = 10 000; the fan-in's 64 trees shrink with the
 * square of the fraction, see fanin_len()), round counts
 * CTXFD_RACE_ROUNDS (a percentage), so that the debug kernel's lane runs
 * a fifth of the chains, a 25th of the fan-in and a tenth of the rounds.
 */
#include "kselftest_harness.h"
#include "ctxfd_test.h"

#include <pthread.h>

#define ROUNDS_RACE	1000
#define NR_FANIN	CTXFD_MERGE_MAX_PARENTS

static int scale_len(void)
{
	int n = t_scale_n() / 10;

	return n < 10 ? 10 : n < 10000 ? n : 10000;
}

/*
 * The fan-in's trees: 10 000 nodes each by default, like the chains, but
 * scaled down with the square of CTXFD_SCALE_N's fraction (the debug
 * lane's 20 000 gives 400 per tree): 64 trees make it the largest build
 * here, and creating a context on the debug kernel costs ~50 times more.
 */
static int fanin_len(void)
{
	long n = scale_len();

	n = n * n / 10000;
	return n >= 10 ? (int)n : 10;
}

static double ms_since(__u64 start)
{
	return (double)(t_now_ns(CLOCK_MONOTONIC) - start) / 1e6;
}

static int t_merge(int on, __u32 mode, const int *fds, __u32 n, __u64 flags)
{
	struct ctxfd_merge args = {
		.flags = flags,
		.parents = (uintptr_t)fds,
		.nr_parents = n,
		.mode = mode,
	};

	return ioctl(on, CTXFD_IOC_MERGE, &args);
}

FIXTURE(mscale) {
	int dev;
	int n;
	int *fds;		/* the chain of merges, fds[0] the bottom root */
	long long saved_nodes;	/* max_nodes_per_user to restore, or 0 */
	long baseline;		/* this user's charge before the test, or -1 */
};

FIXTURE_SETUP(mscale)
{
	long long depth;

	self->dev = ctxfd_dev_or_skip();
	self->n = scale_len();
	if (!t_raise_nofile((rlim_t)self->n + 1024))
		CTXFD_SKIP("cannot raise RLIMIT_NOFILE to %d", self->n + 1024);
	depth = t_param_get("max_depth");
	if (depth >= 0 && depth < self->n + 2)
		CTXFD_SKIP("max_depth %lld < %d", depth, self->n + 2);
	self->fds = calloc((size_t)self->n + 1, sizeof(int));
	ASSERT_NE(NULL, self->fds);
	self->baseline = t_charges_available() ?
			 t_settled_charge(getuid()) : -1;
}

FIXTURE_TEARDOWN(mscale)
{
	int i;

	if (self->fds)
		for (i = 0; i <= self->n; i++)
			if (self->fds[i] > 0)
				close(self->fds[i]);
	free(self->fds);
	close(self->dev);
	if (self->saved_nodes)
		t_param_set("max_nodes_per_user",
			    (unsigned long long)self->saved_nodes);
}

/* Make room for @n more nodes of this user (root), or skip. */
static void need_nodes(struct __test_metadata *_metadata,
		       FIXTURE_DATA(mscale) *self, long long n)
{
	long long nodes = t_param_get("max_nodes_per_user");

	if (nodes < 0 || nodes >= n)
		return;
	if (geteuid() != 0)
		CTXFD_SKIP("max_nodes_per_user %lld < %lld", nodes, n);
	self->saved_nodes = nodes;
	ASSERT_EQ(0, t_param_set("max_nodes_per_user", (unsigned long long)n));
}

/* Everything this test made is freed: the charge is back where it was. */
static void expect_all_freed(struct __test_metadata *_metadata,
			     FIXTURE_DATA(mscale) *self)
{
	if (self->baseline < 0) {
		TH_LOG("debugfs ctxfd/users not readable: leak check skipped");
		return;
	}
	EXPECT_EQ(self->baseline, t_wait_charged(getuid(), self->baseline,
						 30000));
}

/*
 * fds[0] a root; fds[i] = merge(@mode, fds[i - 1], @other) for i >= 1.
 * With @keep_top_only, every merge but the top is made
 * NO_CANCEL_ON_CLOSE and closed at once: the top holds the whole chain.
 */
static void build_merge_chain(struct __test_metadata *_metadata,
			      FIXTURE_DATA(mscale) *self, __u32 mode,
			      int other, bool keep_top_only)
{
	__u64 start = t_now_ns(CLOCK_MONOTONIC);
	int i;

	self->fds[0] = t_new(self->dev, 0);
	ASSERT_LE(0, self->fds[0]);
	for (i = 1; i <= self->n; i++) {
		int parents[2] = { self->fds[i - 1], other };

		self->fds[i] = t_merge(self->dev, mode, parents, 2,
				       keep_top_only ?
				       CTXFD_CREATE_NO_CANCEL_ON_CLOSE : 0);
		ASSERT_LE(0, self->fds[i]) TH_LOG("merge %d: %s", i,
						  strerror(errno));
		if (keep_top_only && i > 1) {
			close(self->fds[i - 1]);
			self->fds[i - 1] = 0;
		}
	}
	TH_LOG("built a chain of %d merges%s in %.0f ms", self->n,
	       keep_top_only ? " held by the top fd" : "", ms_since(start));
}

/* Cancel the bottom root; the top must be done when the ioctl returns. */
static void cancel_bottom_expect_top_done(struct __test_metadata *_metadata,
					  FIXTURE_DATA(mscale) *self)
{
	int top = self->fds[self->n];
	struct ctxfd_info info;
	__u64 start;

	ASSERT_EQ(0, t_info(top, &info));
	ASSERT_EQ(0, info.err);
	EXPECT_EQ((unsigned int)self->n, info.depth);
	start = t_now_ns(CLOCK_MONOTONIC);
	ASSERT_EQ(0, t_cancel(self->fds[0], 31, "bottom of the chain"));
	TH_LOG("cancel through %d merges: %.1f ms", self->n, ms_since(start));
	EXPECT_TRUE(t_readable(top, 0));
	ASSERT_EQ(0, t_info(top, &info));
	EXPECT_EQ(ECANCELED, info.err);
	EXPECT_EQ(31, info.cause_code);
	EXPECT_STREQ("bottom of the chain", info.cause_msg);
	EXPECT_EQ(CTXFD_VIA_PARENT, info.origin_via);
	EXPECT_EQ(t_id(self->fds[0]), info.origin_id);
}

static void close_in_order(int *fds, int n, bool reverse)
{
	int i;

	for (i = 0; i < n; i++) {
		int k = reverse ? n - 1 - i : i;

		if (fds[k] > 0)
			close(fds[k]);
		fds[k] = 0;
	}
}

TEST_F_TIMEOUT(mscale, chain_of_10000_merges_cancel_at_the_bottom_reaches_the_top, 600)
{
	int other = t_new(self->dev, 0);

	ASSERT_LE(0, other);
	need_nodes(_metadata, self, self->n + 1024);
	build_merge_chain(_metadata, self, CTXFD_MERGE_ANY, other, false);
	cancel_bottom_expect_top_done(_metadata, self);
	EXPECT_EQ(0, t_err(other));
	close_in_order(self->fds, self->n + 1, false);
	close(other);
	expect_all_freed(_metadata, self);
}

TEST_F_TIMEOUT(mscale, chain_of_10000_merges_held_by_its_top_is_freed_by_one_close, 600)
{
	int other = t_new(self->dev, 0), top;
	__u64 start;

	ASSERT_LE(0, other);
	need_nodes(_metadata, self, self->n + 1024);
	build_merge_chain(_metadata, self, CTXFD_MERGE_ANY, other, true);
	EXPECT_LE(t_nr_fds(), 16) TH_LOG("intermediate fds not closed");
	/* Nothing was canceled by those closes. */
	top = self->fds[self->n];
	EXPECT_EQ(0, t_err(top));
	start = t_now_ns(CLOCK_MONOTONIC);
	close(top);
	self->fds[self->n] = 0;
	TH_LOG("close of the only fd of %d merges: %.1f ms", self->n,
	       ms_since(start));
	close(self->fds[0]);
	self->fds[0] = 0;
	close(other);
	expect_all_freed(_metadata, self);
}

TEST_F_TIMEOUT(mscale, chain_of_10000_all_merges_after_a_parent_shared_by_all, 600)
{
	int shared = t_new(self->dev, 0), top;
	__u64 start;

	ASSERT_LE(0, shared);
	need_nodes(_metadata, self, self->n + 1024);
	build_merge_chain(_metadata, self, CTXFD_MERGE_ALL, shared, false);
	top = self->fds[self->n];
	/* 10 000 links on one list: none of them completes a merge yet. */
	start = t_now_ns(CLOCK_MONOTONIC);
	ASSERT_EQ(0, t_cancel(shared, 1, "shared"));
	TH_LOG("cancel of a parent of %d merges: %.1f ms", self->n,
	       ms_since(start));
	EXPECT_EQ(0, t_err(top));
	EXPECT_EQ(0, t_err(self->fds[1]));
	/* The bottom completes every merge, from the bottom up. */
	cancel_bottom_expect_top_done(_metadata, self);
	close_in_order(self->fds, self->n + 1, true);
	close(shared);
	expect_all_freed(_metadata, self);
}

TEST_F_TIMEOUT(mscale, fan_in_of_64_trees_of_10000_nodes, 900)
{
	int roots[NR_FANIN], leaves[NR_FANIN], any, all, any_child, i, k;
	int order[NR_FANIN];
	struct ctxfd_info info;
	int len = fanin_len();
	__u64 start;

	need_nodes(_metadata, self, (long long)NR_FANIN * len + 1024);
	start = t_now_ns(CLOCK_MONOTONIC);
	for (i = 0; i < NR_FANIN; i++) {
		int prev;

		roots[i] = t_new(self->dev, 0);
		ASSERT_LE(0, roots[i]);
		prev = roots[i];
		/* A chain held by its leaf: the tree keeps two fds. */
		for (k = 1; k < len; k++) {
			int fd = t_child(prev, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);

			ASSERT_LE(0, fd) TH_LOG("tree %d node %d: %s", i, k,
						strerror(errno));
			if (prev != roots[i])
				close(prev);
			prev = fd;
		}
		leaves[i] = prev;
	}
	TH_LOG("built %d trees of %d nodes in %.0f ms", NR_FANIN, len,
	       ms_since(start));

	any = t_merge(self->dev, CTXFD_MERGE_ANY, roots, NR_FANIN, 0);
	all = t_merge(self->dev, CTXFD_MERGE_ALL, roots, NR_FANIN, 0);
	ASSERT_LE(0, any);
	ASSERT_LE(0, all);
	any_child = t_child(any, 0);
	ASSERT_LE(0, any_child);

	for (i = 0; i < NR_FANIN; i++)
		order[i] = i;
	t_shuffle(order, NR_FANIN, 0x64);
	for (i = 0; i < NR_FANIN; i++) {
		int r = order[i];

		start = t_now_ns(CLOCK_MONOTONIC);
		ASSERT_EQ(0, t_cancel(roots[r], 100 + r, NULL));
		if (i == 0 || i == NR_FANIN - 1)
			TH_LOG("cancel of tree %d (%s): %.1f ms", r,
			       i ? "the last" : "the first", ms_since(start));
		EXPECT_TRUE(t_readable(leaves[r], 0));
		if (i == 0) {
			EXPECT_TRUE(t_readable(any, 0));
			EXPECT_TRUE(t_readable(any_child, 0));
			ASSERT_EQ(0, t_info(any_child, &info));
			EXPECT_EQ(100 + r, info.cause_code);
		}
		if (i < NR_FANIN - 1)
			ASSERT_FALSE(t_readable(all, 0)) TH_LOG("after %d", i);
	}
	EXPECT_TRUE(t_readable(all, 0));
	ASSERT_EQ(0, t_info(all, &info));
	EXPECT_EQ(100 + order[NR_FANIN - 1], info.cause_code);
	ASSERT_EQ(0, t_info(any, &info));
	EXPECT_EQ(100 + order[0], info.cause_code);

	close(any_child);
	close(any);
	close(all);
	for (i = 0; i < NR_FANIN; i++) {
		close(roots[i]);
		close(leaves[i]);
	}
	expect_all_freed(_metadata, self);
}

/* ---- races ------------------------------------------------------------------ */

#define NR_RACE_PARENTS	4

/*
 * A two-thread barrier that spins, so that both sides leave it within
 * nanoseconds of each other; yields now and then for a single CPU.
 */
struct barrier2 {
	unsigned int arrived;
	unsigned int generation;
};

static void barrier2_wait(struct barrier2 *b)
{
	unsigned int gen = __atomic_load_n(&b->generation, __ATOMIC_ACQUIRE);
	unsigned int n = 0;

	if (__atomic_add_fetch(&b->arrived, 1, __ATOMIC_ACQ_REL) == 2) {
		__atomic_store_n(&b->arrived, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&b->generation, gen + 1, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&b->generation, __ATOMIC_ACQUIRE) == gen)
		if (++n % 256 == 0)
			sched_yield();
}

static void spin(unsigned int n)
{
	volatile unsigned int i;

	for (i = 0; i < n; i++)
		;
}

/* The canceler: each round, after a random spin, cancels its parents. */
struct canceler {
	struct barrier2 go, done;
	int parents[NR_RACE_PARENTS];
	int nr_cancel;		/* how many parents to cancel this round */
	unsigned int spin;
	volatile int stop;
	int failures;
};

static void *canceler_main(void *arg)
{
	struct canceler *c = arg;
	int i;

	t_pin_cpu(0);
	for (;;) {
		barrier2_wait(&c->go);
		if (c->stop)
			break;
		spin(c->spin);
		for (i = 0; i < c->nr_cancel; i++)
			if (t_cancel(c->parents[i], 200 + i, NULL))
				c->failures++;
		barrier2_wait(&c->done);
	}
	return NULL;
}

FIXTURE(mrace) {
	int dev;
	struct canceler c;
	pthread_t thread;
	bool started;
	__u64 rng;
	long baseline;
};

FIXTURE_SETUP(mrace)
{
	self->dev = ctxfd_dev_or_skip();
	memset(&self->c, 0, sizeof(self->c));
	self->rng = 0x9e3779b97f4a7c15ULL;
	self->baseline = t_charges_available() ?
			 t_settled_charge(getuid()) : -1;
	ASSERT_EQ(0, pthread_create(&self->thread, NULL, canceler_main,
				    &self->c));
	self->started = true;
	t_pin_cpu(1);
}

FIXTURE_TEARDOWN(mrace)
{
	if (self->started) {
		self->c.stop = 1;
		barrier2_wait(&self->c.go);
		pthread_join(self->thread, NULL);
	}
	close(self->dev);
}

static void new_parents(struct __test_metadata *_metadata,
			FIXTURE_DATA(mrace) *self)
{
	int i;

	for (i = 0; i < NR_RACE_PARENTS; i++) {
		/* Parents in two trees, some deeper than others. */
		self->c.parents[i] = i % 2 ? t_child(self->c.parents[i - 1], 0) :
				     t_new(self->dev, 0);
		ASSERT_LE(0, self->c.parents[i]);
	}
}

static void close_parents(FIXTURE_DATA(mrace) *self)
{
	int i;

	for (i = NR_RACE_PARENTS - 1; i >= 0; i--)
		close(self->c.parents[i]);
}

static void expect_no_charge_left(struct __test_metadata *_metadata,
				  FIXTURE_DATA(mrace) *self)
{
	if (self->baseline < 0)
		return;
	EXPECT_EQ(self->baseline, t_wait_charged(getuid(), self->baseline,
						 30000));
}

TEST_F_TIMEOUT(mrace, release_while_parents_are_canceled, 600)
{
	int n = t_race_rounds(ROUNDS_RACE), r;
	__u64 start = t_now_ns(CLOCK_MONOTONIC);

	for (r = 0; r < n; r++) {
		__u32 mode = r % 2 ? CTXFD_MERGE_ALL : CTXFD_MERGE_ANY;
		int m, child;

		new_parents(_metadata, self);
		m = t_merge(self->dev, mode, self->c.parents, NR_RACE_PARENTS, 0);
		ASSERT_LE(0, m);
		/* Sometimes a child keeps it alive past the close. */
		child = r % 3 ? -1 : t_child(m, 0);
		self->c.nr_cancel = NR_RACE_PARENTS;
		self->c.spin = t_rand(&self->rng) % 4096;
		barrier2_wait(&self->c.go);
		spin(t_rand(&self->rng) % 4096);
		close(m);
		if (child >= 0)
			close(child);
		barrier2_wait(&self->c.done);
		close_parents(self);
	}
	EXPECT_EQ(0, self->c.failures);
	TH_LOG("%d rounds in %.0f ms", n, ms_since(start));
	expect_no_charge_left(_metadata, self);
}

TEST_F_TIMEOUT(mrace, created_while_parents_are_canceled_is_done_once_both_returned, 600)
{
	int n = t_race_rounds(ROUNDS_RACE), r, born_done = 0;
	__u64 start = t_now_ns(CLOCK_MONOTONIC);

	for (r = 0; r < n; r++) {
		__u32 mode = r % 2 ? CTXFD_MERGE_ALL : CTXFD_MERGE_ANY;
		struct ctxfd_info info;
		int m;

		new_parents(_metadata, self);
		/* ANY: one parent canceled is enough; ALL: all of them. */
		self->c.nr_cancel = mode == CTXFD_MERGE_ANY ? 1 : NR_RACE_PARENTS;
		self->c.spin = t_rand(&self->rng) % 8192;
		barrier2_wait(&self->c.go);
		spin(t_rand(&self->rng) % 4096);
		m = t_merge(self->dev, mode, self->c.parents, NR_RACE_PARENTS, 0);
		if (m >= 0 && t_err(m))
			born_done++;
		barrier2_wait(&self->c.done);
		ASSERT_LE(0, m);
		ASSERT_TRUE(t_readable(m, 0)) TH_LOG("round %d, mode %u", r, mode);
		ASSERT_EQ(0, t_info(m, &info));
		EXPECT_EQ(ECANCELED, info.err);
		EXPECT_EQ(CTXFD_VIA_PARENT, info.origin_via);
		if (mode == CTXFD_MERGE_ANY)
			EXPECT_EQ(200, info.cause_code);
		close(m);
		close_parents(self);
	}
	EXPECT_EQ(0, self->c.failures);
	TH_LOG("%d rounds in %.0f ms, %d born done", n, ms_since(start),
	       born_done);
	expect_no_charge_left(_metadata, self);
}

TEST_F_TIMEOUT(mrace, chained_merges_released_while_the_bottom_is_canceled, 600)
{
	int n = t_race_rounds(ROUNDS_RACE / 4), r, i;
	__u64 start = t_now_ns(CLOCK_MONOTONIC);

	for (r = 0; r < n; r++) {
		int chain[8], prev;

		new_parents(_metadata, self);
		prev = self->c.parents[0];
		for (i = 0; i < 8; i++) {
			int p[2] = { prev, self->c.parents[2 + i % 2] };

			chain[i] = t_merge(self->dev, i % 2 ? CTXFD_MERGE_ALL :
					   CTXFD_MERGE_ANY, p, 2, 0);
			ASSERT_LE(0, chain[i]);
			prev = chain[i];
		}
		self->c.nr_cancel = NR_RACE_PARENTS;
		self->c.spin = t_rand(&self->rng) % 8192;
		barrier2_wait(&self->c.go);
		spin(t_rand(&self->rng) % 4096);
		/* Release from the top down or the bottom up. */
		for (i = 0; i < 8; i++)
			close(chain[r % 2 ? i : 7 - i]);
		barrier2_wait(&self->c.done);
		close_parents(self);
	}
	EXPECT_EQ(0, self->c.failures);
	TH_LOG("%d rounds in %.0f ms", n, ms_since(start));
	expect_no_charge_left(_metadata, self);
}

TEST_HARNESS_MAIN
