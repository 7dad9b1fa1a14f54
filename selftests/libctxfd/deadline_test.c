// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Deadlines and their clocks:
 *
 *  - ctx_with_deadline() takes CLOCK_MONOTONIC times; a CLOCK_REALTIME
 *    time given to it (57 years out on CLOCK_MONOTONIC) is refused with
 *    EINVAL and a message naming ctx_with_deadline_clock();
 *  - ctx_with_deadline_clock() takes CLOCK_MONOTONIC and CLOCK_BOOTTIME
 *    times as they are, and CLOCK_REALTIME and CLOCK_TAI times converted
 *    when it is called (Go's deadlines are wall + monotonic time);
 *  - other clocks are refused.
 */
#include "lib_test.h"

static struct timespec clock_plus(clockid_t clk, ctx_duration_t d)
{
	struct timespec ts;
	int64_t ns = (int64_t)t_now_ns(clk) + d;

	ts.tv_sec = ns / CTX_SECOND;
	ts.tv_nsec = ns % CTX_SECOND;
	return ts;
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * CTX_SECOND + ts->tv_nsec;
}

static bool wall_clock_is_set(void)
{
	/* Later than 2001: a clock that was never set reads 1970. */
	return t_now_ns(CLOCK_REALTIME) > 1000000000ULL * CTX_SECOND;
}

LIBTEST(RealtimeTimeGivenToWithDeadlineIsRefused)
{
	struct timespec wall = clock_plus(CLOCK_REALTIME, CTX_HOUR);
	int before = lib_count_ctx_fds();
	ctx_cancel_t *cancel = (ctx_cancel_t *)1;
	ctx_t *c = (ctx_t *)1;

	if (!wall_clock_is_set())
		SKIP(return, "CLOCK_REALTIME is not set");
	EXPECT_EQ(-EINVAL, ctx_with_deadline(ctx_background(), &wall, &c,
					     &cancel));
	EXPECT_EQ(NULL, c);
	EXPECT_EQ(NULL, cancel);
	EXPECT_NE(NULL, strstr(ctx_last_error(), "CLOCK_REALTIME"));
	EXPECT_NE(NULL, strstr(ctx_last_error(), "ctx_with_deadline_clock"));
	EXPECT_EQ(-EINVAL, ctx_with_deadline_cause(ctx_background(), &wall, 3,
						   "late", &c, &cancel));
	/* A wall time a day ago is no better. */
	wall = clock_plus(CLOCK_REALTIME, -24 * CTX_HOUR);
	EXPECT_EQ(-EINVAL, ctx_with_deadline(ctx_background(), &wall, &c,
					     &cancel));
	/* Nor on CLOCK_BOOTTIME. */
	wall = clock_plus(CLOCK_REALTIME, CTX_MINUTE);
	EXPECT_EQ(-EINVAL, ctx_with_deadline_clock(ctx_background(),
						   CLOCK_BOOTTIME, &wall, &c,
						   &cancel));
	EXPECT_EQ(before, lib_count_ctx_fds());
}

/* Far-future and past monotonic deadlines stay valid. */
LIBTEST(MonotonicDeadlinesFarAndPastStillWork)
{
	struct timespec far = { .tv_sec = INT64_MAX / CTX_SECOND };
	struct timespec past = { .tv_sec = 0, .tv_nsec = 1 };
	struct timespec later = clock_plus(CLOCK_MONOTONIC, 200 * 365 * 24 * CTX_HOUR);
	ctx_cancel_t *cancel;
	ctx_t *c;

	ASSERT_EQ(0, ctx_with_deadline(ctx_background(), &far, &c, &cancel));
	EXPECT_EQ(0, ctx_err(c));
	ctx_cancel_release(cancel);
	ctx_release(c);

	ASSERT_EQ(0, ctx_with_deadline(ctx_background(), &later, &c, &cancel));
	EXPECT_EQ(0, ctx_err(c));
	ctx_cancel_release(cancel);
	ctx_release(c);

	ASSERT_EQ(0, ctx_with_deadline(ctx_background(), &past, &c, &cancel));
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_wait(c, LIB_LONG));
	ctx_cancel_release(cancel);
	ctx_release(c);
}

