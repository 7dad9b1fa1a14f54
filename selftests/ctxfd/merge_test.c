// SPDX-License-Identifier: GPL-2.0
/*
 * Merged contexts (CTXFD_IOC_MERGE): contexts with several parents.
 *
 *  - ANY: done with the first parent done, with its err, cause and
 *    origin (reported via CTXFD_VIA_PARENT); later parents change
 *    nothing. ALL: done with the last one, with its cause.
 *  - Born done when the mode's condition holds already, with the cause
 *    of the parent done first (ANY) or last (ALL).
 *  - Deadlines: the earliest (ANY), the latest or none (ALL), and an
 *    own one; a parent's timer reaches the merged context.
 *  - The cancel that makes a merged context done has made it, its
 *    subtree and merged contexts downstream done, and woken their
 *    pollers, before it returns: across trees, across processes, from
 *    the CANCEL ioctl, a deadline and the close of a last cancel fd.
 *  - It is a context like any: own cancel, cancel on close, children,
 *    values (lookups follow the first parent), watch-only parents.
 *  - INFO, CTXFD_IOC_PARENTS and fdinfo report mode and parents.
 *  - Releasing it detaches it from its parents: no charge is left, and
 *    a parent canceled afterwards finds nothing.
 *  - Every bad input is refused and changes nothing.
 */
#include "kselftest_harness.h"
#include "ctxfd_test.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

/* CTXFD_IOC_MERGE on @on with @n parents @fds; the fd or -1. */
static int t_merge_on(int on, __u32 mode, const int *fds, __u32 n, __u64 flags)
{
	struct ctxfd_merge args = {
		.flags = flags,
		.parents = (uintptr_t)fds,
		.nr_parents = n,
		.mode = mode,
	};

	return ioctl(on, CTXFD_IOC_MERGE, &args);
}

static int t_merge_args(int on, struct ctxfd_merge *args)
{
	return ioctl(on, CTXFD_IOC_MERGE, args);
}

/* CTXFD_IOC_PARENTS into @ids (capacity @cap); 0 or -1. */
static int t_parents(int fd, __u64 *ids, __u32 cap, struct ctxfd_parents *out)
{
	struct ctxfd_parents args = {
		.ids = (uintptr_t)(cap ? ids : NULL),
		.nr_ids = cap,
	};
	int ret = ioctl(fd, CTXFD_IOC_PARENTS, &args);

	if (out)
		*out = args;
	return ret;
}

FIXTURE(merge) {
	int dev;
	int a, b, c;	/* three roots, three trees */
};

FIXTURE_SETUP(merge)
{
	self->dev = ctxfd_dev_or_skip();
	self->a = t_new(self->dev, 0);
	self->b = t_new(self->dev, 0);
	self->c = t_new(self->dev, 0);
	ASSERT_LE(0, self->a);
	ASSERT_LE(0, self->b);
	ASSERT_LE(0, self->c);
}

FIXTURE_TEARDOWN(merge)
{
	close(self->a);
	close(self->b);
	close(self->c);
	close(self->dev);
}

static int merge3(FIXTURE_DATA(merge) *self, __u32 mode)
{
	int fds[] = { self->a, self->b, self->c };

	return t_merge_on(self->dev, mode, fds, 3, 0);
}

TEST_F(merge, any_is_done_with_the_first_parent_its_err_cause_and_origin)
{
	struct ctxfd_info info, pinfo;
	int m = merge3(self, CTXFD_MERGE_ANY);

	ASSERT_LE(0, m);
	ASSERT_EQ(0, t_info(m, &info));
	EXPECT_EQ(0, info.err);
	EXPECT_FALSE(t_readable(m, 0));

	ASSERT_EQ(0, t_cancel(self->b, 42, "b went first"));
	/* Done, and pollable, the moment the cancel returned. */
	EXPECT_TRUE(t_readable(m, 0));
	ASSERT_EQ(0, t_info(m, &info));
	ASSERT_EQ(0, t_info(self->b, &pinfo));
	EXPECT_EQ(ECANCELED, info.err);
	EXPECT_EQ(42, info.cause_code);
	EXPECT_STREQ("b went first", info.cause_msg);
	EXPECT_EQ(CTXFD_REASON_CANCEL, info.reason);
	EXPECT_EQ(CTXFD_VIA_PARENT, info.origin_via);
	EXPECT_EQ(pinfo.id, info.origin_id);
	EXPECT_EQ(getpid(), info.origin_pid);
	EXPECT_EQ(pinfo.done_time_ns, info.done_time_ns);

	/* Later parents change nothing. */
	ASSERT_EQ(0, t_cancel(self->a, 7, "a came second"));
	ASSERT_EQ(0, t_info(m, &info));
	EXPECT_EQ(42, info.cause_code);
	EXPECT_STREQ("b went first", info.cause_msg);
	close(m);
}

/*
 * A merged context borrows the origin and cause of the parent it was done
 * with, which its merge link keeps alive: they must read intact after
 * the parent's fds are all gone (and touch no freed memory on the debug
 * kernel), for the merged context and for its children.
 */
