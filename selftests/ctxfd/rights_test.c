// SPDX-License-Identifier: GPL-2.0
/*
 * Rights: a cancel-capable fd (opened O_RDWR) can cancel, a watch-only
 * fd (O_RDONLY) cannot (EPERM). Both poll, read, report info and create
 * children; a watch-only fd can be derived from either, and there is no
 * way back from a watch-only fd to a cancel-capable one.
 */
#define _GNU_SOURCE

#include "kselftest_harness.h"
#include "ctxfd_test.h"

FIXTURE(rights) {
	int dev;
	int root;
};

FIXTURE_SETUP(rights)
{
	self->dev = ctxfd_dev_or_skip();
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);
}

FIXTURE_TEARDOWN(rights)
{
	close(self->root);
	close(self->dev);
}

static int accmode(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fl & O_ACCMODE;
}

static bool can_cancel(int fd)
{
	struct ctxfd_info info;

	return t_info(fd, &info) == 0 && (info.flags & CTXFD_INFO_CAN_CANCEL);
}

TEST_F(rights, watch_only_fd_gets_eperm_on_cancel_and_context_stays_active)
{
	int w = t_watch(self->root, 0);

	ASSERT_LE(0, w);
	EXPECT_EQ(-1, t_cancel(w, 0, NULL));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, t_cancel(w, 5, "not allowed"));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(0, t_err(self->root));
	EXPECT_EQ(0, t_err(w));
	EXPECT_FALSE(t_readable(w, 0));
	EXPECT_FALSE(t_readable(self->root, 0));
	/* The cancel-capable fd still can. */
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_EQ(ECANCELED, t_err(w));
	close(w);
}

TEST_F(rights, watch_only_fd_gets_eperm_even_once_done)
{
	int w = t_watch(self->root, 0);

	ASSERT_LE(0, w);
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_EQ(-1, t_cancel(w, 0, NULL));
	EXPECT_EQ(EPERM, errno);
	close(w);
}

