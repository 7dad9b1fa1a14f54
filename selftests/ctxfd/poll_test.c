// SPDX-License-Identifier: GPL-2.0
/*
 * Readiness: poll, ppoll, select and epoll report a context fd readable
 * (EPOLLIN | EPOLLRDNORM, nothing else) exactly when the context is done,
 * never before, and wake whoever is blocked on it, in this thread, in
 * another thread or in another process.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

/* Every event a waiter could ask for; only IN and RDNORM may come back. */
#define ALL_POLL_EVENTS (POLLIN | POLLRDNORM | POLLRDBAND | POLLPRI | \
			 POLLOUT | POLLWRNORM | POLLWRBAND | POLLRDHUP)
#define ALL_EPOLL_EVENTS (EPOLLIN | EPOLLRDNORM | EPOLLRDBAND | EPOLLPRI | \
			  EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND | EPOLLRDHUP)
#define DONE_EVENTS (POLLIN | POLLRDNORM)
/* Done, and drained (POLLPRI): nothing below it is open or attached. */
#define DRAINED_EVENTS (DONE_EVENTS | POLLPRI)

/* poll() @fd once for everything; revents, or -1 if poll() failed. */
static int poll_revents(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = ALL_POLL_EVENTS };
	int n = poll(&pfd, 1, timeout_ms);

	if (n < 0)
		return -1;
	return n ? pfd.revents : 0;
}

static int epoll_add(int ep, int fd, __u32 events, __u64 data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

FIXTURE(poll) {
	int dev;
	int root;
	int ep;
};

FIXTURE_SETUP(poll)
{
	self->ep = -1;
	self->dev = ctxfd_dev_or_skip();
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);
	self->ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, self->ep);
}

FIXTURE_TEARDOWN(poll)
{
	close(self->ep);
	close(self->root);
	close(self->dev);
}

TEST_F(poll, poll_reports_nothing_while_active)
{
	struct timespec ts = { .tv_nsec = 20 * 1000 * 1000 };
	struct pollfd pfd = { .fd = self->root, .events = ALL_POLL_EVENTS };

	EXPECT_EQ(0, poll_revents(self->root, 0));
	/* A timed wait on an active context times out with no event. */
	EXPECT_EQ(0, ppoll(&pfd, 1, &ts, NULL));
	EXPECT_EQ(0, pfd.revents);
}

TEST_F(poll, poll_reports_exactly_in_rdnorm_once_done_and_pri_once_drained)
{
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	/*
	 * No OUT, ERR, HUP or RDHUP: a done context is readable, and PRI
	 * once drained (at once: nothing below it is open).
	 */
	EXPECT_EQ(DRAINED_EVENTS, poll_revents(self->root, 0));
	/* Done is final: it stays readable. */
	EXPECT_EQ(DRAINED_EVENTS, poll_revents(self->root, 0));
}

TEST_F(poll, ppoll_reports_readable_once_done)
{
	struct timespec ts = { 0 };
	struct pollfd pfd = { .fd = self->root, .events = POLLIN };

	ASSERT_EQ(0, ppoll(&pfd, 1, &ts, NULL));
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	ASSERT_EQ(1, ppoll(&pfd, 1, &ts, NULL));
	EXPECT_EQ(POLLIN, pfd.revents);
}

TEST_F(poll, select_reports_readable_once_done_and_exceptional_once_drained)
{
	struct timeval tv = { 0 };
	fd_set rd, wr, ex;

	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_ZERO(&ex);
	FD_SET(self->root, &rd);
	FD_SET(self->root, &wr);
	FD_SET(self->root, &ex);
	ASSERT_EQ(0, select(self->root + 1, &rd, &wr, &ex, &tv));

	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_ZERO(&ex);
	FD_SET(self->root, &rd);
	FD_SET(self->root, &wr);
	FD_SET(self->root, &ex);
	tv.tv_sec = 0;
	tv.tv_usec = 0;
	/*
	 * Readable, never writable; drained (nothing below it is open) is
	 * POLLPRI, which select() reports as an exceptional condition.
	 */
	ASSERT_EQ(2, select(self->root + 1, &rd, &wr, &ex, &tv));
	EXPECT_TRUE(FD_ISSET(self->root, &rd));
	EXPECT_FALSE(FD_ISSET(self->root, &wr));
	EXPECT_TRUE(FD_ISSET(self->root, &ex));
}

