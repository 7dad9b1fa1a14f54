// SPDX-License-Identifier: GPL-2.0
/*
 * Limits, hit on purpose: every one gives its documented errno, leaves
 * nothing behind (fds, children, per-user charges in debugfs), and never
 * lets one user's limit touch another user or another process.
 *
 *  - the per-user node cap (max_nodes_per_user, ENOSPC): one unprivileged
 *    user at its cap leaves another one its whole allowance; nodes stay
 *    charged to their creator when their fds move to another user;
 *    attachments count against it;
 *  - the depth cap (max_depth, ELOOP) across processes and WithoutCancel
 *    nodes, and lowered below the depth of live nodes;
 *  - key and value caps (max_key_len, max_value_len, E2BIG) at their exact
 *    boundaries, the bounds of the parameters themselves, a 1 MiB value,
 *    and bindings made before a cap was lowered;
 *  - RLIMIT_NOFILE (EMFILE) for every kind of creation, as root and as an
 *    unprivileged user, and an SCM_RIGHTS transfer dropped at the limit;
 *  - a small memory cgroup limit: context fds behave like every other
 *    anon-inode fd there: ENOMEM from ctxfd's own allocations, or the
 *    group's own OOM killer when the VFS's charge for the file meets the
 *    limit; a process outside the group always survives;
 *  - what one user pins in kernel memory at the default node cap, measured
 *    through a memory cgroup, against the share of RAM the default is
 *    sized for (4%, like epoll's max_user_watches).
 *
 * Root only (module parameters, debugfs, cgroups, setuid). Every module
 * parameter is put back in the teardown and, should a test be killed by
 * its timeout, when the program exits.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#define NOBODY		65534
#define OTHER		65533	/* a second unprivileged user */

/* ---- module parameters: saved at start, restored at exit ----------------- */

static const char *const params[] = {
	"max_nodes_per_user", "max_depth", "max_key_len", "max_value_len",
};
#define NPARAMS (sizeof(params) / sizeof(params[0]))
static long long start_params[NPARAMS];
static pid_t harness_pid;

static void params_restore_all(void)
{
	size_t i;

	for (i = 0; i < NPARAMS; i++)
		if (start_params[i] >= 0 &&
		    t_param_get(params[i]) != start_params[i])
			t_param_set(params[i],
				    (unsigned long long)start_params[i]);
}

static void __attribute__((constructor)) params_save(void)
{
	size_t i;

	harness_pid = getpid();
	for (i = 0; i < NPARAMS; i++)
		start_params[i] = t_param_get(params[i]);
}

static void __attribute__((destructor)) params_restore(void)
{
	if (getpid() == harness_pid)
		params_restore_all();
}

static long long start_param(const char *name)
{
	size_t i;

	for (i = 0; i < NPARAMS; i++)
		if (!strcmp(params[i], name))
			return start_params[i];
	return -1;
}

FIXTURE(lim) {
	int dev;
};

FIXTURE_SETUP(lim)
{
	ctxfd_require_root();
	self->dev = ctxfd_dev_or_skip();
	if (!t_charges_available())
		CTXFD_SKIP("no %s (debugfs)", T_USERS_FILE);
}

FIXTURE_TEARDOWN(lim)
{
	params_restore_all();
	close(self->dev);
}

/* ---- small tools ----------------------------------------------------------- */

/* Write a small int on a pipe / read one (with a timeout); false on failure. */
static bool put_int(int fd, long v)
{
	return write(fd, &v, sizeof(v)) == sizeof(v);
}

static bool get_int(int fd, long *v, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (poll(&pfd, 1, timeout_ms) != 1)
		return false;
	return read(fd, v, sizeof(*v)) == sizeof(*v);
}

/*
 * A chain of @n nodes below @parent, of which only the last is kept open:
 * the others are NO_CANCEL_ON_CLOSE, pinned by their child. Returns the
 * leaf (its fd), or -1 with errno and the number made in *made.
 */
static int chain(int parent, int n, int *made)
{
	int leaf = parent, i, fd;

	*made = 0;
	for (i = 0; i < n; i++) {
		fd = t_child(leaf, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
		if (fd < 0) {
			int err = errno;

			if (leaf != parent)
				close(leaf);
			errno = err;
			return -1;
		}
		if (leaf != parent)
			close(leaf);
		leaf = fd;
		(*made)++;
	}
	return leaf;
}

/* ---- per-user node cap across users ----------------------------------------- */

struct two_users {
	int cap;
	int a_to_parent[2];	/* A: "at the cap" */
	int parent_to_a[2];	/* parent: "let go" */
	int sock[2];		/* A -> B: a watch fd of A's root */
	int b_to_parent[2];
	int parent_to_b[2];
};

/* User A: fill the cap with a chain, hand a watch fd to B, hold on. */
static int user_a_fills_cap(void *arg)
{
	struct two_users *t = arg;
	int dev, root, leaf, made, w, fd;
	long v;

	dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	T_FAIL_IF(dev < 0, 1, "open");
	root = t_new(dev, 0);
	T_FAIL_IF(root < 0, 2, "NEW");
	leaf = chain(root, t->cap + 8, &made);
	T_FAIL_IF(leaf >= 0 || errno != ENOSPC, 3,
		  "chain of %d under a cap of %d did not end in ENOSPC", made,
		  t->cap);
	T_FAIL_IF(made != t->cap - 1, 4, "%d nodes + root under a cap of %d",
		  made, t->cap);
	/* That leaf is gone again (the failed chain closed it): rebuild. */
	leaf = chain(root, t->cap - 1, &made);
	T_FAIL_IF(leaf < 0, 5, "rebuilding the chain: %d made", made);
	errno = 0;
	fd = t_new(dev, 0);
	T_FAIL_IF(fd != -1 || errno != ENOSPC, 6, "NEW at the cap");
	w = t_watch(root, 0);
	T_FAIL_IF(w < 0, 7, "WATCH at the cap (no new node)");
	T_FAIL_IF(t_send_fd(t->sock[0], w), 8, "send");
	close(w);
	T_FAIL_IF(!put_int(t->a_to_parent[1], t->cap), 9, "sync");
	T_FAIL_IF(!get_int(t->parent_to_a[0], &v, 60000), 10, "sync");
	/* Still at the cap after B filled its own allowance under our root. */
	errno = 0;
	fd = t_child(leaf, 0);
	T_FAIL_IF(fd != -1 || errno != ENOSPC, 11, "A's cap moved");
	close(leaf);
	close(root);
	close(dev);
	return 0;
}

/* User B: a whole allowance of its own, under A's tree and of its own. */
static int user_b_has_its_own_cap(void *arg)
{
	struct two_users *t = arg;
	int *fds = calloc((size_t)t->cap + 1, sizeof(int));
	int dev, w, n = 0, fd;
	long v;

	T_FAIL_IF(!fds, 1, "calloc");
	dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	T_FAIL_IF(dev < 0, 2, "open");
	w = t_recv_fd(t->sock[1]);
	T_FAIL_IF(w < 0, 3, "recv");
	/* Half under A's root (charged to B, the creator), half our own. */
	while (n < t->cap / 2) {
		fd = t_child(w, 0);
		T_FAIL_IF(fd < 0, 4, "child %d of A's root", n + 1);
		fds[n++] = fd;
	}
	while (n < t->cap) {
		fd = t_new(dev, 0);
		T_FAIL_IF(fd < 0, 5, "root %d", n + 1);
		fds[n++] = fd;
	}
	errno = 0;
	fd = t_child(w, 0);
	T_FAIL_IF(fd != -1 || errno != ENOSPC, 6, "B beyond its cap");
	T_FAIL_IF(!put_int(t->b_to_parent[1], n), 7, "sync");
	T_FAIL_IF(!get_int(t->parent_to_b[0], &v, 60000), 8, "sync");
	while (n > 0)
		close(fds[--n]);
	close(w);
	close(dev);
	free(fds);
	return 0;
}

static pid_t fork_as(uid_t uid, int (*fn)(void *), void *arg)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		if (t_drop_to(uid))
			_exit(100);
		_exit(fn(arg));
	}
	return pid;
}

