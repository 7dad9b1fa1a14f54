/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the ctxrun selftests: how to find and start ctxrun, and the
 * programs ctxrun runs in the tests.
 *
 * The programs are the test binary itself: run as
 * "TEST --helper MODE [ARG]", a constructor takes over before the
 * harness does (see helper_main() below). Every helper reports on fd
 * REP_FD, inherited through ctxrun, with struct rec records.
 *
 * Include after kselftest_harness.h and ctxfd_test.h.
 */
#ifndef CTXRUN_TEST_H
#define CTXRUN_TEST_H

#include <libgen.h>
#include <sys/mman.h>

#define REP_FD		100	/* helpers report here */
#define CTX_FD		101	/* the context given to ctxrun, if any */
#define SHM_FD		102	/* a shared page, for the fork storm */
#define NOBODY		65534
#define MS		1000000ll

/* What a helper reports: a tag, its pid and a value. */
struct rec {
	int tag;
	int pid;
	long long val;
};

enum {
	TAG_HELPER = 'h',	/* a helper is up */
	TAG_CHILD = 'c',	/* a plain child of a helper */
	TAG_DAEMON = 'd',	/* a double-forked setsid daemon */
	TAG_LEVEL = 'L',	/* a level of nested ctxruns: val = depth */
	TAG_CTXRUN = 'r',	/* a helper's ctxrun (its parent) */
	TAG_TERM = 'T',		/* caught SIGTERM at val (CLOCK_MONOTONIC ns) */
	TAG_DONE = 'D',		/* saw its CTXFD done: val = err */
	TAG_NODE = 'n',		/* a node of a tree */
	TAG_SIG = 'S',		/* caught a signal: val = its number */
	TAG_ORPHAN = 'o',	/* left an orphan that exited: val = its pid */
	TAG_GONE = 'G',		/* that orphan was reaped: val = its pid */
};

static void rep_val(int tag, long long val)
{
	struct rec r = { .tag = tag, .pid = getpid(), .val = val };

	if (write(REP_FD, &r, sizeof(r)) != sizeof(r))
		_exit(120);
}

static void __attribute__((noreturn)) forever(void)
{
	for (;;)
		pause();
}

/* Path of this test binary, for ctxrun to run it as a helper. */
static const char *self_exe(void)
{
	static char path[4096];

	if (!path[0]) {
		ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

		if (n <= 0)
			return NULL;
		path[n] = '\0';
	}
	return path;
}

/* $CTXRUN, else build/tools/ctxrun next to build/selftests/ctxrun/. */
static const char *ctxrun_path(void)
{
	static char path[4096 + 32];
	const char *env = getenv("CTXRUN");
	char exe[4096];

	if (env && *env)
		return env;
	if (!path[0]) {
		if (!self_exe())
			return NULL;
		snprintf(exe, sizeof(exe), "%s", self_exe());
		snprintf(path, sizeof(path), "%s/../../tools/ctxrun",
			 dirname(exe));
	}
	return path;
}

/* ---- helper programs ---------------------------------------------------- */

/* A plain child that reports @tag with @val and sleeps. */
static void h_child(int tag, long long val)
{
	if (fork() == 0) {
		rep_val(tag, val);
		forever();
	}
}

/*
 * A double-forked setsid daemon; returns once it has reported and is an
 * orphan.
 */
static void h_daemon(long long val)
{
	int up[2];
	pid_t mid;
	char c;

	if (pipe(up))
		_exit(119);
	mid = fork();
	if (mid == 0) {
		setsid();
		if (fork() == 0) {
			rep_val(TAG_DAEMON, val);
			close(up[0]);
			close(up[1]);
			forever();
		}
		_exit(0);
	}
	close(up[1]);
	waitpid(mid, NULL, 0);
	if (read(up[0], &c, 1) != 0)	/* EOF: the daemon is up */
		_exit(119);
	close(up[0]);
}

/* ctxfd-depth of the context in $CTXFD, or -1. */
static long long h_ctx_depth(void)
{
	const char *env = getenv("CTXFD");
	char val[32];

	if (!env || t_fdinfo(0, atoi(env), "ctxfd-depth", val, sizeof(val)) != 1)
		return -1;
	return atoll(val);
}

