// SPDX-License-Identifier: GPL-2.0
/*
 * ctxls and ctxtree on a known multi-process tree: this process holds a
 * root and a canceled child (with a cause), one helper process holds a
 * watch-only fd on another child, a second helper the cancel-capable fd
 * of a grandchild with a deadline. ctxls must list every descriptor
 * with its holder, right, state, deadline, parent and cause; ctxtree
 * must draw the tree with the holders under each context. An
 * unprivileged user sees none of root's descriptors; bad options are
 * refused with status 2.
 */
#define _GNU_SOURCE
#include <libgen.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#define OUT_MAX	65536

/* build/tools/NAME, next to build/selftests/ctxls/ (or $CTXLS_DIR/NAME). */
static const char *tool(const char *name)
{
	static char path[2][4096 + 64];
	static int which;
	char exe[4096], *p = path[which++ & 1];
	const char *dir = getenv("CTXLS_DIR");
	ssize_t n;

	if (dir) {
		snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
		return p;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return name;
	exe[n] = '\0';
	/* exe: BUILD/selftests/ctxls/ctxls_test */
	snprintf(p, sizeof(path[0]), "%s/../tools/%s",
		 dirname(dirname(exe)), name);
	return p;
}

/* Run @argv as @uid (0: stay), stdout into @out; its exit status. */
static int run(char *const argv[], uid_t uid, char *out, size_t size)
{
	int p[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		if (uid && t_drop_to(uid))
			_exit(121);
		execv(argv[0], argv);
		_exit(122);
	}
	close(p[1]);
	while (got < size - 1 && (n = read(p[0], out + got, size - 1 - got)) > 0)
		got += n;
	out[got] = '\0';
	close(p[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A helper process that closes @close_fds, says it is ready, and waits. */
static pid_t holder(const int *close_fds, int nclose, int ready)
{
	pid_t pid = fork();
	int i;

	if (pid)
		return pid;
	for (i = 0; i < nclose; i++)
		close(close_fds[i]);
	t_sync_post(ready);
	for (;;)
		pause();
}

FIXTURE(ls) {
	int dev, root, a, b, d, aw;
	unsigned long long rid, aid, bid, did;
	pid_t p1, p2;
	char pids[3][16];
	char comm[32];
	char *out;
};

FIXTURE_SETUP(ls)
{
	int ready[2], c1[5], c2[5];

	self->out = NULL;
	self->dev = ctxfd_dev_or_skip();
	if (access(tool("ctxls"), X_OK) || access(tool("ctxtree"), X_OK))
		SKIP(return, "%s not built", tool("ctxls"));
	ASSERT_EQ(0, t_subreaper());
	self->out = malloc(OUT_MAX);
	ASSERT_NE(NULL, self->out);
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);
	self->a = t_child(self->root, 0);
	ASSERT_LE(0, self->a);
	self->b = t_child_timeout(self->a, 3600ull * 1000000000ull);
	ASSERT_LE(0, self->b);
	self->d = t_child(self->root, 0);
	ASSERT_LE(0, self->d);
	self->aw = t_watch(self->a, 0);
	ASSERT_LE(0, self->aw);
	self->rid = t_id(self->root);
	self->aid = t_id(self->a);
	self->bid = t_id(self->b);
	self->did = t_id(self->d);
	ASSERT_EQ(0, t_cancel(self->d, 9, "stop now"));
	ASSERT_LT(0, t_read_file("/proc/self/comm", self->comm,
				 sizeof(self->comm)));
	self->comm[strcspn(self->comm, "\n")] = '\0';

	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	/* p1: the watch-only fd on a; p2: the cancel-capable fd of b. */
	c1[0] = c2[0] = self->dev;
	c1[1] = c2[1] = self->root;
	c1[2] = c2[2] = self->a;
	c1[3] = self->b;
	c2[3] = self->aw;
	c1[4] = c2[4] = self->d;
	self->p1 = holder(c1, 5, ready[1]);
	ASSERT_LT(0, self->p1);
	self->p2 = holder(c2, 5, ready[1]);
	ASSERT_LT(0, self->p2);
	ASSERT_TRUE(t_sync_wait(ready[0], 10000));
	ASSERT_TRUE(t_sync_wait(ready[0], 10000));
	close(ready[0]);
	close(ready[1]);
	/* b and aw are the helpers' now. */
	close(self->b);
	close(self->aw);
	snprintf(self->pids[0], 16, "%d", (int)getpid());
	snprintf(self->pids[1], 16, "%d", (int)self->p1);
	snprintf(self->pids[2], 16, "%d", (int)self->p2);
}

FIXTURE_TEARDOWN(ls)
{
	t_kill_descendants(20000);
	free(self->out);
}

/* The line of @out that starts with @pid and has fd @fd, or NULL. */
static const char *line_of(const char *out, pid_t pid, int fd, char *buf,
			   size_t len)
{
	const char *p = out;

	while (p && *p) {
		const char *end = strchr(p, '\n');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		int lpid, lfd;
		char comm[64];

		if (sscanf(p, "%d %63s %d", &lpid, comm, &lfd) == 3 &&
		    lpid == pid && lfd == fd) {
			snprintf(buf, len, "%.*s", (int)n, p);
			return buf;
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

static bool has_words(const char *line, const char *const *words, int n)
{
	char copy[1024], *tok, *save;
	int i, j = 0;

	snprintf(copy, sizeof(copy), "%s", line);
	/* In this order, each a whole column. */
	for (tok = strtok_r(copy, " ", &save), i = 0; tok && j < n;
	     tok = strtok_r(NULL, " ", &save), i++)
		if (!strcmp(tok, words[j]))
			j++;
	return j == n;
}

TEST_F(ls, ctxls_lists_every_descriptor_with_holder_right_state_and_cause)
{
	char *argv[] = { (char *)tool("ctxls"), "-p", self->pids[0], "-p",
			 self->pids[1], "-p", self->pids[2], NULL };
	char line[1024], id[4][24], want[256];
	const char *w0[] = { id[0], "cancel", "active", "-", "0", "-" };
	const char *w3[] = { id[3], "cancel", "drained", "-", id[0] };
	const char *w1[] = { id[1], "watch", "active", "-", id[0] };
	const char *w2[] = { id[2], "cancel", "active", id[1] };

	snprintf(id[0], 24, "%llu", self->rid);
	snprintf(id[1], 24, "%llu", self->aid);
	snprintf(id[2], 24, "%llu", self->bid);
	snprintf(id[3], 24, "%llu", self->did);
	ASSERT_EQ(0, run(argv, 0, self->out, OUT_MAX));
	EXPECT_EQ(0, strncmp(self->out, "PID     COMMAND", 15));

	ASSERT_NE(NULL, line_of(self->out, getpid(), self->root, line,
				sizeof(line))) TH_LOG("%s", self->out);
	EXPECT_TRUE(has_words(line, w0, 6)) TH_LOG("%s", line);
	ASSERT_NE(NULL, line_of(self->out, getpid(), self->d, line,
				sizeof(line))) TH_LOG("%s", self->out);
	EXPECT_TRUE(has_words(line, w3, 5)) TH_LOG("%s", line);
	snprintf(want, sizeof(want), "cancel by %d (%s): stop now",
		 (int)getpid(), self->comm);
	EXPECT_NE(NULL, strstr(line, want)) TH_LOG("%s", line);

	ASSERT_NE(NULL, line_of(self->out, self->p1, self->aw, line,
				sizeof(line))) TH_LOG("%s", self->out);
	EXPECT_TRUE(has_words(line, w1, 5)) TH_LOG("%s", line);
	ASSERT_NE(NULL, line_of(self->out, self->p2, self->b, line,
				sizeof(line))) TH_LOG("%s", self->out);
	EXPECT_TRUE(has_words(line, w2, 4)) TH_LOG("%s", line);
	/* About an hour left: "3599.xxxs". */
	EXPECT_NE(NULL, strstr(line, " 3599.")) TH_LOG("%s", line);
	/* p1 holds nothing else: none of our fds show up under it. */
	EXPECT_EQ(NULL, line_of(self->out, self->p1, self->root, line,
				sizeof(line)));
}

TEST_F(ls, ctxtree_draws_contexts_with_their_holders)
{
	char *argv[] = { (char *)tool("ctxtree"), "-p", self->pids[0], "-p",
			 self->pids[1], "-p", self->pids[2], NULL };
	char want[256];
	const char *r, *a, *b;

	ASSERT_EQ(0, run(argv, 0, self->out, OUT_MAX));
	snprintf(want, sizeof(want), "%llu [cancel active]\n", self->rid);
	r = strstr(self->out, want);
	ASSERT_NE(NULL, r) TH_LOG("%s", self->out);
	EXPECT_EQ(r, self->out) TH_LOG("%s", self->out);
	snprintf(want, sizeof(want), "|-- %s %d fd %d (cancel)\n", self->comm,
		 (int)getpid(), self->root);
	EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("%s", self->out);
	snprintf(want, sizeof(want), "|-- %llu [cancel active]\n", self->aid);
	a = strstr(self->out, want);
	EXPECT_NE(NULL, a) TH_LOG("%s", self->out);
	snprintf(want, sizeof(want), "|   |-- %s %d fd %d (watch)\n",
		 self->comm, (int)self->p1, self->aw);
	EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("%s", self->out);
	snprintf(want, sizeof(want), "|   `-- %llu [cancel active, deadline 3599.",
		 self->bid);
	b = strstr(self->out, want);
	EXPECT_NE(NULL, b) TH_LOG("%s", self->out);
	EXPECT_LT(a, b);
	snprintf(want, sizeof(want), "|       `-- %s %d fd %d (cancel)\n",
		 self->comm, (int)self->p2, self->b);
	EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("%s", self->out);
	snprintf(want, sizeof(want), "`-- %llu [cancel drained] cancel by %d (%s): stop now\n",
		 self->did, (int)getpid(), self->comm);
	EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("%s", self->out);
}

TEST_F(ls, unprivileged_user_sees_none_of_roots_descriptors)
{
	char *argv[] = { (char *)tool("ctxls"), "-H", "-p", self->pids[0],
			 NULL };

	EXPECT_EQ(0, run(argv, 65534, self->out, OUT_MAX));
	EXPECT_STREQ("", self->out);
}

TEST_F(ls, bad_options_are_refused)
{
	char *a1[] = { (char *)tool("ctxls"), "-p", "0", NULL };
	char *a2[] = { (char *)tool("ctxtree"), "--bogus", NULL };
	char *a3[] = { (char *)tool("ctxls"), "extra", NULL };

	EXPECT_EQ(2, run(a1, 0, self->out, OUT_MAX));
	EXPECT_EQ(2, run(a2, 0, self->out, OUT_MAX));
	EXPECT_EQ(2, run(a3, 0, self->out, OUT_MAX));
}

TEST_HARNESS_MAIN
