// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libctxfd beyond the Go port: the C rules (NULLs, errors, ownership,
 * release-cancels), the kernel's deadline and value semantics seen through
 * the library, descriptors across processes (export/adopt, SCM_RIGHTS,
 * CTXFD), fork, AfterFunc corner cases and thread safety.
 */
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "lib_test.h"

static struct timespec now_plus(ctx_duration_t d)
{
	struct timespec ts;
	int64_t ns = lib_now() + d;

	ts.tv_sec = ns / CTX_SECOND;
	ts.tv_nsec = ns % CTX_SECOND;
	return ts;
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * CTX_SECOND + ts->tv_nsec;
}

static void noop(void *arg)
{
}

/* ---- C rules ------------------------------------------------------------ */

LIBTEST(NullArgumentsAreRefused)
{
	struct timespec ts = now_plus(CTX_SECOND);
	ctx_cancel_t *cancel = (ctx_cancel_t *)1;
	ctx_stop_t *stop = (ctx_stop_t *)1;
	ctx_t *c = (ctx_t *)1, *bg = ctx_background();
	char buf[8];
	int code;

	EXPECT_EQ(-EINVAL, ctx_with_cancel_cause(NULL, &c, &cancel));
	EXPECT_EQ(NULL, c);
	EXPECT_EQ(NULL, cancel);
	EXPECT_EQ(-EINVAL, ctx_with_cancel(bg, NULL, &cancel));
	EXPECT_EQ(-EINVAL, ctx_with_cancel(bg, &c, NULL));
	EXPECT_EQ(-EINVAL, ctx_with_deadline(bg, NULL, &c, &cancel));
	EXPECT_EQ(-EINVAL, ctx_with_deadline_cause(NULL, &ts, 1, "x", &c, &cancel));
	EXPECT_EQ(-EINVAL, ctx_with_timeout(NULL, CTX_SECOND, &c, &cancel));
	EXPECT_EQ(-EINVAL, ctx_with_timeout_cause(NULL, CTX_SECOND, 1, "x", &c, &cancel));
	EXPECT_EQ(-EINVAL, ctx_with_value(bg, "k", "v", 1, NULL));
	EXPECT_EQ(-EINVAL, ctx_with_value(bg, "k", NULL, 1, &c));
	EXPECT_EQ(-EINVAL, ctx_without_cancel(NULL, &c));
	EXPECT_EQ(-EINVAL, ctx_without_cancel(bg, NULL));
	EXPECT_EQ(-EINVAL, ctx_cancel(NULL));
	EXPECT_EQ(-EINVAL, ctx_cancel_cause(NULL, 1, "x"));
	EXPECT_EQ(-EINVAL, ctx_after_func(NULL, noop, NULL, &stop));
	EXPECT_EQ(NULL, stop);
	EXPECT_EQ(-EINVAL, ctx_after_func(bg, NULL, NULL, &stop));
	EXPECT_FALSE(ctx_stop(NULL));
	EXPECT_EQ(-EINVAL, ctx_done_fd(NULL));
	EXPECT_EQ(-EINVAL, ctx_wait(NULL, 0));
	EXPECT_EQ(-EINVAL, ctx_err(NULL));
	EXPECT_EQ(-EINVAL, ctx_cause(NULL, &code, buf, sizeof(buf)));
	EXPECT_FALSE(ctx_deadline(NULL, &ts));
	EXPECT_FALSE(ctx_deadline(bg, NULL));
	EXPECT_EQ(-EINVAL, ctx_value(NULL, "k", buf, sizeof(buf)));
	EXPECT_EQ(-EINVAL, ctx_value(bg, NULL, buf, sizeof(buf)));
	EXPECT_EQ(-EINVAL, ctx_value(bg, "k", NULL, 4));
	EXPECT_EQ(-EINVAL, ctx_fd(NULL, 0));
	EXPECT_EQ(-EINVAL, ctx_from_fd(0, NULL));
	EXPECT_EQ(-EINVAL, ctx_cancel_fd(NULL, 0));
	EXPECT_EQ(-EINVAL, ctx_cancel_from_fd(0, NULL, &cancel));
	EXPECT_EQ(-EINVAL, ctx_send(0, NULL));
	EXPECT_EQ(-EINVAL, ctx_recv(0, NULL));
	EXPECT_EQ(-EINVAL, ctx_cancel_send(0, NULL));
	EXPECT_EQ(-EINVAL, ctx_cancel_recv(0, NULL, &cancel));
	EXPECT_EQ(-EINVAL, ctx_from_env(NULL));
	EXPECT_EQ(-EINVAL, ctx_export_env(NULL, NULL, 0));
	EXPECT_EQ(-EINVAL, ctx_kill_on_cancel(NULL, getpid(), SIGTERM, 0, 0));
	/* Releasing NULL is a no-op, like free(NULL). */
	ctx_release(NULL);
	ctx_cancel_release(NULL);
	ctx_stop_release(NULL);
	EXPECT_EQ(NULL, ctx_retain(NULL));
}

