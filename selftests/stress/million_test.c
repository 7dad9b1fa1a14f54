// SPDX-License-Identifier: GPL-2.0
/*
 * Scale: canceling a 1 000 000-node tree completes, wakes every poller and
 * frees every node, with no soft-lockup, RCU-stall, hung-task or workqueue
 * report (tools/vm/run fails the run on any of them; the debug kernel's
 * detectors are the point of this program).
 *
 *  - 1000 chains of 1000 below one root, only the leaves open (a chain pins
 *    its ancestors, so 1 000 000 nodes need 1000 fds), canceled by the
 *    CANCEL ioctl, and again by a deadline (the cancel then runs in a work
 *    item); an epoll waiter on every leaf, and meanwhile a thread blocked
 *    on the tree (a CREATE under the root) and a close of a leaf;
 *  - a genuinely wide tree: 1 000 000 children of one root, every one
 *    open (RLIMIT_NOFILE and fs.nr_open raised, put back afterwards);
 *  - a context with thousands of process attachments is canceled in
 *    bounded time, and what the cancel allocates per attachment does not
 *    grow with the number of processes in the system (an attachment is
 *    charged as one object against max_nodes_per_user);
 *  - while the deadline's work item cancels its million nodes, deadlines
 *    of independent trees armed on the same CPU still fire in time (late
 *    by less than 200 ms plus a quarter of the big walk): a long cancel
 *    must not hold up the other work items of the workqueue.
 *
 * Needs root (max_nodes_per_user is raised to fit, then put back) and
 * memory: about 0.7 GiB for the wide tree on the Debian kernel, some more
 * with KASAN; run the debug kernel with tools/vm/run --mem 8192.
 * Prints the time of every phase. CTXFD_STRESS_SCALE scales the node
 * count (0.1: 100 000 nodes) for quick runs.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#define NR_OPEN_FILE	"/proc/sys/fs/nr_open"

static long long start_nodes = -1, start_nr_open = -1;
static pid_t harness_pid;

static long long read_ll(const char *path)
{
	char buf[64];

	if (t_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtoll(buf, NULL, 10);
}

static void write_ll(const char *path, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld\n", v);
	t_write_file(path, buf);
}

static void restore(void)
{
	if (start_nodes > 0 && t_param_get("max_nodes_per_user") != start_nodes)
		t_param_set("max_nodes_per_user", (unsigned long long)start_nodes);
	if (start_nr_open > 0 && read_ll(NR_OPEN_FILE) != start_nr_open)
		write_ll(NR_OPEN_FILE, start_nr_open);
}

static void __attribute__((constructor)) save(void)
{
	harness_pid = getpid();
	start_nodes = t_param_get("max_nodes_per_user");
	start_nr_open = read_ll(NR_OPEN_FILE);
	t_stress_seed_init();
}

static void __attribute__((destructor)) put_back(void)
{
	if (getpid() == harness_pid)
		restore();
}

/* Nodes of the big trees: 1 000 000, scaled. */
static long million(void)
{
	return t_scaled(1000000, 1000);
}

static double secs(__u64 since)
{
	return t_ms_since(since) / 1000.0;
}

FIXTURE(big) {
	int dev;
	long base;
	long n;		/* nodes below the root */
	int chains;	/* chain shape: chains of n / chains */
	int *fds;	/* the leaves */
	long fds_len;
	int nfds;
	int root;
	int deadline;	/* the deadline node of the timer variant, or -1 */
};

FIXTURE_VARIANT(big) {
	bool by_deadline;
};

