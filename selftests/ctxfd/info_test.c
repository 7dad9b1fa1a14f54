// SPDX-License-Identifier: GPL-2.0
/*
 * CTXFD_IOC_INFO: what it fills in (mask), the flags for every kind of
 * context and fd, nr_children, ids, and the extensible-struct rules: a
 * bigger struct gets its tail zeroed, a smaller one than the first
 * published size gets EINVAL, and every byte is written whatever the
 * buffer held.
 */
#define _GNU_SOURCE

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#define INFO_NEEDED (CTXFD_INFO_ID | CTXFD_INFO_STATE | CTXFD_INFO_CAUSE | \
		     CTXFD_INFO_DEADLINE)
#define INFO_KNOWN (INFO_NEEDED | CTXFD_INFO_ATTACH | CTXFD_INFO_ORIGIN | \
		    CTXFD_INFO_TEARDOWN | CTXFD_INFO_DRAIN)

FIXTURE(info) {
	int dev;
	int root;
};

FIXTURE_SETUP(info)
{
	self->dev = ctxfd_dev_or_skip();
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);
}

FIXTURE_TEARDOWN(info)
{
	close(self->root);
	close(self->dev);
}

static __u64 info_flags(int fd)
{
	struct ctxfd_info info;

	return t_info(fd, &info) ? ~0ULL : info.flags;
}

TEST_F(info, info_fills_mask_id_state_cause_deadline)
{
	struct ctxfd_info info;
	int w = t_watch(self->root, 0);

	ASSERT_LE(0, w);
	ASSERT_EQ(0, t_info(self->root, &info));
	EXPECT_EQ(INFO_NEEDED, info.mask & INFO_NEEDED);
	EXPECT_EQ(0, info.mask & ~(__u64)INFO_KNOWN);
	ASSERT_EQ(0, t_info(w, &info));
	EXPECT_EQ(INFO_NEEDED, info.mask & INFO_NEEDED);
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	ASSERT_EQ(0, t_info(self->root, &info));
	EXPECT_EQ(INFO_NEEDED, info.mask & INFO_NEEDED);
	close(w);
}

TEST_F(info, info_flags_for_each_kind_of_context_and_fd)
{
	int w = t_watch(self->root, 0);
	int nocc = t_child(self->root, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
	int v = t_child_value(self->root, "k", "v", 1);
	int wc = t_child(self->root, CTXFD_CREATE_WITHOUT_CANCEL);

	ASSERT_LE(0, w);
	ASSERT_LE(0, nocc);
	ASSERT_LE(0, v);
	ASSERT_LE(0, wc);
	EXPECT_EQ(CTXFD_INFO_CAN_CANCEL, info_flags(self->root));
	EXPECT_EQ(0, info_flags(w));
	EXPECT_EQ(CTXFD_INFO_CAN_CANCEL | CTXFD_INFO_NO_CANCEL_ON_CLOSE,
		  info_flags(nocc));
	EXPECT_EQ(CTXFD_INFO_VALUE, info_flags(v));
	EXPECT_EQ(CTXFD_INFO_WITHOUT_CANCEL, info_flags(wc));

	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_EQ(CTXFD_INFO_CAN_CANCEL | CTXFD_INFO_DONE,
		  info_flags(self->root));
	EXPECT_EQ(CTXFD_INFO_DONE, info_flags(w));
	EXPECT_EQ(CTXFD_INFO_CAN_CANCEL | CTXFD_INFO_NO_CANCEL_ON_CLOSE |
		  CTXFD_INFO_DONE, info_flags(nocc));
	EXPECT_EQ(CTXFD_INFO_VALUE | CTXFD_INFO_DONE, info_flags(v));
	/* WithoutCancel is never done. */
	EXPECT_EQ(CTXFD_INFO_WITHOUT_CANCEL, info_flags(wc));
	close(wc);
	close(v);
	close(nocc);
	close(w);
}

TEST_F(info, value_root_is_never_done_and_watch_only)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_VALUE,
		.key = (uintptr_t)"k",
		.key_len = 1,
	};
	int v = ioctl(self->dev, CTXFD_IOC_NEW, &args);
	struct ctxfd_info info;

	ASSERT_LE(0, v);
	ASSERT_EQ(0, t_info(v, &info));
	EXPECT_EQ(CTXFD_INFO_VALUE, info.flags);
	EXPECT_EQ(O_RDONLY, fcntl(v, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(-1, t_cancel(v, 0, NULL));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(0, info.parent_id);
	EXPECT_EQ(0, info.depth);
	close(v);
}

static int child_deadline(int parent, __s64 ns, clockid_t clk)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_DEADLINE,
		.deadline_ns = ns,
		.clockid = (__u32)clk,
	};

	return ioctl(parent, CTXFD_IOC_CREATE, &args);
}

