// SPDX-License-Identifier: GPL-2.0
/*
 * Unprivileged: as user nobody (65534), nothing can
 *
 *  - cancel a context it holds only a watch-only fd for, whatever way the
 *    fd came (created, received over SCM_RIGHTS, inherited across fork,
 *    setuid and execve) and whatever it does with it (dup, F_SETFL,
 *    reopening /proc/self/fd/N, WATCH, a round trip through a socket,
 *    bigger ioctl structs), nor reach the owner's cancel fd (pidfd_getfd,
 *    /proc/PID/fd);
 *  - exceed its caps: racing creators of one user in many processes and
 *    threads never hold more than max_nodes_per_user objects, the module
 *    parameters cannot be written, the charges cannot be read;
 *  - signal a process it could not kill(2): CTXFD_IOC_ATTACH succeeds for
 *    exactly the processes kill(pid, 0) accepts, over every combination
 *    of real, effective and saved uid of the target, from the initial user
 *    namespace and from a user namespace of its own (where it has
 *    CAP_KILL over nothing outside); the signal reaches exactly those;
 *    a target that became unkillable after the attach is not signalled.
 *
 * Root sets the scene and drops to nobody; skips unless root.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#define NOBODY	65534
#define OTHER	65533

#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

/* ---- a re-executed image: try to cancel through an inherited watch fd ---- */

#define EXEC_ENV "CTXFD_UNPRIV_WATCH_FD"

/*
 * Runs before the harness when the test re-executes itself: exits 0 if
 * the inherited watch-only fd refused every attempt to cancel.
 */
static void __attribute__((constructor)) exec_child(void)
{
	const char *s = getenv(EXEC_ENV);
	struct ctxfd_info info;
	char path[64];
	int fd, r;

	if (!s)
		return;
	fd = atoi(s);
	if (getuid() == 0 || geteuid() == 0)
		_exit(10);
	if (t_info(fd, &info) || (info.flags & CTXFD_INFO_CAN_CANCEL))
		_exit(11);
	errno = 0;
	if (t_cancel(fd, 1, "exec") != -1 || errno != EPERM)
		_exit(12);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = open(path, O_RDWR | O_CLOEXEC);
	if (r >= 0 && (t_cancel(r, 1, "reopened") != -1 || errno != EPERM))
		_exit(13);
	if (t_err(fd) != 0)
		_exit(14);
	_exit(0);
}

/* ---- watch-only fds -------------------------------------------------------- */

struct watch_env {
	int sock[2];
	pid_t owner;		/* root process holding the cancel fd */
	int owner_cancel_fd;	/* its number there */
};