static void h_on_term_report(int sig)
{
	rep_val(TAG_TERM, (long long)t_now_ns(CLOCK_MONOTONIC));
}

static int h_term_exit = -1;

static void h_on_term_exit(int sig)
{
	rep_val(TAG_TERM, (long long)t_now_ns(CLOCK_MONOTONIC));
	_exit(h_term_exit);
}

/* Sleep @ms milliseconds, whatever signal handlers run meanwhile. */
static void h_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * "record": report every signal caught. SIGUSR2 makes the helper exit 7;
 * with h_int_cleanup_ms set, SIGINT starts a cleanup of that long (other
 * signals still reported meanwhile), then exit 0.
 */
static long h_int_cleanup_ms = -1;

static void h_on_sig_record(int sig)
{
	rep_val(TAG_SIG, sig);
	if (sig == SIGUSR2)
		_exit(7);
	if (sig == SIGINT && h_int_cleanup_ms >= 0) {
		h_sleep_ms(h_int_cleanup_ms);
		_exit(0);
	}
}

static const int h_recorded[] = {
	SIGINT, SIGTERM, SIGCONT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
	SIGWINCH, SIGALRM,
};

static void h_record(void)
{
	struct sigaction sa = { .sa_handler = h_on_sig_record };
	size_t i;

	for (i = 0; i < sizeof(h_recorded) / sizeof(h_recorded[0]); i++)
		sigaction(h_recorded[i], &sa, NULL);
	sigaction(SIGRTMIN, &sa, NULL);
}

/* SIGTSTP caught: stop @h_tstp_late_ms later, as vim or less would. */
static long h_tstp_late_ms;

static void h_on_tstp_late(int sig)
{
	struct sigaction sa = { .sa_handler = h_on_tstp_late }, dfl = {
		.sa_handler = SIG_DFL };
	sigset_t one;

	rep_val(TAG_SIG, sig);
	h_sleep_ms(h_tstp_late_ms);	/* restore the terminal, say */
	sigaction(SIGTSTP, &dfl, NULL);
	sigemptyset(&one);
	sigaddset(&one, SIGTSTP);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	raise(SIGTSTP);			/* stops here until SIGCONT */
	sigaction(SIGTSTP, &sa, NULL);
}

/*
 * An orphan that exits at once: it is reparented to the nearest
 * subreaper (ctxrun, or init of the pid namespace) as a zombie. Reports
 * its pid, then that it was reaped (kill(pid, 0) succeeds on a zombie);
 * exits 0 once reaped, 3 if it was still there after @timeout_ms.
 */
static void __attribute__((noreturn)) h_orphan_zombie(int timeout_ms)
{
	int up[2], waited;
	pid_t mid, orphan;

	if (pipe(up))
		_exit(119);
	mid = fork();
	if (mid == 0) {
		orphan = fork();
		if (orphan == 0)
			_exit(0);
		if (write(up[1], &orphan, sizeof(orphan)) != sizeof(orphan))
			_exit(119);
		_exit(0);
	}
	if (read(up[0], &orphan, sizeof(orphan)) != sizeof(orphan) ||
	    waitpid(mid, NULL, 0) != mid)
		_exit(119);
	rep_val(TAG_ORPHAN, orphan);
	for (waited = 0; waited < timeout_ms; waited += 10) {
		if (kill(orphan, 0) && errno == ESRCH) {
			rep_val(TAG_GONE, orphan);
			_exit(0);
		}
		h_sleep_ms(10);
	}
	_exit(3);
}

/* A daemon that catches SIGTERM: reports TAG_TERM and exits. */
static void h_term_daemon(void)
{
	struct sigaction sa = { .sa_handler = h_on_term_exit };
	int up[2];
	pid_t mid;
	char c;

	h_term_exit = 0;
	if (pipe(up))
		_exit(119);
	mid = fork();
	if (mid == 0) {
		setsid();
		if (fork() == 0) {
			sigaction(SIGTERM, &sa, NULL);
			rep_val(TAG_DAEMON, 0);
			close(up[0]);
			close(up[1]);
			forever();
		}
		_exit(0);
	}
	close(up[1]);
	waitpid(mid, NULL, 0);
	if (read(up[0], &c, 1) != 0)
		_exit(119);
	close(up[0]);
	h_term_exit = -1;
}

