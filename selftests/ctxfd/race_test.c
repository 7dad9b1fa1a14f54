// SPDX-License-Identifier: GPL-2.0
/*
 * Races, each run for many rounds with the two sides pinned to different
 * CPUs (when there are two) and released together by a barrier, with a
 * random spin on either side so that the rounds sweep the window:
 *
 *  - lost wakeups: a waiter blocked in poll(), epoll_wait() or read()
 *    while another CPU cancels (or a deadline fires) must always wake up;
 *    a finite timeout is a failure (pidfd's poll once lost such wakeups);
 *  - parent and child canceled at once: the child's cause is one of the
 *    two, never a mix of code and message;
 *  - children created while the parent is canceled: once the cancel has
 *    returned, no active child is left under the done parent, and later
 *    children are born done;
 *  - the last close of a cancel fd against a cancel through a dup;
 *  - two threads creating and canceling children of one root;
 *  - a child's destructor against its parent's cancel walk (the weak
 *    parent->children link).
 *
 * The lost-wakeup loops run 10 000 rounds each; the other races run
 * fewer (ROUNDS_OTHER, ROUNDS_WALK) to keep the file within about two
 * minutes under TCG on an idle 2-CPU host (it measured 95 s; a loaded
 * host can take twice that, hence the generous time limits).
 * CTXFD_RACE_ROUNDS scales every count (a percentage).
 */
#include "kselftest_harness.h"
#include "ctxfd_test.h"

#include <pthread.h>
#include <sys/epoll.h>

#define ROUNDS_WAKEUP	10000
#define ROUNDS_OTHER	5000
#define ROUNDS_WALK	2000	/* 8 children per round */
#define WAIT_MS		10000	/* a waiter's timeout: hitting it is a failure */
#define ROUND_MS	30000	/* how long the main thread waits for a round */
#define SPIN_MAX	2048	/* random delay, in busy-loop iterations */

static void spin(unsigned int n)
{
	volatile unsigned int i;

	for (i = 0; i < n; i++)
		;
}

static double ms_since(__u64 start)
{
	return (double)(t_now_ns(CLOCK_MONOTONIC) - start) / 1e6;
}

/*
 * A two-thread barrier that spins: both sides leave it within
 * nanoseconds of each other (a futex barrier releases the sleeper a
 * wakeup latency late, and costs two context switches per round). Yields
 * now and then, so that it also works with both threads on one CPU.
 */
struct spin_barrier {
	unsigned int arrived;
	unsigned int generation;
};

static void sb_wait(struct spin_barrier *b)
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

/*
 * Two threads working in rounds: the main thread (the test, pinned to
 * CPU 1) prepares a round, both meet at @go, each spins for its random
 * delay and acts; the helper (pinned to CPU 0) runs @round and bumps
 * @rounds_done. Only the main thread asserts.
 */
struct duo {
	struct spin_barrier go;
	unsigned int rounds_done;
	unsigned int rounds_started;
	volatile int stop;
	void (*round)(struct duo *d);
	unsigned int spin;	/* the helper's delay this round */
	/* Per-round input of the helper. */
	int fd, fd2, epfd;
	/* Per-round output of the helper. */
	int ret, err;
	__u64 t_enter;		/* when it started its blocking call */
	struct ctxfd_event ev;
	/* For the creator race. */
	int *kids;
	int max_kids;
	int nr_kids;		/* published with release semantics */
	int post_kid;		/* created after it saw @canceled */
	int canceled;
	pthread_t thread;
	bool started;
};

