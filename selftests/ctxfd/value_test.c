// SPDX-License-Identifier: GPL-2.0
/*
 * Values (Go's WithValue / ctx.Value) and WithoutCancel: lookups walk to
 * the root, the nearest binding wins, a nil binding shadows, "" is a
 * value and not nil, sizes are bounded, and values cross processes with
 * the fd.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

static int child_without_cancel(int parent)
{
	return t_child(parent, CTXFD_CREATE_WITHOUT_CANCEL);
}

/* Look @key up and compare with the NUL-terminated @want. */
static bool lookup_is(int fd, const char *key, const char *want)
{
	char buf[256];
	__u32 len = sizeof(buf);

	if (t_lookup(fd, key, buf, &len))
		return false;
	return len == strlen(want) && !memcmp(buf, want, len);
}

static unsigned int read_param(const char *name)
{
	char path[128];
	unsigned int v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/ctxfd/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%u", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

FIXTURE(value) {
	int dev;
	int root;
};

FIXTURE_SETUP(value)
{
	self->dev = ctxfd_dev_or_skip();
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);
}

FIXTURE_TEARDOWN(value)
{
	close(self->root);
	close(self->dev);
}

TEST_F(value, lookup_finds_binding_and_its_owner)
{
	struct ctxfd_lookup args = {};
	char buf[16];
	int v = t_child_value(self->root, "user", "alice", 5);

	ASSERT_LE(0, v);
	args.key = (uintptr_t)"user";
	args.key_len = 4;
	args.value = (uintptr_t)buf;
	args.value_len = sizeof(buf);
	ASSERT_EQ(0, ioctl(v, CTXFD_IOC_LOOKUP, &args));
	EXPECT_EQ(5, args.value_len);
	EXPECT_EQ(0, memcmp(buf, "alice", 5));
	EXPECT_EQ(t_id(v), args.owner_id);
	close(v);
}

TEST_F(value, lookup_walks_up_through_cancelable_descendants)
{
	int v = t_child_value(self->root, "trace", "abc123", 6);
	int c1 = t_child(v, 0);
	int c2 = t_child(c1, 0);

	ASSERT_LE(0, c2);
	EXPECT_TRUE(lookup_is(c2, "trace", "abc123"));
	close(c2);
	close(c1);
	close(v);
}

TEST_F(value, missing_key_gives_enoent)
{
	char buf[8];
	__u32 len = sizeof(buf);
	int v = t_child_value(self->root, "a", "1", 1);

	ASSERT_LE(0, v);
	ASSERT_EQ(-1, t_lookup(v, "b", buf, &len));
	EXPECT_EQ(ENOENT, errno);
	len = sizeof(buf);
	ASSERT_EQ(-1, t_lookup(self->root, "a", buf, &len));
	EXPECT_EQ(ENOENT, errno);
	close(v);
}

TEST_F(value, keys_compare_as_exact_byte_strings)
{
	int v = t_child_value(self->root, "key", "v", 1);
	char buf[8];
	__u32 len = sizeof(buf);

	ASSERT_LE(0, v);
	EXPECT_EQ(-1, t_lookup(v, "ke", buf, &len));
	len = sizeof(buf);
	EXPECT_EQ(-1, t_lookup(v, "keys", buf, &len));
	len = sizeof(buf);
	EXPECT_EQ(-1, t_lookup(v, "KEY", buf, &len));
	EXPECT_TRUE(lookup_is(v, "key", "v"));
	close(v);
}

TEST_F(value, nearest_binding_wins)
{
	int outer = t_child_value(self->root, "k", "outer", 5);
	int mid = t_child(outer, 0);
	int inner = t_child_value(mid, "k", "inner", 5);
	int leaf = t_child(inner, 0);

	ASSERT_LE(0, leaf);
	EXPECT_TRUE(lookup_is(leaf, "k", "inner"));
	EXPECT_TRUE(lookup_is(mid, "k", "outer"));
	close(leaf);
	close(inner);
	close(mid);
	close(outer);
}

TEST_F(value, nil_value_shadows_older_bindings)
{
	struct ctxfd_lookup args = {};
	int outer = t_child_value(self->root, "k", "outer", 5);
	int inner = t_child_value(outer, "k", NULL, 0);

	ASSERT_LE(0, inner);
	args.key = (uintptr_t)"k";
	args.key_len = 1;
	ASSERT_EQ(0, ioctl(inner, CTXFD_IOC_LOOKUP, &args));
	EXPECT_EQ(0, args.value_len);
	EXPECT_EQ(t_id(inner), args.owner_id);
	EXPECT_EQ(CTXFD_LOOKUP_NIL, args.result_flags);
	close(inner);
	close(outer);
}

