// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's "defer cancel()": closing the last cancel-capable fd of a
 * context (process exit included) cancels it, unless it was created with
 * CTXFD_CREATE_NO_CANCEL_ON_CLOSE. Watch-only fds never cancel. The
 * effects are observed through watch-only fds, which keep the context
 * observable after its cancel-capable fds are gone.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/epoll.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

FIXTURE(cl) {
	int dev;
	int root;
};

FIXTURE_SETUP(cl)
{
	self->dev = ctxfd_dev_or_skip();
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);
}

FIXTURE_TEARDOWN(cl)
{
	close(self->root);
	close(self->dev);
}

/* Assert that watch fd @w reports canceled-by-close: ECANCELED both. */
#define ASSERT_CLOSED_CANCEL(w) do {					\
	struct ctxfd_info __i;						\
									\
	ASSERT_TRUE(t_readable((w), 0));				\
	ASSERT_EQ(0, t_info((w), &__i));				\
	EXPECT_NE(0, __i.flags & CTXFD_INFO_DONE);			\
	EXPECT_EQ(ECANCELED, __i.err);					\
	EXPECT_EQ(ECANCELED, __i.cause_code);				\
	EXPECT_EQ(0, __i.cause_msg_len);				\
} while (0)

#define ASSERT_ACTIVE(w) do {						\
	ASSERT_EQ(0, t_err(w));						\
	ASSERT_FALSE(t_readable((w), 0));				\
} while (0)

TEST_F(cl, close_of_last_cancel_fd_cancels)
{
	int root = t_new(self->dev, 0);
	int w = t_watch(root, 0);

	ASSERT_LE(0, w);
	ASSERT_ACTIVE(w);
	ASSERT_EQ(0, close(root));
	ASSERT_CLOSED_CANCEL(w);
	close(w);
}

TEST_F(cl, close_of_last_cancel_fd_of_child_cancels)
{
	int child = t_child(self->root, 0);
	int w = t_watch(child, 0);

	ASSERT_LE(0, w);
	ASSERT_EQ(1, t_nr_children(self->root));
	ASSERT_EQ(0, close(child));
	ASSERT_CLOSED_CANCEL(w);
	/* Canceled, hence unlinked from its parent. */
	EXPECT_EQ(0, t_nr_children(self->root));
	close(w);
}

TEST_F(cl, close_wakes_blocked_reader_of_watch_fd)
{
	int child = t_child(self->root, 0);
	int w = t_watch(child, 0);
	struct ctxfd_event ev;
	pid_t pid;

	ASSERT_LE(0, w);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(child);	/* only the parent holds the cancel fd */
		if (read(w, &ev, sizeof(ev)) != sizeof(ev))
			_exit(10);
		_exit(ev.err == ECANCELED && ev.cause_code == ECANCELED ?
		      0 : 11);
	}
	EXPECT_TRUE(t_wait_blocked(pid, 10000));
	ASSERT_EQ(0, close(child));
	EXPECT_EQ(0, t_wait_status(pid));
	close(w);
}

TEST_F(cl, explicit_cause_survives_the_close)
{
	int child = t_child(self->root, 0);
	int w = t_watch(child, 0);
	struct ctxfd_info info;

	ASSERT_LE(0, w);
	ASSERT_EQ(0, t_cancel(child, 8, "explicit"));
	ASSERT_EQ(0, close(child));
	/* The close comes second: the first cancel wins. */
	ASSERT_EQ(0, t_info(w, &info));
	EXPECT_EQ(ECANCELED, info.err);
	EXPECT_EQ(8, info.cause_code);
	EXPECT_STREQ("explicit", info.cause_msg);
	close(w);
}

