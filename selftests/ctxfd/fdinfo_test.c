// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/PID/fdinfo/FD of a context fd: one "ctxfd-key:\tvalue" line per
 * key (id, parent, depth, kind, state, err, cause, cause-msg when there is
 * one, deadline, rights, cancel-on-close, children), with the values INFO
 * reports, before and after the context is done; cause messages are
 * escaped so that fdinfo stays one line per key.
 */
#define _GNU_SOURCE

#include "kselftest_harness.h"
#include "ctxfd_test.h"

static const char *const ctxfd_keys[] = {
	"ctxfd-id", "ctxfd-parent", "ctxfd-depth", "ctxfd-kind",
	"ctxfd-state", "ctxfd-err", "ctxfd-cause", "ctxfd-deadline",
	"ctxfd-rights", "ctxfd-cancel-on-close", "ctxfd-children",
};

#define NR_KEYS (sizeof(ctxfd_keys) / sizeof(ctxfd_keys[0]))

FIXTURE(fdinfo) {
	int dev;
	int root;
};

FIXTURE_SETUP(fdinfo)
{
	self->dev = ctxfd_dev_or_skip();
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);
}

FIXTURE_TEARDOWN(fdinfo)
{
	close(self->root);
	close(self->dev);
}

/* Expect exactly one line "@key:\t@want" in @fd's fdinfo. */
#define EXPECT_FDINFO(fd, key, want) do {				\
	char __v[512];							\
									\
	EXPECT_EQ(1, t_fdinfo(0, (fd), (key), __v, sizeof(__v)))	\
		TH_LOG("key %s", (key));				\
	EXPECT_STREQ((want), __v) TH_LOG("key %s", (key));		\
} while (0)

/* Expect the line "@key:\t<@want as a decimal number>". */
#define EXPECT_FDINFO_NUM(fd, key, want) do {				\
	char __w[32];							\
									\
	snprintf(__w, sizeof(__w), "%lld", (long long)(want));		\
	EXPECT_FDINFO(fd, key, __w);					\
} while (0)

/* The octal "flags:" value of @fd's fdinfo, or -1. */
static long fdinfo_flags(int fd)
{
	char v[64];

	if (t_fdinfo(0, fd, "flags", v, sizeof(v)) != 1)
		return -1;
	return strtol(v, NULL, 8);
}

/* Read @fd's fdinfo into @buf. */
static ssize_t fdinfo_raw(int fd, char *buf, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	return t_read_file(path, buf, size);
}

/*
 * Every line is "key:\tvalue" where key is one of the generic fdinfo keys
 * or a "ctxfd-" key (newer modules may add some), no key appears twice,
 * every ctxfd key of ctxfd_keys[] appears, and ctxfd-cause-msg appears iff
 * @want_msg. Returns how many lines it saw, or a negative code: -N for
 * line N breaking the rules, -(100 + i) for ctxfd_keys[i] missing, -200
 * for the cause-msg line.
 */
static int fdinfo_check_lines(int fd, bool want_msg)
{
	static const char *const generic[] = { "pos", "flags", "mnt_id", "ino" };
	char buf[4096], *keys[64], *line, *next;
	int nr = 0, nmsg = 0;
	size_t i;

	if (fdinfo_raw(fd, buf, sizeof(buf)) <= 0)
		return -1000;
	for (line = buf; *line; line = next) {
		char *nl = strchr(line, '\n');
		char *colon;
		bool known = !strncmp(line, "ctxfd-", 6);

		if (!nl || nr == 64)
			return -(nr + 1);	/* unterminated line */
		*nl = '\0';
		next = nl + 1;
		colon = strchr(line, ':');
		if (!colon || colon[1] != '\t')
			return -(nr + 1);
		*colon = '\0';
		for (i = 0; i < sizeof(generic) / sizeof(generic[0]); i++)
			if (!strcmp(line, generic[i]))
				known = true;
		for (i = 0; i < (size_t)nr; i++)
			if (!strcmp(line, keys[i]))
				known = false;	/* a repeated key */
		if (!known)
			return -(nr + 1);
		if (!strcmp(line, "ctxfd-cause-msg"))
			nmsg++;
		keys[nr++] = line;
	}
	for (i = 0; i < NR_KEYS; i++) {
		int j;

		for (j = 0; j < nr; j++)
			if (!strcmp(keys[j], ctxfd_keys[i]))
				break;
		if (j == nr)
			return -(int)(100 + i);
	}
	if (nmsg != (want_msg ? 1 : 0))
		return -200;
	return nr;
}

