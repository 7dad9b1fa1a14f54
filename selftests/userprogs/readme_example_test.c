// SPDX-License-Identifier: GPL-2.0
/*
 * The README's 30-second example does what the README says it does,
 * whatever its standard output is: a terminal is not at hand here, but a
 * pipe and a file are, and those are where buffered output gets lost
 * when a child leaves with _exit(). userprogs.mk cuts the example out of
 * README.md as printed and builds it with warnings as errors.
 */
#define _GNU_SOURCE
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#define EXPECTED	"child: context canceled\n"

/* build/selftests/userprogs/bin/readme-example, next to this program. */
static const char *example(void)
{
	static char path[4096 + 32];
	char exe[4096];
	ssize_t n;
	char *slash;

	if (path[0])
		return path;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	snprintf(path, sizeof(path), "%s/bin/readme-example", exe);
	return path;
}

FIXTURE(readme) {
	int out;	/* where the example's stdout goes */
	int in;		/* where the test reads it back */
};

FIXTURE_VARIANT(readme) {
	bool pipe;	/* stdout a pipe, else a file */
};

FIXTURE_VARIANT_ADD(readme, stdout_is_a_pipe) {
	.pipe = true,
};

FIXTURE_VARIANT_ADD(readme, stdout_is_a_file) {
	.pipe = false,
};

FIXTURE_SETUP(readme)
{
	int dev = ctxfd_dev_or_skip(), p[2];

	close(dev);
	ASSERT_NE(NULL, example());
	ASSERT_EQ(0, access(example(), X_OK)) {
		TH_LOG("%s was not built: run make", example());
	}
	if (variant->pipe) {
		ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
		self->in = p[0];
		self->out = p[1];
	} else {
		self->out = memfd_create("readme-out", MFD_CLOEXEC);
		ASSERT_LE(0, self->out);
		self->in = dup(self->out);
		ASSERT_LE(0, self->in);
	}
}

FIXTURE_TEARDOWN(readme)
{
	close(self->in);
	close(self->out);
}

TEST_F(readme, example_prints_what_the_readme_shows)
{
	char buf[256];
	ssize_t n, len = 0;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		dup2(self->out, 1);
		execl(example(), example(), (char *)NULL);
		_exit(127);
	}
	EXPECT_EQ(0, t_wait_status(pid));
	close(self->out);
	self->out = -1;
	if (!variant->pipe)
		ASSERT_EQ(0, lseek(self->in, 0, SEEK_SET));
	while (len < (ssize_t)sizeof(buf) - 1 &&
	       (n = read(self->in, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = '\0';
	EXPECT_STREQ(EXPECTED, buf);
}

TEST_HARNESS_MAIN
