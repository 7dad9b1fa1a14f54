// SPDX-License-Identifier: GPL-2.0
/*
 * The control device: /dev/ctxfd is the misc character device 10:246,
 * open to everyone (0666); CTXFD_IOC_NEW hands out cancel-capable,
 * close-on-exec root contexts; unprivileged users can use it; the
 * per-user node cap (max_nodes_per_user, ENOSPC) and the depth cap
 * (max_depth, ELOOP) hold exactly at their limits.
 *
 * Tests that lower a module parameter need root and put it back in their
 * teardown; the test program also puts back, when it exits, any
 * parameter that differs from what it found at start (a test killed by
 * its timeout runs no teardown).
 */
#include "kselftest_harness.h"
#include "ctxfd_test.h"

#include <grp.h>
#include <sys/sysmacros.h>

#define CTXFD_MAJOR	10
#define CTXFD_MINOR	246
#define NOBODY		65534

/* ---- module parameters: saved at start, restored at exit ----------------- */

static long long start_nodes = -1, start_depth = -1;
static pid_t harness_pid;

static void __attribute__((constructor)) params_save(void)
{
	harness_pid = getpid();
	start_nodes = t_param_get("max_nodes_per_user");
	start_depth = t_param_get("max_depth");
}

static void __attribute__((destructor)) params_restore(void)
{
	if (getpid() != harness_pid)
		return;
	if (start_nodes > 0 && t_param_get("max_nodes_per_user") != start_nodes)
		t_param_set("max_nodes_per_user", (unsigned long long)start_nodes);
	if (start_depth > 0 && t_param_get("max_depth") != start_depth)
		t_param_set("max_depth", (unsigned long long)start_depth);
}

/* ---- running code as an unprivileged user -------------------------------- */

/* Become uid/gid NOBODY with no supplementary groups (if root). */
static int drop_privileges(void)
{
	if (geteuid() != 0)
		return 0;
	if (setgroups(0, NULL))
		return -1;
	if (setresgid(NOBODY, NOBODY, NOBODY))
		return -1;
	if (setresuid(NOBODY, NOBODY, NOBODY))
		return -1;
	return geteuid() == NOBODY && getuid() == NOBODY ? 0 : -1;
}

/*
 * Run @fn(@arg) in a child process as an unprivileged user; returns its
 * exit status (fn's return value), 100 if dropping privileges failed.
 * @fn reports failures through distinct return values and "# " lines.
 */
static int as_nobody(int (*fn)(void *arg), void *arg)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (drop_privileges())
			_exit(100);
		_exit(fn(arg));
	}
	return t_wait_status(pid);
}

#define FAIL_IF(cond, code, fmt, ...) do {				\
	if (cond) {							\
		fprintf(stderr, "# step %d: " fmt " (errno %d: %s)\n",	\
			code, ##__VA_ARGS__, errno, strerror(errno));	\
		return code;						\
	}								\
} while (0)

FIXTURE(dev) {
	int dev;
	long long saved_nodes;	/* to restore, or -1 */
	long long saved_depth;	/* to restore, or -1 */
};

FIXTURE_SETUP(dev)
{
	self->saved_nodes = -1;
	self->saved_depth = -1;
	self->dev = ctxfd_dev_or_skip();
}

FIXTURE_TEARDOWN(dev)
{
	if (self->saved_nodes > 0)
		EXPECT_EQ(0, t_param_set("max_nodes_per_user",
					 (unsigned long long)self->saved_nodes));
	if (self->saved_depth > 0)
		EXPECT_EQ(0, t_param_set("max_depth",
					 (unsigned long long)self->saved_depth));
	close(self->dev);
}