TEST_F(merge, origin_and_cause_outlive_the_parents_fds)
{
	struct ctxfd_info info;
	int m = merge3(self, CTXFD_MERGE_ANY), k;
	__u64 b_id = t_id(self->b);

	ASSERT_LE(0, m);
	k = t_child(m, 0);
	ASSERT_LE(0, k);
	ASSERT_EQ(0, t_cancel(self->b, 5, "b, closed at once"));
	close(self->b);
	self->b = t_new(self->dev, 0);	/* for the teardown */
	for (int i = 0; i < 64; i++)
		close(t_child(t_new(self->dev, 0), 0));

	ASSERT_EQ(0, t_info(m, &info));
	EXPECT_EQ(5, info.cause_code);
	EXPECT_STREQ("b, closed at once", info.cause_msg);
	EXPECT_EQ(CTXFD_VIA_PARENT, info.origin_via);
	EXPECT_EQ(b_id, info.origin_id);
	ASSERT_EQ(0, t_info(k, &info));
	EXPECT_EQ(5, info.cause_code);
	EXPECT_STREQ("b, closed at once", info.cause_msg);
	EXPECT_EQ(CTXFD_VIA_ANCESTOR, info.origin_via);
	EXPECT_EQ(b_id, info.origin_id);
	close(m);
	/* The child now holds the merged context, which holds b. */
	ASSERT_EQ(0, t_info(k, &info));
	EXPECT_STREQ("b, closed at once", info.cause_msg);
	close(k);
}

TEST_F(merge, all_is_done_with_the_last_parent_and_its_cause)
{
	struct ctxfd_info info, cinfo;
	int m = merge3(self, CTXFD_MERGE_ALL);

	ASSERT_LE(0, m);
	ASSERT_EQ(0, t_cancel(self->c, 1, "c"));
	EXPECT_FALSE(t_readable(m, 0));
	ASSERT_EQ(0, t_cancel(self->a, 2, "a"));
	EXPECT_FALSE(t_readable(m, 0));
	EXPECT_EQ(0, t_err(m));
	ASSERT_EQ(0, t_cancel(self->b, 3, "b, the last"));
	EXPECT_TRUE(t_readable(m, 0));
	ASSERT_EQ(0, t_info(m, &info));
	ASSERT_EQ(0, t_info(self->b, &cinfo));
	EXPECT_EQ(ECANCELED, info.err);
	EXPECT_EQ(3, info.cause_code);
	EXPECT_STREQ("b, the last", info.cause_msg);
	EXPECT_EQ(CTXFD_VIA_PARENT, info.origin_via);
	EXPECT_EQ(cinfo.id, info.origin_id);
	close(m);
}

TEST_F(merge, any_is_born_done_with_the_parent_done_first)
{
	struct ctxfd_info info, binfo;
	/* c is done after b, but comes before it in the array. */
	int fds[3] = { self->a, self->c, self->b }, m;

	ASSERT_EQ(0, t_cancel(self->b, 5, "b first"));
	usleep(2000);
	ASSERT_EQ(0, t_cancel(self->c, 6, "c later"));
	m = t_merge_on(self->dev, CTXFD_MERGE_ANY, fds, 3, 0);
	ASSERT_LE(0, m);
	EXPECT_TRUE(t_readable(m, 0));
	ASSERT_EQ(0, t_info(m, &info));
	ASSERT_EQ(0, t_info(self->b, &binfo));
	EXPECT_EQ(5, info.cause_code);
	EXPECT_STREQ("b first", info.cause_msg);
	EXPECT_EQ(binfo.id, info.origin_id);
	EXPECT_EQ(CTXFD_VIA_PARENT, info.origin_via);
	close(m);
}

TEST_F(merge, all_is_born_done_with_the_parent_done_last)
{
	struct ctxfd_info info;
	/* b is done last, in the middle of the array. */
	int fds[3] = { self->a, self->b, self->c }, m;

	ASSERT_EQ(0, t_cancel(self->a, 1, "a"));
	usleep(2000);
	ASSERT_EQ(0, t_cancel(self->c, 3, "c"));
	usleep(2000);
	ASSERT_EQ(0, t_cancel(self->b, 2, "b, the last"));
	m = t_merge_on(self->dev, CTXFD_MERGE_ALL, fds, 3, 0);
	ASSERT_LE(0, m);
	EXPECT_TRUE(t_readable(m, 0));
	ASSERT_EQ(0, t_info(m, &info));
	EXPECT_EQ(2, info.cause_code);
	EXPECT_STREQ("b, the last", info.cause_msg);
	close(m);
}

TEST_F(merge, all_counts_parents_done_before_it_was_made)
{
	int m;

	ASSERT_EQ(0, t_cancel(self->a, 1, "a"));
	ASSERT_EQ(0, t_cancel(self->c, 3, "c"));
	m = merge3(self, CTXFD_MERGE_ALL);
	ASSERT_LE(0, m);
	EXPECT_EQ(0, t_err(m));
	ASSERT_EQ(0, t_cancel(self->b, 2, "b"));
	EXPECT_TRUE(t_readable(m, 0));
	EXPECT_EQ(ECANCELED, t_err(m));
	close(m);
}

TEST_F(merge, one_parent_behaves_like_a_child_in_a_tree_of_its_own)
{
	int fds[1] = { self->a }, any, all;
	struct ctxfd_info info;

	any = t_merge_on(self->dev, CTXFD_MERGE_ANY, fds, 1, 0);
	all = t_merge_on(self->dev, CTXFD_MERGE_ALL, fds, 1, 0);
	ASSERT_LE(0, any);
	ASSERT_LE(0, all);
	/* Not a child: the parent's children do not count it. */
	EXPECT_EQ(0, t_nr_children(self->a));
	ASSERT_EQ(0, t_cancel(self->a, 9, NULL));
	ASSERT_EQ(0, t_info(any, &info));
	EXPECT_EQ(9, info.cause_code);
	ASSERT_EQ(0, t_info(all, &info));
	EXPECT_EQ(9, info.cause_code);
	close(any);
	close(all);
}

