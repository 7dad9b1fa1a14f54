// SPDX-License-Identifier: GPL-2.0
/*
 * ctxrun's interface: exit statuses as timeout(1)'s, DURATION and SIGNAL
 * parsing, usage errors, and the context it inherits and exports.
 */
#define _GNU_SOURCE
#include "kselftest_harness.h"
#include "ctxfd_test.h"
#include "ctxrun_test.h"

FIXTURE(st) {
	int rep[2];
	int err[2];	/* ctxrun's stderr */
	int dev;
	struct how how;
	char *ctxrun;
	char *self;
	char msg[4096];
};

FIXTURE_SETUP(st)
{
	ctxrun_or_skip();
	self->dev = ctxfd_dev_or_skip();
	ASSERT_EQ(0, pipe2(self->rep, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(self->err, O_CLOEXEC));
	ASSERT_EQ(0, t_subreaper());
	self->how = (struct how){
		.rep = self->rep[1], .ctx = -1, .err = self->err[1],
		.out = self->err[1], .shm = -1,
	};
	self->ctxrun = (char *)ctxrun_path();
	self->self = (char *)self_exe();
}

FIXTURE_TEARDOWN(st)
{
	t_kill_descendants(20000);
	close(self->rep[0]);
	close(self->rep[1]);
	close(self->err[0]);
	close(self->err[1]);
	close(self->dev);
}

/* Run ctxrun ARGS... to completion; its status (t_wait_status). */
static int run_argv(FIXTURE_DATA(st) *self, char **argv)
{
	pid_t pid = start_prog(&self->how, argv);
	struct pollfd pfd = { .fd = self->err[0], .events = POLLIN };
	size_t len = 0;
	int status;

	if (pid < 0)
		return -1;
	status = wait_exit(pid, 30000);
	/* What it said on stderr (the pipe holds it: messages are short). */
	while (len + 1 < sizeof(self->msg) && poll(&pfd, 1, 0) == 1) {
		ssize_t n = read(self->err[0], self->msg + len,
				 sizeof(self->msg) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	self->msg[len] = '\0';
	return status;
}

#define RUN(self, ...) ({						\
	char *__argv[] = { (self)->ctxrun, __VA_ARGS__, NULL };	\
	run_argv((self), __argv);					\
})
#define HELPER(self, ...) "--", (self)->self, "--helper", __VA_ARGS__

/* ctxrun said something containing @s (and started with "ctxrun: "). */
#define EXPECT_SAID(self, s) do {					\
	EXPECT_NE(NULL, strstr((self)->msg, (s))) {			\
		TH_LOG("stderr: %s", (self)->msg);			\
	}								\
	EXPECT_EQ(0, strncmp((self)->msg, "ctxrun: ", 8));		\
} while (0)

/* ---- exit statuses ---- */

TEST_F(st, command_success_is_0)
{
	EXPECT_EQ(0, RUN(self, "true"));
	EXPECT_STREQ("", self->msg);
}

TEST_F(st, command_exit_code_passes_through)
{
	EXPECT_EQ(3, RUN(self, "sh", "-c", "exit 3"));
	EXPECT_EQ(1, RUN(self, "false"));
	EXPECT_EQ(255, RUN(self, "sh", "-c", "exit 255"));
	/* Its own 124..127 too: ctxrun does not get in the way. */
	EXPECT_EQ(124, RUN(self, "sh", "-c", "exit 124"));
	EXPECT_EQ(127, RUN(self, "sh", "-c", "exit 127"));
}

TEST_F(st, deadline_exceeded_is_124)
{
	EXPECT_EQ(124, RUN(self, "-t", "0.3", "sleep", "10"));
	EXPECT_STREQ("", self->msg);
}

TEST_F(st, deadline_exceeded_is_124_whatever_command_does)
{
	/* The handler exits 0 on SIGTERM: still a timeout. */
	EXPECT_EQ(124, RUN(self, "-t", "0.3", HELPER(self, "catch-term", "0")));
}

