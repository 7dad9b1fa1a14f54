// SPDX-License-Identifier: GPL-2.0
/*
 * Tracepoints (module/trace.h), read through tracefs as a user would:
 * each event fires for a real create, cancel, deadline, attach, teardown
 * (signal, kill, done), release and drain, with the right fields. The
 * events are enabled in a tracefs instance of the test's own, so the
 * global trace buffer and other tracers are left alone; tracefs is
 * mounted if it is not. Skips without tracefs or without the events.
 */
#define _GNU_SOURCE
#include <sys/mount.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#define MS	1000000ull

static const char *tr_root(void)
{
	static const char *const dirs[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[128];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/instances", dirs[i]);
		if (!access(path, F_OK))
			return dirs[i];
	}
	/* Not mounted (the VM mounts no tracefs): mount it where it goes. */
	if (mount("nodev", dirs[0], "tracefs", 0, NULL) == 0)
		return dirs[0];
	return NULL;
}

static int tr_write(const char *dir, const char *file, const char *val)
{
	char path[256];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return ret;
}

#define TRACE_MAX	(1 << 20)

FIXTURE(tr) {
	int dev;
	char inst[160];
	char *buf;
};

FIXTURE_SETUP(tr)
{
	const char *root;
	char path[200];

	self->dev = ctxfd_dev_or_skip();
	self->inst[0] = '\0';
	root = tr_root();
	if (!root)
		SKIP(return, "no tracefs");
	snprintf(path, sizeof(path), "%s/events/ctxfd", root);
	if (access(path, F_OK))
		SKIP(return, "no ctxfd events in %s/events", root);
	snprintf(self->inst, sizeof(self->inst), "%s/instances/ctxfd_test_%d",
		 root, (int)getpid());
	ASSERT_EQ(0, mkdir(self->inst, 0700));
	ASSERT_EQ(0, tr_write(self->inst, "buffer_size_kb", "512"));
	ASSERT_EQ(0, tr_write(self->inst, "events/ctxfd/enable", "1"));
	self->buf = malloc(TRACE_MAX);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, t_subreaper());
}

FIXTURE_TEARDOWN(tr)
{
	t_kill_descendants(20000);
	if (self->inst[0]) {
		tr_write(self->inst, "events/ctxfd/enable", "0");
		rmdir(self->inst);
	}
	free(self->buf);
	close(self->dev);
}

/* The instance's trace, as text; a line that contains @what, or NULL. */
static const char *tr_find(FIXTURE_DATA(tr) *self, const char *what)
{
	char path[200];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/trace", self->inst);
	n = t_read_file(path, self->buf, TRACE_MAX);
	if (n <= 0)
		return NULL;
	return strstr(self->buf, what);
}

/* Wait at most 10 s for a line containing @what (teardowns are async). */
static const char *tr_wait(FIXTURE_DATA(tr) *self, const char *what)
{
	int i;

	for (i = 0; i < 1000; i++) {
		const char *p = tr_find(self, what);

		if (p)
			return p;
		usleep(10000);
	}
	return NULL;
}

#define EXPECT_EVENT(fmt, ...) do {					\
	char __w[256];							\
	snprintf(__w, sizeof(__w), fmt, ##__VA_ARGS__);		\
	EXPECT_NE(NULL, tr_wait(self, __w)) TH_LOG("no \"%s\" in:\n%s",	\
						  __w, self->buf);	\
} while (0)

