// SPDX-License-Identifier: GPL-2.0
/*
 * Scale: 100 000-deep chains and 100 000-wide trees are created, canceled
 * and closed in every order without recursion, soft lockups or RCU stalls
 * (the VM harness fails the run on any such report in the kernel log), a
 * cancel reaches the whole subtree before the ioctl returns, and every
 * node is freed once nothing can observe it.
 *
 * CTXFD_SCALE_N overrides the size (default 100000) for quick runs.
 */
#include "kselftest_harness.h"
#include "ctxfd_test.h"

static double ms_since(__u64 start)
{
	return (double)(t_now_ns(CLOCK_MONOTONIC) - start) / 1e6;
}

FIXTURE(scale) {
	int dev;
	int n;		/* nodes below the root */
	int *fds;	/* fds[0] is the root; fds[i] has depth i in a chain */
	long long saved_nodes;	/* max_nodes_per_user to restore, or 0 */
};

FIXTURE_SETUP(scale)
{
	long long depth, nodes;

	self->dev = ctxfd_dev_or_skip();
	self->n = t_scale_n();
	if (!t_raise_nofile((rlim_t)self->n + 1024))
		CTXFD_SKIP("cannot raise RLIMIT_NOFILE to %d", self->n + 1024);
	depth = t_param_get("max_depth");
	nodes = t_param_get("max_nodes_per_user");
	if (depth >= 0 && depth < self->n)
		CTXFD_SKIP("max_depth %lld < %d", depth, self->n);
	if (nodes >= 0 && nodes < self->n + 16)
		CTXFD_SKIP("max_nodes_per_user %lld < %d", nodes, self->n + 16);
	self->fds = calloc((size_t)self->n + 1, sizeof(int));
	ASSERT_NE(NULL, self->fds);
}

FIXTURE_TEARDOWN(scale)
{
	int i;

	if (self->fds)
		for (i = 0; i <= self->n; i++)
			if (self->fds[i] > 0)
				close(self->fds[i]);
	free(self->fds);
	close(self->dev);
	if (self->saved_nodes)
		t_param_set("max_nodes_per_user",
			    (unsigned long long)self->saved_nodes);
}

/*
 * Check that no node of this user is left: with max_nodes_per_user
 * lowered to 8, exactly 8 roots can be created. Root only (it writes the
 * module parameter, and restores it at once).
 */
static void expect_all_freed(struct __test_metadata *_metadata, int dev)
{
	long long saved = t_param_get("max_nodes_per_user");
	int fds[9], n, made = 0, err = 0, restored, i;

	if (geteuid() != 0 || saved < 0) {
		TH_LOG("not root: node leak check skipped");
		return;
	}
	ASSERT_EQ(0, t_param_set("max_nodes_per_user", 8));
	for (n = 0; n < 9; n++) {
		fds[n] = t_new(dev, 0);
		if (fds[n] < 0) {
			err = errno;
			break;
		}
		made++;
	}
	restored = t_param_set("max_nodes_per_user", (unsigned long long)saved);
	for (i = 0; i < made; i++)
		close(fds[i]);
	ASSERT_EQ(0, restored);
	EXPECT_EQ(8, made) TH_LOG("%d nodes of this user still alive", 8 - made);
	EXPECT_EQ(ENOSPC, err);
}

/* Build root + n-deep chain into self->fds, every node with @flags. */
static void build_chain(struct __test_metadata *_metadata,
			FIXTURE_DATA(scale) *self, __u64 flags,
			bool keep_only_leaf)
{
	__u64 start = t_now_ns(CLOCK_MONOTONIC);
	int i, prev;

	self->fds[0] = t_new(self->dev, flags);
	ASSERT_LE(0, self->fds[0]);
	prev = self->fds[0];
	for (i = 1; i <= self->n; i++) {
		int fd = t_child(prev, flags);

		ASSERT_LE(0, fd) TH_LOG("depth %d: %s", i, strerror(errno));
		if (keep_only_leaf && i > 1) {
			close(prev);
			self->fds[i - 1] = 0;
		}
		self->fds[i] = fd;
		prev = fd;
	}
	TH_LOG("built a %d-deep chain%s in %.0f ms", self->n,
	       keep_only_leaf ? " keeping only root and leaf fds" : "",
	       ms_since(start));
}