TEST_F(st, sigkill_after_deadline_is_137)
{
	EXPECT_EQ(128 + SIGKILL, RUN(self, "-t", "0.3", "-s", "KILL",
				     "sleep", "10"));
	EXPECT_EQ(128 + SIGKILL, RUN(self, "-t", "2", "-k", "0.3",
				     HELPER(self, "ignore-term")));
}

TEST_F(st, preserve_status_gives_command_status_after_deadline)
{
	EXPECT_EQ(7, RUN(self, "--preserve-status", "-t", "2",
			 HELPER(self, "catch-term", "7")));
	EXPECT_EQ(128 + SIGTERM, RUN(self, "--preserve-status", "-t", "0.3",
				     "sleep", "10"));
	EXPECT_EQ(0, RUN(self, "--preserve-status", "-t", "10", "true"));
}

TEST_F(st, command_killed_by_signal_kills_ctxrun_alike)
{
	pid_t pid;
	int status;
	char *argv[] = { self->ctxrun, "sh", "-c", "kill -USR1 $$", NULL };

	pid = start_prog(&self->how, argv);
	ASSERT_LT(0, pid);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGUSR1, WTERMSIG(status));
	EXPECT_FALSE(WCOREDUMP(status));
	EXPECT_EQ(128 + SIGKILL, RUN(self, "sh", "-c", "kill -KILL $$"));
}

TEST_F(st, command_not_found_is_127)
{
	EXPECT_EQ(127, RUN(self, "/nonexistent/command"));
	EXPECT_SAID(self, "failed to run command '/nonexistent/command'");
	EXPECT_EQ(127, RUN(self, "no-such-command-in-path"));
	EXPECT_SAID(self, "No such file or directory");
}

TEST_F(st, command_not_executable_is_126)
{
	EXPECT_EQ(126, RUN(self, "/etc/passwd"));
	EXPECT_SAID(self, "Permission denied");
	EXPECT_EQ(126, RUN(self, "/"));
	EXPECT_SAID(self, "failed to run command '/'");
}

TEST_F(st, usage_errors_are_125)
{
	EXPECT_EQ(125, RUN(self, "--no-such-option", "true"));
	EXPECT_EQ(125, RUN(self, "-t"));
	EXPECT_EQ(125, RUN(self, "-t", "1"));
	EXPECT_SAID(self, "missing operand");
	EXPECT_EQ(125, RUN(self, "--"));
}

TEST_F(st, help_and_version)
{
	EXPECT_EQ(0, RUN(self, "--help"));
	EXPECT_NE(NULL, strstr(self->msg, "Usage: ctxrun"));
	EXPECT_EQ(0, RUN(self, "--version"));
	EXPECT_EQ(0, strncmp(self->msg, "ctxrun ", 7));
}

/* ---- DURATION and SIGNAL ---- */

TEST_F_TIMEOUT(st, good_durations_are_accepted, 180)
{
	const char *good[] = {
		/* Long enough not to expire even on a loaded TCG guest. */
		"30", "30s", "31.5", "32.5s", ".5m", "1m", "1h", "1d", "0.01d",
		"1e3", "  70", "inf", "0", "0s", "0.0", "1e2", "+30",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		EXPECT_EQ(0, RUN(self, "-t", (char *)good[i], "true")) {
			TH_LOG("-t '%s': %s", good[i], self->msg);
		}
		EXPECT_EQ(0, RUN(self, "-t", "1h", "-k", (char *)good[i], "true")) {
			TH_LOG("-k '%s': %s", good[i], self->msg);
		}
	}
}