TEST_F(info, deadline_fields_and_flags)
{
	__s64 d = (__s64)t_now_ns(CLOCK_MONOTONIC) + 3600 * 1000000000LL;
	int own = child_deadline(self->root, d, CLOCK_MONOTONIC);
	int inherits = own < 0 ? -1 : t_child(own, 0);
	int later = own < 0 ? -1 :
		child_deadline(own, d + 1000000000LL, CLOCK_MONOTONIC);
	struct ctxfd_info info;

	ASSERT_LE(0, inherits);
	ASSERT_LE(0, later);
	ASSERT_EQ(0, t_info(self->root, &info));
	EXPECT_EQ(0, info.flags & CTXFD_INFO_HAS_DEADLINE);
	EXPECT_EQ(0, info.deadline_ns);
	EXPECT_EQ(0, info.clockid);

	ASSERT_EQ(0, t_info(own, &info));
	EXPECT_EQ(CTXFD_INFO_CAN_CANCEL | CTXFD_INFO_HAS_DEADLINE |
		  CTXFD_INFO_OWN_TIMER, info.flags);
	EXPECT_EQ(d, info.deadline_ns);
	EXPECT_EQ(CLOCK_MONOTONIC, info.clockid);

	ASSERT_EQ(0, t_info(inherits, &info));
	EXPECT_EQ(CTXFD_INFO_CAN_CANCEL | CTXFD_INFO_HAS_DEADLINE, info.flags);
	EXPECT_EQ(d, info.deadline_ns);

	/* A later deadline of its own changes nothing: the parent's wins. */
	ASSERT_EQ(0, t_info(later, &info));
	EXPECT_EQ(CTXFD_INFO_CAN_CANCEL | CTXFD_INFO_HAS_DEADLINE, info.flags);
	EXPECT_EQ(d, info.deadline_ns);
	EXPECT_EQ(CLOCK_MONOTONIC, info.clockid);
	close(later);
	close(inherits);
	close(own);
}

TEST_F(info, nr_children_counts_active_children_only)
{
	int c1 = t_child(self->root, 0);
	int c2 = t_child(self->root, 0);
	int nocc = t_child(self->root, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
	int v = t_child_value(self->root, "k", "v", 1);
	int wc = t_child(self->root, CTXFD_CREATE_WITHOUT_CANCEL);
	int g1, g2, expired;
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_DEADLINE,
		.deadline_ns = 1,	/* long past */
		.clockid = CLOCK_MONOTONIC,
	};

	ASSERT_LE(0, c1);
	ASSERT_LE(0, c2);
	ASSERT_LE(0, nocc);
	ASSERT_LE(0, v);
	ASSERT_LE(0, wc);
	/* WithoutCancel is not linked under its parent. */
	EXPECT_EQ(4, t_nr_children(self->root));
	/* Grandchildren count for their own parent only. */
	g1 = t_child(c2, 0);
	g2 = t_child(c2, 0);
	ASSERT_LE(0, g2);
	EXPECT_EQ(4, t_nr_children(self->root));
	EXPECT_EQ(2, t_nr_children(c2));
	/* A child born done is never active. */
	expired = ioctl(self->root, CTXFD_IOC_CREATE, &args);
	ASSERT_LE(0, expired);
	ASSERT_EQ(ETIMEDOUT, t_err(expired));
	EXPECT_EQ(4, t_nr_children(self->root));

	ASSERT_EQ(0, t_cancel(c1, 0, NULL));
	EXPECT_EQ(3, t_nr_children(self->root));
	ASSERT_EQ(0, t_cancel(g1, 0, NULL));
	EXPECT_EQ(1, t_nr_children(c2));
	ASSERT_EQ(0, t_cancel(c2, 0, NULL));
	EXPECT_EQ(0, t_nr_children(c2));
	EXPECT_EQ(2, t_nr_children(self->root));
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_EQ(0, t_nr_children(self->root));
	close(expired);
	close(g2);
	close(g1);
	close(wc);
	close(v);
	close(nocc);
	close(c2);
	close(c1);
}