/* Cancel the root; the leaf must be done the moment the ioctl returned. */
static void cancel_root_expect_leaf_done(struct __test_metadata *_metadata,
					 FIXTURE_DATA(scale) *self)
{
	int leaf = self->fds[self->n];
	struct ctxfd_info info;
	__u64 start;

	ASSERT_EQ(0, t_info(leaf, &info));
	ASSERT_EQ(0, info.err);
	ASSERT_EQ((unsigned)self->n, info.depth);
	start = t_now_ns(CLOCK_MONOTONIC);
	ASSERT_EQ(0, t_cancel(self->fds[0], 77, "chain"));
	TH_LOG("cancel of a %d-deep chain: %.1f ms", self->n, ms_since(start));
	EXPECT_TRUE(t_readable(leaf, 0));
	ASSERT_EQ(0, t_info(leaf, &info));
	EXPECT_EQ(ECANCELED, info.err);
	EXPECT_EQ(77, info.cause_code);
	EXPECT_STREQ("chain", info.cause_msg);
	EXPECT_EQ(0, t_nr_children(self->fds[0]));
}

/* Close fds in the order given; report the total and the slowest close. */
static void close_all(struct __test_metadata *_metadata, int *order, int n,
		      const char *how)
{
	__u64 start = t_now_ns(CLOCK_MONOTONIC), worst = 0;
	int i;

	for (i = 0; i < n; i++) {
		__u64 t0;

		if (order[i] <= 0)
			continue;
		t0 = t_now_ns(CLOCK_MONOTONIC);
		EXPECT_EQ(0, close(order[i]));
		t0 = t_now_ns(CLOCK_MONOTONIC) - t0;
		if (t0 > worst)
			worst = t0;
	}
	TH_LOG("closed %d fds %s in %.0f ms (slowest close %.1f ms)", n, how,
	       ms_since(start), (double)worst / 1e6);
}

TEST_F_TIMEOUT(scale, deep_chain_canceled_then_closed_in_forward_order, 300)
{
	build_chain(_metadata, self, 0, false);
	cancel_root_expect_leaf_done(_metadata, self);
	close_all(_metadata, self->fds, self->n + 1, "root first");
	memset(self->fds, 0, sizeof(int) * (self->n + 1));
	expect_all_freed(_metadata, self->dev);
}

TEST_F_TIMEOUT(scale, deep_chain_canceled_then_closed_in_reverse_order, 300)
{
	int i, *order = calloc((size_t)self->n + 1, sizeof(int));

	ASSERT_NE(NULL, order);
	build_chain(_metadata, self, 0, false);
	cancel_root_expect_leaf_done(_metadata, self);
	for (i = 0; i <= self->n; i++)
		order[i] = self->fds[self->n - i];
	close_all(_metadata, order, self->n + 1, "leaf first");
	memset(self->fds, 0, sizeof(int) * (self->n + 1));
	free(order);
	expect_all_freed(_metadata, self->dev);
}

TEST_F_TIMEOUT(scale, deep_chain_canceled_then_closed_in_random_order, 300)
{
	const __u64 seed = 0x5eed2024;
	int *order = malloc(sizeof(int) * ((size_t)self->n + 1));

	ASSERT_NE(NULL, order);
	build_chain(_metadata, self, 0, false);
	cancel_root_expect_leaf_done(_metadata, self);
	memcpy(order, self->fds, sizeof(int) * ((size_t)self->n + 1));
	t_shuffle(order, (size_t)self->n + 1, seed);
	TH_LOG("random close order, seed %#llx", (unsigned long long)seed);
	close_all(_metadata, order, self->n + 1, "in random order");
	memset(self->fds, 0, sizeof(int) * (self->n + 1));
	free(order);
	expect_all_freed(_metadata, self->dev);
}

/* Uncanceled chains, closed leaf first: every close cancels one node. */
TEST_F_TIMEOUT(scale, deep_active_chain_closed_leaf_first, 300)
{
	int i, *order = calloc((size_t)self->n + 1, sizeof(int));

	ASSERT_NE(NULL, order);
	build_chain(_metadata, self, 0, false);
	for (i = 0; i <= self->n; i++)
		order[i] = self->fds[self->n - i];
	close_all(_metadata, order, self->n + 1, "leaf first, uncanceled");
	memset(self->fds, 0, sizeof(int) * (self->n + 1));
	free(order);
	expect_all_freed(_metadata, self->dev);
}

/* Closing the root of an active chain cancels all of it at once. */
TEST_F_TIMEOUT(scale, deep_active_chain_closing_root_cancels_to_the_leaf, 300)
{
	int leaf;
	struct ctxfd_info info;
	__u64 start;

	build_chain(_metadata, self, 0, false);
	leaf = self->fds[self->n];
	start = t_now_ns(CLOCK_MONOTONIC);
	ASSERT_EQ(0, close(self->fds[0]));
	self->fds[0] = 0;
	TH_LOG("close of the root of a %d-deep chain: %.1f ms", self->n,
	       ms_since(start));
	EXPECT_TRUE(t_readable(leaf, 0));
	ASSERT_EQ(0, t_info(leaf, &info));
	EXPECT_EQ(ECANCELED, info.err);
	EXPECT_EQ(ECANCELED, info.cause_code);
	close_all(_metadata, self->fds, self->n + 1, "root first");
	memset(self->fds, 0, sizeof(int) * (self->n + 1));
	expect_all_freed(_metadata, self->dev);
}

