// SPDX-License-Identifier: GPL-2.0
/*
 * Deadlines (Go's WithDeadline / WithTimeout): hrtimer expiry, causes,
 * inheritance along the ancestor chain, born-done contexts, and races of
 * the timer against cancel and close.
 */
#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#define MS	1000000LL

static int child_deadline(int parent, __u64 flags, __s64 ns, clockid_t clk,
			  int code, const char *msg)
{
	struct ctxfd_create args = {
		.flags = flags,
		.deadline_ns = ns,
		.clockid = clk,
		.deadline_cause = {
			.code = code,
			.msg_len = msg ? (__u32)strlen(msg) : 0,
			.msg = (uintptr_t)msg,
		},
	};

	return ioctl(parent, CTXFD_IOC_CREATE, &args);
}

FIXTURE(deadline) {
	int dev;
	int root;
};

FIXTURE_SETUP(deadline)
{
	self->dev = ctxfd_dev_or_skip();
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);
}

FIXTURE_TEARDOWN(deadline)
{
	close(self->root);
	close(self->dev);
}

TEST_F(deadline, timeout_fires_with_etimedout_and_err_as_cause)
{
	struct ctxfd_info info;
	int c = t_child_timeout(self->root, 20 * MS);

	ASSERT_LE(0, c);
	EXPECT_EQ(0, t_err(c));
	ASSERT_TRUE(t_readable(c, 10000));
	ASSERT_EQ(0, t_info(c, &info));
	EXPECT_EQ(ETIMEDOUT, info.err);
	EXPECT_EQ(ETIMEDOUT, info.cause_code);
	EXPECT_EQ(0, info.cause_msg_len);
	/* The parent has no deadline and is not touched. */
	EXPECT_EQ(0, t_err(self->root));
	close(c);
}

TEST_F(deadline, deadline_cause_is_recorded_when_it_fires)
{
	struct ctxfd_info info;
	int c = child_deadline(self->root, CTXFD_CREATE_TIMEOUT, 10 * MS,
			       CLOCK_MONOTONIC, 77, "backend too slow");

	ASSERT_LE(0, c);
	ASSERT_TRUE(t_readable(c, 10000));
	ASSERT_EQ(0, t_info(c, &info));
	EXPECT_EQ(ETIMEDOUT, info.err);
	EXPECT_EQ(77, info.cause_code);
	EXPECT_STREQ("backend too slow", info.cause_msg);
	close(c);
}

TEST_F(deadline, deadline_never_fires_early)
{
	int i;

	for (i = 0; i < 50; i++) {
		__u64 when = t_now_ns(CLOCK_MONOTONIC) + (1 + i % 3) * MS;
		int c = child_deadline(self->root, CTXFD_CREATE_DEADLINE, when,
				       CLOCK_MONOTONIC, 0, NULL);

		ASSERT_LE(0, c);
		ASSERT_TRUE(t_readable(c, 10000));
		/* Readable means the deadline has passed, on the same clock. */
		ASSERT_LE(when, t_now_ns(CLOCK_MONOTONIC));
		ASSERT_EQ(ETIMEDOUT, t_err(c));
		close(c);
	}
}

TEST_F(deadline, info_reports_own_absolute_deadline)
{
	__u64 when = t_now_ns(CLOCK_MONOTONIC) + 3600 * 1000 * MS;
	struct ctxfd_info info;
	int c = child_deadline(self->root, CTXFD_CREATE_DEADLINE, when,
			       CLOCK_MONOTONIC, 0, NULL);

	ASSERT_LE(0, c);
	ASSERT_EQ(0, t_info(c, &info));
	EXPECT_NE(0, info.mask & CTXFD_INFO_DEADLINE);
	EXPECT_NE(0, info.flags & CTXFD_INFO_HAS_DEADLINE);
	EXPECT_NE(0, info.flags & CTXFD_INFO_OWN_TIMER);
	EXPECT_EQ(when, info.deadline_ns);
	EXPECT_EQ(CLOCK_MONOTONIC, info.clockid);
	close(c);
}