/* Go tells "" from nil: value_len 0 with a value pointer binds "". */
TEST_F(value, empty_value_is_a_value_not_nil)
{
	struct ctxfd_lookup args = {};
	int outer = t_child_value(self->root, "k", "outer", 5);
	int empty = t_child_value(outer, "k", "", 0);
	int nil = t_child_value(empty, "k", NULL, 0);

	ASSERT_LE(0, outer);
	ASSERT_LE(0, empty) TH_LOG("binding \"\": %s", strerror(errno));
	ASSERT_LE(0, nil);
	args.key = (uintptr_t)"k";
	args.key_len = 1;
	ASSERT_EQ(0, ioctl(empty, CTXFD_IOC_LOOKUP, &args));
	EXPECT_EQ(0, args.value_len);
	EXPECT_EQ(t_id(empty), args.owner_id);
	EXPECT_EQ(CTXFD_LOOKUP_VALUE, args.result_flags);

	/* A struct reused as it came back: result_flags is output only. */
	ASSERT_EQ(0, ioctl(nil, CTXFD_IOC_LOOKUP, &args));
	EXPECT_EQ(t_id(nil), args.owner_id);
	EXPECT_EQ(CTXFD_LOOKUP_NIL, args.result_flags);
	args.result_flags = 0xffffffffu;
	ASSERT_EQ(0, ioctl(empty, CTXFD_IOC_LOOKUP, &args));
	EXPECT_EQ(CTXFD_LOOKUP_VALUE, args.result_flags);
	close(nil);
	close(empty);
	close(outer);
}

/* The pointer of an empty value is never read: any non-zero one is "". */
TEST_F(value, empty_value_pointer_is_not_read)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_VALUE,
		.key = (uintptr_t)"k", .key_len = 1,
		.value = 1, .value_len = 0,
	};
	struct ctxfd_lookup l = { .key = (uintptr_t)"k", .key_len = 1 };
	int v = ioctl(self->root, CTXFD_IOC_CREATE, &args);

	ASSERT_LE(0, v) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, ioctl(v, CTXFD_IOC_LOOKUP, &l));
	EXPECT_EQ(CTXFD_LOOKUP_VALUE, l.result_flags);
	close(v);
}

/* Values found with a too small buffer say what they are too. */
TEST_F(value, erange_reports_result_flags)
{
	struct ctxfd_lookup args = {
		.key = (uintptr_t)"k", .key_len = 1,
		.result_flags = 0,
	};
	int v = t_child_value(self->root, "k", "abc", 3);

	ASSERT_LE(0, v);
	ASSERT_EQ(-1, ioctl(v, CTXFD_IOC_LOOKUP, &args));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(3, args.value_len);
	EXPECT_EQ(CTXFD_LOOKUP_VALUE, args.result_flags);
	EXPECT_EQ(t_id(v), args.owner_id);
	close(v);
}

/*
 * Programs built against the first, 40-byte struct keep working (and
 * cannot tell nil from "", as before).
 */
TEST_F(value, first_size_lookup_still_works)
{
	unsigned long cmd40 = _IOC(_IOC_READ | _IOC_WRITE, CTXFD_IOC_MAGIC,
				   _IOC_NR(CTXFD_IOC_LOOKUP),
				   CTXFD_LOOKUP_SIZE_VER0);
	int empty = t_child_value(self->root, "e", "", 0);
	int nil = t_child_value(empty, "n", NULL, 0);
	int one = t_child_value(nil, "o", "1", 1);
	struct {
		struct ctxfd_lookup l;
		__u64 canary;
	} a;
	char c = 0;

	ASSERT_EQ(CTXFD_LOOKUP_SIZE_VER1, sizeof(struct ctxfd_lookup));
	ASSERT_LE(0, one);
	memset(&a, 0, sizeof(a));
	a.l.key = (uintptr_t)"e";
	a.l.key_len = 1;
	a.l.result_flags = 0x5a5a5a5a;	/* beyond 40 bytes: not written */
	a.l.__reserved = 0x5a5a5a5a;
	ASSERT_EQ(0, ioctl(one, cmd40, &a.l));
	EXPECT_EQ(0, a.l.value_len);
	EXPECT_EQ(t_id(empty), a.l.owner_id);
	EXPECT_EQ(0x5a5a5a5a, a.l.result_flags);
	a.l.key = (uintptr_t)"n";
	ASSERT_EQ(0, ioctl(one, cmd40, &a.l));
	EXPECT_EQ(0, a.l.value_len);
	EXPECT_EQ(t_id(nil), a.l.owner_id);
	a.l.key = (uintptr_t)"o";
	a.l.value = (uintptr_t)&c;
	a.l.value_len = 1;
	ASSERT_EQ(0, ioctl(one, cmd40, &a.l));
	EXPECT_EQ('1', c);
	EXPECT_EQ(0x5a5a5a5a, a.l.__reserved);
	close(one);
	close(nil);
	close(empty);
}