TEST_F(rights, fcntl_getfl_shows_rdwr_on_cancel_fd_and_rdonly_on_watch_fd)
{
	int child = t_child(self->root, 0);
	int nocc = t_child(self->root, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
	int w = t_watch(self->root, 0);
	int v = t_child_value(self->root, "k", "v", 1);
	int wc = t_child(self->root, CTXFD_CREATE_WITHOUT_CANCEL);

	ASSERT_LE(0, child);
	ASSERT_LE(0, nocc);
	ASSERT_LE(0, w);
	ASSERT_LE(0, v);
	ASSERT_LE(0, wc);
	EXPECT_EQ(O_RDWR, accmode(self->root));
	EXPECT_EQ(O_RDWR, accmode(child));
	EXPECT_EQ(O_RDWR, accmode(nocc));
	EXPECT_EQ(O_RDONLY, accmode(w));
	EXPECT_EQ(O_RDONLY, accmode(v));
	EXPECT_EQ(O_RDONLY, accmode(wc));
	close(wc);
	close(v);
	close(w);
	close(nocc);
	close(child);
}

TEST_F(rights, fcntl_setfl_cannot_grant_cancel_rights)
{
	int w = t_watch(self->root, 0);

	ASSERT_LE(0, w);
	/* F_SETFL ignores the access mode. */
	ASSERT_EQ(0, fcntl(w, F_SETFL, O_RDWR));
	EXPECT_EQ(O_RDONLY, accmode(w));
	EXPECT_EQ(-1, t_cancel(w, 0, NULL));
	EXPECT_EQ(EPERM, errno);
	EXPECT_FALSE(can_cancel(w));
	close(w);
}

TEST_F(rights, info_can_cancel_is_per_fd)
{
	int w = t_watch(self->root, 0);
	int dr = dup(self->root);
	int dw = dup(w);
	struct ctxfd_info ri, wi;

	ASSERT_LE(0, w);
	ASSERT_LE(0, dr);
	ASSERT_LE(0, dw);
	EXPECT_TRUE(can_cancel(self->root));
	EXPECT_TRUE(can_cancel(dr));
	EXPECT_FALSE(can_cancel(w));
	EXPECT_FALSE(can_cancel(dw));
	/* Same context behind both. */
	ASSERT_EQ(0, t_info(self->root, &ri));
	ASSERT_EQ(0, t_info(w, &wi));
	EXPECT_EQ(ri.id, wi.id);
	EXPECT_EQ(ri.flags & ~CTXFD_INFO_CAN_CANCEL, wi.flags);
	/* A dup of a watch-only fd is watch-only. */
	EXPECT_EQ(-1, t_cancel(dw, 0, NULL));
	EXPECT_EQ(EPERM, errno);
	close(dw);
	close(dr);
	close(w);
}

TEST_F(rights, watch_only_fd_creates_cancelable_children_with_their_own_cancel_fd)
{
	int w = t_watch(self->root, 0);
	int c1, c2;
	struct ctxfd_info ci;

	ASSERT_LE(0, w);
	c1 = t_child(w, 0);
	c2 = t_child(w, 0);
	ASSERT_LE(0, c1);
	ASSERT_LE(0, c2);
	EXPECT_EQ(O_RDWR, accmode(c1));
	ASSERT_EQ(0, t_info(c1, &ci));
	EXPECT_NE(0, ci.flags & CTXFD_INFO_CAN_CANCEL);
	EXPECT_EQ(t_id(self->root), ci.parent_id);
	EXPECT_EQ(2, t_nr_children(w));

	/* The child's fd cancels the child, and only the child. */
	ASSERT_EQ(0, t_cancel(c1, 0, NULL));
	EXPECT_EQ(ECANCELED, t_err(c1));
	EXPECT_EQ(0, t_err(self->root));
	EXPECT_EQ(0, t_err(c2));
	/* The parent's cancel still reaches children made through w. */
	ASSERT_EQ(0, t_cancel(self->root, 4, NULL));
	ASSERT_EQ(0, t_info(c2, &ci));
	EXPECT_EQ(ECANCELED, ci.err);
	EXPECT_EQ(4, ci.cause_code);
	close(c2);
	close(c1);
	close(w);
}

TEST_F(rights, watch_only_fd_derives_more_watch_only_fds)
{
	int w = t_watch(self->root, 0);
	int w2 = w < 0 ? -1 : t_watch(w, 0);
	int w3 = w2 < 0 ? -1 : t_watch(w2, CTXFD_WATCH_NO_CLOEXEC);

	ASSERT_LE(0, w3);
	EXPECT_EQ(O_RDONLY, accmode(w2));
	EXPECT_EQ(O_RDONLY, accmode(w3));
	EXPECT_FALSE(can_cancel(w2));
	EXPECT_FALSE(can_cancel(w3));
	EXPECT_EQ(t_id(self->root), t_id(w3));
	EXPECT_EQ(-1, t_cancel(w3, 0, NULL));
	EXPECT_EQ(EPERM, errno);
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_TRUE(t_readable(w3, 0));
	close(w3);
	close(w2);
	close(w);
}

/* open() /proc/self/fd/@fd; the new fd or -1 with errno. */
static int reopen(int fd, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, flags | O_CLOEXEC);
}

TEST_F(rights, reopening_watch_fd_through_proc_never_yields_cancel_fd)
{
	int w = t_watch(self->root, 0);
	int fd;

	ASSERT_LE(0, w);
	fd = reopen(w, O_RDWR);
	if (fd >= 0) {
		TH_LOG("reopen gave fd %d, accmode %d, can_cancel %d",
		       fd, accmode(fd), can_cancel(fd));
		close(fd);
	}
	ASSERT_EQ(-1, fd);
	/* Anon-inode files cannot be opened: their inode has no open. */
	EXPECT_EQ(ENXIO, errno);
	fd = reopen(w, O_WRONLY);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(0, t_err(self->root));
	close(w);
}

