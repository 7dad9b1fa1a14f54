// SPDX-License-Identifier: GPL-2.0
/*
 * libctxfd's side of ctxd (lib/join.c) and ctxd's command line, without
 * etcd: ctx_join() and ctx_export() against a stand-in ctxd that speaks
 * the local protocol (lib/ctxd_proto.h) from a thread of the test, and
 * every bad input refused with a clear errno. remote_test.c runs the
 * real thing.
 */
#include <pthread.h>
#include <sys/un.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#include <ctxfd.h>
#include <ctxd_proto.h>

/* Starting ctxd (libcurl and its libraries) takes seconds under TCG. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 120

/* ---- a stand-in ctxd ------------------------------------------------------- */

struct fake {
	char path[108];
	int lfd;
	pthread_t thread;
	/* What it got. */
	struct ctxd_msg req;
	char strs[8][128];
	int nstr;
	int fds[4];
	int nfds;
	bool eof_after;		/* the client closed the connection after */
	/* What it answers. */
	int status;
	const char *msg;
	int reply_fd;		/* -1: none */
};

static void *fake_main(void *arg)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} cmsg;
	struct fake *f = arg;
	char buf[4096], *p;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cmsg.buf, .msg_controllen = sizeof(cmsg.buf),
	};
	struct cmsghdr *h;
	ssize_t n;
	int c, i;

	c = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return NULL;
	n = recvmsg(c, &msg, MSG_CMSG_CLOEXEC);
	if (n >= (ssize_t)sizeof(f->req)) {
		memcpy(&f->req, buf, sizeof(f->req));
		p = buf + sizeof(f->req);
		for (i = 0; i < (int)f->req.nr_strings && i < 8 && p < buf + n; i++) {
			snprintf(f->strs[i], sizeof(f->strs[i]), "%.127s", p);
			p += strlen(p) + 1;
		}
		f->nstr = i;
	}
	for (h = CMSG_FIRSTHDR(&msg); h; h = CMSG_NXTHDR(&msg, h))
		for (i = 0; i < (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int)) && f->nfds < 4; i++)
			memcpy(&f->fds[f->nfds++], CMSG_DATA(h) + i * sizeof(int), sizeof(int));
	{
		union {
			struct cmsghdr hdr;
			char buf[CMSG_SPACE(sizeof(int))];
		} out;
		struct ctxd_msg m = {
			.magic = CTXD_MSG_MAGIC, .version = CTXD_MSG_VERSION,
			.op = CTXD_OP_REPLY, .status = f->status, .nr_strings = 1,
		};
		const char *text = f->msg ? f->msg : "";
		struct iovec v[2] = {
			{ .iov_base = &m, .iov_len = sizeof(m) },
			{ .iov_base = (void *)text, .iov_len = strlen(text) + 1 },
		};
		struct msghdr r = { .msg_iov = v, .msg_iovlen = 2 };

		if (f->reply_fd >= 0) {
			memset(&out, 0, sizeof(out));
			r.msg_control = out.buf;
			r.msg_controllen = sizeof(out.buf);
			h = CMSG_FIRSTHDR(&r);
			h->cmsg_level = SOL_SOCKET;
			h->cmsg_type = SCM_RIGHTS;
			h->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(h), &f->reply_fd, sizeof(int));
		}
		sendmsg(c, &r, MSG_NOSIGNAL);
	}
	/* An export's connection lasts until the client closes it. */
	f->eof_after = recv(c, buf, sizeof(buf), 0) == 0;
	close(c);
	return NULL;
}

static int fake_start(struct fake *f, int status, const char *msg, int reply_fd)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	memset(f, 0, sizeof(*f));
	f->status = status;
	f->msg = msg;
	f->reply_fd = reply_fd;
	snprintf(f->path, sizeof(f->path), "/tmp/ctxd-fake-%d.sock", (int)getpid());
	strcpy(addr.sun_path, f->path);
	unlink(f->path);
	f->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(f->lfd, 4))
		return -1;
	setenv("CTXD_SOCKET", f->path, 1);
	return pthread_create(&f->thread, NULL, fake_main, f) ? -1 : 0;
}