/* Every way a watch-only fd might be turned into a cancel. */
static int watch_fd_cannot_cancel(void *arg)
{
	struct watch_env *e = arg;
	struct ctxfd_create wc = { .flags = CTXFD_CREATE_WITHOUT_CANCEL };
	struct {
		struct ctxfd_cancel c;
		char pad[40];
	} big = { .c = { .cause = { .code = 3 } } };
	struct ctxfd_info info;
	int w, d, x, child, pair[2], pidfd, step = 0;
	char path[64];

	w = t_recv_fd(e->sock[1]);
	T_FAIL_IF(w < 0, ++step, "recv");
	T_FAIL_IF(t_info(w, &info) || (info.flags & CTXFD_INFO_CAN_CANCEL),
		  ++step, "received fd says it can cancel");
	errno = 0;
	T_FAIL_IF(t_cancel(w, 1, "direct") != -1 || errno != EPERM, ++step,
		  "CANCEL");
	/* A bigger struct, through the same dispatch: still refused. */
	errno = 0;
	T_FAIL_IF(ioctl(w, _IOW(CTXFD_IOC_MAGIC, 0x03, big), &big) != -1 ||
		  errno != EPERM, ++step, "CANCEL with a bigger struct");
	d = dup(w);
	errno = 0;
	T_FAIL_IF(d < 0 || t_cancel(d, 1, "dup") != -1 || errno != EPERM, ++step,
		  "CANCEL through dup");
	fcntl(d, F_SETFL, O_RDWR | O_NONBLOCK);
	T_FAIL_IF((fcntl(d, F_GETFL) & O_ACCMODE) != O_RDONLY, ++step,
		  "F_SETFL changed the access mode");
	errno = 0;
	T_FAIL_IF(t_cancel(d, 1, "setfl") != -1 || errno != EPERM, ++step,
		  "CANCEL after F_SETFL O_RDWR");
	close(d);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", w);
	x = open(path, O_RDWR | O_CLOEXEC);
	errno = 0;
	T_FAIL_IF(x >= 0 && (t_cancel(x, 1, "reopen") != -1 || errno != EPERM),
		  ++step, "CANCEL through a reopened /proc/self/fd");
	if (x >= 0)
		close(x);
	x = t_watch(w, 0);
	errno = 0;
	T_FAIL_IF(x < 0 || t_cancel(x, 1, "watch") != -1 || errno != EPERM,
		  ++step, "CANCEL through WATCH of a watch fd");
	close(x);
	T_FAIL_IF(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), ++step,
		  "socketpair");
	T_FAIL_IF(t_send_fd(pair[0], w), ++step, "send");
	x = t_recv_fd(pair[1]);
	errno = 0;
	T_FAIL_IF(x < 0 || t_cancel(x, 1, "roundtrip") != -1 || errno != EPERM,
		  ++step, "CANCEL after a round trip through a socket");
	close(x);
	close(pair[0]);
	close(pair[1]);
	/* Children are new contexts: ours to cancel, never the parent. */
	child = t_child(w, 0);
	T_FAIL_IF(child < 0 || t_cancel(child, 1, "child"), ++step,
		  "child of a watch fd");
	close(child);
	child = t_child_value(w, "k", "v", 1);
	errno = 0;
	T_FAIL_IF(child < 0 || t_cancel(child, 1, "value") != -1 || errno != EPERM,
		  ++step, "value child");
	close(child);
	child = ioctl(w, CTXFD_IOC_CREATE, &wc);
	errno = 0;
	T_FAIL_IF(child < 0 || t_cancel(child, 1, "wc") != -1 || errno != EPERM,
		  ++step, "WithoutCancel child");
	close(child);
	/* The owner's cancel fd stays out of reach. */
	pidfd = t_pidfd_open(e->owner);
	T_FAIL_IF(pidfd < 0, ++step, "pidfd_open");
	errno = 0;
	x = (int)syscall(SYS_pidfd_getfd, pidfd, e->owner_cancel_fd, 0);
	T_FAIL_IF(x >= 0 || errno != EPERM, ++step, "pidfd_getfd of root's cancel fd");
	close(pidfd);
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)e->owner,
		 e->owner_cancel_fd);
	x = open(path, O_RDWR | O_CLOEXEC);
	T_FAIL_IF(x >= 0, ++step, "opened root's cancel fd through /proc");
	T_FAIL_IF(t_err(w) != 0, ++step, "the context was canceled");
	close(w);	/* closing watch fds never cancels */
	return 0;
}

FIXTURE(up) {
	int dev;
	long long saved_nodes;
};

FIXTURE_SETUP(up)
{
	self->saved_nodes = -1;
	ctxfd_require_root();
	self->dev = ctxfd_dev_or_skip();
}

FIXTURE_TEARDOWN(up)
{
	if (self->saved_nodes > 0)
		t_param_set("max_nodes_per_user",
			    (unsigned long long)self->saved_nodes);
	close(self->dev);
}

static void __attribute__((constructor)) seed_early(void)
{
	t_stress_seed_init();
}

