/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the ctxfd selftests: thin wrappers around the raw
 * ioctls that behave like system calls (-1 and errno on failure), so
 * tests read as ASSERT_EQ(-1, t_cancel(fd, 0, NULL)); ASSERT_EQ(EPERM, errno).
 *
 * Include after kselftest_harness.h.
 */
#ifndef CTXFD_TEST_H
#define CTXFD_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/ctxfd.h>

#ifndef KSFT_SKIP
#define KSFT_SKIP 4
#endif

/*
 * The harness runs each test in a child that ends with _exit(): what a
 * test printed to a fully buffered stdout (a file, a pipe) would be lost.
 */
static void __attribute__((constructor, used)) t_stdout_by_line(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/*
 * Skip the current test, from a test body or a fixture setup. The 6.1
 * harness runs the body even after SKIP() in a setup, so leave the test's
 * child process the way the harness reads as "skipped" (exit 255).
 */
#define CTXFD_SKIP(fmt, ...) SKIP(_exit(255), fmt, ##__VA_ARGS__)

/* Open /dev/ctxfd, or skip the test if the module is not there. */
#define ctxfd_dev_or_skip() ({						\
	int __dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);		\
	if (__dev < 0 && (errno == ENOENT || errno == ENXIO ||		\
			  errno == ENODEV))				\
		CTXFD_SKIP("%s missing: ctxfd.ko not loaded",		\
			   CTXFD_DEVICE);				\
	ASSERT_LE(0, __dev);						\
	__dev;								\
})

/* Skip unless running as root (tests that load modules, set limits). */
#define ctxfd_require_root() do {					\
	if (geteuid() != 0)						\
		CTXFD_SKIP("needs root");				\
} while (0)

static inline int t_ioctl_create(int fd, unsigned long cmd,
				 const struct ctxfd_create *args)
{
	return ioctl(fd, cmd, args);
}

/* A root context with @flags; returns the fd or -1. */
static inline int t_new(int dev, __u64 flags)
{
	struct ctxfd_create args = { .flags = flags };

	return ioctl(dev, CTXFD_IOC_NEW, &args);
}

/* A child of @fd with @flags; returns the fd or -1. */
static inline int t_child(int fd, __u64 flags)
{
	struct ctxfd_create args = { .flags = flags };

	return ioctl(fd, CTXFD_IOC_CREATE, &args);
}

/* A child with a relative timeout of @ns on CLOCK_MONOTONIC. */
static inline int t_child_timeout(int fd, __s64 ns)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_TIMEOUT,
		.deadline_ns = ns,
		.clockid = CLOCK_MONOTONIC,
	};

	return ioctl(fd, CTXFD_IOC_CREATE, &args);
}

/* A values-only child binding @key to @val (@vlen bytes). */
static inline int t_child_value(int fd, const char *key, const void *val,
				__u32 vlen)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_VALUE,
		.key = (uintptr_t)key,
		.key_len = (__u32)strlen(key),
		.value = (uintptr_t)val,
		.value_len = vlen,
	};

	return ioctl(fd, CTXFD_IOC_CREATE, &args);
}

/* Cancel @fd with cause @code and message @msg (NULL: none). */
static inline int t_cancel(int fd, int code, const char *msg)
{
	struct ctxfd_cancel args = {
		.cause = {
			.code = code,
			.msg_len = msg ? (__u32)strlen(msg) : 0,
			.msg = (uintptr_t)msg,
		},
	};

	return ioctl(fd, CTXFD_IOC_CANCEL, &args);
}

/* A watch-only fd on the same context. */
static inline int t_watch(int fd, __u64 flags)
{
	struct ctxfd_watch args = { .flags = flags };

	return ioctl(fd, CTXFD_IOC_WATCH, &args);
}

static inline int t_info(int fd, struct ctxfd_info *info)
{
	memset(info, 0xa5, sizeof(*info));
	return ioctl(fd, CTXFD_IOC_INFO, info);
}

/* The context's err (0 while active), or -1 if INFO fails. */
static inline int t_err(int fd)
{
	struct ctxfd_info info;

	return t_info(fd, &info) ? -1 : info.err;
}

static inline __u64 t_id(int fd)
{
	struct ctxfd_info info;

	return t_info(fd, &info) ? 0 : info.id;
}