LIBTEST(BackgroundNeedsNoDescriptor)
{
	int before = lib_count_fds("/dev/ctxfd") + lib_count_ctx_fds();
	ctx_t *bg = ctx_background(), *w;
	struct timespec ts;
	char buf[8];
	int code = -1;

	EXPECT_EQ(bg, ctx_retain(bg));
	ctx_release(bg);
	ctx_release(bg);
	EXPECT_EQ(-1, ctx_done_fd(bg));
	EXPECT_EQ(0, ctx_err(bg));
	EXPECT_EQ(0, ctx_cause(bg, &code, buf, sizeof(buf)));
	EXPECT_EQ(0, code);
	EXPECT_FALSE(ctx_deadline(bg, &ts));
	EXPECT_EQ(-ENOENT, ctx_value(bg, "k", buf, sizeof(buf)));
	EXPECT_EQ(0, ctx_without_cancel(bg, &w));
	EXPECT_EQ(bg, w);
	EXPECT_EQ(before, lib_count_fds("/dev/ctxfd") + lib_count_ctx_fds());
}

LIBTEST(ChildOfBackgroundIsKernelRoot)
{
	struct ctxfd_info info;
	ctx_cancel_t *cancel;
	ctx_t *c;

	ASSERT_EQ(0, ctx_with_cancel(ctx_todo(), &c, &cancel));
	ASSERT_EQ(0, lib_info(c, &info));
	EXPECT_EQ(0, info.parent_id);
	EXPECT_EQ(0, info.depth);
	ctx_cancel_release(cancel);
	ctx_release(c);
}

LIBTEST(FirstCancelWins)
{
	char msg[CTX_CAUSE_MSG_MAX + 1];
	ctx_cancel_t *cancel;
	ctx_t *c;
	int code;

	ASSERT_EQ(0, ctx_with_cancel_cause(ctx_background(), &c, &cancel));
	EXPECT_EQ(0, ctx_cancel_cause(cancel, 11, "first"));
	EXPECT_EQ(0, ctx_cancel_cause(cancel, 22, "second"));
	EXPECT_EQ(0, ctx_cancel(cancel));
	EXPECT_EQ(CTX_CANCELED, ctx_cause(c, &code, msg, sizeof(msg)));
	EXPECT_EQ(11, code);
	EXPECT_STREQ("first", msg);
	ctx_cancel_release(cancel);
	ctx_release(c);
}

/*
 * A creation with a bad deadline cause fails and changes nothing (a
 * cancel with a bad cause cancels all the same: see cancel_test.c).
 */
LIBTEST(BadDeadlineCausesChangeNothing)
{
	char big[CTX_CAUSE_MSG_MAX + 2];
	int before = lib_count_ctx_fds();
	ctx_cancel_t *cancel;
	ctx_t *c;

	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	c = (ctx_t *)1;
	EXPECT_EQ(-E2BIG, ctx_with_timeout_cause(ctx_background(), 0, 1, big,
						 &c, &cancel));
	EXPECT_EQ(NULL, c);
	EXPECT_EQ(-EINVAL, ctx_with_timeout_cause(ctx_background(), 0, 0,
						  "message without code", &c,
						  &cancel));
	EXPECT_EQ(NULL, c);
	EXPECT_EQ(before, lib_count_ctx_fds());
}

LIBTEST(LastErrorIsPerThread)
{
	ctx_t *c;

	EXPECT_EQ(-EINVAL, ctx_with_value(NULL, "k", "v", 1, &c));
	EXPECT_NE(NULL, strstr(ctx_last_error(), "ctx_with_value"));
	EXPECT_NE(NULL, strstr(ctx_last_error(), "NULL parent"));
	EXPECT_STREQ("context canceled", ctx_strerror(CTX_CANCELED));
	EXPECT_STREQ("context deadline exceeded", ctx_strerror(-ETIMEDOUT));
	EXPECT_STREQ("Invalid argument", ctx_strerror(-EINVAL));
	EXPECT_NE(NULL, ctx_strerror(123456));
}

/* ---- ownership -------------------------------------------------------------- */

/* Whether the context behind a watch fd is done (and with what). */
static int watch_err(int fd)
{
	return t_err(fd);
}

LIBTEST(ReleasingEverythingCancels)
{
	ctx_cancel_t *cancel;
	ctx_t *c;
	int w;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	w = ctx_fd(c, 0);
	ASSERT_LE(0, w);
	ctx_release(c);
	EXPECT_EQ(0, watch_err(w)) TH_LOG("the handle still holds it");
	ctx_cancel_release(cancel);
	EXPECT_EQ(ECANCELED, watch_err(w)) TH_LOG("defer cancel()");
	close(w);
}

