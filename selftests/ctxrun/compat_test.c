// SPDX-License-Identifier: GPL-2.0
/*
 * ctxrun as a drop-in for timeout(1): the same command lines, run with
 * GNU timeout and with ctxrun side by side in the same VM run, give the
 * same exit status (and, for -v and errors, the same words, ctxrun
 * being called "timeout" through a symlink; both are started as a shell
 * would from $PATH, with argv[0] "timeout"). Cases after coreutils' own
 * tests/timeout suite: syntax, durations, -s 0 with -k, -k beyond a
 * day, SIGALRM, tiny durations, --foreground, signals by number.
 *
 * The differences that remain are deliberate (ctxrun(1), COMPATIBILITY):
 * the last test pins ctxrun's side of each.
 */
#define _GNU_SOURCE
#include "kselftest_harness.h"
#include "ctxfd_test.h"
#include "ctxrun_test.h"

#define GNU_TIMEOUT	"/usr/bin/timeout"
#define MAX_ARGS	16

FIXTURE(compat) {
	char dir[64];		/* holds "timeout", a symlink to ctxrun */
	char shim[128];
};

FIXTURE_SETUP(compat)
{
	ctxrun_or_skip();
	if (access(GNU_TIMEOUT, X_OK))
		CTXFD_SKIP("no GNU timeout at %s", GNU_TIMEOUT);
	ASSERT_EQ(0, t_subreaper());
	snprintf(self->dir, sizeof(self->dir), "/tmp/ctxrun-compat-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->shim, sizeof(self->shim), "%s/timeout", self->dir);
	ASSERT_EQ(0, symlink(ctxrun_path(), self->shim));
}

FIXTURE_TEARDOWN(compat)
{
	t_kill_descendants(20000);
	unlink(self->shim);
	rmdir(self->dir);
}

/* A started program: its pid and where its stderr goes. */
struct proc {
	pid_t pid;
	int err;	/* read end of its stderr */
};

/*
 * Start @prog @args (NULL-terminated) in the C locale, stdin from
 * /dev/null, stdout to /dev/null, stderr to a pipe; with @block_alrm,
 * SIGALRM blocked, as coreutils' timeout-blocked test does.
 */
static struct proc start(const char *prog, const char *const *args,
			 bool block_alrm)
{
	char *argv[MAX_ARGS + 2];
	struct proc p = { -1, -1 };
	int err[2], i;

	if (pipe2(err, O_CLOEXEC))
		return p;
	/* As a shell runs it from $PATH: GNU timeout names itself argv[0]. */
	argv[0] = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : (char *)prog;
	for (i = 0; args[i] && i < MAX_ARGS; i++)
		argv[i + 1] = (char *)args[i];
	argv[i + 1] = NULL;
	p.pid = fork();
	if (p.pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (block_alrm) {
			sigset_t set;

			sigemptyset(&set);
			sigaddset(&set, SIGALRM);
			sigprocmask(SIG_BLOCK, &set, NULL);
		}
		dup2(null, 0);
		dup2(null, 1);
		dup2(err[1], 2);
		unsetenv("CTXFD");
		setenv("LC_ALL", "C", 1);
		execv(prog, argv);
		_exit(122);
	}
	close(err[1]);
	p.err = err[0];
	return p;
}

/* Wait for @p: its status as a shell sees it; its stderr into @msg. */
static int finish(struct proc p, char *msg, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int status;

	if (p.pid < 0)
		return -1;
	status = wait_exit(p.pid, 60000);
	while (msg && len + 1 < size &&
	       (n = read(p.err, msg + len, size - 1 - len)) > 0)
		len += (size_t)n;
	if (msg)
		msg[len] = '\0';
	close(p.err);
	return status;
}

/*
 * Run @args with GNU timeout and with ctxrun (called "timeout"), both at
 * once: each one's status and stderr.
 */
struct both {
	int gnu, ours;
	char gnu_msg[1024], our_msg[1024];
};

static void run_both(FIXTURE_DATA(compat) *self, const char *const *args,
		     bool block_alrm, struct both *b)
{
	struct proc g = start(GNU_TIMEOUT, args, block_alrm);
	struct proc c = start(self->shim, args, block_alrm);

	b->gnu = finish(g, b->gnu_msg, sizeof(b->gnu_msg));
	b->ours = finish(c, b->our_msg, sizeof(b->our_msg));
}

/* One case: its arguments and the status both must give. */
struct compat_case {
	const char *args[MAX_ARGS];
	int status;
};

static const struct compat_case cases[] = {
	/* Syntax and exit statuses (coreutils' timeout.sh). */
	{ { "10", "true" }, 0 },
	{ { "1d", "true" }, 0 },
	{ { "0", "true" }, 0 },
	{ { "10", "sh", "-c", "exit 2" }, 2 },
	{ { ".1", "sleep", "10" }, 124 },
	{ { "--preserve-status", ".1", "sleep", "10" }, 128 + SIGTERM },
	/* -s 0 / EXIT: nothing at the deadline, then -k. */
	{ { "-s0", "-k1", ".1", "sleep", "10" }, 128 + SIGKILL },
	{ { "--foreground", "-s0", "-k1", ".1", "sleep", "10" }, 128 + SIGKILL },
	{ { "-s", "EXIT", "-k", ".3", ".1", "sleep", "10" }, 128 + SIGKILL },
	{ { "-s", "0", ".2", "sh", "-c", "sleep 1; exit 3" }, 124 },
	/* -k beyond a day: accepted, and waits that long. */
	{ { "-k", "2d", ".1", "sleep", "10" }, 124 },
	{ { "-k", "1.5d", "-s", "0", ".2", "sh", "-c", "sleep 1; exit 3" }, 124 },
	{ { "--kill-after=2d", "--signal=KILL", ".1", "sleep", "10" }, 128 + SIGKILL },
	/* Tiny durations: the command starts, then times out. */
	{ { "1e-9", "sleep", "10" }, 124 },
	{ { "0.000000001", "sleep", "10" }, 124 },
	{ { "1e-6", "sleep", "10" }, 124 },
	{ { "-s", "KILL", "1e-9", "sleep", "10" }, 128 + SIGKILL },
	/* Durations (timeout-parameters.sh, timeout-large-parameters.sh). */
	{ { "10.34", "sleep", "0" }, 0 },
	{ { "9.999999999", "sleep", "0" }, 0 },
	{ { "4294967296", "sleep", "0" }, 0 },
	{ { "2.34e+5d", "sleep", "0" }, 0 },
	{ { "1e999", "sleep", "0" }, 0 },
	{ { "--kill-after=invalid", "1", "sleep", "0" }, 125 },
	{ { "--signal=invalid", "1", "sleep", "0" }, 125 },
	{ { "-s", "32", "1", "sleep", "0" }, 125 },
	{ { "10", "." }, 126 },
	{ { "10", "no_such_command_here" }, 127 },
	/* Signals by number, as exit statuses too. */
	{ { "-s", "143", "--preserve-status", ".1", "sleep", "10" }, 128 + SIGTERM },
	{ { "-s", "USR1", "--preserve-status", ".1", "sleep", "10" }, 128 + SIGUSR1 },
	{ { "-s", "RTMAX", "--preserve-status", ".1", "sleep", "10" }, 128 + 64 },
	{ { "-s", "KILL", ".1", "sleep", "10" }, 128 + SIGKILL },
	/* Usage errors. */
	{ { "-x", "1", "true" }, 125 },
	{ { "--no-such-option", "1", "true" }, 125 },
	{ { "1" }, 125 },
	{ { }, 125 },
};

/* Cases run side by side in batches: each waits mostly on a timer. */
#define BATCH	6

TEST_F_TIMEOUT(compat, exit_status_is_timeouts, 300)
{
	size_t n = sizeof(cases) / sizeof(cases[0]), i, j;

	for (i = 0; i < n; i += BATCH) {
		struct proc g[BATCH], c[BATCH];
		size_t m = n - i < BATCH ? n - i : BATCH;

		for (j = 0; j < m; j++) {
			g[j] = start(GNU_TIMEOUT, cases[i + j].args, false);
			c[j] = start(self->shim, cases[i + j].args, false);
		}
		for (j = 0; j < m; j++) {
			const struct compat_case *k = &cases[i + j];
			char msg[1024];
			int gs = finish(g[j], NULL, 0);
			int cs = finish(c[j], msg, sizeof(msg));

			EXPECT_EQ(k->status, gs) {
				TH_LOG("case %zu (%s %s ...): GNU timeout %d",
				       i + j, k->args[0] ?: "",
				       k->args[0] && k->args[1] ? k->args[1] : "",
				       gs);
			}
			EXPECT_EQ(gs, cs) {
				TH_LOG("case %zu (%s %s ...): GNU timeout %d, ctxrun %d: %s",
				       i + j, k->args[0] ?: "",
				       k->args[0] && k->args[1] ? k->args[1] : "",
				       gs, cs, msg);
			}
		}
	}
}

/* Has @pid a child yet? Waits at most @ms. */
static bool has_child(pid_t pid, int ms)
{
	for (; ms > 0; ms -= 10) {
		if (t_live_descendants(pid, 0, NULL, 0) > 0)
			return true;
		usleep(10000);
	}
	return false;
}

TEST_F(compat, sigalrm_is_the_deadline)
{
	const char *args[] = { "30", "sleep", "60", NULL };
	struct proc g = start(GNU_TIMEOUT, args, false);
	struct proc c = start(self->shim, args, false);

	/* Once both have started their command. */
	ASSERT_TRUE(has_child(g.pid, 20000));
	ASSERT_TRUE(has_child(c.pid, 20000));
	ASSERT_EQ(0, kill(g.pid, SIGALRM));
	ASSERT_EQ(0, kill(c.pid, SIGALRM));
	EXPECT_EQ(124, finish(g, NULL, 0));
	EXPECT_EQ(124, finish(c, NULL, 0));
}

/*
 * What the parent leaves: SIGALRM blocked (coreutils' timeout-blocked),
 * SIGCHLD ignored, a child of its own (coreutils bug#9098: "sleep .1 &
 * exec timeout ..."). None of it changes the outcome.
 */
TEST_F(compat, what_the_parent_left_changes_nothing)
{
	static const char *const scripts[] = {
		"trap '' CHLD; exec \"$0\" 10 true",
		"sleep .1 & exec \"$0\" .5 sh -c 'sleep 2; echo foo >&2'",
	};
	const char *args[] = { ".1", "sleep", "10", NULL };
	char gmsg[256], cmsg[256];
	struct both b;
	size_t i;

	run_both(self, args, true, &b);
	EXPECT_EQ(124, b.gnu);
	EXPECT_EQ(124, b.ours);
	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		const char *g[] = { "-c", scripts[i], GNU_TIMEOUT, NULL };
		const char *c[] = { "-c", scripts[i], self->shim, NULL };
		struct proc pg = start("/bin/sh", g, false);
		struct proc pc = start("/bin/sh", c, false);
		int want = i ? 124 : 0;

		EXPECT_EQ(want, finish(pg, gmsg, sizeof(gmsg)));
		EXPECT_EQ(want, finish(pc, cmsg, sizeof(cmsg)));
		EXPECT_STREQ("", gmsg);
		EXPECT_STREQ("", cmsg);
	}
}