static void *duo_helper(void *arg)
{
	struct duo *d = arg;

	t_pin_cpu(0);
	for (;;) {
		sb_wait(&d->go);
		if (d->stop)
			break;
		spin(d->spin);
		d->round(d);
		__atomic_add_fetch(&d->rounds_done, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static int duo_start(struct duo *d, void (*round)(struct duo *d))
{
	memset(d, 0, sizeof(*d));
	d->round = round;
	d->epfd = -1;
	if (pthread_create(&d->thread, NULL, duo_helper, d))
		return -1;
	d->started = true;
	t_pin_cpu(1);
	return 0;
}

static void duo_stop(struct duo *d)
{
	if (!d->started)
		return;
	d->stop = 1;
	sb_wait(&d->go);
	pthread_join(d->thread, NULL);
	d->started = false;
}

/* Release the helper for one round (after the caller set it up). */
static void duo_go(struct duo *d)
{
	d->rounds_started++;
	sb_wait(&d->go);
}

/*
 * Wait, at most ROUND_MS, until the helper finished the round; false if
 * it did not (it is stuck: a lost wakeup).
 */
static bool duo_wait(struct duo *d)
{
	__u64 end = t_now_ns(CLOCK_MONOTONIC) + ROUND_MS * 1000000ULL;
	unsigned int n = 0;

	while (__atomic_load_n(&d->rounds_done, __ATOMIC_ACQUIRE) !=
	       d->rounds_started) {
		if (++n % 256 == 0) {
			if (t_now_ns(CLOCK_MONOTONIC) > end)
				return false;
			sched_yield();
		}
	}
	return true;
}

FIXTURE(race) {
	int dev;
	int root;
	struct duo duo;
	__u64 rng;
};

FIXTURE_SETUP(race)
{
	self->dev = ctxfd_dev_or_skip();
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);
	self->rng = 0x2545F4914F6CDD1DULL;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		TH_LOG("one CPU: both sides share it");
}

FIXTURE_TEARDOWN(race)
{
	/* A failed round may leave the helper blocked: exit kills it. */
	close(self->root);
	close(self->dev);
}

/* Random delays: one side at a time, so both orders get swept. */
static void pick_spins(FIXTURE_DATA(race) *self, unsigned int *mine)
{
	__u64 r = t_rand(&self->rng);
	unsigned int amount = (unsigned int)(r >> 32) % SPIN_MAX;

	if (r & 1) {
		self->duo.spin = amount;
		*mine = 0;
	} else {
		/* Longer on this side: let the waiter get to sleep too. */
		self->duo.spin = 0;
		*mine = (r & 2) ? amount : amount * 8;
	}
}

/* ---- lost wakeups ------------------------------------------------------ */

static void round_poll(struct duo *d)
{
	struct pollfd pfd = { .fd = d->fd, .events = POLLIN };

	d->t_enter = t_now_ns(CLOCK_MONOTONIC);
	d->ret = poll(&pfd, 1, WAIT_MS);
	d->err = d->ret == 1 ? pfd.revents : -errno;
}

static void round_epoll(struct duo *d)
{
	struct epoll_event ev = {};

	d->t_enter = t_now_ns(CLOCK_MONOTONIC);
	d->ret = epoll_wait(d->epfd, &ev, 1, WAIT_MS);
	d->err = d->ret == 1 ? (int)ev.events : -errno;
}

static void round_read(struct duo *d)
{
	d->t_enter = t_now_ns(CLOCK_MONOTONIC);
	d->ret = (int)read(d->fd, &d->ev, sizeof(d->ev));
	d->err = d->ret < 0 ? errno : 0;
}

enum waiter { W_POLL, W_EPOLL, W_READ };

/*
 * The lost-wakeup loop: per round a fresh child of the root; the helper
 * blocks on it, the main thread cancels it (or, with @timeout_ns, a
 * deadline that short cancels it). Counts the rounds in which the waiter
 * entered its call before the wakeup source had finished.
 */
static void lost_wakeup_loop(struct __test_metadata *_metadata,
			     FIXTURE_DATA(race) *self, enum waiter how,
			     __s64 timeout_ns)
{
	void (*fn[])(struct duo *) = { round_poll, round_epoll, round_read };
	const char *names[] = { "poll", "epoll_wait", "read" };
	int n = t_race_rounds(ROUNDS_WAKEUP), i, raced = 0, epfd = -1;
	struct duo *d = &self->duo;
	__u64 start = t_now_ns(CLOCK_MONOTONIC), t_done;

	ASSERT_EQ(0, duo_start(d, fn[how]));
	if (how == W_EPOLL) {
		epfd = epoll_create1(EPOLL_CLOEXEC);
		ASSERT_LE(0, epfd);
		d->epfd = epfd;
	}
	for (i = 0; i < n; i++) {
		unsigned int mine;
		int c;

		c = timeout_ns ? t_child_timeout(self->root, timeout_ns) :
				 t_child(self->root, 0);
		ASSERT_LE(0, c);
		if (how == W_EPOLL) {
			struct epoll_event ev = { .events = EPOLLIN };

			ASSERT_EQ(0, epoll_ctl(epfd, EPOLL_CTL_ADD, c, &ev));
		}
		d->fd = c;
		pick_spins(self, &mine);
		duo_go(d);
		spin(mine);
		if (!timeout_ns) {
			ASSERT_EQ(0, t_cancel(c, 0, NULL));
		}
		t_done = t_now_ns(CLOCK_MONOTONIC);
		ASSERT_TRUE(duo_wait(d))
			TH_LOG("round %d: %s never returned: lost wakeup",
			       i, names[how]);
		if (how == W_READ) {
			ASSERT_EQ((int)sizeof(struct ctxfd_event), d->ret)
				TH_LOG("round %d: read: %s", i,
				       strerror(d->err));
			ASSERT_EQ(timeout_ns ? ETIMEDOUT : ECANCELED,
				  d->ev.err);
		} else {
			ASSERT_EQ(1, d->ret)
				TH_LOG("round %d: %s timed out after %d ms: lost wakeup",
				       i, names[how], WAIT_MS);
			ASSERT_NE(0, d->err & POLLIN);
		}
		if (!timeout_ns && d->t_enter < t_done)
			raced++;
		ASSERT_EQ(0, close(c));
	}
	duo_stop(d);
	if (epfd >= 0)
		close(epfd);
	EXPECT_EQ(0, t_nr_children(self->root));
	if (timeout_ns)
		TH_LOG("%s woken by a %lld ns deadline: %d rounds in %.0f ms",
		       names[how], (long long)timeout_ns, n, ms_since(start));
	else
		TH_LOG("%s: %d rounds in %.0f ms; in %d the waiter entered before the cancel returned",
		       names[how], n, ms_since(start), raced);
}

TEST_F_TIMEOUT(race, poll_wakeup_by_cancel_on_other_cpu_is_never_lost, 300)
{
	lost_wakeup_loop(_metadata, self, W_POLL, 0);
}

TEST_F_TIMEOUT(race, epoll_wakeup_by_cancel_on_other_cpu_is_never_lost, 300)
{
	lost_wakeup_loop(_metadata, self, W_EPOLL, 0);
}

TEST_F_TIMEOUT(race, blocking_read_wakeup_by_cancel_on_other_cpu_is_never_lost,
	       300)
{
	lost_wakeup_loop(_metadata, self, W_READ, 0);
}

TEST_F_TIMEOUT(race, poll_wakeup_by_deadline_timer_is_never_lost, 300)
{
	lost_wakeup_loop(_metadata, self, W_POLL, 20000);
}

/* ---- parent and child canceled at once ------------------------------- */

static void round_cancel_child(struct duo *d)
{
	d->ret = t_cancel(d->fd, 2, "child");
	d->err = d->ret ? errno : 0;
}

TEST_F_TIMEOUT(race, parent_and_child_cancel_give_child_one_whole_cause, 300)
{
	int n = t_race_rounds(ROUNDS_OTHER), i, by_parent = 0, by_child = 0;
	struct duo *d = &self->duo;
	__u64 start = t_now_ns(CLOCK_MONOTONIC);

	ASSERT_EQ(0, duo_start(d, round_cancel_child));
	for (i = 0; i < n; i++) {
		struct ctxfd_info ri, ci, gi;
		struct ctxfd_event ev;
		unsigned int mine;
		int r = t_new(self->dev, 0), c, g;

		ASSERT_LE(0, r);
		c = t_child(r, 0);
		ASSERT_LE(0, c);
		g = t_child(c, 0);
		ASSERT_LE(0, g);
		d->fd = c;
		pick_spins(self, &mine);
		duo_go(d);
		spin(mine);
		ASSERT_EQ(0, t_cancel(r, 1, "parent"));
		ASSERT_TRUE(duo_wait(d));
		ASSERT_EQ(0, d->ret) TH_LOG("child cancel: %s",
					    strerror(d->err));

		ASSERT_EQ(0, t_info(r, &ri));
		ASSERT_EQ(0, t_info(c, &ci));
		ASSERT_EQ(0, t_info(g, &gi));
		ASSERT_EQ(1, ri.cause_code);
		ASSERT_STREQ("parent", ri.cause_msg);
		ASSERT_EQ(ECANCELED, ci.err);
		if (ci.cause_code == 1) {
			ASSERT_STREQ("parent", ci.cause_msg)
				TH_LOG("round %d: code of one cause, message of the other",
				       i);
			by_parent++;
		} else {
			ASSERT_EQ(2, ci.cause_code) TH_LOG("round %d", i);
			ASSERT_STREQ("child", ci.cause_msg)
				TH_LOG("round %d: code of one cause, message of the other",
				       i);
			by_child++;
		}
		/* The grandchild went down with its parent, same cause. */
		ASSERT_EQ(ci.cause_code, gi.cause_code);
		ASSERT_STREQ(ci.cause_msg, gi.cause_msg);
		/* read() agrees with INFO. */
		ASSERT_EQ((ssize_t)sizeof(ev), read(c, &ev, sizeof(ev)));
		ASSERT_EQ(ci.cause_code, ev.cause_code);
		ASSERT_EQ(0, ri.nr_children);
		ASSERT_EQ(0, ci.nr_children);
		close(g);
		close(c);
		close(r);
	}
	duo_stop(d);
	TH_LOG("%d rounds in %.0f ms: child canceled by the parent %d times, by itself %d times",
	       n, ms_since(start), by_parent, by_child);
}

/* ---- children created while the parent is canceled --------------------- */

static void round_create_kids(struct duo *d)
{
	int n = 0;

	d->post_kid = -1;
	while (n < d->max_kids) {
		int fd;

		if (__atomic_load_n(&d->canceled, __ATOMIC_ACQUIRE)) {
			/* The cancel has returned: this child is born done. */
			d->post_kid = t_child(d->fd, 0);
			break;
		}
		fd = t_child(d->fd, 0);
		if (fd < 0)
			break;
		d->kids[n++] = fd;
		__atomic_store_n(&d->nr_kids, n, __ATOMIC_RELEASE);
	}
}

TEST_F_TIMEOUT(race, children_created_during_parent_cancel_are_all_done, 300)
{
	int n = t_race_rounds(ROUNDS_OTHER), i, j, max = 64, total = 0, early = 0;
	struct duo *d = &self->duo;
	__u64 start = t_now_ns(CLOCK_MONOTONIC);
	int *kids = calloc((size_t)max, sizeof(int));

	ASSERT_NE(NULL, kids);
	ASSERT_EQ(0, duo_start(d, round_create_kids));
	d->kids = kids;
	d->max_kids = max;
	for (i = 0; i < n; i++) {
		struct ctxfd_info info;
		unsigned int mine;
		int r = t_new(self->dev, 0), seen, all;

		ASSERT_LE(0, r);
		d->fd = r;
		d->nr_kids = 0;
		d->canceled = 0;
		pick_spins(self, &mine);
		mine *= 4;	/* let a few children appear first */
		duo_go(d);
		spin(mine);
		ASSERT_EQ(0, t_cancel(r, 3, "parent"));
		/* Every child whose creation returned so far is done now. */
		seen = __atomic_load_n(&d->nr_kids, __ATOMIC_ACQUIRE);
		for (j = 0; j < seen; j++) {
			ASSERT_EQ(ECANCELED, t_err(kids[j]))
				TH_LOG("round %d: child %d of %d active after the parent's cancel returned",
				       i, j, seen);
			ASSERT_TRUE(t_readable(kids[j], 0));
		}
		ASSERT_EQ(0, t_nr_children(r));
		__atomic_store_n(&d->canceled, 1, __ATOMIC_RELEASE);
		ASSERT_TRUE(duo_wait(d));

		all = d->nr_kids;
		for (j = 0; j < all; j++) {
			ASSERT_EQ(0, t_info(kids[j], &info));
			ASSERT_EQ(ECANCELED, info.err) TH_LOG("round %d child %d",
							      i, j);
			ASSERT_EQ(3, info.cause_code);
			ASSERT_EQ(0, info.nr_children);
		}
		if (all < max) {
			ASSERT_LE(0, d->post_kid) TH_LOG("create after cancel: %s",
							 strerror(errno));
			ASSERT_EQ(0, t_info(d->post_kid, &info));
			ASSERT_EQ(ECANCELED, info.err)
				TH_LOG("round %d: child created after the cancel is active",
				       i);
			ASSERT_EQ(3, info.cause_code);
			ASSERT_STREQ("parent", info.cause_msg);
			close(d->post_kid);
		}
		ASSERT_EQ(0, t_nr_children(r));
		total += all;
		early += seen;
		for (j = 0; j < all; j++)
			close(kids[j]);
		close(r);
	}
	duo_stop(d);
	free(kids);
	TH_LOG("%d rounds in %.0f ms: %d children created, %d of them seen done when the cancel returned",
	       n, ms_since(start), total, early);
}

/* ---- last close against cancel through a dup ----------------------- */

static void round_close_one(struct duo *d)
{
	d->ret = close(d->fd);
	d->err = d->ret ? errno : 0;
}

static void round_close_both(struct duo *d)
{
	d->ret = close(d->fd);
	d->err = d->ret ? errno : 0;
	if (!d->ret) {
		d->ret = close(d->fd2);
		d->err = d->ret ? errno : 0;
	}
}

/* One thread closes the original fd, another cancels through its dup. */
TEST_F_TIMEOUT(race, close_of_cancel_fd_and_cancel_through_dup_both_succeed,
	       300)
{
	int n = t_race_rounds(ROUNDS_OTHER), i;
	struct duo *d = &self->duo;
	__u64 start = t_now_ns(CLOCK_MONOTONIC);

	ASSERT_EQ(0, duo_start(d, round_close_one));
	for (i = 0; i < n; i++) {
		struct ctxfd_info info;
		unsigned int mine;
		int c = t_child(self->root, 0), dup_fd, w;

		ASSERT_LE(0, c);
		dup_fd = dup(c);
		ASSERT_LE(0, dup_fd);
		w = t_watch(c, 0);
		ASSERT_LE(0, w);
		d->fd = c;
		pick_spins(self, &mine);
		duo_go(d);
		spin(mine);
		ASSERT_EQ(0, t_cancel(dup_fd, 7, "dup"))
			TH_LOG("round %d: %s", i, strerror(errno));
		ASSERT_TRUE(duo_wait(d));
		ASSERT_EQ(0, d->ret) TH_LOG("close: %s", strerror(d->err));
		ASSERT_TRUE(t_readable(w, 0));
		ASSERT_EQ(0, t_info(w, &info));
		ASSERT_EQ(ECANCELED, info.err);
		/* The dup kept the file open: only the cancel could act. */
		ASSERT_EQ(7, info.cause_code);
		ASSERT_STREQ("dup", info.cause_msg);
		ASSERT_EQ(0, close(dup_fd));
		ASSERT_EQ(0, t_info(w, &info));
		ASSERT_EQ(7, info.cause_code);
		close(w);
	}
	duo_stop(d);
	EXPECT_EQ(0, t_nr_children(self->root));
	EXPECT_EQ(0, t_err(self->root));
	TH_LOG("%d rounds in %.0f ms", n, ms_since(start));
}

/*
 * One thread closes both fds of the only cancel-capable file while the
 * other cancels through one of them: the cancel either gets in (0, and
 * its cause sticks: the ioctl held the file, so the release came after)
 * or finds the fd gone (EBADF, and the release canceled with the plain
 * ECANCELED). Either way the context ends up done, never half.
 */
TEST_F_TIMEOUT(race, last_close_racing_cancel_through_dup_leaves_context_done,
	       300)
{
	int n = t_race_rounds(ROUNDS_OTHER), i, won = 0, lost = 0;
	struct duo *d = &self->duo;
	__u64 start = t_now_ns(CLOCK_MONOTONIC);

	ASSERT_EQ(0, duo_start(d, round_close_both));
	for (i = 0; i < n; i++) {
		struct ctxfd_info info;
		unsigned int mine;
		int c = t_child(self->root, 0), dup_fd, w, ret, err;

		ASSERT_LE(0, c);
		dup_fd = dup(c);
		ASSERT_LE(0, dup_fd);
		w = t_watch(c, 0);
		ASSERT_LE(0, w);
		d->fd = c;
		d->fd2 = dup_fd;
		pick_spins(self, &mine);
		duo_go(d);
		spin(mine);
		ret = t_cancel(dup_fd, 7, "dup");
		err = errno;
		ASSERT_TRUE(duo_wait(d));
		ASSERT_EQ(0, d->ret) TH_LOG("close: %s", strerror(d->err));
		ASSERT_TRUE(t_readable(w, 0)) TH_LOG("round %d: not done", i);
		ASSERT_EQ(0, t_info(w, &info));
		ASSERT_EQ(ECANCELED, info.err);
		if (ret == 0) {
			ASSERT_EQ(7, info.cause_code) TH_LOG("round %d", i);
			ASSERT_STREQ("dup", info.cause_msg);
			won++;
		} else {
			ASSERT_EQ(EBADF, err) TH_LOG("round %d: %s", i,
						     strerror(err));
			ASSERT_EQ(ECANCELED, info.cause_code);
			lost++;
		}
		close(w);
	}
	duo_stop(d);
	EXPECT_EQ(0, t_nr_children(self->root));
	TH_LOG("%d rounds in %.0f ms: cancel first %d times, close first %d times",
	       n, ms_since(start), won, lost);
}

/* ---- create and cancel children of one root from two threads -------- */

static int churn(int root, int iters, __u64 seed)
{
	__u64 rng = seed;
	int i;

	for (i = 0; i < iters; i++) {
		__u64 r = t_rand(&rng);
		int c = t_child(root, (r & 8) ? CTXFD_CREATE_NO_CANCEL_ON_CLOSE : 0);
		int g;

		if (c < 0)
			return -1;
		g = t_child(c, 0);
		if (g < 0)
			return -1;
		switch (r & 3) {
		case 0:		/* cancel the child, then close */
			if (t_cancel(c, 1, "c"))
				return -1;
			break;
		case 1:		/* cancel the grandchild only */
			if (t_cancel(g, 2, NULL))
				return -1;
			break;
		case 2:		/* close the grandchild first */
			close(g);
			g = -1;
			break;
		default:	/* just close: cancel on close, or not */
			break;
		}
		if (g >= 0)
			close(g);
		close(c);
	}
	return 0;
}

struct churner {
	int root, iters, ret;
	pthread_barrier_t *go;
};

static void *churn_thread(void *arg)
{
	struct churner *ch = arg;

	t_pin_cpu(0);
	pthread_barrier_wait(ch->go);
	ch->ret = churn(ch->root, ch->iters, 0xfeedULL);
	return NULL;
}

TEST_F_TIMEOUT(race, two_threads_creating_and_canceling_children_leave_none,
	       300)
{
	int n = t_race_rounds(ROUNDS_OTHER) * 2;
	pthread_barrier_t go;
	struct churner ch = { .root = self->root, .iters = n, .go = &go };
	__u64 start;
	pthread_t t;
	int ret;

	ASSERT_EQ(0, pthread_barrier_init(&go, NULL, 2));
	ASSERT_EQ(0, pthread_create(&t, NULL, churn_thread, &ch));
	t_pin_cpu(1);
	pthread_barrier_wait(&go);
	start = t_now_ns(CLOCK_MONOTONIC);
	ret = churn(self->root, n, 0xbeefULL);
	pthread_join(t, NULL);
	pthread_barrier_destroy(&go);
	EXPECT_EQ(0, ret) TH_LOG("main thread: %s", strerror(errno));
	EXPECT_EQ(0, ch.ret);
	EXPECT_EQ(0, t_nr_children(self->root));
	EXPECT_EQ(0, t_err(self->root));
	EXPECT_FALSE(t_readable(self->root, 0));
	TH_LOG("2 x %d create/cancel iterations in %.0f ms", n, ms_since(start));
}

/* ---- a child's last close against its parent's cancel walk ------------ */

/*
 * The parent's children list holds no references: a child whose last
 * fd is closed is unlinked by its destructor under the tree lock, while
 * the parent's cancel walk may be visiting it. Both must finish cleanly
 * (the VM harness checks the kernel log for use-after-free reports).
 */
static void round_close_kids(struct duo *d)
{
	int i;

	for (i = 0; i < d->max_kids; i++)
		close(d->kids[i]);
	d->ret = 0;
}

TEST_F_TIMEOUT(race, child_last_close_racing_parent_cancel_walk_is_clean, 300)
{
	int n = t_race_rounds(ROUNDS_WALK), i, j, kids_n = 8;
	struct duo *d = &self->duo;
	__u64 start = t_now_ns(CLOCK_MONOTONIC);
	int kids[8], grand[8];

	ASSERT_EQ(0, duo_start(d, round_close_kids));
	d->kids = kids;
	d->max_kids = kids_n;
	for (i = 0; i < n; i++) {
		unsigned int mine;
		int r = t_new(self->dev, 0);

		ASSERT_LE(0, r);
		for (j = 0; j < kids_n; j++) {
			/*
			 * Odd ones are not canceled by their close; those with
			 * j & 2 have a grandchild that keeps them alive, the
			 * others die, still linked, as the walk goes by.
			 */
			kids[j] = t_child(r, (j & 1) ?
					  CTXFD_CREATE_NO_CANCEL_ON_CLOSE : 0);
			ASSERT_LE(0, kids[j]);
			grand[j] = -1;
			if (j & 2) {
				grand[j] = t_child(kids[j], 0);
				ASSERT_LE(0, grand[j]);
			}
		}
		pick_spins(self, &mine);
		duo_go(d);
		spin(mine);
		ASSERT_EQ(0, t_cancel(r, 4, "walk"));
		ASSERT_TRUE(duo_wait(d));
		ASSERT_EQ(0, t_nr_children(r));
		for (j = 0; j < kids_n; j++) {
			if (grand[j] < 0)
				continue;
			/* Canceled by the walk or by its parent's close. */
			ASSERT_EQ(ECANCELED, t_err(grand[j]))
				TH_LOG("round %d grandchild %d", i, j);
			close(grand[j]);
		}
		close(r);
	}
	duo_stop(d);
	TH_LOG("%d rounds in %.0f ms", n, ms_since(start));
}

TEST_HARNESS_MAIN