FIXTURE_SETUP(big)
{
	ctxfd_require_root();
	self->dev = ctxfd_dev_or_skip();
	self->root = -1;
	self->deadline = -1;
	self->fds = NULL;
	self->nfds = 0;
	/*
	 * The cancel by ioctl always gets its million nodes, even where
	 * CTXFD_STRESS_SCALE shortens the rest (the debug kernel lane): a
	 * 1 000 000-node cancel must pass the kernel's stall detectors.
	 */
	self->n = variant->by_deadline ? million() : 1000000;
	self->chains = self->n >= 1000000 ? 1000 : (int)(self->n / 1000 ? self->n / 1000 : 1);
	self->base = t_charges_available() ? t_settled_charge(0) : -1;
	/* Room for the tree, and for what the rest of the system holds. */
	ASSERT_EQ(0, t_param_set("max_nodes_per_user",
				 (unsigned long long)(self->n + 100000 +
						      (self->base > 0 ? self->base : 0))));
}

FIXTURE_TEARDOWN(big)
{
	int i;

	for (i = 0; i < self->nfds; i++)
		if (self->fds[i] >= 0)
			close(self->fds[i]);
	if (self->fds)
		munmap(self->fds, (size_t)(self->fds_len + 1) * sizeof(int));
	if (self->deadline >= 0)
		close(self->deadline);
	if (self->root >= 0)
		close(self->root);
	close(self->dev);
	restore();
}