/* Same stderr, byte for byte (in the C locale). */
TEST_F(compat, messages_are_timeouts)
{
	static const char *const cases_[][MAX_ARGS] = {
		{ "-v", "-s0", "-k", ".1", ".1", "sleep", "10" },
		{ "--verbose", ".1", "sleep", "10" },
		{ "-v", "-s", "143", "-k", "5", ".1", "sleep", "10" },
		{ "-k", "abc", "1", "true" },
		{ "-s", "FOO", "1", "true" },
		{ "1", "/nonexistent/command" },
		{ "1", "/etc/passwd" },
		{ "-x", "1", "true" },
		{ "--foo", "1", "true" },
		{ "--kill-after" },
	};
	struct both b;
	size_t i;

	for (i = 0; i < sizeof(cases_) / sizeof(cases_[0]); i++) {
		run_both(self, cases_[i], false, &b);
		EXPECT_EQ(b.gnu, b.ours);
		EXPECT_STREQ(b.gnu_msg, b.our_msg) {
			TH_LOG("case %zu: %s %s ...", i, cases_[i][0],
			       cases_[i][1] ?: "");
		}
	}
}

/* What ctxrun does differently, on purpose (ctxrun(1), COMPATIBILITY). */
TEST_F(compat, deliberate_differences)
{
	static const struct {
		const char *args[MAX_ARGS];
		int ours;
	} diff[] = {
		/* -- forces a COMMAND: "0.1" is run (timeout: a DURATION). */
		{ { "--", ".1", "sleep", "10" }, 127 },
		/* A first operand that is no DURATION is the COMMAND. */
		{ { "no_such_command_here", "sleep", "0" }, 127 },
		/* DURATION -- COMMAND (timeout would run "--"). */
		{ { "5", "--", "true" }, 0 },
		/* An underflowing DURATION times out (coreutils 9.1: none). */
		{ { "1e-5000", "sleep", "2" }, 124 },
	};
	struct both b;
	size_t i;

	for (i = 0; i < sizeof(diff) / sizeof(diff[0]); i++) {
		run_both(self, diff[i].args, false, &b);
		EXPECT_EQ(diff[i].ours, b.ours) {
			TH_LOG("case %zu: %s", i, b.our_msg);
		}
		TH_LOG("%s %s %s: timeout %d, ctxrun %d", diff[i].args[0],
		       diff[i].args[1], diff[i].args[2], b.gnu, b.ours);
	}
}

TEST_HARNESS_MAIN