TEST_F(info, ids_are_unique_and_increasing_across_processes)
{
	__u64 before = t_id(self->root), theirs = 0, after, last;
	int p[2], i, fd;
	pid_t pid;

	ASSERT_NE(0, before);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
		int mine = dev < 0 ? -1 : t_new(dev, 0);
		__u64 id = mine < 0 ? 0 : t_id(mine);

		_exit(write(p[1], &id, sizeof(id)) == sizeof(id) ? 0 : 10);
	}
	ASSERT_EQ(0, t_wait_status(pid));
	ASSERT_EQ(sizeof(theirs), read(p[0], &theirs, sizeof(theirs)));
	fd = t_new(self->dev, 0);
	ASSERT_LE(0, fd);
	after = t_id(fd);
	close(fd);
	EXPECT_LT(before, theirs);
	EXPECT_LT(theirs, after);
	/* Ids of freed contexts are never handed out again. */
	last = after;
	for (i = 0; i < 16; i++) {
		__u64 id;

		fd = t_child(self->root, 0);
		ASSERT_LE(0, fd);
		id = t_id(fd);
		close(fd);
		ASSERT_LT(last, id);
		last = id;
	}
	close(p[0]);
	close(p[1]);
}

struct info_big {
	struct ctxfd_info info;
	unsigned char tail[72];
};

#define CTXFD_IOC_INFO_BIG _IOR(CTXFD_IOC_MAGIC, 0x05, struct info_big)

TEST_F(info, larger_struct_gets_its_tail_zero_filled)
{
	struct info_big big;
	struct ctxfd_info info;
	size_t i;

	ASSERT_EQ(0, t_cancel(self->root, 5, "tail"));
	memset(&big, 0xa5, sizeof(big));
	ASSERT_EQ(0, ioctl(self->root, CTXFD_IOC_INFO_BIG, &big));
	for (i = 0; i < sizeof(big.tail); i++)
		ASSERT_EQ(0, big.tail[i]) TH_LOG("tail byte %zu", i);
	/* The known part is what the normal size reports. */
	ASSERT_EQ(0, t_info(self->root, &info));
	EXPECT_EQ(0, memcmp(&info, &big.info, sizeof(info)));
	EXPECT_EQ(5, big.info.cause_code);
	EXPECT_STREQ("tail", big.info.cause_msg);
}

struct info_small {
	unsigned char b[CTXFD_INFO_SIZE_VER0 - 1];
};

struct info_tiny {
	__u64 mask;
};

#define CTXFD_IOC_INFO_SMALL _IOR(CTXFD_IOC_MAGIC, 0x05, struct info_small)
#define CTXFD_IOC_INFO_TINY _IOR(CTXFD_IOC_MAGIC, 0x05, struct info_tiny)

TEST_F(info, struct_smaller_than_ver0_gets_einval)
{
	struct info_small small;
	struct info_tiny tiny;
	size_t i;

	memset(&small, 0xa5, sizeof(small));
	EXPECT_EQ(-1, ioctl(self->root, CTXFD_IOC_INFO_SMALL, &small));
	EXPECT_EQ(EINVAL, errno);
	for (i = 0; i < sizeof(small.b); i++)
		ASSERT_EQ(0xa5, small.b[i]) TH_LOG("byte %zu written", i);
	tiny.mask = 0;
	EXPECT_EQ(-1, ioctl(self->root, CTXFD_IOC_INFO_TINY, &tiny));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, tiny.mask);
}