/* $CTXFD, watched: report TAG_DONE with the time it was done, then go on. */
static void h_watch_done_at(void)
{
	const char *env = getenv("CTXFD");
	struct pollfd pfd = { .fd = env ? atoi(env) : -1, .events = POLLIN };

	while (poll(&pfd, 1, -1) != 1)
		;
	rep_val(TAG_DONE, (long long)t_now_ns(CLOCK_MONOTONIC));
}

/* Fork storm: chains that fork on and on, counting in the shared page. */
#define STORM_CHAINS	8
#define STORM_CAP	3000u

static void __attribute__((noreturn)) h_storm(void)
{
	unsigned int *count = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				   MAP_SHARED, SHM_FD, 0);
	int i;

	if (count == MAP_FAILED)
		_exit(119);
	rep_val(TAG_HELPER, 0);
	for (i = 0; i < STORM_CHAINS; i++) {
		if (fork())
			continue;
		for (;;) {
			unsigned int n = __atomic_fetch_add(count, 1,
							    __ATOMIC_RELAXED);
			pid_t pid;

			if (n >= STORM_CAP)
				forever();
			pid = fork();
			if (pid < 0) {
				usleep(1000);
				continue;
			}
			if (pid > 0) {
				if (n & 1)
					_exit(0);
				forever();
			}
			usleep(200);
		}
	}
	forever();
}

/*
 * A tree of @n processes, the helper included, @fanout children per
 * node, breadth first; every node reports TAG_NODE once up.
 */
static void __attribute__((noreturn)) h_tree(int n, int fanout)
{
	int index = 0, i;

	for (;;) {
		int made = 0;

		for (i = 1; i <= fanout; i++) {
			int child = index * fanout + i;
			pid_t pid;

			if (child >= n)
				break;
			pid = fork();
			if (pid < 0)
				_exit(119);
			if (pid == 0) {
				index = child;
				made = -1;
				break;
			}
			made++;
		}
		if (made >= 0)
			break;
	}
	rep_val(TAG_NODE, index);
	forever();
}

/*
 * The helper programs, by MODE:
 *  tree-daemon         a child and a daemon, then sleep
 *  level N             report the depth of $CTXFD, a child and a daemon,
 *                      then (N > 0) run "ctxrun -- TEST --helper level N-1"
 *  catch-term [CODE]   catch SIGTERM (report it; exit CODE if given)
 *  ignore-term         ignore SIGTERM, and so does a child
 *  watch               catch SIGTERM; report when $CTXFD is done
 *  exit-daemon CODE    leave a daemon behind and exit CODE
 *  storm               fork storm (needs the page at SHM_FD)
 *  tree N FANOUT       a tree of N processes
 *  record              report each signal caught (TAG_SIG); SIGUSR2: exit 7
 *  int-cleanup MS      record; on SIGINT, a cleanup of MS ms, then exit 0
 *  ignored SIG         report whether SIG is ignored (TAG_SIG, val 1 or 0)
 *  ignore-tstp         record, ignoring SIGTSTP
 *  tstp-late MS        record; on SIGTSTP, stop MS ms later
 *  orphan-zombie MS    leave an orphan that exits; exit 0 once it is
 *                      reaped, 3 if not within MS ms
 *  term-daemon         report the parent's pid (TAG_CTXRUN), leave a daemon
 *                      that reports SIGTERM (TAG_TERM), then sleep
 *  watch-exit CODE     when $CTXFD is done, report TAG_DONE (val: when)
 *                      and exit CODE; report SIGTERM (TAG_TERM)
 *  watch-stay          the same, but stay (until killed)
 *  leave-watcher CODE  leave a daemon that does watch-exit 0; exit CODE
 */