LIBTEST(ReleasingTheHandleFirstCancelsAtTheEnd)
{
	ctx_cancel_t *cancel;
	ctx_t *c, *child;
	int w;

	ASSERT_EQ(0, ctx_with_timeout(ctx_background(), CTX_HOUR, &c, &cancel));
	ASSERT_EQ(0, ctx_with_value(c, "k", "v", 1, &child));
	w = ctx_fd(c, 0);
	ctx_cancel_release(cancel);
	EXPECT_EQ(0, ctx_err(child));
	EXPECT_EQ(0, watch_err(w));
	ctx_release(c);
	EXPECT_EQ(ECANCELED, watch_err(w));
	EXPECT_EQ(CTX_CANCELED, ctx_err(child));
	ctx_release(child);
	close(w);
}

LIBTEST(ExportedCancelFdKeepsContextAlive)
{
	ctx_cancel_t *cancel;
	ctx_t *c;
	int w, k;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	w = ctx_fd(c, 0);
	k = ctx_cancel_fd(cancel, 0);
	ASSERT_LE(0, k);
	EXPECT_TRUE(t_cloexec(k));
	ctx_cancel_release(cancel);
	ctx_release(c);
	EXPECT_EQ(0, watch_err(w));	/* someone else may still cancel */
	EXPECT_EQ(0, t_cancel(k, 0, NULL));
	EXPECT_EQ(ECANCELED, watch_err(w));
	close(k);
	close(w);
}

LIBTEST(ChildrenOutliveTheirParentObject)
{
	ctx_cancel_t *pc, *cc;
	ctx_t *p, *c;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &p, &pc));
	ASSERT_EQ(0, ctx_with_cancel(p, &c, &cc));
	ctx_release(p);			/* the parent object only */
	EXPECT_EQ(0, ctx_err(c));
	EXPECT_EQ(0, ctx_cancel(pc));
	EXPECT_EQ(CTX_CANCELED, ctx_err(c));
	ctx_cancel_release(pc);
	ctx_cancel_release(cc);
	ctx_release(c);
}

/* ---- deadlines --------------------------------------------------------------- */

LIBTEST(DeadlineIsMonotonicAndEffective)
{
	ctx_cancel_t *pc, *later_c, *sooner_c;
	ctx_t *p, *later, *sooner, *v;
	struct timespec pd, d;
	struct ctxfd_info info;

	pd = now_plus(CTX_HOUR);
	ASSERT_EQ(0, ctx_with_deadline(ctx_background(), &pd, &p, &pc));
	ASSERT_TRUE(ctx_deadline(p, &d));
	EXPECT_EQ(ts_ns(&pd), ts_ns(&d));

	/* A later deadline of a child is not its deadline: the parent's is. */
	ASSERT_EQ(0, ctx_with_timeout(p, 2 * CTX_HOUR, &later, &later_c));
	ASSERT_TRUE(ctx_deadline(later, &d));
	EXPECT_EQ(ts_ns(&pd), ts_ns(&d));
	ASSERT_EQ(0, lib_info(later, &info));
	EXPECT_EQ(0, info.flags & CTXFD_INFO_OWN_TIMER) TH_LOG("no timer of its own");

	/* A sooner one is. */
	ASSERT_EQ(0, ctx_with_timeout(p, CTX_MINUTE, &sooner, &sooner_c));
	ASSERT_TRUE(ctx_deadline(sooner, &d));
	EXPECT_LT(ts_ns(&d), ts_ns(&pd));
	EXPECT_LT(llabs(ts_ns(&d) - (lib_now() + CTX_MINUTE)), 30 * CTX_SECOND);
	ASSERT_EQ(0, lib_info(sooner, &info));
	EXPECT_NE(0, info.flags & CTXFD_INFO_OWN_TIMER);

	/* Values inherit the deadline; WithoutCancel drops it. */
	ASSERT_EQ(0, ctx_with_value(sooner, "k", "v", 1, &v));
	EXPECT_TRUE(ctx_deadline(v, &d));
	ctx_release(v);
	ASSERT_EQ(0, ctx_without_cancel(sooner, &v));
	EXPECT_FALSE(ctx_deadline(v, &d));
	ctx_release(v);

	ctx_cancel_release(sooner_c);
	ctx_release(sooner);
	ctx_cancel_release(later_c);
	ctx_release(later);
	ctx_cancel_release(pc);
	ctx_release(p);
}

