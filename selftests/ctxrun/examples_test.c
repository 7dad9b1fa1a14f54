// SPDX-License-Identifier: GPL-2.0
/*
 * The graceful-shutdown examples of ctxrun(1) and ctxfd(7), as shipped in
 * tools/ctxrun/examples: a Python asyncio worker and a Go worker that
 * watch $CTXFD. Under ctxrun --grace they finish their job, save, say
 * "clean shutdown" and exit 0; without --grace, SIGTERM follows the
 * descriptor at once and they die of it mid-shutdown.
 */
#define _GNU_SOURCE
#include "kselftest_harness.h"
#include "ctxfd_test.h"
#include "ctxrun_test.h"

#define CTXRUN(self, ...) ({						\
	char *__argv[] = { (self)->ctxrun, __VA_ARGS__, NULL };	\
	pid_t __p = start_prog(&(self)->how, __argv);			\
	ASSERT_LT(0, __p);						\
	__p;								\
})

/* What the command wrote on stdout so far (it has exited). */
static const char *said(int fd, char *buf, size_t size)
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

FIXTURE(example) {
	int rep[2];
	int out[2];
	struct how how;
	char *ctxrun;
	char said[4096];
};

FIXTURE_SETUP(example)
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
}

FIXTURE_TEARDOWN(example)
{
	t_kill_descendants(20000);
	close(self->rep[0]);
	close(self->rep[1]);
	close(self->out[0]);
	close(self->out[1]);
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
	EXPECT_NE(NULL, strstr(said(self->out[0], self->said, sizeof(self->said)), "deadline exceeded (cause 124): saving state\n"));
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
	EXPECT_EQ(NULL, strstr(said(self->out[0], self->said, sizeof(self->said)), "clean shutdown")) {
		TH_LOG("it said: %s", self->said);
	}
	EXPECT_EQ(0, t_live_descendants(getpid(), 0, NULL, 0));
}

TEST_HARNESS_MAIN