TEST_F_TIMEOUT(st, bad_durations_are_125, 180)
{
	const char *bad[] = {
		"", "abc", "-1", "-0.5s", "1x", "1ss", "1 s", "s", "nan",
		"1m2", "0x", "--1",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(125, RUN(self, "-t", (char *)bad[i], "true")) {
			TH_LOG("-t '%s'", bad[i]);
		}
		EXPECT_SAID(self, "invalid time interval");
		EXPECT_EQ(125, RUN(self, "-k", (char *)bad[i], "true")) {
			TH_LOG("-k '%s'", bad[i]);
		}
		EXPECT_SAID(self, "invalid time interval");
	}
}

TEST_F(st, zero_duration_disables_the_deadline)
{
	EXPECT_EQ(0, RUN(self, "-t", "0", "sleep", "0.5"));
}

TEST_F(st, tiny_duration_still_expires)
{
	EXPECT_EQ(124, RUN(self, "-t", "1e-9", "sleep", "10"));
	EXPECT_EQ(124, RUN(self, "-t", "0.001", "sleep", "10"));
}

TEST_F(st, kill_after_beyond_a_day_is_accepted)
{
	/* The kernel's grace limit is a day; ctxrun waits longer itself. */
	EXPECT_EQ(0, RUN(self, "-k", "2d", "true"));
	EXPECT_EQ(0, RUN(self, "-k", "inf", "true"));
	EXPECT_EQ(124, RUN(self, "-k", "1.5d", "-t", "0.2", "sleep", "10"));
}

TEST_F_TIMEOUT(st, signal_names_and_numbers_are_accepted, 180)
{
	const char *good[] = {
		"HUP", "SIGHUP", "hup", "1", "INT", "USR1", "10", "ALRM",
		"RTMIN", "RTMIN+1", "SIGRTMIN+2", "RTMAX-1", "IOT", "TERM",
		"RTMAX", "64", "143", "271", "015", "Rtmin",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		EXPECT_EQ(124, RUN(self, "-t", "0.2", "-s", (char *)good[i],
				   "sleep", "10")) {
			TH_LOG("-s '%s': %s", good[i], self->msg);
		}
	}
}

TEST_F_TIMEOUT(st, bad_signals_are_125, 120)
{
	const char *bad[] = {
		"", "FOO", "SIG", "65", "-1", "RTMIN+31", "RTMAX+1",
		"RTMIN-1", "1x", "SIGSIGHUP", "32", "33", " 15", "+15", "0x1",
		"255", "SIGEXITS",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(125, RUN(self, "-s", (char *)bad[i], "true")) {
			TH_LOG("-s '%s'", bad[i]);
		}
		EXPECT_SAID(self, "invalid signal");
	}
}

TEST_F(st, chosen_signal_is_the_one_sent)
{
	pid_t pid;
	int status;
	char *argv[] = { self->ctxrun, "--preserve-status", "-t", "0.2", "-s",
			 "USR2", "sleep", "10", NULL };

	pid = start_prog(&self->how, argv);
	ASSERT_LT(0, pid);
	ASSERT_EQ(128 + SIGUSR2, wait_exit(pid, 20000));
	(void)status;
}

/* ---- the context: inherited, exported ---- */

TEST_F(st, command_gets_child_of_inherited_context)
{
	int ctx = t_new(self->dev, 0), w = t_watch(ctx, 0);
	char want[32], cmd[128];

	ASSERT_LE(0, w);
	snprintf(want, sizeof(want), "%llu", (unsigned long long)t_id(ctx));
	/* COMMAND checks CTXFD's parent id (no -t: one context level). */
	snprintf(cmd, sizeof(cmd),
		 "grep -qx 'ctxfd-parent:[[:space:]]*%s' /proc/self/fdinfo/$CTXFD",
		 want);
	self->how.ctx = w;
	EXPECT_EQ(0, RUN(self, "sh", "-c", cmd));
	close(w);
	close(ctx);
}

