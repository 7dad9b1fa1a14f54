// SPDX-License-Identifier: GPL-2.0
/*
 * Cancellation semantics: what a cancel does to a context, its subtree,
 * its parent and its siblings, and what err and cause everyone reports.
 */
#include "kselftest_harness.h"
#include "ctxfd_test.h"

FIXTURE(tree) {
	int dev;
	int root;
};

FIXTURE_SETUP(tree)
{
	self->dev = ctxfd_dev_or_skip();
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);
}

FIXTURE_TEARDOWN(tree)
{
	close(self->root);
	close(self->dev);
}

TEST_F(tree, new_root_is_active_with_no_parent)
{
	struct ctxfd_info info;

	ASSERT_EQ(0, t_info(self->root, &info));
	EXPECT_EQ(0, info.err);
	EXPECT_EQ(0, info.cause_code);
	EXPECT_EQ(0, info.parent_id);
	EXPECT_EQ(0, info.depth);
	EXPECT_EQ(0, info.flags & CTXFD_INFO_DONE);
	EXPECT_NE(0, info.flags & CTXFD_INFO_CAN_CANCEL);
	EXPECT_FALSE(t_readable(self->root, 0));
}

TEST_F(tree, cancel_marks_done_with_ecanceled)
{
	struct ctxfd_info info;

	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	ASSERT_EQ(0, t_info(self->root, &info));
	EXPECT_EQ(ECANCELED, info.err);
	/* No explicit cause: the cause is the err. */
	EXPECT_EQ(ECANCELED, info.cause_code);
	EXPECT_EQ(0, info.cause_msg_len);
	EXPECT_NE(0, info.flags & CTXFD_INFO_DONE);
	EXPECT_TRUE(t_readable(self->root, 0));
}

TEST_F(tree, cancel_records_cause_code_and_message)
{
	struct ctxfd_info info;

	ASSERT_EQ(0, t_cancel(self->root, 42, "upstream went away"));
	ASSERT_EQ(0, t_info(self->root, &info));
	EXPECT_EQ(ECANCELED, info.err);
	EXPECT_EQ(42, info.cause_code);
	EXPECT_EQ(strlen("upstream went away"), info.cause_msg_len);
	EXPECT_STREQ("upstream went away", info.cause_msg);
}

TEST_F(tree, cancel_message_without_code_keeps_err_as_code)
{
	struct ctxfd_info info;

	ASSERT_EQ(0, t_cancel(self->root, 0, "why"));
	ASSERT_EQ(0, t_info(self->root, &info));
	EXPECT_EQ(ECANCELED, info.cause_code);
	EXPECT_STREQ("why", info.cause_msg);
}

TEST_F(tree, longest_cause_message_round_trips)
{
	char msg[CTXFD_CAUSE_MSG_MAX + 1];
	struct ctxfd_info info;

	memset(msg, 'm', CTXFD_CAUSE_MSG_MAX);
	msg[CTXFD_CAUSE_MSG_MAX] = '\0';
	ASSERT_EQ(0, t_cancel(self->root, 7, msg));
	ASSERT_EQ(0, t_info(self->root, &info));
	EXPECT_EQ(CTXFD_CAUSE_MSG_MAX, info.cause_msg_len);
	EXPECT_STREQ(msg, info.cause_msg);
}

TEST_F(tree, first_cancel_wins)
{
	struct ctxfd_info info;

	ASSERT_EQ(0, t_cancel(self->root, 1, "first"));
	/* Later cancels succeed and change nothing. */
	ASSERT_EQ(0, t_cancel(self->root, 2, "second"));
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	ASSERT_EQ(0, t_info(self->root, &info));
	EXPECT_EQ(1, info.cause_code);
	EXPECT_STREQ("first", info.cause_msg);
}

