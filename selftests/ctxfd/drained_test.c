// SPDX-License-Identifier: GPL-2.0
/*
 * Drained: a context is drained once it is done, every descendant
 * context has been released by every process, and every process attached
 * to it has exited - nothing started under it is left. It is final, the
 * fd then polls EPOLLPRI as well (EPOLLIN keeps meaning "done"), INFO
 * says CTXFD_INFO_DRAINED and how much is still pending, fdinfo says
 * ctxfd-drained. Every path is covered: nothing to wait for, a
 * descendant released last (here or in another process), an attached
 * process exiting last, one killed, a teardown's descendants, and
 * WithoutCancel children (which are not canceled with it, and so do not
 * count).
 */
#define _GNU_SOURCE
#include <sys/epoll.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#define MS	1000000ull

/* poll() for @events, at most @timeout_ms; the revents, or 0. */
static short poll_for(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, timeout_ms) == 1 ? p.revents : 0;
}

static bool drained(int fd)
{
	struct ctxfd_info i;

	return !t_info(fd, &i) && (i.flags & CTXFD_INFO_DRAINED);
}

static int pending(int fd)
{
	struct ctxfd_info i;

	return t_info(fd, &i) ? -1 : (int)i.nr_pending;
}

FIXTURE(dr) {
	int dev;
	int root;
};

FIXTURE_SETUP(dr)
{
	self->dev = ctxfd_dev_or_skip();
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);
	ASSERT_EQ(0, t_subreaper());
}

FIXTURE_TEARDOWN(dr)
{
	t_kill_descendants(20000);
	close(self->root);
	close(self->dev);
}

TEST_F(dr, active_context_is_never_drained)
{
	struct ctxfd_info i;

	ASSERT_EQ(0, t_info(self->root, &i));
	EXPECT_TRUE(i.mask & CTXFD_INFO_DRAIN);
	EXPECT_FALSE(i.flags & CTXFD_INFO_DRAINED);
	EXPECT_EQ(0, poll_for(self->root, POLLPRI | POLLIN, 50));
}

TEST_F(dr, done_context_with_nothing_under_it_is_drained_at_once)
{
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_TRUE(drained(self->root));
	EXPECT_EQ(0, pending(self->root));
	EXPECT_EQ(POLLIN | POLLPRI, poll_for(self->root, POLLIN | POLLPRI, 0));
}

TEST_F(dr, open_descendant_keeps_it_undrained_until_released)
{
	int c = t_child(self->root, 0), g = t_child(c, 0);

	ASSERT_LE(0, g);
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	/* Done (EPOLLIN) at once, but not drained. */
	EXPECT_EQ(POLLIN, poll_for(self->root, POLLIN | POLLPRI, 0));
	EXPECT_FALSE(drained(self->root));
	EXPECT_EQ(1, pending(self->root));
	close(c);		/* g still holds c */
	EXPECT_FALSE(drained(self->root));
	close(g);		/* the last descendant released */
	EXPECT_TRUE(drained(self->root));
	EXPECT_EQ(0, pending(self->root));
}

/* A poller blocked on EPOLLPRI wakes when another process lets go. */
TEST_F(dr, descendant_released_last_in_another_process_wakes_the_waiter)
{
	int c = t_child(self->root, 0), go[2];
	pid_t pid;

	ASSERT_LE(0, c);
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int g = t_child(c, 0);	/* a grandchild only it holds */

		close(c);
		if (g < 0 || !t_sync_wait(go[0], 10000))
			_exit(2);
		usleep(100 * 1000);
		_exit(0);		/* releases g */
	}
	/* Wait until the grandchild exists, then drop our own child fd. */
	while (pending(c) != 1)
		usleep(1000);
	close(c);
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	/* Not drained while the other process holds g: it waits for go. */
	EXPECT_FALSE(drained(self->root));
	ASSERT_TRUE(t_sync_post(go[1]));
	EXPECT_EQ(POLLPRI, poll_for(self->root, POLLPRI, 10000) & POLLPRI);
	EXPECT_TRUE(drained(self->root));
	EXPECT_EQ(0, t_wait_status(pid));
	close(go[0]);
	close(go[1]);
}

TEST_F(dr, epoll_pri_watcher_is_woken_and_in_watcher_sees_no_change)
{
	int c = t_child(self->root, 0), ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLPRI }, out;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->root, &ev));
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_EQ(0, epoll_wait(ep, &out, 1, 50));
	close(c);
	ASSERT_EQ(1, epoll_wait(ep, &out, 1, 10000));
	EXPECT_EQ(EPOLLPRI, out.events);
	close(ep);
}