static int *fd_array(long n)
{
	int *a = mmap(NULL, (size_t)(n + 1) * sizeof(int), PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return a == MAP_FAILED ? NULL : a;
}

/*
 * @chains chains of @len below @parent; only the leaves stay open (in
 * @leaves). Returns how many nodes were made (all, or fewer if a child
 * came out born done: a deadline fired during the build).
 */
static long build_chains(int parent, int chains, long len, int *leaves,
			 bool *fired)
{
	long made = 0, d;
	int c, leaf, fd;

	*fired = false;
	for (c = 0; c < chains; c++) {
		leaf = parent;
		for (d = 0; d < len; d++) {
			fd = t_child(leaf, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
			if (fd < 0)
				return -1;
			if (leaf != parent)
				close(leaf);
			leaf = fd;
			made++;
		}
		leaves[c] = leaf;
		if (t_err(leaf)) {
			*fired = true;	/* born done: the rest would be too */
			return made;
		}
	}
	return made;
}

/* ---- helpers running next to a big cancel ---------------------------------- */

struct epoll_waiter {
	int ep;
	int want;
	int got;
	__u64 last_ns;
};

static void *collect_events(void *arg)
{
	struct epoll_waiter *w = arg;
	struct epoll_event evs[256];

	while (w->got < w->want) {
		int n = epoll_wait(w->ep, evs, 256, 120000), i;

		if (n <= 0)
			break;
		/* EPOLLONESHOT: each leaf reports once. */
		for (i = 0; i < n; i++)
			w->got++;
		w->last_ns = t_now_ns(CLOCK_MONOTONIC);
	}
	return NULL;
}

struct contender {
	int parent;		/* CREATE under it: waits for the tree lock */
	int leaf;		/* close it: waits for the tree lock too */
	int first;		/* done first: the walk has begun */
	volatile int go;
	double create_ms, close_ms;
	int child_err;
};

static void *contend(void *arg)
{
	struct contender *c = arg;
	__u64 t;
	int fd;

	while (!__atomic_load_n(&c->go, __ATOMIC_ACQUIRE))
		usleep(1000);
	/* The canceler may be slow to begin: wait until it has. */
	t_readable(c->first, 3600 * 1000);
	usleep(20000);	/* well inside the walk, unless it is that quick */
	t = t_now_ns(CLOCK_MONOTONIC);
	fd = t_child(c->parent, 0);
	c->create_ms = t_ms_since(t);
	c->child_err = fd < 0 ? -errno : t_err(fd);
	if (fd >= 0)
		close(fd);
	t = t_now_ns(CLOCK_MONOTONIC);
	close(c->leaf);
	c->close_ms = t_ms_since(t);
	return NULL;
}

/*
 * Deadlines of independent trees, armed on CPU 0 before the big cancel
 * starts there and spread over the time it may take: each should fire
 * on time (its own work item), whatever the big work item is doing.
 */
#define NR_PROBES 200

struct probes {
	int fd[NR_PROBES];
	__s64 at[NR_PROBES];	/* absolute deadline, CLOCK_MONOTONIC ns */
	__s64 fired[NR_PROBES];	/* when seen readable, 0 if not (yet) */
	int ep;
	int busy_fd;		/* readable once the big cancel is over */
	__s64 busy_done;
	int during;		/* probes due while the big cancel ran */
	int before_end;		/* of those, fired before it was over */
	int missing;		/* of those, never fired */
	double worst_ms;
};

static __s64 probe_offset_ns(int k)
{
	/* 10 ms apart over the first second, then 1 s apart: 100 s. */
	return k < 100 ? 10000000LL * (k + 1) : 1000000000LL * (k - 99);
}

static bool probes_arm(struct probes *p, int dev, __s64 from)
{
	int k;

	p->ep = epoll_create1(EPOLL_CLOEXEC);
	if (p->ep < 0)
		return false;
	t_pin_cpu(0);
	for (k = 0; k < NR_PROBES; k++) {
		struct ctxfd_create dl = {
			.flags = CTXFD_CREATE_DEADLINE, .clockid = CLOCK_MONOTONIC,
			.deadline_ns = from + probe_offset_ns(k),
		};
		struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT,
					  .data.u32 = (__u32)k };

		p->at[k] = dl.deadline_ns;
		p->fired[k] = 0;
		p->fd[k] = ioctl(dev, CTXFD_IOC_NEW, &dl);
		if (p->fd[k] < 0 || epoll_ctl(p->ep, EPOLL_CTL_ADD, p->fd[k], &ev))
			return false;
	}
	t_pin_cpu(1);
	return true;
}

/* Collect until the big cancel is over and every probe due by then fired. */
static void *probes_collect(void *arg)
{
	struct probes *p = arg;
	struct epoll_event evs[NR_PROBES];
	__s64 now;
	int n, i, k;

	for (;;) {
		n = epoll_wait(p->ep, evs, NR_PROBES, 100);
		now = (__s64)t_now_ns(CLOCK_MONOTONIC);
		for (i = 0; i < n; i++)
			p->fired[evs[i].data.u32] = now;
		if (!p->busy_done && t_readable(p->busy_fd, 0))
			p->busy_done = now;
		if (!p->busy_done)
			continue;
		for (k = 0; k < NR_PROBES; k++)
			if (p->at[k] <= p->busy_done && !p->fired[k])
				break;
		if (k == NR_PROBES || now - p->busy_done > 600000000000LL)
			break;
	}
	for (k = 0; k < NR_PROBES; k++) {
		double late;

		if (p->at[k] > p->busy_done)
			continue;
		p->during++;
		if (!p->fired[k]) {
			p->missing++;
			continue;
		}
		if (p->fired[k] < p->busy_done)
			p->before_end++;
		late = (double)(p->fired[k] - p->at[k]) / 1e6;
		if (late > p->worst_ms)
			p->worst_ms = late;
	}
	return NULL;
}

static void probes_close(struct probes *p)
{
	int k;

	for (k = 0; k < NR_PROBES; k++)
		if (p->fd[k] >= 0)
			close(p->fd[k]);
	close(p->ep);
}

/* ---- 1000 chains of 1000 ------------------------------------------------------ */

FIXTURE_VARIANT_ADD(big, cancel_ioctl) { .by_deadline = false };
FIXTURE_VARIANT_ADD(big, deadline_work) { .by_deadline = true };

TEST_F_TIMEOUT(big, cancel_of_1000_chains_of_1000_wakes_every_leaf_and_frees_all, 3600)
{
	long len = self->n / self->chains, made;
	struct epoll_waiter ew = { .want = self->chains };
	struct contender ct = { 0 };
	struct probes pr;
	pthread_t tw, tc, tp;
	__u64 t0, t_build, t_start = 0;
	double build_s, cancel_s = 0, wake_s, free_s, per_node_us;
	struct ctxfd_info info;
	int parent, i, left;
	bool fired = false;

	ASSERT_TRUE(t_raise_nofile((rlim_t)self->chains + 1024));
	self->fds = fd_array(self->chains);
	ASSERT_NE(NULL, self->fds);
	self->fds_len = self->chains;
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);
	parent = self->root;

	if (variant->by_deadline) {
		struct ctxfd_create tmo = {
			.flags = CTXFD_CREATE_TIMEOUT,
			.clockid = CLOCK_MONOTONIC,
			.deadline_cause = { .code = 77, .msg = (uintptr_t)"million",
					    .msg_len = 7 },
		};
		int probe[8], made8 = 0;
		double per;

		/*
		 * The deadline must fall after the build: time a sample of
		 * the build first, then allow the estimate and a third.
		 */
		t0 = t_now_ns(CLOCK_MONOTONIC);
		for (i = 0; i < 8; i++) {
			long m = build_chains(self->root, 1, len, &probe[i], &fired);

			ASSERT_EQ(len, m);
			made8++;
		}
		per = t_ms_since(t0) / (8.0 * (double)len);
		for (i = 0; i < made8; i++)
			close(probe[i]);
		tmo.deadline_ns = (__s64)((per * (double)self->n * 1.33 + 10000.0) * 1e6);
		/*
		 * The timer, and so the work item it queues, on CPU 0; the
		 * rest of us (and the threads we start) on CPU 1.
		 */
		t_pin_cpu(0);
		self->deadline = ioctl(self->root, CTXFD_IOC_CREATE, &tmo);
		t_pin_cpu(1);
		ASSERT_LE(0, self->deadline);
		parent = self->deadline;
		TH_LOG("build estimate %.0f s: deadline in %.0f s",
		       per * (double)self->n / 1000.0, (double)tmo.deadline_ns / 1e9);
	}

	t0 = t_now_ns(CLOCK_MONOTONIC);
	made = build_chains(parent, self->chains, len, self->fds, &fired);
	ASSERT_LT(0, made) TH_LOG("build: %s", strerror(errno));
	self->nfds = (int)(made / len) + (made % len ? 1 : 0);
	build_s = secs(t0);
	t_build = t_now_ns(CLOCK_MONOTONIC);
	if (fired)
		TH_LOG("the deadline fired after %ld of %ld nodes: the rest would be born done",
		       made, self->n);

	/* An epoll waiter on every leaf but the one closed meanwhile. */
	ew.ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ew.ep);
	ew.want = self->nfds - 1;
	for (i = 0; i < self->nfds - 1; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT,
					  .data.u32 = (__u32)i };

		ASSERT_EQ(0, epoll_ctl(ew.ep, EPOLL_CTL_ADD, self->fds[i], &ev));
	}
	ASSERT_EQ(0, pthread_create(&tw, NULL, collect_events, &ew));
	/* Someone waiting for the tree lock, someone closing a leaf. */
	ct.parent = parent;
	ct.leaf = self->fds[self->nfds - 1];
	ct.first = self->fds[0];
	self->fds[self->nfds - 1] = -1;
	ASSERT_EQ(0, pthread_create(&tc, NULL, contend, &ct));

	if (variant->by_deadline) {
		memset(&pr, 0, sizeof(pr));
		pr.busy_fd = self->deadline;
		ASSERT_EQ(0, t_info(self->deadline, &info));
		ASSERT_TRUE(probes_arm(&pr, self->dev, info.deadline_ns))
			TH_LOG("probes: %s", strerror(errno));
		ASSERT_EQ(0, pthread_create(&tp, NULL, probes_collect, &pr));
		/* The walk has started once the first leaf is done. */
		ASSERT_TRUE(t_readable(self->fds[0], 3600 * 1000));
		t_start = t_now_ns(CLOCK_MONOTONIC);
		__atomic_store_n(&ct.go, 1, __ATOMIC_RELEASE);
		ASSERT_TRUE(t_readable(self->deadline, 3600 * 1000));
		cancel_s = secs(t_start);
	} else {
		__atomic_store_n(&ct.go, 1, __ATOMIC_RELEASE);
		t_start = t_now_ns(CLOCK_MONOTONIC);
		ASSERT_EQ(0, t_cancel(self->root, 99, "a million"));
		cancel_s = secs(t_start);
	}
	per_node_us = cancel_s * 1e6 / (double)made;

	/* Every leaf is done, with the cause, and every poller woken. */
	for (i = 0; i < self->nfds - 1; i++) {
		ASSERT_EQ(0, t_info(self->fds[i], &info));
		ASSERT_EQ(variant->by_deadline ? ETIMEDOUT : ECANCELED, info.err)
			TH_LOG("leaf %d", i);
		ASSERT_EQ(variant->by_deadline ? 77 : 99, info.cause_code);
	}
	ASSERT_EQ(0, pthread_join(tw, NULL));
	wake_s = ew.last_ns > t_start ? (double)(ew.last_ns - t_start) / 1e9 : 0;
	EXPECT_EQ(ew.want, ew.got) TH_LOG("pollers woken");
	ASSERT_EQ(0, pthread_join(tc, NULL));
	EXPECT_EQ(variant->by_deadline ? ETIMEDOUT : ECANCELED, ct.child_err)
		TH_LOG("a child created during the cancel");
	if (variant->by_deadline) {
		ASSERT_EQ(0, pthread_join(tp, NULL));
		probes_close(&pr);
	}
	EXPECT_EQ(0, t_nr_children(parent));

	/* Close the leaves: every chain goes. */
	(void)t_build;
	t0 = t_now_ns(CLOCK_MONOTONIC);
	for (i = 0; i < self->nfds; i++) {
		if (self->fds[i] >= 0)
			close(self->fds[i]);
		self->fds[i] = -1;
	}
	if (self->deadline >= 0)
		close(self->deadline);
	self->deadline = -1;
	close(self->root);
	self->root = -1;
	close(ew.ep);
	left = self->base >= 0 ? (int)(t_wait_charged(0, self->base, 120000) - self->base) : 0;
	free_s = secs(t0);

	printf("# million: %ld nodes in %d chains: build %.1f s, %s %.2f s (%.2f us/node), all %d pollers woken after %.2f s, frees %.1f s\n",
	       made, self->nfds, build_s,
	       variant->by_deadline ? "deadline work item" : "CANCEL ioctl", cancel_s,
	       per_node_us, ew.got, wake_s, free_s);
	printf("# million: a CREATE under the tree waited %.0f ms for its lock, a leaf's close %.0f ms\n",
	       ct.create_ms, ct.close_ms);
	if (variant->by_deadline)
		printf("# million: %d deadlines of independent trees due on CPU 0 while the work item ran: worst %.0f ms late\n",
		       pr.during, pr.worst_ms);
	EXPECT_EQ(0, left) TH_LOG("%d objects still charged", left);
	/*
	 * No time bound (lateness is for `make bench`), only order: deadlines
	 * of independent trees do not queue behind the big work item. Those
	 * due while it ran all fire, and unless it was over within a few
	 * probes, some of them before it is over.
	 */
	if (variant->by_deadline) {
		EXPECT_EQ(0, pr.missing)
			TH_LOG("%d deadlines of independent trees never fired", pr.missing);
		if (pr.during >= 20)
			EXPECT_LT(0, pr.before_end)
				TH_LOG("none of the %d deadlines due during the big cancel fired before it was over: they waited behind it",
				       pr.during);
	}
}