static void __attribute__((constructor)) helper_main(int argc, char **argv)
{
	const char *mode;

	if (argc < 3 || strcmp(argv[1], "--helper"))
		return;
	mode = argv[2];
	signal(SIGTERM, SIG_DFL);
	if (!strcmp(mode, "tree-daemon")) {
		h_child(TAG_CHILD, 0);
		h_daemon(0);
		rep_val(TAG_HELPER, 0);
		forever();
	}
	if (!strcmp(mode, "level") && argc == 4) {
		int n = atoi(argv[3]);
		char level[16];
		pid_t pid;

		rep_val(TAG_LEVEL, h_ctx_depth());
		rep_val(TAG_CTXRUN, getppid());
		h_child(TAG_CHILD, n);
		h_daemon(n);
		if (n > 0) {
			snprintf(level, sizeof(level), "%d", n - 1);
			pid = fork();
			if (pid == 0) {
				execl(ctxrun_path(), "ctxrun", "--", self_exe(),
				      "--helper", "level", level, (char *)NULL);
				_exit(118);
			}
			waitpid(pid, NULL, 0);
		}
		forever();
	}
	if (!strcmp(mode, "catch-term")) {
		struct sigaction sa = { .sa_handler = h_on_term_report };

		if (argc == 4) {
			h_term_exit = atoi(argv[3]);
			sa.sa_handler = h_on_term_exit;
		}
		sigaction(SIGTERM, &sa, NULL);
		rep_val(TAG_HELPER, 0);
		forever();
	}
	if (!strcmp(mode, "ignore-term")) {
		signal(SIGTERM, SIG_IGN);
		h_child(TAG_CHILD, 0);
		rep_val(TAG_HELPER, 0);
		forever();
	}
	if (!strcmp(mode, "watch")) {
		struct sigaction sa = { .sa_handler = h_on_term_report };
		const char *env = getenv("CTXFD");
		struct ctxfd_event ev;
		int fd = env ? atoi(env) : -1;

		sigaction(SIGTERM, &sa, NULL);
		rep_val(TAG_HELPER, 0);
		for (;;) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			if (poll(&pfd, 1, -1) == 1)
				break;
		}
		rep_val(TAG_DONE, read(fd, &ev, sizeof(ev)) == sizeof(ev) ?
			ev.err : -1);
		forever();
	}
	if (!strcmp(mode, "exit-daemon") && argc == 4) {
		h_daemon(0);
		rep_val(TAG_HELPER, 0);
		exit(atoi(argv[3]));
	}
	if (!strcmp(mode, "record") ||
	    (!strcmp(mode, "int-cleanup") && argc == 4)) {
		if (argc == 4)
			h_int_cleanup_ms = atol(argv[3]);
		h_record();
		rep_val(TAG_HELPER, 0);
		forever();
	}
	if (!strcmp(mode, "ignored") && argc == 4) {
		struct sigaction sa;

		sigaction(atoi(argv[3]), NULL, &sa);
		rep_val(TAG_SIG, sa.sa_handler == SIG_IGN);
		forever();
	}
	if (!strcmp(mode, "ignore-tstp")) {
		h_record();
		signal(SIGTSTP, SIG_IGN);
		rep_val(TAG_HELPER, 0);
		forever();
	}
	if (!strcmp(mode, "tstp-late") && argc == 4) {
		struct sigaction sa = { .sa_handler = h_on_tstp_late };

		h_tstp_late_ms = atol(argv[3]);
		h_record();
		sigaction(SIGTSTP, &sa, NULL);
		rep_val(TAG_HELPER, 0);
		forever();
	}
	if (!strcmp(mode, "orphan-zombie") && argc == 4)
		h_orphan_zombie(atoi(argv[3]));
	if (!strcmp(mode, "term-daemon")) {
		rep_val(TAG_CTXRUN, getppid());
		h_term_daemon();
		rep_val(TAG_HELPER, 0);
		forever();
	}
	if ((!strcmp(mode, "watch-exit") && argc == 4) ||
	    !strcmp(mode, "watch-stay")) {
		struct sigaction sa = { .sa_handler = h_on_term_report };

		sigaction(SIGTERM, &sa, NULL);
		rep_val(TAG_HELPER, 0);
		h_watch_done_at();
		if (argc == 4)
			exit(atoi(argv[3]));
		forever();
	}
	if (!strcmp(mode, "leave-watcher") && argc == 4) {
		struct sigaction sa = { .sa_handler = h_on_term_report };
		int up[2];
		pid_t mid;
		char c;

		if (pipe(up))
			_exit(119);
		mid = fork();
		if (mid == 0) {
			setsid();
			if (fork() == 0) {
				sigaction(SIGTERM, &sa, NULL);
				rep_val(TAG_DAEMON, 0);
				close(up[0]);
				close(up[1]);
				h_watch_done_at();
				_exit(0);
			}
			_exit(0);
		}
		close(up[1]);
		waitpid(mid, NULL, 0);
		if (read(up[0], &c, 1) != 0)
			_exit(119);
		rep_val(TAG_HELPER, 0);
		exit(atoi(argv[3]));
	}
	if (!strcmp(mode, "send-child")) {
		/* A child of CTXFD, handed out of the tree on SHM_FD. */
		const char *env = getenv("CTXFD");
		int c = t_child(env ? atoi(env) : -1, 0);

		if (c < 0 || t_send_fd(SHM_FD, c))
			_exit(119);
		rep_val(TAG_HELPER, 0);
		exit(0);
	}
	if (!strcmp(mode, "storm"))
		h_storm();
	if (!strcmp(mode, "tree") && argc == 5)
		h_tree(atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "helper: bad mode %s\n", mode);
	_exit(117);
}