TEST_F_TIMEOUT(up, watch_only_fd_never_cancels_whatever_path_it_took, 120)
{
	struct watch_env e;
	int dev = self->dev, fd, w, status;
	char fdstr[16];
	pid_t pid;

	fd = t_new(dev, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, e.sock));
	e.owner = getpid();
	e.owner_cancel_fd = fd;

	w = t_watch(fd, 0);
	ASSERT_LE(0, w);
	ASSERT_EQ(0, t_send_fd(e.sock[0], w));
	close(w);
	EXPECT_EQ(0, t_run_as(NOBODY, watch_fd_cannot_cancel, &e));
	EXPECT_EQ(0, t_err(fd));

	/* Inherited across fork, setuid and execve. */
	w = t_watch(fd, CTXFD_WATCH_NO_CLOEXEC);
	ASSERT_LE(0, w);
	snprintf(fdstr, sizeof(fdstr), "%d", w);
	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *argv[] = { "unpriv_test", NULL };

		if (t_drop_to(NOBODY))
			_exit(100);
		setenv(EXEC_ENV, fdstr, 1);
		execv("/proc/self/exe", argv);
		_exit(101);
	}
	status = t_wait_status(pid);
	EXPECT_EQ(0, status) TH_LOG("re-executed as nobody: step %d", status);
	close(w);
	EXPECT_EQ(0, t_err(fd));
	EXPECT_EQ(0, t_cancel(fd, 0, NULL));
	close(fd);
	close(e.sock[0]);
	close(e.sock[1]);
}

/* ---- caps ------------------------------------------------------------------------ */

struct race {
	int cap;
	volatile int stop;
	volatile int held;	/* objects held now, all processes (atomic) */
	volatile int max_held;
	volatile int enospc;
	volatile int other_err;
	volatile long ops;
};