TEST_F_TIMEOUT(scale, deep_chain_of_closed_fds_root_cancel_reaches_leaf, 300)
{
	int leaf, root;

	build_chain(_metadata, self, CTXFD_CREATE_NO_CANCEL_ON_CLOSE, true);
	leaf = self->fds[self->n];
	root = self->fds[0];
	EXPECT_LE(t_nr_fds(), 16) TH_LOG("intermediate fds not closed");
	cancel_root_expect_leaf_done(_metadata, self);
	close(leaf);
	close(root);
	self->fds[self->n] = self->fds[0] = 0;
	expect_all_freed(_metadata, self->dev);
}

/* A chain held only by its leaf fd is freed, whole, by closing the leaf. */
TEST_F_TIMEOUT(scale, deep_chain_of_closed_fds_freed_by_closing_leaf, 300)
{
	struct ctxfd_info info;
	__u64 start;

	build_chain(_metadata, self, CTXFD_CREATE_NO_CANCEL_ON_CLOSE, true);
	/* Drop the root first: the leaf alone holds 100 000 nodes. */
	ASSERT_EQ(0, close(self->fds[0]));
	self->fds[0] = 0;
	ASSERT_EQ(0, t_info(self->fds[self->n], &info));
	EXPECT_EQ(0, info.err) TH_LOG("root close must not cancel: %d",
				      info.err);
	EXPECT_EQ((unsigned)self->n, info.depth);
	start = t_now_ns(CLOCK_MONOTONIC);
	ASSERT_EQ(0, close(self->fds[self->n]));
	self->fds[self->n] = 0;
	TH_LOG("close of the only fd of a %d-node chain: %.1f ms",
	       self->n + 1, ms_since(start));
	expect_all_freed(_metadata, self->dev);
}

/* Number of fds among @fds[0..n) that poll readable right now. */
static int count_readable(int *fds, int n)
{
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	int i, ret;

	if (!p)
		return -1;
	for (i = 0; i < n; i++) {
		p[i].fd = fds[i];
		p[i].events = POLLIN;
	}
	ret = poll(p, (nfds_t)n, 0);
	free(p);
	return ret;
}

TEST_F_TIMEOUT(scale, deep_chain_canceled_in_the_middle_leaves_upper_half_active,
	       300)
{
	int mid = self->n / 2, i, bad = 0;

	build_chain(_metadata, self, 0, false);
	ASSERT_EQ(0, t_cancel(self->fds[mid], 5, "middle"));
	/* Upper half: nothing readable, all active, links intact. */
	EXPECT_EQ(0, count_readable(self->fds, mid));
	for (i = 0; i < mid; i++)
		bad += t_err(self->fds[i]) != 0;
	EXPECT_EQ(0, bad) TH_LOG("%d of the upper %d nodes are not active",
				 bad, mid);
	EXPECT_EQ(0, t_nr_children(self->fds[mid - 1]));
	EXPECT_EQ(1, t_nr_children(self->fds[mid - 2]));
	/* Lower half: all done, with the middle's cause. */
	EXPECT_EQ(self->n + 1 - mid, count_readable(self->fds + mid,
						      self->n + 1 - mid));
	for (bad = 0, i = mid; i <= self->n; i++) {
		struct ctxfd_info info;

		if (t_info(self->fds[i], &info) || info.err != ECANCELED ||
		    info.cause_code != 5)
			bad++;
	}
	EXPECT_EQ(0, bad) TH_LOG("%d of the lower nodes are not canceled", bad);
	/* The upper half still works: cancel it now. */
	ASSERT_EQ(0, t_cancel(self->fds[0], 6, "top"));
	EXPECT_TRUE(t_readable(self->fds[mid - 1], 0));
	EXPECT_EQ(0, t_nr_children(self->fds[0]));
	close_all(_metadata, self->fds, self->n + 1, "root first");
	memset(self->fds, 0, sizeof(int) * (self->n + 1));
	expect_all_freed(_metadata, self->dev);
}