TEST_F_TIMEOUT(lim, node_cap_of_one_unprivileged_user_leaves_another_user_untouched, 300)
{
	struct two_users t = { .cap = 32 };
	long base_a = t_charged(NOBODY), base_b = t_charged(OTHER);
	long base_root = t_charged(0), v;
	pid_t a, b;
	int i, mine[8];

	ASSERT_EQ(0, pipe2(t.a_to_parent, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(t.parent_to_a, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(t.b_to_parent, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(t.parent_to_b, O_CLOEXEC));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, t.sock));
	ASSERT_EQ(0, t_param_set("max_nodes_per_user", (unsigned)t.cap));

	a = fork_as(NOBODY, user_a_fills_cap, &t);
	ASSERT_LE(0, a);
	ASSERT_TRUE(get_int(t.a_to_parent[0], &v, 60000))
		TH_LOG("user A never reached its cap (exit %d)", t_wait_status(a));
	EXPECT_EQ(base_a + t.cap, t_charged(NOBODY));

	b = fork_as(OTHER, user_b_has_its_own_cap, &t);
	ASSERT_LE(0, b);
	EXPECT_TRUE(get_int(t.b_to_parent[0], &v, 60000))
		TH_LOG("user B never filled its allowance");
	EXPECT_EQ(t.cap, v);
	/* B's nodes under A's root are B's: A stays exactly at its cap. */
	EXPECT_EQ(base_a + t.cap, t_charged(NOBODY));
	EXPECT_EQ(base_b + t.cap, t_charged(OTHER));
	/* And root is untouched by both. */
	for (i = 0; i < 8; i++) {
		mine[i] = t_new(self->dev, 0);
		EXPECT_LE(0, mine[i]) TH_LOG("root's node %d: %s", i, strerror(errno));
	}
	for (i = 0; i < 8; i++)
		if (mine[i] >= 0)
			close(mine[i]);

	EXPECT_TRUE(put_int(t.parent_to_b[1], 0));
	EXPECT_EQ(0, t_wait_status(b)) TH_LOG("user B failed (step above)");
	EXPECT_TRUE(put_int(t.parent_to_a[1], 0));
	EXPECT_EQ(0, t_wait_status(a)) TH_LOG("user A failed (step above)");
	EXPECT_EQ(base_a, t_wait_charged(NOBODY, base_a, 10000));
	EXPECT_EQ(base_b, t_wait_charged(OTHER, base_b, 10000));
	EXPECT_EQ(base_root, t_wait_charged(0, base_root, 10000));
}

struct keeper {
	int cap;
	int sock[2];
	int sync[2];	/* keeper -> parent */
	int go[2];	/* parent -> keeper */
};

/* A chain of @cap nodes whose leaf is handed over, then exit. */
static int make_chain_and_hand_it_over(void *arg)
{
	struct keeper *k = arg;
	int dev, root, leaf, made;

	dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	T_FAIL_IF(dev < 0, 1, "open");
	root = t_new(dev, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
	T_FAIL_IF(root < 0, 2, "NEW");
	leaf = chain(root, k->cap - 1, &made);
	T_FAIL_IF(leaf < 0, 3, "chain: %d of %d", made, k->cap - 1);
	T_FAIL_IF(t_send_fd(k->sock[0], leaf), 4, "send");
	return 0;	/* exit closes everything but what is in flight */
}

static int expect_new_enospc(void *arg)
{
	int dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC), fd;

	(void)arg;
	T_FAIL_IF(dev < 0, 1, "open");
	errno = 0;
	fd = t_new(dev, 0);
	T_FAIL_IF(fd != -1 || errno != ENOSPC, 2,
		  "NEW while another user holds all our nodes");
	return 0;
}

static int expect_cap_free(void *arg)
{
	struct keeper *k = arg;
	int dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC), root, leaf, made;

	T_FAIL_IF(dev < 0, 1, "open");
	root = t_new(dev, 0);
	T_FAIL_IF(root < 0, 2, "NEW once the other user let go");
	leaf = chain(root, k->cap - 1, &made);
	T_FAIL_IF(leaf < 0, 3, "the whole allowance is back: %d of %d", made,
		  k->cap - 1);
	close(leaf);
	close(root);
	return 0;
}

static int hold_received_leaf(void *arg)
{
	struct keeper *k = arg;
	int leaf = t_recv_fd(k->sock[1]);
	long v;

	T_FAIL_IF(leaf < 0, 1, "recv");
	T_FAIL_IF(!put_int(k->sync[1], 1), 2, "sync");
	T_FAIL_IF(!get_int(k->go[0], &v, 60000), 3, "sync");
	T_FAIL_IF(t_err(leaf) != 0, 4, "the leaf was canceled");
	close(leaf);
	return 0;
}

