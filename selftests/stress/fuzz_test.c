// SPDX-License-Identifier: GPL-2.0
/*
 * A random-ioctl fuzzer, unprivileged: several threads of several
 * processes of user nobody (65534) throw seeded random operations at
 * ctxfd for a bounded time - every ioctl with random sizes, flags,
 * fields and pointers (valid, NULL, unmapped, read-only, straddling the
 * end of a mapping), on context fds, on /dev/ctxfd and on foreign fds -
 * while they create, cancel, close, dup, poll, read, send fds to each
 * other over a socket pair, attach their own children and fork children
 * that do the same and exit at random.
 *
 * What it checks:
 *  - the kernel survives and its log stays clean (KASAN, lockdep,
 *    kmemleak on the debug kernel: `make check` fails on any report);
 *  - every failure is one of the errnos the uapi documents for that
 *    call, never anything else (ENOTTY for a foreign fd or an unknown
 *    ioctl number, EFAULT for a bad pointer, ...);
 *  - nothing is left behind: once every fuzzing process has exited, the
 *    user's charge (debugfs ctxfd/users) is back to zero.
 *
 * CTXFD_FUZZ_SECONDS (default 20) bounds the fuzzing time, CTXFD_FUZZ_SEED
 * (or the stress seed, printed) reproduces the choices of each thread
 * (the interleaving of threads is the scheduler's). Root only (it sets up
 * the unprivileged processes and reads the charges).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#define NOBODY		65534
#define PROCS		3
#define THREADS		3
#define MAX_FDS		64

static int fuzz_seconds(void)
{
	const char *s = getenv("CTXFD_FUZZ_SECONDS");
	int v = s && *s ? atoi(s) : 20;

	return v > 0 ? v : 20;
}

/* Memory the fuzzer points the kernel at. */
struct arena {
	char *rw;		/* a read-write page */
	char *ro;		/* a read-only page */
	char *edge;		/* the last 16 bytes before an unmapped page */
	char *none;		/* unmapped */
};

struct worker {
	__u64 rng;
	int dev;
	int sock;		/* one end of a socket pair shared by the process */
	int fds[MAX_FDS];	/* -1 or an fd this thread may use */
	struct arena *a;
	__u64 deadline;		/* CLOCK_MONOTONIC ns */
	long ops;
	long unexpected;	/* errnos outside what the call may return */
	char what[128];		/* the first unexpected one */
};

static unsigned int pick(struct worker *w, unsigned int n)
{
	return (unsigned int)(t_rand(&w->rng) % n);
}

static __u64 rnd64(struct worker *w)
{
	switch (pick(w, 8)) {
	case 0: return 0;
	case 1: return ~0ull;
	case 2: return 1ull << pick(w, 64);
	case 3: return pick(w, 256);
	default: return t_rand(&w->rng);
	}
}

/* A pointer for the kernel: mostly valid, sometimes not. */
static __u64 rnd_ptr(struct worker *w, size_t len)
{
	switch (pick(w, 10)) {
	case 0: return 0;
	case 1: return (__u64)(uintptr_t)w->a->none;
	case 2: return (__u64)(uintptr_t)w->a->ro;
	case 3: return (__u64)(uintptr_t)w->a->edge;
	case 4: return rnd64(w);
	default: return (__u64)(uintptr_t)(w->a->rw + pick(w, 4096 - (len < 4096 ? len : 4095)));
	}
}

/* Where the ioctl's struct goes: the arena, or something bad. */
static void *rnd_arg(struct worker *w, size_t len)
{
	return (void *)(uintptr_t)rnd_ptr(w, len);
}

static int rnd_fd(struct worker *w)
{
	int i = pick(w, MAX_FDS + 4);

	if (i < MAX_FDS)
		return w->fds[i];
	switch (i - MAX_FDS) {
	case 0: return w->dev;
	case 1: return w->sock;		/* a foreign fd */
	case 2: return -1;
	default: return 1000 + pick(w, 100);	/* probably closed */
	}
}