/* Wait for the stand-in to be done; the descriptors it got stay open. */
static void fake_stop(struct fake *f)
{
	pthread_join(f->thread, NULL);
	close(f->lfd);
	unlink(f->path);
}

static void fake_close_fds(struct fake *f)
{
	for (int i = 0; i < f->nfds; i++)
		close(f->fds[i]);
	f->nfds = 0;
}

/* ---- the library ------------------------------------------------------------- */

TEST(join_and_export_refuse_bad_arguments)
{
	const char *empty_key[] = { "", NULL };
	ctx_t *ctx, *other, *j;
	ctx_cancel_t *cancel, *ocancel, *jc;
	ctx_export_t *exp = (void *)1;
	char longname[CTXD_NAME_MAX + 2];
	int dev = ctxfd_dev_or_skip();

	close(dev);
	setenv("CTXD_SOCKET", "/nonexistent/ctxd.sock", 1);
	EXPECT_EQ(-EINVAL, ctx_join(NULL, 0, &j, NULL));
	EXPECT_EQ(-EINVAL, ctx_join("job", 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, ctx_join("job", 0x100, &j, NULL));
	EXPECT_EQ(-EINVAL, ctx_join("job", CTX_JOIN_CANCEL, &j, NULL));
	EXPECT_EQ(-EINVAL, ctx_join("", 0, &j, &jc));
	EXPECT_EQ(-EINVAL, ctx_join("/job", 0, &j, &jc));
	EXPECT_EQ(-EINVAL, ctx_join("job/", 0, &j, &jc));
	EXPECT_EQ(-EINVAL, ctx_join("a//b", 0, &j, &jc));
	EXPECT_EQ(-EINVAL, ctx_join("a/../b", 0, &j, &jc));
	EXPECT_EQ(-EINVAL, ctx_join("white space", 0, &j, &jc));
	EXPECT_EQ(-EINVAL, ctx_join("ünïcode", 0, &j, &jc));
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	EXPECT_EQ(-EINVAL, ctx_join(longname, 0, &j, &jc));
	longname[CTXD_NAME_MAX] = '\0';
	/* The longest valid name gets as far as the socket. */
	EXPECT_EQ(-ENOENT, ctx_join(longname, 0, &j, &jc));
	EXPECT_EQ(NULL, j);

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &ctx, &cancel));
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &other, &ocancel));
	EXPECT_EQ(-EINVAL, ctx_export(NULL, NULL, "job", NULL, &exp));
	EXPECT_EQ(NULL, exp);
	EXPECT_EQ(-EINVAL, ctx_export(ctx, NULL, NULL, NULL, &exp));
	EXPECT_EQ(-EINVAL, ctx_export(ctx, NULL, "job", NULL, NULL));
	EXPECT_EQ(-EINVAL, ctx_export(ctx, NULL, "a b", NULL, &exp));
	EXPECT_EQ(-EINVAL, ctx_export(ctx, ocancel, "job", NULL, &exp));
	TH_LOG("%s", ctx_last_error());
	EXPECT_EQ(-EINVAL, ctx_export(ctx, cancel, "job", empty_key, &exp));
	ctx_export_release(NULL);
	ctx_cancel_release(ocancel);
	ctx_release(other);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

TEST(without_ctxd_the_error_says_so)
{
	ctx_t *j, *ctx;
	ctx_cancel_t *cancel;
	ctx_export_t *exp;
	int dev = ctxfd_dev_or_skip();

	close(dev);
	setenv("CTXD_SOCKET", "/nonexistent/ctxd.sock", 1);
	EXPECT_EQ(-ENOENT, ctx_join("job", 0, &j, NULL));
	EXPECT_NE(NULL, strstr(ctx_last_error(), "ctxd is not running"));
	TH_LOG("%s", ctx_last_error());
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &ctx, &cancel));
	EXPECT_EQ(-ENOENT, ctx_export(ctx, cancel, "job", NULL, &exp));
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