TEST_F_TIMEOUT(lim, nodes_stay_charged_to_their_creator_after_their_fds_move_to_another_user, 300)
{
	struct keeper k = { .cap = 24 };
	long base_a = t_charged(NOBODY), base_b = t_charged(OTHER), v;
	pid_t holder;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, k.sock));
	ASSERT_EQ(0, pipe2(k.sync, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(k.go, O_CLOEXEC));
	ASSERT_EQ(0, t_param_set("max_nodes_per_user", (unsigned)k.cap));

	holder = fork_as(OTHER, hold_received_leaf, &k);
	ASSERT_LE(0, holder);
	/* A makes the chain, sends the leaf and exits. */
	ASSERT_EQ(0, t_run_as(NOBODY, make_chain_and_hand_it_over, &k));
	ASSERT_TRUE(get_int(k.sync[0], &v, 60000));
	/* Nothing of A's runs any more, yet A's nodes are A's. */
	EXPECT_EQ(base_a + k.cap, t_charged(NOBODY));
	EXPECT_EQ(base_b, t_charged(OTHER));
	EXPECT_EQ(0, t_run_as(NOBODY, expect_new_enospc, &k));
	/* B lets go: the chain goes, and A's allowance with it. */
	EXPECT_TRUE(put_int(k.go[1], 1));
	EXPECT_EQ(0, t_wait_status(holder));
	EXPECT_EQ(base_a, t_wait_charged(NOBODY, base_a, 10000));
	EXPECT_EQ(0, t_run_as(NOBODY, expect_cap_free, &k));
	EXPECT_EQ(base_a, t_wait_charged(NOBODY, base_a, 10000));
}

struct attach_cap {
	int cap;
};

static int attachments_count_against_cap(void *arg)
{
	struct attach_cap *c = arg;
	int dev, root, leaf, made, fd, pidfd;
	pid_t victim;

	dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	T_FAIL_IF(dev < 0, 1, "open");
	root = t_new(dev, 0);
	T_FAIL_IF(root < 0, 2, "NEW");
	/* cap - 2 nodes: room for exactly one attachment. */
	leaf = chain(root, c->cap - 2, &made);
	T_FAIL_IF(leaf < 0, 3, "chain");
	victim = fork();
	T_FAIL_IF(victim < 0, 4, "fork");
	if (victim == 0) {
		for (;;)
			pause();
	}
	pidfd = t_pidfd_open(victim);
	T_FAIL_IF(pidfd < 0, 5, "pidfd_open");
	T_FAIL_IF(t_attach_pidfd(leaf, victim, pidfd, SIGTERM, 0, 0), 6,
		  "the attachment that fits");
	errno = 0;
	T_FAIL_IF(t_attach_pidfd(leaf, victim, pidfd, SIGTERM, 0, 0) != -1 ||
		  errno != ENOSPC, 7, "an attachment beyond the cap");
	errno = 0;
	fd = t_child(leaf, 0);
	T_FAIL_IF(fd != -1 || errno != ENOSPC, 8,
		  "a node beyond the cap (attachments count)");
	T_FAIL_IF(t_nr_attached(leaf) != 1, 9, "nr_attached %d",
		  t_nr_attached(leaf));
	/* The process exits: its attachment ends, and frees its charge. */
	kill(victim, SIGKILL);
	T_FAIL_IF(t_wait_status(victim) != 128 + SIGKILL, 10, "victim");
	T_FAIL_IF(!t_wait_nr_attached(leaf, 0, 10000), 11, "still attached");
	for (made = 0; made < 200; made++) {
		fd = t_child(leaf, 0);
		if (fd >= 0)
			break;
		usleep(10000);
	}
	T_FAIL_IF(fd < 0, 12, "the attachment's charge never came back");
	close(fd);
	close(pidfd);
	close(leaf);
	close(root);
	close(dev);
	return 0;
}

TEST_F_TIMEOUT(lim, attachments_count_against_the_node_cap, 120)
{
	struct attach_cap c = { .cap = 10 };
	long base = t_charged(NOBODY);

	ASSERT_EQ(0, t_param_set("max_nodes_per_user", (unsigned)c.cap));
	EXPECT_EQ(0, t_run_as(NOBODY, attachments_count_against_cap, &c));
	EXPECT_EQ(base, t_wait_charged(NOBODY, base, 10000));
}

/* ---- depth cap ------------------------------------------------------------------ */

struct depth_args {
	int max;
	int sock[2];
};

/* The second half of a chain, in another process, as another user. */
static int continue_chain_to_the_cap(void *arg)
{
	struct depth_args *d = arg;
	struct ctxfd_create wc = { .flags = CTXFD_CREATE_WITHOUT_CANCEL };
	struct ctxfd_info info;
	int leaf = t_recv_fd(d->sock[1]), fd, made;

	T_FAIL_IF(leaf < 0, 1, "recv");
	T_FAIL_IF(t_info(leaf, &info), 2, "INFO");
	T_FAIL_IF(info.depth != (unsigned)d->max / 2, 3, "received depth %u",
		  info.depth);
	/* A WithoutCancel node starts a new tree, not a new depth count. */
	fd = ioctl(leaf, CTXFD_IOC_CREATE, &wc);
	T_FAIL_IF(fd < 0, 4, "WithoutCancel");
	T_FAIL_IF(t_info(fd, &info) || info.depth != (unsigned)d->max / 2 + 1, 5,
		  "WithoutCancel depth %u", info.depth);
	close(leaf);
	leaf = fd;
	fd = chain(leaf, d->max - d->max / 2 - 1, &made);
	T_FAIL_IF(fd < 0, 6, "chain to max_depth: %d made", made);
	close(leaf);
	leaf = fd;
	T_FAIL_IF(t_info(leaf, &info) || info.depth != (unsigned)d->max, 7,
		  "leaf depth %u", info.depth);
	errno = 0;
	fd = t_child(leaf, 0);
	T_FAIL_IF(fd != -1 || errno != ELOOP, 8, "child beyond max_depth");
	errno = 0;
	fd = ioctl(leaf, CTXFD_IOC_CREATE, &wc);
	T_FAIL_IF(fd != -1 || errno != ELOOP, 9,
		  "WithoutCancel beyond max_depth");
	close(leaf);
	return 0;
}

TEST_F_TIMEOUT(lim, depth_cap_holds_across_processes_users_and_without_cancel_nodes, 120)
{
	struct depth_args d = { .max = 24 };
	long base = t_charged(0), base_b = t_charged(NOBODY);
	int root, leaf, made;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, d.sock));
	ASSERT_EQ(0, t_param_set("max_depth", (unsigned)d.max));
	root = t_new(self->dev, 0);
	ASSERT_LE(0, root);
	leaf = chain(root, d.max / 2, &made);
	ASSERT_LE(0, leaf);
	pid = fork_as(NOBODY, continue_chain_to_the_cap, &d);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, t_send_fd(d.sock[0], leaf));
	EXPECT_EQ(0, t_wait_status(pid));
	close(leaf);
	close(root);
	EXPECT_EQ(base, t_wait_charged(0, base, 10000));
	EXPECT_EQ(base_b, t_wait_charged(NOBODY, base_b, 10000));
}