TEST_F(fdinfo, active_root_shows_every_ctxfd_line)
{
	struct ctxfd_info info;

	ASSERT_EQ(0, t_info(self->root, &info));
	EXPECT_LT(0, fdinfo_check_lines(self->root, false));
	EXPECT_FDINFO_NUM(self->root, "ctxfd-id", info.id);
	EXPECT_FDINFO(self->root, "ctxfd-parent", "0");
	EXPECT_FDINFO(self->root, "ctxfd-depth", "0");
	EXPECT_FDINFO(self->root, "ctxfd-kind", "cancel");
	EXPECT_FDINFO(self->root, "ctxfd-state", "active");
	EXPECT_FDINFO(self->root, "ctxfd-err", "0");
	EXPECT_FDINFO(self->root, "ctxfd-cause", "0");
	EXPECT_EQ(0, t_fdinfo(0, self->root, "ctxfd-cause-msg", NULL, 0));
	EXPECT_FDINFO(self->root, "ctxfd-deadline", "none");
	EXPECT_FDINFO(self->root, "ctxfd-rights", "cancel");
	EXPECT_FDINFO(self->root, "ctxfd-cancel-on-close", "yes");
	EXPECT_FDINFO(self->root, "ctxfd-children", "0");
}

TEST_F(fdinfo, child_shows_parent_depth_and_children)
{
	int child = t_child(self->root, 0);
	int grand = t_child(child, 0);
	int grand2 = t_child(child, 0);

	ASSERT_LE(0, grand);
	ASSERT_LE(0, grand2);
	EXPECT_FDINFO_NUM(child, "ctxfd-id", t_id(child));
	EXPECT_FDINFO_NUM(child, "ctxfd-parent", t_id(self->root));
	EXPECT_FDINFO(child, "ctxfd-depth", "1");
	EXPECT_FDINFO(child, "ctxfd-children", "2");
	EXPECT_FDINFO_NUM(grand, "ctxfd-parent", t_id(child));
	EXPECT_FDINFO(grand, "ctxfd-depth", "2");
	EXPECT_FDINFO(grand, "ctxfd-children", "0");
	EXPECT_FDINFO(self->root, "ctxfd-children", "1");

	/* children counts active children only. */
	ASSERT_EQ(0, t_cancel(grand, 0, NULL));
	EXPECT_FDINFO(child, "ctxfd-children", "1");
	close(grand2);
	close(grand);
	close(child);
}

TEST_F(fdinfo, cancel_shows_done_err_cause_and_message)
{
	int child = t_child(self->root, 0);
	int w = t_watch(self->root, 0);

	ASSERT_LE(0, w);
	ASSERT_EQ(0, t_cancel(self->root, 42, "bye now"));
	EXPECT_LT(0, fdinfo_check_lines(self->root, true));
	EXPECT_FDINFO(self->root, "ctxfd-state", "done");
	EXPECT_FDINFO_NUM(self->root, "ctxfd-err", ECANCELED);
	EXPECT_FDINFO(self->root, "ctxfd-cause", "42");
	EXPECT_FDINFO(self->root, "ctxfd-cause-msg", "bye now");
	EXPECT_FDINFO(self->root, "ctxfd-children", "0");
	/* The same on a watch fd and on the descendant. */
	EXPECT_FDINFO(w, "ctxfd-state", "done");
	EXPECT_FDINFO(w, "ctxfd-cause", "42");
	EXPECT_FDINFO(w, "ctxfd-cause-msg", "bye now");
	EXPECT_FDINFO(child, "ctxfd-state", "done");
	EXPECT_FDINFO_NUM(child, "ctxfd-err", ECANCELED);
	EXPECT_FDINFO(child, "ctxfd-cause", "42");
	EXPECT_FDINFO(child, "ctxfd-cause-msg", "bye now");
	close(w);
	close(child);
}

TEST_F(fdinfo, plain_cancel_shows_err_as_cause_and_no_message_line)
{
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_LT(0, fdinfo_check_lines(self->root, false));
	EXPECT_FDINFO(self->root, "ctxfd-state", "done");
	EXPECT_FDINFO_NUM(self->root, "ctxfd-err", ECANCELED);
	EXPECT_FDINFO_NUM(self->root, "ctxfd-cause", ECANCELED);
	EXPECT_EQ(0, t_fdinfo(0, self->root, "ctxfd-cause-msg", NULL, 0));
}

TEST_F(fdinfo, born_done_child_shows_parent_cause)
{
	int child;

	ASSERT_EQ(0, t_cancel(self->root, 6, "earlier"));
	child = t_child(self->root, 0);
	ASSERT_LE(0, child);
	EXPECT_FDINFO(child, "ctxfd-state", "done");
	EXPECT_FDINFO(child, "ctxfd-cause", "6");
	EXPECT_FDINFO(child, "ctxfd-cause-msg", "earlier");
	close(child);
}

