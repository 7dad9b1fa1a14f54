// SPDX-License-Identifier: GPL-2.0
/*
 * Provenance: every done context says why (the reason), where the
 * cancellation began (the origin context), by which process (its pid in
 * the reader's pid namespace and its name) and when (CLOCK_BOOTTIME), and
 * how it got here (itself, an ancestor). INFO reports it, fdinfo too.
 * Covered: explicit cancel, a remote-labelled cancel, a deadline, the
 * last cancel fd closed, its holder's exit, cancels from another process
 * and another pid namespace, ancestors, born-done children, the first
 * cancel winning, and INFO callers built before provenance.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/prctl.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#define MS	1000000ull

static int cancel_flags(int fd, __u64 flags)
{
	struct ctxfd_cancel args = { .flags = flags };

	return ioctl(fd, CTXFD_IOC_CANCEL, &args);
}

static void my_comm(char *buf)
{
	memset(buf, 0, CTXFD_COMM_LEN);
	prctl(PR_GET_NAME, buf);
}

FIXTURE(origin) {
	int dev;
	int root;
	char comm[CTXFD_COMM_LEN];
};

FIXTURE_SETUP(origin)
{
	self->dev = ctxfd_dev_or_skip();
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);
	my_comm(self->comm);
}

FIXTURE_TEARDOWN(origin)
{
	close(self->root);
	close(self->dev);
}

/* Expect @fd done with @reason @via from context @id by @pid. */
#define EXPECT_ORIGIN(fd, reason_, via_, id_, pid_) do {		\
	struct ctxfd_info __i;						\
	ASSERT_EQ(0, t_info((fd), &__i));				\
	EXPECT_TRUE(__i.mask & CTXFD_INFO_ORIGIN);			\
	EXPECT_EQ((__u32)(reason_), __i.reason);			\
	EXPECT_EQ((__u32)(via_), __i.origin_via);			\
	EXPECT_EQ((__u64)(id_), __i.origin_id);				\
	EXPECT_EQ((pid_t)(pid_), __i.origin_pid);			\
} while (0)

TEST_F(origin, explicit_cancel_names_the_context_the_process_and_the_time)
{
	__u64 before = t_now_ns(CLOCK_BOOTTIME), after;
	struct ctxfd_info i;

	ASSERT_EQ(0, t_cancel(self->root, 7, "why"));
	after = t_now_ns(CLOCK_BOOTTIME);
	EXPECT_ORIGIN(self->root, CTXFD_REASON_CANCEL, CTXFD_VIA_SELF,
		      t_id(self->root), getpid());
	ASSERT_EQ(0, t_info(self->root, &i));
	EXPECT_STREQ(self->comm, i.origin_comm);
	EXPECT_LE(before, i.done_time_ns);
	EXPECT_GE(after, i.done_time_ns);
	/* The cause is independent of provenance. */
	EXPECT_EQ(7, i.cause_code);
}

TEST_F(origin, active_context_reports_no_origin)
{
	struct ctxfd_info i;

	ASSERT_EQ(0, t_info(self->root, &i));
	EXPECT_EQ(0, i.reason);
	EXPECT_EQ(0, i.origin_id);
	EXPECT_EQ(0, i.origin_pid);
	EXPECT_EQ(0, i.done_time_ns);
	EXPECT_EQ('\0', i.origin_comm[0]);
}

TEST_F(origin, descendants_report_the_ancestors_origin)
{
	int c = t_child(self->root, 0), g = t_child(c, 0);
	int v = t_child_value(g, "k", "v", 1);
	__u64 root_id = t_id(self->root);

	ASSERT_LE(0, v);
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_ORIGIN(c, CTXFD_REASON_CANCEL, CTXFD_VIA_ANCESTOR, root_id, getpid());
	EXPECT_ORIGIN(g, CTXFD_REASON_CANCEL, CTXFD_VIA_ANCESTOR, root_id, getpid());
	EXPECT_ORIGIN(v, CTXFD_REASON_CANCEL, CTXFD_VIA_ANCESTOR, root_id, getpid());
	close(v);
	close(g);
	close(c);
}

/*
 * Descendants borrow the origin and the cause message of the context
 * where the cancellation began, which they keep alive: reading them
 * after that context's every fd is gone must show them intact (and,
 * on the debug kernel, touch no freed memory).
 */
TEST_F(origin, descendants_keep_origin_and_cause_after_the_origins_fds_are_gone)
{
	int c = t_child(self->root, 0), g = t_child(c, 0);
	__u64 root_id = t_id(self->root), c_id = t_id(c);
	struct ctxfd_info i;
	char path[64], buf[4096];

	ASSERT_LE(0, g);
	ASSERT_EQ(0, t_cancel(self->root, 9, "gone before its descendants"));
	close(self->root);
	self->root = -1;
	close(c);
	/* Another process's churn between close and read. */
	for (int k = 0; k < 64; k++)
		close(t_child(t_new(self->dev, 0), 0));

	EXPECT_ORIGIN(g, CTXFD_REASON_CANCEL, CTXFD_VIA_ANCESTOR, root_id,
		      getpid());
	ASSERT_EQ(0, t_info(g, &i));
	EXPECT_EQ(9, i.cause_code);
	EXPECT_STREQ("gone before its descendants", i.cause_msg);
	EXPECT_STREQ(self->comm, i.origin_comm);
	EXPECT_EQ(c_id, i.parent_id);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", g);
	ASSERT_LT(0, t_read_file(path, buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "gone before its descendants"));
	close(g);
}