TEST_F(merge, info_parents_and_fdinfo_show_mode_and_parents)
{
	__u64 ids[4] = { 0 };
	struct ctxfd_parents p;
	struct ctxfd_info info;
	char val[256], want[256];
	int m = merge3(self, CTXFD_MERGE_ALL), any, child;
	int fds[2] = { self->c, self->a };

	ASSERT_LE(0, m);
	ASSERT_EQ(0, t_info(m, &info));
	EXPECT_EQ(t_id(self->a), info.parent_id);
	EXPECT_EQ(1, info.depth);
	EXPECT_TRUE(info.flags & CTXFD_INFO_MERGE_ALL);
	EXPECT_FALSE(info.flags & CTXFD_INFO_MERGE_ANY);
	EXPECT_TRUE(info.flags & CTXFD_INFO_CAN_CANCEL);

	ASSERT_EQ(0, t_parents(m, ids, 4, &p));
	EXPECT_EQ(3, p.nr_ids);
	EXPECT_EQ(CTXFD_MERGE_ALL, p.mode);
	EXPECT_EQ(0, p.nr_done);
	EXPECT_EQ(t_id(self->a), ids[0]);
	EXPECT_EQ(t_id(self->b), ids[1]);
	EXPECT_EQ(t_id(self->c), ids[2]);

	/* Too small: ERANGE and how many are needed. */
	EXPECT_EQ(-1, t_parents(m, ids, 2, &p));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(3, p.nr_ids);
	EXPECT_EQ(-1, t_parents(m, NULL, 0, &p));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(3, p.nr_ids);

	ASSERT_EQ(0, t_cancel(self->b, 0, NULL));
	ASSERT_EQ(0, t_parents(m, ids, 4, &p));
	EXPECT_EQ(1, p.nr_done);

	EXPECT_EQ(1, t_fdinfo(0, m, "ctxfd-merge", val, sizeof(val)));
	EXPECT_STREQ("all", val);
	EXPECT_EQ(1, t_fdinfo(0, m, "ctxfd-kind", val, sizeof(val)));
	EXPECT_STREQ("merge", val);
	EXPECT_EQ(1, t_fdinfo(0, m, "ctxfd-cancel-on-close", val, sizeof(val)));
	EXPECT_STREQ("yes", val);
	snprintf(want, sizeof(want), "%llu %llu %llu",
		 (unsigned long long)ids[0], (unsigned long long)ids[1],
		 (unsigned long long)ids[2]);
	EXPECT_EQ(1, t_fdinfo(0, m, "ctxfd-parents", val, sizeof(val)));
	EXPECT_STREQ(want, val);
	EXPECT_EQ(1, t_fdinfo(0, m, "ctxfd-parents-done", val, sizeof(val)));
	EXPECT_STREQ("1", val);

	any = t_merge_on(m, CTXFD_MERGE_ANY, fds, 2, 0);	/* on a context fd */
	ASSERT_LE(0, any);
	ASSERT_EQ(0, t_info(any, &info));
	EXPECT_TRUE(info.flags & CTXFD_INFO_MERGE_ANY);
	EXPECT_EQ(t_id(self->c), info.parent_id);
	EXPECT_EQ(1, t_fdinfo(0, any, "ctxfd-merge", val, sizeof(val)));
	EXPECT_STREQ("any", val);

	/* Ordinary contexts: one parent or none, no merge lines. */
	ASSERT_EQ(0, t_parents(self->a, ids, 4, &p));
	EXPECT_EQ(0, p.nr_ids);
	EXPECT_EQ(0, p.mode);
	EXPECT_EQ(0, t_fdinfo(0, self->a, "ctxfd-merge", val, sizeof(val)));
	child = t_child(self->a, 0);
	ASSERT_LE(0, child);
	ASSERT_EQ(0, t_parents(child, ids, 4, &p));
	EXPECT_EQ(1, p.nr_ids);
	EXPECT_EQ(t_id(self->a), ids[0]);
	close(child);
	close(any);
	close(m);
}

TEST_F(merge, deadline_is_the_earliest_for_any_and_the_latest_for_all)
{
	int d1 = t_child_timeout(self->a, 3600LL * 1000000000);
	int d2 = t_child_timeout(self->b, 7200LL * 1000000000);
	struct ctxfd_info i1, i2, info;
	int fds[2] = { d2, d1 }, any, all, none, child;
	int nodl[2] = { d1, self->c };

	ASSERT_LE(0, d1);
	ASSERT_LE(0, d2);
	ASSERT_EQ(0, t_info(d1, &i1));
	ASSERT_EQ(0, t_info(d2, &i2));

	any = t_merge_on(self->dev, CTXFD_MERGE_ANY, fds, 2, 0);
	all = t_merge_on(self->dev, CTXFD_MERGE_ALL, fds, 2, 0);
	none = t_merge_on(self->dev, CTXFD_MERGE_ALL, nodl, 2, 0);
	ASSERT_LE(0, any);
	ASSERT_LE(0, all);
	ASSERT_LE(0, none);

	ASSERT_EQ(0, t_info(any, &info));
	EXPECT_TRUE(info.flags & CTXFD_INFO_HAS_DEADLINE);
	EXPECT_FALSE(info.flags & CTXFD_INFO_OWN_TIMER);
	EXPECT_EQ(i1.deadline_ns, info.deadline_ns);
	ASSERT_EQ(0, t_info(all, &info));
	EXPECT_TRUE(info.flags & CTXFD_INFO_HAS_DEADLINE);
	EXPECT_EQ(i2.deadline_ns, info.deadline_ns);
	ASSERT_EQ(0, t_info(none, &info));
	EXPECT_FALSE(info.flags & CTXFD_INFO_HAS_DEADLINE);

	/* ANY ignores a parent without deadline. */
	close(any);
	any = t_merge_on(self->dev, CTXFD_MERGE_ANY, nodl, 2, 0);
	ASSERT_LE(0, any);
	ASSERT_EQ(0, t_info(any, &info));
	EXPECT_EQ(i1.deadline_ns, info.deadline_ns);

	/* Children inherit the merged deadline. */
	child = t_child(all, 0);
	ASSERT_LE(0, child);
	ASSERT_EQ(0, t_info(child, &info));
	EXPECT_EQ(i2.deadline_ns, info.deadline_ns);
	close(child);
	close(any);
	close(all);
	close(none);
	close(d1);
	close(d2);
}