LIBTEST(RealtimeDeadlineIsConverted)
{
	struct timespec wall = clock_plus(CLOCK_REALTIME, CTX_HOUR), dl;
	int64_t mono_want = lib_now() + CTX_HOUR;
	ctx_cancel_t *cancel;
	ctx_t *c;

	ASSERT_EQ(0, ctx_with_deadline_clock(ctx_background(), CLOCK_REALTIME,
					     &wall, &c, &cancel));
	ASSERT_TRUE(ctx_deadline(c, &dl));
	/* Reported on CLOCK_MONOTONIC, an hour from now (give or take). */
	EXPECT_LT(llabs(ts_ns(&dl) - mono_want), 10 * CTX_SECOND)
		TH_LOG("deadline %lld, expected about %lld", (long long)ts_ns(&dl),
		       (long long)mono_want);
	EXPECT_EQ(0, ctx_err(c));
	ctx_cancel_release(cancel);
	ctx_release(c);
}

LIBTEST(RealtimeDeadlineFires)
{
	struct timespec wall = clock_plus(CLOCK_REALTIME, 100 * CTX_MILLISECOND);
	char msg[CTX_CAUSE_MSG_MAX + 1];
	ctx_cancel_t *cancel;
	int64_t start = lib_now();
	ctx_t *c;
	int code;

	ASSERT_EQ(0, ctx_with_deadline_clock_cause(ctx_background(),
						   CLOCK_REALTIME, &wall, 42,
						   "wall deadline", &c, &cancel));
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_wait(c, LIB_LONG));
	/* Never early (a few ms for the two clock reads). */
	EXPECT_LE(90 * CTX_MILLISECOND, lib_now() - start);
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_cause(c, &code, msg, sizeof(msg)));
	EXPECT_EQ(42, code);
	EXPECT_STREQ("wall deadline", msg);
	ctx_cancel_release(cancel);
	ctx_release(c);

	/* A wall time in the past: born done. */
	wall = clock_plus(CLOCK_REALTIME, -CTX_SECOND);
	ASSERT_EQ(0, ctx_with_deadline_clock(ctx_background(), CLOCK_TAI, &wall,
					     &c, &cancel));
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_wait(c, LIB_LONG));
	ctx_cancel_release(cancel);
	ctx_release(c);
}

LIBTEST(MonotonicAndBoottimeClocksAreTakenAsTheyAre)
{
	struct timespec mono = clock_plus(CLOCK_MONOTONIC, CTX_HOUR);
	struct timespec boot = clock_plus(CLOCK_BOOTTIME, 50 * CTX_MILLISECOND);
	struct ctxfd_info info;
	ctx_cancel_t *cancel;
	ctx_t *c;

	ASSERT_EQ(0, ctx_with_deadline_clock(ctx_background(), CLOCK_MONOTONIC,
					     &mono, &c, &cancel));
	ASSERT_EQ(0, lib_info(c, &info));
	EXPECT_EQ(CLOCK_MONOTONIC, info.clockid);
	EXPECT_EQ(ts_ns(&mono), info.deadline_ns);
	ctx_cancel_release(cancel);
	ctx_release(c);

	ASSERT_EQ(0, ctx_with_deadline_clock(ctx_background(), CLOCK_BOOTTIME,
					     &boot, &c, &cancel));
	ASSERT_EQ(0, lib_info(c, &info));
	EXPECT_EQ(CLOCK_BOOTTIME, info.clockid);
	EXPECT_EQ(ts_ns(&boot), info.deadline_ns);
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_wait(c, LIB_LONG));
	ctx_cancel_release(cancel);
	ctx_release(c);
}

LIBTEST(OtherClocksAreRefused)
{
	static const clockid_t bad[] = {
		CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
		CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_ALARM, -1, 1000,
	};
	struct timespec ts = clock_plus(CLOCK_MONOTONIC, CTX_SECOND);
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ctx_cancel_t *cancel = (ctx_cancel_t *)1;
		ctx_t *c = (ctx_t *)1;

		EXPECT_EQ(-EINVAL, ctx_with_deadline_clock(ctx_background(),
							   bad[i], &ts, &c,
							   &cancel))
			TH_LOG("clock %d", (int)bad[i]);
		EXPECT_EQ(NULL, c);
		EXPECT_EQ(NULL, cancel);
		EXPECT_NE(NULL, strstr(ctx_last_error(), "clock"));
	}
	EXPECT_EQ(-EINVAL, ctx_with_deadline_clock(ctx_background(),
						   CLOCK_REALTIME, NULL, NULL,
						   NULL));
}

TEST_HARNESS_MAIN