TEST_F(value, small_buffer_gets_erange_and_needed_length)
{
	char buf[4] = "xxx";
	__u32 len = 3;
	int v = t_child_value(self->root, "k", "longer value", 12);

	ASSERT_LE(0, v);
	ASSERT_EQ(-1, t_lookup(v, "k", buf, &len));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(12, len);
	EXPECT_STREQ("xxx", buf);	/* nothing copied */
	close(v);
}

TEST_F(value, binary_values_with_nul_bytes_round_trip)
{
	const char val[] = { 0, 1, 2, 0, (char)0xff };
	char buf[8];
	__u32 len = sizeof(buf);
	int v = t_child_value(self->root, "bin", val, sizeof(val));

	ASSERT_LE(0, v);
	ASSERT_EQ(0, t_lookup(v, "bin", buf, &len));
	EXPECT_EQ(sizeof(val), len);
	EXPECT_EQ(0, memcmp(buf, val, sizeof(val)));
	close(v);
}

TEST_F(value, key_and_value_at_limits_work_and_one_more_is_e2big)
{
	unsigned int kmax = read_param("max_key_len");
	unsigned int vmax = read_param("max_value_len");
	char *key, *val;
	int v;

	ASSERT_LT(0, kmax);
	ASSERT_LT(0, vmax);
	key = malloc(kmax + 2);
	val = malloc(vmax + 1);
	ASSERT_NE(NULL, key);
	ASSERT_NE(NULL, val);
	memset(key, 'k', kmax + 1);
	key[kmax] = '\0';
	memset(val, 'v', vmax + 1);

	v = t_child_value(self->root, key, val, vmax);
	ASSERT_LE(0, v);
	close(v);

	ASSERT_EQ(-1, t_child_value(self->root, key, val, vmax + 1));
	EXPECT_EQ(E2BIG, errno);
	key[kmax] = 'k';
	key[kmax + 1] = '\0';
	ASSERT_EQ(-1, t_child_value(self->root, key, val, 1));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(0, t_nr_children(self->root));
	free(key);
	free(val);
}

TEST_F(value, values_child_is_watch_only_and_follows_parent_cancel)
{
	struct ctxfd_info info;
	int v = t_child_value(self->root, "k", "v", 1);

	ASSERT_LE(0, v);
	ASSERT_EQ(0, t_info(v, &info));
	EXPECT_NE(0, info.flags & CTXFD_INFO_VALUE);
	EXPECT_EQ(0, info.flags & CTXFD_INFO_CAN_CANCEL);
	ASSERT_EQ(-1, t_cancel(v, 0, NULL));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(1, t_nr_children(self->root));

	ASSERT_EQ(0, t_cancel(self->root, 3, "parent"));
	ASSERT_EQ(0, t_info(v, &info));
	EXPECT_EQ(ECANCELED, info.err);
	EXPECT_EQ(3, info.cause_code);
	EXPECT_STREQ("parent", info.cause_msg);
	close(v);
}

TEST_F(value, values_child_follows_parent_deadline)
{
	struct ctxfd_info pi, vi;
	int p = t_child_timeout(self->root, 20 * 1000000LL);
	int v = t_child_value(p, "k", "v", 1);

	ASSERT_LE(0, v);
	ASSERT_EQ(0, t_info(p, &pi));
	ASSERT_EQ(0, t_info(v, &vi));
	EXPECT_EQ(pi.deadline_ns, vi.deadline_ns);
	ASSERT_TRUE(t_readable(v, 10000));
	EXPECT_EQ(ETIMEDOUT, t_err(v));
	close(v);
	close(p);
}

TEST_F(value, closing_values_child_unlinks_it)
{
	int v = t_child_value(self->root, "k", "v", 1);

	ASSERT_LE(0, v);
	EXPECT_EQ(1, t_nr_children(self->root));
	close(v);
	EXPECT_EQ(0, t_nr_children(self->root));
	EXPECT_EQ(0, t_err(self->root));
}

TEST_F(value, values_root_is_never_done)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_VALUE,
		.key = (uintptr_t)"k",
		.key_len = 1,
		.value = (uintptr_t)"v",
		.value_len = 1,
	};
	int r = ioctl(self->dev, CTXFD_IOC_NEW, &args);
	int c;

	ASSERT_LE(0, r);
	EXPECT_EQ(0, t_err(r));
	EXPECT_TRUE(lookup_is(r, "k", "v"));
	ASSERT_EQ(-1, t_cancel(r, 0, NULL));
	EXPECT_EQ(EPERM, errno);
	c = t_child(r, 0);
	ASSERT_LE(0, c);
	EXPECT_TRUE(lookup_is(c, "k", "v"));
	ASSERT_EQ(0, t_cancel(c, 0, NULL));
	EXPECT_EQ(0, t_err(r));
	close(c);
	close(r);
}

