// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One error rule for every function (libctxfd(7), "Errors"):
 *
 *  - int and ssize_t functions return a negative errno on failure;
 *  - bool functions (ctx_deadline, ctx_stop) return false and set errno,
 *    which they leave alone when they succeed;
 *  - every failure describes itself in ctx_last_error(), naming the
 *    function;
 *  - out-parameters are cleared on failure;
 *  - NULL is EINVAL; a context whose descriptor was closed behind the
 *    library's back is EBADF for everything that needs the descriptor.
 */
#include "lib_test.h"

static void expect_last_error(struct __test_metadata *_metadata,
			      const char *fn)
{
	EXPECT_NE(NULL, strstr(ctx_last_error(), fn))
		TH_LOG("%s: last error \"%s\"", fn, ctx_last_error());
}

LIBTEST(ObserversGivenNullFailOneWay)
{
	struct timespec ts = { .tv_sec = 123, .tv_nsec = 456 };
	char buf[8] = "junk";
	int code = 77;

	EXPECT_EQ(-EINVAL, ctx_done_fd(NULL));
	expect_last_error(_metadata, "ctx_done_fd");
	EXPECT_EQ(-EINVAL, ctx_err(NULL));
	expect_last_error(_metadata, "ctx_err");
	EXPECT_EQ(-EINVAL, ctx_wait(NULL, 0));
	expect_last_error(_metadata, "ctx_wait");
	EXPECT_EQ(-EINVAL, ctx_cause(NULL, &code, buf, sizeof(buf)));
	expect_last_error(_metadata, "ctx_cause");
	EXPECT_EQ(0, code);
	EXPECT_STREQ("", buf);
	EXPECT_EQ(-EINVAL, ctx_value(NULL, "k", buf, sizeof(buf)));
	expect_last_error(_metadata, "ctx_value");
	EXPECT_EQ(-EINVAL, ctx_fd(NULL, 0));
	expect_last_error(_metadata, "ctx_fd");

	errno = 0;
	EXPECT_FALSE(ctx_deadline(NULL, &ts));
	EXPECT_EQ(EINVAL, errno);
	expect_last_error(_metadata, "ctx_deadline");
	EXPECT_EQ(0, ts.tv_sec);
	EXPECT_EQ(0, ts.tv_nsec);

	errno = 0;
	EXPECT_FALSE(ctx_stop(NULL));
	EXPECT_EQ(EINVAL, errno);
	expect_last_error(_metadata, "ctx_stop");
}

/* false is also a plain answer: errno tells them apart. */
LIBTEST(BoolObserversLeaveErrnoAloneOnSuccess)
{
	ctx_cancel_t *cancel;
	struct timespec ts;
	ctx_stop_t *stop;
	ctx_t *c;

	errno = 1234;
	EXPECT_FALSE(ctx_deadline(ctx_background(), &ts));
	EXPECT_EQ(1234, errno);

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	errno = 1234;
	EXPECT_FALSE(ctx_deadline(c, &ts));
	EXPECT_EQ(1234, errno);
	ASSERT_EQ(0, ctx_after_func(c, lib_post_fn, NULL, &stop));
	errno = 1234;
	EXPECT_TRUE(ctx_stop(stop));
	EXPECT_EQ(1234, errno);
	EXPECT_FALSE(ctx_stop(stop));
	EXPECT_EQ(1234, errno);
	ctx_stop_release(stop);
	ctx_cancel_release(cancel);
	ctx_release(c);
}

/*
 * The program closed the context's descriptor (for instance the one
 * ctx_done_fd() returned): EBADF from every call that needs it.
 */
LIBTEST(ClosedDescriptorIsEBADF)
{
	struct timespec ts = { .tv_sec = 1, .tv_nsec = 1 };
	ctx_cancel_t *cancel, *wcancel;
	ctx_stop_t *stop = (ctx_stop_t *)1;
	char buf[8];
	int code = 5;
	ctx_t *c, *w, *child = (ctx_t *)1;
	int fd;

	ASSERT_EQ(0, ctx_with_timeout(ctx_background(), CTX_HOUR, &c, &cancel));
	fd = ctx_fd(c, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ctx_from_fd(fd, &w));
	ASSERT_EQ(fd, ctx_done_fd(w));
	close(fd);			/* behind the library's back */

	EXPECT_EQ(-EBADF, ctx_err(w));
	expect_last_error(_metadata, "ctx_err");
	EXPECT_EQ(-EBADF, ctx_wait(w, 0));
	EXPECT_EQ(-EBADF, ctx_wait(w, LIB_SHORT));
	expect_last_error(_metadata, "ctx_wait");
	EXPECT_EQ(-EBADF, ctx_cause(w, &code, buf, sizeof(buf)));
	EXPECT_EQ(0, code);
	expect_last_error(_metadata, "ctx_cause");
	EXPECT_EQ(-EBADF, ctx_value(w, "k", buf, sizeof(buf)));
	expect_last_error(_metadata, "ctx_value");
	EXPECT_EQ(-EBADF, ctx_fd(w, 0));
	expect_last_error(_metadata, "ctx_fd");
	EXPECT_EQ(-EBADF, ctx_after_func(w, lib_post_fn, NULL, &stop));
	EXPECT_EQ(NULL, stop);
	EXPECT_EQ(-EBADF, ctx_with_cancel(w, &child, &wcancel));
	EXPECT_EQ(NULL, child);
	expect_last_error(_metadata, "ctx_with_cancel");
	errno = 0;
	EXPECT_FALSE(ctx_deadline(w, &ts));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(0, ts.tv_sec);
	EXPECT_EQ(0, ts.tv_nsec);
	expect_last_error(_metadata, "ctx_deadline");

	ctx_release(w);			/* closes nothing of anyone else */
	ctx_cancel_release(cancel);
	ctx_release(c);
}

/* A context whose fd was closed after it was seen done still answers. */
LIBTEST(DoneContextAnswersFromWhatItKnows)
{
	ctx_cancel_t *cancel;
	ctx_t *c, *w;
	int fd;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	fd = ctx_fd(c, 0);
	ASSERT_EQ(0, ctx_from_fd(fd, &w));
	ctx_cancel(cancel);
	EXPECT_EQ(CTX_CANCELED, ctx_err(w));
	close(fd);
	EXPECT_EQ(CTX_CANCELED, ctx_err(w));
	EXPECT_EQ(CTX_CANCELED, ctx_wait(w, CTX_FOREVER));
	ctx_release(w);
	ctx_cancel_release(cancel);
	ctx_release(c);
}

TEST_HARNESS_MAIN