/*
 * An attached process that takes its time to exit, ignoring SIGTERM:
 * returns once it ignores it.
 */
static pid_t spawn_slow_exiter(int ms)
{
	int ready[2];
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		signal(SIGTERM, SIG_IGN);
		t_sync_post(ready[1]);
		usleep(ms * 1000);
		_exit(0);
	}
	if (pid > 0 && !t_sync_wait(ready[0], 10000))
		pid = -1;
	close(ready[0]);
	close(ready[1]);
	return pid;
}

TEST_F(dr, attached_process_exiting_last_drains_it)
{
	pid_t pid = spawn_slow_exiter(300);
	__u64 start;

	ASSERT_LT(0, pid);
	ASSERT_EQ(0, t_attach(self->root, pid, SIGTERM, 0, 0));
	EXPECT_EQ(1, pending(self->root));
	start = t_now_ns(CLOCK_MONOTONIC);
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_FALSE(drained(self->root));
	EXPECT_EQ(POLLPRI, poll_for(self->root, POLLPRI, 10000) & POLLPRI);
	/* Not before the process went away of its own accord. */
	EXPECT_LE(250 * MS, t_now_ns(CLOCK_MONOTONIC) - start);
	EXPECT_EQ(0, t_wait_status(pid));
}

TEST_F(dr, killed_tree_drains_it_once_every_process_is_gone)
{
	int ready[2], i;
	pid_t leader;

	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	leader = fork();
	ASSERT_LE(0, leader);
	if (leader == 0) {
		for (i = 0; i < 5; i++)
			if (fork() == 0) {
				t_sync_post(ready[1]);
				for (;;)
					pause();
			}
		t_sync_post(ready[1]);
		for (;;)
			pause();
	}
	for (i = 0; i < 6; i++)
		ASSERT_TRUE(t_sync_wait(ready[0], 10000));
	ASSERT_EQ(0, t_attach(self->root, leader, SIGKILL, 0,
			      CTXFD_ATTACH_DESCENDANTS));
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_EQ(POLLPRI, poll_for(self->root, POLLPRI, 10000) & POLLPRI);
	/* Drained means they are gone: none of them is left running. */
	EXPECT_EQ(0, t_live_descendants(leader, 0, NULL, 0));
	EXPECT_EQ(128 + SIGKILL, t_wait_status(leader));
	close(ready[0]);
	close(ready[1]);
}

TEST_F(dr, attachment_below_keeps_the_ancestor_undrained)
{
	int c = t_child(self->root, 0);
	pid_t pid = spawn_slow_exiter(200);

	ASSERT_LE(0, c);
	ASSERT_EQ(0, t_attach(c, pid, SIGTERM, 0, 0));
	close(c);	/* the attachment holds c */
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_FALSE(drained(self->root));
	EXPECT_EQ(POLLPRI, poll_for(self->root, POLLPRI, 10000) & POLLPRI);
	EXPECT_EQ(0, t_wait_status(pid));
}

TEST_F(dr, without_cancel_children_do_not_count)
{
	struct ctxfd_create a = { .flags = CTXFD_CREATE_WITHOUT_CANCEL };
	int w = ioctl(self->root, CTXFD_IOC_CREATE, &a);

	ASSERT_LE(0, w);
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_TRUE(drained(self->root));
	EXPECT_EQ(0, t_err(w));
	close(w);
}

TEST_F(dr, child_born_under_a_done_parent_is_drained_at_birth)
{
	int c;

	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	c = t_child(self->root, 0);
	ASSERT_LE(0, c);
	EXPECT_TRUE(drained(c));
	close(c);
	EXPECT_TRUE(drained(self->root));
}

TEST_F(dr, fdinfo_shows_pending_and_drained)
{
	int c = t_child(self->root, 0);
	char v[32];

	ASSERT_LE(0, c);
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	ASSERT_EQ(1, t_fdinfo(0, self->root, "ctxfd-drained", v, sizeof(v)));
	EXPECT_STREQ("no", v);
	ASSERT_EQ(1, t_fdinfo(0, self->root, "ctxfd-pending", v, sizeof(v)));
	EXPECT_STREQ("1", v);
	close(c);
	ASSERT_EQ(1, t_fdinfo(0, self->root, "ctxfd-drained", v, sizeof(v)));
	EXPECT_STREQ("yes", v);
}

/*
 * The teardown report of a known tree: a leader and 3 children that
 * ignore SIGTERM, attached with SIGTERM and a 200 ms grace period: 4
 * signalled, 4 killed, none left, over in at least the grace period.
 */