/* ---- 1 000 000 children of one root ------------------------------------------- */

FIXTURE(wide) {
	int dev;
	long base;
	long n;
	int *fds;
	long nfds;
	int root;
};

FIXTURE_SETUP(wide)
{
	ctxfd_require_root();
	self->dev = ctxfd_dev_or_skip();
	self->root = -1;
	self->fds = NULL;
	self->nfds = 0;
	self->n = million();
	self->base = t_charges_available() ? t_settled_charge(0) : -1;
	ASSERT_EQ(0, t_param_set("max_nodes_per_user",
				 (unsigned long long)(self->n + 100000 +
						      (self->base > 0 ? self->base : 0))));
}

FIXTURE_TEARDOWN(wide)
{
	long i;

	for (i = 0; i < self->nfds; i++)
		if (self->fds[i] >= 0)
			close(self->fds[i]);
	if (self->fds)
		munmap(self->fds, (size_t)(self->n + 1) * sizeof(int));
	if (self->root >= 0)
		close(self->root);
	close(self->dev);
	restore();
}

TEST_F_TIMEOUT(wide, cancel_of_1000000_children_of_one_root, 3600)
{
	long i, made = 0;
	__u64 t0;
	double build_s, cancel_s, free_s;
	int left;

	if (start_nr_open > 0 && start_nr_open < self->n + 1024)
		write_ll(NR_OPEN_FILE, self->n + 4096);
	ASSERT_TRUE(t_raise_nofile((rlim_t)self->n + 1024))
		TH_LOG("RLIMIT_NOFILE %ld (fs.nr_open %lld)", self->n + 1024,
		       read_ll(NR_OPEN_FILE));
	self->fds = fd_array(self->n);
	ASSERT_NE(NULL, self->fds);
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);

	t0 = t_now_ns(CLOCK_MONOTONIC);
	for (i = 0; i < self->n; i++) {
		self->fds[i] = t_child(self->root, 0);
		ASSERT_LE(0, self->fds[i]) TH_LOG("child %ld: %s", i, strerror(errno));
		self->nfds++;
		made++;
	}
	build_s = secs(t0);
	ASSERT_EQ(self->n, t_nr_children(self->root));

	t0 = t_now_ns(CLOCK_MONOTONIC);
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	cancel_s = secs(t0);
	EXPECT_EQ(0, t_nr_children(self->root));
	for (i = 0; i < self->n; i += 997) {
		ASSERT_EQ(ECANCELED, t_err(self->fds[i])) TH_LOG("child %ld", i);
		ASSERT_TRUE(t_readable(self->fds[i], 0));
	}
	ASSERT_EQ(ECANCELED, t_err(self->fds[self->n - 1]));
	ASSERT_TRUE(t_readable(self->fds[self->n - 1], 0));

	t0 = t_now_ns(CLOCK_MONOTONIC);
	for (i = 0; i < self->nfds; i++) {
		close(self->fds[i]);
		self->fds[i] = -1;
	}
	close(self->root);
	self->root = -1;
	left = self->base >= 0 ? (int)(t_wait_charged(0, self->base, 120000) - self->base) : 0;
	free_s = secs(t0);
	printf("# million: %ld children of one root, every one open: build %.1f s, CANCEL ioctl %.2f s (%.2f us/node), closes %.1f s\n",
	       made, build_s, cancel_s, cancel_s * 1e6 / (double)made, free_s);
	EXPECT_EQ(0, left) TH_LOG("%d objects still charged", left);
}