TEST(join_gets_the_context_ctxd_hands_over)
{
	struct fake f;
	ctx_t *j;
	char msg[64];
	int dev = ctxfd_dev_or_skip(), root, watch, code = 0;

	root = t_new(dev, 0);
	ASSERT_LE(0, root);
	watch = t_watch(root, 0);
	ASSERT_LE(0, watch);
	ASSERT_EQ(0, fake_start(&f, 0, "", watch));
	ASSERT_EQ(0, ctx_join("jobs/42", 0, &j, NULL)) TH_LOG("%s", ctx_last_error());
	fake_stop(&f);
	EXPECT_EQ(CTXD_OP_JOIN, f.req.op);
	EXPECT_EQ(0, f.req.flags);
	EXPECT_EQ(1, f.nstr);
	EXPECT_STREQ("jobs/42", f.strs[0]);
	EXPECT_EQ(0, f.nfds);
	/* The very context: a cancel by "ctxd" reaches the joiner. */
	EXPECT_EQ(0, ctx_err(j));
	ASSERT_EQ(0, t_cancel(root, 77, "from ctxd"));
	EXPECT_EQ(CTX_CANCELED, ctx_wait(j, CTX_SECOND));
	ctx_cause(j, &code, msg, sizeof(msg));
	EXPECT_EQ(77, code);
	EXPECT_STREQ("from ctxd", msg);
	ctx_release(j);
	close(watch);
	close(root);
	close(dev);
}