TEST_F(tree, cancel_reaches_whole_subtree_before_returning)
{
	int a = t_child(self->root, 0);
	int b = t_child(self->root, 0);
	int a1 = t_child(a, 0);
	int a2 = t_child(a, 0);
	int a11 = t_child(a1, 0);
	int fds[] = { a, b, a1, a2, a11 };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		ASSERT_LE(0, fds[i]);
	ASSERT_EQ(0, t_cancel(self->root, 9, "all"));
	/* No waiting: everything is done the moment the ioctl returned. */
	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		struct ctxfd_info info;

		ASSERT_TRUE(t_readable(fds[i], 0));
		ASSERT_EQ(0, t_info(fds[i], &info));
		EXPECT_EQ(ECANCELED, info.err);
		/* Descendants inherit the ancestor's cause. */
		EXPECT_EQ(9, info.cause_code);
		EXPECT_STREQ("all", info.cause_msg);
		EXPECT_EQ(0, info.nr_children);
		close(fds[i]);
	}
	EXPECT_EQ(0, t_nr_children(self->root));
}

TEST_F(tree, canceling_child_leaves_parent_and_siblings_alone)
{
	int a = t_child(self->root, 0);
	int b = t_child(self->root, 0);
	int a1 = t_child(a, 0);

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, a1);
	ASSERT_EQ(2, t_nr_children(self->root));

	ASSERT_EQ(0, t_cancel(a, 0, NULL));
	EXPECT_EQ(ECANCELED, t_err(a));
	EXPECT_EQ(ECANCELED, t_err(a1));
	EXPECT_EQ(0, t_err(self->root));
	EXPECT_EQ(0, t_err(b));
	EXPECT_FALSE(t_readable(self->root, 0));
	EXPECT_FALSE(t_readable(b, 0));
	/* The canceled child is unlinked from its parent. */
	EXPECT_EQ(1, t_nr_children(self->root));
	close(a);
	close(b);
	close(a1);
}

TEST_F(tree, child_of_done_parent_is_born_done_with_its_cause)
{
	struct ctxfd_info info;
	int child;

	ASSERT_EQ(0, t_cancel(self->root, 5, "gone"));
	child = t_child(self->root, 0);
	ASSERT_LE(0, child);
	ASSERT_EQ(0, t_info(child, &info));
	EXPECT_EQ(ECANCELED, info.err);
	EXPECT_EQ(5, info.cause_code);
	EXPECT_STREQ("gone", info.cause_msg);
	EXPECT_TRUE(t_readable(child, 0));
	EXPECT_EQ(0, t_nr_children(self->root));
	close(child);
}

TEST_F(tree, canceled_child_cannot_be_revived_by_parent_cancel)
{
	struct ctxfd_info info;
	int child = t_child(self->root, 0);

	ASSERT_LE(0, child);
	ASSERT_EQ(0, t_cancel(child, 1, "child"));
	ASSERT_EQ(0, t_cancel(self->root, 2, "root"));
	ASSERT_EQ(0, t_info(child, &info));
	EXPECT_EQ(1, info.cause_code);
	EXPECT_STREQ("child", info.cause_msg);
	close(child);
}

TEST_F(tree, ids_are_unique_and_parent_ids_and_depths_match)
{
	struct ctxfd_info ri, ci, gi;
	int child = t_child(self->root, 0);
	int grand = t_child(child, 0);

	ASSERT_LE(0, grand);
	ASSERT_EQ(0, t_info(self->root, &ri));
	ASSERT_EQ(0, t_info(child, &ci));
	ASSERT_EQ(0, t_info(grand, &gi));
	EXPECT_NE(ri.id, ci.id);
	EXPECT_NE(ci.id, gi.id);
	EXPECT_EQ(ri.id, ci.parent_id);
	EXPECT_EQ(ci.id, gi.parent_id);
	EXPECT_EQ(1, ci.depth);
	EXPECT_EQ(2, gi.depth);
	EXPECT_EQ(1, ri.nr_children);
	EXPECT_EQ(1, ci.nr_children);
	close(grand);
	close(child);
}

TEST_F(tree, independent_roots_do_not_affect_each_other)
{
	int other = t_new(self->dev, 0);
	int oc = t_child(other, 0);

	ASSERT_LE(0, oc);
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_EQ(0, t_err(other));
	EXPECT_EQ(0, t_err(oc));
	close(oc);
	close(other);
}

TEST_HARNESS_MAIN