/* ---- thousands of attachments ------------------------------------------------- */

FIXTURE(many) {
	int dev;
	pid_t *idle;		/* extra processes, to make the system bigger */
	int nidle;
	pid_t sleeper;
};

FIXTURE_VARIANT(many) {
	__u64 flags;
};

FIXTURE_VARIANT_ADD(many, process) { .flags = 0 };
FIXTURE_VARIANT_ADD(many, descendants) { .flags = CTXFD_ATTACH_DESCENDANTS };

FIXTURE_SETUP(many)
{
	ctxfd_require_root();
	self->dev = ctxfd_dev_or_skip();
	self->idle = NULL;
	self->nidle = 0;
	self->sleeper = 0;
}

FIXTURE_TEARDOWN(many)
{
	int i;

	for (i = 0; i < self->nidle; i++)
		kill(self->idle[i], SIGKILL);
	for (i = 0; i < self->nidle; i++)
		waitpid(self->idle[i], NULL, 0);
	free(self->idle);
	if (self->sleeper > 0) {
		kill(self->sleeper, SIGKILL);
		waitpid(self->sleeper, NULL, 0);
	}
	close(self->dev);
}

/* A process that pauses forever, dying with its parent. */
static pid_t idle_process(void)
{
	pid_t p = fork();

	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	return p;
}