TEST_F(cl, dup_keeps_context_active_until_every_copy_is_closed)
{
	int child = t_child(self->root, 0);
	int w = t_watch(child, 0);
	int d1 = dup(child);
	int d2 = fcntl(child, F_DUPFD_CLOEXEC, 100);
	int d3 = dup3(child, 200, O_CLOEXEC);

	ASSERT_LE(0, w);
	ASSERT_LE(0, d1);
	ASSERT_LE(0, d2);
	ASSERT_EQ(200, d3);
	ASSERT_EQ(0, close(child));
	ASSERT_ACTIVE(w);
	ASSERT_EQ(0, close(d2));
	ASSERT_ACTIVE(w);
	ASSERT_EQ(0, close(d1));
	ASSERT_ACTIVE(w);
	ASSERT_EQ(0, close(d3));
	ASSERT_CLOSED_CANCEL(w);
	close(w);
}

TEST_F(cl, no_cancel_on_close_opts_out_yet_ancestor_cancel_reaches_it)
{
	int child = t_child(self->root, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
	int w = t_watch(child, 0);
	struct ctxfd_info info;

	ASSERT_LE(0, w);
	ASSERT_EQ(0, close(child));
	ASSERT_ACTIVE(w);
	ASSERT_EQ(0, t_info(w, &info));
	EXPECT_NE(0, info.flags & CTXFD_INFO_NO_CANCEL_ON_CLOSE);
	/* Still linked under its parent: the watch fd keeps it observable. */
	EXPECT_EQ(1, t_nr_children(self->root));

	ASSERT_EQ(0, t_cancel(self->root, 17, "ancestor"));
	ASSERT_TRUE(t_readable(w, 0));
	ASSERT_EQ(0, t_info(w, &info));
	EXPECT_EQ(ECANCELED, info.err);
	EXPECT_EQ(17, info.cause_code);
	EXPECT_STREQ("ancestor", info.cause_msg);
	close(w);
}

TEST_F(cl, no_cancel_on_close_root_stays_active_after_close)
{
	int root = t_new(self->dev, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
	int w = t_watch(root, 0);

	ASSERT_LE(0, w);
	ASSERT_EQ(0, close(root));
	ASSERT_ACTIVE(w);
	close(w);
}

TEST_F(cl, closing_watch_only_fds_never_cancels)
{
	int child = t_child(self->root, 0);
	int w1 = t_watch(child, 0);
	int w2 = t_watch(child, 0);
	int w3 = t_watch(w2, 0);

	ASSERT_LE(0, w3);
	ASSERT_EQ(0, close(w1));
	ASSERT_EQ(0, close(w2));
	ASSERT_ACTIVE(w3);
	ASSERT_ACTIVE(child);
	ASSERT_EQ(0, close(w3));
	ASSERT_ACTIVE(child);
	EXPECT_EQ(1, t_nr_children(self->root));
	close(child);
}

TEST_F(cl, closing_parent_last_cancel_fd_cancels_its_children)
{
	int parent = t_child(self->root, 0);
	int child = t_child(parent, 0);
	int grand = t_child(child, 0);
	int value = t_child_value(child, "k", "v", 1);
	int wp = t_watch(parent, 0);

	ASSERT_LE(0, wp);
	ASSERT_LE(0, value);
	ASSERT_EQ(0, close(parent));
	ASSERT_CLOSED_CANCEL(wp);
	/* The whole subtree goes with it, with the parent's cause. */
	ASSERT_CLOSED_CANCEL(child);
	ASSERT_CLOSED_CANCEL(grand);
	ASSERT_CLOSED_CANCEL(value);
	/* Nobody above is touched. */
	ASSERT_ACTIVE(self->root);
	EXPECT_EQ(0, t_nr_children(self->root));
	close(value);
	close(grand);
	close(child);
	close(wp);
}

TEST_F(cl, closing_child_fds_leaves_parent_and_siblings_alone)
{
	int a = t_child(self->root, 0);
	int b = t_child(self->root, 0);

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(2, t_nr_children(self->root));
	ASSERT_EQ(0, close(a));
	ASSERT_ACTIVE(self->root);
	ASSERT_ACTIVE(b);
	EXPECT_EQ(1, t_nr_children(self->root));
	close(b);
}

TEST_F(cl, cancel_fd_in_epoll_set_still_cancels_on_close)
{
	int child = t_child(self->root, 0);
	int w = t_watch(child, 0);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, child, &ev));
	ev.data.u64 = 1;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, w, &ev));
	/* An epoll registration holds no reference on the file. */
	ASSERT_EQ(0, close(child));
	ASSERT_CLOSED_CANCEL(w);
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 0));
	EXPECT_EQ(1, ev.data.u64);
	close(ep);
	close(w);
}