TEST_F(merge, own_deadline_earlier_than_the_parents_gets_a_timer)
{
	int d1 = t_child_timeout(self->a, 3600LL * 1000000000);
	int fds[2] = { d1, self->b }, m;
	struct ctxfd_merge args = {
		.flags = CTXFD_CREATE_TIMEOUT,
		.parents = (uintptr_t)fds,
		.nr_parents = 2,
		.mode = CTXFD_MERGE_ANY,
		.deadline_ns = 30 * 1000000LL,
		.clockid = CLOCK_MONOTONIC,
		.deadline_cause = { .code = 77, .msg_len = 4,
				    .msg = (uintptr_t)"mine" },
	};
	struct ctxfd_info info;

	ASSERT_LE(0, d1);
	m = t_merge_args(self->dev, &args);
	ASSERT_LE(0, m);
	ASSERT_EQ(0, t_info(m, &info));
	EXPECT_TRUE(info.flags & CTXFD_INFO_OWN_TIMER);
	EXPECT_TRUE(t_readable(m, 10000));
	ASSERT_EQ(0, t_info(m, &info));
	EXPECT_EQ(ETIMEDOUT, info.err);
	EXPECT_EQ(77, info.cause_code);
	EXPECT_STREQ("mine", info.cause_msg);
	EXPECT_EQ(CTXFD_VIA_SELF, info.origin_via);
	EXPECT_EQ(CTXFD_REASON_DEADLINE, info.reason);
	EXPECT_EQ(0, t_err(d1));	/* parents untouched */
	close(m);

	/* A deadline in the past: born done. */
	args.deadline_ns = 0;
	m = t_merge_args(self->dev, &args);
	ASSERT_LE(0, m);
	EXPECT_EQ(ETIMEDOUT, t_err(m));
	close(m);
	close(d1);
}

/*
 * A parent's 1 ms deadline fires while the merged context is being made:
 * the timer finishes a parent without merge links at once, in its
 * interrupt, and the merge publishes its link against it under the
 * parent's wait queue lock. Either the merge sees the parent done (born
 * done) or the timer sees the link (the walk reaches it): the merged
 * context is never left active under a timed-out parent.
 */
TEST_F_TIMEOUT(merge, merge_racing_a_parents_deadline_is_done_with_it, 300)
{
	int i, born = 0;

	for (i = 0; i < 500; i++) {
		int d = t_child_timeout(self->a, 1000000), m;
		int fds[2] = { self->b, d };
		struct ctxfd_info info;
		__u64 until;

		ASSERT_LE(0, d);
		until = t_now_ns(CLOCK_MONOTONIC) + (i % 20) * 100000;
		while (t_now_ns(CLOCK_MONOTONIC) < until)
			;
		m = t_merge_on(self->dev, CTXFD_MERGE_ANY, fds, 2, 0);
		ASSERT_LE(0, m);
		born += t_readable(m, 0);
		ASSERT_TRUE(t_readable(m, 10000))
			TH_LOG("round %d: the merged context missed its parent's deadline",
			       i);
		ASSERT_EQ(0, t_info(m, &info));
		ASSERT_EQ(ETIMEDOUT, info.err);
		ASSERT_EQ(CTXFD_VIA_PARENT, info.origin_via);
		close(m);
		close(d);
	}
	TH_LOG("%d of 500 merged contexts done when the merge returned", born);
}

TEST_F(merge, a_parents_deadline_reaches_the_merged_context)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_TIMEOUT,
		.deadline_ns = 20 * 1000000LL,
		.clockid = CLOCK_MONOTONIC,
		.deadline_cause = { .code = 3, .msg_len = 4,
				    .msg = (uintptr_t)"slow" },
	};
	int d = ioctl(self->a, CTXFD_IOC_CREATE, &args);
	int fds[2] = { self->b, d }, m, child;
	struct ctxfd_info info;

	ASSERT_LE(0, d);
	m = t_merge_on(self->dev, CTXFD_MERGE_ANY, fds, 2, 0);
	ASSERT_LE(0, m);
	child = t_child(m, 0);
	ASSERT_LE(0, child);
	/* m's subtree is finished from the leaves up: m is done last. */
	ASSERT_TRUE(t_readable(m, 10000));
	ASSERT_EQ(0, t_info(m, &info));
	EXPECT_EQ(ETIMEDOUT, info.err);
	EXPECT_EQ(3, info.cause_code);
	EXPECT_STREQ("slow", info.cause_msg);
	EXPECT_EQ(CTXFD_REASON_DEADLINE, info.reason);
	EXPECT_EQ(CTXFD_VIA_PARENT, info.origin_via);
	ASSERT_EQ(0, t_info(child, &info));
	EXPECT_EQ(ETIMEDOUT, info.err);
	EXPECT_EQ(CTXFD_VIA_ANCESTOR, info.origin_via);
	close(child);
	close(m);
	close(d);
}