TEST_F(rights, reopening_any_context_fd_through_proc_fails)
{
	int fd = reopen(self->root, O_RDONLY);

	EXPECT_EQ(-1, fd);
	EXPECT_EQ(ENXIO, errno);
	fd = reopen(self->root, O_RDWR);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(ENXIO, errno);
}

TEST_F(rights, failed_reopen_leaves_cancel_on_close_intact)
{
	int child = t_child(self->root, 0);
	int w = t_watch(child, 0);

	ASSERT_LE(0, w);
	EXPECT_EQ(-1, reopen(child, O_RDWR));
	/* No extra cancel-capable file was counted: close still cancels. */
	ASSERT_EQ(0, close(child));
	EXPECT_EQ(ECANCELED, t_err(w));
	close(w);
}

TEST_F(rights, watch_fds_are_cloexec_unless_watch_no_cloexec)
{
	int w = t_watch(self->root, 0);
	int wn = t_watch(self->root, CTXFD_WATCH_NO_CLOEXEC);

	ASSERT_LE(0, w);
	ASSERT_LE(0, wn);
	EXPECT_TRUE(t_cloexec(w));
	EXPECT_FALSE(t_cloexec(wn));
	/* The flag changes only close-on-exec, never the rights. */
	EXPECT_EQ(O_RDONLY, accmode(wn));
	EXPECT_FALSE(can_cancel(wn));
	close(wn);
	close(w);
}

TEST_F(rights, unknown_watch_flag_is_refused)
{
	struct ctxfd_watch args = { .flags = CTXFD_WATCH_NO_CLOEXEC << 1 };

	EXPECT_EQ(-1, ioctl(self->root, CTXFD_IOC_WATCH, &args));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(rights, value_child_is_watch_only_and_done_with_its_parent)
{
	int child = t_child(self->root, 0);
	int v = t_child_value(child, "key", "val", 3);
	struct ctxfd_info info;

	ASSERT_LE(0, v);
	EXPECT_EQ(O_RDONLY, accmode(v));
	ASSERT_EQ(0, t_info(v, &info));
	EXPECT_EQ(0, info.flags & CTXFD_INFO_CAN_CANCEL);
	EXPECT_NE(0, info.flags & CTXFD_INFO_VALUE);
	EXPECT_EQ(-1, t_cancel(v, 0, NULL));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(0, t_err(v));
	EXPECT_EQ(0, t_err(child));

	ASSERT_EQ(0, t_cancel(child, 8, "parent"));
	ASSERT_TRUE(t_readable(v, 0));
	ASSERT_EQ(0, t_info(v, &info));
	EXPECT_EQ(ECANCELED, info.err);
	EXPECT_EQ(8, info.cause_code);
	EXPECT_STREQ("parent", info.cause_msg);
	close(v);
	close(child);
}

TEST_F(rights, value_child_can_create_cancelable_children)
{
	int v = t_child_value(self->root, "k", "v", 1);
	int c = v < 0 ? -1 : t_child(v, 0);

	ASSERT_LE(0, c);
	EXPECT_EQ(O_RDWR, accmode(c));
	EXPECT_TRUE(can_cancel(c));
	ASSERT_EQ(0, t_cancel(c, 0, NULL));
	EXPECT_EQ(0, t_err(v));
	close(c);
	c = t_child(v, 0);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_EQ(ECANCELED, t_err(c));
	close(c);
	close(v);
}

TEST_F(rights, without_cancel_child_is_watch_only)
{
	int wc = t_child(self->root, CTXFD_CREATE_WITHOUT_CANCEL);
	struct ctxfd_info info;

	ASSERT_LE(0, wc);
	ASSERT_EQ(0, t_info(wc, &info));
	EXPECT_EQ(0, info.flags & CTXFD_INFO_CAN_CANCEL);
	EXPECT_NE(0, info.flags & CTXFD_INFO_WITHOUT_CANCEL);
	EXPECT_EQ(-1, t_cancel(wc, 0, NULL));
	EXPECT_EQ(EPERM, errno);
	close(wc);
}

TEST_HARNESS_MAIN