static void race_note_held(struct race *r, int delta)
{
	int now = __atomic_add_fetch(&r->held, delta, __ATOMIC_SEQ_CST), m;

	while ((m = __atomic_load_n(&r->max_held, __ATOMIC_SEQ_CST)) < now &&
	       !__atomic_compare_exchange_n(&r->max_held, &m, now, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
}

struct racer {
	struct race *r;
	int dev;
	__u64 seed;
};

/*
 * Create objects of every kind until the cap stops us, then churn: close
 * some, create more. held counts what succeeded and is still open, a
 * lower bound of what is alive (counted after the creation returns,
 * uncounted before the close), so held above the cap is a real excess.
 */
static void *racer(void *arg)
{
	struct racer *me = arg;
	struct race *r = me->r;
	struct ctxfd_create wc = { .flags = CTXFD_CREATE_WITHOUT_CANCEL };
	int fds[512], n = 0, root = -1, fd;
	__u64 st = me->seed;

	while (!__atomic_load_n(&r->stop, __ATOMIC_SEQ_CST)) {
		unsigned int op = t_rand(&st) % 8;

		__atomic_add_fetch(&r->ops, 1, __ATOMIC_RELAXED);
		if (n > 0 && (op == 0 || n == 512)) {
			int i = (int)(t_rand(&st) % (unsigned int)n);

			/* Uncounted first: held never exceeds what is alive. */
			race_note_held(r, -1);
			close(fds[i]);
			fds[i] = fds[--n];
			continue;
		}
		if (root < 0 || op == 1)
			fd = t_new(me->dev, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
		else if (op == 2)
			fd = t_child_value(root, "k", "v", 1);
		else if (op == 3)
			fd = ioctl(root, CTXFD_IOC_CREATE, &wc);
		else
			fd = t_child(root, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
		if (fd < 0) {
			if (errno == ENOSPC)
				__atomic_add_fetch(&r->enospc, 1, __ATOMIC_RELAXED);
			else
				__atomic_add_fetch(&r->other_err, 1, __ATOMIC_RELAXED);
			continue;
		}
		race_note_held(r, 1);
		if (root < 0)
			root = fd;	/* counted like the others, never closed */
		else
			fds[n++] = fd;
	}
	while (n > 0) {
		race_note_held(r, -1);
		close(fds[--n]);
	}
	if (root >= 0) {
		race_note_held(r, -1);
		close(root);
	}
	return NULL;
}

static int race_process(void *arg)
{
	struct racer me[2] = { { .r = arg }, { .r = arg } };
	pthread_t t[2];
	int i, dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);

	T_FAIL_IF(dev < 0, 1, "open");
	for (i = 0; i < 2; i++) {
		me[i].dev = dev;
		me[i].seed = t_sub_seed(t_stress_seed_init(), (__u64)getpid(), (__u64)i);
		T_FAIL_IF(pthread_create(&t[i], NULL, racer, &me[i]), 2, "thread");
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	close(dev);
	return 0;
}

/*
 * Four processes of one user, two threads each, create every kind of
 * object as fast as they can and churn; meanwhile root samples the
 * charge. What they hold never exceeds the cap; the charge may pass it
 * only by the creations in flight (each is counted, then refused).
 */
TEST_F_TIMEOUT(up, racing_creators_of_one_user_never_hold_more_than_the_cap, 300)
{
	const int cap = 100, procs = 4;
	struct race *r;
	long base = t_charged(NOBODY), n, max_seen = 0;
	__u64 end;
	pid_t pids[4];
	int i;

	if (!t_charges_available())
		CTXFD_SKIP("no %s (debugfs)", T_USERS_FILE);
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r);
	memset(r, 0, sizeof(*r));
	r->cap = cap;
	self->saved_nodes = t_param_get("max_nodes_per_user");
	ASSERT_EQ(0, t_param_set("max_nodes_per_user", cap + (unsigned)base));

	for (i = 0; i < procs; i++) {
		fflush(stdout);
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			if (t_drop_to(NOBODY))
				_exit(100);
			_exit(race_process(r));
		}
	}
	end = t_now_ns(CLOCK_MONOTONIC) + (__u64)t_scaled(5000, 500) * 1000000ull;
	while (t_now_ns(CLOCK_MONOTONIC) < end) {
		n = t_charged(NOBODY) - base;
		if (n > max_seen)
			max_seen = n;
		usleep(500);
	}
	__atomic_store_n(&r->stop, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < procs; i++)
		EXPECT_EQ(0, t_wait_status(pids[i]));
	TH_LOG("%ld operations: held at most %d of a cap of %d, charge seen at most %ld, %d ENOSPC, %d other errors",
	       r->ops, r->max_held, cap, max_seen, r->enospc, r->other_err);
	EXPECT_GE(cap, r->max_held);
	EXPECT_LT(0, r->enospc) TH_LOG("the cap was never reached");
	EXPECT_EQ(0, r->other_err);
	/* Each of the 8 threads may have one creation counted, then refused. */
	EXPECT_GE(cap + 2 * procs, max_seen);
	EXPECT_EQ(base, t_wait_charged(NOBODY, base, 10000));
	munmap(r, sizeof(*r));
}

static int cannot_touch_limits(void *arg)
{
	const char *names[] = { "max_depth", "max_nodes_per_user",
				"max_key_len", "max_value_len" };
	char path[128], buf[64];
	size_t i;

	(void)arg;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), T_PARAM_DIR "%s", names[i]);
		errno = 0;
		T_FAIL_IF(t_write_file(path, "1000000\n") == 0 || errno != EACCES,
			  (int)i + 1, "wrote %s", path);
		T_FAIL_IF(t_read_file(path, buf, sizeof(buf)) <= 0, (int)i + 11,
			  "cannot read %s", path);
	}
	errno = 0;
	T_FAIL_IF(t_read_file(T_USERS_FILE, buf, sizeof(buf)) >= 0, 20,
		  "read the per-user charges");
	return 0;
}

TEST_F(up, module_parameters_and_charges_are_out_of_reach)
{
	long long before = t_param_get("max_nodes_per_user");

	EXPECT_EQ(0, t_run_as(NOBODY, cannot_touch_limits, NULL));
	EXPECT_EQ(before, t_param_get("max_nodes_per_user"));
}

/* ---- signals: attach exactly where kill(2) would --------------------------------------- */

#define NTARGETS 27
static const uid_t uids3[3] = { 0, NOBODY, OTHER };