TEST_F(fdinfo, newline_in_cause_message_is_escaped)
{
	const char *msg = "one\ntwo\tthree\r\001\177 end";
	struct ctxfd_info info;
	char buf[4096];
	int plain = t_child(self->root, 0), lines_plain, lines_after;

	/* A twin canceled with a one-line message: the lines to expect. */
	ASSERT_LE(0, plain);
	ASSERT_EQ(0, t_cancel(plain, 3, "one line"));
	lines_plain = fdinfo_check_lines(plain, true);
	ASSERT_LT(0, lines_plain);
	close(plain);
	ASSERT_EQ(0, t_cancel(self->root, 3, msg));
	lines_after = fdinfo_check_lines(self->root, true);
	/* As many lines: the message is still one of them. */
	EXPECT_EQ(lines_plain, lines_after);
	EXPECT_FDINFO(self->root, "ctxfd-cause-msg",
		      "one\\012two\\011three\\015\\001\\177 end");
	ASSERT_LT(0, fdinfo_raw(self->root, buf, sizeof(buf)));
	EXPECT_EQ(NULL, strstr(buf, "\ntwo"));
	/* INFO still has the raw bytes. */
	ASSERT_EQ(0, t_info(self->root, &info));
	EXPECT_STREQ(msg, info.cause_msg);
}

TEST_F(fdinfo, backslash_and_non_ascii_escape_so_messages_decode_back)
{
	/* A literal "\\012" must not print like an escaped newline. */
	ASSERT_EQ(0, t_cancel(self->root, 3, "a\\012b\n\xff"));
	EXPECT_FDINFO(self->root, "ctxfd-cause-msg", "a\\134012b\\012\\377");
}

TEST_F(fdinfo, cause_message_cannot_forge_a_key_line)
{
	char want[32];

	ASSERT_EQ(0, t_cancel(self->root, 3, "x\nctxfd-id:\t999999\n"));
	EXPECT_LT(0, fdinfo_check_lines(self->root, true));
	snprintf(want, sizeof(want), "%llu",
		 (unsigned long long)t_id(self->root));
	EXPECT_FDINFO(self->root, "ctxfd-id", want);
}

