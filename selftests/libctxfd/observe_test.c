// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Who canceled, and is it over (libctxfd 1.1, issue 15):
 *
 *  - ctx_cause_origin() names the reason, the context where the
 *    cancellation began, the process and its name, and the time, for an
 *    explicit cancel, a deadline and an ancestor's cancel;
 *  - ctx_wait_drained() returns only once every descendant context is
 *    released and every attached process has exited, and times out
 *    before;
 *  - ctx_teardown_report() reports what a teardown did: signalled, the
 *    ones that needed SIGKILL, and the duration.
 */
#include "lib_test.h"

static uint64_t ctx_id(ctx_t *ctx)
{
	struct ctxfd_info info;

	return lib_info(ctx, &info) ? 0 : info.id;
}

/*
 * ctx_kill_on_cancel(), or skip where pidfd_open(2) is missing (valgrind
 * 3.19 does not know it): the sleeper is killed and everything released.
 */
#define ATTACH_OR_SKIP(c, cancel, pid, sig, grace) do {			\
	int __ret = ctx_kill_on_cancel(c, pid, sig, grace, 0);		\
									\
	if (__ret == -ENOSYS) {						\
		kill(pid, SIGKILL);					\
		t_wait_status(pid);					\
		ctx_cancel_release(cancel);				\
		ctx_release(c);						\
		CTXFD_SKIP("no pidfd_open(2) here");			\
	}								\
	ASSERT_EQ(0, __ret) TH_LOG("%s", ctx_last_error());		\
} while (0)

LIBTEST(CauseOriginOfAnExplicitCancel)
{
	struct ctx_origin o;
	ctx_t *c;
	ctx_cancel_t *cancel;
	char comm[32] = "";
	int64_t before, after;

	ASSERT_LT(0, t_read_file("/proc/self/comm", comm, sizeof(comm)));
	comm[strcspn(comm, "\n")] = '\0';
	ASSERT_EQ(0, ctx_with_cancel_cause(ctx_background(), &c, &cancel));
	EXPECT_EQ(0, ctx_cause_origin(c, &o));
	EXPECT_EQ(0, o.reason);
	EXPECT_EQ(0, o.id);

	before = (int64_t)t_now_ns(CLOCK_BOOTTIME);
	EXPECT_EQ(0, ctx_cancel_cause(cancel, 42, "stop"));
	after = (int64_t)t_now_ns(CLOCK_BOOTTIME);
	EXPECT_EQ(CTX_CANCELED, ctx_cause_origin(c, &o));
	EXPECT_EQ(CTX_REASON_CANCEL, o.reason);
	EXPECT_EQ(CTX_VIA_SELF, o.via);
	EXPECT_EQ(ctx_id(c), o.id);
	EXPECT_EQ(getpid(), o.pid);
	EXPECT_STREQ(comm, o.comm);
	EXPECT_LE(before, o.time_ns);
	EXPECT_GE(after, o.time_ns);
	ctx_cancel_release(cancel);
	ctx_release(c);
}

LIBTEST(CauseOriginOfAChildIsItsAncestors)
{
	struct ctx_origin o;
	ctx_t *p, *c;
	ctx_cancel_t *pc, *cc;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &p, &pc));
	ASSERT_EQ(0, ctx_with_cancel(p, &c, &cc));
	EXPECT_EQ(0, ctx_cancel(pc));
	EXPECT_EQ(CTX_CANCELED, ctx_cause_origin(c, &o));
	EXPECT_EQ(CTX_REASON_CANCEL, o.reason);
	EXPECT_EQ(CTX_VIA_ANCESTOR, o.via);
	EXPECT_EQ(ctx_id(p), o.id);
	EXPECT_EQ(getpid(), o.pid);
	ctx_cancel_release(cc);
	ctx_release(c);
	ctx_cancel_release(pc);
	ctx_release(p);
}

LIBTEST(CauseOriginOfADeadlineHasNoProcess)
{
	struct ctx_origin o;
	ctx_t *c;
	ctx_cancel_t *cancel;

	ASSERT_EQ(0, ctx_with_timeout(ctx_background(), CTX_MILLISECOND,
				      &c, &cancel));
	ASSERT_EQ(CTX_DEADLINE_EXCEEDED, ctx_wait(c, LIB_LONG));
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_cause_origin(c, &o));
	EXPECT_EQ(CTX_REASON_DEADLINE, o.reason);
	EXPECT_EQ(ctx_id(c), o.id);
	EXPECT_EQ(0, o.pid);
	EXPECT_STREQ("", o.comm);
	EXPECT_LT(0, o.time_ns);
	ctx_cancel_release(cancel);
	ctx_release(c);
}