static inline int t_nr_children(int fd)
{
	struct ctxfd_info info;

	return t_info(fd, &info) ? -1 : (int)info.nr_children;
}

/* Look @key up from @fd into @buf; returns 0/-1, value length in *len. */
static inline int t_lookup(int fd, const char *key, void *buf, __u32 *len)
{
	struct ctxfd_lookup args = {
		.key = (uintptr_t)key,
		.key_len = (__u32)strlen(key),
		.value = *len ? (uintptr_t)buf : 0,
		.value_len = *len,
	};
	int ret = ioctl(fd, CTXFD_IOC_LOOKUP, &args);

	*len = args.value_len;
	return ret;
}

/* poll() for readability, waiting at most @timeout_ms. */
static inline bool t_readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & POLLIN);
}

static inline bool t_cloexec(int fd)
{
	return fcntl(fd, F_GETFD) & FD_CLOEXEC;
}

static inline __u64 t_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* Raise RLIMIT_NOFILE to at least @n, or return false. */
static inline bool t_raise_nofile(rlim_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return false;
	if (rl.rlim_cur >= n)
		return true;
	if (rl.rlim_max < n)
		rl.rlim_max = n;
	rl.rlim_cur = n;
	return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

/* Deterministic PRNG (xorshift64*) for reproducible random orders. */
static inline __u64 t_rand(__u64 *state)
{
	__u64 x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static inline void t_shuffle(int *a, size_t n, __u64 seed)
{
	__u64 st = seed ? seed : 1;
	size_t i;

	for (i = n - 1; i > 0; i--) {
		size_t j = t_rand(&st) % (i + 1);
		int tmp = a[i];

		a[i] = a[j];
		a[j] = tmp;
	}
}

/*
 * Helpers for tests that span threads and processes. Children and threads
 * must not use ASSERT_*: they report through exit codes or shared state,
 * and the test's own process asserts on that.
 */
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

static inline pid_t t_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/*
 * Wait for child @pid: its exit code, 128 + the signal that killed it,
 * or -1 if waitpid() fails.
 */
static inline int t_wait_status(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/*
 * Wait, at most @timeout_ms, until task @tid (a thread or process id)
 * sleeps interruptibly ('S' in /proc/TID/stat): it is then blocked in the
 * call it was about to make. No sleeping here: the caller spins with
 * sched_yield() so the target gets there first. Returns false on timeout
 * or if the task is gone.
 */
static inline bool t_wait_blocked(pid_t tid, int timeout_ms)
{
	__u64 end = t_now_ns(CLOCK_MONOTONIC) + (__u64)timeout_ms * 1000000ull;
	char path[64], buf[512];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	do {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n;
		char *p;

		if (fd < 0)
			return false;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return false;
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'S')
			return true;
		if (p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
			return false;
		sched_yield();
	} while (t_now_ns(CLOCK_MONOTONIC) < end);
	return false;
}

/* Post one byte on a pipe or socket; false on failure. */
static inline bool t_sync_post(int fd)
{
	char c = 'x';

	return write(fd, &c, 1) == 1;
}

/* Wait at most @timeout_ms for one byte on @fd; false on timeout or EOF. */
static inline bool t_sync_wait(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return false;
	return read(fd, &c, 1) == 1;
}

/* Send @fd over the unix socket @sock with SCM_RIGHTS; 0 or -1. */
static inline int t_send_fd(int sock, int fd)
{
	char byte = 'F';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cmsg;

	memset(&u, 0, sizeof(u));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/* Receive one fd sent by t_send_fd() (O_CLOEXEC); the fd or -1. */
static inline int t_recv_fd(int sock)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cmsg;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_level != SOL_SOCKET ||
	    cmsg->cmsg_type != SCM_RIGHTS ||
	    cmsg->cmsg_len != CMSG_LEN(sizeof(int))) {
		errno = EPROTO;
		return -1;
	}
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

/* Read a whole (small) file into @buf, NUL-terminated; length or -1. */
static inline ssize_t t_read_file(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (len + 1 < size &&
	       (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

/*
 * The value of the line "@key:<whitespace>value" of /proc/@pid/fdinfo/@fd
 * (@pid 0: self) into @val, without the newline. Returns how many lines
 * carry @key (so 1 is the normal answer, 0 if absent), or -1 if the
 * fdinfo file cannot be read.
 */
static inline int t_fdinfo(pid_t pid, int fd, const char *key, char *val,
			   size_t size)
{
	char path[64], buf[4096];
	size_t klen = strlen(key);
	int found = 0;
	char *line, *next;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	else
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (t_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	if (size)
		val[0] = '\0';
	for (line = buf; *line; line = next) {
		char *nl = strchr(line, '\n');

		next = nl ? nl + 1 : line + strlen(line);
		if (nl)
			*nl = '\0';
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		if (!found++ && size) {
			const char *v = line + klen + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			snprintf(val, size, "%s", v);
		}
	}
	return found;
}


/*
 * Helpers for bad-input, limit and race tests.
 */
#include <dirent.h>

/* Number of open file descriptors of this process (/proc/self/fd). */
static inline int t_nr_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

/* Path of module parameter @name of ctxfd. */
#define T_PARAM_DIR "/sys/module/ctxfd/parameters/"

/* Read unsigned module parameter @name; -1 if it cannot be read. */
static inline long long t_param_get(const char *name)
{
	char path[128], buf[64];

	snprintf(path, sizeof(path), T_PARAM_DIR "%s", name);
	if (t_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtoll(buf, NULL, 10);
}

/* Write unsigned module parameter @name; 0 or -1 with errno. */
static inline int t_param_set(const char *name, unsigned long long val)
{
	char path[128], buf[32];
	int fd, len, saved;
	ssize_t n;

	snprintf(path, sizeof(path), T_PARAM_DIR "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	len = snprintf(buf, sizeof(buf), "%llu\n", val);
	n = write(fd, buf, (size_t)len);
	saved = errno;
	close(fd);
	errno = saved;
	return n == len ? 0 : -1;
}

/*
 * Pin the calling thread to CPU @cpu modulo the number of online CPUs;
 * returns the CPU or -1. With one CPU everything runs on CPU 0.
 */
static inline int t_pin_cpu(int cpu)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned long mask[16] = { 0 };	/* 1024 CPUs; no _GNU_SOURCE needed */

	if (n < 1)
		n = 1;
	cpu %= (int)n;
	if (cpu >= (int)(sizeof(mask) * 8))
		return -1;
	mask[cpu / (8 * sizeof(mask[0]))] |= 1UL << (cpu % (8 * sizeof(mask[0])));
	return syscall(SYS_sched_setaffinity, 0, sizeof(mask), mask) ? -1 : cpu;
}

#endif /* CTXFD_TEST_H */

/*
 * Helpers for process-tree teardown tests (CTXFD_IOC_ATTACH, ctxrun):
 * pidfds, attaching, and a /proc snapshot to find and count the live
 * descendants of a process. Tests that fork trees make themselves a
 * child subreaper, so every orphan of their tree stays below them and
 * t_kill_descendants() can clean up whatever a failed test leaves.
 */
#ifndef CTXFD_TEST_PROC_H
#define CTXFD_TEST_PROC_H

#include <sys/prctl.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static inline int t_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Has the process behind @pidfd exited? Waits at most @timeout_ms. */
static inline bool t_pidfd_exited(int pidfd, int timeout_ms)
{
	return t_readable(pidfd, timeout_ms);
}

/*
 * Fork a process that waits forever (to be killed), ignoring SIGTERM if
 * @ignore_term; returns its pid once it is set up, or -1.
 */
static inline pid_t t_spawn_sleeper(bool ignore_term)
{
	int ready[2];
	pid_t pid;

	if (pipe(ready))
		return -1;
	pid = fork();
	if (pid == 0) {
		if (ignore_term)
			signal(SIGTERM, SIG_IGN);
		t_sync_post(ready[1]);
		for (;;)
			pause();
	}
	if (pid > 0 && !t_sync_wait(ready[0], 10000))
		pid = -1;
	close(ready[0]);
	close(ready[1]);
	return pid;
}

/*
 * A PREEMPT_RT kernel (/sys/kernel/realtime)? There ctxfd does not track
 * an attached tree as it forks (module/members.c): a teardown walks.
 */
static inline bool t_kernel_is_rt(void)
{
	FILE *f = fopen("/sys/kernel/realtime", "re");
	int rt = 0;

	if (f) {
		if (fscanf(f, "%d", &rt) != 1)
			rt = 0;
		fclose(f);
	}
	return rt == 1;
}

#define T_RT_WALKS "PREEMPT_RT: process trees are found by a walk at " \
	"teardown, not tracked at fork (module/members.c)"

/* CTXFD_IOC_ATTACH with an explicit pidfd; 0 or -1 with errno. */
static inline int t_attach_pidfd(int fd, pid_t pid, int pidfd, int sig,
				 __u64 grace_ns, __u64 flags)
{
	struct ctxfd_attach args = {
		.flags = flags,
		.pidfd = pidfd,
		.signal = (__u32)sig,
		.grace_ns = grace_ns,
		.pid = pid,
	};

	return ioctl(fd, CTXFD_IOC_ATTACH, &args);
}

/* Attach process @pid to context @fd through a pidfd of its own. */
static inline int t_attach(int fd, pid_t pid, int sig, __u64 grace_ns,
			   __u64 flags)
{
	int pidfd = t_pidfd_open(pid), ret, saved;

	if (pidfd < 0)
		return -1;
	ret = t_attach_pidfd(fd, pid, pidfd, sig, grace_ns, flags);
	saved = errno;
	close(pidfd);
	errno = saved;
	return ret;
}

/* INFO's nr_attached, or -1. */
static inline int t_nr_attached(int fd)
{
	struct ctxfd_info info;

	return t_info(fd, &info) ? -1 : (int)info.nr_attached;
}

/* Wait at most @timeout_ms for @count(@fd) to become @n. */
static inline bool t_wait_count(int (*count)(int fd), int fd, int n,
				int timeout_ms)
{
	__u64 end = t_now_ns(CLOCK_MONOTONIC) + (__u64)timeout_ms * 1000000ull;

	for (;;) {
		if (count(fd) == n)
			return true;
		if (t_now_ns(CLOCK_MONOTONIC) > end)
			return false;
		usleep(2000);
	}
}

/* Wait at most @timeout_ms for nr_attached of @fd to become @n. */
static inline bool t_wait_nr_attached(int fd, int n, int timeout_ms)
{
	return t_wait_count(t_nr_attached, fd, n, timeout_ms);
}

/*
 * Wait until @fd has @n active children: a canceled child leaves its
 * parent's count only after its pollers were woken.
 */
static inline bool t_wait_nr_children(int fd, int n, int timeout_ms)
{
	return t_wait_count(t_nr_children, fd, n, timeout_ms);
}

static inline int t_subreaper(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

/* Drop every privilege for good: groups, gids and uids all become @id. */
static inline int t_drop_to(uid_t id)
{
	if (syscall(SYS_setgroups, 0, NULL) ||
	    syscall(SYS_setresgid, id, id, id) ||
	    syscall(SYS_setresuid, id, id, id))
		return -1;
	return 0;
}

/* One process of a /proc snapshot. */
struct t_proc {
	pid_t pid;
	pid_t ppid;
	bool live;	/* not a zombie, or a zombie leader with live threads */
};

static inline int t_proc_cmp(const void *a, const void *b)
{
	const struct t_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Threads of process @pid (entries of /proc/PID/task), or 0. */
static inline int t_nr_threads(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * Every process in /proc, sorted by pid, in a malloc'd array (*@out);
 * returns the count or -1.
 */
static inline int t_proc_snapshot(struct t_proc **out)
{
	DIR *d = opendir("/proc");
	struct t_proc *v = NULL;
	int n = 0, cap = 0;
	struct dirent *e;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[64], buf[512], *p, state;
		int ppid;
		pid_t pid = (pid_t)atoi(e->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if (t_read_file(path, buf, sizeof(buf)) <= 0)
			continue;
		p = strrchr(buf, ')');
		if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2)
			continue;
		if (n == cap) {
			struct t_proc *nv;

			cap = cap ? 2 * cap : 1024;
			nv = realloc(v, (size_t)cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -1;
			}
			v = nv;
		}
		v[n].pid = pid;
		v[n].ppid = (pid_t)ppid;
		v[n].live = (state != 'Z' && state != 'X') ||
			    t_nr_threads(pid) > 1;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, (size_t)n, sizeof(*v), t_proc_cmp);
	*out = v;
	return n;
}

static inline struct t_proc *t_proc_find(struct t_proc *v, int n, pid_t pid)
{
	struct t_proc key = { .pid = pid };

	return n ? bsearch(&key, v, (size_t)n, sizeof(*v), t_proc_cmp) : NULL;
}

static inline bool t_proc_below(struct t_proc *v, int n, struct t_proc *p,
				pid_t root)
{
	int hops;

	for (hops = 0; p && hops < n; hops++) {
		if (p->ppid == root)
			return true;
		if (p->ppid <= 1)
			return false;
		p = t_proc_find(v, n, p->ppid);
	}
	return false;
}

/*
 * The live descendants of @root, @except excluded: their number, and up
 * to @max of their pids in @pids (may be NULL). -1 if /proc fails.
 */
static inline int t_live_descendants(pid_t root, pid_t except, pid_t *pids,
				     int max)
{
	struct t_proc *v = NULL;
	int n = t_proc_snapshot(&v), i, found = 0;

	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!v[i].live || v[i].pid == except ||
		    !t_proc_below(v, n, &v[i], root))
			continue;
		if (pids && found < max)
			pids[found] = v[i].pid;
		found++;
	}
	free(v);
	return found;
}

/* Reap every zombie child of ours without blocking; how many. */
static inline int t_reap_zombies(void)
{
	int n = 0;

	while (waitpid(-1, NULL, WNOHANG) > 0)
		n++;
	return n;
}

/*
 * Wait at most @timeout_ms until @root has no live descendant but
 * @except, reaping our own zombies if @reap. Returns the number still
 * alive (0 on success).
 */
static inline int t_wait_no_descendants(pid_t root, pid_t except,
					int timeout_ms, bool reap)
{
	__u64 end = t_now_ns(CLOCK_MONOTONIC) + (__u64)timeout_ms * 1000000ull;
	int left;

	for (;;) {
		if (reap)
			t_reap_zombies();
		left = t_live_descendants(root, except, NULL, 0);
		if (left <= 0 || t_now_ns(CLOCK_MONOTONIC) > end)
			return left;
		usleep(5000);
	}
}

/*
 * SIGKILL every descendant of the calling process (a subreaper, so
 * orphans stay below it) until none is left, and reap them all. For
 * teardowns. Returns how many were still alive on the first look.
 */
static inline int t_kill_descendants(int timeout_ms)
{
	__u64 end = t_now_ns(CLOCK_MONOTONIC) + (__u64)timeout_ms * 1000000ull;
	pid_t self = getpid(), pids[4096];
	int first = -1, n, i;

	do {
		n = t_live_descendants(self, 0, pids, 4096);
		if (first < 0)
			first = n;
		for (i = 0; i < n && i < 4096; i++)
			kill(pids[i], SIGKILL);
		t_reap_zombies();
		if (n > 0)
			usleep(2000);
	} while (n > 0 && t_now_ns(CLOCK_MONOTONIC) < end);
	t_reap_zombies();
	return first;
}

/* Is process @pid alive (not gone, not a zombie with no live thread)? */
static inline bool t_alive(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (t_read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return false;
	return (p[2] != 'Z' && p[2] != 'X') || t_nr_threads(pid) > 1;
}

/* The parent pid of @pid from /proc, or -1. */
static inline pid_t t_ppid(pid_t pid)
{
	char path[64], buf[512], *p, state;
	int ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (t_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2)
		return -1;
	return (pid_t)ppid;
}

#endif /* CTXFD_TEST_PROC_H */

/*
 * Sizes from the environment, so that a slow lane (the debug kernel:
 * KASAN, lockdep and kmemleak make every context ~50 times dearer) runs
 * the same tests, smaller:
 *
 *   CTXFD_RACE_ROUNDS   a percentage of every race loop's rounds
 *                       (default 100; never fewer than one round)
 *   CTXFD_SCALE_N       the node count of the large trees and chains
 *                       (default 100 000; a value outside 4 to
 *                       10 000 000 gives the default)
 */
static inline int t_race_rounds(int base)
{
	const char *s = getenv("CTXFD_RACE_ROUNDS");
	long pct = s && *s ? strtol(s, NULL, 10) : 100;

	if (pct <= 0)
		pct = 100;
	return base * pct / 100 > 0 ? (int)(base * pct / 100) : 1;
}

#define T_SCALE_N_DEFAULT	100000

static inline int t_scale_n(void)
{
	const char *s = getenv("CTXFD_SCALE_N");
	long n = s && *s ? strtol(s, NULL, 10) : 0;

	return n >= 4 && n <= 10000000 ? (int)n : T_SCALE_N_DEFAULT;
}

/*
 * Helpers for the stress group (selftests/stress/): seeds and scale from
 * the environment, and the per-user charges of debugfs ctxfd/users.
 *
 *   CTXFD_STRESS_SEED   the seed (decimal or 0x hex); default: from the
 *                       clock and pid, printed so a run can be repeated
 *   CTXFD_STRESS_SCALE  multiplies the amount of work (default 1; a
 *                       fraction such as 0.25 makes it smaller)
 */
#ifndef CTXFD_TEST_STRESS_H
#define CTXFD_TEST_STRESS_H

#define T_USERS_FILE "/sys/kernel/debug/ctxfd/users"

static __u64 t_stress_seed_value;

/*
 * Fix the seed of this run without printing it: call it from a
 * constructor so that every test (each a forked child) shares it.
 */
static inline __u64 t_stress_seed_init(void)
{
	const char *s;

	if (t_stress_seed_value)
		return t_stress_seed_value;
	s = getenv("CTXFD_STRESS_SEED");
	if (s && *s)
		t_stress_seed_value = strtoull(s, NULL, 0);
	else
		t_stress_seed_value = t_now_ns(CLOCK_REALTIME) ^
				      ((__u64)getpid() << 32);
	if (!t_stress_seed_value)
		t_stress_seed_value = 1;
	return t_stress_seed_value;
}

/* The seed of this run, printed as "# seed: N" once per process. */
static inline __u64 t_stress_seed(void)
{
	static pid_t printed;
	__u64 seed = t_stress_seed_init();

	if (printed != getpid()) {
		printed = getpid();
		printf("# seed: %llu (CTXFD_STRESS_SEED=%llu reproduces the choices)\n",
		       (unsigned long long)seed, (unsigned long long)seed);
		fflush(stdout);
	}
	return seed;
}

/* CTXFD_STRESS_SCALE, default 1.0; never below 0.001. */
static inline double t_stress_scale(void)
{
	const char *s = getenv("CTXFD_STRESS_SCALE");
	double v = s && *s ? strtod(s, NULL) : 1.0;

	return v >= 0.001 ? v : 1.0;
}

/* @n scaled by CTXFD_STRESS_SCALE, at least @min. */
static inline long t_scaled(long n, long min)
{
	long v = (long)((double)n * t_stress_scale());

	return v >= min ? v : min;
}

/* A seed for one of many workers, derived from the run's seed. */
static inline __u64 t_sub_seed(__u64 seed, __u64 a, __u64 b)
{
	__u64 st = seed ^ (a * 0x9E3779B97F4A7C15ULL) ^ (b * 0xC2B2AE3D27D4EB4FULL);

	if (!st)
		st = 1;
	t_rand(&st);
	t_rand(&st);
	return st ? st : 1;
}

/* Is the per-user charge table readable (debugfs mounted, root)? */
static inline bool t_charges_available(void)
{
	return access(T_USERS_FILE, R_OK) == 0;
}

/* Objects charged to @uid (debugfs ctxfd/users): 0 if none, -1 on error. */
static inline long t_charged(uid_t uid)
{
	char buf[8192], *line, *save = NULL;
	unsigned int u;
	long n;

	if (t_read_file(T_USERS_FILE, buf, sizeof(buf)) < 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "%u %ld", &u, &n) == 2 && u == uid)
			return n;
	return 0;
}

/*
 * Wait at most @timeout_ms for the charge of @uid to be @want (work items
 * free fired attachments, io_uring puts its files late); the last value
 * read.
 */
static inline long t_wait_charged(uid_t uid, long want, int timeout_ms)
{
	__u64 end = t_now_ns(CLOCK_MONOTONIC) + (__u64)timeout_ms * 1000000ull;
	long n;

	for (;;) {
		n = t_charged(uid);
		if (n == want || n < 0 || t_now_ns(CLOCK_MONOTONIC) > end)
			return n;
		usleep(2000);
	}
}

/*
 * The charge of @uid once it stopped changing for 300 ms (at most 10 s):
 * a baseline taken while earlier work items (fired attachments, exiting
 * io_uring rings) still free objects would be wrong.
 */
static inline long t_settled_charge(uid_t uid)
{
	__u64 end = t_now_ns(CLOCK_MONOTONIC) + 10000000000ull, since;
	long n = t_charged(uid), m;

	since = t_now_ns(CLOCK_MONOTONIC);
	while (t_now_ns(CLOCK_MONOTONIC) < end) {
		usleep(10000);
		m = t_charged(uid);
		if (m != n) {
			n = m;
			since = t_now_ns(CLOCK_MONOTONIC);
		} else if (t_now_ns(CLOCK_MONOTONIC) - since > 300000000ull) {
			break;
		}
	}
	return n;
}

/* Milliseconds since @start_ns (CLOCK_MONOTONIC). */
static inline double t_ms_since(__u64 start_ns)
{
	return (double)(t_now_ns(CLOCK_MONOTONIC) - start_ns) / 1e6;
}

/* Write @val to the file @path; 0 or -1 with errno. */
static inline int t_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), saved;
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/*
 * In children and threads, where ASSERT_* cannot be used: print a "# "
 * line naming the step and errno, and return @code from the function.
 */
#define T_FAIL_IF(cond, code, fmt, ...) do {				\
	if (cond) {							\
		fprintf(stderr, "# step %d: " fmt " (errno %d: %s)\n",	\
			(int)(code), ##__VA_ARGS__, errno, strerror(errno));	\
		return (code);						\
	}								\
} while (0)

/*
 * Fork, become @uid (uid, gid and no groups; as it is if already
 * unprivileged and @uid is ours), run @fn(@arg) and return its exit status
 * (its return value, 128 + signal if killed, 100 if dropping failed).
 */
static inline int t_run_as(uid_t uid, int (*fn)(void *), void *arg)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (getuid() != uid && t_drop_to(uid))
			_exit(100);
		_exit(fn(arg));
	}
	return t_wait_status(pid);
}

#endif /* CTXFD_TEST_STRESS_H */

/*
 * Helpers for tests that use cgroup v2 (mounted at CGROOT in the VM):
 * the memory controller, limits, moving processes, reading counters.
 */
#ifndef CTXFD_TEST_CGROUP_H
#define CTXFD_TEST_CGROUP_H

#define CGROOT		"/sys/fs/cgroup"

/* Enable the memory controller for children of the root cgroup. */
static inline bool cg_memory_available(void)
{
	char buf[512];

	if (t_read_file(CGROOT "/cgroup.controllers", buf, sizeof(buf)) < 0 ||
	    !strstr(buf, "memory"))
		return false;
	t_write_file(CGROOT "/cgroup.subtree_control", "+memory");
	if (t_read_file(CGROOT "/cgroup.subtree_control", buf, sizeof(buf)) < 0)
		return false;
	return strstr(buf, "memory") != NULL;
}

static inline int cg_write(const char *cg, const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	return t_write_file(path, val);
}

static inline int cg_move(const char *cg, pid_t pid)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	return cg_write(cg, "cgroup.procs", buf);
}

/* The value of "@key N" in @cg/@file, or -1. */
static inline long long cg_key(const char *cg, const char *file, const char *key)
{
	char path[256], buf[4096], *p;
	size_t klen = strlen(key);

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	if (t_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == ' ')
			return strtoll(p + klen + 1, NULL, 10);
	return -1;
}

static inline long long cg_current(const char *cg)
{
	char path[256], buf[64];

	snprintf(path, sizeof(path), "%s/memory.current", cg);
	if (t_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtoll(buf, NULL, 10);
}

/* rmdir a cgroup once its last process is gone (zombies linger a bit). */
static inline void cg_remove(const char *cg)
{
	int i;

	for (i = 0; i < 500 && rmdir(cg) && errno == EBUSY; i++)
		usleep(10000);
}

#endif /* CTXFD_TEST_CGROUP_H */