/* ---- starting ctxrun ------------------------------------------------------ */

/* How to start a program: as whom, with which context, where stderr goes. */
struct how {
	uid_t uid;	/* 0: stay root */
	int rep;	/* becomes REP_FD */
	int ctx;	/* becomes CTX_FD and $CTXFD; -1: no CTXFD */
	int err;	/* becomes stderr; -1: inherit */
	int out;	/* becomes stdout; -1: inherit */
	int shm;	/* becomes SHM_FD; -1: none */
};

/* Start @argv (argv[0] a path) as @how says; the pid. */
static inline pid_t start_prog(const struct how *how, char *const argv[])
{
	pid_t pid = fork();

	if (pid)
		return pid;
	if (dup2(how->rep, REP_FD) < 0)
		_exit(121);
	if (how->shm >= 0 && dup2(how->shm, SHM_FD) < 0)
		_exit(121);
	if (how->ctx >= 0) {
		if (dup2(how->ctx, CTX_FD) < 0)
			_exit(121);
		setenv("CTXFD", "101", 1);
	} else {
		unsetenv("CTXFD");
	}
	if (how->err >= 0 && dup2(how->err, 2) < 0)
		_exit(121);
	if (how->out >= 0 && dup2(how->out, 1) < 0)
		_exit(121);
	if (how->uid && t_drop_to(how->uid))
		_exit(121);
	execv(argv[0], argv);
	_exit(122);
}

/*
 * Wait at most @timeout_ms for child @pid: its status as t_wait_status()
 * gives it, or -2 on timeout (the child is then left running).
 */
static inline int wait_exit(pid_t pid, int timeout_ms)
{
	int pidfd = t_pidfd_open(pid), ret = -2;

	if (pidfd < 0)
		return -1;
	if (t_pidfd_exited(pidfd, timeout_ms))
		ret = t_wait_status(pid);
	close(pidfd);
	return ret;
}

/* Read up to @n records, waiting at most @timeout_ms in all. */
static inline int get_recs(int fd, struct rec *r, int n, int timeout_ms)
{
	__u64 end = t_now_ns(CLOCK_MONOTONIC) + (__u64)timeout_ms * MS;
	int got = 0;

	while (got < n) {
		long long left = ((long long)(end - t_now_ns(CLOCK_MONOTONIC))) / MS;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (left < 0 || poll(&pfd, 1, (int)left) != 1)
			break;
		if (read(fd, &r[got], sizeof(*r)) != sizeof(*r))
			break;
		got++;
	}
	return got;
}

static inline int count_tag(const struct rec *r, int n, int tag)
{
	int i, c = 0;

	for (i = 0; i < n; i++)
		c += r[i].tag == tag;
	return c;
}

static inline const struct rec *find_tag(const struct rec *r, int n, int tag)
{
	int i;

	for (i = 0; i < n; i++)
		if (r[i].tag == tag)
			return &r[i];
	return NULL;
}

/* Skip unless ctxrun is built and the module loaded. */
#define ctxrun_or_skip() do {						\
	int __cdev;							\
									\
	if (!ctxrun_path() || access(ctxrun_path(), X_OK))		\
		CTXFD_SKIP("no ctxrun at %s (make tools)",		\
			   ctxrun_path() ? ctxrun_path() : "?");	\
	__cdev = ctxfd_dev_or_skip();					\
	close(__cdev);							\
} while (0)

#endif /* CTXRUN_TEST_H */
