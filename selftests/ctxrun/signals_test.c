// SPDX-License-Identifier: GPL-2.0
/*
 * What ctxrun does with the signals it receives, outside a terminal and
 * not as PID 1 (see terminal_test and pid1_test for those): signals that
 * are not about ending the run are passed on to the command; a SIGINT to
 * the whole process group (what coreutils' timeout-group test does to
 * simulate Ctrl-C) reaches the command as SIGINT, never as SIGTERM;
 * signals ignored at start stay ignored (nohup); a stop sent to ctxrun
 * stops the command and the job, SIGCONT resumes both.
 */
#define _GNU_SOURCE
#include "kselftest_harness.h"
#include "ctxfd_test.h"
#include "ctxrun_test.h"

FIXTURE(sig) {
	int rep[2];
	struct how how;
	char *ctxrun;
	char *self;
};

FIXTURE_SETUP(sig)
{
	ctxrun_or_skip();
	ASSERT_EQ(0, pipe2(self->rep, O_CLOEXEC));
	ASSERT_EQ(0, t_subreaper());
	self->how = (struct how){
		.rep = self->rep[1], .ctx = -1, .err = -1, .out = -1, .shm = -1,
	};
	self->ctxrun = (char *)ctxrun_path();
	self->self = (char *)self_exe();
}

FIXTURE_TEARDOWN(sig)
{
	t_kill_descendants(20000);
	close(self->rep[0]);
	close(self->rep[1]);
}

#define HELPER(self, ...) "--", (self)->self, "--helper", __VA_ARGS__

/*
 * Start ctxrun ARGS... in a process group of its own, with @ignored (if
 * not 0) ignored, as nohup or a script's "&" leave it.
 */
static pid_t start_ctxrun(FIXTURE_DATA(sig) *self, int ignored,
			  char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		setpgid(0, 0);
		if (ignored)
			signal(ignored, SIG_IGN);
		if (dup2(self->rep[1], REP_FD) < 0)
			_exit(121);
		unsetenv("CTXFD");
		execv(argv[0], argv);
		_exit(122);
	}
	return pid;
}

#define CTXRUN(self, ignored, ...) ({					\
	char *__argv[] = { (self)->ctxrun, __VA_ARGS__, NULL };	\
	pid_t __p = start_ctxrun((self), (ignored), __argv);		\
	ASSERT_LT(0, __p);						\
	__p;								\
})