TEST_F(origin, remote_label_gives_reason_remote)
{
	ASSERT_EQ(0, cancel_flags(self->root, CTXFD_CANCEL_REMOTE));
	EXPECT_ORIGIN(self->root, CTXFD_REASON_REMOTE, CTXFD_VIA_SELF,
		      t_id(self->root), getpid());
}

TEST_F(origin, unknown_cancel_flags_are_refused_and_change_nothing)
{
	errno = 0;
	EXPECT_EQ(-1, cancel_flags(self->root, 1ull << 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, t_err(self->root));
}

TEST_F(origin, deadline_names_the_context_with_the_timer_and_no_process)
{
	int d = t_child_timeout(self->root, 20 * MS), c;
	struct ctxfd_info i;

	ASSERT_LE(0, d);
	c = t_child(d, 0);
	ASSERT_LE(0, c);
	/* d, the top of the walk, is finished last. */
	ASSERT_TRUE(t_readable(d, 10000));
	EXPECT_ORIGIN(d, CTXFD_REASON_DEADLINE, CTXFD_VIA_SELF, t_id(d), 0);
	EXPECT_ORIGIN(c, CTXFD_REASON_DEADLINE, CTXFD_VIA_ANCESTOR, t_id(d), 0);
	ASSERT_EQ(0, t_info(c, &i));
	EXPECT_EQ('\0', i.origin_comm[0]);
	EXPECT_LT(0, i.done_time_ns);
	close(c);
	close(d);
}

TEST_F(origin, deadline_already_past_at_birth_is_reason_deadline)
{
	struct ctxfd_create a = {
		.flags = CTXFD_CREATE_DEADLINE,
		.deadline_ns = 1,
		.clockid = CLOCK_MONOTONIC,
	};
	int d = ioctl(self->root, CTXFD_IOC_CREATE, &a);

	ASSERT_LE(0, d);
	EXPECT_ORIGIN(d, CTXFD_REASON_DEADLINE, CTXFD_VIA_SELF, t_id(d), 0);
	close(d);
}

TEST_F(origin, child_born_under_a_done_parent_gets_its_origin)
{
	int c;

	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	c = t_child(self->root, 0);
	ASSERT_LE(0, c);
	EXPECT_ORIGIN(c, CTXFD_REASON_CANCEL, CTXFD_VIA_ANCESTOR,
		      t_id(self->root), getpid());
	close(c);
}

TEST_F(origin, last_close_is_reason_close_by_the_closer)
{
	int c = t_child(self->root, 0), w = t_watch(c, 0);
	__u64 id = t_id(c);

	ASSERT_LE(0, w);
	ASSERT_EQ(0, close(c));
	EXPECT_ORIGIN(w, CTXFD_REASON_CLOSE, CTXFD_VIA_SELF, id, getpid());
	close(w);
}

/* A process that holds the only cancel fd and exits: reason exit. */
TEST_F(origin, holder_exit_is_reason_exit_with_its_pid_and_name)
{
	int c = t_child(self->root, 0), w = t_watch(c, 0), go[2];
	struct ctxfd_info i;
	char b;
	pid_t pid;

	ASSERT_LE(0, w);
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		prctl(PR_SET_NAME, "ctxfd-holder");
		close(w);
		close(go[1]);
		/* Exit only once the parent's copy of c is closed. */
		if (read(go[0], &b, 1) < 0)
			_exit(2);
		_exit(0);	/* c closes in exit_files() */
	}
	close(go[0]);
	close(c);
	close(go[1]);
	EXPECT_EQ(0, t_wait_status(pid));
	ASSERT_TRUE(t_readable(w, 5000));
	EXPECT_ORIGIN(w, CTXFD_REASON_EXIT, CTXFD_VIA_SELF, t_id(w), pid);
	ASSERT_EQ(0, t_info(w, &i));
	EXPECT_STREQ("ctxfd-holder", i.origin_comm);
	close(w);
}

TEST_F(origin, cancel_from_another_process_names_that_process)
{
	int c = t_child(self->root, 0);
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		prctl(PR_SET_NAME, "ctxfd-killer");
		_exit(t_cancel(c, 0, NULL) ? 1 : 0);
	}
	EXPECT_EQ(0, t_wait_status(pid));
	EXPECT_ORIGIN(c, CTXFD_REASON_CANCEL, CTXFD_VIA_SELF, t_id(c), pid);
	close(c);
}