TEST_F(merge, cancel_reaches_merged_subtree_and_merges_downstream_before_it_returns)
{
	int deep = self->a, i, m1, m2, m1child, m2child;
	int chain[20];
	int fds[2];
	struct ctxfd_info info;

	/* The parent is a node 20 deep in a's tree. */
	for (i = 0; i < 20; i++) {
		chain[i] = t_child(deep, 0);
		ASSERT_LE(0, chain[i]);
		deep = chain[i];
	}
	fds[0] = self->b;
	fds[1] = deep;
	m1 = t_merge_on(self->dev, CTXFD_MERGE_ANY, fds, 2, 0);
	ASSERT_LE(0, m1);
	m1child = t_child(m1, 0);
	ASSERT_LE(0, m1child);
	fds[0] = self->c;
	fds[1] = m1child;
	m2 = t_merge_on(self->dev, CTXFD_MERGE_ANY, fds, 2, 0);
	ASSERT_LE(0, m2);
	m2child = t_child_value(m2, "k", "v", 1);
	ASSERT_LE(0, m2child);

	ASSERT_EQ(0, t_cancel(self->a, 11, "root of a"));
	EXPECT_TRUE(t_readable(m1, 0));
	EXPECT_TRUE(t_readable(m1child, 0));
	EXPECT_TRUE(t_readable(m2, 0));
	EXPECT_TRUE(t_readable(m2child, 0));
	ASSERT_EQ(0, t_info(m2child, &info));
	EXPECT_EQ(11, info.cause_code);
	EXPECT_STREQ("root of a", info.cause_msg);
	EXPECT_EQ(t_id(self->a), info.origin_id);
	EXPECT_EQ(CTXFD_VIA_ANCESTOR, info.origin_via);
	ASSERT_EQ(0, t_info(m2, &info));
	EXPECT_EQ(CTXFD_VIA_PARENT, info.origin_via);
	EXPECT_EQ(t_id(self->a), info.origin_id);
	/* The other parents are untouched. */
	EXPECT_EQ(0, t_err(self->b));
	EXPECT_EQ(0, t_err(self->c));
	close(m2child);
	close(m2);
	close(m1child);
	close(m1);
	for (i = 19; i >= 0; i--)
		close(chain[i]);
}

/* A poller blocked on the merged context is woken by a parent's cancel. */
static void *cancel_later(void *arg)
{
	int fd = *(int *)arg;

	usleep(50000);
	t_cancel(fd, 0, NULL);
	return NULL;
}

TEST_F(merge, a_blocked_poller_and_reader_are_woken)
{
	int m = merge3(self, CTXFD_MERGE_ANY);
	struct ctxfd_event ev;
	pthread_t th;

	ASSERT_LE(0, m);
	ASSERT_EQ(0, pthread_create(&th, NULL, cancel_later, &self->c));
	EXPECT_TRUE(t_readable(m, 10000));
	pthread_join(th, NULL);
	close(m);

	m = merge3(self, CTXFD_MERGE_ANY);	/* born done: c is done */
	ASSERT_LE(0, m);
	EXPECT_EQ((ssize_t)sizeof(ev), read(m, &ev, sizeof(ev)));
	EXPECT_EQ(ECANCELED, ev.err);
	close(m);
}

TEST_F(merge, merged_context_is_cancelable_and_canceled_on_close)
{
	int m = merge3(self, CTXFD_MERGE_ANY), child, watch;
	int fds[3] = { self->a, self->b, self->c };
	struct ctxfd_info info;

	ASSERT_LE(0, m);
	child = t_child(m, 0);
	ASSERT_LE(0, child);
	ASSERT_EQ(0, t_cancel(m, 8, "own cancel"));
	EXPECT_TRUE(t_readable(child, 0));
	ASSERT_EQ(0, t_info(m, &info));
	EXPECT_EQ(CTXFD_VIA_SELF, info.origin_via);
	EXPECT_EQ(8, info.cause_code);
	/* Parents are not affected. */
	EXPECT_EQ(0, t_err(self->a));
	EXPECT_EQ(0, t_err(self->b));
	EXPECT_EQ(0, t_err(self->c));
	close(child);
	close(m);

	/* Closing the last cancel fd cancels it (a watcher observes it). */
	m = merge3(self, CTXFD_MERGE_ALL);
	ASSERT_LE(0, m);
	watch = t_watch(m, 0);
	ASSERT_LE(0, watch);
	close(m);
	EXPECT_TRUE(t_readable(watch, 0));
	ASSERT_EQ(0, t_info(watch, &info));
	EXPECT_EQ(CTXFD_REASON_CLOSE, info.reason);
	close(watch);

	/* ... unless made with NO_CANCEL_ON_CLOSE. */
	m = t_merge_on(self->dev, CTXFD_MERGE_ANY, fds, 3,
		       CTXFD_CREATE_NO_CANCEL_ON_CLOSE | CTXFD_CREATE_NO_CLOEXEC);
	ASSERT_LE(0, m);
	EXPECT_FALSE(t_cloexec(m));
	watch = t_watch(m, 0);
	ASSERT_LE(0, watch);
	close(m);
	EXPECT_EQ(0, t_err(watch));
	ASSERT_EQ(0, t_cancel(self->a, 0, NULL));
	EXPECT_TRUE(t_readable(watch, 0));
	close(watch);
}

TEST_F(merge, closing_a_parents_last_cancel_fd_reaches_the_merged_context)
{
	int p = t_child(self->a, 0), w, m;
	int fds[2];
	struct ctxfd_info info;

	ASSERT_LE(0, p);
	w = t_watch(p, 0);
	ASSERT_LE(0, w);
	fds[0] = self->b;
	fds[1] = w;	/* a watch-only fd is enough */
	m = t_merge_on(self->dev, CTXFD_MERGE_ANY, fds, 2, 0);
	ASSERT_LE(0, m);
	EXPECT_TRUE(t_cloexec(m));
	close(p);
	EXPECT_TRUE(t_readable(m, 0));
	ASSERT_EQ(0, t_info(m, &info));
	EXPECT_EQ(CTXFD_REASON_CLOSE, info.reason);
	EXPECT_EQ(CTXFD_VIA_PARENT, info.origin_via);
	close(m);
	close(w);
}