TEST_F_TIMEOUT(lim, lowering_max_depth_below_live_nodes_keeps_them_working, 120)
{
	const int deep = 32, low = 8;
	long base = t_charged(0);
	struct ctxfd_info info;
	int fds[32 + 1], i, fd, w;
	char val[8];
	__u32 len;

	ASSERT_EQ(0, t_param_set("max_depth", deep));
	fds[0] = t_new(self->dev, 0);
	ASSERT_LE(0, fds[0]);
	fds[1] = t_child_value(fds[0], "k", "root", 4);
	ASSERT_LE(0, fds[1]);
	for (i = 2; i <= deep; i++) {
		fds[i] = t_child(fds[i - 1], 0);
		ASSERT_LE(0, fds[i]) TH_LOG("depth %d", i);
	}
	ASSERT_EQ(0, t_param_set("max_depth", low));

	/* Deeper nodes than the cap: everything but new levels still works. */
	ASSERT_EQ(0, t_info(fds[deep], &info));
	EXPECT_EQ((unsigned)deep, info.depth);
	len = sizeof(val);
	EXPECT_EQ(0, t_lookup(fds[deep], "k", val, &len));
	EXPECT_EQ(4, len);
	w = t_watch(fds[deep], 0);
	EXPECT_LE(0, w);
	errno = 0;
	EXPECT_EQ(-1, t_child(fds[deep], 0));
	EXPECT_EQ(ELOOP, errno);
	errno = 0;
	EXPECT_EQ(-1, t_child(fds[low], 0));
	EXPECT_EQ(ELOOP, errno);
	fd = t_child(fds[low - 1], 0);
	EXPECT_LE(0, fd) TH_LOG("a child at exactly the new cap: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(0, t_cancel(fds[deep / 2], 5, "half"));
	EXPECT_EQ(ECANCELED, t_err(fds[deep]));
	EXPECT_TRUE(t_readable(w, 0));
	EXPECT_EQ(0, t_err(fds[deep / 2 - 1]));
	close(w);
	for (i = 0; i <= deep; i++)
		close(fds[i]);
	EXPECT_EQ(base, t_wait_charged(0, base, 10000));
}

/* ---- key and value caps ---------------------------------------------------------- */

static int value_child(int parent, const void *key, __u32 klen,
		       const void *val, __u32 vlen)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_VALUE,
		.key = (uintptr_t)key,
		.key_len = klen,
		.value = vlen ? (uintptr_t)val : 0,
		.value_len = vlen,
	};

	return ioctl(parent, CTXFD_IOC_CREATE, &args);
}

static int lookup(int fd, const void *key, __u32 klen, void *buf, __u32 *len)
{
	struct ctxfd_lookup args = {
		.key = (uintptr_t)key,
		.key_len = klen,
		.value = *len ? (uintptr_t)buf : 0,
		.value_len = *len,
	};
	int ret = ioctl(fd, CTXFD_IOC_LOOKUP, &args);

	*len = args.value_len;
	return ret;
}

TEST_F(lim, key_and_value_caps_hold_at_their_exact_boundaries)
{
	struct ctxfd_create vroot = {
		.flags = CTXFD_CREATE_VALUE, .key_len = 1, .value_len = 17,
	};
	char key[16], val[64], out[64];
	long base = t_charged(0);
	int root, fd, nfds;
	__u32 len;

	memset(key, 'k', sizeof(key));
	memset(val, 'v', sizeof(val));
	ASSERT_EQ(0, t_param_set("max_key_len", 8));
	ASSERT_EQ(0, t_param_set("max_value_len", 16));
	root = t_new(self->dev, 0);
	ASSERT_LE(0, root);
	nfds = t_nr_fds();

	errno = 0;
	EXPECT_EQ(-1, value_child(root, key, 9, val, 1));
	EXPECT_EQ(E2BIG, errno);
	errno = 0;
	EXPECT_EQ(-1, value_child(root, key, 1, val, 17));
	EXPECT_EQ(E2BIG, errno);
	/* A value root goes through the same checks. */
	vroot.key = (uintptr_t)key;
	vroot.value = (uintptr_t)val;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->dev, CTXFD_IOC_NEW, &vroot));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(nfds, t_nr_fds());
	EXPECT_EQ(0, t_nr_children(root));
	EXPECT_EQ(base + 1, t_charged(0));

	fd = value_child(root, key, 8, val, 16);
	ASSERT_LE(0, fd) TH_LOG("key 8 and value 16 at caps 8 and 16: %s",
				strerror(errno));
	len = sizeof(out);
	EXPECT_EQ(0, lookup(fd, key, 8, out, &len));
	EXPECT_EQ(16, len);
	EXPECT_EQ(0, memcmp(out, val, 16));
	len = sizeof(out);
	errno = 0;
	EXPECT_EQ(-1, lookup(fd, key, 9, out, &len));
	EXPECT_EQ(E2BIG, errno);
	close(fd);
	close(root);
	EXPECT_EQ(base, t_wait_charged(0, base, 10000));
}

/*
 * The node cap counts 512-byte units: a binding of 512 bytes or more
 * counts one unit per 512 bytes of the slab object holding it (a 256-byte
 * key and a 4 KiB value: an 8 KiB object, 16 units more), so values
 * cannot pin more memory than plain contexts under the same cap.
 */
TEST_F(lim, large_value_bindings_count_per_512_bytes_against_the_node_cap)
{
	static char key[256], val[4096];
	long base = t_charged(0);
	int root, small, big, nfds;

	memset(key, 'k', sizeof(key));
	memset(val, 'v', sizeof(val));
	root = t_new(self->dev, 0);
	ASSERT_LE(0, root);
	small = value_child(root, key, 8, val, 16);
	ASSERT_LE(0, small);
	EXPECT_EQ(base + 2, t_charged(0)) TH_LOG("a small binding is free");
	big = value_child(root, key, sizeof(key), val, sizeof(val));
	ASSERT_LE(0, big);
	EXPECT_EQ(base + 2 + 17, t_charged(0));
	close(big);
	EXPECT_EQ(base + 2, t_wait_charged(0, base + 2, 10000));

	/* Room for 16 more units, not 17: ENOSPC, nothing left behind. */
	ASSERT_EQ(0, t_param_set("max_nodes_per_user",
				 (unsigned long long)(base + 2 + 16)));
	nfds = t_nr_fds();
	errno = 0;
	EXPECT_EQ(-1, value_child(root, key, sizeof(key), val, sizeof(val)));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(nfds, t_nr_fds());
	EXPECT_EQ(1, t_nr_children(root));
	EXPECT_EQ(base + 2, t_charged(0));
	/* With room for 17 it fits. */
	ASSERT_EQ(0, t_param_set("max_nodes_per_user",
				 (unsigned long long)(base + 2 + 17)));
	big = value_child(root, key, sizeof(key), val, sizeof(val));
	EXPECT_LE(0, big);
	close(big);
	close(small);
	close(root);
	EXPECT_EQ(base, t_wait_charged(0, base, 10000));
}