TEST_F(deadline, relative_timeout_becomes_absolute_deadline)
{
	__u64 before = t_now_ns(CLOCK_MONOTONIC), after;
	struct ctxfd_info info;
	int c = t_child_timeout(self->root, 3600 * 1000 * MS);

	after = t_now_ns(CLOCK_MONOTONIC);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, t_info(c, &info));
	EXPECT_LE(before + 3600 * 1000 * MS, info.deadline_ns);
	EXPECT_GE(after + 3600 * 1000 * MS, info.deadline_ns);
	close(c);
}

TEST_F(deadline, context_without_deadline_reports_none)
{
	struct ctxfd_info info;

	ASSERT_EQ(0, t_info(self->root, &info));
	EXPECT_EQ(0, info.flags & CTXFD_INFO_HAS_DEADLINE);
	EXPECT_EQ(0, info.flags & CTXFD_INFO_OWN_TIMER);
}

TEST_F(deadline, child_inherits_earlier_parent_deadline_without_timer)
{
	__u64 now = t_now_ns(CLOCK_MONOTONIC);
	struct ctxfd_info pi, ci;
	int p = child_deadline(self->root, CTXFD_CREATE_DEADLINE, now + 30 * MS,
			       CLOCK_MONOTONIC, 11, "parent deadline");
	int c, plain;

	ASSERT_LE(0, p);
	c = child_deadline(p, CTXFD_CREATE_DEADLINE, now + 3600 * 1000 * MS,
			   CLOCK_MONOTONIC, 22, "child deadline");
	plain = t_child(p, 0);
	ASSERT_LE(0, c);
	ASSERT_LE(0, plain);
	ASSERT_EQ(0, t_info(p, &pi));
	ASSERT_EQ(0, t_info(c, &ci));
	/* Go: a later own deadline changes nothing; the parent's is reported. */
	EXPECT_EQ(pi.deadline_ns, ci.deadline_ns);
	EXPECT_EQ(0, ci.flags & CTXFD_INFO_OWN_TIMER);
	EXPECT_NE(0, ci.flags & CTXFD_INFO_HAS_DEADLINE);
	ASSERT_EQ(0, t_info(plain, &ci));
	EXPECT_EQ(pi.deadline_ns, ci.deadline_ns);

	/*
	 * The parent's timer cancels both, with the parent's cause. Wait on
	 * the parent: the subtree is finished from the leaves up, so c may
	 * wake its pollers before plain, its younger sibling, is done.
	 */
	ASSERT_TRUE(t_readable(p, 10000));
	ASSERT_EQ(0, t_info(c, &ci));
	EXPECT_EQ(ETIMEDOUT, ci.err);
	EXPECT_EQ(11, ci.cause_code);
	EXPECT_STREQ("parent deadline", ci.cause_msg);
	EXPECT_EQ(ETIMEDOUT, t_err(plain));
	close(plain);
	close(c);
	close(p);
}

TEST_F(deadline, earlier_child_deadline_gets_own_timer_and_fires_alone)
{
	__u64 now = t_now_ns(CLOCK_MONOTONIC);
	struct ctxfd_info ci;
	int p = child_deadline(self->root, CTXFD_CREATE_DEADLINE,
			       now + 3600 * 1000 * MS, CLOCK_MONOTONIC, 0, NULL);
	int c;

	ASSERT_LE(0, p);
	c = child_deadline(p, CTXFD_CREATE_DEADLINE, now + 20 * MS,
			   CLOCK_MONOTONIC, 3, "child");
	ASSERT_LE(0, c);
	ASSERT_EQ(0, t_info(c, &ci));
	EXPECT_NE(0, ci.flags & CTXFD_INFO_OWN_TIMER);
	EXPECT_EQ(now + 20 * MS, ci.deadline_ns);
	ASSERT_TRUE(t_readable(c, 10000));
	ASSERT_EQ(0, t_info(c, &ci));
	EXPECT_EQ(3, ci.cause_code);
	EXPECT_EQ(0, t_err(p));
	/* c leaves p's children right after waking its pollers. */
	EXPECT_TRUE(t_wait_nr_children(p, 0, 10000));
	close(c);
	close(p);
}

TEST_F(deadline, past_absolute_deadline_is_born_done_with_its_cause)
{
	struct ctxfd_info info;
	__u64 past = t_now_ns(CLOCK_MONOTONIC) - 5 * MS;
	int c = child_deadline(self->root, CTXFD_CREATE_DEADLINE, past,
			       CLOCK_MONOTONIC, 9, "too late");

	ASSERT_LE(0, c);
	ASSERT_EQ(0, t_info(c, &info));
	EXPECT_EQ(ETIMEDOUT, info.err);
	EXPECT_EQ(9, info.cause_code);
	EXPECT_STREQ("too late", info.cause_msg);
	EXPECT_TRUE(t_readable(c, 0));
	/* Born done: never linked under the parent. */
	EXPECT_EQ(0, t_nr_children(self->root));
	close(c);
}

