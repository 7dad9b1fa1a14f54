// SPDX-License-Identifier: GPL-2.0
/*
 * Contexts across processes: fds inherited by fork, passed over
 * SCM_RIGHTS and kept across execve carry the same context with the same
 * rights; a cancel made anywhere reaches every process that watches, and
 * a process that dies holding the only cancel-capable fd cancels.
 */
#define _GNU_SOURCE

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#define HELPER_ENV "CTXFD_CROSSPROC_HELPER"

/*
 * When this program is exec'd with HELPER_ENV="cancel FD CODE", it acts
 * as a helper instead of running the tests: it checks that FD is an
 * inherited cancel-capable context fd without close-on-exec, cancels it
 * with cause CODE, "from exec" and exits 0 (10+ on failure).
 */
__attribute__((constructor)) static void crossproc_helper(void)
{
	const char *cmd = getenv(HELPER_ENV);
	struct ctxfd_info info;
	int fd, code;

	if (!cmd)
		return;
	if (sscanf(cmd, "cancel %d %d", &fd, &code) != 2)
		_exit(10);
	if (t_cloexec(fd))
		_exit(11);
	if (t_info(fd, &info) || !(info.flags & CTXFD_INFO_CAN_CANCEL))
		_exit(12);
	if (info.err)
		_exit(13);
	if (t_cancel(fd, code, "from exec"))
		_exit(14);
	_exit(0);
}

FIXTURE(xp) {
	int dev;
	int root;
	int sv[2];	/* a unix socket pair for SCM_RIGHTS and syncing */
};

FIXTURE_SETUP(xp)
{
	self->sv[0] = self->sv[1] = -1;
	self->dev = ctxfd_dev_or_skip();
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				self->sv));
}

FIXTURE_TEARDOWN(xp)
{
	close(self->sv[0]);
	close(self->sv[1]);
	close(self->root);
	close(self->dev);
}

/* Exit code of a child that checks @fd is done with @code and @msg. */
static int check_done(int fd, int code, const char *msg)
{
	struct ctxfd_info info;

	if (!t_readable(fd, 0))
		return 20;
	if (t_info(fd, &info))
		return 21;
	if (info.err != ECANCELED)
		return 22;
	if (info.cause_code != code)
		return 23;
	if (msg && strcmp(info.cause_msg, msg))
		return 24;
	return 0;
}

TEST_F(xp, forked_child_sees_parent_cancel)
{
	int child = t_child(self->root, 0);
	pid_t pid;

	ASSERT_LE(0, child);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct pollfd pfd = { .fd = child, .events = POLLIN };

		if (t_readable(child, 0))
			_exit(10);
		if (!t_sync_post(self->sv[1]))
			_exit(11);
		if (poll(&pfd, 1, 20000) != 1)
			_exit(12);
		if (pfd.revents != POLLIN)
			_exit(13);
		_exit(check_done(child, 11, "from parent"));
	}
	ASSERT_TRUE(t_sync_wait(self->sv[0], 20000));
	EXPECT_TRUE(t_wait_blocked(pid, 10000));
	ASSERT_EQ(0, t_cancel(self->root, 11, "from parent"));
	EXPECT_EQ(0, t_wait_status(pid));
	close(child);
}

TEST_F(xp, parent_sees_cancel_child_makes_through_shared_fd)
{
	int child = t_child(self->root, 0);
	pid_t pid;

	ASSERT_LE(0, child);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (t_cancel(child, 12, "from child"))
			_exit(10);
		/* Stay alive: the parent must see the cancel, not our exit. */
		t_sync_wait(self->sv[1], 20000);
		_exit(0);
	}
	ASSERT_TRUE(t_readable(child, 20000));
	ASSERT_EQ(0, check_done(child, 12, "from child"));
	EXPECT_EQ(0, t_err(self->root));
	ASSERT_TRUE(t_sync_post(self->sv[0]));
	EXPECT_EQ(0, t_wait_status(pid));
	close(child);
}