/* A deadline never fires early (a lower bound only: TCG may be late). */
LIBTEST(DeadlineNeverFiresEarly)
{
	ctx_cancel_t *cancel;
	struct timespec d;
	int64_t start, end;
	ctx_t *c;

	start = lib_now();
	ASSERT_EQ(0, ctx_with_timeout(ctx_background(), 50 * CTX_MILLISECOND,
				      &c, &cancel));
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_wait(c, LIB_LONG));
	end = lib_now();
	EXPECT_LE(start + 50 * CTX_MILLISECOND, end);
	ctx_cancel_release(cancel);
	ctx_release(c);

	d = now_plus(50 * CTX_MILLISECOND);
	ASSERT_EQ(0, ctx_with_deadline(ctx_background(), &d, &c, &cancel));
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_wait(c, LIB_LONG));
	EXPECT_LE(ts_ns(&d), lib_now());
	ctx_cancel_release(cancel);
	ctx_release(c);
}

LIBTEST(EarlierParentDeadlineEndsChild)
{
	ctx_cancel_t *pc, *cc;
	ctx_t *p, *c;
	int code;

	ASSERT_EQ(0, ctx_with_timeout_cause(ctx_background(), 20 * CTX_MILLISECOND,
					    7, "parent too slow", &p, &pc));
	ASSERT_EQ(0, ctx_with_timeout_cause(p, CTX_HOUR, 8, "child too slow",
					    &c, &cc));
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_wait(c, LIB_LONG));
	/* The child was ended by its parent's deadline: the parent's cause. */
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_cause(c, &code, NULL, 0));
	EXPECT_EQ(7, code);
	ctx_cancel_release(cc);
	ctx_release(c);
	ctx_cancel_release(pc);
	ctx_release(p);
}

LIBTEST(PastDeadlineIsBornDone)
{
	struct timespec d = now_plus(-CTX_SECOND);
	char msg[CTX_CAUSE_MSG_MAX + 1];
	ctx_cancel_t *cancel;
	ctx_t *c;
	int code;

	ASSERT_EQ(0, ctx_with_deadline_cause(ctx_background(), &d, 9, "late",
					     &c, &cancel));
	EXPECT_TRUE(lib_done_now(c));
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_err(c));
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_cause(c, &code, msg, sizeof(msg)));
	EXPECT_EQ(9, code);
	EXPECT_STREQ("late", msg);
	ctx_cancel_release(cancel);
	ctx_release(c);

	/* Negative timeouts too, as in Go. */
	ASSERT_EQ(0, ctx_with_timeout(ctx_background(), -CTX_SECOND, &c, &cancel));
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_err(c));
	ctx_cancel_release(cancel);
	ctx_release(c);
}

LIBTEST(HugeTimeoutIsFine)
{
	ctx_cancel_t *cancel;
	struct timespec d;
	ctx_t *c;

	ASSERT_EQ(0, ctx_with_timeout(ctx_background(), INT64_MAX, &c, &cancel));
	EXPECT_EQ(0, ctx_err(c));
	EXPECT_TRUE(ctx_deadline(c, &d));
	ctx_cancel_release(cancel);
	ctx_release(c);
}

/* A deadline on CLOCK_BOOTTIME (made with the raw interface) is reported
 * on CLOCK_MONOTONIC. */
LIBTEST(BoottimeDeadlineIsReportedMonotonic)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_TIMEOUT,
		.deadline_ns = CTX_HOUR,
		.clockid = CLOCK_BOOTTIME,
	};
	int dev = ctxfd_dev_or_skip();
	ctx_cancel_t *cancel;
	struct timespec d;
	ctx_t *c;
	int fd;

	fd = ioctl(dev, CTXFD_IOC_NEW, &args);
	close(dev);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ctx_cancel_from_fd(fd, &c, &cancel));
	ASSERT_TRUE(ctx_deadline(c, &d));
	EXPECT_LT(llabs(ts_ns(&d) - (lib_now() + CTX_HOUR)), 30 * CTX_SECOND);
	ctx_cancel_release(cancel);
	ctx_release(c);
}

/* ---- values ------------------------------------------------------------------ */

LIBTEST(ValuesAreBytes)
{
	static const char bin[] = { 'a', '\0', 'b', '\xff' };
	char buf[16] = "untouched";
	ctx_t *c, *e;

	ASSERT_EQ(0, ctx_with_value(ctx_background(), "bin", bin, sizeof(bin), &c));
	EXPECT_EQ(4, ctx_value(c, "bin", buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, bin, sizeof(bin)));
	/* Too small a buffer: the length, nothing copied. */
	memcpy(buf, "untouched", 10);
	EXPECT_EQ(4, ctx_value(c, "bin", buf, 2));
	EXPECT_STREQ("untouched", buf);
	EXPECT_EQ(4, ctx_value(c, "bin", NULL, 0));
	/* Nil shadows, and reads like "never bound" (Go's nil). */
	ASSERT_EQ(0, ctx_with_value(c, "bin", NULL, 0, &e));
	EXPECT_EQ(-ENOENT, ctx_value(e, "bin", buf, sizeof(buf)));
	EXPECT_EQ(-ENOENT, ctx_value(e, "other", buf, sizeof(buf)));
	ctx_release(e);
	ctx_release(c);
}