TEST_F(merge, values_follow_the_first_parent)
{
	int va = t_child_value(self->a, "k", "from a", 6);
	int vb = t_child_value(self->b, "k", "from b", 6);
	int vb2 = t_child_value(vb, "only-b", "x", 1);
	int fds[2], m1, m2, child;
	char buf[16];
	__u32 len;

	ASSERT_LE(0, va);
	ASSERT_LE(0, vb);
	ASSERT_LE(0, vb2);
	fds[0] = va;
	fds[1] = vb2;
	m1 = t_merge_on(self->dev, CTXFD_MERGE_ANY, fds, 2, 0);
	fds[0] = vb2;
	fds[1] = va;
	m2 = t_merge_on(self->dev, CTXFD_MERGE_ANY, fds, 2, 0);
	ASSERT_LE(0, m1);
	ASSERT_LE(0, m2);

	len = sizeof(buf);
	ASSERT_EQ(0, t_lookup(m1, "k", buf, &len));
	EXPECT_EQ(6, len);
	EXPECT_EQ(0, memcmp(buf, "from a", 6));
	len = sizeof(buf);
	EXPECT_EQ(-1, t_lookup(m1, "only-b", buf, &len));
	EXPECT_EQ(ENOENT, errno);

	len = sizeof(buf);
	ASSERT_EQ(0, t_lookup(m2, "k", buf, &len));
	EXPECT_EQ(0, memcmp(buf, "from b", 6));
	child = t_child_value(m2, "c", "y", 1);
	ASSERT_LE(0, child);
	len = sizeof(buf);
	ASSERT_EQ(0, t_lookup(child, "only-b", buf, &len));
	EXPECT_EQ(0, memcmp(buf, "x", 1));
	close(child);
	close(m1);
	close(m2);
	close(vb2);
	close(vb);
	close(va);
}

TEST_F(merge, parents_across_processes)
{
	int sv[2], sync[2], m, remote, fds[2];
	struct ctxfd_info info;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, pipe2(sync, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The child's own tree; it sends a watch fd and cancels later. */
		int dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
		int root = t_new(dev, 0), w = t_watch(root, 0);

		if (root < 0 || w < 0 || t_send_fd(sv[1], w))
			_exit(1);
		close(w);
		if (!t_sync_wait(sv[1], 10000))
			_exit(2);
		if (t_cancel(root, 99, "remote process"))
			_exit(3);
		/* The merged context is done before our cancel returned. */
		t_sync_post(sync[1]);
		_exit(0);
	}
	remote = t_recv_fd(sv[0]);
	ASSERT_LE(0, remote);
	fds[0] = self->a;
	fds[1] = remote;
	m = t_merge_on(self->dev, CTXFD_MERGE_ANY, fds, 2, 0);
	ASSERT_LE(0, m);
	ASSERT_TRUE(t_sync_post(sv[0]));
	ASSERT_TRUE(t_sync_wait(sync[0], 10000));
	EXPECT_TRUE(t_readable(m, 0));
	ASSERT_EQ(0, t_info(m, &info));
	EXPECT_EQ(99, info.cause_code);
	EXPECT_STREQ("remote process", info.cause_msg);
	EXPECT_EQ(pid, info.origin_pid);
	EXPECT_EQ(0, t_wait_status(pid));
	close(m);
	close(remote);
	close(sv[0]);
	close(sv[1]);
	close(sync[0]);
	close(sync[1]);
}

TEST_F(merge, released_merge_is_detached_and_its_charges_given_back)
{
	int fds[3] = { self->a, self->b, self->c };
	long before;
	int i;

	if (!t_charges_available())
		CTXFD_SKIP("debugfs ctxfd/users not readable");
	before = t_settled_charge(getuid());
	for (i = 0; i < 200; i++) {
		int m = t_merge_on(self->dev, i % 2 ? CTXFD_MERGE_ALL :
				   CTXFD_MERGE_ANY, fds, 3, 0);
		int child;

		ASSERT_LE(0, m);
		child = t_child(m, 0);
		ASSERT_LE(0, child);
		close(m);	/* cancels it; the child keeps it alive */
		close(child);
	}
	EXPECT_EQ(before, t_wait_charged(getuid(), before, 5000));
	/* Parents canceled afterwards find no merged context left. */
	ASSERT_EQ(0, t_cancel(self->a, 0, NULL));
	ASSERT_EQ(0, t_cancel(self->b, 0, NULL));
	EXPECT_EQ(before, t_charged(getuid()));
}

/*
 * A merged context counts once as pending on each parent, as a child
 * does (its first parent too, once): a done parent is drained only
 * when the merged context is gone.
 */
TEST_F(merge, a_parent_is_drained_only_once_its_merged_context_is_released)
{
	int fds[2] = { self->a, self->b };
	struct pollfd p = { .fd = self->a, .events = POLLPRI };
	struct ctxfd_info i;
	int m;

	m = t_merge_on(self->dev, CTXFD_MERGE_ANY, fds, 2, 0);
	ASSERT_LE(0, m);
	ASSERT_EQ(0, t_info(self->a, &i));
	ASSERT_TRUE(i.mask & CTXFD_INFO_DRAIN);
	EXPECT_EQ(1, i.nr_pending);
	ASSERT_EQ(0, t_info(self->b, &i));
	EXPECT_EQ(1, i.nr_pending);

	ASSERT_EQ(0, t_cancel(self->a, 0, NULL));
	ASSERT_EQ(0, t_info(m, &i));
	EXPECT_TRUE(i.flags & CTXFD_INFO_DONE);
	ASSERT_EQ(0, t_info(self->a, &i));
	EXPECT_FALSE(i.flags & CTXFD_INFO_DRAINED);
	EXPECT_EQ(1, i.nr_pending);
	EXPECT_EQ(0, poll(&p, 1, 0));

	close(m);
	EXPECT_EQ(1, poll(&p, 1, 5000));
	EXPECT_TRUE(p.revents & POLLPRI);
	ASSERT_EQ(0, t_info(self->a, &i));
	EXPECT_TRUE(i.flags & CTXFD_INFO_DRAINED);
	EXPECT_EQ(0, i.nr_pending);
	ASSERT_EQ(0, t_info(self->b, &i));
	EXPECT_EQ(0, i.nr_pending);
}