/* A process that ignores SIGWINCH (and has a child), and its pidfd. */
static pid_t winch_sleeper(int *pidfd)
{
	pid_t p = fork();

	if (p == 0) {
		signal(SIGWINCH, SIG_IGN);
		idle_process();	/* a child, for the descendants walks */
		for (;;)
			pause();
	}
	*pidfd = p > 0 ? t_pidfd_open(p) : -1;
	return p;
}

/* Wait until @fd's teardown report says @n attachments fired. */
static bool wait_fired(int fd, unsigned int n, int ms)
{
	struct ctxfd_info info;

	for (; ms > 0; ms -= 10) {
		if (t_info(fd, &info))
			return false;
		if (info.td_fired >= n)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * A context with 5000 attachments of one process is canceled twice: with
 * the system as it is, and with 1000 more (idle) processes. Every
 * attachment fires (the target ignores the signal and lives on, so the
 * context is not drained and its attachments stay, charged), and once
 * the process exits every attachment is freed: the charges return to
 * the baseline. The time of each phase is printed for the reader;
 * whether it grows with the number of processes is a performance
 * question for `make bench`, not an assertion here.
 */
TEST_F_TIMEOUT(many, cancel_with_5000_attachments_fires_and_frees_each_with_or_without_1000_more_processes, 3600)
{
	const int n = (int)t_scaled(5000, 100), sizes[2] = { 0, 1000 };
	long base = t_charges_available() ? t_settled_charge(0) : -1;
	struct ctxfd_info info;
	double took, fired;
	int k, i, fd, pidfd;
	__u64 t0;

	self->idle = calloc((size_t)sizes[1], sizeof(pid_t));
	ASSERT_NE(NULL, self->idle);
	for (k = 0; k < 2; k++) {
		while (self->nidle < sizes[k]) {
			self->idle[self->nidle] = idle_process();
			ASSERT_LT(0, self->idle[self->nidle]);
			self->nidle++;
		}
		self->sleeper = winch_sleeper(&pidfd);
		ASSERT_LT(0, self->sleeper);
		ASSERT_LE(0, pidfd);
		fd = t_new(self->dev, 0);
		ASSERT_LE(0, fd);
		t0 = t_now_ns(CLOCK_MONOTONIC);
		for (i = 0; i < n; i++)
			ASSERT_EQ(0, t_attach_pidfd(fd, self->sleeper, pidfd, SIGWINCH,
						    0, variant->flags))
				TH_LOG("attachment %d: %s", i, strerror(errno));
		printf("# million: %d attachments%s, %d more processes: attach %.1f s, ",
		       n, variant->flags ? " with descendants" : "", sizes[k], secs(t0));
		t0 = t_now_ns(CLOCK_MONOTONIC);
		ASSERT_EQ(0, t_cancel(fd, 0, NULL));
		took = secs(t0);
		t0 = t_now_ns(CLOCK_MONOTONIC);
		/* The fire work items signal it, n times: it lives on. */
		EXPECT_TRUE(wait_fired(fd, (unsigned int)n, 600000));
		fired = secs(t0);
		EXPECT_TRUE(t_alive(self->sleeper));
		ASSERT_EQ(0, t_info(fd, &info));
		EXPECT_FALSE(info.flags & CTXFD_INFO_DRAINED);
		/* It exits: every attachment lets go. */
		t0 = t_now_ns(CLOCK_MONOTONIC);
		kill(self->sleeper, SIGKILL);
		waitpid(self->sleeper, NULL, 0);
		self->sleeper = 0;
		close(pidfd);
		close(fd);
		if (base >= 0)
			EXPECT_EQ(base, t_wait_charged(0, base, 600000));
		printf("CANCEL ioctl %.2f s, fire work %.1f s, freed %.1f s after the exit\n",
		       took, fired, secs(t0));
		fflush(stdout);
	}
}

TEST_HARNESS_MAIN
