// SPDX-License-Identifier: GPL-2.0
/*
 * ctxrun at a terminal: Ctrl-C, Ctrl-\ and Ctrl-Z work as without it.
 *
 * Each test runs a small job-control shell on a pseudo-terminal, as an
 * interactive shell would: the shell leads the session and owns the
 * terminal, the job (ctxrun and COMMAND) gets a process group of its
 * own and the foreground, and the shell waits for it with WUNTRACED,
 * reporting every stop, continue and exit. The test types Ctrl-C (the
 * tty driver sends SIGINT to the foreground group, si_code SI_KERNEL),
 * Ctrl-Z or input into the pty master, and asks the shell for "fg".
 *
 * What a user relies on: the command gets SIGINT only (no SIGTERM or
 * SIGCONT from ctxrun on top), a Python REPL survives Ctrl-C, the job
 * stops when, and only when, the command stops, and a deadline still
 * ends a job stopped on terminal input.
 */
#define _GNU_SOURCE
#include <termios.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"
#include "ctxrun_test.h"

/* What the shell reports about the job: a wait status, or a /proc state. */
struct jobrep {
	int kind;	/* 'w': wait status; 's': the command's state */
	int val;
};

FIXTURE(tty) {
	int master;		/* the terminal, as the user types on it */
	int rep[2];		/* helpers report here */
	int jobs[2];		/* the shell reports here */
	int cmd[2];		/* the test tells the shell what to do */
	pid_t shell;
	char out[16384];	/* what the terminal showed */
	size_t len;
};