LIBTEST(ValueLimits)
{
	static char key[300], val[4097];
	ctx_t *c;

	memset(key, 'k', 256);
	memset(val, 'v', sizeof(val));
	/* The module's defaults: keys up to 256 bytes, values up to 4096. */
	ASSERT_EQ(0, ctx_with_value(ctx_background(), key, val, 4096, &c));
	EXPECT_EQ(4096, ctx_value(c, key, val, sizeof(val)));
	ctx_release(c);
	EXPECT_EQ(-E2BIG, ctx_with_value(ctx_background(), key, val, 4097, &c));
	key[256] = 'k';
	EXPECT_EQ(-E2BIG, ctx_with_value(ctx_background(), key, val, 1, &c));
	ASSERT_EQ(0, ctx_with_value(ctx_background(), "k", "v", 1, &c));
	EXPECT_EQ(-E2BIG, ctx_value(c, key, val, 1));
	ctx_release(c);
}

LIBTEST(NeverDoneKinds)
{
	ctx_cancel_t *cancel;
	ctx_t *c, *w, *wv, *v;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	ASSERT_EQ(0, ctx_without_cancel(c, &w));
	ASSERT_EQ(0, ctx_with_value(w, "k", "v", 1, &wv));
	ASSERT_EQ(0, ctx_with_value(ctx_background(), "k", "v", 1, &v));
	ctx_cancel(cancel);
	EXPECT_EQ(-1, ctx_done_fd(w));
	EXPECT_EQ(-1, ctx_done_fd(wv));
	EXPECT_EQ(-1, ctx_done_fd(v));
	EXPECT_EQ(0, ctx_err(w));
	EXPECT_EQ(0, ctx_err(wv));
	EXPECT_EQ(0, ctx_wait(wv, LIB_SHORT));
	EXPECT_EQ(1, ctx_value(wv, "k", NULL, 0));
	ctx_release(v);
	ctx_release(wv);
	ctx_release(w);
	ctx_cancel_release(cancel);
	ctx_release(c);
}

/*
 * A deep chain, each level released as soon as the next exists: the
 * kernel keeps the fd-less ancestors alive for the leaf, and lookups walk
 * them all.
 */
LIBTEST(DeepChain)
{
	const int DEPTH = lib_iterations(5000);
	ctx_t *leaf, *next;
	char buf[8];
	int i;

	ASSERT_EQ(0, ctx_with_value(ctx_background(), "root", "r", 1, &leaf));
	for (i = 1; i < DEPTH; i++) {
		int ret = i % 2 ? ctx_with_value(leaf, "k", "v", 1, &next) :
				  ctx_without_cancel(leaf, &next);

		ASSERT_EQ(0, ret) TH_LOG("depth %d: %s", i, ctx_last_error());
		ctx_release(leaf);
		leaf = next;
	}
	EXPECT_EQ(1, lib_count_ctx_fds());
	EXPECT_EQ(1, ctx_value(leaf, "root", buf, sizeof(buf)));
	EXPECT_EQ('r', buf[0]);
	ctx_release(leaf);
}

/* ---- observing ---------------------------------------------------------------- */

LIBTEST(DoneFdWorksWithEpoll)
{
	struct epoll_event ev = { .events = EPOLLIN }, got;
	ctx_cancel_t *cancel;
	ctx_t *c;
	int ep;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, ctx_done_fd(c), &ev));
	EXPECT_EQ(0, epoll_wait(ep, &got, 1, 0));
	EXPECT_EQ(0, ctx_err(c));	/* checking does not make it readable */
	EXPECT_EQ(0, epoll_wait(ep, &got, 1, 0));
	ctx_cancel(cancel);
	EXPECT_EQ(1, epoll_wait(ep, &got, 1, 0));
	close(ep);
	ctx_cancel_release(cancel);
	ctx_release(c);
}

LIBTEST(ErrLeavesFileFlagsAlone)
{
	ctx_cancel_t *cancel;
	ctx_t *c;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	EXPECT_EQ(0, ctx_err(c));
	/* preadv2(RWF_NOWAIT): the shared open file stays blocking. */
	EXPECT_EQ(0, fcntl(ctx_done_fd(c), F_GETFL) & O_NONBLOCK);
	ctx_cancel_release(cancel);
	ctx_release(c);
}