TEST_F(origin, first_cancel_wins_provenance_too)
{
	int c = t_child(self->root, 0);
	pid_t pid;

	ASSERT_EQ(0, t_cancel(c, 0, NULL));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(cancel_flags(c, CTXFD_CANCEL_REMOTE) ? 1 : 0);
	EXPECT_EQ(0, t_wait_status(pid));
	EXPECT_ORIGIN(c, CTXFD_REASON_CANCEL, CTXFD_VIA_SELF, t_id(c), getpid());
	close(c);
}

/*
 * Pid namespaces: a canceler inside a child namespace is seen from the
 * parent namespace by its pid there; a reader inside the child namespace
 * sees 0 for a canceler outside it, and the canceler's own pid (1) for
 * one inside.
 */
TEST_F(origin, origin_pid_is_the_readers_view_across_pid_namespaces)
{
	int outer = t_child(self->root, 0), inner = t_child(self->root, 0);
	int sync[2], res[2], r[2] = { -1, -1 };
	struct ctxfd_info i;
	pid_t pid;

	ctxfd_require_root();
	ASSERT_LE(0, outer);
	ASSERT_LE(0, inner);
	ASSERT_EQ(0, pipe(sync));
	ASSERT_EQ(0, pipe(res));
	ASSERT_EQ(0, t_cancel(outer, 0, NULL));	/* by us, outside */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pid_t init;

		if (unshare(CLONE_NEWPID))
			_exit(2);
		init = fork();
		if (init == 0) {
			struct ctxfd_info a, b;

			/* PID 1 of the new namespace cancels "inner". */
			if (getpid() != 1 || t_cancel(inner, 0, NULL))
				_exit(3);
			if (t_info(outer, &a) || t_info(inner, &b))
				_exit(4);
			r[0] = a.origin_pid;	/* outside: invisible */
			r[1] = b.origin_pid;	/* itself */
			_exit(write(res[1], r, sizeof(r)) == sizeof(r) ? 0 : 5);
		}
		_exit(t_wait_status(init));
	}
	EXPECT_EQ(0, t_wait_status(pid));
	ASSERT_EQ((ssize_t)sizeof(r), read(res[0], r, sizeof(r)));
	EXPECT_EQ(0, r[0]);
	EXPECT_EQ(1, r[1]);
	/* From here, the namespace's init has an ordinary pid. */
	ASSERT_EQ(0, t_info(inner, &i));
	EXPECT_LT(1, i.origin_pid);
	EXPECT_NE(getpid(), i.origin_pid);
	close(sync[0]);
	close(sync[1]);
	close(res[0]);
	close(res[1]);
	close(outer);
	close(inner);
}

TEST_F(origin, fdinfo_shows_reason_origin_process_and_time)
{
	int c = t_child(self->root, 0), g = t_child(c, 0);
	char v[128], want[64];

	ASSERT_LE(0, g);
	ASSERT_EQ(0, t_fdinfo(0, g, "ctxfd-reason", v, sizeof(v)));
	ASSERT_EQ(0, t_cancel(c, 0, NULL));
	ASSERT_EQ(1, t_fdinfo(0, g, "ctxfd-reason", v, sizeof(v)));
	EXPECT_STREQ("cancel", v);
	snprintf(want, sizeof(want), "%llu ancestor", (unsigned long long)t_id(c));
	ASSERT_EQ(1, t_fdinfo(0, g, "ctxfd-origin", v, sizeof(v)));
	EXPECT_STREQ(want, v);
	snprintf(want, sizeof(want), "%d", getpid());
	ASSERT_EQ(1, t_fdinfo(0, g, "ctxfd-origin-pid", v, sizeof(v)));
	EXPECT_STREQ(want, v);
	ASSERT_EQ(1, t_fdinfo(0, g, "ctxfd-origin-comm", v, sizeof(v)));
	EXPECT_STREQ(self->comm, v);
	ASSERT_EQ(1, t_fdinfo(0, g, "ctxfd-done-time", v, sizeof(v)));
	EXPECT_LT(0, atoll(v));
	close(g);
	close(c);
}

/* A caller built before provenance asks for the first 200 bytes. */
TEST_F(origin, info_callers_of_the_first_size_are_unaffected)
{
	unsigned long cmd = _IOR(CTXFD_IOC_MAGIC, 0x05, char[CTXFD_INFO_SIZE_VER0]);
	union {
		struct ctxfd_info info;
		unsigned char raw[sizeof(struct ctxfd_info)];
	} u;

	ASSERT_EQ(0, t_cancel(self->root, 3, "x"));
	memset(&u, 0x5a, sizeof(u));
	ASSERT_EQ(0, ioctl(self->root, cmd, &u));
	/* Not a byte written past the size it asked for. */
	EXPECT_EQ(0x5a, u.raw[CTXFD_INFO_SIZE_VER0]);
	EXPECT_EQ(0x5a, u.raw[sizeof(u) - 1]);
	EXPECT_EQ(ECANCELED, u.info.err);
	EXPECT_EQ(3, u.info.cause_code);
}

TEST_HARNESS_MAIN