TEST_F(merge, a_merge_with_64_parents_is_charged_more_than_one_unit)
{
	int fds[CTXFD_MERGE_MAX_PARENTS], i, m;
	long before, after;

	if (!t_charges_available())
		CTXFD_SKIP("debugfs ctxfd/users not readable");
	for (i = 0; i < CTXFD_MERGE_MAX_PARENTS; i++) {
		fds[i] = t_child(self->a, 0);
		ASSERT_LE(0, fds[i]);
	}
	before = t_settled_charge(getuid());
	m = t_merge_on(self->dev, CTXFD_MERGE_ALL, fds, CTXFD_MERGE_MAX_PARENTS, 0);
	ASSERT_LE(0, m);
	after = t_charged(getuid());
	TH_LOG("a merged context with 64 parents: %ld units", after - before);
	EXPECT_LT(1, after - before);
	ASSERT_EQ(0, t_cancel(self->a, 0, NULL));
	EXPECT_TRUE(t_readable(m, 0));
	close(m);
	for (i = 0; i < CTXFD_MERGE_MAX_PARENTS; i++)
		close(fds[i]);
	EXPECT_EQ(before - CTXFD_MERGE_MAX_PARENTS,
		  t_wait_charged(getuid(), before - CTXFD_MERGE_MAX_PARENTS, 5000));
}

TEST_F(merge, depth_limit_applies_along_the_first_parent)
{
	long long saved = t_param_get("max_depth");
	int child = t_child(self->a, 0), fds[2], m;

	if (geteuid() != 0 || saved < 0)
		CTXFD_SKIP("needs root to set max_depth");
	ASSERT_LE(0, child);
	ASSERT_EQ(0, t_param_set("max_depth", 1));
	fds[0] = child;		/* depth 1: a merge under it is depth 2 */
	fds[1] = self->b;
	m = t_merge_on(self->dev, CTXFD_MERGE_ANY, fds, 2, 0);
	EXPECT_EQ(-1, m);
	EXPECT_EQ(ELOOP, errno);
	fds[0] = self->b;	/* depth 0: fine */
	fds[1] = child;
	m = t_merge_on(self->dev, CTXFD_MERGE_ANY, fds, 2, 0);
	ASSERT_EQ(0, t_param_set("max_depth", (unsigned long long)saved));
	EXPECT_LE(0, m);
	close(m);
	close(child);
}

/* ---- bad input ------------------------------------------------------------ */

/* What a refused merge must leave as it was. */
static void expect_merge_refused(struct __test_metadata *_metadata,
				 FIXTURE_DATA(merge) *self,
				 struct ctxfd_merge *args, int want)
{
	int nfds = t_nr_fds(), ret;

	errno = 0;
	ret = t_merge_args(self->dev, args);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(want, errno) TH_LOG("errno %d (%s), want %d", errno,
				      strerror(errno), want);
	if (ret >= 0)
		close(ret);
	EXPECT_EQ(nfds, t_nr_fds());
	EXPECT_EQ(0, t_err(self->a));
	EXPECT_EQ(0, t_err(self->b));
	EXPECT_EQ(0, t_nr_children(self->a));
}

TEST_F(merge, no_parents_is_einval_and_too_many_e2big)
{
	int fds[CTXFD_MERGE_MAX_PARENTS + 1];
	struct ctxfd_merge args = {
		.parents = (uintptr_t)fds,
		.mode = CTXFD_MERGE_ANY,
	};
	int i;

	for (i = 0; i <= CTXFD_MERGE_MAX_PARENTS; i++) {
		fds[i] = t_child(self->c, 0);
		ASSERT_LE(0, fds[i]);
	}
	args.nr_parents = 0;
	expect_merge_refused(_metadata, self, &args, EINVAL);
	args.parents = 0;
	expect_merge_refused(_metadata, self, &args, EINVAL);
	args.parents = (uintptr_t)fds;
	args.nr_parents = CTXFD_MERGE_MAX_PARENTS + 1;
	expect_merge_refused(_metadata, self, &args, E2BIG);
	args.nr_parents = 0xffffffffu;
	expect_merge_refused(_metadata, self, &args, E2BIG);
	/* Exactly the bound works. */
	args.nr_parents = CTXFD_MERGE_MAX_PARENTS;
	i = t_merge_args(self->dev, &args);
	EXPECT_LE(0, i);
	close(i);
	for (i = 0; i <= CTXFD_MERGE_MAX_PARENTS; i++)
		close(fds[i]);
}