TEST_F(dev, device_node_is_misc_char_device_10_246_mode_0666)
{
	char buf[64];
	struct stat st;

	ASSERT_EQ(0, stat(CTXFD_DEVICE, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(CTXFD_MAJOR, major(st.st_rdev));
	EXPECT_EQ(CTXFD_MINOR, minor(st.st_rdev));
	EXPECT_EQ(0666, st.st_mode & 07777) TH_LOG("mode %#o", st.st_mode & 07777);
	/* The device the kernel registered agrees with the node. */
	ASSERT_LT(0, t_read_file("/sys/class/misc/ctxfd/dev", buf, sizeof(buf)));
	EXPECT_STREQ("10:246\n", buf);
}

TEST_F(dev, new_fd_is_cloexec_by_default)
{
	int fd = t_new(self->dev, 0);

	ASSERT_LE(0, fd);
	EXPECT_TRUE(t_cloexec(fd));
	close(fd);
}

TEST_F(dev, new_fd_with_no_cloexec_is_not_cloexec)
{
	int fd = t_new(self->dev, CTXFD_CREATE_NO_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_FALSE(t_cloexec(fd));
	close(fd);
}

TEST_F(dev, new_root_fd_is_cancel_capable)
{
	struct ctxfd_info info;
	int fd = t_new(self->dev, 0);

	ASSERT_LE(0, fd);
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	ASSERT_EQ(0, t_info(fd, &info));
	EXPECT_NE(0, info.flags & CTXFD_INFO_CAN_CANCEL);
	EXPECT_EQ(0, info.depth);
	EXPECT_EQ(0, info.parent_id);
	ASSERT_EQ(0, t_cancel(fd, 0, NULL));
	EXPECT_EQ(ECANCELED, t_err(fd));
	close(fd);
}

TEST_F(dev, device_opened_read_only_still_creates_roots)
{
	int ro = open(CTXFD_DEVICE, O_RDONLY | O_CLOEXEC);
	int fd;

	ASSERT_LE(0, ro);
	fd = t_new(ro, 0);
	ASSERT_LE(0, fd) TH_LOG("NEW on an O_RDONLY /dev/ctxfd: %s",
				strerror(errno));
	EXPECT_EQ(0, t_cancel(fd, 0, NULL));
	close(fd);
	close(ro);
}

TEST_F(dev, read_and_write_on_device_fail_with_einval)
{
	char buf[64] = {};

	errno = 0;
	EXPECT_EQ(-1, read(self->dev, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, write(self->dev, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
}

static int nobody_uses_device(void *arg)
{
	struct ctxfd_info info;
	int dev, root, child, watch;

	(void)arg;
	FAIL_IF(getuid() == 0, 1, "still root");
	dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	FAIL_IF(dev < 0, 2, "open %s", CTXFD_DEVICE);
	root = t_new(dev, 0);
	FAIL_IF(root < 0, 3, "NEW");
	child = t_child(root, 0);
	FAIL_IF(child < 0, 4, "CREATE");
	watch = t_watch(child, 0);
	FAIL_IF(watch < 0, 5, "WATCH");
	FAIL_IF(t_cancel(root, 8, "nobody"), 6, "CANCEL");
	FAIL_IF(t_info(watch, &info), 7, "INFO");
	FAIL_IF(info.err != ECANCELED || info.cause_code != 8, 8,
		"child err %d cause %d", info.err, info.cause_code);
	FAIL_IF(!t_readable(watch, 0), 9, "child not readable");
	close(watch);
	close(child);
	close(root);
	close(dev);
	return 0;
}

TEST_F(dev, unprivileged_user_can_open_create_and_cancel)
{
	if (geteuid() != 0)
		TH_LOG("not root: running as uid %d as it is", getuid());
	EXPECT_EQ(0, as_nobody(nobody_uses_device, NULL));
}

/* ---- per-user node cap --------------------------------------------------- */

struct cap_args {
	int cap;
	int sync_to_parent;	/* write end: "at the cap" */
	int sync_from_parent;	/* read end: "let go" */
};

static int nobody_hits_node_cap(void *arg)
{
	struct cap_args *a = arg;
	struct ctxfd_create wc = { .flags = CTXFD_CREATE_WITHOUT_CANCEL };
	int *fds = calloc((size_t)a->cap + 8, sizeof(int));
	int dev, n = 0, fd, nfds, i;

	FAIL_IF(!fds, 1, "calloc");
	dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	FAIL_IF(dev < 0, 2, "open");
	fds[n] = t_new(dev, 0);
	FAIL_IF(fds[n] < 0, 3, "first NEW");
	n++;
	while (n < a->cap + 8) {
		fd = t_child(fds[0], 0);
		if (fd < 0)
			break;
		fds[n++] = fd;
	}
	FAIL_IF(errno != ENOSPC, 4, "creation %d failed with the wrong errno",
		n + 1);
	FAIL_IF(n != a->cap, 5, "%d nodes created under a cap of %d", n,
		a->cap);

	/* Every kind of creation is refused at the cap, and leaves nothing. */
	nfds = t_nr_fds();
	errno = 0;
	FAIL_IF(t_new(dev, 0) != -1 || errno != ENOSPC, 6, "NEW at the cap");
	errno = 0;
	FAIL_IF(t_child_value(fds[0], "k", "v", 1) != -1 || errno != ENOSPC, 7,
		"value child at the cap");
	errno = 0;
	FAIL_IF(ioctl(fds[0], CTXFD_IOC_CREATE, &wc) != -1 || errno != ENOSPC, 8,
		"WithoutCancel child at the cap");
	FAIL_IF(t_nr_fds() != nfds, 9, "fds leaked by failed creations");
	FAIL_IF(t_nr_children(fds[0]) != a->cap - 1, 10,
		"root has %d children", t_nr_children(fds[0]));
	/* A watch fd is no new node: it still works. */
	fd = t_watch(fds[0], 0);
	FAIL_IF(fd < 0, 11, "WATCH at the cap");
	close(fd);

	/* Tell the parent we are at the cap; wait until it is done. */
	FAIL_IF(!t_sync_post(a->sync_to_parent), 12, "sync");
	FAIL_IF(!t_sync_wait(a->sync_from_parent, 20000), 13, "sync");

	/* Closing three children frees three nodes: three creations work. */
	for (i = 0; i < 3; i++)
		close(fds[--n]);
	for (i = 0; i < 3; i++) {
		fd = t_child(fds[0], 0);
		FAIL_IF(fd < 0, 14, "creation %d after closing 3", i + 1);
		fds[n++] = fd;
	}
	errno = 0;
	FAIL_IF(t_child(fds[0], 0) != -1 || errno != ENOSPC, 15,
		"the cap is back after 3 creations");
	/* Canceled but still open nodes still count: they are alive. */
	FAIL_IF(t_cancel(fds[n - 1], 0, NULL), 16, "cancel");
	errno = 0;
	FAIL_IF(t_child(fds[0], 0) != -1 || errno != ENOSPC, 17,
		"a canceled, open node stopped counting");
	while (n > 0)
		close(fds[--n]);
	/* All gone: the whole allowance is back. */
	fds[0] = t_new(dev, 0);
	FAIL_IF(fds[0] < 0, 18, "NEW after closing everything");
	for (n = 1; n < a->cap; n++) {
		fds[n] = t_child(fds[0], 0);
		FAIL_IF(fds[n] < 0, 19, "creation %d after closing all", n + 1);
	}
	while (n > 0)
		close(fds[--n]);
	close(dev);
	free(fds);
	return 0;
}

TEST_F(dev, per_user_node_cap_gives_enospc_and_recovers)
{
	struct cap_args a = { .cap = 16 };
	int to_parent[2], from_parent[2], status, i, mine[8];
	pid_t pid;

	ctxfd_require_root();
	self->saved_nodes = t_param_get("max_nodes_per_user");
	ASSERT_LT(0, self->saved_nodes);
	ASSERT_EQ(0, t_param_set("max_nodes_per_user", (unsigned)a.cap));
	ASSERT_EQ(a.cap, t_param_get("max_nodes_per_user"));
	ASSERT_EQ(0, pipe2(to_parent, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(from_parent, O_CLOEXEC));
	a.sync_to_parent = to_parent[1];
	a.sync_from_parent = from_parent[0];

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (drop_privileges())
			_exit(100);
		_exit(nobody_hits_node_cap(&a));
	}
	/* While nobody sits at its cap, root's own allowance is untouched. */
	if (t_sync_wait(to_parent[0], 20000)) {
		for (i = 0; i < 8; i++) {
			mine[i] = t_new(self->dev, 0);
			EXPECT_LE(0, mine[i]) TH_LOG("root's node %d: %s", i,
						     strerror(errno));
		}
		for (i = 0; i < 8; i++)
			if (mine[i] >= 0)
				close(mine[i]);
	} else {
		TH_LOG("the unprivileged child never reached its cap");
	}
	EXPECT_TRUE(t_sync_post(from_parent[1]));
	status = t_wait_status(pid);
	EXPECT_EQ(0, status) TH_LOG("unprivileged child failed at step %d",
				    status);
	close(to_parent[0]);
	close(to_parent[1]);
	close(from_parent[0]);
	close(from_parent[1]);
}

TEST_F(dev, node_cap_param_rejects_zero)
{
	long long before = t_param_get("max_nodes_per_user");

	ctxfd_require_root();
	ASSERT_LT(0, before);
	errno = 0;
	EXPECT_EQ(-1, t_param_set("max_nodes_per_user", 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(before, t_param_get("max_nodes_per_user"));
}

/* ---- depth cap ----------------------------------------------------------- */

TEST_F(dev, depth_cap_gives_eloop_beyond_max_depth)
{
	const int max = 8;
	struct ctxfd_create wc = { .flags = CTXFD_CREATE_WITHOUT_CANCEL };
	int fds[8 + 1], i, nfds, fd;
	struct ctxfd_info info;

	ctxfd_require_root();
	self->saved_depth = t_param_get("max_depth");
	ASSERT_LT(0, self->saved_depth);
	ASSERT_EQ(0, t_param_set("max_depth", max));

	fds[0] = t_new(self->dev, 0);
	ASSERT_LE(0, fds[0]);
	for (i = 1; i <= max; i++) {
		fds[i] = t_child(fds[i - 1], 0);
		ASSERT_LE(0, fds[i]) TH_LOG("depth %d of max %d: %s", i, max,
					    strerror(errno));
	}
	ASSERT_EQ(0, t_info(fds[max], &info));
	EXPECT_EQ((unsigned)max, info.depth);

	/* One more level is refused, whatever the kind, and leaves nothing. */
	nfds = t_nr_fds();
	errno = 0;
	fd = t_child(fds[max], 0);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(ELOOP, errno);
	errno = 0;
	fd = t_child_value(fds[max], "k", "v", 1);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(ELOOP, errno);
	errno = 0;
	fd = ioctl(fds[max], CTXFD_IOC_CREATE, &wc);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(ELOOP, errno);
	errno = 0;
	fd = t_child_timeout(fds[max], 1000000000LL);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(ELOOP, errno);
	EXPECT_EQ(nfds, t_nr_fds());
	EXPECT_EQ(0, t_nr_children(fds[max]));
	EXPECT_EQ(0, t_err(fds[max]));

	/* Siblings at the limit are still fine, and so are new roots. */
	fd = t_child(fds[max - 1], 0);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	fd = t_new(self->dev, 0);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);

	/* Raising the limit again lets the chain grow. */
	ASSERT_EQ(0, t_param_set("max_depth", max + 1));
	fd = t_child(fds[max], 0);
	EXPECT_LE(0, fd) TH_LOG("after raising max_depth: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	for (i = max; i >= 0; i--)
		close(fds[i]);
}

TEST_F(dev, depth_cap_param_rejects_zero)
{
	long long before = t_param_get("max_depth");

	ctxfd_require_root();
	ASSERT_LT(0, before);
	errno = 0;
	EXPECT_EQ(-1, t_param_set("max_depth", 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(before, t_param_get("max_depth"));
}

TEST_F(dev, module_parameters_are_root_writable_only)
{
	const char *names[] = { "max_depth", "max_nodes_per_user",
				"max_key_len", "max_value_len" };
	char path[128];
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), T_PARAM_DIR "%s", names[i]);
		ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s", path);
		EXPECT_EQ(0644, st.st_mode & 07777) TH_LOG("%s", path);
		EXPECT_EQ(0, st.st_uid);
	}
}

TEST_HARNESS_MAIN