TEST_F(lim, cap_parameters_refuse_values_out_of_their_bounds)
{
	errno = 0;
	EXPECT_EQ(-1, t_param_set("max_key_len", 0));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, t_param_set("max_key_len", 4097));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, t_param_set("max_key_len", 4096));
	EXPECT_EQ(4096, t_param_get("max_key_len"));
	errno = 0;
	EXPECT_EQ(-1, t_param_set("max_value_len", (1u << 20) + 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, t_param_set("max_value_len", 1u << 20));
	EXPECT_EQ(1u << 20, t_param_get("max_value_len"));
	EXPECT_EQ(0, t_param_set("max_value_len", 0));
	EXPECT_EQ(0, t_param_get("max_value_len"));
	errno = 0;
	EXPECT_EQ(-1, t_param_set("max_nodes_per_user", 0));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, t_param_set("max_depth", 0));
	EXPECT_EQ(EINVAL, errno);
	/* Garbage is refused too, and changes nothing. */
	errno = 0;
	EXPECT_EQ(-1, t_write_file(T_PARAM_DIR "max_key_len", "many\n"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(4096, t_param_get("max_key_len"));
}

TEST_F(lim, max_value_len_zero_allows_only_empty_values)
{
	int root = t_new(self->dev, 0), fd;
	char buf[4];
	__u32 len = sizeof(buf);

	ASSERT_LE(0, root);
	ASSERT_EQ(0, t_param_set("max_value_len", 0));
	errno = 0;
	EXPECT_EQ(-1, t_child_value(root, "k", "v", 1));
	EXPECT_EQ(E2BIG, errno);
	fd = t_child_value(root, "k", NULL, 0);
	ASSERT_LE(0, fd) TH_LOG("empty value at max_value_len 0: %s", strerror(errno));
	EXPECT_EQ(0, t_lookup(fd, "k", buf, &len));
	EXPECT_EQ(0, len);
	close(fd);
	close(root);
}

TEST_F_TIMEOUT(lim, one_mib_value_round_trips_at_the_largest_value_cap, 120)
{
	const __u32 mib = 1u << 20;
	char *val = malloc(mib), *out = malloc(mib);
	long base = t_charged(0);
	int root, fd;
	__u32 len, i;

	ASSERT_NE(NULL, val);
	ASSERT_NE(NULL, out);
	for (i = 0; i < mib; i++)
		val[i] = (char)(i * 7 + i / 4096);
	ASSERT_EQ(0, t_param_set("max_value_len", mib));
	root = t_new(self->dev, 0);
	ASSERT_LE(0, root);
	fd = value_child(root, "big", 3, val, mib);
	ASSERT_LE(0, fd) TH_LOG("1 MiB value: %s", strerror(errno));
	len = 16;
	errno = 0;
	EXPECT_EQ(-1, lookup(fd, "big", 3, out, &len));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(mib, len);
	len = mib;
	EXPECT_EQ(0, lookup(fd, "big", 3, out, &len));
	EXPECT_EQ(mib, len);
	EXPECT_EQ(0, memcmp(val, out, mib));
	close(fd);
	close(root);
	EXPECT_EQ(base, t_wait_charged(0, base, 10000));
	free(val);
	free(out);
}

TEST_F(lim, bindings_made_before_a_cap_was_lowered_stay_readable)
{
	char key[8] = "longkey", out[64], val[40];
	int root, fd, child;
	__u32 len;

	memset(val, 'x', sizeof(val));
	root = t_new(self->dev, 0);
	ASSERT_LE(0, root);
	fd = value_child(root, key, 7, val, sizeof(val));
	ASSERT_LE(0, fd);
	child = t_child(fd, 0);
	ASSERT_LE(0, child);
	ASSERT_EQ(0, t_param_set("max_value_len", 4));
	/* The whole value comes back: the cap bounds new bindings only. */
	len = sizeof(out);
	EXPECT_EQ(0, lookup(child, key, 7, out, &len));
	EXPECT_EQ(sizeof(val), len);
	EXPECT_EQ(0, memcmp(out, val, sizeof(val)));
	/* A key longer than the cap cannot be asked for any more... */
	ASSERT_EQ(0, t_param_set("max_key_len", 4));
	len = sizeof(out);
	errno = 0;
	EXPECT_EQ(-1, lookup(child, key, 7, out, &len));
	EXPECT_EQ(E2BIG, errno);
	/* ...shorter ones still walk past the binding... */
	len = sizeof(out);
	errno = 0;
	EXPECT_EQ(-1, lookup(child, "long", 4, out, &len));
	EXPECT_EQ(ENOENT, errno);
	/* ...and raising the cap again finds it. */
	ASSERT_EQ(0, t_param_set("max_key_len", 8));
	len = sizeof(out);
	EXPECT_EQ(0, lookup(child, key, 7, out, &len));
	EXPECT_EQ(sizeof(val), len);
	close(child);
	close(fd);
	close(root);
}

/* ---- RLIMIT_NOFILE ---------------------------------------------------------------- */

struct nofile {
	int to_parent[2];
	int from_parent[2];
};

/*
 * At RLIMIT_NOFILE, every creation fails with EMFILE and leaves nothing:
 * no fd, no child, no charge (the parent checks debugfs at each sync), no
 * timer that fires later.
 */
static int creations_at_rlimit_nofile(void *arg)
{
	struct nofile *n = arg;
	struct ctxfd_create tmo = {
		.flags = CTXFD_CREATE_TIMEOUT, .deadline_ns = 1000000,
		.clockid = CLOCK_MONOTONIC,
		.deadline_cause = { .code = 42, .msg = (uintptr_t)"late", .msg_len = 4 },
	};
	struct ctxfd_create past = {
		.flags = CTXFD_CREATE_DEADLINE, .deadline_ns = 1,
		.clockid = CLOCK_MONOTONIC,
	};
	struct ctxfd_create wc = { .flags = CTXFD_CREATE_WITHOUT_CANCEL };
	struct rlimit rl;
	int dev, root, fd, nfds, filler;
	long v;

	dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	T_FAIL_IF(dev < 0, 1, "open");
	root = t_new(dev, 0);
	T_FAIL_IF(root < 0, 2, "NEW");
	/*
	 * Exactly at the limit: F_DUPFD takes the lowest free number, so
	 * every number below it is in use, and it becomes the last allowed.
	 */
	T_FAIL_IF(getrlimit(RLIMIT_NOFILE, &rl), 3, "getrlimit");
	filler = fcntl(0, F_DUPFD_CLOEXEC, 0);
	T_FAIL_IF(filler < 0, 4, "dup");
	nfds = t_nr_fds();
	rl.rlim_cur = (rlim_t)filler + 1;
	T_FAIL_IF(setrlimit(RLIMIT_NOFILE, &rl), 5, "setrlimit");

	errno = 0;
	T_FAIL_IF(t_new(dev, 0) != -1 || errno != EMFILE, 10, "NEW");
	errno = 0;
	T_FAIL_IF(t_child(root, 0) != -1 || errno != EMFILE, 11, "CREATE");
	errno = 0;
	T_FAIL_IF(t_child_value(root, "k", "v", 1) != -1 || errno != EMFILE, 12,
		  "CREATE value");
	errno = 0;
	T_FAIL_IF(ioctl(root, CTXFD_IOC_CREATE, &wc) != -1 || errno != EMFILE, 13,
		  "CREATE WithoutCancel");
	errno = 0;
	T_FAIL_IF(ioctl(root, CTXFD_IOC_CREATE, &tmo) != -1 || errno != EMFILE, 14,
		  "CREATE with a 1 ms timeout and a cause");
	errno = 0;
	T_FAIL_IF(ioctl(root, CTXFD_IOC_CREATE, &past) != -1 || errno != EMFILE, 15,
		  "CREATE with a past deadline");
	errno = 0;
	T_FAIL_IF(t_watch(root, 0) != -1 || errno != EMFILE, 16, "WATCH");
	usleep(20000);	/* the 1 ms timer, had it survived */
	T_FAIL_IF(t_nr_children(root) != 0, 18, "a failed child stayed linked");
	T_FAIL_IF(t_err(root) != 0, 19, "root no longer active");
	/* One slot more, for counting: still the same fds. */
	rl.rlim_cur++;
	T_FAIL_IF(setrlimit(RLIMIT_NOFILE, &rl), 20, "setrlimit");
	T_FAIL_IF(t_nr_fds() != nfds, 17, "%d fds, %d before", t_nr_fds(), nfds);
	/* Root and device hold one node: the parent checks the charge. */
	T_FAIL_IF(!put_int(n->to_parent[1], 1), 21, "sync");
	T_FAIL_IF(!get_int(n->from_parent[0], &v, 60000), 22, "sync");

	/* With that slot, one more creation works. */
	fd = ioctl(root, CTXFD_IOC_CREATE, &tmo);
	T_FAIL_IF(fd < 0, 23, "CREATE below the limit");
	T_FAIL_IF(!t_readable(fd, 5000), 24, "its 1 ms timer never fired");
	close(fd);
	close(filler);
	close(root);
	close(dev);
	return 0;
}

static void check_nofile_as(struct __test_metadata *_metadata, uid_t uid)
{
	struct nofile n;
	long base = t_charged(uid), v;
	pid_t pid;

	ASSERT_EQ(0, pipe2(n.to_parent, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(n.from_parent, O_CLOEXEC));
	pid = uid ? fork_as(uid, creations_at_rlimit_nofile, &n) : fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(creations_at_rlimit_nofile(&n));
	if (get_int(n.to_parent[0], &v, 60000)) {
		EXPECT_EQ(base + v, t_charged(uid)) TH_LOG("uid %u", uid);
	} else {
		TH_LOG("the child never reached RLIMIT_NOFILE");
	}
	put_int(n.from_parent[1], 0);
	EXPECT_EQ(0, t_wait_status(pid)) TH_LOG("as uid %u: failed step above", uid);
	EXPECT_EQ(base, t_wait_charged(uid, base, 10000));
	close(n.to_parent[0]);
	close(n.to_parent[1]);
	close(n.from_parent[0]);
	close(n.from_parent[1]);
}

TEST_F_TIMEOUT(lim, rlimit_nofile_gives_emfile_for_every_creation_as_root, 60)
{
	check_nofile_as(_metadata, 0);
}

TEST_F_TIMEOUT(lim, rlimit_nofile_gives_emfile_for_every_creation_as_unprivileged_user, 60)
{
	check_nofile_as(_metadata, NOBODY);
}

/*
 * A cancel fd sent to a process at its RLIMIT_NOFILE is dropped by the
 * socket layer (MSG_CTRUNC): that is its last close, so the context is
 * canceled and freed, as any other last close.
 */
TEST_F_TIMEOUT(lim, cancel_fd_dropped_at_receivers_rlimit_nofile_cancels, 60)
{
	long base = t_charged(0);
	int sock[2], fd, w, status;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock));
	fd = t_new(self->dev, 0);
	ASSERT_LE(0, fd);
	w = t_watch(fd, 0);
	ASSERT_LE(0, w);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char byte, cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct rlimit rl;
		int lim;

		close(fd);
		close(w);
		lim = fcntl(0, F_DUPFD, 0);
		if (lim < 0)
			_exit(1);
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = (rlim_t)lim + 1;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			_exit(2);
		if (recvmsg(sock[1], &msg, MSG_CMSG_CLOEXEC) != 1)
			_exit(3);
		_exit(msg.msg_flags & MSG_CTRUNC ? 0 : 4);
	}
	ASSERT_EQ(0, t_send_fd(sock[0], fd));
	close(fd);	/* the only cancel fd is now in flight */
	EXPECT_EQ(0, t_err(w));
	status = t_wait_status(pid);
	EXPECT_EQ(0, status) TH_LOG("receiver: %d (4: no MSG_CTRUNC)", status);
	EXPECT_TRUE(t_readable(w, 5000));
	EXPECT_EQ(ECANCELED, t_err(w));
	close(w);
	close(sock[0]);
	close(sock[1]);
	EXPECT_EQ(base, t_wait_charged(0, base, 10000));
}

