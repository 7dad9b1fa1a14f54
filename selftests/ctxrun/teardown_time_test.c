// SPDX-License-Identifier: GPL-2.0
/*
 * How long it takes to tear down a 1 000-process tree, until every
 * process is reaped, three ways, with zero survivors each time:
 *
 *  - ATTACH: a subreaper supervisor attached to a context with
 *    CTXFD_ATTACH_DESCENDANTS_ONLY and SIGKILL; the clock runs from the
 *    cancel to the supervisor's last reap;
 *  - ctxrun -s KILL: from the cancel of the context ctxrun inherited to
 *    ctxrun's exit (it exits once it has reaped everything);
 *  - kill -- -PGID: the same supervisor, the tree in a process group of
 *    its own, SIGKILL to the group.
 *
 * The figures are printed (medians of ROUNDS rounds); the test asserts
 * only that nothing survives.
 */
#define _GNU_SOURCE
#include "kselftest_harness.h"
#include "ctxfd_test.h"
#include "ctxrun_test.h"

#define TREE	1000
#define FANOUT	10
#define ROUNDS	5

enum { TAG_REAPED = 'E' };	/* the supervisor reaped all at val */

/*
 * A subreaper that grows a tree of TREE processes below it (its root in
 * a process group of its own) and reaps until nothing is left, then
 * reports when.
 */
static pid_t spawn_tree_supervisor(int rep)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	if (dup2(rep, REP_FD) < 0 || t_subreaper())
		_exit(120);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		h_tree(TREE, FANOUT);
	}
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	rep_val(TAG_REAPED, (long long)t_now_ns(CLOCK_MONOTONIC));
	_exit(0);
}

/* Read the TREE node records; the pid of the tree's root (node 0). */
static pid_t wait_tree(int fd)
{
	static struct rec r[TREE];
	pid_t root = -1;
	int i, n = get_recs(fd, r, TREE, 120000);

	if (n != TREE)
		return -1;
	for (i = 0; i < n; i++)
		if (r[i].tag == TAG_NODE && r[i].val == 0)
			root = r[i].pid;
	return root;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* Sort @ns; its median and minimum in milliseconds. */
static void stats_ms(long long *ns, double *median, double *min)
{
	qsort(ns, ROUNDS, sizeof(*ns), cmp_ll);
	*median = (double)ns[ROUNDS / 2] / 1e6;
	*min = (double)ns[0] / 1e6;
}

FIXTURE(tt) {
	int rep[2];
	int dev;
};

FIXTURE_SETUP(tt)
{
	ctxrun_or_skip();
	self->dev = ctxfd_dev_or_skip();
	ASSERT_EQ(0, pipe2(self->rep, O_CLOEXEC));
	ASSERT_EQ(0, t_subreaper());
}

FIXTURE_TEARDOWN(tt)
{
	t_kill_descendants(60000);
	close(self->rep[0]);
	close(self->rep[1]);
	close(self->dev);
}

/* One round of the supervisor ways; the time from @kill to the last reap. */
static long long round_supervisor(struct __test_metadata *_metadata,
				  FIXTURE_DATA(tt) *self, bool attach)
{
	pid_t super = spawn_tree_supervisor(self->rep[1]), root;
	int ctx = -1;
	struct rec r;
	__u64 start;

	ASSERT_LT(0, super);
	root = wait_tree(self->rep[0]);
	ASSERT_LT(0, root);
	ASSERT_EQ(TREE, t_live_descendants(super, 0, NULL, 0));
	if (attach) {
		ctx = t_new(self->dev, 0);
		ASSERT_LE(0, ctx);
		ASSERT_EQ(0, t_attach(ctx, super, SIGKILL, 0,
				      CTXFD_ATTACH_DESCENDANTS_ONLY));
		start = t_now_ns(CLOCK_MONOTONIC);
		ASSERT_EQ(0, t_cancel(ctx, 0, NULL));
	} else {
		start = t_now_ns(CLOCK_MONOTONIC);
		ASSERT_EQ(0, kill(-root, SIGKILL));
	}
	ASSERT_EQ(1, get_recs(self->rep[0], &r, 1, 120000));
	ASSERT_EQ(TAG_REAPED, r.tag);
	EXPECT_EQ(0, wait_exit(super, 10000));
	EXPECT_EQ(0, t_live_descendants(getpid(), 0, NULL, 0));
	if (ctx >= 0)
		close(ctx);
	return r.val - (long long)start;
}

/*
 * One round of ctxrun -s KILL: from the cancel of its inherited context
 * until it exits.
 */
static long long round_ctxrun(struct __test_metadata *_metadata,
			      FIXTURE_DATA(tt) *self)
{
	char tree[16], fanout[16];
	char *argv[] = { (char *)ctxrun_path(), "-s", "KILL", "--",
			 (char *)self_exe(), "--helper", "tree", tree, fanout,
			 NULL };
	int ctx = t_new(self->dev, 0), w = t_watch(ctx, 0);
	struct how how = { .rep = self->rep[1], .ctx = w, .err = -1,
			   .out = -1, .shm = -1 };
	pid_t pid, root;
	__u64 start;

	ASSERT_LE(0, w);
	snprintf(tree, sizeof(tree), "%d", TREE);
	snprintf(fanout, sizeof(fanout), "%d", FANOUT);
	pid = start_prog(&how, argv);
	ASSERT_LT(0, pid);
	root = wait_tree(self->rep[0]);
	ASSERT_LT(0, root);
	ASSERT_EQ(TREE, t_live_descendants(pid, 0, NULL, 0));
	start = t_now_ns(CLOCK_MONOTONIC);
	ASSERT_EQ(0, t_cancel(ctx, 0, NULL));
	EXPECT_EQ(128 + SIGKILL, wait_exit(pid, 120000));
	start = t_now_ns(CLOCK_MONOTONIC) - start;
	EXPECT_EQ(0, t_live_descendants(getpid(), 0, NULL, 0));
	close(w);
	close(ctx);
	return (long long)start;
}

TEST_F_TIMEOUT(tt, tear_down_1000_processes, 1200)
{
	long long attach[ROUNDS], ctxrun[ROUNDS], pgid[ROUNDS];
	double med[3], min[3];
	int i;

	for (i = 0; i < ROUNDS; i++) {
		attach[i] = round_supervisor(_metadata, self, true);
		ctxrun[i] = round_ctxrun(_metadata, self);
		pgid[i] = round_supervisor(_metadata, self, false);
		TH_LOG("round %d: ATTACH %.1f ms, ctxrun %.1f ms, kill -PGID %.1f ms",
		       i, attach[i] / 1e6, ctxrun[i] / 1e6, pgid[i] / 1e6);
	}
	stats_ms(attach, &med[0], &min[0]);
	stats_ms(ctxrun, &med[1], &min[1]);
	stats_ms(pgid, &med[2], &min[2]);
	TH_LOG("teardown of %d processes until all reaped, 0 survivors, median (min) of %d: "
		       "ATTACH %.1f (%.1f) ms, ctxrun -s KILL %.1f (%.1f) ms, kill -- -PGID %.1f (%.1f) ms",
		       TREE, ROUNDS, med[0], min[0], med[1], min[1], med[2],
		       min[2]);
}

TEST_HARNESS_MAIN