TEST_F(value, without_cancel_keeps_values_but_ignores_parent_cancel)
{
	struct ctxfd_info info;
	int v = t_child_value(self->root, "k", "v", 1);
	int w = child_without_cancel(v);
	int wc;

	ASSERT_LE(0, w);
	EXPECT_TRUE(lookup_is(w, "k", "v"));
	ASSERT_EQ(0, t_info(w, &info));
	EXPECT_NE(0, info.flags & CTXFD_INFO_WITHOUT_CANCEL);
	EXPECT_EQ(0, info.flags & CTXFD_INFO_CAN_CANCEL);
	EXPECT_EQ(t_id(v), info.parent_id);
	/* Not linked under the parent for cancellation. */
	EXPECT_EQ(0, t_nr_children(v));

	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_EQ(ECANCELED, t_err(v));
	EXPECT_EQ(0, t_err(w));
	EXPECT_FALSE(t_readable(w, 0));
	ASSERT_EQ(-1, t_cancel(w, 0, NULL));
	EXPECT_EQ(EPERM, errno);

	/* Children of a WithoutCancel context are cancelable as usual. */
	wc = t_child(w, 0);
	ASSERT_LE(0, wc);
	EXPECT_EQ(0, t_err(wc));
	EXPECT_TRUE(lookup_is(wc, "k", "v"));
	ASSERT_EQ(0, t_cancel(wc, 0, NULL));
	EXPECT_EQ(0, t_err(w));
	close(wc);
	close(w);
	close(v);
}

TEST_F(value, without_cancel_has_no_deadline_even_under_one)
{
	struct ctxfd_info info;
	int p = t_child_timeout(self->root, 10 * 1000000LL);
	int w = child_without_cancel(p);

	ASSERT_LE(0, w);
	ASSERT_EQ(0, t_info(w, &info));
	EXPECT_EQ(0, info.flags & CTXFD_INFO_HAS_DEADLINE);
	ASSERT_TRUE(t_readable(p, 10000));
	EXPECT_EQ(0, t_err(w));
	close(w);
	close(p);
}

TEST_F(value, without_cancel_under_done_parent_is_active)
{
	int w;

	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	w = child_without_cancel(self->root);
	ASSERT_LE(0, w);
	EXPECT_EQ(0, t_err(w));
	close(w);
}

TEST_F(value, lookup_works_in_forked_child)
{
	int v = t_child_value(self->root, "k", "forked", 6);
	pid_t pid;
	int status;

	ASSERT_LE(0, v);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(lookup_is(v, "k", "forked") ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(v);
}

TEST_F(value, values_cross_scm_rights_with_the_fd)
{
	int sv[2], v, status;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int got;

		close(sv[0]);
		got = t_recv_fd(sv[1]);
		if (got < 0)
			_exit(1);
		_exit(lookup_is(got, "request-id", "r-42") ? 0 : 3);
	}
	close(sv[1]);
	v = t_child_value(self->root, "request-id", "r-42", 4);
	ASSERT_LE(0, v);
	ASSERT_EQ(0, t_send_fd(sv[0], v));
	close(v);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(sv[0]);
}

/*
 * No recursion: a lookup from the bottom of a 100 000-deep chain
 * (CTXFD_SCALE_N).
 */
TEST_F_TIMEOUT(value, lookup_through_a_deep_chain, 600)
{
	const int depth = t_scale_n();
	struct ctxfd_info info;
	char buf[8];
	__u32 len = sizeof(buf);
	int top, fd, next, i;

	top = t_child_value(self->root, "deep", "yes", 3);
	ASSERT_LE(0, top);
	fd = t_child(top, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
	ASSERT_LE(0, fd);
	for (i = 1; i < depth; i++) {
		/* Keep only the newest fd: each child pins its ancestors. */
		next = t_child(fd, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
		ASSERT_LE(0, next);
		close(fd);
		fd = next;
	}
	ASSERT_EQ(0, t_info(fd, &info));
	EXPECT_EQ(depth + 1, info.depth);
	EXPECT_TRUE(lookup_is(fd, "deep", "yes"));
	ASSERT_EQ(-1, t_lookup(fd, "absent", buf, &len));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_EQ(ECANCELED, t_err(fd));
	close(fd);
	close(top);
}

TEST_HARNESS_MAIN