TEST_F(xp, cancel_fd_sent_over_scm_rights_cancels_from_receiver)
{
	int child;
	pid_t pid;

	/* Fork first: the receiver gets the context only through the socket. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = t_recv_fd(self->sv[1]);
		struct ctxfd_info info;

		if (fd < 0)
			_exit(10);
		if ((fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDWR)
			_exit(11);
		if (t_info(fd, &info) || !(info.flags & CTXFD_INFO_CAN_CANCEL))
			_exit(12);
		if (info.err)
			_exit(13);
		if (t_cancel(fd, 13, "receiver"))
			_exit(14);
		if (!t_sync_post(self->sv[1]))
			_exit(15);
		t_sync_wait(self->sv[1], 20000);
		_exit(0);
	}
	child = t_child(self->root, 0);
	ASSERT_LE(0, child);
	ASSERT_EQ(0, t_send_fd(self->sv[0], child));
	ASSERT_TRUE(t_sync_wait(self->sv[0], 20000));
	ASSERT_EQ(0, check_done(child, 13, "receiver"));
	ASSERT_TRUE(t_sync_post(self->sv[0]));
	EXPECT_EQ(0, t_wait_status(pid));
	EXPECT_EQ(0, t_err(self->root));
	close(child);
}

TEST_F(xp, watch_fd_sent_over_scm_rights_cannot_cancel)
{
	int child, w;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = t_recv_fd(self->sv[1]);
		struct ctxfd_info info;
		struct pollfd pfd = { .events = POLLIN };

		if (fd < 0)
			_exit(10);
		if ((fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDONLY)
			_exit(11);
		if (t_info(fd, &info) || (info.flags & CTXFD_INFO_CAN_CANCEL))
			_exit(12);
		if (t_cancel(fd, 0, NULL) != -1 || errno != EPERM)
			_exit(13);
		if (!t_sync_post(self->sv[1]))
			_exit(14);
		/* It still watches: the sender's cancel wakes it. */
		pfd.fd = fd;
		if (poll(&pfd, 1, 20000) != 1)
			_exit(15);
		_exit(check_done(fd, 14, NULL));
	}
	child = t_child(self->root, 0);
	w = t_watch(child, 0);
	ASSERT_LE(0, w);
	ASSERT_EQ(0, t_send_fd(self->sv[0], w));
	ASSERT_TRUE(t_sync_wait(self->sv[0], 20000));
	/* The receiver's attempt changed nothing. */
	EXPECT_EQ(0, t_err(child));
	EXPECT_FALSE(t_readable(child, 0));
	ASSERT_EQ(0, t_cancel(child, 14, NULL));
	EXPECT_EQ(0, t_wait_status(pid));
	close(w);
	close(child);
}

TEST_F(xp, cancel_fd_in_flight_keeps_context_active)
{
	int child = t_child(self->root, 0);
	int w = t_watch(child, 0);
	int go[2];
	pid_t pid;

	ASSERT_LE(0, w);
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		close(child);
		if (!t_sync_post(self->sv[1]) || !t_sync_wait(go[0], 20000))
			_exit(10);
		fd = t_recv_fd(self->sv[1]);
		if (fd < 0)
			_exit(11);
		if (t_err(fd) != 0)
			_exit(12);	/* canceled while in flight */
		if (!(fcntl(fd, F_GETFL) & O_RDWR))
			_exit(13);
		close(fd);		/* the last cancel fd now */
		_exit(0);
	}
	/* Once the forked child dropped its copy, send ours and close it. */
	ASSERT_TRUE(t_sync_wait(self->sv[0], 20000));
	ASSERT_EQ(0, t_send_fd(self->sv[0], child));
	/* The only reference is now the one inside the socket. */
	ASSERT_EQ(0, close(child));
	EXPECT_EQ(0, t_err(w));
	ASSERT_TRUE(t_sync_post(go[1]));
	EXPECT_EQ(0, t_wait_status(pid));
	/* The receiver closed the last cancel-capable fd. */
	EXPECT_EQ(0, check_done(w, ECANCELED, NULL));
	close(go[0]);
	close(go[1]);
	close(w);
}

TEST_F(xp, cancel_fd_lost_in_flight_cancels_when_socket_goes)
{
	int child = t_child(self->root, 0);
	int w = t_watch(child, 0);

	ASSERT_LE(0, w);
	ASSERT_EQ(0, t_send_fd(self->sv[0], child));
	ASSERT_EQ(0, close(child));
	EXPECT_EQ(0, t_err(w));
	/* Nobody will ever receive it. */
	ASSERT_EQ(0, close(self->sv[1]));
	self->sv[1] = -1;
	EXPECT_EQ(0, check_done(w, ECANCELED, NULL));
	close(w);
}