LIBTEST(WaitTimesOutOrReturnsErr)
{
	ctx_cancel_t *cancel;
	ctx_t *c;

	ASSERT_EQ(0, ctx_with_timeout(ctx_background(), CTX_HOUR, &c, &cancel));
	EXPECT_EQ(0, ctx_wait(c, 0));			/* a check */
	EXPECT_EQ(0, ctx_wait(c, 20 * CTX_MILLISECOND));	/* times out */
	ctx_cancel_release(cancel);
	ctx_release(c);

	ASSERT_EQ(0, ctx_with_timeout(ctx_background(), 30 * CTX_MILLISECOND,
				      &c, &cancel));
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_wait(c, CTX_FOREVER));
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_wait(c, 0));
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_wait(c, 20 * CTX_MILLISECOND));
	ctx_cancel_release(cancel);
	ctx_release(c);
}

/* ---- descriptors across processes ----------------------------------------------- */

LIBTEST(ExportAndAdopt)
{
	struct ctxfd_info info;
	ctx_cancel_t *cancel, *k2;
	ctx_t *c, *o, *o2;
	int fd, pipefd[2];

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	fd = ctx_fd(c, 0);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(t_cloexec(fd));
	ASSERT_EQ(0, t_info(fd, &info));
	EXPECT_EQ(0, info.flags & CTXFD_INFO_CAN_CANCEL);
	/* A watch-only fd cannot become a cancel handle. */
	EXPECT_EQ(-EPERM, ctx_cancel_from_fd(fd, &o, &k2));
	ASSERT_EQ(0, ctx_from_fd(fd, &o));	/* o owns fd now */
	ctx_cancel(cancel);
	EXPECT_EQ(CTX_CANCELED, ctx_err(o));
	ctx_release(o);

	fd = ctx_fd(c, CTX_NO_CLOEXEC);
	EXPECT_FALSE(t_cloexec(fd));
	close(fd);
	EXPECT_EQ(-EINVAL, ctx_fd(c, 0x100));

	/* Not a context: refused, and left open. */
	ASSERT_EQ(0, pipe(pipefd));
	EXPECT_EQ(-EBADF, ctx_from_fd(pipefd[0], &o2));
	EXPECT_EQ(NULL, o2);
	EXPECT_LE(0, fcntl(pipefd[0], F_GETFD));
	close(pipefd[0]);
	close(pipefd[1]);
	EXPECT_EQ(-EBADF, ctx_from_fd(-1, &o2));

	ctx_cancel_release(cancel);
	ctx_release(c);
}

LIBTEST(BackgroundTravelsAsNeverDone)
{
	ctx_t *o;
	int fd = ctx_fd(ctx_background(), 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ctx_from_fd(fd, &o));
	EXPECT_EQ(0, ctx_err(o));
	EXPECT_FALSE(lib_done_now(o));
	ctx_release(o);
}

LIBTEST(SendAndReceive)
{
	ctx_cancel_t *cancel, *rcancel;
	ctx_t *c, *r, *rc;
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, ctx_with_cancel_cause(ctx_background(), &c, &cancel));

	ASSERT_EQ(0, ctx_send(sv[0], c));
	ASSERT_EQ(0, ctx_recv(sv[1], &r));
	EXPECT_EQ(lib_nr_children(c), lib_nr_children(r));

	/* The cancel right travels too; the receiver cancels for everyone. */
	ASSERT_EQ(0, ctx_cancel_send(sv[0], cancel));
	ASSERT_EQ(0, ctx_cancel_recv(sv[1], &rc, &rcancel));
	EXPECT_EQ(0, ctx_cancel_cause(rcancel, 3, "receiver"));
	EXPECT_EQ(CTX_CANCELED, ctx_err(c));
	EXPECT_EQ(CTX_CANCELED, ctx_err(r));

	ctx_cancel_release(rcancel);
	ctx_release(rc);
	ctx_release(r);

	/* A watch-only context is no cancel right. */
	ASSERT_EQ(0, ctx_send(sv[0], c));
	EXPECT_EQ(-EPERM, ctx_cancel_recv(sv[1], &rc, &rcancel));
	EXPECT_EQ(NULL, rcancel);

	/* No descriptor, then end of stream. */
	ASSERT_EQ(1, write(sv[0], "x", 1));
	EXPECT_EQ(-EBADMSG, ctx_recv(sv[1], &r));
	close(sv[0]);
	EXPECT_EQ(-ECONNRESET, ctx_recv(sv[1], &r));
	EXPECT_EQ(NULL, r);
	close(sv[1]);

	ctx_cancel_release(cancel);
	ctx_release(c);
}