TEST_F(poll, epoll_reports_exactly_in_rdnorm_once_done_and_pri_once_drained)
{
	struct epoll_event ev;

	ASSERT_EQ(0, epoll_add(self->ep, self->root, ALL_EPOLL_EVENTS, 7));
	ASSERT_EQ(0, epoll_wait(self->ep, &ev, 1, 0));

	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	ASSERT_EQ(1, epoll_wait(self->ep, &ev, 1, 0));
	EXPECT_EQ(7, ev.data.u64);
	EXPECT_EQ(EPOLLIN | EPOLLRDNORM | EPOLLPRI, ev.events);
	/* Level-triggered: still reported. */
	ASSERT_EQ(1, epoll_wait(self->ep, &ev, 1, 0));
	EXPECT_EQ(EPOLLIN | EPOLLRDNORM | EPOLLPRI, ev.events);
}

TEST_F(poll, epoll_sees_cancel_made_by_ancestor)
{
	struct epoll_event ev;
	int child = t_child(self->root, 0);
	int grand = t_child(child, 0);

	ASSERT_LE(0, child);
	ASSERT_LE(0, grand);
	ASSERT_EQ(0, epoll_add(self->ep, grand, EPOLLIN, 3));
	ASSERT_EQ(0, epoll_wait(self->ep, &ev, 1, 0));

	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	ASSERT_EQ(1, epoll_wait(self->ep, &ev, 1, 0));
	EXPECT_EQ(3, ev.data.u64);
	EXPECT_EQ(EPOLLIN, ev.events);
	close(grand);
	close(child);
}

TEST_F(poll, parent_stays_unreadable_when_child_is_canceled)
{
	struct epoll_event ev;
	int child = t_child(self->root, 0);

	ASSERT_LE(0, child);
	ASSERT_EQ(0, epoll_add(self->ep, self->root, EPOLLIN, 1));
	ASSERT_EQ(0, t_cancel(child, 0, NULL));
	EXPECT_TRUE(t_readable(child, 0));
	EXPECT_EQ(0, epoll_wait(self->ep, &ev, 1, 0));
	EXPECT_EQ(0, poll_revents(self->root, 0));
	close(child);
}

TEST_F(poll, epoll_edge_triggered_delivers_once)
{
	struct epoll_event ev;
	int child = t_child(self->root, 0);

	ASSERT_LE(0, child);
	ASSERT_EQ(0, epoll_add(self->ep, child, EPOLLIN | EPOLLET, 5));
	ASSERT_EQ(0, epoll_wait(self->ep, &ev, 1, 0));

	ASSERT_EQ(0, t_cancel(child, 1, "first"));
	ASSERT_EQ(1, epoll_wait(self->ep, &ev, 1, 0));
	EXPECT_EQ(5, ev.data.u64);
	EXPECT_EQ(EPOLLIN, ev.events);
	/* One edge: nothing more, and later cancels make no new edge. */
	EXPECT_EQ(0, epoll_wait(self->ep, &ev, 1, 0));
	ASSERT_EQ(0, t_cancel(child, 2, "second"));
	ASSERT_EQ(0, t_cancel(self->root, 3, "ancestor"));
	EXPECT_EQ(0, epoll_wait(self->ep, &ev, 1, 20));
	close(child);
}

TEST_F(poll, epoll_oneshot_delivers_once_until_rearmed)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT,
				  .data.u64 = 9 };

	ASSERT_EQ(0, epoll_ctl(self->ep, EPOLL_CTL_ADD, self->root, &ev));
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	ASSERT_EQ(1, epoll_wait(self->ep, &ev, 1, 0));
	EXPECT_EQ(0, epoll_wait(self->ep, &ev, 1, 0));
	/* Re-arming a done context reports it again at once. */
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.u64 = 9;
	ASSERT_EQ(0, epoll_ctl(self->ep, EPOLL_CTL_MOD, self->root, &ev));
	ASSERT_EQ(1, epoll_wait(self->ep, &ev, 1, 0));
	EXPECT_EQ(EPOLLIN, ev.events);
}

TEST_F(poll, epoll_set_in_forked_child_is_woken)
{
	int ready[2];
	pid_t pid;

	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 11 };
		int ep = epoll_create1(EPOLL_CLOEXEC);

		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, self->root, &ev))
			_exit(10);
		if (epoll_wait(ep, &ev, 1, 0) != 0)
			_exit(11);	/* readable before the cancel */
		if (!t_sync_post(ready[1]))
			_exit(12);
		if (epoll_wait(ep, &ev, 1, 20000) != 1)
			_exit(13);	/* never woken */
		if (ev.data.u64 != 11 || ev.events != EPOLLIN)
			_exit(14);
		if (t_err(self->root) != ECANCELED)
			_exit(15);
		_exit(0);
	}
	ASSERT_TRUE(t_sync_wait(ready[0], 20000));
	/* Cancel only once the child sleeps in epoll_wait(). */
	EXPECT_TRUE(t_wait_blocked(pid, 10000));
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_EQ(0, t_wait_status(pid));
	close(ready[0]);
	close(ready[1]);
}

