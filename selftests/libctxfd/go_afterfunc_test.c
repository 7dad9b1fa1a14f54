// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Go's src/context/afterfunc_test.go, ported to libctxfd.
 *
 * Go's tests use afterFuncContext, "a context that's not one of the types
 * defined in context.go", which cancels its children through AfterFunc
 * registrations instead of goroutines. The C analog of a context the
 * library did not define is a context created with the raw kernel
 * interface (CTXFD_IOC_NEW on /dev/ctxfd) and adopted with
 * ctx_cancel_from_fd(); ctx0.cancel(Canceled) is a cancel through that
 * handle. Go's count of ctx0.afterFuncs becomes what the kernel and the
 * library register for ctx0: its kernel children (nr_children) and the
 * AfterFunc watcher's epoll registrations.
 *
 * Nothing is left out: every test of afterfunc_test.go is ported.
 */
#include "lib_test.h"

#define VERY_LONG (1000 * CTX_HOUR)

/* Go's &afterFuncContext{}: a raw kernel root, adopted. */
static void new_after_func_context(struct __test_metadata *_metadata,
				   ctx_t **ctx0, ctx_cancel_t **cancel0)
{
	int dev = ctxfd_dev_or_skip();
	int fd = t_new(dev, 0);

	close(dev);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ctx_cancel_from_fd(fd, ctx0, cancel0));
}

static void noop(void *arg)
{
}

LIBTEST(TestCustomContextAfterFuncCancel)
{
	ctx_cancel_t *cancel0, *cancel;
	ctx_t *ctx0, *ctx1;

	new_after_func_context(_metadata, &ctx0, &cancel0);
	ASSERT_EQ(0, ctx_with_cancel(ctx0, &ctx1, &cancel));
	ASSERT_EQ(0, ctx_cancel(cancel0));	/* ctx0.cancel(Canceled) */
	EXPECT_LT(0, ctx_wait(ctx1, LIB_LONG));	/* <-ctx1.Done() */
	ctx_cancel_release(cancel);
	ctx_release(ctx1);
	ctx_cancel_release(cancel0);
	ctx_release(ctx0);
}

LIBTEST(TestCustomContextAfterFuncTimeout)
{
	ctx_cancel_t *cancel0, *cancel;
	ctx_t *ctx0, *ctx1;

	new_after_func_context(_metadata, &ctx0, &cancel0);
	ASSERT_EQ(0, ctx_with_timeout(ctx0, VERY_LONG, &ctx1, &cancel));
	ASSERT_EQ(0, ctx_cancel(cancel0));
	EXPECT_EQ(CTX_CANCELED, ctx_wait(ctx1, LIB_LONG));
	ctx_cancel_release(cancel);
	ctx_release(ctx1);
	ctx_cancel_release(cancel0);
	ctx_release(ctx0);
}

static struct lib_event donec;

LIBTEST(TestCustomContextAfterFuncAfterFunc)
{
	ctx_cancel_t *cancel0;
	ctx_stop_t *stop;
	ctx_t *ctx0;

	lib_event_init(&donec);
	new_after_func_context(_metadata, &ctx0, &cancel0);
	ASSERT_EQ(0, ctx_after_func(ctx0, lib_post_fn, &donec, &stop));
	ASSERT_EQ(0, ctx_cancel(cancel0));
	EXPECT_TRUE(lib_event_wait(&donec, LIB_LONG));	/* <-donec */
	ctx_stop(stop);					/* defer stop() */
	ctx_stop_release(stop);
	ctx_cancel_release(cancel0);
	ctx_release(ctx0);
}

LIBTEST(TestCustomContextAfterFuncUnregisterCancel)
{
	ctx_cancel_t *cancel0, *cancel1, *cancel2;
	ctx_t *ctx0, *c1, *c2;

	new_after_func_context(_metadata, &ctx0, &cancel0);
	ASSERT_EQ(0, ctx_with_cancel(ctx0, &c1, &cancel1));
	ASSERT_EQ(0, ctx_with_cancel(ctx0, &c2, &cancel2));
	EXPECT_EQ(2, lib_nr_children(ctx0))
		TH_LOG("after WithCancel(ctx0): ctx0 has wrong number of children");
	ctx_cancel(cancel1);
	ctx_cancel(cancel2);
	EXPECT_EQ(0, lib_nr_children(ctx0))
		TH_LOG("after canceling WithCancel(ctx0): ctx0 still has children");
	ctx_cancel_release(cancel2);
	ctx_release(c2);
	ctx_cancel_release(cancel1);
	ctx_release(c1);
	ctx_cancel_release(cancel0);
	ctx_release(ctx0);
}

LIBTEST(TestCustomContextAfterFuncUnregisterTimeout)
{
	ctx_cancel_t *cancel0, *cancel;
	ctx_t *ctx0, *c;

	new_after_func_context(_metadata, &ctx0, &cancel0);
	ASSERT_EQ(0, ctx_with_timeout(ctx0, VERY_LONG, &c, &cancel));
	EXPECT_EQ(1, lib_nr_children(ctx0))
		TH_LOG("after WithTimeout(ctx0, d): ctx0 has wrong number of children");
	ctx_cancel(cancel);
	EXPECT_EQ(0, lib_nr_children(ctx0))
		TH_LOG("after canceling WithTimeout(ctx0, d): ctx0 still has children");
	ctx_cancel_release(cancel);
	ctx_release(c);
	ctx_cancel_release(cancel0);
	ctx_release(ctx0);
}

LIBTEST(TestCustomContextAfterFuncUnregisterAfterFunc)
{
	ctx_cancel_t *cancel0;
	ctx_stop_t *stop;
	ctx_t *ctx0;

	new_after_func_context(_metadata, &ctx0, &cancel0);
	ASSERT_EQ(0, ctx_after_func(ctx0, noop, NULL, &stop));
	EXPECT_EQ(1, lib_watch_count())
		TH_LOG("after AfterFunc(ctx0, f): wrong number of registrations");
	EXPECT_TRUE(ctx_stop(stop));
	EXPECT_EQ(0, lib_watch_count())
		TH_LOG("after stopping AfterFunc(ctx0, f): still registered");
	ctx_stop_release(stop);
	ctx_cancel_release(cancel0);
	ctx_release(ctx0);
}

TEST_HARNESS_MAIN