TEST_F(xp, handed_over_cancel_fd_outlives_its_creator)
{
	int fd;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
		int mine = dev < 0 ? -1 : t_new(dev, 0);

		if (mine < 0 || t_send_fd(self->sv[1], mine))
			_exit(10);
		_exit(0);	/* exits holding its copy */
	}
	fd = t_recv_fd(self->sv[0]);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_wait_status(pid));
	/* The receiver holds a cancel-capable fd: nothing was canceled. */
	EXPECT_EQ(0, t_err(fd));
	EXPECT_FALSE(t_readable(fd, 0));
	ASSERT_EQ(0, t_cancel(fd, 0, NULL));
	EXPECT_EQ(ECANCELED, t_err(fd));
	close(fd);
}

TEST_F(xp, process_dying_with_only_cancel_fd_cancels_its_context)
{
	int w;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
		int mine = dev < 0 ? -1 : t_new(dev, 0);
		int mw = mine < 0 ? -1 : t_watch(mine, 0);

		if (mw < 0 || t_send_fd(self->sv[1], mw))
			_exit(10);
		close(mw);
		t_sync_wait(self->sv[1], 20000);	/* killed here */
		_exit(11);
	}
	w = t_recv_fd(self->sv[0]);
	ASSERT_LE(0, w);
	EXPECT_EQ(0, t_err(w));
	EXPECT_FALSE(t_readable(w, 0));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, t_wait_status(pid));
	EXPECT_EQ(0, check_done(w, ECANCELED, NULL));
	close(w);
}

/*
 * Run "/bin/sh -c @cmd" in a child and collect its stdout into @out.
 * Returns the shell's exit status, or -1.
 */