TEST_F(deadline, zero_timeout_and_zero_deadline_are_born_done)
{
	int a = t_child_timeout(self->root, 0);
	int b = child_deadline(self->root, CTXFD_CREATE_DEADLINE, 0,
			       CLOCK_MONOTONIC, 0, NULL);

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	EXPECT_EQ(ETIMEDOUT, t_err(a));
	EXPECT_EQ(ETIMEDOUT, t_err(b));
	close(a);
	close(b);
}

TEST_F(deadline, root_with_timeout_fires)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_TIMEOUT,
		.deadline_ns = 10 * MS,
		.clockid = CLOCK_MONOTONIC,
	};
	int r = ioctl(self->dev, CTXFD_IOC_NEW, &args);

	ASSERT_LE(0, r);
	ASSERT_TRUE(t_readable(r, 10000));
	EXPECT_EQ(ETIMEDOUT, t_err(r));
	close(r);
}

TEST_F(deadline, boottime_deadline_fires_and_is_reported_on_boottime)
{
	__u64 when = t_now_ns(CLOCK_BOOTTIME) + 20 * MS;
	struct ctxfd_info info;
	int c = child_deadline(self->root, CTXFD_CREATE_DEADLINE, when,
			       CLOCK_BOOTTIME, 0, NULL);

	ASSERT_LE(0, c);
	ASSERT_EQ(0, t_info(c, &info));
	EXPECT_EQ(CLOCK_BOOTTIME, info.clockid);
	EXPECT_EQ(when, info.deadline_ns);
	ASSERT_TRUE(t_readable(c, 10000));
	EXPECT_LE(when, t_now_ns(CLOCK_BOOTTIME));
	EXPECT_EQ(ETIMEDOUT, t_err(c));
	close(c);
}

TEST_F(deadline, earlier_monotonic_child_of_boottime_parent_gets_own_timer)
{
	struct ctxfd_info info;
	int p = child_deadline(self->root, CTXFD_CREATE_TIMEOUT,
			       3600 * 1000 * MS, CLOCK_BOOTTIME, 0, NULL);
	int c;

	ASSERT_LE(0, p);
	c = child_deadline(p, CTXFD_CREATE_TIMEOUT, 10 * MS, CLOCK_MONOTONIC,
			   0, NULL);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, t_info(c, &info));
	EXPECT_NE(0, info.flags & CTXFD_INFO_OWN_TIMER);
	EXPECT_EQ(CLOCK_MONOTONIC, info.clockid);
	ASSERT_TRUE(t_readable(c, 10000));
	EXPECT_EQ(0, t_err(p));
	close(c);
	close(p);
}

TEST_F(deadline, cancel_before_expiry_keeps_ecanceled_forever)
{
	struct ctxfd_info info;
	int c = child_deadline(self->root, CTXFD_CREATE_TIMEOUT, 20 * MS,
			       CLOCK_MONOTONIC, 5, "deadline");

	ASSERT_LE(0, c);
	ASSERT_EQ(0, t_cancel(c, 0, NULL));
	usleep(60 * 1000);	/* well past the deadline: nothing may change */
	ASSERT_EQ(0, t_info(c, &info));
	EXPECT_EQ(ECANCELED, info.err);
	EXPECT_EQ(ECANCELED, info.cause_code);
	EXPECT_EQ(0, info.cause_msg_len);
	close(c);
}

TEST_F(deadline, ancestor_cancel_before_expiry_wins_over_descendant_timer)
{
	struct ctxfd_info info;
	int mid = t_child(self->root, 0);
	int c = child_deadline(mid, CTXFD_CREATE_TIMEOUT, 20 * MS,
			       CLOCK_MONOTONIC, 5, "deadline");

	ASSERT_LE(0, c);
	ASSERT_EQ(0, t_cancel(self->root, 8, "shutdown"));
	usleep(60 * 1000);
	ASSERT_EQ(0, t_info(c, &info));
	EXPECT_EQ(ECANCELED, info.err);
	EXPECT_EQ(8, info.cause_code);
	EXPECT_STREQ("shutdown", info.cause_msg);
	close(c);
	close(mid);
}