TEST(join_with_the_cancel_right_sends_ctxd_user_and_gets_a_cancel_handle)
{
	struct fake f;
	ctx_t *j;
	ctx_cancel_t *jc;
	int dev = ctxfd_dev_or_skip(), root;

	root = t_new(dev, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
	ASSERT_LE(0, root);
	ASSERT_EQ(0, fake_start(&f, 0, "", root));
	setenv("CTXD_USER", "alice:s3cr:et", 1);
	ASSERT_EQ(0, ctx_join("job", CTX_JOIN_CANCEL, &j, &jc)) TH_LOG("%s", ctx_last_error());
	unsetenv("CTXD_USER");
	fake_stop(&f);
	EXPECT_EQ(CTXD_JOIN_CANCEL, f.req.flags);
	EXPECT_EQ(3, f.nstr);
	EXPECT_STREQ("job", f.strs[0]);
	EXPECT_STREQ("alice", f.strs[1]);
	EXPECT_STREQ("s3cr:et", f.strs[2]);
	ASSERT_NE(NULL, jc);
	EXPECT_EQ(0, ctx_cancel_cause(jc, 5, "stop"));
	EXPECT_EQ(CTX_CANCELED, ctx_wait(j, 0));
	EXPECT_EQ(ECANCELED, t_err(root));
	ctx_cancel_release(jc);
	ctx_release(j);
	close(root);
	close(dev);
}

TEST(ctxd_refusal_reaches_the_caller_with_its_reason)
{
	struct fake f;
	ctx_t *j;
	ctx_cancel_t *jc;
	int dev = ctxfd_dev_or_skip();

	close(dev);
	ASSERT_EQ(0, fake_start(&f, -EPERM, "etcd user bob may not write /ctxfd/ctx/job", -1));
	EXPECT_EQ(-EPERM, ctx_join("job", CTX_JOIN_CANCEL, &j, &jc));
	fake_stop(&f);
	EXPECT_NE(NULL, strstr(ctx_last_error(), "etcd user bob may not write"));
	TH_LOG("%s", ctx_last_error());
	/* No credentials in the environment: empty ones are sent. */
	EXPECT_EQ(3, f.nstr);
	EXPECT_STREQ("", f.strs[1]);
	EXPECT_EQ(NULL, j);
	EXPECT_EQ(NULL, jc);
	/* A success without a descriptor is a broken ctxd. */
	ASSERT_EQ(0, fake_start(&f, 0, "", -1));
	EXPECT_EQ(-EBADMSG, ctx_join("job", 0, &j, NULL));
	fake_stop(&f);
}

TEST(export_hands_ctxd_the_descriptors_and_lasts_until_released)
{
	const char *keys[] = { "job-id", "owner", NULL };
	struct ctxfd_info info;
	struct fake f;
	ctx_t *ctx;
	ctx_cancel_t *cancel;
	ctx_export_t *exp;
	int dev = ctxfd_dev_or_skip();

	close(dev);
	ASSERT_EQ(0, ctx_with_cancel_cause(ctx_background(), &ctx, &cancel));
	ASSERT_EQ(0, fake_start(&f, 0, "", -1));
	ASSERT_EQ(0, ctx_export(ctx, cancel, "nightly/build", keys, &exp)) {
		TH_LOG("%s", ctx_last_error());
	}
	EXPECT_EQ(CTXD_OP_EXPORT, f.req.op);
	EXPECT_EQ(CTXD_EXPORT_CANCEL, f.req.flags);
	EXPECT_EQ(3, f.nstr);
	EXPECT_STREQ("nightly/build", f.strs[0]);
	EXPECT_STREQ("job-id", f.strs[1]);
	EXPECT_STREQ("owner", f.strs[2]);
	/* Released: ctxd sees the connection end. */
	ctx_export_release(exp);
	fake_stop(&f);
	EXPECT_TRUE(f.eof_after);
	/* A watch-only descriptor, then a cancel-capable one, of ctx. */
	ASSERT_EQ(2, f.nfds);
	ASSERT_EQ(0, t_info(f.fds[0], &info));
	EXPECT_FALSE(info.flags & CTXFD_INFO_CAN_CANCEL);
	ASSERT_EQ(0, t_info(f.fds[1], &info));
	EXPECT_TRUE(info.flags & CTXFD_INFO_CAN_CANCEL);
	EXPECT_EQ(0, t_cancel(f.fds[1], 3, "remote"));
	EXPECT_EQ(CTX_CANCELED, ctx_wait(ctx, 0));
	fake_close_fds(&f);

	/* Without a cancel handle: one watch-only descriptor. */
	ASSERT_EQ(0, fake_start(&f, -EEXIST, "nightly is already exported by host a", -1));
	EXPECT_EQ(-EEXIST, ctx_export(ctx, NULL, "nightly", NULL, &exp));
	fake_stop(&f);
	EXPECT_EQ(0, f.req.flags);
	EXPECT_EQ(1, f.nfds);
	fake_close_fds(&f);
	EXPECT_NE(NULL, strstr(ctx_last_error(), "host a"));
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

/* ---- ctxd's command line ------------------------------------------------------- */

static int ctxd_run(const char *args, char *out, size_t len)
{
	char exe[4096], cmd[8192];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *f;
	size_t got;
	int st;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "%s/../../tools/ctxd %s 2>&1 </dev/null", exe, args);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	got = fread(out, 1, len - 1, f);
	out[got] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(ctxd_refuses_bad_options_with_a_reason)
{
	static const struct {
		const char *args;
		const char *says;
	} bad[] = {
		{ "--ttl 1", "--ttl" },
		{ "--endpoints ftp://x:2379", "not an http" },
		{ "--prefix ctxfd", "--prefix" },
		{ "--failsafe soon", "invalid duration" },
		{ "--socket-mode 999", "octal" },
		{ "--host-name 'a b'", "host name" },
		{ "stray", "unexpected argument" },
		{ "--no-such-option", "Usage" },
	};
	char out[4096];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t t0 = t_now_ns(CLOCK_MONOTONIC);
		int rc = ctxd_run(bad[i].args, out, sizeof(out));

		if (t_now_ns(CLOCK_MONOTONIC) - t0 > 5000000000ull)
			TH_LOG("ctxd %s took %.1f s", bad[i].args,
			       (t_now_ns(CLOCK_MONOTONIC) - t0) / 1e9);

		EXPECT_NE(0, rc) TH_LOG("ctxd %s succeeded", bad[i].args);
		EXPECT_NE(NULL, strstr(out, bad[i].says)) {
			TH_LOG("ctxd %s said: %s", bad[i].args, out);
		}
	}
	EXPECT_EQ(0, ctxd_run("--help", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "--failsafe"));
}

TEST_HARNESS_MAIN
