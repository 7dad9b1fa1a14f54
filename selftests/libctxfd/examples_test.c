// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The programs of lib/examples, run and checked like Go's examples: each
 * source ends with an "Output:" comment, and the program must print
 * exactly that and exit 0.
 *
 *  - Go's ExampleWithCancel, ExampleWithDeadline, ExampleWithTimeout,
 *    ExampleWithValue, ExampleAfterFunc_cond, ExampleAfterFunc_connection
 *    and ExampleAfterFunc_merge, as C programs, and the last rewritten
 *    with ctx_with_any() (example_with_any_merge);
 *  - the seed scenarios: an endless watch loop stopped by canceling its
 *    context, a request handler fanning out with a 50 ms downstream
 *    timeout and answering with defaults, a generator that does not leak
 *    when its consumer stops early.
 *
 * The programs are built like user programs (the C files of lib/examples, against
 * libctxfd); the ASan group runs their ASan build.
 */
#include <sys/inotify.h>

#include "lib_test.h"

/*
 * The expected output of lib/examples/@name.c: the lines of its
 * "Output:" comment, or of "Output (@args):" if @args is not NULL.
 */
static bool expected_output(const char *name, const char *args, char *out,
			    size_t len)
{
	char path[512], marker[128], line[512];
	bool in = false, found = false;
	size_t used = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.c", CTX_EXAMPLES_SRC, name);
	if (args)
		snprintf(marker, sizeof(marker), "/* Output (%s):\n", args);
	else
		snprintf(marker, sizeof(marker), "/* Output:\n");
	f = fopen(path, "re");
	if (!f)
		return false;
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		const char *text;
		int n;

		if (!in) {
			in = found = !strcmp(line, marker);
			continue;
		}
		if (!strcmp(line, " */\n"))
			break;
		if (strncmp(line, " *", 2))
			break;
		text = line[2] == ' ' ? line + 3 : line + 2;
		n = snprintf(out + used, len - used, "%s", text);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	fclose(f);
	return found;
}

static void run_example(struct __test_metadata *_metadata, const char *name,
			const char *args, char *const argv[])
{
	static char want[4096], got[4096];
	int status;

	ASSERT_TRUE(expected_output(name, args, want, sizeof(want)))
		TH_LOG("no Output comment in %s.c", name);
	status = lib_run_example(name, argv, NULL, got, sizeof(got), 120);
	ASSERT_NE(-1, status) TH_LOG("%s did not finish; output so far:\n%s",
				     name, got);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("%s: wait status %#x", name, status);
	EXPECT_STREQ(want, got);
}

LIBTEST(ExampleWithCancel)
{
	run_example(_metadata, "example_with_cancel", NULL, NULL);
}

LIBTEST(ExampleWithDeadline)
{
	run_example(_metadata, "example_with_deadline", NULL, NULL);
}

LIBTEST(ExampleWithTimeout)
{
	run_example(_metadata, "example_with_timeout", NULL, NULL);
}

LIBTEST(ExampleWithValue)
{
	run_example(_metadata, "example_with_value", NULL, NULL);
}

LIBTEST(ExampleAfterFunc_cond)
{
	run_example(_metadata, "example_after_func_cond", NULL, NULL);
}

LIBTEST(ExampleAfterFunc_connection)
{
	run_example(_metadata, "example_after_func_connection", NULL, NULL);
}

LIBTEST(ExampleAfterFunc_merge)
{
	run_example(_metadata, "example_after_func_merge", NULL, NULL);
}

/* The same merge without AfterFunc: the kernel's ctx_with_any(). */
LIBTEST(ExampleWithAny_merge)
{
	run_example(_metadata, "example_with_any_merge", NULL, NULL);
}

/* Seed: an endless watch loop stopped by canceling its context. */
LIBTEST(SeedWatchLoopStopsOnCancel)
{
	/* The example watches a directory with inotify; a kernel built
	 * without CONFIG_INOTIFY_USER cannot run it at all. */
	int fd = inotify_init1(IN_CLOEXEC);

	if (fd < 0 && errno == ENOSYS)
		SKIP(return, "kernel without inotify (CONFIG_INOTIFY_USER)");
	ASSERT_LE(0, fd) TH_LOG("inotify_init1: %s", strerror(errno));
	close(fd);
	run_example(_metadata, "watch_loop", NULL, NULL);
}

/*
 * Seed: fan-out with a 50 ms downstream timeout, defaults on expiry. The
 * slow backend takes an hour: the program ends only because the deadline
 * reaches it. Under ASan and valgrind (CTX_TEST_SLOWDOWN) a fast backend
 * may need more than 50 ms just to be scheduled, so the timeout grows.
 */
LIBTEST(SeedFanoutDefaultsOnTimeout)
{
	const char *env = getenv("CTX_TEST_SLOWDOWN");
	int slow = env ? atoi(env) : 1;
	char ms[16];
	char *argv[] = { ms, NULL };

#ifdef __SANITIZE_ADDRESS__
	if (slow < 10)
		slow = 10;
#endif
	snprintf(ms, sizeof(ms), "%d", 50 * (slow > 0 ? slow : 1));
	run_example(_metadata, "fanout", NULL, argv);
}

/* Seed: a generator that does not leak when its consumer stops early. */
LIBTEST(SeedGeneratorDoesNotLeak)
{
	run_example(_metadata, "generator", NULL, NULL);
}

TEST_HARNESS_MAIN