/* ---- memory cgroups ------------------------------------------------------------------ */


/* A process with @mib MiB of resident anonymous memory, pausing forever. */
static pid_t fat_process(int mib, int ready)
{
	pid_t pid = fork();

	if (pid == 0) {
		size_t len = (size_t)mib << 20;
		char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			_exit(1);
		memset(m, 1, len);
		t_sync_post(ready);
		for (;;)
			pause();
	}
	return pid;
}

enum memcg_shape { PLAIN_CHAIN, VALUE_CHAIN, OPEN_FDS };

FIXTURE(memcg) {
	int dev;
	char cg[128];		/* the limited group */
	char side[128];		/* a sibling group, unlimited */
	pid_t bystander;	/* in the group, if the variant has one */
	pid_t outsider;		/* in the sibling group */
};

FIXTURE_VARIANT(memcg) {
	enum memcg_shape shape;
	bool bystander;
};

/* Contexts pinned by a chain: the node (and its value) per context. */
FIXTURE_VARIANT_ADD(memcg, plain_chain) { .shape = PLAIN_CHAIN };
FIXTURE_VARIANT_ADD(memcg, value_chain) { .shape = VALUE_CHAIN };
/* Open fds: node, file and dentry per context. */
FIXTURE_VARIANT_ADD(memcg, open_fds) { .shape = OPEN_FDS };
/* The group also holds a bigger, innocent process. */
FIXTURE_VARIANT_ADD(memcg, value_chain_with_bystander) {
	.shape = VALUE_CHAIN, .bystander = true,
};
FIXTURE_VARIANT_ADD(memcg, plain_chain_with_bystander) {
	.shape = PLAIN_CHAIN, .bystander = true,
};