struct targets {
	pid_t pid[NTARGETS + 2];
	int n;
	int attach_ret[NTARGETS + 2];	/* 0 or errno, per target */
	int kill_ret[NTARGETS + 2];
	int mismatch;
	int rep[2];			/* targets report SIGUSR1 here */
};

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

/*
 * A target: root that takes the uids (r, e, s), says it is ready, waits
 * for SIGUSR1 and reports its index, or is killed at the end.
 */
static pid_t spawn_target(int idx, uid_t r, uid_t e, uid_t s, int rep, int ready)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1 };
		sigset_t mask, old;

		sigemptyset(&mask);
		sigaddset(&mask, SIGUSR1);
		sigprocmask(SIG_BLOCK, &mask, &old);
		sigaction(SIGUSR1, &sa, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (syscall(SYS_setresuid, r, e, s))
			_exit(1);
		t_sync_post(ready);
		while (!got_usr1)
			sigsuspend(&old);
		if (write(rep, &idx, sizeof(idx)) != sizeof(idx))
			_exit(2);
		_exit(0);
	}
	return pid;
}

/* What kill(pid, 0) says: 0 or errno. */
static int kill_says(pid_t pid)
{
	return kill(pid, 0) ? errno : 0;
}

/*
 * In the tester: attach every target, comparing with kill(2); then
 * cancel, so that the attached ones get SIGUSR1.
 */
static int attach_like_kill(void *arg)
{
	struct targets *t = arg;
	int dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC), fd, i, a;

	T_FAIL_IF(dev < 0, 1, "open");
	fd = t_new(dev, 0);
	T_FAIL_IF(fd < 0, 2, "NEW");
	for (i = 0; i < t->n; i++) {
		t->kill_ret[i] = kill_says(t->pid[i]);
		a = t_attach(fd, t->pid[i], SIGUSR1, 0, 0) ? errno : 0;
		t->attach_ret[i] = a;
		if (a != t->kill_ret[i]) {
			t->mismatch++;
			fprintf(stderr, "# target %d (pid %d): kill(2) says %d, ATTACH %d\n",
				i, (int)t->pid[i], t->kill_ret[i], a);
		}
	}
	T_FAIL_IF(t_cancel(fd, 0, NULL), 3, "cancel");
	close(fd);
	close(dev);
	return 0;
}

/* The same from a user namespace of its own, where it is "root". */
static int attach_like_kill_in_userns(void *arg)
{
	char map[64];

	/*
	 * Refused where user namespaces are off, and to any chrooted
	 * process (the test VM runs everything chrooted into its overlay).
	 */
	if (unshare(CLONE_NEWUSER))
		return errno == EPERM ? 50 : errno == EINVAL ? 51 : 52;
	snprintf(map, sizeof(map), "0 %d 1", NOBODY);
	if (t_write_file("/proc/self/setgroups", "deny") ||
	    t_write_file("/proc/self/uid_map", map) ||
	    t_write_file("/proc/self/gid_map", map))
		return 53;
	T_FAIL_IF(getuid() != 0, 54, "not root in the namespace");
	return attach_like_kill(arg);
}