TEST_F(dr, teardown_report_of_a_known_tree)
{
	int ready[2], i;
	struct ctxfd_info info;
	pid_t leader;

	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	leader = fork();
	ASSERT_LE(0, leader);
	if (leader == 0) {
		signal(SIGTERM, SIG_IGN);
		for (i = 0; i < 3; i++)
			if (fork() == 0) {
				t_sync_post(ready[1]);
				for (;;)
					pause();
			}
		t_sync_post(ready[1]);
		for (;;)
			pause();
	}
	for (i = 0; i < 4; i++)
		ASSERT_TRUE(t_sync_wait(ready[0], 10000));
	ASSERT_EQ(0, t_attach(self->root, leader, SIGTERM, 200 * MS,
			      CTXFD_ATTACH_DESCENDANTS));
	ASSERT_EQ(0, t_info(self->root, &info));
	EXPECT_TRUE(info.mask & CTXFD_INFO_TEARDOWN);
	EXPECT_EQ(0, info.td_fired);
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	ASSERT_TRUE(poll_for(self->root, POLLPRI, 10000) & POLLPRI);
	ASSERT_EQ(0, t_info(self->root, &info));
	EXPECT_EQ(1, info.td_fired);
	EXPECT_EQ(0, info.td_running);
	EXPECT_EQ(4, info.td_signalled);
	EXPECT_EQ(4, info.td_killed);
	EXPECT_EQ(0, info.td_left);
	EXPECT_LE(200 * MS, info.td_duration_ns);
	EXPECT_EQ(128 + SIGKILL, t_wait_status(leader));
	close(ready[0]);
	close(ready[1]);
}

/*
 * SIGKILL never comes before the grace period is over, by the clock the
 * report uses: 200 rounds of a process that ignores SIGTERM, with a
 * 6 ms grace (a tick and a half at HZ=250, where a count in jiffies is
 * coarsest). CI once saw 99.5 ms for a 100 ms grace: jiffies lagged the
 * clock when the grace began.
 */
TEST_F(dr, sigkill_never_comes_before_the_grace_period_is_over)
{
	const __u64 grace = 6 * MS;
	struct ctxfd_info info;
	__u64 shortest = ~0ull;
	int round;

	for (round = 0; round < 200; round++) {
		int ctx = t_child(self->root, 0);
		pid_t pid;

		ASSERT_LE(0, ctx);
		pid = t_spawn_sleeper(true);
		ASSERT_LT(0, pid);
		ASSERT_EQ(0, t_attach(ctx, pid, SIGTERM, grace, 0));
		ASSERT_EQ(0, t_cancel(ctx, 0, NULL));
		ASSERT_TRUE(poll_for(ctx, POLLPRI, 10000) & POLLPRI);
		ASSERT_EQ(0, t_info(ctx, &info));
		ASSERT_EQ(1, info.td_killed);
		ASSERT_EQ(128 + SIGKILL, t_wait_status(pid));
		if (info.td_duration_ns < shortest)
			shortest = info.td_duration_ns;
		ASSERT_LE(grace, info.td_duration_ns)
			TH_LOG("round %d: SIGKILL %.3f ms after SIGTERM",
			       round, info.td_duration_ns / 1e6);
		close(ctx);
	}
	TH_LOG("shortest teardown of 200: %.3f ms for a %.0f ms grace",
	       shortest / 1e6, grace / 1e6);
}

/* While its processes run, the report says so, and its duration grows. */
TEST_F(dr, teardown_report_while_running)
{
	pid_t pid = spawn_slow_exiter(400);
	struct ctxfd_info a, b;
	char v[128];

	ASSERT_EQ(0, t_attach(self->root, pid, SIGTERM, 0, 0));
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	usleep(100 * 1000);
	ASSERT_EQ(0, t_info(self->root, &a));
	usleep(50 * 1000);
	ASSERT_EQ(0, t_info(self->root, &b));
	EXPECT_EQ(1, a.td_fired);
	EXPECT_EQ(1, a.td_running);
	EXPECT_EQ(1, a.td_signalled);
	EXPECT_EQ(0, a.td_killed);
	EXPECT_LT(a.td_duration_ns, b.td_duration_ns);
	ASSERT_EQ(1, t_fdinfo(0, self->root, "ctxfd-teardown", v, sizeof(v)));
	EXPECT_EQ(0, strncmp(v, "fired 1 running 1 signalled 1 killed 0 left 0 ns ", 49))
		TH_LOG("ctxfd-teardown: %s", v);
	EXPECT_EQ(0, t_wait_status(pid));
	ASSERT_TRUE(poll_for(self->root, POLLPRI, 10000) & POLLPRI);
	ASSERT_EQ(0, t_info(self->root, &a));
	EXPECT_EQ(0, a.td_running);
}

TEST_HARNESS_MAIN