TEST_F(merge, duplicate_fds_and_duplicate_contexts_are_einval)
{
	int w = t_watch(self->b, 0), d = dup(self->a);
	int same_fd[3] = { self->a, self->b, self->a };
	int same_ctx[2] = { self->b, w };
	int dup_ctx[2] = { d, self->a };
	struct ctxfd_merge args = {
		.mode = CTXFD_MERGE_ALL,
		.nr_parents = 3,
		.parents = (uintptr_t)same_fd,
	};

	ASSERT_LE(0, w);
	ASSERT_LE(0, d);
	expect_merge_refused(_metadata, self, &args, EINVAL);
	args.nr_parents = 2;
	args.parents = (uintptr_t)same_ctx;
	expect_merge_refused(_metadata, self, &args, EINVAL);
	args.parents = (uintptr_t)dup_ctx;
	expect_merge_refused(_metadata, self, &args, EINVAL);
	close(w);
	close(d);
}

TEST_F(merge, foreign_and_closed_fds_are_ebadf)
{
	int efd = eventfd(0, EFD_CLOEXEC), closed = t_new(self->dev, 0);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int opath = open("/dev/ctxfd", O_PATH | O_CLOEXEC);
	int bad[] = { efd, self->dev, null, opath, closed, -1, 1 << 20 };
	int fds[2] = { self->a, -1 };
	struct ctxfd_merge args = {
		.mode = CTXFD_MERGE_ANY,
		.nr_parents = 2,
		.parents = (uintptr_t)fds,
	};
	size_t i;

	ASSERT_LE(0, efd);
	ASSERT_LE(0, closed);
	ASSERT_LE(0, null);
	ASSERT_LE(0, opath);
	close(closed);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fds[1] = bad[i];
		expect_merge_refused(_metadata, self, &args, EBADF);
		fds[0] = bad[i];	/* first too */
		fds[1] = self->a;
		expect_merge_refused(_metadata, self, &args, EBADF);
		fds[0] = self->a;
	}
	close(efd);
	close(null);
	close(opath);
}

TEST_F(merge, unknown_mode_flags_and_reserved_are_einval)
{
	int fds[2] = { self->a, self->b };
	struct ctxfd_merge args = {
		.nr_parents = 2,
		.parents = (uintptr_t)fds,
	};
	__u32 modes[] = { 0, 3, 4, 0x80000000u, 0xffffffffu };
	__u64 flags[] = { CTXFD_CREATE_VALUE, CTXFD_CREATE_WITHOUT_CANCEL,
			  1ULL << 6, 1ULL << 63,
			  CTXFD_CREATE_DEADLINE | CTXFD_CREATE_TIMEOUT };
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		args.mode = modes[i];
		expect_merge_refused(_metadata, self, &args, EINVAL);
	}
	args.mode = CTXFD_MERGE_ANY;
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		args.flags = flags[i];
		args.clockid = CLOCK_MONOTONIC;
		expect_merge_refused(_metadata, self, &args, EINVAL);
	}
	args.flags = 0;
	args.clockid = 0;
	args.__reserved0 = 1;
	expect_merge_refused(_metadata, self, &args, EINVAL);
	args.__reserved0 = 0;
	/* Deadline fields without a deadline flag; bad clock; bad cause. */
	args.deadline_ns = 5;
	expect_merge_refused(_metadata, self, &args, EINVAL);
	args.deadline_ns = 0;
	args.flags = CTXFD_CREATE_TIMEOUT;
	args.clockid = CLOCK_REALTIME;
	expect_merge_refused(_metadata, self, &args, EINVAL);
	args.clockid = CLOCK_MONOTONIC;
	args.deadline_ns = -1;
	expect_merge_refused(_metadata, self, &args, EINVAL);
	args.deadline_ns = 1000000000;
	args.deadline_cause.msg_len = CTXFD_CAUSE_MSG_MAX + 1;
	args.deadline_cause.msg = (uintptr_t)"x";
	expect_merge_refused(_metadata, self, &args, E2BIG);
}

TEST_F(merge, unreadable_parent_array_is_efault)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct ctxfd_merge args = {
		.mode = CTXFD_MERGE_ANY,
		.nr_parents = 2,
	};
	int *fds;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p + pg, pg));
	/* The second fd lies on the unmapped page. */
	fds = (int *)(p + pg) - 1;
	fds[0] = self->a;
	args.parents = (uintptr_t)fds;
	expect_merge_refused(_metadata, self, &args, EFAULT);
	args.parents = (uintptr_t)(p + pg);
	expect_merge_refused(_metadata, self, &args, EFAULT);
	munmap(p, pg);
}

TEST_F(merge, parents_ioctl_bad_input)
{
	struct ctxfd_parents args = { 0 };
	int fds[1] = { self->a }, m;
	__u64 ids[2];

	args.flags = 1;
	EXPECT_EQ(-1, ioctl(self->a, CTXFD_IOC_PARENTS, &args));
	EXPECT_EQ(EINVAL, errno);
	args.flags = 0;
	args.__reserved = 1;
	EXPECT_EQ(-1, ioctl(self->a, CTXFD_IOC_PARENTS, &args));
	EXPECT_EQ(EINVAL, errno);
	args.__reserved = 0;
	args.ids = (uintptr_t)ids;	/* a pointer without a size */
	EXPECT_EQ(-1, ioctl(self->a, CTXFD_IOC_PARENTS, &args));
	EXPECT_EQ(EINVAL, errno);
	/* PARENTS belongs to context fds. */
	args.ids = 0;
	EXPECT_EQ(-1, ioctl(self->dev, CTXFD_IOC_PARENTS, &args));
	EXPECT_EQ(ENOTTY, errno);
	m = t_merge_on(self->dev, CTXFD_MERGE_ANY, fds, 1, 0);
	ASSERT_LE(0, m);
	args.ids = (uintptr_t)8;	/* unwritable */
	args.nr_ids = 2;
	EXPECT_EQ(-1, ioctl(m, CTXFD_IOC_PARENTS, &args));
	EXPECT_EQ(EFAULT, errno);
	close(m);
}

TEST_HARNESS_MAIN