LIBTEST(ObservingBackgroundAndBadArguments)
{
	struct ctx_origin o;
	struct ctx_teardown td;

	EXPECT_EQ(0, ctx_cause_origin(ctx_background(), &o));
	EXPECT_EQ(0, o.reason);
	EXPECT_EQ(0, ctx_teardown_report(ctx_todo(), &td));
	EXPECT_EQ(0, td.fired);
	EXPECT_EQ(0, ctx_wait_drained(ctx_background(), 0));
	EXPECT_EQ(-EINVAL, ctx_cause_origin(NULL, &o));
	EXPECT_EQ(-EINVAL, ctx_cause_origin(ctx_background(), NULL));
	EXPECT_EQ(-EINVAL, ctx_teardown_report(NULL, &td));
	EXPECT_EQ(-EINVAL, ctx_wait_drained(NULL, 0));
	EXPECT_NE(NULL, strstr(ctx_last_error(), "ctx_wait_drained"));
}

LIBTEST(WaitDrainedWaitsForTheLastDescendant)
{
	ctx_t *p, *c;
	ctx_cancel_t *pc, *cc;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &p, &pc));
	ASSERT_EQ(0, ctx_with_cancel(p, &c, &cc));
	EXPECT_EQ(0, ctx_wait_drained(p, 0));		/* active */
	EXPECT_EQ(0, ctx_cancel(pc));
	EXPECT_EQ(0, ctx_wait_drained(p, LIB_SHORT));	/* c still open */
	EXPECT_EQ(1, ctx_wait_drained(c, 0));
	ctx_cancel_release(cc);
	ctx_release(c);
	EXPECT_EQ(1, ctx_wait_drained(p, LIB_LONG));
	EXPECT_EQ(1, ctx_wait_drained(p, 0));
	ctx_cancel_release(pc);
	ctx_release(p);
}

/* A waiter blocked in ctx_wait_drained() is woken by the process's exit. */
LIBTEST(WaitDrainedReturnsWhenTheAttachedProcessExits)
{
	struct ctx_teardown td;
	ctx_t *c;
	ctx_cancel_t *cancel;
	pid_t pid;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	pid = t_spawn_sleeper(false);
	ASSERT_LT(0, pid);
	ATTACH_OR_SKIP(c, cancel, pid, SIGTERM, 0);
	EXPECT_EQ(0, ctx_teardown_report(c, &td));
	EXPECT_EQ(0, td.fired);
	EXPECT_EQ(0, ctx_cancel(cancel));
	EXPECT_EQ(1, ctx_wait_drained(c, LIB_LONG));
	EXPECT_FALSE(t_alive(pid));		/* a zombie at most */
	EXPECT_EQ(0, ctx_teardown_report(c, &td));
	EXPECT_EQ(1, td.fired);
	EXPECT_EQ(0, td.running);
	EXPECT_EQ(1, td.signalled);
	EXPECT_EQ(0, td.killed);
	EXPECT_EQ(0, td.left);
	EXPECT_LT(0, td.duration);
	EXPECT_EQ(128 + SIGTERM, t_wait_status(pid));
	ctx_cancel_release(cancel);
	ctx_release(c);
}

LIBTEST(TeardownReportCountsTheSigkillAfterTheGrace)
{
	struct ctx_teardown td;
	ctx_t *c;
	ctx_cancel_t *cancel;
	pid_t pid;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	pid = t_spawn_sleeper(true);
	ASSERT_LT(0, pid);
	ATTACH_OR_SKIP(c, cancel, pid, SIGTERM, 100 * CTX_MILLISECOND);
	EXPECT_EQ(0, ctx_cancel(cancel));
	EXPECT_EQ(1, ctx_wait_drained(c, LIB_LONG));
	EXPECT_EQ(0, ctx_teardown_report(c, &td));
	EXPECT_EQ(1, td.fired);
	EXPECT_EQ(1, td.signalled);
	EXPECT_EQ(1, td.killed);
	EXPECT_EQ(0, td.left);
	EXPECT_LE(100 * CTX_MILLISECOND, td.duration);
	EXPECT_EQ(128 + SIGKILL, t_wait_status(pid));
	ctx_cancel_release(cancel);
	ctx_release(c);
}

TEST_HARNESS_MAIN
