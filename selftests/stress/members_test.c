// SPDX-License-Identifier: GPL-2.0
/*
 * What a process attachment costs, and whom: the members of an
 * attachment's tree are tracked as they fork (module/members.c), so
 *
 *  - the per-user charge of an attachment is one unit plus one per 8
 *    live members, whatever else runs on the system (thousands of
 *    unrelated processes change nothing), armed and through the grace
 *    period of a fired teardown;
 *  - their memory is charged to the attacher's memory cgroup, although
 *    the processes that fork them live in another;
 *  - members that exit while the attachment is armed are forgotten, so a
 *    long-lived tree that forks and reaps many short-lived children
 *    costs what its live processes cost.
 *
 * Root only (debugfs, cgroups). CTXFD_STRESS_SCALE scales the process
 * counts.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#define MS		1000000ull
#define GRACE		(60000 * MS)	/* longer than any test */

/* Per-user units of an attachment of @members processes. */
static long att_units(long members)
{
	return 1 + (members + 7) / 8;
}

/* Children that sleep, ignore SIGTERM, and report on @ready. */
static pid_t spawn_ignoring_tree(int kids, int ready)
{
	pid_t pid = fork();

	if (pid == 0) {
		int i;

		signal(SIGTERM, SIG_IGN);
		for (i = 0; i < kids; i++)
			if (fork() == 0) {
				t_sync_post(ready);
				for (;;)
					pause();
			}
		t_sync_post(ready);
		for (;;)
			pause();
	}
	return pid;
}

/* @n sleepers that have nothing to do with any context. */
static pid_t *spawn_bystanders(int n)
{
	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	int i;

	for (i = 0; pids && i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			for (;;)
				pause();
		}
	}
	return pids;
}

static void kill_bystanders(pid_t *pids, int n)
{
	int i;

	for (i = 0; pids && i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	for (i = 0; pids && i < n; i++)
		if (pids[i] > 0)
			waitpid(pids[i], NULL, 0);
	free(pids);
}

FIXTURE(mem) {
	int dev;
	int root;
};

FIXTURE_SETUP(mem)
{
	ctxfd_require_root();
	self->dev = ctxfd_dev_or_skip();
	if (!t_charges_available())
		CTXFD_SKIP("no debugfs ctxfd/users");
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);
	ASSERT_EQ(0, t_subreaper());
}

FIXTURE_TEARDOWN(mem)
{
	t_kill_descendants(30000);
	close(self->root);
	close(self->dev);
}

/*
 * One measurement: a 10-process tree (a leader and 9 children ignoring
 * SIGTERM) attached with SIGTERM and a long grace period while @others
 * unrelated processes run; the charge armed, and in the grace period
 * after the cancel.
 */
static void charge_of_small_tree(struct __test_metadata *_metadata,
				 int dev, int others, long *armed, long *grace)
{
	int ctx, ready[2], i;
	pid_t *by = spawn_bystanders(others), leader;
	long base;

	ASSERT_NE(NULL, by);
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	leader = spawn_ignoring_tree(9, ready[1]);
	ASSERT_LT(0, leader);
	for (i = 0; i < 10; i++)
		ASSERT_TRUE(t_sync_wait(ready[0], 30000));
	ctx = t_new(dev, 0);
	ASSERT_LE(0, ctx);
	base = t_settled_charge(0);
	ASSERT_EQ(0, t_attach(ctx, leader, SIGTERM, GRACE,
			      CTXFD_ATTACH_DESCENDANTS));
	*armed = t_charged(0) - base;
	ASSERT_EQ(0, t_cancel(ctx, 0, NULL));
	usleep(200 * 1000);	/* the fire work has signalled them */
	ASSERT_EQ(1, t_alive(leader));
	*grace = t_charged(0) - base;
	/* Gone before the grace period ends: the attachment ends with them. */
	kill(-leader, SIGKILL);
	kill(leader, SIGKILL);
	t_kill_descendants(30000);
	EXPECT_EQ(base, t_wait_charged(0, base, 20000));
	close(ctx);
	kill_bystanders(by, others);
	close(ready[0]);
	close(ready[1]);
}

TEST_F_TIMEOUT(mem, teardown_charge_is_sized_by_the_tree_not_the_system, 600)
{
	int others = (int)t_scaled(2000, 200);
	long armed0, grace0, armed, grace;

	charge_of_small_tree(_metadata, self->dev, 0, &armed0, &grace0);
	charge_of_small_tree(_metadata, self->dev, others, &armed, &grace);
	TH_LOG("10-process tree: %ld units armed, %ld in the grace period; with %d unrelated processes: %ld and %ld",
	       armed0, grace0, others, armed, grace);
	EXPECT_EQ(att_units(10), armed0);
	EXPECT_EQ(att_units(10), grace0);
	EXPECT_EQ(armed0, armed);
	EXPECT_EQ(grace0, grace);
}

/*
 * A leader that forks @n children, then reaps each right away, @n
 * times over: the tree never has more than two live processes.
 */
static pid_t spawn_churner(int n, int ready, int go)
{
	pid_t pid = fork();

	if (pid == 0) {
		int i;

		t_sync_post(ready);
		if (!t_sync_wait(go, 30000))
			_exit(2);
		for (i = 0; i < n; i++) {
			pid_t c = fork();

			if (c == 0)
				_exit(0);
			if (c < 0 || waitpid(c, NULL, 0) != c)
				_exit(3);
		}
		t_sync_post(ready);
		for (;;)
			pause();
	}
	return pid;
}