TEST_F(deadline, close_before_expiry_cancels_and_timer_changes_nothing)
{
	int c = t_child_timeout(self->root, 20 * MS);
	int w = t_watch(c, 0);

	ASSERT_LE(0, w);
	close(c);	/* last cancel-capable fd: canceled now */
	EXPECT_EQ(ECANCELED, t_err(w));
	usleep(60 * 1000);
	EXPECT_EQ(ECANCELED, t_err(w));
	close(w);
}

/* 1 ms deadlines against a cancel at varying offsets. */
TEST_F_TIMEOUT(deadline, one_ms_deadline_racing_cancel, 300)
{
	int i, fired = 0, canceled = 0, n = t_race_rounds(1000);

	for (i = 0; i < n; i++) {
		struct ctxfd_info info;
		int c = child_deadline(self->root, CTXFD_CREATE_TIMEOUT, MS,
				       CLOCK_MONOTONIC, 1, "t");
		__u64 spin_until = t_now_ns(CLOCK_MONOTONIC) + (i % 20) * 100000;

		ASSERT_LE(0, c);
		while (t_now_ns(CLOCK_MONOTONIC) < spin_until)
			;
		ASSERT_EQ(0, t_cancel(c, 2, "c"));
		ASSERT_EQ(0, t_info(c, &info));
		/* Exactly one of the two won, with its own cause intact. */
		if (info.err == ETIMEDOUT) {
			ASSERT_EQ(1, info.cause_code);
			ASSERT_STREQ("t", info.cause_msg);
			fired++;
		} else {
			ASSERT_EQ(ECANCELED, info.err);
			ASSERT_EQ(2, info.cause_code);
			ASSERT_STREQ("c", info.cause_msg);
			canceled++;
		}
		close(c);
	}
	TH_LOG("deadline won %d, cancel won %d", fired, canceled);
	EXPECT_EQ(0, t_nr_children(self->root));
}

/*
 * A cancel walk and the parent's own 1 ms deadline, at varying offsets:
 * the walk finishes the children first and the parent last, and the
 * parent's timer must not finish it in between with its own cause. The
 * parent and every child end with one err and one cause, whichever won.
 */
TEST_F_TIMEOUT(deadline, cancel_walk_racing_the_parents_deadline_gives_one_cause,
	       300)
{
	int i, j, fired = 0, canceled = 0, n = t_race_rounds(1000);

	for (i = 0; i < n; i++) {
		struct ctxfd_info pi, ci;
		int p = child_deadline(self->root, CTXFD_CREATE_TIMEOUT, MS,
				       CLOCK_MONOTONIC, 1, "t");
		int kids[16];
		__u64 until;

		ASSERT_LE(0, p);
		for (j = 0; j < 16; j++) {
			kids[j] = j & 1 ? t_child_value(p, "k", "v", 1) :
					  t_child(p, 0);
			ASSERT_LE(0, kids[j]);
		}
		/*
		 * Cancel from 40 us before the deadline to 160 us after it,
		 * 1 us apart: the timer fires late by up to that much here,
		 * so some rounds have it fire inside the walk.
		 */
		ASSERT_EQ(0, t_info(p, &pi));
		until = pi.deadline_ns - 40000 + (i % 200) * 1000;
		while (t_now_ns(CLOCK_MONOTONIC) < until)
			;
		ASSERT_EQ(0, t_cancel(p, 2, "c"));
		ASSERT_EQ(0, t_info(p, &pi));
		for (j = 0; j < 16; j++) {
			ASSERT_EQ(0, t_info(kids[j], &ci));
			ASSERT_EQ(pi.err, ci.err)
				TH_LOG("round %d: parent %s (cause %d), child %d %s (cause %d)",
				       i, strerror(pi.err), pi.cause_code, j,
				       strerror(ci.err), ci.cause_code);
			ASSERT_EQ(pi.cause_code, ci.cause_code);
			ASSERT_STREQ(pi.cause_msg, ci.cause_msg);
			close(kids[j]);
		}
		if (pi.err == ETIMEDOUT)
			fired++;
		else
			canceled++;
		close(p);
	}
	TH_LOG("deadline won %d, cancel won %d", fired, canceled);
}