FIXTURE_SETUP(memcg)
{
	int ready[2];

	self->bystander = 0;
	self->outsider = 0;
	self->cg[0] = '\0';
	self->side[0] = '\0';
	ctxfd_require_root();
	self->dev = ctxfd_dev_or_skip();
	if (!cg_memory_available())
		CTXFD_SKIP("no cgroup2 memory controller at %s", CGROOT);
	snprintf(self->cg, sizeof(self->cg), CGROOT "/ctxfd-limits-%d", getpid());
	snprintf(self->side, sizeof(self->side), CGROOT "/ctxfd-side-%d", getpid());
	ASSERT_EQ(0, mkdir(self->cg, 0755));
	ASSERT_EQ(0, mkdir(self->side, 0755));
	ASSERT_EQ(0, cg_write(self->cg, "memory.max", "16M"));
	cg_write(self->cg, "memory.swap.max", "0");	/* absent without swap */
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	self->outsider = fat_process(8, ready[1]);
	ASSERT_LT(0, self->outsider);
	ASSERT_EQ(0, cg_move(self->side, self->outsider));
	ASSERT_TRUE(t_sync_wait(ready[0], 30000));
	if (variant->bystander) {
		self->bystander = fat_process(8, ready[1]);
		ASSERT_LT(0, self->bystander);
		ASSERT_EQ(0, cg_move(self->cg, self->bystander));
		ASSERT_TRUE(t_sync_wait(ready[0], 30000));
	}
	close(ready[0]);
	close(ready[1]);
}

FIXTURE_TEARDOWN(memcg)
{
	if (self->bystander > 0) {
		kill(self->bystander, SIGKILL);
		waitpid(self->bystander, NULL, 0);
	}
	if (self->outsider > 0) {
		kill(self->outsider, SIGKILL);
		waitpid(self->outsider, NULL, 0);
	}
	if (self->cg[0])
		cg_remove(self->cg);
	if (self->side[0])
		cg_remove(self->side);
	close(self->dev);
}

struct memcg_report {
	long created;
	int err;
	int done;
};

/*
 * In the limited group: create contexts of @shape until a creation
 * fails; report how many and the errno in shared memory (so that a
 * kill midway still leaves the count), then free everything.
 */