TEST_F(cl, process_exit_cancels_what_only_it_held)
{
	int sv[2], w;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
		int root = dev < 0 ? -1 : t_new(dev, 0);
		int mine = root < 0 ? -1 : t_child(root, 0);
		int mw = mine < 0 ? -1 : t_watch(mine, 0);

		if (mw < 0 || t_send_fd(sv[1], mw))
			_exit(10);
		close(mw);
		/* Wait for the go, then exit holding root and mine. */
		if (!t_sync_wait(sv[1], 20000))
			_exit(11);
		_exit(0);
	}
	w = t_recv_fd(sv[0]);
	ASSERT_LE(0, w);
	ASSERT_ACTIVE(w);
	ASSERT_TRUE(t_sync_post(sv[0]));
	ASSERT_EQ(0, t_wait_status(pid));
	/* By the time the exit is reaped, the fds are released. */
	ASSERT_CLOSED_CANCEL(w);
	close(w);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(cl, killed_process_cancels_child_it_made_under_shared_root)
{
	int sv[2], w;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int mine = t_child(self->root, 0);
		int mw = mine < 0 ? -1 : t_watch(mine, 0);

		if (mw < 0 || t_send_fd(sv[1], mw))
			_exit(10);
		t_sync_wait(sv[1], 20000);	/* killed while waiting */
		_exit(11);
	}
	w = t_recv_fd(sv[0]);
	ASSERT_LE(0, w);
	ASSERT_ACTIVE(w);
	ASSERT_EQ(1, t_nr_children(self->root));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, t_wait_status(pid));
	ASSERT_CLOSED_CANCEL(w);
	/* The shared root, also held by the dead process, is untouched. */
	ASSERT_ACTIVE(self->root);
	EXPECT_EQ(0, t_nr_children(self->root));
	close(w);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(cl, forked_child_sharing_cancel_fd_keeps_it_alive_until_it_exits)
{
	int child = t_child(self->root, 0);
	int w = t_watch(child, 0);
	int go[2];
	pid_t pid;

	ASSERT_LE(0, w);
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Holds the shared cancel fd until told to exit. */
		close(go[1]);
		t_sync_wait(go[0], 20000);
		_exit(t_err(w) == 0 ? 0 : 10);
	}
	close(go[0]);
	ASSERT_EQ(0, close(child));
	ASSERT_ACTIVE(w);
	ASSERT_TRUE(t_sync_post(go[1]));
	ASSERT_EQ(0, t_wait_status(pid));
	ASSERT_CLOSED_CANCEL(w);
	close(go[1]);
	close(w);
}

