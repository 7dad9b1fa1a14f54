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
static pid_t start_prog(const struct how *how, char *const argv[])
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
static int wait_exit(pid_t pid, int timeout_ms)
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
static int get_recs(int fd, struct rec *r, int n, int timeout_ms)
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