LIBTEST(EnvironmentRoundTrip)
{
	char env[CTX_ENV_MAX];
	ctx_cancel_t *cancel;
	ctx_t *c, *got, *again;
	int fd;

	/* Unset: Background. */
	unsetenv(CTX_ENV);
	EXPECT_EQ(0, ctx_from_env(&got));
	EXPECT_EQ(ctx_background(), got);
	setenv(CTX_ENV, "12x", 1);
	EXPECT_EQ(-EINVAL, ctx_from_env(&got));
	setenv(CTX_ENV, "0", 1);	/* stdin is no context */
	EXPECT_EQ(-EBADF, ctx_from_env(&got));

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	fd = ctx_export_env(c, env, sizeof(env));
	ASSERT_LE(0, fd);
	EXPECT_FALSE(t_cloexec(fd));
	ASSERT_EQ(0, putenv(env));
	ASSERT_EQ(1, ctx_from_env(&got));
	lib_fd_allowance = 1;		/* the process keeps it */
	EXPECT_TRUE(t_cloexec(fd));
	EXPECT_EQ(NULL, getenv(CTX_ENV));
	ASSERT_EQ(1, ctx_from_env(&again));
	EXPECT_EQ(got, again);
	ctx_cancel(cancel);
	EXPECT_EQ(CTX_CANCELED, ctx_err(got));
	EXPECT_EQ(-ERANGE, ctx_export_env(c, env, 4));
	ctx_release(again);
	ctx_release(got);
	ctx_cancel_release(cancel);
	ctx_release(c);
}

/* ---- fork and AfterFunc ------------------------------------------------------------ */

static struct lib_event ran;

LIBTEST(ForkDropsPendingAfterFuncsInTheChild)
{
	ctx_cancel_t *cancel;
	ctx_stop_t *stop;
	int status;
	ctx_t *c;
	pid_t pid;

	lib_event_init(&ran);
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	ASSERT_EQ(0, ctx_after_func(c, lib_post_fn, &ran, &stop));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		ctx_stop_t *mine;
		int bad = 0;

		/* Inherited registration: gone in the child. */
		bad |= ctx_stop(stop) ? 1 : 0;
		/* A new one works, with a watcher of the child's own. */
		lib_event_init(&ran);
		if (ctx_after_func(c, lib_post_fn, &ran, &mine))
			bad |= 2;
		ctx_cancel(cancel);	/* the context is shared */
		if (!lib_event_wait(&ran, LIB_LONG))
			bad |= 4;
		if (lib_event_wait_n(&ran, 2, LIB_SHORT))
			bad |= 8;	/* the parent's ran here too */
		ctx_stop_release(mine);
		ctx_stop_release(stop);
		ctx_cancel_release(cancel);
		ctx_release(c);
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The child canceled the shared context: ours runs here, once. */
	EXPECT_TRUE(lib_event_wait(&ran, LIB_LONG));
	EXPECT_FALSE(lib_event_wait_n(&ran, 2, LIB_SHORT));
	EXPECT_FALSE(ctx_stop(stop));
	ctx_stop_release(stop);
	ctx_cancel_release(cancel);
	ctx_release(c);
}

LIBTEST(AfterFuncsShareOneWatch)
{
	enum { N = 10 };
	ctx_stop_t *stops[N];
	ctx_cancel_t *cancel;
	ctx_t *c;
	int i;

	lib_event_init(&ran);
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, ctx_after_func(c, lib_post_fn, &ran, &stops[i]));
	}
	EXPECT_EQ(1, lib_watch_count());
	EXPECT_TRUE(ctx_stop(stops[0]));
	EXPECT_EQ(1, lib_watch_count());
	ctx_cancel(cancel);
	EXPECT_TRUE(lib_event_wait_n(&ran, N - 1, LIB_LONG));
	EXPECT_FALSE(lib_event_wait_n(&ran, N, LIB_SHORT));
	for (i = 0; i < N; i++) {
		EXPECT_FALSE(ctx_stop(stops[i]));
		ctx_stop_release(stops[i]);
	}
	EXPECT_EQ(0, lib_watch_count());
	ctx_cancel_release(cancel);
	ctx_release(c);
}

LIBTEST(AfterFuncOnNeverDoneContexts)
{
	ctx_stop_t *stop;
	ctx_t *w;

	ASSERT_EQ(0, ctx_after_func(ctx_background(), noop, NULL, &stop));
	EXPECT_TRUE(ctx_stop(stop));
	EXPECT_FALSE(ctx_stop(stop));
	ctx_stop_release(stop);
	/* Without a handle nothing could ever run or stop it: freed. */
	ASSERT_EQ(0, ctx_after_func(ctx_todo(), noop, NULL, NULL));
	ASSERT_EQ(0, ctx_with_value(ctx_background(), "k", "v", 1, &w));
	ASSERT_EQ(0, ctx_after_func(w, noop, NULL, &stop));
	ctx_stop_release(stop);		/* pending, released: freed */
	EXPECT_EQ(0, lib_watch_count());
	ctx_release(w);
}

/* Registrations do not keep the cancel fd open: release still cancels. */
LIBTEST(AfterFuncRunsWhenEverythingIsReleased)
{
	ctx_cancel_t *cancel;
	ctx_t *c;

	lib_event_init(&ran);
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	ASSERT_EQ(0, ctx_after_func(c, lib_post_fn, &ran, NULL));
	ctx_cancel_release(cancel);
	ctx_release(c);
	EXPECT_TRUE(lib_event_wait(&ran, LIB_LONG));
}

