// SPDX-License-Identifier: GPL-2.0
/*
 * ctxrun --grace: on deadline or cancel the context is done first (the
 * command's CTXFD fires with its cause), SIGNAL comes a grace period
 * later, then -k. A program that watches its fd exits on its own in
 * between (examples_test runs the Python and Go examples of the man
 * pages).
 */
#define _GNU_SOURCE
#include "kselftest_harness.h"
#include "ctxfd_test.h"
#include "ctxrun_test.h"

FIXTURE(grace) {
	int rep[2];
	int out[2];	/* the command's stdout */
	struct how how;
	char *ctxrun;
	char *self;
};

FIXTURE_SETUP(grace)
{
	ctxrun_or_skip();
	ASSERT_EQ(0, pipe2(self->rep, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(self->out, O_CLOEXEC));
	ASSERT_EQ(0, t_subreaper());
	self->how = (struct how){
		.rep = self->rep[1], .ctx = -1, .err = -1, .out = self->out[1],
		.shm = -1,
	};
	self->ctxrun = (char *)ctxrun_path();
	self->self = (char *)self_exe();
}

FIXTURE_TEARDOWN(grace)
{
	t_kill_descendants(20000);
	close(self->rep[0]);
	close(self->rep[1]);
	close(self->out[0]);
	close(self->out[1]);
}

#define CTXRUN(self, ...) ({						\
	char *__argv[] = { (self)->ctxrun, __VA_ARGS__, NULL };	\
	pid_t __p = start_prog(&(self)->how, __argv);			\
	ASSERT_LT(0, __p);						\
	__p;								\
})
#define HELPER(self, ...) "--", (self)->self, "--helper", __VA_ARGS__

/*
 * The grace runs from the moment ctxrun sees the context done, which is
 * no earlier than the deadline or the signal it got: the signal comes
 * no earlier than that plus the grace. (The command may see its fd late
 * on a loaded machine, so times are taken from here, not from it.)
 */
TEST_F(grace, context_is_done_a_grace_before_the_signal)
{
	__u64 start = t_now_ns(CLOCK_MONOTONIC);
	pid_t pid = CTXRUN(self, "--grace", "1", "-k", "0.5", "-t", "0.5",
			   HELPER(self, "watch-stay"));
	struct rec r[3];

	ASSERT_EQ(3, get_recs(self->rep[0], r, 3, 20000));
	ASSERT_EQ(TAG_HELPER, r[0].tag);
	ASSERT_EQ(TAG_DONE, r[1].tag);	/* the fd first... */
	ASSERT_EQ(TAG_TERM, r[2].tag);	/* ...the signal after the grace */
	EXPECT_LE(1500 * MS, r[2].val - (long long)start);
	/* Then -k, as without --grace: 137. */
	EXPECT_EQ(128 + SIGKILL, wait_exit(pid, 20000));
	EXPECT_EQ(0, t_live_descendants(getpid(), 0, NULL, 0));
}

TEST_F(grace, command_that_exits_within_the_grace_gets_no_signal)
{
	pid_t pid = CTXRUN(self, "--grace", "60", "-t", "0.3",
			   HELPER(self, "watch-exit", "3"));
	struct rec r[3];

	EXPECT_EQ(124, wait_exit(pid, 30000));
	EXPECT_EQ(2, get_recs(self->rep[0], r, 3, 500));
	EXPECT_EQ(TAG_DONE, r[1].tag);

	pid = CTXRUN(self, "--grace", "60", "-t", "0.3", "--preserve-status",
		     HELPER(self, "watch-exit", "3"));
	EXPECT_EQ(3, wait_exit(pid, 30000));
	EXPECT_EQ(2, get_recs(self->rep[0], r, 3, 500));
	EXPECT_EQ(0, t_live_descendants(getpid(), 0, NULL, 0));
}

TEST_F(grace, signal_to_ctxrun_cancels_first_and_is_passed_on_later)
{
	pid_t pid = CTXRUN(self, "--grace", "1", "-k", "0.5",
			   HELPER(self, "watch-stay"));
	struct rec r[2];

	__u64 sent;

	ASSERT_EQ(1, get_recs(self->rep[0], r, 1, 20000));
	sent = t_now_ns(CLOCK_MONOTONIC);
	ASSERT_EQ(0, kill(pid, SIGTERM));
	ASSERT_EQ(2, get_recs(self->rep[0], r, 2, 20000));
	ASSERT_EQ(TAG_DONE, r[0].tag);
	ASSERT_EQ(TAG_TERM, r[1].tag);
	EXPECT_LE(1000 * MS, r[1].val - (long long)sent);
	/* Killed by -k after the SIGTERM it caught: ctxrun dies of SIGTERM. */
	EXPECT_EQ(128 + SIGTERM, wait_exit(pid, 20000));
}

TEST_F(grace, second_signal_ends_the_grace_third_kills)
{
	pid_t pid = CTXRUN(self, "--grace", "600", HELPER(self, "watch-stay"));
	struct rec r[2];

	ASSERT_EQ(1, get_recs(self->rep[0], r, 1, 20000));
	ASSERT_EQ(0, kill(pid, SIGTERM));
	ASSERT_EQ(1, get_recs(self->rep[0], r, 1, 20000));
	ASSERT_EQ(TAG_DONE, r[0].tag);
	/* The SIGTERM goes out now, not in ten minutes; it is caught. */
	ASSERT_EQ(0, kill(pid, SIGTERM));
	ASSERT_EQ(1, get_recs(self->rep[0], r, 1, 20000));
	ASSERT_EQ(TAG_TERM, r[0].tag);
	EXPECT_EQ(-2, wait_exit(pid, 200));
	ASSERT_EQ(0, kill(pid, SIGTERM));
	EXPECT_EQ(128 + SIGTERM, wait_exit(pid, 20000));
	EXPECT_EQ(0, t_live_descendants(getpid(), 0, NULL, 0));
}

TEST_F(grace, leftovers_that_watch_their_context_leave_on_their_own)
{
	pid_t pid = CTXRUN(self, "--grace", "60",
			   HELPER(self, "leave-watcher", "5"));
	struct rec r[4];
	int n;

	/* COMMAND exits 5; its daemon sees the context done and exits. */
	EXPECT_EQ(5, wait_exit(pid, 30000));
	n = get_recs(self->rep[0], r, 4, 500);
	EXPECT_EQ(1, count_tag(r, n, TAG_DONE));
	EXPECT_EQ(0, count_tag(r, n, TAG_TERM));
	EXPECT_EQ(0, t_live_descendants(getpid(), 0, NULL, 0));
}

TEST_HARNESS_MAIN