static void fill_memcg(enum memcg_shape shape, volatile struct memcg_report *r)
{
	static char val[4096];
	int dev, root, leaf, fd, cap = 1 << 18;
	int *fds = NULL;

	memset(val, 'v', sizeof(val));
	dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	root = t_new(dev, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
	if (dev < 0 || root < 0) {
		r->err = errno;
		r->done = -1;
		return;
	}
	if (shape == OPEN_FDS) {
		fds = mmap(NULL, (size_t)cap * sizeof(int), PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (fds == MAP_FAILED)
			_exit(3);
	}
	leaf = root;
	for (;;) {
		if (shape == VALUE_CHAIN)
			fd = t_child_value(leaf, "key", val, sizeof(val));
		else
			fd = t_child(shape == OPEN_FDS ? root : leaf,
				     CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
		if (fd < 0)
			break;
		if (shape == OPEN_FDS) {
			fds[r->created] = fd;
		} else {
			if (leaf != root)
				close(leaf);
			leaf = fd;
		}
		r->created++;
		if (r->created >= cap - 1) {
			errno = 0;
			break;
		}
	}
	r->err = errno;
	r->done = 1;
	if (shape == OPEN_FDS)
		for (long i = r->created; i > 0; i--)
			close(fds[i - 1]);
	else if (leaf != root)
		close(leaf);
	close(root);
	close(dev);
}

static const char *shape_name(enum memcg_shape s)
{
	return s == PLAIN_CHAIN ? "chain of plain contexts" :
	       s == VALUE_CHAIN ? "chain of 4 KiB values" : "open fds";
}

/*
 * At a memory cgroup's limit a context fd behaves like every other
 * anon-inode fd (eventfd, timerfd): ctxfd's own allocations fail with
 * ENOMEM and never invoke the OOM killer, while the file behind a new fd
 * is the VFS's, charged as for eventfd, and may meet the limit and wake
 * the group's own OOM killer. Either way nothing outside the group is
 * touched and nothing stays charged.
 */
TEST_F_TIMEOUT(memcg, limit_gives_enomem_or_the_groups_own_oom_kill, 300)
{
	volatile struct memcg_report *r;
	long long oom_before, kills_before, kills, ooms, maxev;
	long base = t_charged(0);
	int status, go[2];
	pid_t pid;

	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r);
	ASSERT_TRUE(t_raise_nofile(1 << 18));
	oom_before = cg_key(self->cg, "memory.events", "oom");
	kills_before = cg_key(self->cg, "memory.events", "oom_kill");
	ASSERT_LE(0, kills_before);
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (!t_sync_wait(go[0], 30000))
			_exit(2);
		fill_memcg(variant->shape, r);
		_exit(r->done == 1 ? 0 : 1);
	}
	ASSERT_EQ(0, cg_move(self->cg, pid));
	ASSERT_TRUE(t_sync_post(go[1]));
	status = t_wait_status(pid);
	kills = cg_key(self->cg, "memory.events", "oom_kill") - kills_before;
	ooms = cg_key(self->cg, "memory.events", "oom") - oom_before;
	maxev = cg_key(self->cg, "memory.events", "max");
	TH_LOG("%s in a 16 MiB group: %ld created, then %s; creator %s %d; memory.events: max %lld, oom +%lld, oom_kill +%lld",
	       shape_name(variant->shape), r->created,
	       r->done == 1 ? strerror(r->err) : "(no errno: killed first)",
	       status > 128 ? "killed by signal" : "exited", status > 128 ? status - 128 : status,
	       maxev, ooms, kills);

	/* Outside the group, nobody is touched, whatever happened inside. */
	EXPECT_TRUE(t_alive(self->outsider)) TH_LOG("a process outside the group died");
	EXPECT_LT(0, r->created);
	if (status == 0) {
		/* The creator met the limit in one of ctxfd's allocations. */
		EXPECT_EQ(1, r->done);
		EXPECT_EQ(ENOMEM, r->err) TH_LOG("errno %d (%s), expected ENOMEM",
						 r->err, strerror(r->err));
	} else {
		/* The VFS's charge met it: the group's OOM killer acted. */
		EXPECT_EQ(128 + SIGKILL, status) TH_LOG("the creator died otherwise");
		EXPECT_LT(0, kills) TH_LOG("killed, but not by the group's OOM killer");
	}
	EXPECT_EQ(base, t_wait_charged(0, base, 20000));
	munmap((void *)r, sizeof(*r));
	close(go[0]);
	close(go[1]);
}

/* ---- kernel memory one user pins at the default cap ----------------------------------- */

enum pin_kind { PIN_PLAIN, PIN_VALUE, PIN_DEADLINE, NR_PIN };

static const char *const pin_names[NR_PIN] = {
	"plain context", "context with a max-size key and value",
	"context with its own deadline and a 127-byte deadline cause",
};

struct pin_args {
	enum pin_kind kind;
	int n;
	int key_len, value_len;
	const char *cg;
	int to_parent[2];
	int from_parent[2];
};

/*
 * Pin @n contexts of @kind with one fd (a chain, NO_CANCEL_ON_CLOSE)
 * and report the bytes the memory cgroup was charged for them.
 */
static int pin_contexts(void *arg)
{
	struct pin_args *p = arg;
	char *key = malloc((size_t)p->key_len), *val = malloc((size_t)p->value_len + 1);
	char msg[CTXFD_CAUSE_MSG_MAX];
	__s64 t0 = (__s64)(t_now_ns(CLOCK_MONOTONIC) + 3600ull * 1000000000ull);
	long long before, after;
	int dev, root, leaf, fd, i;
	long v;

	T_FAIL_IF(!key || !val, 1, "malloc");
	memset(key, 'k', (size_t)p->key_len);
	memset(val, 'v', (size_t)p->value_len + 1);
	memset(msg, 'm', sizeof(msg));
	dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	T_FAIL_IF(dev < 0, 2, "open");
	root = t_new(dev, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
	T_FAIL_IF(root < 0, 3, "NEW");
	/* Moved into the measuring group by the parent now. */
	T_FAIL_IF(!put_int(p->to_parent[1], getpid()), 4, "sync");
	T_FAIL_IF(!get_int(p->from_parent[0], &v, 30000), 5, "sync");
	before = cg_current(p->cg);
	leaf = root;
	for (i = 0; i < p->n; i++) {
		if (p->kind == PIN_VALUE) {
			fd = value_child(leaf, key, (__u32)p->key_len, val,
					 (__u32)p->value_len);
		} else if (p->kind == PIN_DEADLINE) {
			struct ctxfd_create args = {
				.flags = CTXFD_CREATE_DEADLINE |
					 CTXFD_CREATE_NO_CANCEL_ON_CLOSE,
				/* earlier at each level: every node its own timer */
				.deadline_ns = t0 - i,
				.clockid = CLOCK_MONOTONIC,
				.deadline_cause = { .code = 1, .msg = (uintptr_t)msg,
						    .msg_len = sizeof(msg) },
			};

			fd = ioctl(leaf, CTXFD_IOC_CREATE, &args);
		} else {
			fd = t_child(leaf, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
		}
		T_FAIL_IF(fd < 0, 6, "context %d of %d", i + 1, p->n);
		if (leaf != root)
			close(leaf);
		leaf = fd;
	}
	after = cg_current(p->cg);
	T_FAIL_IF(!put_int(p->to_parent[1], (long)(after - before)), 7, "sync");
	/* Held until the parent has read the charge. */
	T_FAIL_IF(!get_int(p->from_parent[0], &v, 300000), 8, "sync");
	close(leaf);
	close(root);
	close(dev);
	return 0;
}

/*
 * max_nodes_per_user defaults to 4% of RAM / 512 bytes, after epoll's
 * max_user_watches: one user's contexts should pin about 4% of RAM. The
 * cap counts units of 512 bytes (a context with a large value binding
 * counts several). Each context's real cost is measured here
 * (memory.current of a cgroup, so slab, values and timers all count) and
 * divided by the units debugfs charged for it, times the default cap. A
 * context needs no fd of its own (a chain pins its ancestors), so
 * RLIMIT_NOFILE bounds nothing here; the allowance is 8% of RAM, twice
 * the design.
 */
TEST_F_TIMEOUT(lim, one_user_at_the_default_node_cap_pins_at_most_8_percent_of_ram, 600)
{
	long long cap = start_param("max_nodes_per_user");
	long long key_len = t_param_get("max_key_len");
	long long value_len = t_param_get("max_value_len");
	char cg[128], buf[4096], *p;
	unsigned long long ram_kb = 0;
	double worst = 0;
	int k;

	if (!cg_memory_available())
		CTXFD_SKIP("no cgroup2 memory controller at %s", CGROOT);
	ASSERT_LT(0, cap);
	ASSERT_LT(0, t_read_file("/proc/meminfo", buf, sizeof(buf)));
	p = strstr(buf, "MemTotal:");
	ASSERT_NE(NULL, p);
	ram_kb = strtoull(p + 9, NULL, 10);
	ASSERT_LT(0, ram_kb);
	snprintf(cg, sizeof(cg), CGROOT "/ctxfd-pin-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));

	for (k = 0; k < NR_PIN; k++) {
		struct pin_args a = {
			/* enough that memcg's 256 KiB charge batches blur little */
			.kind = (enum pin_kind)k, .n = k == PIN_VALUE ? 2000 : 8000,
			.key_len = (int)key_len, .value_len = (int)value_len,
			.cg = cg,
		};
		long child, bytes = -1, units = -1, c0 = -1;
		double per, share;
		pid_t pid;

		ASSERT_EQ(0, pipe2(a.to_parent, O_CLOEXEC));
		ASSERT_EQ(0, pipe2(a.from_parent, O_CLOEXEC));
		pid = fork_as(NOBODY, pin_contexts, &a);
		ASSERT_LE(0, pid);
		if (get_int(a.to_parent[0], &child, 30000)) {
			EXPECT_EQ(0, cg_move(cg, (pid_t)child));
			c0 = t_charged(NOBODY);
			put_int(a.from_parent[1], 0);
			EXPECT_TRUE(get_int(a.to_parent[0], &bytes, 300000));
			if (c0 >= 0 && bytes > 0)
				units = t_charged(NOBODY) - c0;
			put_int(a.from_parent[1], 0);
		}
		EXPECT_EQ(0, t_wait_status(pid));
		close(a.to_parent[0]);
		close(a.to_parent[1]);
		close(a.from_parent[0]);
		close(a.from_parent[1]);
		if (bytes <= 0)
			continue;
		EXPECT_LE(a.n, units);
		if (units < a.n)
			continue;
		per = (double)bytes / units;
		share = per * (double)cap / ((double)ram_kb * 1024.0);
		TH_LOG("%s: %.0f bytes and %.1f units each; x %lld units (default max_nodes_per_user) = %.0f MiB = %.1f%% of RAM",
		       pin_names[k], (double)bytes / a.n, (double)units / a.n,
		       cap, per * (double)cap / 1048576.0, 100.0 * share);
		if (share > worst)
			worst = share;
	}
	cg_remove(cg);
	EXPECT_GE(0.08, worst)
		TH_LOG("one unprivileged user can pin %.0f%% of RAM in contexts it holds with a single fd",
		       100.0 * worst);
}

TEST_HARNESS_MAIN