static void targets_start(struct __test_metadata *_metadata, struct targets *t,
			  int ready[2])
{
	int i;

	memset(t, 0, sizeof(*t));
	ASSERT_EQ(0, pipe2(t->rep, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	for (i = 0; i < NTARGETS; i++) {
		t->pid[i] = spawn_target(i, uids3[i / 9], uids3[(i / 3) % 3],
					 uids3[i % 3], t->rep[1], ready[1]);
		ASSERT_LT(0, t->pid[i]);
		ASSERT_TRUE(t_sync_wait(ready[0], 30000));
	}
	t->n = NTARGETS;
	/* init and kthreadd: kill(2) refuses them to nobody too. */
	t->pid[t->n++] = 1;
	t->pid[t->n++] = 2;
}

static void targets_check(struct __test_metadata *_metadata, struct targets *t)
{
	bool got[NTARGETS + 2] = { false };
	int i, idx, expected = 0, n = 0;

	for (i = 0; i < NTARGETS; i++)
		expected += t->attach_ret[i] == 0;
	while (n < expected) {
		struct pollfd pfd = { .fd = t->rep[0], .events = POLLIN };

		if (poll(&pfd, 1, 10000) != 1 ||
		    read(t->rep[0], &idx, sizeof(idx)) != sizeof(idx))
			break;
		if (idx >= 0 && idx < NTARGETS && !got[idx]) {
			got[idx] = true;
			n++;
		}
	}
	/* Give a wrongly signalled one time to show up. */
	usleep(300000);
	for (;;) {
		struct pollfd pfd = { .fd = t->rep[0], .events = POLLIN };

		if (poll(&pfd, 1, 0) != 1 ||
		    read(t->rep[0], &idx, sizeof(idx)) != sizeof(idx))
			break;
		if (idx >= 0 && idx < NTARGETS)
			got[idx] = true;
	}
	for (i = 0; i < NTARGETS; i++) {
		bool want = t->attach_ret[i] == 0, had = got[i];

		EXPECT_EQ(want, had)
			TH_LOG("target %d (ruid %u euid %u suid %u): attach %d, signalled %d",
			       i, uids3[i / 9], uids3[(i / 3) % 3], uids3[i % 3],
			       t->attach_ret[i], had);
	}
	EXPECT_EQ(0, t->mismatch);
	EXPECT_EQ(EPERM, t->attach_ret[NTARGETS]) TH_LOG("init");
	EXPECT_EQ(EPERM, t->attach_ret[NTARGETS + 1]) TH_LOG("kthreadd");
}

static void targets_stop(struct targets *t)
{
	int i;

	for (i = 0; i < NTARGETS; i++) {
		if (t->pid[i] > 0) {
			kill(t->pid[i], SIGKILL);
			waitpid(t->pid[i], NULL, 0);
		}
	}
	close(t->rep[0]);
	close(t->rep[1]);
}

TEST_F_TIMEOUT(up, attach_succeeds_for_exactly_the_processes_kill_accepts, 300)
{
	struct targets *t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int ready[2], killable = 0, i;

	ASSERT_NE(MAP_FAILED, t);
	targets_start(_metadata, t, ready);
	EXPECT_EQ(0, t_run_as(NOBODY, attach_like_kill, t));
	for (i = 0; i < NTARGETS; i++)
		killable += t->kill_ret[i] == 0;
	/* Those whose real or saved uid is nobody's: 3 * 9 - 2 * 2 * 3. */
	EXPECT_EQ(15, killable);
	targets_check(_metadata, t);
	targets_stop(t);
	close(ready[0]);
	close(ready[1]);
	munmap(t, sizeof(*t));
}

TEST_F_TIMEOUT(up, attach_from_a_user_namespace_succeeds_exactly_where_kill_does, 300)
{
	struct targets *t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int ready[2], status;

	ASSERT_NE(MAP_FAILED, t);
	targets_start(_metadata, t, ready);
	status = t_run_as(NOBODY, attach_like_kill_in_userns, t);
	if (status >= 50 && status <= 52) {
		targets_stop(t);
		CTXFD_SKIP("unshare(CLONE_NEWUSER) as nobody: %s",
			   status == 50 ? "EPERM (chrooted, as in the test VM, or disabled)" :
			   status == 51 ? "EINVAL (no CONFIG_USER_NS)" : "failed");
	}
	EXPECT_EQ(0, status);
	targets_check(_metadata, t);
	targets_stop(t);
	close(ready[0]);
	close(ready[1]);
	munmap(t, sizeof(*t));
}

struct late {
	pid_t keeps, drops;	/* two targets, uids (nobody, root, root) */
	int sync[2];		/* tester -> root: attached */
	int go[2];		/* root -> tester: the target changed */
	int kill_after;
};

static int attach_then_cancel_late(void *arg)
{
	struct late *l = arg;
	int dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC), fd;

	T_FAIL_IF(dev < 0, 1, "open");
	fd = t_new(dev, 0);
	T_FAIL_IF(fd < 0, 2, "NEW");
	T_FAIL_IF(t_attach(fd, l->keeps, SIGUSR1, 0, 0), 3, "attach keeps");
	T_FAIL_IF(t_attach(fd, l->drops, SIGUSR1, 0, 0), 4, "attach drops");
	T_FAIL_IF(!t_sync_post(l->sync[1]), 5, "sync");
	T_FAIL_IF(!t_sync_wait(l->go[0], 30000), 6, "sync");
	l->kill_after = kill_says(l->drops);
	T_FAIL_IF(t_cancel(fd, 0, NULL), 7, "cancel");
	close(fd);
	close(dev);
	return 0;
}

/*
 * Permission is checked again when the signal is sent, against the
 * target's credentials of that moment: a target that made itself
 * unkillable (all uids root) after the attach is spared.
 */
TEST_F_TIMEOUT(up, target_that_became_unkillable_after_attach_is_spared, 120)
{
	struct late *l = mmap(NULL, sizeof(*l), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int rep[2], ready[2], cmd[2], idx = -1, status;
	struct pollfd pfd;
	pid_t tester;

	ASSERT_NE(MAP_FAILED, l);
	ASSERT_EQ(0, pipe2(rep, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(cmd, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(l->sync, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(l->go, O_CLOEXEC));
	l->keeps = spawn_target(0, NOBODY, 0, 0, rep[1], ready[1]);
	ASSERT_LT(0, l->keeps);
	ASSERT_TRUE(t_sync_wait(ready[0], 30000));
	/* This one drops its real uid for root's when told (euid is 0). */
	tester = fork();	/* not l->drops: l is shared with the child */
	ASSERT_LE(0, tester);
	if (tester == 0) {
		struct sigaction sa = { .sa_handler = on_usr1 };
		int one = 1;

		sigaction(SIGUSR1, &sa, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (syscall(SYS_setresuid, NOBODY, 0, 0))
			_exit(1);
		t_sync_post(ready[1]);
		if (!t_sync_wait(cmd[0], 60000) || syscall(SYS_setresuid, 0, 0, 0))
			_exit(2);
		t_sync_post(ready[1]);
		while (!got_usr1)
			pause();
		if (write(rep[1], &one, sizeof(one)) != sizeof(one))
			_exit(3);
		_exit(0);
	}
	l->drops = tester;
	ASSERT_TRUE(t_sync_wait(ready[0], 30000));

	fflush(stdout);
	tester = fork();
	ASSERT_LE(0, tester);
	if (tester == 0) {
		if (t_drop_to(NOBODY))
			_exit(100);
		_exit(attach_then_cancel_late(l));
	}
	ASSERT_TRUE(t_sync_wait(l->sync[0], 30000));
	ASSERT_TRUE(t_sync_post(cmd[1]));
	ASSERT_TRUE(t_sync_wait(ready[0], 30000));
	ASSERT_TRUE(t_sync_post(l->go[1]));
	status = t_wait_status(tester);
	EXPECT_EQ(0, status);
	EXPECT_EQ(EPERM, l->kill_after);
	pfd.fd = rep[0];
	pfd.events = POLLIN;
	/* The one that stayed killable is signalled, the other one not. */
	EXPECT_EQ(1, poll(&pfd, 1, 10000));
	EXPECT_EQ(sizeof(idx), read(rep[0], &idx, sizeof(idx)));
	EXPECT_EQ(0, idx);
	EXPECT_EQ(0, poll(&pfd, 1, 500));
	EXPECT_TRUE(t_alive(l->drops));
	kill(l->keeps, SIGKILL);
	kill(l->drops, SIGKILL);
	waitpid(l->keeps, NULL, 0);
	waitpid(l->drops, NULL, 0);
	munmap(l, sizeof(*l));
}

TEST_HARNESS_MAIN