TEST_F(fdinfo, rights_kind_and_cancel_on_close_per_fd)
{
	int w = t_watch(self->root, 0);
	int nocc = t_child(self->root, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
	int v = t_child_value(self->root, "k", "v", 1);
	int wc = t_child(self->root, CTXFD_CREATE_WITHOUT_CANCEL);

	ASSERT_LE(0, w);
	ASSERT_LE(0, nocc);
	ASSERT_LE(0, v);
	ASSERT_LE(0, wc);
	EXPECT_FDINFO(w, "ctxfd-rights", "watch");
	EXPECT_FDINFO(w, "ctxfd-kind", "cancel");
	EXPECT_FDINFO(w, "ctxfd-cancel-on-close", "yes");
	EXPECT_FDINFO(nocc, "ctxfd-rights", "cancel");
	EXPECT_FDINFO(nocc, "ctxfd-cancel-on-close", "no");
	EXPECT_FDINFO(v, "ctxfd-kind", "value");
	EXPECT_FDINFO(v, "ctxfd-rights", "watch");
	EXPECT_FDINFO(v, "ctxfd-cancel-on-close", "no");
	EXPECT_FDINFO(wc, "ctxfd-kind", "without-cancel");
	EXPECT_FDINFO(wc, "ctxfd-rights", "watch");
	EXPECT_FDINFO(wc, "ctxfd-cancel-on-close", "no");
	EXPECT_LT(0, fdinfo_check_lines(v, false));
	EXPECT_LT(0, fdinfo_check_lines(wc, false));
	close(wc);
	close(v);
	close(nocc);
	close(w);
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

TEST_F(fdinfo, deadline_shows_time_clock_and_whose_timer)
{
	__s64 d = (__s64)t_now_ns(CLOCK_MONOTONIC) + 3600 * 1000000000LL;
	int own = child_deadline(self->root, d, CLOCK_MONOTONIC);
	int plain = t_child(own, 0);
	int later = child_deadline(own, d + 1000000000LL, CLOCK_MONOTONIC);
	char want[64];

	ASSERT_LE(0, own);
	ASSERT_LE(0, plain);
	ASSERT_LE(0, later);
	snprintf(want, sizeof(want), "%lld monotonic own", (long long)d);
	EXPECT_FDINFO(own, "ctxfd-deadline", want);
	/* Children report the effective (earliest) deadline, inherited. */
	snprintf(want, sizeof(want), "%lld monotonic inherited", (long long)d);
	EXPECT_FDINFO(plain, "ctxfd-deadline", want);
	EXPECT_FDINFO(later, "ctxfd-deadline", want);
	close(later);
	close(plain);
	close(own);
}

TEST_F(fdinfo, boottime_deadline_names_its_clock)
{
	__s64 d = (__s64)t_now_ns(CLOCK_BOOTTIME) + 3600 * 1000000000LL;
	int child = child_deadline(self->root, d, CLOCK_BOOTTIME);
	char want[64];

	ASSERT_LE(0, child);
	snprintf(want, sizeof(want), "%lld boottime own", (long long)d);
	EXPECT_FDINFO(child, "ctxfd-deadline", want);
	close(child);
}

TEST_F(fdinfo, expired_deadline_shows_etimedout_and_deadline_cause)
{
	const char *msg = "too slow";
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_TIMEOUT,
		.deadline_ns = 50 * 1000 * 1000,
		.clockid = CLOCK_MONOTONIC,
		.deadline_cause = {
			.code = 504,
			.msg_len = (__u32)strlen(msg),
			.msg = (uintptr_t)msg,
		},
	};
	int child = ioctl(self->root, CTXFD_IOC_CREATE, &args);

	ASSERT_LE(0, child);
	ASSERT_TRUE(t_readable(child, 20000));
	EXPECT_FDINFO(child, "ctxfd-state", "done");
	EXPECT_FDINFO_NUM(child, "ctxfd-err", ETIMEDOUT);
	EXPECT_FDINFO(child, "ctxfd-cause", "504");
	EXPECT_FDINFO(child, "ctxfd-cause-msg", "too slow");
	close(child);
}

TEST_F(fdinfo, flags_line_shows_cloexec_by_default)
{
	long fl = fdinfo_flags(self->root);
	int w = t_watch(self->root, 0);

	ASSERT_LE(0, w);
	ASSERT_LE(0, fl);
	EXPECT_NE(0, fl & O_CLOEXEC);
	EXPECT_EQ(O_RDWR, fl & O_ACCMODE);
	fl = fdinfo_flags(w);
	ASSERT_LE(0, fl);
	EXPECT_NE(0, fl & O_CLOEXEC);
	EXPECT_EQ(O_RDONLY, fl & O_ACCMODE);
	close(w);
}

TEST_F(fdinfo, flags_line_has_no_cloexec_with_no_cloexec_flags)
{
	int root = t_new(self->dev, CTXFD_CREATE_NO_CLOEXEC);
	int child = t_child(self->root, CTXFD_CREATE_NO_CLOEXEC);
	int w = t_watch(self->root, CTXFD_WATCH_NO_CLOEXEC);
	long fl;

	ASSERT_LE(0, root);
	ASSERT_LE(0, child);
	ASSERT_LE(0, w);
	fl = fdinfo_flags(root);
	ASSERT_LE(0, fl);
	EXPECT_EQ(0, fl & O_CLOEXEC);
	EXPECT_EQ(O_RDWR, fl & O_ACCMODE);
	fl = fdinfo_flags(child);
	ASSERT_LE(0, fl);
	EXPECT_EQ(0, fl & O_CLOEXEC);
	fl = fdinfo_flags(w);
	ASSERT_LE(0, fl);
	EXPECT_EQ(0, fl & O_CLOEXEC);
	EXPECT_EQ(O_RDONLY, fl & O_ACCMODE);
	close(w);
	close(child);
	close(root);
}

TEST_F(fdinfo, fdinfo_of_fd_held_by_another_process)
{
	int ready[2], go[2];
	char want[32], v[256];
	pid_t pid;

	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		t_sync_post(ready[1]);
		t_sync_wait(go[0], 20000);
		_exit(0);
	}
	ASSERT_TRUE(t_sync_wait(ready[0], 20000));
	ASSERT_EQ(0, t_cancel(self->root, 0, "seen from outside"));
	snprintf(want, sizeof(want), "%llu",
		 (unsigned long long)t_id(self->root));
	EXPECT_EQ(1, t_fdinfo(pid, self->root, "ctxfd-id", v, sizeof(v)));
	EXPECT_STREQ(want, v);
	EXPECT_EQ(1, t_fdinfo(pid, self->root, "ctxfd-cause-msg", v,
			      sizeof(v)));
	EXPECT_STREQ("seen from outside", v);
	t_sync_post(go[1]);
	EXPECT_EQ(0, t_wait_status(pid));
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

TEST_HARNESS_MAIN