TEST_F_TIMEOUT(mem, members_that_exit_while_armed_are_forgotten, 600)
{
	int n = (int)t_scaled(500, 100), ready[2], go[2];
	long base, peak;
	pid_t leader;

	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	leader = spawn_churner(n, ready[1], go[0]);
	ASSERT_LT(0, leader);
	ASSERT_TRUE(t_sync_wait(ready[0], 30000));
	base = t_settled_charge(0);
	ASSERT_EQ(0, t_attach(self->root, leader, SIGKILL, 0,
			      CTXFD_ATTACH_DESCENDANTS));
	ASSERT_TRUE(t_sync_post(go[1]));
	ASSERT_TRUE(t_sync_wait(ready[0], 300000));
	peak = t_settled_charge(0) - base;
	TH_LOG("%d children forked and reaped under an armed attachment: %ld units charged",
	       n, peak);
	/* The leader alone is left: the attachment and one unit of members. */
	EXPECT_EQ(att_units(1), peak);
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_EQ(128 + SIGKILL, t_wait_status(leader));
	EXPECT_EQ(base, t_wait_charged(0, base, 20000));
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

/*
 * The slab bytes of cgroup @cg from memory.stat, once they reach @want
 * (its statistics are flushed every 2 s) or stop changing for 3 s; -1 on
 * error.
 */
static long long cg_slab_settled(const char *cg, long long want)
{
	long long v = cg_key(cg, "memory.stat", "slab"), w;
	int still = 0, i;

	for (i = 0; i < 200 && v >= 0 && (want < 0 || v < want); i++) {
		usleep(100 * 1000);
		w = cg_key(cg, "memory.stat", "slab");
		still = w == v ? still + 1 : 0;
		v = w;
		if (still >= 30)
			break;
	}
	return v;
}

/*
 * The attacher lives in one memory cgroup, the tree in another: every
 * member its leader forks after the attach is charged to the attacher's
 * group, as slab memory (a member is about 80 bytes), and to the
 * attacher's user (a unit per 8 members).
 */
TEST_F_TIMEOUT(mem, members_are_charged_to_the_attachers_memory_cgroup, 600)
{
	int n = (int)t_scaled(1000, 1000), ready[2], go[2], fork_go[2], done[2];
	char a[128], b[128];
	long long before, after;
	pid_t attacher, leader;
	long units;

	if (t_kernel_is_rt())
		SKIP(return, T_RT_WALKS);
	if (!cg_memory_available())
		CTXFD_SKIP("no cgroup2 memory controller at %s", CGROOT);
	snprintf(a, sizeof(a), CGROOT "/ctxfd-members-a-%d", getpid());
	snprintf(b, sizeof(b), CGROOT "/ctxfd-members-b-%d", getpid());
	ASSERT_EQ(0, mkdir(a, 0755));
	ASSERT_EQ(0, mkdir(b, 0755));
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(fork_go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(done, O_CLOEXEC));

	/* The tree: a leader in b that forks n sleepers when told. */
	leader = fork();
	ASSERT_LE(0, leader);
	if (leader == 0) {
		int i;

		if (!t_sync_wait(fork_go[0], 60000))
			_exit(2);
		for (i = 0; i < n; i++)
			if (fork() == 0) {
				for (;;)
					pause();
			}
		t_sync_post(done[1]);
		for (;;)
			pause();
	}
	ASSERT_EQ(0, cg_move(b, leader));

	/* The attacher, in a: attaches the leader, then sleeps. */
	attacher = fork();
	ASSERT_LE(0, attacher);
	if (attacher == 0) {
		if (!t_sync_wait(go[0], 30000) ||
		    t_attach(self->root, leader, SIGKILL, 0,
			     CTXFD_ATTACH_DESCENDANTS))
			_exit(2);
		t_sync_post(ready[1]);
		for (;;)
			pause();
	}
	ASSERT_EQ(0, cg_move(a, attacher));
	ASSERT_TRUE(t_sync_post(go[1]));	/* the attacher goes */
	ASSERT_TRUE(t_sync_wait(ready[0], 30000));
	units = t_settled_charge(0);
	before = cg_slab_settled(a, -1);
	ASSERT_LE(0, before);
	ASSERT_TRUE(t_sync_post(fork_go[1]));	/* the leader forks */
	ASSERT_TRUE(t_sync_wait(done[0], 300000));
	after = cg_slab_settled(a, before + (long long)n * 48);
	units = t_charged(0) - units;
	TH_LOG("%d members forked in another group: the attacher's group's slab grew by %lld bytes (%lld per member), its user by %ld units",
	       n, after - before, (after - before) / n, units);
	EXPECT_LE(before + (long long)n * 48, after);
	EXPECT_EQ((n + 7) / 8, units);

	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_EQ(128 + SIGKILL, t_wait_status(leader));
	kill(attacher, SIGKILL);
	t_wait_status(attacher);
	t_kill_descendants(30000);
	cg_remove(a);
	cg_remove(b);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	close(fork_go[0]);
	close(fork_go[1]);
	close(done[0]);
	close(done[1]);
}

TEST_HARNESS_MAIN