TEST_F(cl, node_without_fds_but_with_children_stays_in_tree)
{
	int mid = t_child(self->root, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
	int leaf = t_child(mid, 0);
	struct ctxfd_info mi, li;

	ASSERT_LE(0, leaf);
	ASSERT_EQ(0, t_info(mid, &mi));
	ASSERT_EQ(0, close(mid));
	/* mid has no fd left, but its child keeps it linked. */
	EXPECT_EQ(1, t_nr_children(self->root));
	ASSERT_ACTIVE(leaf);
	ASSERT_EQ(0, t_info(leaf, &li));
	EXPECT_EQ(mi.id, li.parent_id);
	EXPECT_EQ(2, li.depth);

	/* A root cancel still walks through it to the leaf. */
	ASSERT_EQ(0, t_cancel(self->root, 33, "through"));
	ASSERT_TRUE(t_readable(leaf, 0));
	ASSERT_EQ(0, t_info(leaf, &li));
	EXPECT_EQ(ECANCELED, li.err);
	EXPECT_EQ(33, li.cause_code);
	EXPECT_STREQ("through", li.cause_msg);
	EXPECT_EQ(0, t_nr_children(self->root));
	close(leaf);
}

TEST_F(cl, fdless_node_deadline_still_cancels_its_children)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_TIMEOUT | CTXFD_CREATE_NO_CANCEL_ON_CLOSE,
		.deadline_ns = 500 * 1000 * 1000,
		.clockid = CLOCK_MONOTONIC,
		.deadline_cause = { .code = 99 },
	};
	int mid = ioctl(self->root, CTXFD_IOC_CREATE, &args);
	int leaf = mid < 0 ? -1 : t_child(mid, 0);
	struct ctxfd_info info;

	ASSERT_LE(0, leaf);
	ASSERT_EQ(0, t_info(leaf, &info));
	/* The leaf runs no timer: only mid's timer can end it. */
	ASSERT_EQ(0, info.flags & CTXFD_INFO_OWN_TIMER);
	ASSERT_EQ(0, close(mid));
	ASSERT_ACTIVE(leaf);
	ASSERT_TRUE(t_readable(leaf, 20000));
	ASSERT_EQ(0, t_info(leaf, &info));
	EXPECT_EQ(ETIMEDOUT, info.err);
	EXPECT_EQ(99, info.cause_code);
	ASSERT_ACTIVE(self->root);
	close(leaf);
}

TEST_F(cl, fdless_node_is_unlinked_when_its_last_child_goes)
{
	int mid = t_child(self->root, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
	int leaf = t_child(mid, 0);

	ASSERT_LE(0, leaf);
	ASSERT_EQ(0, close(mid));
	ASSERT_EQ(1, t_nr_children(self->root));
	/* Nobody can observe mid any more once the leaf is gone. */
	ASSERT_EQ(0, close(leaf));
	EXPECT_EQ(0, t_nr_children(self->root));
	ASSERT_ACTIVE(self->root);
}

TEST_F(cl, nr_children_drops_when_no_cancel_on_close_child_last_fd_closes)
{
	int child = t_child(self->root, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
	int w = t_watch(child, 0);

	ASSERT_LE(0, w);
	ASSERT_EQ(1, t_nr_children(self->root));
	ASSERT_EQ(0, close(child));
	/* The watch fd still observes it: still a child. */
	EXPECT_EQ(1, t_nr_children(self->root));
	ASSERT_EQ(0, close(w));
	/* Unobservable: freed and unlinked, though never canceled. */
	EXPECT_EQ(0, t_nr_children(self->root));
	ASSERT_ACTIVE(self->root);
}

TEST_F(cl, nr_children_drops_when_value_child_fd_closes)
{
	int v = t_child_value(self->root, "k", "v", 1);

	ASSERT_LE(0, v);
	ASSERT_EQ(1, t_nr_children(self->root));
	ASSERT_EQ(0, close(v));
	EXPECT_EQ(0, t_nr_children(self->root));
	ASSERT_ACTIVE(self->root);
}

TEST_F(cl, closing_value_child_never_cancels_its_parent)
{
	int child = t_child(self->root, 0);
	int v = t_child_value(child, "k", "v", 1);
	int vc = t_child(v, 0);

	ASSERT_LE(0, vc);
	ASSERT_EQ(0, close(v));
	ASSERT_ACTIVE(child);
	ASSERT_ACTIVE(vc);
	/* The value node stays linked through its child and forwards. */
	ASSERT_EQ(0, t_cancel(child, 0, NULL));
	ASSERT_CLOSED_CANCEL(vc);
	close(vc);
	close(child);
}

TEST_HARNESS_MAIN