/* The process state letter (R, S, T...) of @pid, or '?'. */
static char state(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (t_read_file(path, buf, sizeof(buf)) <= 0)
		return '?';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* Wait at most @ms for @pid to be in state @want. */
static bool wait_state(pid_t pid, char want, int ms)
{
	for (; ms > 0; ms -= 10) {
		if (state(pid) == want)
			return true;
		usleep(10000);
	}
	return state(pid) == want;
}

TEST_F(sig, other_signals_are_passed_on_to_the_command)
{
	pid_t pid = CTXRUN(self, 0, "-t", "60", HELPER(self, "record"));
	const int passed[] = { SIGUSR1, SIGWINCH, SIGRTMIN };
	struct rec r;
	size_t i;

	ASSERT_EQ(1, get_recs(self->rep[0], &r, 1, 20000));
	for (i = 0; i < sizeof(passed) / sizeof(passed[0]); i++) {
		ASSERT_EQ(0, kill(pid, passed[i]));
		ASSERT_EQ(1, get_recs(self->rep[0], &r, 1, 10000));
		EXPECT_EQ(TAG_SIG, r.tag);
		EXPECT_EQ(passed[i], r.val);
	}
	ASSERT_EQ(0, kill(pid, SIGUSR2));	/* the helper exits 7 */
	EXPECT_EQ(7, wait_exit(pid, 20000));
}

TEST_F(sig, sigint_to_the_group_reaches_command_as_sigint_only)
{
	pid_t pid = CTXRUN(self, 0, "-t", "60", "-k", "30",
			   HELPER(self, "int-cleanup", "1000"));
	struct rec r[8];
	int i, n;

	ASSERT_EQ(1, get_recs(self->rep[0], r, 1, 20000));
	ASSERT_EQ(0, kill(-pid, SIGINT));
	/* A second of cleanup, then exit 0: no SIGTERM meanwhile. */
	EXPECT_EQ(0, wait_exit(pid, 20000));
	n = get_recs(self->rep[0], r, 8, 200);
	EXPECT_LE(1, n);
	for (i = 0; i < n; i++)
		EXPECT_TRUE(r[i].val == SIGINT || r[i].val == SIGCONT) {
			TH_LOG("the command got SIG%s", sigabbrev_np(r[i].val));
		}
	EXPECT_EQ(0, t_live_descendants(getpid(), 0, NULL, 0));
}

TEST_F(sig, signal_ignored_at_start_stays_ignored)
{
	pid_t pid = CTXRUN(self, SIGHUP, "-t", "60",
			   HELPER(self, "ignored", "1"));
	struct rec r;

	/* nohup ctxrun ...: the command has SIGHUP ignored, as with nohup. */
	ASSERT_EQ(1, get_recs(self->rep[0], &r, 1, 20000));
	EXPECT_EQ(TAG_SIG, r.tag);
	EXPECT_EQ(1, r.val);
	ASSERT_EQ(0, kill(pid, SIGHUP));
	EXPECT_EQ(-2, wait_exit(pid, 500));
	ASSERT_EQ(0, kill(pid, SIGTERM));
	EXPECT_EQ(128 + SIGTERM, wait_exit(pid, 20000));

	/* Without nohup, the command gets SIGHUP's default, as always. */
	pid = CTXRUN(self, 0, "-t", "60", HELPER(self, "ignored", "1"));
	ASSERT_EQ(1, get_recs(self->rep[0], &r, 1, 20000));
	EXPECT_EQ(0, r.val);
	ASSERT_EQ(0, kill(pid, SIGHUP));
	EXPECT_EQ(128 + SIGHUP, wait_exit(pid, 20000));
}

TEST_F(sig, stop_sent_to_ctxrun_stops_the_job_and_sigcont_resumes_it)
{
	pid_t pid = CTXRUN(self, 0, "-t", "60", HELPER(self, "record"));
	struct rec r;
	pid_t cmd;

	ASSERT_EQ(1, get_recs(self->rep[0], &r, 1, 20000));
	cmd = r.pid;
	ASSERT_EQ(0, kill(pid, SIGTSTP));
	EXPECT_TRUE(wait_state(cmd, 'T', 10000));
	EXPECT_TRUE(wait_state(pid, 'T', 10000));
	/* SIGCONT to ctxrun alone: both go on. */
	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_EQ(1, get_recs(self->rep[0], &r, 1, 10000));
	EXPECT_EQ(SIGCONT, r.val);
	EXPECT_TRUE(wait_state(cmd, 'S', 10000));
	EXPECT_NE('T', state(pid));
	ASSERT_EQ(0, kill(cmd, SIGUSR2));
	EXPECT_EQ(7, wait_exit(pid, 20000));
}

TEST_F(sig, stop_of_the_command_alone_does_not_stop_ctxrun)
{
	pid_t pid = CTXRUN(self, 0, "-t", "60", HELPER(self, "record"));
	struct rec r;
	pid_t cmd;

	ASSERT_EQ(1, get_recs(self->rep[0], &r, 1, 20000));
	cmd = r.pid;
	/*
	 * kill -STOP, then -CONT, on the command's pid: not a job stop.
	 * Had ctxrun stopped, nothing would continue it.
	 */
	ASSERT_EQ(0, kill(cmd, SIGSTOP));
	EXPECT_TRUE(wait_state(cmd, 'T', 10000));
	usleep(300 * 1000);
	EXPECT_NE('T', state(pid));
	ASSERT_EQ(0, kill(cmd, SIGCONT));
	ASSERT_EQ(1, get_recs(self->rep[0], &r, 1, 10000));
	EXPECT_EQ(SIGCONT, r.val);
	ASSERT_EQ(0, kill(cmd, SIGUSR2));
	EXPECT_EQ(7, wait_exit(pid, 20000));
}

TEST_F(sig, after_s0_deadline_the_first_signal_goes_to_the_tree)
{
	pid_t pid = CTXRUN(self, 0, "-s", "0", "-k", "60", "0.3",
			   HELPER(self, "record"));
	struct rec r[2];
	int n;

	ASSERT_EQ(1, get_recs(self->rep[0], r, 1, 20000));
	/* The deadline sends nothing: the helper hears of nothing. */
	EXPECT_EQ(0, get_recs(self->rep[0], r, 1, 1500));
	ASSERT_EQ(0, kill(pid, SIGTERM));
	n = get_recs(self->rep[0], r, 2, 10000);	/* SIGTERM, SIGCONT */
	EXPECT_EQ(2, n);
	EXPECT_TRUE(r[0].val == SIGTERM || r[1].val == SIGTERM);
	ASSERT_EQ(0, kill(r[0].pid, SIGUSR2));
	/* Timed out before it ended: 124, as timeout -s 0 gives. */
	EXPECT_EQ(124, wait_exit(pid, 20000));
}

TEST_HARNESS_MAIN