FIXTURE_SETUP(tty)
{
	ctxrun_or_skip();
	ASSERT_EQ(0, pipe2(self->rep, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(self->jobs, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(self->cmd, O_CLOEXEC));
	ASSERT_EQ(0, t_subreaper());
	self->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	ASSERT_LE(0, self->master);
	ASSERT_EQ(0, grantpt(self->master));
	ASSERT_EQ(0, unlockpt(self->master));
	self->shell = -1;
	self->len = 0;
}

FIXTURE_TEARDOWN(tty)
{
	t_kill_descendants(20000);
	close(self->master);
	close(self->rep[0]);
	close(self->rep[1]);
	close(self->jobs[0]);
	close(self->jobs[1]);
	close(self->cmd[0]);
	close(self->cmd[1]);
}

static void shell_rep(int fd, int kind, int val)
{
	struct jobrep j = { .kind = kind, .val = val };

	if (write(fd, &j, sizeof(j)) != sizeof(j))
		_exit(120);
}

/* The command's state letter in /proc (R, S, T...), or '?'. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (t_read_file(path, buf, sizeof(buf)) <= 0)
		return '?';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/*
 * The shell: lead a session on the pty, start @argv as a job in the
 * foreground, and report on it until it exits. Commands on @cmd:
 * 'f' + nothing: "fg" (give it the terminal, SIGCONT its group);
 * 'p' + a pid: the command's pid, whose /proc state is reported with
 * every stop of the job.
 */
static void __attribute__((noreturn))
run_shell(FIXTURE_DATA(tty) *self, char *const argv[], bool foreground)
{
	int slave, go[2], st;
	pid_t job, cmd_pid = 0;
	char c;

	setsid();
	slave = open(ptsname(self->master), O_RDWR);	/* our controlling tty */
	if (slave < 0 || pipe(go))
		_exit(121);
	signal(SIGTTOU, SIG_IGN);	/* as interactive shells do */
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	job = fork();
	if (job == 0) {
		signal(SIGTTOU, SIG_DFL);
		signal(SIGTTIN, SIG_DFL);
		signal(SIGTSTP, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		setpgid(0, 0);
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(121);
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		if (dup2(self->rep[1], REP_FD) < 0)
			_exit(121);
		unsetenv("CTXFD");
		setenv("TERM", "dumb", 1);
		execv(argv[0], argv);
		_exit(122);
	}
	setpgid(job, job);
	if (foreground)
		tcsetpgrp(slave, job);
	close(go[0]);
	if (write(go[1], "x", 1) != 1)
		_exit(121);
	for (;;) {
		struct pollfd pfd = { .fd = self->cmd[0], .events = POLLIN };
		pid_t pid = waitpid(job, &st, WNOHANG | WUNTRACED | WCONTINUED);

		if (pid == job) {
			if (WIFSTOPPED(st)) {
				/* The command's state right now. */
				if (cmd_pid)
					shell_rep(self->jobs[1], 's',
						  proc_state(cmd_pid));
				tcsetpgrp(slave, getpgrp());
			}
			shell_rep(self->jobs[1], 'w', st);
			if (WIFEXITED(st) || WIFSIGNALED(st))
				_exit(0);
		}
		if (poll(&pfd, 1, 10) == 1) {
			if (read(self->cmd[0], &c, 1) != 1)
				_exit(121);
			if (c == 'f') {
				tcsetpgrp(slave, job);
				kill(-job, SIGCONT);
			} else if (c == 'p' &&
				   read(self->cmd[0], &cmd_pid,
					sizeof(cmd_pid)) != sizeof(cmd_pid)) {
				_exit(121);
			}
		}
	}
}

static pid_t start_shell(FIXTURE_DATA(tty) *self, char *const argv[],
			 bool foreground)
{
	pid_t pid = fork();

	if (pid == 0)
		run_shell(self, argv, foreground);
	self->shell = pid;
	return pid;
}

/* The next report of the shell, waiting at most @ms; kind 0 if none. */
static struct jobrep next_job(FIXTURE_DATA(tty) *self, int ms)
{
	struct pollfd pfd = { .fd = self->jobs[0], .events = POLLIN };
	struct jobrep j = { 0 };

	if (poll(&pfd, 1, ms) == 1 &&
	    read(self->jobs[0], &j, sizeof(j)) != sizeof(j))
		j.kind = 0;
	return j;
}

/* The job's next wait status, skipping state reports; -1 if none. */
static int next_status(FIXTURE_DATA(tty) *self, int ms)
{
	struct jobrep j;

	do
		j = next_job(self, ms);
	while (j.kind == 's');
	return j.kind == 'w' ? j.val : -1;
}

static bool shell_cmd(FIXTURE_DATA(tty) *self, char c, pid_t pid)
{
	char buf[1 + sizeof(pid)];
	size_t len = c == 'p' ? sizeof(buf) : 1;

	buf[0] = c;
	memcpy(buf + 1, &pid, sizeof(pid));
	return write(self->cmd[1], buf, len) == (ssize_t)len;
}

/* Type @s on the terminal. */
static bool type(FIXTURE_DATA(tty) *self, const char *s)
{
	return write(self->master, s, strlen(s)) == (ssize_t)strlen(s);
}

/*
 * Read what the terminal shows until @s appears after offset @from,
 * at most @ms; its offset, or -1.
 */
static long expect_out(FIXTURE_DATA(tty) *self, size_t from, const char *s,
		       int ms)
{
	__u64 end = t_now_ns(CLOCK_MONOTONIC) + (__u64)ms * MS;

	for (;;) {
		struct pollfd pfd = { .fd = self->master, .events = POLLIN };
		long long left;
		char *hit;
		ssize_t n;

		self->out[self->len] = '\0';
		hit = from <= self->len ? strstr(self->out + from, s) : NULL;
		if (hit)
			return hit - self->out;
		left = ((long long)(end - t_now_ns(CLOCK_MONOTONIC))) / MS;
		if (left <= 0 || poll(&pfd, 1, (int)left) != 1)
			return -1;
		n = read(self->master, self->out + self->len,
			 sizeof(self->out) - 1 - self->len);
		if (n <= 0)
			return -1;
		self->len += (size_t)n;
	}
}

/* Signals the helper reported within @ms (TAG_SIG records); their number. */
static int got_sigs(FIXTURE_DATA(tty) *self, int *sigs, int max, int ms)
{
	struct rec r[16];
	int i, n = get_recs(self->rep[0], r, 16, ms), got = 0;

	for (i = 0; i < n; i++)
		if (r[i].tag == TAG_SIG && got < max)
			sigs[got++] = (int)r[i].val;
	return got;
}

/* The helper is up; its pid. */
static pid_t helper_up(FIXTURE_DATA(tty) *self, int ms)
{
	struct rec r;

	if (get_recs(self->rep[0], &r, 1, ms) != 1 || r.tag != TAG_HELPER)
		return -1;
	return r.pid;
}

#define SELF_ARGV(self, ...)						\
	{ (char *)ctxrun_path(), __VA_ARGS__, NULL }
#define HELPER(...) "--", (char *)self_exe(), "--helper", __VA_ARGS__

TEST_F(tty, ctrl_c_reaches_command_as_sigint_only)
{
	char *argv[] = SELF_ARGV(self, "-t", "60", "-k", "30",
				 HELPER("int-cleanup", "1000"));
	int sigs[8], n, i;

	start_shell(self, argv, true);
	ASSERT_LT(0, helper_up(self, 20000));
	ASSERT_TRUE(type(self, "\x03"));
	/*
	 * Its cleanup takes a second: whatever ctxrun would send on top
	 * arrives meanwhile. Then it exits 0, and so does ctxrun.
	 */
	EXPECT_EQ(0, next_status(self, 20000));
	n = got_sigs(self, sigs, 8, 500);
	EXPECT_EQ(1, n);
	for (i = 0; i < n; i++)
		EXPECT_EQ(SIGINT, sigs[i]) {
			TH_LOG("the command also got SIG%s", sigabbrev_np(sigs[i]));
		}
	EXPECT_EQ(0, wait_exit(self->shell, 10000));
	EXPECT_EQ(0, t_live_descendants(getpid(), 0, NULL, 0));
}

TEST_F(tty, ctrl_c_that_ends_command_ends_ctxrun_by_sigint)
{
	char *argv[] = SELF_ARGV(self, HELPER("tree-daemon"));
	struct rec r[3];
	int st;

	start_shell(self, argv, true);
	ASSERT_EQ(3, get_recs(self->rep[0], r, 3, 20000));
	ASSERT_TRUE(type(self, "\x03"));
	/* The shell sees the interrupt for what it is; the daemon goes too. */
	st = next_status(self, 20000);
	EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT) {
		TH_LOG("status 0x%x", st);
	}
	EXPECT_EQ(0, wait_exit(self->shell, 10000));
	EXPECT_EQ(0, t_live_descendants(getpid(), 0, NULL, 0));
}

TEST_F(tty, ctrl_c_that_command_survives_changes_nothing)
{
	char *argv[] = SELF_ARGV(self, "-t", "60", HELPER("record"));
	int sigs[8];
	pid_t cmd;

	start_shell(self, argv, true);
	cmd = helper_up(self, 20000);
	ASSERT_LT(0, cmd);
	ASSERT_TRUE(type(self, "\x03"));
	ASSERT_EQ(1, got_sigs(self, sigs, 8, 10000));
	EXPECT_EQ(SIGINT, sigs[0]);
	/* Nothing more comes, and the job runs on. */
	EXPECT_EQ(0, got_sigs(self, sigs, 8, 1000));
	EXPECT_EQ(0, next_job(self, 0).kind);
	ASSERT_TRUE(type(self, "\x03"));
	ASSERT_EQ(1, got_sigs(self, sigs, 8, 10000));
	EXPECT_EQ(SIGINT, sigs[0]);
	ASSERT_EQ(0, kill(cmd, SIGUSR2));
	EXPECT_EQ(7 << 8, next_status(self, 20000));
}

TEST_F_TIMEOUT(tty, python_repl_survives_ctrl_c, 180)
{
	char *argv[] = SELF_ARGV(self, "-t", "150", "/usr/bin/python3", "-q",
				 "-I");
	long at;

	if (access("/usr/bin/python3", X_OK))
		SKIP(return, "no /usr/bin/python3");
	start_shell(self, argv, true);
	at = expect_out(self, 0, ">>> ", 120000);
	ASSERT_LE(0, at) {
		TH_LOG("no prompt; the terminal showed: %s", self->out);
	}
	/*
	 * At the prompt. The prompt is out before readline has set the
	 * terminal up: a ^C typed in between can be lost in the REPL's
	 * start-up on a slow VM (seen under TCG), so give it a moment,
	 * and a second ^C if the first drew no answer, as a user would.
	 */
	usleep(500 * 1000);
	ASSERT_TRUE(type(self, "\x03"));
	at = expect_out(self, 0, "KeyboardInterrupt", 10000);
	if (at < 0) {
		TH_LOG("no answer to the first ^C: typing another");
		ASSERT_TRUE(type(self, "\x03"));
		at = expect_out(self, 0, "KeyboardInterrupt", 20000);
	}
	ASSERT_LE(0, at) {
		TH_LOG("the terminal showed: %s", self->out);
		/* Who is where: the groups, the terminal's and the signals. */
		if (system("ps -eo pid,ppid,pgid,tpgid,stat,comm >&2; "
			   "for p in $(pgrep -x python3); do grep -E 'State|Sig(Blk|Ign|Cgt)' /proc/$p/status >&2; done"))
			TH_LOG("ps failed");
	}
	at = expect_out(self, at, ">>> ", 20000);
	ASSERT_LE(0, at);
	/* While a statement runs. */
	ASSERT_TRUE(type(self, "import time; time.sleep(60)\n"));
	ASSERT_LE(0, expect_out(self, at, "time.sleep(60)", 20000));
	usleep(500 * 1000);
	ASSERT_TRUE(type(self, "\x03"));
	at = expect_out(self, at, "KeyboardInterrupt", 20000);
	ASSERT_LE(0, at) {
		TH_LOG("the terminal showed: %s", self->out);
	}
	/* Still there, and still under ctxrun's context. */
	ASSERT_TRUE(type(self, "import os; print(6 * 7, 'CTXFD' in os.environ)\n"));
	ASSERT_LE(0, expect_out(self, at, "42 True", 20000)) {
		TH_LOG("the terminal showed: %s", self->out);
	}
	EXPECT_EQ(0, next_job(self, 0).kind);
	ASSERT_TRUE(type(self, "raise SystemExit(5)\n"));
	EXPECT_EQ(5 << 8, next_status(self, 60000));
	EXPECT_EQ(0, wait_exit(self->shell, 10000));
	EXPECT_EQ(0, t_live_descendants(getpid(), 0, NULL, 0));
}

TEST_F(tty, ctrl_z_stops_job_and_fg_resumes_it)
{
	char *argv[] = SELF_ARGV(self, "-t", "60", HELPER("record"));
	struct jobrep j;
	int sigs[8], n, i, st;
	pid_t cmd;

	start_shell(self, argv, true);
	cmd = helper_up(self, 20000);
	ASSERT_LT(0, cmd);
	ASSERT_TRUE(shell_cmd(self, 'p', cmd));
	ASSERT_TRUE(type(self, "\x1a"));
	j = next_job(self, 20000);
	ASSERT_EQ('s', j.kind);
	EXPECT_EQ('T', j.val);		/* the command is stopped... */
	st = next_status(self, 1000);
	ASSERT_TRUE(WIFSTOPPED(st)) {	/* ...and so is the job */
		TH_LOG("status 0x%x", st);
	}
	EXPECT_EQ(SIGTSTP, WSTOPSIG(st));
	ASSERT_TRUE(shell_cmd(self, 'f', 0));
	st = next_status(self, 20000);
	EXPECT_TRUE(WIFCONTINUED(st));
	/* Running again: it gets SIGCONT, and nothing that would end it. */
	n = got_sigs(self, sigs, 8, 2000);
	for (i = 0; i < n; i++)
		EXPECT_EQ(SIGCONT, sigs[i]);
	EXPECT_NE('T', proc_state(cmd));
	ASSERT_EQ(0, kill(cmd, SIGUSR2));
	EXPECT_EQ(7 << 8, next_status(self, 20000));
}

TEST_F(tty, ctrl_z_ignored_by_command_does_not_stop_job)
{
	char *argv[] = SELF_ARGV(self, "-t", "60", HELPER("ignore-tstp"));
	pid_t cmd;

	start_shell(self, argv, true);
	cmd = helper_up(self, 20000);
	ASSERT_LT(0, cmd);
	ASSERT_TRUE(type(self, "\x1a"));
	/* Without ctxrun the job would not stop: with it neither. */
	EXPECT_EQ(0, next_job(self, 2000).kind);
	EXPECT_NE('T', proc_state(cmd));
	ASSERT_EQ(0, kill(cmd, SIGUSR2));
	EXPECT_EQ(7 << 8, next_status(self, 20000));
}

TEST_F(tty, job_stops_only_once_command_has_stopped)
{
	char *argv[] = SELF_ARGV(self, "-t", "60", HELPER("tstp-late", "500"));
	struct jobrep j;
	pid_t cmd;
	int st;

	start_shell(self, argv, true);
	cmd = helper_up(self, 20000);
	ASSERT_LT(0, cmd);
	ASSERT_TRUE(shell_cmd(self, 'p', cmd));
	ASSERT_TRUE(type(self, "\x1a"));
	/* When the shell sees the job stop, the command has stopped. */
	j = next_job(self, 20000);
	ASSERT_EQ('s', j.kind);
	EXPECT_EQ('T', j.val) {
		TH_LOG("the job stopped while the command was '%c'", j.val);
	}
	st = next_status(self, 1000);
	ASSERT_TRUE(WIFSTOPPED(st));
	ASSERT_TRUE(shell_cmd(self, 'f', 0));
	EXPECT_TRUE(WIFCONTINUED(next_status(self, 20000)));
	ASSERT_EQ(0, kill(cmd, SIGUSR2));
	EXPECT_EQ(7 << 8, next_status(self, 20000));
}

TEST_F_TIMEOUT(tty, deadline_ends_job_stopped_on_terminal_input, 90)
{
	char *argv[] = SELF_ARGV(self, "3", "cat");
	int st;

	/* A background job that reads the terminal: SIGTTIN stops it. */
	start_shell(self, argv, false);
	st = next_status(self, 20000);
	ASSERT_TRUE(WIFSTOPPED(st)) {
		TH_LOG("status 0x%x", st);
	}
	EXPECT_EQ(SIGTTIN, WSTOPSIG(st));
	/* The deadline passes while it is stopped: it ends all the same. */
	do
		st = next_status(self, 60000);
	while (st != -1 && WIFCONTINUED(st));
	EXPECT_EQ(124 << 8, st);
	EXPECT_EQ(0, wait_exit(self->shell, 10000));
	EXPECT_EQ(0, t_live_descendants(getpid(), 0, NULL, 0));
}

TEST_HARNESS_MAIN