TEST_F(st, without_ctxfd_command_gets_a_new_root)
{
	EXPECT_EQ(0, RUN(self, "sh", "-c",
			 "test -n \"$CTXFD\" && grep -qx 'ctxfd-depth:[[:space:]]*0' /proc/self/fdinfo/$CTXFD"));
	EXPECT_EQ(0, RUN(self, "-t", "10", "sh", "-c",
			 "grep -qx 'ctxfd-depth:[[:space:]]*1' /proc/self/fdinfo/$CTXFD"));
}

TEST_F(st, command_fd_is_watch_only)
{
	/* rights: watch-only: COMMAND cannot cancel ctxrun's context. */
	EXPECT_EQ(0, RUN(self, "sh", "-c",
			 "grep -q 'ctxfd-rights:[[:space:]]*watch' /proc/self/fdinfo/$CTXFD"));
}

TEST_F(st, inherited_deadline_is_124)
{
	int root = t_new(self->dev, 0);
	int ctx = t_child_timeout(root, 300 * MS);
	int w = t_watch(ctx, 0);

	ASSERT_LE(0, w);
	self->how.ctx = w;
	EXPECT_EQ(124, RUN(self, "sleep", "10"));
	close(w);
	close(ctx);
	close(root);
}

TEST_F(st, inherited_cancel_ends_command)
{
	int ctx = t_new(self->dev, 0), w = t_watch(ctx, 0);
	char *argv[] = { self->ctxrun, HELPER(self, "tree-daemon"), NULL };
	struct rec r[3];
	pid_t pid;

	ASSERT_LE(0, w);
	self->how.ctx = w;
	pid = start_prog(&self->how, argv);
	ASSERT_EQ(3, get_recs(self->rep[0], r, 3, 10000));
	ASSERT_EQ(0, t_cancel(ctx, 0, NULL));
	/* COMMAND died of SIGTERM, and so does ctxrun. */
	EXPECT_EQ(128 + SIGTERM, wait_exit(pid, 20000));
	EXPECT_EQ(0, t_live_descendants(getpid(), 0, NULL, 0));
	close(w);
	close(ctx);
}

TEST_F(st, already_done_context_runs_nothing)
{
	int ctx = t_new(self->dev, 0), w = t_watch(ctx, 0), root;

	ASSERT_LE(0, w);
	ASSERT_EQ(0, t_cancel(ctx, 0, NULL));
	self->how.ctx = w;
	EXPECT_EQ(125, RUN(self, "sh", "-c", "echo ran >&2"));
	EXPECT_SAID(self, "not running sh: context canceled");
	close(w);
	close(ctx);

	root = t_new(self->dev, 0);
	ctx = t_child_timeout(root, 0);
	w = t_watch(ctx, 0);
	ASSERT_LE(0, w);
	self->how.ctx = w;
	EXPECT_EQ(124, RUN(self, "true"));
	EXPECT_SAID(self, "context deadline exceeded");
	close(w);
	close(ctx);
	close(root);
}

TEST_F(st, bad_ctxfd_is_125)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	char *argv[] = { self->ctxrun, "true", NULL };
	pid_t pid;

	self->how.ctx = null;
	EXPECT_EQ(125, RUN(self, "true"));
	EXPECT_SAID(self, "inherited context");
	close(null);

	/* CTXFD=abc, set by hand. */
	self->how.ctx = -1;
	pid = fork();
	if (pid == 0) {
		setenv("CTXFD", "abc", 1);
		dup2(self->err[1], 2);
		execv(argv[0], argv);
		_exit(122);
	}
	EXPECT_EQ(125, wait_exit(pid, 10000));
}

TEST_F(st, command_exit_ends_leftovers_and_keeps_status)
{
	struct rec r[2];

	EXPECT_EQ(5, RUN(self, HELPER(self, "exit-daemon", "5")));
	ASSERT_EQ(2, get_recs(self->rep[0], r, 2, 1000));
	EXPECT_EQ(0, t_live_descendants(getpid(), 0, NULL, 0));
}

TEST_HARNESS_MAIN