struct kid_maker {
	int parent;
	int kids[64];
	int nr;			/* kids[0 .. nr - 1] are made */
	volatile int go;
};

/* Make children of ->parent until one is born done (or 64 of them). */
static void *make_kids(void *arg)
{
	struct kid_maker *k = arg;

	while (!__atomic_load_n(&k->go, __ATOMIC_ACQUIRE))
		;
	while (k->nr < 64) {
		int fd = t_child(k->parent, 0);

		if (fd < 0)
			break;
		k->kids[k->nr] = fd;
		__atomic_store_n(&k->nr, k->nr + 1, __ATOMIC_RELEASE);
		if (t_err(fd))
			break;
	}
	return NULL;
}

/*
 * A 1 ms deadline fires while another thread adds children: a node
 * without children is finished by its timer at once, one with children
 * by a walk, and a create decides against the timer under the parent's
 * wait queue lock. However they meet, once the parent polls done every
 * child made so far is done too, with the parent's cause.
 */
TEST_F_TIMEOUT(deadline, children_made_as_the_deadline_fires_are_done_with_it,
	       300)
{
	int i, j, made = 0, none = 0, n = t_race_rounds(1000);

	for (i = 0; i < n; i++) {
		struct kid_maker k = { .parent = child_deadline(self->root,
					CTXFD_CREATE_TIMEOUT, MS,
					CLOCK_MONOTONIC, 5, "dl") };
		struct ctxfd_info info;
		pthread_t th;
		int seen;

		ASSERT_LE(0, k.parent);
		ASSERT_EQ(0, pthread_create(&th, NULL, make_kids, &k));
		usleep((i % 10) * 100);
		__atomic_store_n(&k.go, 1, __ATOMIC_RELEASE);
		ASSERT_TRUE(t_readable(k.parent, 10000));
		seen = __atomic_load_n(&k.nr, __ATOMIC_ACQUIRE);
		for (j = 0; j < seen; j++) {
			ASSERT_EQ(0, t_info(k.kids[j], &info));
			ASSERT_EQ(ETIMEDOUT, info.err)
				TH_LOG("round %d: child %d of %d active under a done parent",
				       i, j, seen);
			ASSERT_EQ(5, info.cause_code);
			ASSERT_STREQ("dl", info.cause_msg);
		}
		ASSERT_EQ(0, pthread_join(th, NULL));
		for (j = 0; j < k.nr; j++) {
			ASSERT_EQ(ETIMEDOUT, t_err(k.kids[j]));
			close(k.kids[j]);
		}
		made += k.nr;
		none += !seen;
		ASSERT_TRUE(t_wait_nr_children(k.parent, 0, 10000));
		close(k.parent);
	}
	TH_LOG("%d children made; in %d of %d rounds none before the parent was seen done",
	       made, none, n);
	EXPECT_TRUE(t_wait_nr_children(self->root, 0, 10000));
}

/* 1 ms deadlines against the release of the last fd (timer vs free). */
TEST_F_TIMEOUT(deadline, one_ms_deadline_racing_close, 300)
{
	int i, n = t_race_rounds(1000);

	for (i = 0; i < n; i++) {
		int c = t_child_timeout(self->root, MS);
		__u64 spin_until = t_now_ns(CLOCK_MONOTONIC) + (i % 20) * 100000;

		ASSERT_LE(0, c);
		if (i & 1) {
			int w = t_watch(c, 0);

			ASSERT_LE(0, w);
			while (t_now_ns(CLOCK_MONOTONIC) < spin_until)
				;
			close(c);
			ASSERT_NE(0, t_err(w));
			close(w);
		} else {
			while (t_now_ns(CLOCK_MONOTONIC) < spin_until)
				;
			close(c);
		}
	}
	EXPECT_EQ(0, t_nr_children(self->root));
}

/*
 * The creator exits; a forked process holding the (shared) cancel fd is
 * the only holder left: the deadline still fires.
 */
