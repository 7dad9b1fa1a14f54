// SPDX-License-Identifier: GPL-2.0
/*
 * ctxrun --grace: on deadline or cancel the context is done first (the
 * command's CTXFD fires with its cause), SIGNAL comes a grace period
 * later, then -k. A program that watches its fd exits on its own in
 * between; the Python asyncio and Go examples of ctxrun(1) and ctxfd(7)
 * do, and die mid-cleanup without --grace.
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
	char said[4096];
};

/* What both fixtures below set up. */
#define GRACE_SETUP(self) do {						\
	ctxrun_or_skip();						\
	ASSERT_EQ(0, pipe2((self)->rep, O_CLOEXEC));			\
	ASSERT_EQ(0, pipe2((self)->out, O_CLOEXEC));			\
	ASSERT_EQ(0, t_subreaper());					\
	(self)->how = (struct how){					\
		.rep = (self)->rep[1], .ctx = -1, .err = -1,		\
		.out = (self)->out[1], .shm = -1,			\
	};								\
	(self)->ctxrun = (char *)ctxrun_path();			\
	(self)->self = (char *)self_exe();				\
} while (0)

#define GRACE_TEARDOWN(self) do {					\
	t_kill_descendants(20000);					\
	close((self)->rep[0]);						\
	close((self)->rep[1]);						\
	close((self)->out[0]);						\
	close((self)->out[1]);						\
} while (0)

FIXTURE_SETUP(grace)
{
	GRACE_SETUP(self);
}

FIXTURE_TEARDOWN(grace)
{
	GRACE_TEARDOWN(self);
}

#define CTXRUN(self, ...) ({						\
	char *__argv[] = { (self)->ctxrun, __VA_ARGS__, NULL };	\
	pid_t __p = start_prog(&(self)->how, __argv);			\
	ASSERT_LT(0, __p);						\
	__p;								\
})
#define HELPER(self, ...) "--", (self)->self, "--helper", __VA_ARGS__

/* What the command wrote on stdout so far (it has exited). */
#define said(self) said_((self)->out[0], (self)->said, sizeof((self)->said))
static const char *said_(int fd, char *buf, size_t size)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t len = 0;
	ssize_t n;

	while (len + 1 < size && poll(&pfd, 1, 0) == 1 &&
	       (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return buf;
}

TEST_F(grace, context_is_done_a_grace_before_the_signal)
{
	pid_t pid = CTXRUN(self, "--grace", "1", "-k", "0.5", "-t", "0.5",
			   HELPER(self, "watch-stay"));
	struct rec r[3];

	ASSERT_EQ(3, get_recs(self->rep[0], r, 3, 20000));
	ASSERT_EQ(TAG_HELPER, r[0].tag);
	ASSERT_EQ(TAG_DONE, r[1].tag);
	ASSERT_EQ(TAG_TERM, r[2].tag);
	EXPECT_LE(900 * MS, r[2].val - r[1].val);
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

	ASSERT_EQ(1, get_recs(self->rep[0], r, 1, 20000));
	ASSERT_EQ(0, kill(pid, SIGTERM));
	ASSERT_EQ(2, get_recs(self->rep[0], r, 2, 20000));
	ASSERT_EQ(TAG_DONE, r[0].tag);
	ASSERT_EQ(TAG_TERM, r[1].tag);
	EXPECT_LE(900 * MS, r[1].val - r[0].val);
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

/* ---- the examples of ctxrun(1) and ctxfd(7) ---- */

FIXTURE(example) {
	int rep[2];
	int out[2];
	struct how how;
	char *ctxrun;
	char *self;
	char said[4096];
};

FIXTURE_SETUP(example)
{
	GRACE_SETUP(self);
}

FIXTURE_TEARDOWN(example)
{
	GRACE_TEARDOWN(self);
}

FIXTURE_VARIANT(example) {
	const char *example;	/* under build/tools/examples, or a script */
	const char *interp;	/* NULL: a binary */
};

FIXTURE_VARIANT_ADD(example, python_asyncio) {
	.example = "tools/ctxrun/examples/grace_asyncio.py",
	.interp = "/usr/bin/python3",
};

FIXTURE_VARIANT_ADD(example, go) {
	.example = "examples/grace-go",
};

/* The example's path: the script in the tree, or the built binary. */
static bool example_path(const FIXTURE_VARIANT(example) *variant, char *buf,
			 size_t size)
{
	char tools[4096], *slash;

	/* ctxrun_path() is TOP/build/tools/ctxrun. */
	if (!realpath(ctxrun_path(), tools))
		return false;
	slash = strrchr(tools, '/');
	if (!slash)
		return false;
	*slash = '\0';
	if (variant->interp)
		snprintf(buf, size, "%s/../../%s", tools, variant->example);
	else
		snprintf(buf, size, "%s/%s", tools, variant->example);
	return access(buf, R_OK) == 0;
}

TEST_F_TIMEOUT(example, exits_cleanly_under_grace_only, 120)
{
	char path[4200];
	const char *interp = variant->interp;
	pid_t pid;

	if (!example_path(variant, path, sizeof(path)))
		SKIP(return, "%s not built (no Go or python3)", variant->example);
	if (interp && access(interp, X_OK))
		SKIP(return, "no %s", interp);

	/* Deadline in 2 s: the fd fires, the worker saves (1 s) and exits. */
	if (interp)
		pid = CTXRUN(self, "--grace", "30", "--preserve-status", "2",
			     (char *)interp, path);
	else
		pid = CTXRUN(self, "--grace", "30", "--preserve-status", "2",
			     path);
	EXPECT_EQ(0, wait_exit(pid, 60000));
	EXPECT_NE(NULL, strstr(said(self), "deadline exceeded (cause 124): saving state\n"));
	EXPECT_NE(NULL, strstr(self->said, "job 1 done\n"));
	EXPECT_NE(NULL, strstr(self->said, "clean shutdown\n")) {
		TH_LOG("it said: %s", self->said);
	}

	/* Without --grace, SIGTERM comes at once and cuts the cleanup. */
	if (interp)
		pid = CTXRUN(self, "--preserve-status", "2", (char *)interp, path);
	else
		pid = CTXRUN(self, "--preserve-status", "2", path);
	EXPECT_EQ(128 + SIGTERM, wait_exit(pid, 60000));
	EXPECT_EQ(NULL, strstr(said(self), "clean shutdown")) {
		TH_LOG("it said: %s", self->said);
	}
	EXPECT_EQ(0, t_live_descendants(getpid(), 0, NULL, 0));
}

TEST_HARNESS_MAIN