TEST_F(info, every_byte_is_written_whatever_the_buffer_held)
{
	struct ctxfd_info a, b;

	/* Active, then done with a message: both ways. */
	memset(&a, 0x00, sizeof(a));
	memset(&b, 0xff, sizeof(b));
	ASSERT_EQ(0, ioctl(self->root, CTXFD_IOC_INFO, &a));
	ASSERT_EQ(0, ioctl(self->root, CTXFD_IOC_INFO, &b));
	EXPECT_EQ(0, memcmp(&a, &b, sizeof(a)));

	ASSERT_EQ(0, t_cancel(self->root, 1, "m"));
	memset(&a, 0x00, sizeof(a));
	memset(&b, 0xff, sizeof(b));
	ASSERT_EQ(0, ioctl(self->root, CTXFD_IOC_INFO, &a));
	ASSERT_EQ(0, ioctl(self->root, CTXFD_IOC_INFO, &b));
	EXPECT_EQ(0, memcmp(&a, &b, sizeof(a)));
}

TEST_F(info, active_context_reports_zero_err_cause_and_message)
{
	struct ctxfd_info info;
	size_t i;

	ASSERT_EQ(0, t_info(self->root, &info));	/* prefilled 0xa5 */
	EXPECT_EQ(0, info.err);
	EXPECT_EQ(0, info.cause_code);
	EXPECT_EQ(0, info.cause_msg_len);
	for (i = 0; i < sizeof(info.cause_msg); i++)
		ASSERT_EQ(0, info.cause_msg[i]) TH_LOG("byte %zu", i);
}

TEST_F(info, cause_msg_is_nul_terminated)
{
	char longest[CTXFD_CAUSE_MSG_MAX + 1];
	struct ctxfd_info info;
	int child = t_child(self->root, 0);
	size_t i;

	ASSERT_LE(0, child);
	ASSERT_EQ(0, t_cancel(child, 2, "abc"));
	ASSERT_EQ(0, t_info(child, &info));	/* prefilled 0xa5 */
	EXPECT_EQ(3, info.cause_msg_len);
	EXPECT_EQ(0, memcmp(info.cause_msg, "abc", 4));
	/* Nothing after the NUL either. */
	for (i = 4; i < sizeof(info.cause_msg); i++)
		ASSERT_EQ(0, info.cause_msg[i]) TH_LOG("byte %zu", i);

	memset(longest, 'z', CTXFD_CAUSE_MSG_MAX);
	longest[CTXFD_CAUSE_MSG_MAX] = '\0';
	ASSERT_EQ(0, t_cancel(self->root, 2, longest));
	ASSERT_EQ(0, t_info(self->root, &info));
	EXPECT_EQ(CTXFD_CAUSE_MSG_MAX, info.cause_msg_len);
	EXPECT_EQ(0, info.cause_msg[CTXFD_CAUSE_MSG_MAX]);
	EXPECT_EQ(0, memcmp(info.cause_msg, longest, CTXFD_CAUSE_MSG_MAX));
	close(child);
}

TEST_F(info, id_parent_and_depth_are_the_same_through_every_fd)
{
	int child = t_child(self->root, 0);
	int w = t_watch(child, 0);
	int d = dup(w);
	struct ctxfd_info a, b, c;

	ASSERT_LE(0, d);
	ASSERT_EQ(0, t_info(child, &a));
	ASSERT_EQ(0, t_info(w, &b));
	ASSERT_EQ(0, t_info(d, &c));
	EXPECT_EQ(a.id, b.id);
	EXPECT_EQ(a.id, c.id);
	EXPECT_EQ(t_id(self->root), a.parent_id);
	EXPECT_EQ(a.parent_id, b.parent_id);
	EXPECT_EQ(1, b.depth);
	close(d);
	close(w);
	close(child);
}

TEST_HARNESS_MAIN
