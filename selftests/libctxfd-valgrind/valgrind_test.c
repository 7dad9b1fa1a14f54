// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The libctxfd selftests under valgrind: one TEST per program of
 * build/selftests/libctxfd/, each run as
 *
 *   valgrind --leak-check=full --error-exitcode=99 --trace-children=yes ...
 *
 * so that a memory error or a leak anywhere (the test's harness, every
 * forked test child, every example program they execute) fails it.
 * Suppressed: only the thread-local storage of the library's own threads
 * still alive at exit (libctxfd.supp says why).
 *
 * The inner tests see CTX_TEST_SLOWDOWN=20 (valgrind in TCG is slow).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#define VALGRIND "/usr/bin/valgrind"

FIXTURE(valgrind) {
	char log[64];
};

FIXTURE_SETUP(valgrind)
{
	if (access(VALGRIND, X_OK))
		CTXFD_SKIP("valgrind is not installed (apt-get install valgrind)");
	if (access(CTXFD_DEVICE, F_OK))
		CTXFD_SKIP("%s missing: ctxfd.ko not loaded", CTXFD_DEVICE);
	snprintf(self->log, sizeof(self->log), "/tmp/libctxfd-vg.XXXXXX");
}

FIXTURE_TEARDOWN(valgrind)
{
}

/* Print the last @lines lines of @path. */
static void tail(const char *path, int lines)
{
	static char buf[1 << 16];
	ssize_t n;
	char *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (lseek(fd, 0, SEEK_END) > (off_t)sizeof(buf) - 1)
		n = pread(fd, buf, sizeof(buf) - 1,
			  lseek(fd, 0, SEEK_END) - (off_t)sizeof(buf) + 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (p = buf + n; p > buf && lines; p--)
		if (p[-1] == '\n')
			lines--;
	fprintf(stderr, "%s", p);
}

/* Did valgrind report errors anywhere in the log? */
static bool log_has_errors(const char *path)
{
	char line[512];
	bool bad = false;
	FILE *f = fopen(path, "re");

	if (!f)
		return true;
	while (fgets(line, sizeof(line), f)) {
		char *s = strstr(line, "ERROR SUMMARY: ");

		if (s && atoi(s + strlen("ERROR SUMMARY: ")) > 0)
			bad = true;
	}
	fclose(f);
	return bad;
}

static void run_under_valgrind(struct __test_metadata *_metadata,
			       FIXTURE_DATA(valgrind) *self, const char *name)
{
	char prog[512];
	int status, fd;
	pid_t pid;

	snprintf(prog, sizeof(prog), "%s/build/selftests/libctxfd/%s", CTX_TOP,
		 name);
	ASSERT_EQ(0, access(prog, X_OK)) TH_LOG("%s is not built", prog);
	fd = mkstemp(self->log);
	ASSERT_LE(0, fd);

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		setenv("CTX_TEST_SLOWDOWN", "20", 1);
		execl(VALGRIND, VALGRIND, "--leak-check=full",
		      "--errors-for-leak-kinds=definite,possible",
		      "--show-leak-kinds=definite,possible",
		      "--error-exitcode=99", "--trace-children=yes",
		      "--trace-children-skip=/usr/*,/bin/*,/sbin/*",
		      "--suppressions=" CTX_TOP
		      "/selftests/libctxfd-valgrind/libctxfd.supp",
		      "--num-callers=30", prog, (char *)NULL);
		_exit(127);
	}
	close(fd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));

	if (WIFEXITED(status) && WEXITSTATUS(status) == KSFT_SKIP) {
		unlink(self->log);
		CTXFD_SKIP("%s: every test skipped", name);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    log_has_errors(self->log)) {
		tail(self->log, 80);
		unlink(self->log);
		ASSERT_TRUE(false) TH_LOG("%s under valgrind: wait status %#x",
					  name, status);
	}
	unlink(self->log);
}

/* One test per program of the libctxfd group (generated list). */
#define VG_TEST(name)							\
	TEST_F_TIMEOUT(valgrind, name, 3000)				\
	{								\
		run_under_valgrind(_metadata, self, #name);		\
	}
#include "tests.h"

TEST_HARNESS_MAIN