TEST_F(tr, create_cancel_release_and_drained_carry_ids_reason_and_subtree)
{
	int root = t_new(self->dev, 0), child, grand;
	unsigned long long rid, cid, gid;
	char comm[32] = "", what[64];

	ASSERT_LE(0, root);
	child = t_child(root, 0);
	ASSERT_LE(0, child);
	grand = t_child(child, 0);
	ASSERT_LE(0, grand);
	rid = t_id(root);
	cid = t_id(child);
	gid = t_id(grand);
	ASSERT_LT(0, t_read_file("/proc/self/comm", comm, sizeof(comm)));
	comm[strcspn(comm, "\n")] = '\0';

	EXPECT_EVENT("ctxfd_create: id=%llu parent=0 depth=0 kind=0", rid);
	EXPECT_EVENT("ctxfd_create: id=%llu parent=%llu depth=1 kind=0", cid, rid);
	EXPECT_EVENT("ctxfd_create: id=%llu parent=%llu depth=2 kind=0", gid, cid);
	/* Canceling the child takes the grandchild along: 2 nodes. */
	ASSERT_EQ(0, t_cancel(child, 7, "why"));
	EXPECT_EVENT("ctxfd_cancel: id=%llu reason=%d origin=%llu origin_pid=%d origin_comm=%s err=%d cause=7 nodes=2",
		     cid, CTXFD_REASON_CANCEL, cid, (int)getpid(), comm,
		     ECANCELED);
	/* The grandchild still open: not drained; then released, drained. */
	snprintf(what, sizeof(what), "ctxfd_drained: id=%llu\n", cid);
	EXPECT_EQ(NULL, tr_find(self, what));
	close(grand);
	EXPECT_EVENT("ctxfd_release: id=%llu parent=%llu err=%d", gid, cid,
		     ECANCELED);
	EXPECT_EVENT("ctxfd_drained: id=%llu\n", cid);
	/*
	 * Closing the last cancel-capable fd of the root, which the child
	 * keeps alive: reason close, one node (the child is done already).
	 */
	close(root);
	EXPECT_EVENT("ctxfd_cancel: id=%llu reason=%d origin=%llu origin_pid=%d origin_comm=%s err=%d cause=%d nodes=1",
		     rid, CTXFD_REASON_CLOSE, rid, (int)getpid(), comm,
		     ECANCELED, ECANCELED);
	close(child);
	EXPECT_EVENT("ctxfd_release: id=%llu parent=%llu", cid, rid);
	EXPECT_EVENT("ctxfd_release: id=%llu parent=0", rid);
}

/*
 * The timeout is long enough for the create to finish first on the
 * debug kernel: with 1 ms, a create that took longer there (KASAN,
 * lockdep, kmemleak) made the child born done, with no timer to fire.
 */
TEST_F(tr, deadline_fire_then_cancel_with_reason_deadline)
{
	int root = t_new(self->dev, 0), c;
	unsigned long long id;

	ASSERT_LE(0, root);
	c = t_child_timeout(root, 200 * MS);
	ASSERT_LE(0, c);
	id = t_id(c);
	ASSERT_TRUE(t_readable(c, 10000));
	EXPECT_EVENT("ctxfd_deadline_fire: id=%llu deadline_ns=", id);
	EXPECT_EVENT("ctxfd_cancel: id=%llu reason=%d origin=%llu origin_pid=0 origin_comm= err=%d",
		     id, CTXFD_REASON_DEADLINE, id, ETIMEDOUT);
	close(c);
	close(root);
}

/* A process that ignores SIGTERM: attach, signal, kill, done. */
TEST_F(tr, attach_and_teardown_signal_kill_and_done)
{
	int root = t_new(self->dev, 0);
	unsigned long long id;
	pid_t pid;

	ASSERT_LE(0, root);
	id = t_id(root);
	pid = t_spawn_sleeper(true);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, t_attach(root, pid, SIGTERM, 50 * MS, 0));
	EXPECT_EVENT("ctxfd_attach: id=%llu pid=%d sig=%d flags=0x0 grace_ns=%llu",
		     id, (int)pid, SIGTERM, 50 * MS);
	ASSERT_EQ(0, t_cancel(root, 0, NULL));
	EXPECT_EVENT("ctxfd_teardown_signal: id=%llu pid=%d sig=%d count=1",
		     id, (int)pid, SIGTERM);
	EXPECT_EVENT("ctxfd_teardown_kill: id=%llu pid=%d count=1 left=0",
		     id, (int)pid);
	EXPECT_EVENT("ctxfd_teardown_done: id=%llu pid=%d", id, (int)pid);
	EXPECT_EVENT("ctxfd_drained: id=%llu\n", id);
	EXPECT_EQ(128 + SIGKILL, t_wait_status(pid));
	close(root);
}

TEST_HARNESS_MAIN