TEST_F(poll, epoll_set_shared_across_fork_is_woken_in_child)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 12 };
	int ready[2];
	pid_t pid;

	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, epoll_ctl(self->ep, EPOLL_CTL_ADD, self->root, &ev));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The parent's epoll instance, inherited. */
		if (!t_sync_post(ready[1]))
			_exit(12);
		if (epoll_wait(self->ep, &ev, 1, 20000) != 1)
			_exit(13);
		if (ev.data.u64 != 12 || ev.events != EPOLLIN)
			_exit(14);
		_exit(0);
	}
	ASSERT_TRUE(t_sync_wait(ready[0], 20000));
	EXPECT_TRUE(t_wait_blocked(pid, 10000));
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_EQ(0, t_wait_status(pid));
	close(ready[0]);
	close(ready[1]);
}

TEST_F(poll, poll_on_watch_only_fd_reports_cancel)
{
	struct epoll_event ev;
	int w = t_watch(self->root, 0);

	ASSERT_LE(0, w);
	ASSERT_EQ(0, epoll_add(self->ep, w, ALL_EPOLL_EVENTS, 4));
	EXPECT_EQ(0, poll_revents(w, 0));
	EXPECT_EQ(0, epoll_wait(self->ep, &ev, 1, 0));

	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_EQ(DRAINED_EVENTS, poll_revents(w, 0));
	ASSERT_EQ(1, epoll_wait(self->ep, &ev, 1, 0));
	EXPECT_EQ(EPOLLIN | EPOLLRDNORM | EPOLLPRI, ev.events);
	close(w);
}

TEST_F(poll, poll_on_value_child_reports_parent_cancel)
{
	int v = t_child_value(self->root, "k", "v", 1);

	ASSERT_LE(0, v);
	EXPECT_EQ(0, poll_revents(v, 0));
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_EQ(DRAINED_EVENTS, poll_revents(v, 0));
	close(v);
}

TEST_F(poll, born_done_child_polls_readable_at_once)
{
	struct epoll_event ev;
	int child;

	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	child = t_child(self->root, 0);
	ASSERT_LE(0, child);
	EXPECT_EQ(DRAINED_EVENTS, poll_revents(child, 0));
	ASSERT_EQ(0, epoll_add(self->ep, child, EPOLLIN | EPOLLET, 1));
	/* Already done when added: the edge-triggered set reports it once. */
	ASSERT_EQ(1, epoll_wait(self->ep, &ev, 1, 0));
	EXPECT_EQ(0, epoll_wait(self->ep, &ev, 1, 0));
	close(child);
}

#define NR_MANY 300

TEST_F(poll, many_fds_in_one_epoll_set_all_fire_on_root_cancel)
{
	static struct epoll_event evs[NR_MANY + 1];
	static int fds[NR_MANY];
	static bool seen[NR_MANY];
	int i, n, total = 0, rounds = 0;

	ASSERT_TRUE(t_raise_nofile(NR_MANY + 64));
	/* A mix: children, grandchildren, watch fds and values-only nodes. */
	for (i = 0; i < NR_MANY; i++) {
		int base = i >= 3 ? fds[i / 3] : self->root;

		switch (i % 4) {
		case 0:
			fds[i] = t_child(self->root, 0);
			break;
		case 1:
			fds[i] = t_child(base, 0);
			break;
		case 2:
			fds[i] = t_watch(base, 0);
			break;
		default:
			fds[i] = t_child_value(base, "k", "v", 1);
			break;
		}
		ASSERT_LE(0, fds[i]) TH_LOG("fd %d: %s", i, strerror(errno));
		ASSERT_EQ(0, epoll_add(self->ep, fds[i], EPOLLIN, i));
	}
	ASSERT_EQ(0, epoll_wait(self->ep, evs, NR_MANY + 1, 0));

	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	/* Everything is done by now: no waiting, a few calls collect all. */
	while (total < NR_MANY && rounds++ < 8) {
		n = epoll_wait(self->ep, evs, NR_MANY + 1, 0);
		ASSERT_LE(0, n);
		for (i = 0; i < n; i++) {
			__u64 idx = evs[i].data.u64;

			ASSERT_GT(NR_MANY, idx);
			EXPECT_EQ(EPOLLIN, evs[i].events);
			if (!seen[idx]) {
				seen[idx] = true;
				total++;
			}
		}
	}
	EXPECT_EQ(NR_MANY, total);
	for (i = 0; i < NR_MANY; i++) {
		EXPECT_TRUE(seen[i]) TH_LOG("fd %d not reported", i);
		close(fds[i]);
	}
}

struct blocked_waiter {
	int fd;			/* what to wait on */
	int ep;			/* epoll set, for the epoll waiter */
	pid_t tid;		/* the waiter's thread id, set before it waits */
	int ret;		/* what the wait returned */
	int err;		/* errno if it failed */
	int revents;		/* events reported */
	volatile bool started;
};