static void keep(struct worker *w, int fd)
{
	int i = pick(w, MAX_FDS);

	if (fd < 0)
		return;
	if (w->fds[i] >= 0)
		close(w->fds[i]);
	w->fds[i] = fd;
}

/* An ioctl number: mostly ours with a random size, sometimes anything. */
static unsigned long rnd_cmd(struct worker *w, unsigned long base)
{
	unsigned int size;

	switch (pick(w, 10)) {
	case 0: return (unsigned long)t_rand(&w->rng) & 0xffffffff;
	case 1: return _IOC(pick(w, 4), CTXFD_IOC_MAGIC, pick(w, 16), pick(w, 512));
	case 2: case 3:
		size = _IOC_SIZE(base);
		size = pick(w, 2) ? size + 8 * pick(w, 8) : pick(w, size + 1);
		return (base & ~((unsigned long)_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
		       ((unsigned long)(size & _IOC_SIZEMASK) << _IOC_SIZESHIFT);
	default: return base;
	}
}

/* Fill @len bytes at @p (if writable) with a plausible or random struct. */
static void fill(struct worker *w, void *p, size_t len, unsigned long cmd)
{
	uintptr_t off = (uintptr_t)p - (uintptr_t)w->a->rw;
	char *b = p;
	size_t i;

	/* Only the read-write page is ours to fill (no pointer wrap-around). */
	if (off >= 4096 || len > 4096 - off)
		return;
	if (pick(w, 3) == 0) {
		for (i = 0; i < len; i++)
			b[i] = (char)t_rand(&w->rng);
		return;
	}
	memset(b, 0, len);
	switch (_IOC_NR(cmd)) {
	case 0x01: case 0x02: {		/* create */
		struct ctxfd_create c = {};

		c.flags = pick(w, 4) ? (rnd64(w) & 0x3f) : rnd64(w);
		if (c.flags & (CTXFD_CREATE_DEADLINE | CTXFD_CREATE_TIMEOUT)) {
			c.deadline_ns = pick(w, 2) ? (__s64)pick(w, 100000000) : (__s64)rnd64(w);
			c.clockid = pick(w, 4) ? 1 : pick(w, 12);
			c.deadline_cause.code = (__s32)rnd64(w);
			c.deadline_cause.msg_len = pick(w, 140);
			c.deadline_cause.msg = rnd_ptr(w, c.deadline_cause.msg_len);
		}
		if (c.flags & CTXFD_CREATE_VALUE) {
			c.key_len = pick(w, 300);
			c.key = rnd_ptr(w, c.key_len);
			c.value_len = pick(w, 5000);
			c.value = rnd_ptr(w, c.value_len);
		}
		memcpy(b, &c, len < sizeof(c) ? len : sizeof(c));
		break;
	}
	case 0x03: {			/* cancel */
		struct ctxfd_cancel c = {};

		c.flags = pick(w, 6) ? 0 : rnd64(w);
		c.cause.code = (__s32)rnd64(w);
		c.cause.msg_len = pick(w, 140);
		c.cause.msg = rnd_ptr(w, c.cause.msg_len);
		memcpy(b, &c, len < sizeof(c) ? len : sizeof(c));
		break;
	}
	case 0x04: {			/* watch */
		__u64 f = pick(w, 4) ? 0 : rnd64(w);

		memcpy(b, &f, len < sizeof(f) ? len : sizeof(f));
		break;
	}
	case 0x06: {			/* lookup */
		struct ctxfd_lookup l = {};

		l.flags = pick(w, 6) ? 0 : rnd64(w);
		l.key_len = pick(w, 300);
		l.key = rnd_ptr(w, l.key_len);
		l.value_len = pick(w, 5000);
		l.value = rnd_ptr(w, l.value_len);
		memcpy(b, &l, len < sizeof(l) ? len : sizeof(l));
		break;
	}
	default:
		break;
	}
}

/* The errnos an ioctl on ctxfd (or on a foreign fd) may fail with. */
static bool documented(int err)
{
	switch (err) {
	case EINVAL: case EFAULT: case ENOTTY: case EPERM: case EBADF:
	case E2BIG: case ENOENT: case ERANGE: case ESRCH: case ENOMEM:
	case ENOSPC: case ELOOP: case EMFILE: case ENFILE: case EAGAIN:
	case EINTR:
		return true;
	default:
		return false;
	}
}

/*
 * Another thread may have closed @fd and the number been reused for a
 * socket or a pidfd in between: only errnos from ctxfd's own files
 * count.
 */
static bool is_ours(struct worker *w, int fd)
{
	struct ctxfd_info info;

	return fd == w->dev || ioctl(fd, CTXFD_IOC_INFO, &info) == 0;
}

static void note(struct worker *w, const char *op, int fd, unsigned long cmd,
		 int err)
{
	if (documented(err) || !is_ours(w, fd))
		return;
	if (!w->unexpected++)
		snprintf(w->what, sizeof(w->what), "%s cmd %#lx: %s",
			 op, cmd, strerror(err));
}

static const unsigned long cmds[] = {
	CTXFD_IOC_NEW, CTXFD_IOC_CREATE, CTXFD_IOC_CANCEL, CTXFD_IOC_WATCH,
	CTXFD_IOC_INFO, CTXFD_IOC_LOOKUP, CTXFD_IOC_ATTACH,
};

/* A child the fuzzer may attach: sleeps, dies at random or when told. */
static pid_t spawn_target(struct worker *w)
{
	unsigned int ms = pick(w, 300);
	pid_t pid = fork();

	if (pid == 0) {
		usleep(ms * 1000);
		_exit(0);
	}
	return pid;
}

/*
 * Reap a target. It exits on its own within 300 ms, unless a fuzzed
 * attachment stopped it (SIGSTOP, SIGTSTP... are among the signals
 * picked): then it is killed, rather than waited for forever.
 */
static void reap_target(pid_t child)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (waitpid(child, NULL, WNOHANG) != 0)
			return;
		usleep(10000);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

static void op_ioctl(struct worker *w)
{
	unsigned long base = cmds[pick(w, ARRAY_SIZE(cmds))];
	unsigned long cmd = rnd_cmd(w, base);
	size_t len = _IOC_SIZE(cmd);
	void *arg = rnd_arg(w, len);
	int fd = rnd_fd(w), ret;
	pid_t child = 0;

	fill(w, arg, len, cmd);
	if (_IOC_NR(cmd) == 0x07 &&
	    (uintptr_t)arg - (uintptr_t)w->a->rw <= 4096 - sizeof(struct ctxfd_attach) &&
	    pick(w, 2)) {
		struct ctxfd_attach at = {};

		child = spawn_target(w);
		at.flags = pick(w, 4) ? pick(w, 4) : rnd64(w);
		at.pidfd = child > 0 ? t_pidfd_open(child) : -1;
		at.signal = pick(w, 4) ? SIGKILL : pick(w, 70);
		at.grace_ns = pick(w, 2) ? 0 : pick(w, 200) * 1000000ull;
		at.pid = child;
		memcpy(arg, &at, sizeof(at));
		cmd = CTXFD_IOC_ATTACH;
	}
	ret = ioctl(fd, cmd, arg);
	if (ret < 0)
		note(w, "ioctl", fd, cmd, errno);
	else if (ret > 0 && (_IOC_NR(cmd) == 0x01 || _IOC_NR(cmd) == 0x02 ||
			     _IOC_NR(cmd) == 0x04))
		keep(w, ret);
	if (child > 0) {
		if (_IOC_NR(cmd) == 0x07)
			close(((struct ctxfd_attach *)arg)->pidfd);
		if (pick(w, 2))
			kill(child, SIGKILL);
		reap_target(child);
	}
}

static void op_misc(struct worker *w)
{
	int fd = rnd_fd(w), i = pick(w, MAX_FDS);
	char ev[2 * sizeof(struct ctxfd_event)];
	struct pollfd p;

	switch (pick(w, 9)) {
	case 0:			/* a fresh root, the common case */
		keep(w, t_new(w->dev, pick(w, 2) ? 0 : CTXFD_CREATE_NO_CANCEL_ON_CLOSE));
		break;
	case 1:
		keep(w, t_child(fd, pick(w, 3) ? 0 : CTXFD_CREATE_NO_CANCEL_ON_CLOSE));
		break;
	case 2:
		if (w->fds[i] >= 0) {
			close(w->fds[i]);
			w->fds[i] = -1;
		}
		break;
	case 3:
		keep(w, fcntl(fd, F_DUPFD_CLOEXEC, 0));
		break;
	case 4:
		p.fd = fd;
		p.events = POLLIN;
		poll(&p, 1, 0);
		break;
	case 5:
		if (fd >= 0 && fd != w->sock && fd != w->dev) {
			int fl = fcntl(fd, F_GETFL);

			if (fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0)
				if (read(fd, ev, pick(w, sizeof(ev) + 1)) < 0)
					note(w, "read", fd, 0, errno);
		}
		break;
	case 6:
		if (fd >= 0)
			t_send_fd(w->sock, fd);	/* EAGAIN when full: fine */
		break;
	case 7:
		keep(w, t_recv_fd(w->sock));
		break;
	case 8:
		t_cancel(fd, pick(w, 3) ? 0 : (int)pick(w, 1000), pick(w, 2) ? NULL : "fuzz");
		break;
	}
}

struct proc_args {
	__u64 seed;
	int dev;
	int sock;
	struct arena *a;
	__u64 deadline;		/* CLOCK_MONOTONIC ns */
	int depth;		/* fork generations left */
	volatile long *shared;	/* [0] ops, [1] unexpected, +2: text */
};

static void *fuzz_thread(void *arg)
{
	struct worker *w = arg;

	while (t_now_ns(CLOCK_MONOTONIC) < w->deadline) {
		if (pick(w, 3))
			op_ioctl(w);
		else
			op_misc(w);
		w->ops++;
	}
	return NULL;
}

static void fuzz_process(struct proc_args *pa);

/* One thread's share of a process: ops until the deadline. */
static void run_threads(struct proc_args *pa)
{
	struct worker w[THREADS];
	pthread_t th[THREADS];
	long ops = 0, bad = 0;
	int t, i;

	for (t = 0; t < THREADS; t++) {
		memset(&w[t], 0, sizeof(w[t]));
		w[t].rng = t_sub_seed(pa->seed, getpid() & 0xffff, t);
		w[t].dev = pa->dev;
		w[t].sock = pa->sock;
		w[t].a = pa->a;
		for (i = 0; i < MAX_FDS; i++)
			w[t].fds[i] = -1;
	}
	for (t = 0; t < THREADS; t++) {
		w[t].deadline = pa->deadline;
		if (pthread_create(&th[t], NULL, fuzz_thread, &w[t]))
			_exit(6);
	}
	/* The main thread forks children that fuzz too, and reaps them. */
	while (t_now_ns(CLOCK_MONOTONIC) < pa->deadline) {
		usleep(50000 + (t_rand(&pa->seed) % 200000));
		if (pa->depth > 0 && t_rand(&pa->seed) % 4 == 0) {
			pid_t c = fork();

			if (c == 0) {
				struct proc_args sub = *pa;

				sub.depth--;
				sub.seed = t_sub_seed(pa->seed, getpid(), 7);
				/* Die early at random: files close at exit. */
				sub.deadline = t_now_ns(CLOCK_MONOTONIC) +
					       (t_rand(&sub.seed) % 2000) * 1000000ull;
				if (sub.deadline > pa->deadline)
					sub.deadline = pa->deadline;
				fuzz_process(&sub);
				_exit(0);
			}
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	for (t = 0; t < THREADS; t++) {
		pthread_join(th[t], NULL);
		ops += w[t].ops;
		bad += w[t].unexpected;
		if (w[t].unexpected && !pa->shared[1])
			snprintf((char *)&pa->shared[2], 128, "%s", w[t].what);
		for (i = 0; i < MAX_FDS; i++)
			if (w[t].fds[i] >= 0)
				close(w[t].fds[i]);
	}
	__atomic_add_fetch(&pa->shared[0], ops, __ATOMIC_RELAXED);
	__atomic_add_fetch(&pa->shared[1], bad, __ATOMIC_RELAXED);
}

static void fuzz_process(struct proc_args *pa)
{
	run_threads(pa);
	while (wait(NULL) > 0)
		;
}

static struct arena *make_arena(void)
{
	char *m = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct arena *a;

	if (m == MAP_FAILED)
		return NULL;
	a = (struct arena *)(m + 3 * 4096);
	a->rw = m;
	a->ro = m + 4096;
	a->edge = m + 2 * 4096 - 16;
	memset(m, 0, 3 * 4096);
	mprotect(a->ro, 4096, PROT_READ);
	a->none = m + 2 * 4096;
	munmap(a->none, 4096);
	return a;
}

FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
}

FIXTURE_TEARDOWN(fuzz)
{
}

/*
 * The fuzzing lasts CTXFD_FUZZ_SECONDS (20 by default); then the
 * processes wind down, their fired attachments wait for their targets'
 * exits and grace periods, and the charges settle: minutes at most.
 */
TEST_F_TIMEOUT(fuzz, unprivileged_random_ioctls_from_threads_and_forks_leave_a_clean_kernel,
	       300)
{
	__u64 wound;
	volatile long *shared;
	__u64 seed = t_stress_seed();
	int dev, i, secs = fuzz_seconds(), status;
	pid_t procs[PROCS];
	__u64 start;
	long base;

	ctxfd_require_root();
	dev = ctxfd_dev_or_skip();
	close(dev);
	base = t_charges_available() ? t_settled_charge(NOBODY) : -1;
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, shared);
	ASSERT_EQ(0, t_subreaper());
	TH_LOG("%d processes x %d threads, forking, as uid %d, for %d s",
	       PROCS, THREADS, NOBODY, secs);
	start = t_now_ns(CLOCK_MONOTONIC);

	for (i = 0; i < PROCS; i++) {
		procs[i] = fork();
		ASSERT_LE(0, procs[i]);
		if (procs[i] == 0) {
			struct proc_args pa = {};
			int sv[2];

			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
				_exit(2);
			if (t_drop_to(NOBODY))
				_exit(3);
			pa.dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
			if (pa.dev < 0)
				_exit(4);
			pa.sock = sv[i & 1];
			pa.a = make_arena();
			if (!pa.a)
				_exit(5);
			pa.seed = t_sub_seed(seed, i, 0);
			pa.deadline = t_now_ns(CLOCK_MONOTONIC) + secs * 1000000000ull;
			pa.depth = 2;
			pa.shared = shared;
			/* Non-blocking: a thread must never wait on a peer. */
			fcntl(sv[0], F_SETFL, O_NONBLOCK);
			fcntl(sv[1], F_SETFL, O_NONBLOCK);
			fuzz_process(&pa);
			_exit(0);
		}
	}
	for (i = 0; i < PROCS; i++) {
		status = t_wait_status(procs[i]);
		EXPECT_EQ(0, status) TH_LOG("fuzzing process %d ended with %d", i, status);
	}
	wound = t_now_ns(CLOCK_MONOTONIC);
	t_kill_descendants(30000);
	TH_LOG("%ld operations; the processes wound down %.1f s after the deadline",
	       shared[0], (double)(wound - start) / 1e9 - secs);
	EXPECT_LT(0, shared[0]);
	EXPECT_EQ(0, shared[1]) TH_LOG("unexpected errno: %s", (char *)&shared[2]);
	if (base >= 0)
		EXPECT_EQ(base, t_wait_charged(NOBODY, base, 30000))
			TH_LOG("charges of uid %d left behind", NOBODY);
}

TEST_HARNESS_MAIN