struct stop_race {
	ctx_stop_t *stop;
	bool stopped;
};

static void *stop_thread(void *arg)
{
	struct stop_race *r = arg;

	r->stopped = ctx_stop(r->stop);
	return NULL;
}

static struct lib_event race_ran;

/* stop() racing with the cancel: the function runs iff stop said false. */
LIBTEST(StopRacesWithCancel)
{
	int i, runs = 0, stops = 0;

	lib_event_init(&race_ran);
	for (i = 0; i < lib_iterations(100); i++) {
		struct stop_race r = { 0 };
		ctx_cancel_t *cancel;
		pthread_t t;
		ctx_t *c;

		ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
		ASSERT_EQ(0, ctx_after_func(c, lib_post_fn, &race_ran, &r.stop));
		ASSERT_EQ(0, pthread_create(&t, NULL, stop_thread, &r));
		ctx_cancel(cancel);
		pthread_join(t, NULL);
		if (r.stopped)
			stops++;
		else
			runs++;
		if (!r.stopped) {
			ASSERT_TRUE(lib_event_wait_n(&race_ran, runs, LIB_LONG));
		}
		ctx_stop_release(r.stop);
		ctx_cancel_release(cancel);
		ctx_release(c);
	}
	EXPECT_FALSE(lib_event_wait_n(&race_ran, runs + 1, LIB_SHORT))
		TH_LOG("a stopped function ran");
	TH_LOG("%d stopped, %d ran", stops, runs);
}

/* ---- threads ----------------------------------------------------------------------- */

struct hammer {
	ctx_t *parent;
	int failures;
};

static void *hammer_thread(void *arg)
{
	struct hammer *h = arg;
	int i;

	for (i = 0; i < lib_iterations(200); i++) {
		ctx_cancel_t *cancel;
		ctx_t *c, *v;
		char buf[4];

		if (ctx_with_cancel(h->parent, &c, &cancel) ||
		    ctx_with_value(c, "k", "v", 1, &v)) {
			__atomic_add_fetch(&h->failures, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (ctx_err(v) || ctx_value(v, "k", buf, sizeof(buf)) != 1 ||
		    ctx_err(h->parent) < 0)
			__atomic_add_fetch(&h->failures, 1, __ATOMIC_RELAXED);
		ctx_cancel(cancel);
		if (ctx_err(v) != CTX_CANCELED)
			__atomic_add_fetch(&h->failures, 1, __ATOMIC_RELAXED);
		ctx_release(v);
		ctx_cancel_release(cancel);
		ctx_release(c);
	}
	return NULL;
}

LIBTEST(ManyThreadsOneParent)
{
	enum { T = 8 };
	struct hammer h = { 0 };
	ctx_cancel_t *cancel;
	pthread_t t[T];
	int i;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &h.parent, &cancel));
	for (i = 0; i < T; i++) {
		ASSERT_EQ(0, pthread_create(&t[i], NULL, hammer_thread, &h));
	}
	for (i = 0; i < T; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(0, h.failures);
	EXPECT_EQ(0, lib_nr_children(h.parent));
	ctx_cancel_release(cancel);
	ctx_release(h.parent);
}

/* ---- process-tree teardown ---------------------------------------------------------- */

LIBTEST(KillOnCancel)
{
	ctx_cancel_t *cancel;
	int status, ret;
	ctx_t *c;
	pid_t pid;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		for (;;)
			pause();
	}
	ret = ctx_kill_on_cancel(c, pid, SIGTERM, 0, 0);
	if (ret) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		ctx_cancel_release(cancel);
		ctx_release(c);
		if (ret == -ENOTTY)
			CTXFD_SKIP("the kernel module has no CTXFD_IOC_ATTACH");
		if (ret == -ENOSYS)	/* valgrind 3.19 lacks pidfd_open */
			CTXFD_SKIP("no pidfd_open(2) here");
		ASSERT_EQ(0, ret) TH_LOG("%s", ctx_last_error());
	}
	EXPECT_EQ(-EINVAL, ctx_kill_on_cancel(c, pid, 0, 0, 0));
	EXPECT_EQ(-EINVAL, ctx_kill_on_cancel(c, pid, SIGTERM, -1, 0));
	EXPECT_EQ(-EINVAL, ctx_kill_on_cancel(c, pid, SIGTERM, 0, 0x80));
	ctx_cancel(cancel);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGTERM, WTERMSIG(status));
	/* Background is never done: attaching to it is a no-op. */
	EXPECT_EQ(0, ctx_kill_on_cancel(ctx_background(), getpid(), SIGKILL, 0, 0));
	ctx_cancel_release(cancel);
	ctx_release(c);
}

TEST_HARNESS_MAIN