static int run_sh(const char *cmd, char *out, size_t size)
{
	int p[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (dup2(p[1], STDOUT_FILENO) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while (len + 1 < size && (n = read(p[0], out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	status = t_wait_status(pid);
	return status;
}

/* The "ctxfd-id:" value in fdinfo text @text, or 0. */
static __u64 id_in(const char *text)
{
	const char *p = strstr(text, "ctxfd-id:\t");

	return p ? strtoull(p + strlen("ctxfd-id:\t"), NULL, 10) : 0;
}

TEST_F(xp, no_cloexec_fd_survives_execve)
{
	int child = t_child(self->root, CTXFD_CREATE_NO_CLOEXEC);
	char cmd[128], out[4096];

	ASSERT_LE(0, child);
	ASSERT_FALSE(t_cloexec(child));
	/* The shell reads its own fd table: the fd crossed the exec. */
	snprintf(cmd, sizeof(cmd), "cat /proc/$$/fdinfo/%d", child);
	ASSERT_EQ(0, run_sh(cmd, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(t_id(child), id_in(out));
	EXPECT_NE(NULL, strstr(out, "ctxfd-rights:\tcancel\n"));
	close(child);
}

TEST_F(xp, watch_no_cloexec_fd_survives_execve)
{
	int w = t_watch(self->root, CTXFD_WATCH_NO_CLOEXEC);
	char cmd[128], out[4096];

	ASSERT_LE(0, w);
	snprintf(cmd, sizeof(cmd), "cat /proc/$$/fdinfo/%d", w);
	ASSERT_EQ(0, run_sh(cmd, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(t_id(self->root), id_in(out));
	EXPECT_NE(NULL, strstr(out, "ctxfd-rights:\twatch\n"));
	close(w);
}

TEST_F(xp, default_fd_is_closed_on_execve)
{
	int child = t_child(self->root, 0);
	int w = t_watch(self->root, 0);
	char cmd[160], out[4096];

	ASSERT_LE(0, w);
	ASSERT_TRUE(t_cloexec(child));
	snprintf(cmd, sizeof(cmd),
		 "cat /proc/$$/fdinfo/%d /proc/$$/fdinfo/%d 2>/dev/null",
		 child, w);
	EXPECT_NE(0, run_sh(cmd, out, sizeof(out)));
	EXPECT_EQ(NULL, strstr(out, "ctxfd-")) TH_LOG("%s", out);
	/* The exec dropped the child's copy only: ours keeps it active. */
	EXPECT_EQ(0, t_err(child));
	close(w);
	close(child);
}

TEST_F(xp, exec_closing_the_last_cancel_fd_cancels)
{
	int child = t_child(self->root, 0);
	int w = t_watch(child, 0);
	int go[2], in[2];
	pid_t pid;

	ASSERT_LE(0, w);
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(in, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (!t_sync_wait(go[0], 20000))
			_exit(10);
		if (dup2(in[0], STDIN_FILENO) < 0)
			_exit(11);
		/* The exec closes @child; the shell then waits on stdin. */
		execl("/bin/sh", "sh", "-c", "read x", (char *)NULL);
		_exit(12);
	}
	ASSERT_EQ(0, close(child));
	EXPECT_EQ(0, t_err(w));
	ASSERT_TRUE(t_sync_post(go[1]));
	/* Canceled while the exec'd program still runs. */
	ASSERT_TRUE(t_readable(w, 20000));
	EXPECT_EQ(0, check_done(w, ECANCELED, NULL));
	EXPECT_EQ(0, kill(pid, 0));
	ASSERT_EQ(1, write(in[1], "\n", 1));
	EXPECT_EQ(0, t_wait_status(pid));
	close(in[0]);
	close(in[1]);
	close(go[0]);
	close(go[1]);
	close(w);
}

TEST_F(xp, exec_ed_program_cancels_through_inherited_fd)
{
	int child = t_child(self->root, CTXFD_CREATE_NO_CLOEXEC);
	char env[64];
	char *envp[] = { env, NULL };
	pid_t pid;

	ASSERT_LE(0, child);
	snprintf(env, sizeof(env), HELPER_ENV "=cancel %d 23", child);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		execle("/proc/self/exe", "crossproc-helper", (char *)NULL, envp);
		_exit(127);
	}
	EXPECT_EQ(0, t_wait_status(pid));
	EXPECT_EQ(0, check_done(child, 23, "from exec"));
	EXPECT_EQ(0, t_err(self->root));
	close(child);
}

TEST_F(xp, cancel_reaches_grandchildren_another_process_created)
{
	int wx, wy;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Builds root -> x -> y under the shared root fd and waits. */
		int x = t_child(self->root, 0);
		int y = x < 0 ? -1 : t_child(x, 0);
		int mwx = y < 0 ? -1 : t_watch(x, 0);
		int mwy = mwx < 0 ? -1 : t_watch(y, 0);
		struct pollfd pfd = { .fd = x, .events = POLLIN };

		if (mwy < 0)
			_exit(10);
		if (t_send_fd(self->sv[1], mwx) || t_send_fd(self->sv[1], mwy))
			_exit(11);
		/*
		 * Wait on x, the top of this process's subtree: a subtree is
		 * finished from the leaves up, so once x is done, y already is.
		 */
		if (poll(&pfd, 1, 20000) != 1)
			_exit(12);
		_exit(check_done(y, 21, "tree") ?: check_done(x, 21, "tree"));
	}
	wx = t_recv_fd(self->sv[0]);
	wy = t_recv_fd(self->sv[0]);
	ASSERT_LE(0, wx);
	ASSERT_LE(0, wy);
	EXPECT_EQ(1, t_nr_children(self->root));
	EXPECT_EQ(0, t_err(wy));
	EXPECT_TRUE(t_wait_blocked(pid, 10000));
	ASSERT_EQ(0, t_cancel(self->root, 21, "tree"));
	/* Done before the cancel returned, in every process. */
	EXPECT_EQ(0, check_done(wx, 21, "tree"));
	EXPECT_EQ(0, check_done(wy, 21, "tree"));
	EXPECT_EQ(0, t_wait_status(pid));
	close(wy);
	close(wx);
}

TEST_F(xp, watch_fd_received_from_another_process_creates_children)
{
	struct ctxfd_info ci;
	int w, c;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
		int mine = dev < 0 ? -1 : t_new(dev, 0);
		int mw = mine < 0 ? -1 : t_watch(mine, 0);

		if (mw < 0 || t_send_fd(self->sv[1], mw))
			_exit(10);
		/* Cancel on request, then wait to be told to go. */
		if (!t_sync_wait(self->sv[1], 20000))
			_exit(11);
		if (t_cancel(mine, 31, "owner"))
			_exit(12);
		if (!t_sync_post(self->sv[1]))
			_exit(13);
		t_sync_wait(self->sv[1], 20000);
		_exit(0);
	}
	w = t_recv_fd(self->sv[0]);
	ASSERT_LE(0, w);
	c = t_child(w, 0);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, t_info(c, &ci));
	EXPECT_EQ(t_id(w), ci.parent_id);
	ASSERT_TRUE(t_sync_post(self->sv[0]));
	ASSERT_TRUE(t_sync_wait(self->sv[0], 20000));
	/* The owner's cancel reached our child of its context. */
	EXPECT_EQ(0, check_done(c, 31, "owner"));
	ASSERT_TRUE(t_sync_post(self->sv[0]));
	EXPECT_EQ(0, t_wait_status(pid));
	close(c);
	close(w);
}

TEST_HARNESS_MAIN
