// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The libctxfd selftests under valgrind: built once per program of
 * build/selftests/libctxfd/ (lib/lib.mk, VG_PROGRAM), as
 * build/selftests/libctxfd-valgrind/<program>, which runs it as
 *
 *   valgrind --leak-check=full --error-exitcode=99 --trace-children=yes ...
 *
 * so that a memory error or a leak anywhere (the test's harness, every
 * forked test child, every example program they execute) fails it.
 * Suppressed: only the thread-local storage of the library's own threads
 * still alive at exit (libctxfd.supp says why).
 *
 * The inner tests see CTX_TEST_SLOWDOWN=20 (valgrind in TCG is slow:
 * timeouts grow) and CTX_TEST_SHORT=1 (loops that repeat a behaviour to
 * catch races run fewer times, like Go's testing.Short()).
 * CTX_TESTS_DIR (build/selftests/libctxfd), CTX_TOP and VG_PROGRAM come
 * from lib/lib.mk. One executable per program, rather than one for all,
 * gives each its own time limit in tools/run-tests and its own line in
 * the summary: the whole group takes many minutes in TCG.
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

/*
 * Print what matters in a failed run's log: the harness's failures and
 * every valgrind error report (from its first line to the blank line
 * that ends it), whichever process of the run it came from.
 */
static void print_failures(const char *path)
{
	static const char *const harness[] = {
		"not ok", "FAIL", "Expected", "terminated", "timeout",
		"ERROR SUMMARY: ", "LEAK SUMMARY", "lost:",
	};
	static const char *const errors[] = {
		"Invalid ", "uninitialised", "Conditional jump", "lost in loss",
		"Syscall param", "Mismatched", "overlap", "Process terminating",
	};
	char line[1024];
	bool in_error = false;
	size_t i;
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *body = line;

		/* valgrind lines start with "==PID== " */
		if (line[0] == '=' && line[1] == '=') {
			body = strstr(line + 2, "== ");
			body = body ? body + 3 : line;
		}
		if (in_error) {
			fputs(line, stderr);
			if (*body == '\n')
				in_error = false;
			continue;
		}
		for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
			if (strstr(body, errors[i])) {
				in_error = true;
				fputs(line, stderr);
				break;
			}
		}
		if (in_error)
			continue;
		for (i = 0; i < sizeof(harness) / sizeof(harness[0]); i++) {
			if (strstr(line, harness[i]) &&
			    !strstr(line, "ERROR SUMMARY: 0 ")) {
				fputs(line, stderr);
				break;
			}
		}
	}
	fclose(f);
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
	__u64 start;
	int status, fd;
	pid_t pid;

	snprintf(prog, sizeof(prog), "%s/%s", CTX_TESTS_DIR, name);
	ASSERT_EQ(0, access(prog, X_OK)) TH_LOG("%s is not built", prog);
	fd = mkstemp(self->log);
	ASSERT_LE(0, fd);
	start = t_now_ns(CLOCK_MONOTONIC);

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		setenv("CTX_TEST_SLOWDOWN", "20", 1);
		setenv("CTX_TEST_SHORT", "1", 1);
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
	/* stderr: the harness's child ends with _exit(), stdout is lost */
	fprintf(stderr, "# %s: %.0f s under valgrind\n", name,
		(double)(t_now_ns(CLOCK_MONOTONIC) - start) / 1e9);

	if (WIFEXITED(status) && WEXITSTATUS(status) == KSFT_SKIP) {
		unlink(self->log);
		CTXFD_SKIP("%s: every test skipped", name);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    log_has_errors(self->log)) {
		print_failures(self->log);
		unlink(self->log);
		ASSERT_TRUE(false) TH_LOG("%s under valgrind: wait status %#x",
					  name, status);
	}
	unlink(self->log);
}

/* The program of the libctxfd group this executable runs. */
#define VG_TEST(name)							\
	TEST_F_TIMEOUT(valgrind, name, 3000)				\
	{								\
		run_under_valgrind(_metadata, self, #name);		\
	}
#define VG_TEST_OF(name)	VG_TEST(name)	/* expands VG_PROGRAM */
VG_TEST_OF(VG_PROGRAM)

TEST_HARNESS_MAIN