static void *poll_waiter(void *arg)
{
	struct blocked_waiter *w = arg;
	struct pollfd pfd = { .fd = w->fd, .events = ALL_POLL_EVENTS };

	w->tid = t_gettid();
	__atomic_store_n(&w->started, true, __ATOMIC_RELEASE);
	w->ret = poll(&pfd, 1, 20000);
	w->err = errno;
	w->revents = pfd.revents;
	return NULL;
}

static void *epoll_waiter(void *arg)
{
	struct blocked_waiter *w = arg;
	struct epoll_event ev = { 0 };

	w->tid = t_gettid();
	__atomic_store_n(&w->started, true, __ATOMIC_RELEASE);
	w->ret = epoll_wait(w->ep, &ev, 1, 20000);
	w->err = errno;
	w->revents = (int)ev.events;
	return NULL;
}

static void *select_waiter(void *arg)
{
	struct blocked_waiter *w = arg;
	struct timeval tv = { .tv_sec = 20 };
	fd_set rd;

	FD_ZERO(&rd);
	FD_SET(w->fd, &rd);
	w->tid = t_gettid();
	__atomic_store_n(&w->started, true, __ATOMIC_RELEASE);
	w->ret = select(w->fd + 1, &rd, NULL, NULL, &tv);
	w->err = errno;
	w->revents = FD_ISSET(w->fd, &rd) ? POLLIN : 0;
	return NULL;
}

/* Start @fn in a thread and return once it sleeps in its wait. */
static bool start_blocked_waiter(pthread_t *th, void *(*fn)(void *),
				 struct blocked_waiter *w)
{
	if (pthread_create(th, NULL, fn, w))
		return false;
	while (!__atomic_load_n(&w->started, __ATOMIC_ACQUIRE))
		sched_yield();
	return t_wait_blocked(w->tid, 10000);
}

TEST_F(poll, blocked_poll_in_other_thread_is_woken_by_cancel)
{
	struct blocked_waiter w = { .fd = self->root };
	pthread_t th;

	ASSERT_TRUE(start_blocked_waiter(&th, poll_waiter, &w));
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(1, w.ret) TH_LOG("poll: %s", strerror(w.err));
	/* Woken as it became done; drained (POLLPRI) maybe not yet. */
	EXPECT_EQ(DONE_EVENTS, w.revents & ~POLLPRI);
}

TEST_F(poll, blocked_poll_on_grandchild_is_woken_by_root_cancel)
{
	int child = t_child(self->root, 0);
	int grand = t_child(child, 0);
	int gw = t_watch(grand, 0);
	struct blocked_waiter w = { .fd = gw };
	pthread_t th;

	ASSERT_LE(0, gw);
	ASSERT_TRUE(start_blocked_waiter(&th, poll_waiter, &w));
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(1, w.ret);
	/* Woken as it became done; drained maybe not yet. */
	EXPECT_EQ(DONE_EVENTS, w.revents & ~POLLPRI);
	close(gw);
	close(grand);
	close(child);
}

TEST_F(poll, blocked_epoll_wait_in_other_thread_is_woken_by_cancel)
{
	struct blocked_waiter w = { .fd = self->root, .ep = self->ep };
	pthread_t th;

	ASSERT_EQ(0, epoll_add(self->ep, self->root, EPOLLIN, 1));
	ASSERT_TRUE(start_blocked_waiter(&th, epoll_waiter, &w));
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(1, w.ret) TH_LOG("epoll_wait: %s", strerror(w.err));
	EXPECT_EQ(EPOLLIN, w.revents);
}

TEST_F(poll, blocked_select_in_other_thread_is_woken_by_cancel)
{
	struct blocked_waiter w = { .fd = self->root };
	pthread_t th;

	ASSERT_TRUE(start_blocked_waiter(&th, select_waiter, &w));
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(1, w.ret) TH_LOG("select: %s", strerror(w.err));
	EXPECT_EQ(POLLIN, w.revents);
}

TEST_F(poll, blocked_poll_is_woken_by_deadline)
{
	int child = t_child_timeout(self->root, 100 * 1000 * 1000);
	struct blocked_waiter w = { .fd = child };
	pthread_t th;

	ASSERT_LE(0, child);
	ASSERT_EQ(0, pthread_create(&th, NULL, poll_waiter, &w));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(1, w.ret);
	/* Woken as it became done; drained (POLLPRI) maybe not yet. */
	EXPECT_EQ(DONE_EVENTS, w.revents & ~POLLPRI);
	EXPECT_EQ(ETIMEDOUT, t_err(child));
	close(child);
}

TEST_HARNESS_MAIN