TEST_F(deadline, deadline_fires_when_creator_has_exited)
{
	int pfd[2];
	pid_t creator;
	int status;
	char ok;

	ASSERT_EQ(0, pipe(pfd));
	creator = fork();
	ASSERT_LE(0, creator);
	if (creator == 0) {
		int c = t_child_timeout(self->root, 100 * MS);
		pid_t holder, creator_pid = getpid();

		if (c < 0)
			_exit(1);
		holder = fork();
		if (holder == 0) {
			struct ctxfd_info info;

			/* Wait for the creator to be gone, then for the deadline. */
			while (getppid() == creator_pid)
				usleep(1000);
			if (!t_readable(c, 10000) || t_info(c, &info) ||
			    info.err != ETIMEDOUT)
				_exit(2);
			ok = 'y';
			if (write(pfd[1], &ok, 1) != 1)
				_exit(3);
			_exit(0);
		}
		_exit(holder < 0 ? 4 : 0);	/* the creator exits at once */
	}
	close(pfd[1]);
	ASSERT_EQ(creator, waitpid(creator, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* The holder (now an orphan) reports through the pipe. */
	ASSERT_EQ(1, read(pfd[0], &ok, 1));
	EXPECT_EQ('y', ok);
	close(pfd[0]);
}

/* The deadline keeps working when only another process holds its fds. */
TEST_F(deadline, deadline_fires_when_only_a_receiver_holds_the_fd)
{
	int sv[2], c, status;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int got;

		close(sv[0]);
		got = t_recv_fd(sv[1]);
		if (got < 0)
			_exit(1);
		_exit(t_readable(got, 10000) && t_err(got) == ETIMEDOUT ? 0 : 2);
	}
	close(sv[1]);
	c = t_child_timeout(self->root, 50 * MS);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, t_send_fd(sv[0], c));
	close(c);	/* the sender keeps nothing */
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(sv[0]);
}

/*
 * A timer whose node has 100 000 children (CTXFD_SCALE_N) finishes them
 * all, from process context (the harness fails the run on soft lockups or
 * RCU stalls). The deadline is sized from a measured creation rate, so
 * that it fires after the whole subtree exists.
 */
TEST_F_TIMEOUT(deadline, timer_cancels_its_whole_wide_subtree, 600)
{
	const int n = t_scale_n(), probe = n / 50 > 2 ? n / 50 : 2;
	int *fds = calloc(n, sizeof(int));
	__u64 start, per_child, deadline, done_ns;
	struct ctxfd_info info;
	int p, i;

	ASSERT_NE(NULL, fds);
	if (!t_raise_nofile(n + 64))
		CTXFD_SKIP("cannot raise RLIMIT_NOFILE to %d", n + 64);

	start = t_now_ns(CLOCK_MONOTONIC);
	for (i = 0; i < probe; i++) {
		fds[i] = t_child(self->root, 0);
		ASSERT_LE(0, fds[i]);
	}
	per_child = (t_now_ns(CLOCK_MONOTONIC) - start) / probe;
	for (i = 0; i < probe; i++)
		close(fds[i]);

	deadline = t_now_ns(CLOCK_MONOTONIC) + 3 * per_child * n + 1000 * MS;
	p = child_deadline(self->root, CTXFD_CREATE_DEADLINE, deadline,
			   CLOCK_MONOTONIC, 4, "wide");
	ASSERT_LE(0, p);
	for (i = 0; i < n; i++) {
		fds[i] = t_child(p, 0);
		ASSERT_LE(0, fds[i]);
	}
	ASSERT_LT(t_now_ns(CLOCK_MONOTONIC), deadline);
	ASSERT_EQ(n, t_nr_children(p));

	/*
	 * The parent is finished last (post-order): its fd is the signal.
	 * The deadline is up to twice the build time away still (minutes on
	 * the debug kernel): wait for it, then up to two minutes more.
	 */
	ASSERT_TRUE(t_readable(p, (int)((deadline - t_now_ns(CLOCK_MONOTONIC)) / MS) +
			       120000));
	done_ns = t_now_ns(CLOCK_MONOTONIC);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, t_info(fds[i], &info));
		ASSERT_EQ(ETIMEDOUT, info.err);
		ASSERT_EQ(4, info.cause_code);
	}
	EXPECT_EQ(0, t_nr_children(p));
	TH_LOG("%d-wide subtree: deadline to parent done %.1f ms",
	       n, (done_ns - deadline) / 1e6);
	for (i = 0; i < n; i++)
		close(fds[i]);
	close(p);
	free(fds);
}

TEST_HARNESS_MAIN