TEST_F_TIMEOUT(scale, wide_tree_cancel_reaches_every_child_before_returning, 300)
{
	__u64 start, ns;
	int i, bad = 0, readable;

	start = t_now_ns(CLOCK_MONOTONIC);
	self->fds[0] = t_new(self->dev, 0);
	ASSERT_LE(0, self->fds[0]);
	for (i = 1; i <= self->n; i++) {
		self->fds[i] = t_child(self->fds[0], 0);
		ASSERT_LE(0, self->fds[i]) TH_LOG("child %d: %s", i,
						  strerror(errno));
	}
	TH_LOG("built a %d-wide tree in %.0f ms", self->n, ms_since(start));
	ASSERT_EQ(self->n, t_nr_children(self->fds[0]));

	start = t_now_ns(CLOCK_MONOTONIC);
	ASSERT_EQ(0, t_cancel(self->fds[0], 99, "wide"));
	ns = t_now_ns(CLOCK_MONOTONIC) - start;
	ksft_print_msg("cancel of a %d-wide tree: %llu ms, %llu ns/node\n",
		       self->n, (unsigned long long)(ns / 1000000),
		       (unsigned long long)(ns / (__u64)self->n));

	/* Every child was done before the ioctl returned: no waiting. */
	readable = count_readable(self->fds + 1, self->n);
	EXPECT_EQ(self->n, readable);
	for (i = 1; i <= self->n; i++) {
		struct ctxfd_info info;

		if (t_info(self->fds[i], &info) || info.err != ECANCELED ||
		    info.cause_code != 99 || strcmp(info.cause_msg, "wide"))
			bad++;
	}
	EXPECT_EQ(0, bad) TH_LOG("%d children not canceled with the root's cause",
				 bad);
	EXPECT_EQ(0, t_nr_children(self->fds[0]));

	close_all(_metadata, self->fds, self->n + 1, "root first");
	memset(self->fds, 0, sizeof(int) * (self->n + 1));
	expect_all_freed(_metadata, self->dev);
}

/*
 * The spec's bound: canceling a 1 000 000-node tree (ten 100 000-deep
 * chains under one root, held only by their leaf fds) and freeing it
 * cause no soft lockup, RCU stall or hung-task report. Needs root to
 * raise max_nodes_per_user for the duration of the test.
 */
TEST_F_TIMEOUT(scale, million_node_tree_cancel_and_free_are_clean, 600)
{
	const int chains = 10;
	long long saved = t_param_get("max_nodes_per_user");
	int leaves[10], c, i, root, bad = 0;
	__u64 start, ns;

	if (geteuid() != 0 || saved < 0)
		CTXFD_SKIP("needs root to raise max_nodes_per_user");
	if (saved < (long long)chains * self->n + 64) {
		ASSERT_EQ(0, t_param_set("max_nodes_per_user",
					 (unsigned long long)chains * self->n + 64));
		self->saved_nodes = saved;
	}
	start = t_now_ns(CLOCK_MONOTONIC);
	root = t_new(self->dev, 0);
	ASSERT_LE(0, root);
	self->fds[0] = root;
	for (c = 0; c < chains; c++) {
		int prev = root;

		for (i = 1; i <= self->n; i++) {
			int fd = t_child(prev, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);

			ASSERT_LE(0, fd) TH_LOG("chain %d depth %d: %s", c, i,
						strerror(errno));
			if (prev != root)
				close(prev);
			prev = fd;
		}
		leaves[c] = prev;
		self->fds[1 + c] = prev;
	}
	TH_LOG("built %d chains of %d under one root in %.0f ms", chains,
	       self->n, ms_since(start));
	EXPECT_EQ(chains, t_nr_children(root));

	start = t_now_ns(CLOCK_MONOTONIC);
	ASSERT_EQ(0, t_cancel(root, 1, "million"));
	ns = t_now_ns(CLOCK_MONOTONIC) - start;
	ksft_print_msg("cancel of a %d-node tree: %llu ms, %llu ns/node\n",
		       chains * self->n + 1, (unsigned long long)(ns / 1000000),
		       (unsigned long long)(ns / ((__u64)chains * self->n)));
	for (c = 0; c < chains; c++) {
		struct ctxfd_info info;

		if (!t_readable(leaves[c], 0) || t_info(leaves[c], &info) ||
		    info.err != ECANCELED || info.cause_code != 1 ||
		    info.depth != (unsigned)self->n)
			bad++;
	}
	EXPECT_EQ(0, bad) TH_LOG("%d leaves not canceled by the root", bad);

	start = t_now_ns(CLOCK_MONOTONIC);
	for (c = 0; c < chains; c++) {
		close(leaves[c]);
		self->fds[1 + c] = 0;
	}
	close(root);
	self->fds[0] = 0;
	TH_LOG("freed %d nodes in %.0f ms", chains * self->n + 1,
	       ms_since(start));
	if (self->saved_nodes) {
		ASSERT_EQ(0, t_param_set("max_nodes_per_user",
					 (unsigned long long)self->saved_nodes));
		self->saved_nodes = 0;
	}
	expect_all_freed(_metadata, self->dev);
}

TEST_HARNESS_MAIN
