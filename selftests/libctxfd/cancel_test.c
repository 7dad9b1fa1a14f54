// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Cancel always cancels (Go's cancel functions cannot fail), and cause
 * codes that read as "no cause" are reserved:
 *
 *  - a cause message longer than CTX_CAUSE_MSG_MAX is cut at a UTF-8
 *    boundary and the context is canceled (CTX_CAUSE_TRUNCATED);
 *  - a cause given to a handle that takes none (ctx_with_cancel, the
 *    deadline functions), a message without a code, or a reserved code
 *    still cancels, without a cause, as Go's cancel() would
 *    (CTX_CAUSE_DROPPED);
 *  - ctx_with_{deadline,timeout}_cause() refuse reserved codes (a
 *    creation can fail and change nothing);
 *  - the context errors themselves, as codes, are Go's Canceled and
 *    DeadlineExceeded sentinels (cancel(context.Cause(other)) works).
 */
#include "lib_test.h"

/* A fresh WithCancelCause context. */
static void new_cause_ctx(struct __test_metadata *_metadata, ctx_t **c,
			  ctx_cancel_t **cancel)
{
	ASSERT_EQ(0, ctx_with_cancel_cause(ctx_background(), c, cancel));
}

static void expect_cause(struct __test_metadata *_metadata, ctx_t *c,
			 int want_code, const char *want_msg)
{
	char msg[CTX_CAUSE_MSG_MAX + 1];
	int code = -1;

	EXPECT_EQ(CTX_CANCELED, ctx_cause(c, &code, msg, sizeof(msg)));
	EXPECT_EQ(want_code, code);
	EXPECT_STREQ(want_msg, msg);
}

LIBTEST(LongCauseMessageIsCutAndCancels)
{
	char big[CTX_CAUSE_MSG_MAX + 50], want[CTX_CAUSE_MSG_MAX + 1];
	ctx_cancel_t *cancel;
	ctx_t *c;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(want, big, CTX_CAUSE_MSG_MAX);
	want[CTX_CAUSE_MSG_MAX] = '\0';

	new_cause_ctx(_metadata, &c, &cancel);
	EXPECT_EQ(CTX_CAUSE_TRUNCATED, ctx_cancel_cause(cancel, 7, big));
	EXPECT_NE(NULL, strstr(ctx_last_error(), "cut"));
	EXPECT_EQ(CTX_CANCELED, ctx_err(c));
	expect_cause(_metadata, c, 7, want);
	ctx_cancel_release(cancel);
	ctx_release(c);

	/* Exactly the maximum is no report. */
	big[CTX_CAUSE_MSG_MAX] = '\0';
	new_cause_ctx(_metadata, &c, &cancel);
	EXPECT_EQ(0, ctx_cancel_cause(cancel, 7, big));
	expect_cause(_metadata, c, 7, want);
	ctx_cancel_release(cancel);
	ctx_release(c);
}

/* "é" is 2 bytes, "€" 3, "😀" 4: no cut may split one. */
LIBTEST(LongCauseMessageIsCutAtAUtf8Boundary)
{
	static const char *const chars[] = { "\xc3\xa9", "\xe2\x82\xac",
					     "\xf0\x9f\x98\x80" };
	size_t i, shift;

	for (i = 0; i < 3; i++) {
		size_t clen = strlen(chars[i]);

		/* Every alignment of the characters against the limit. */
		for (shift = 0; shift < clen; shift++) {
			char msg[CTX_CAUSE_MSG_MAX + 16], got[CTX_CAUSE_MSG_MAX + 1];
			ctx_cancel_t *cancel;
			size_t n = 0, glen;
			ctx_t *c;
			int code;

			memset(msg, 'a', shift);
			n = shift;
			while (n + clen < sizeof(msg)) {
				memcpy(msg + n, chars[i], clen);
				n += clen;
			}
			msg[n] = '\0';
			ASSERT_LT(CTX_CAUSE_MSG_MAX, n);

			new_cause_ctx(_metadata, &c, &cancel);
			EXPECT_EQ(CTX_CAUSE_TRUNCATED,
				  ctx_cancel_cause(cancel, 3, msg));
			EXPECT_EQ(CTX_CANCELED, ctx_cause(c, &code, got, sizeof(got)));
			EXPECT_EQ(3, code);
			glen = strlen(got);
			/* The longest prefix of whole characters that fits. */
			EXPECT_EQ(shift + (CTX_CAUSE_MSG_MAX - shift) / clen * clen,
				  glen) TH_LOG("%zu-byte characters, shift %zu", clen,
					       shift);
			EXPECT_EQ(0, memcmp(got, msg, glen));
			ctx_cancel_release(cancel);
			ctx_release(c);
		}
	}
}

LIBTEST(CauseOnPlainHandleCancelsWithoutCause)
{
	ctx_cancel_t *cancel;
	ctx_t *c;

	/* Go's CancelFunc takes no cause: canceled as by cancel(). */
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	EXPECT_EQ(CTX_CAUSE_DROPPED, ctx_cancel_cause(cancel, 5, "why"));
	EXPECT_NE(NULL, strstr(ctx_last_error(), "ctx_with_cancel_cause"));
	EXPECT_EQ(CTX_CANCELED, ctx_err(c));
	expect_cause(_metadata, c, CTX_CANCELED, "context canceled");
	ctx_cancel_release(cancel);
	ctx_release(c);
}

LIBTEST(CauseOnDeadlineHandleCancelsWithoutCause)
{
	ctx_cancel_t *cancel;
	ctx_t *c;

	/* WithTimeoutCause's CancelFunc sets no cause either (Go's rule). */
	ASSERT_EQ(0, ctx_with_timeout_cause(ctx_background(), CTX_HOUR, 9,
					    "too slow", &c, &cancel));
	EXPECT_EQ(CTX_CAUSE_DROPPED, ctx_cancel_cause(cancel, 5, NULL));
	EXPECT_EQ(CTX_CANCELED, ctx_err(c));
	expect_cause(_metadata, c, CTX_CANCELED, "context canceled");
	ctx_cancel_release(cancel);
	ctx_release(c);
}

LIBTEST(MessageWithoutCodeStillCancels)
{
	ctx_cancel_t *cancel;
	ctx_t *c;

	new_cause_ctx(_metadata, &c, &cancel);
	EXPECT_EQ(CTX_CAUSE_DROPPED,
		  ctx_cancel_cause(cancel, 0, "message without code"));
	EXPECT_EQ(CTX_CANCELED, ctx_err(c));
	expect_cause(_metadata, c, CTX_CANCELED, "context canceled");
	ctx_cancel_release(cancel);
	ctx_release(c);
}

/* A child canceled with its parent has the same, truncated, cause. */
LIBTEST(TruncatedCauseReachesDescendants)
{
	char big[300], want[CTX_CAUSE_MSG_MAX + 1];
	ctx_cancel_t *cancel, *ccancel;
	ctx_t *c, *child;

	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(want, big, CTX_CAUSE_MSG_MAX);
	want[CTX_CAUSE_MSG_MAX] = '\0';
	new_cause_ctx(_metadata, &c, &cancel);
	ASSERT_EQ(0, ctx_with_cancel(c, &child, &ccancel));
	EXPECT_EQ(CTX_CAUSE_TRUNCATED, ctx_cancel_cause(cancel, 12, big));
	expect_cause(_metadata, child, 12, want);
	ctx_cancel_release(ccancel);
	ctx_release(child);
	ctx_cancel_release(cancel);
	ctx_release(c);
}

/* ---- reserved cause codes --------------------------------------------- */

/*
 * A program's code can never read as "no cause" (code == err): the
 * context errors as codes of the program's own meaning (with a message of
 * its own) and their negatives are not recorded; the context is canceled
 * all the same.
 */
LIBTEST(ReservedCancelCodesAreNotRecorded)
{
	static const struct { int code; const char *msg; } bad[] = {
		{ CTX_CANCELED, "my own meaning" },
		{ -CTX_CANCELED, NULL },
		{ CTX_DEADLINE_EXCEEDED, "connect timed out" },
		{ -CTX_DEADLINE_EXCEEDED, "x" },
		{ -CTX_DEADLINE_EXCEEDED, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ctx_cancel_t *cancel;
		ctx_t *c;

		new_cause_ctx(_metadata, &c, &cancel);
		EXPECT_EQ(CTX_CAUSE_DROPPED,
			  ctx_cancel_cause(cancel, bad[i].code, bad[i].msg))
			TH_LOG("code %d", bad[i].code);
		EXPECT_NE(NULL, strstr(ctx_last_error(), "reserved"));
		expect_cause(_metadata, c, CTX_CANCELED, "context canceled");
		ctx_cancel_release(cancel);
		ctx_release(c);
	}
}

/* Go's cancel(context.Canceled) is cancel(nil): no report. */
LIBTEST(CancelWithCanceledIsPlainCancel)
{
	ctx_cancel_t *cancel;
	ctx_t *c;

	new_cause_ctx(_metadata, &c, &cancel);
	EXPECT_EQ(0, ctx_cancel_cause(cancel, CTX_CANCELED, NULL));
	expect_cause(_metadata, c, CTX_CANCELED, "context canceled");
	ctx_cancel_release(cancel);
	ctx_release(c);

	/* The same on a handle that takes no cause. */
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel));
	EXPECT_EQ(0, ctx_cancel_cause(cancel, CTX_CANCELED, NULL));
	EXPECT_EQ(CTX_CANCELED, ctx_err(c));
	ctx_cancel_release(cancel);
	ctx_release(c);
}

/*
 * Go's cancel(context.Cause(other)): what ctx_cause() reports of a
 * context done without a cause - the context error and its text -
 * passes through ctx_cancel_cause() as that error, without a report.
 */
LIBTEST(ForwardedContextErrorsAreGosSentinels)
{
	char msg[CTX_CAUSE_MSG_MAX + 1];
	ctx_cancel_t *tcancel, *cancel;
	ctx_t *timed, *c;
	int code;

	ASSERT_EQ(0, ctx_with_timeout(ctx_background(), 0, &timed, &tcancel));
	ASSERT_EQ(CTX_DEADLINE_EXCEEDED, ctx_wait(timed, LIB_LONG));
	ASSERT_EQ(CTX_DEADLINE_EXCEEDED, ctx_cause(timed, &code, msg, sizeof(msg)));
	ASSERT_STREQ("context deadline exceeded", msg);

	new_cause_ctx(_metadata, &c, &cancel);
	EXPECT_EQ(0, ctx_cancel_cause(cancel, code, msg));
	/* err Canceled, cause DeadlineExceeded: not "no cause". */
	expect_cause(_metadata, c, CTX_DEADLINE_EXCEEDED,
		     "context deadline exceeded");
	ctx_cancel_release(cancel);
	ctx_release(c);

	new_cause_ctx(_metadata, &c, &cancel);
	EXPECT_EQ(0, ctx_cancel_cause(cancel, CTX_CANCELED, "context canceled"));
	expect_cause(_metadata, c, CTX_CANCELED, "context canceled");
	ctx_cancel_release(cancel);
	ctx_release(c);

	ctx_cancel_release(tcancel);
	ctx_release(timed);
}

LIBTEST(ReservedDeadlineCausesAreRefused)
{
	static const struct { int code; const char *msg; } bad[] = {
		{ CTX_CANCELED, "x" },
		{ CTX_DEADLINE_EXCEEDED, "my own meaning" },
		{ -CTX_DEADLINE_EXCEEDED, NULL },
		{ -CTX_CANCELED, "y" },
	};
	int before = lib_count_ctx_fds();
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ctx_cancel_t *cancel = (ctx_cancel_t *)1;
		ctx_t *c = (ctx_t *)1;

		EXPECT_EQ(-EINVAL, ctx_with_timeout_cause(ctx_background(),
							  CTX_HOUR, bad[i].code,
							  bad[i].msg, &c, &cancel))
			TH_LOG("code %d", bad[i].code);
		EXPECT_EQ(NULL, c);
		EXPECT_EQ(NULL, cancel);
		EXPECT_NE(NULL, strstr(ctx_last_error(), "reserved"));
	}
	EXPECT_EQ(before, lib_count_ctx_fds());
}

/*
 * WithTimeoutCause(p, d, DeadlineExceeded) is WithTimeout(p, d); with
 * Canceled, the cause is Canceled, as in Go.
 */
LIBTEST(DeadlineCausesOfContextErrorsAreGosSentinels)
{
	char msg[CTX_CAUSE_MSG_MAX + 1];
	ctx_cancel_t *cancel;
	ctx_t *c;
	int code;

	ASSERT_EQ(0, ctx_with_timeout_cause(ctx_background(), 0,
					    CTX_DEADLINE_EXCEEDED, NULL, &c,
					    &cancel));
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_wait(c, LIB_LONG));
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_cause(c, &code, msg, sizeof(msg)));
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, code);
	EXPECT_STREQ("context deadline exceeded", msg);
	ctx_cancel_release(cancel);
	ctx_release(c);

	ASSERT_EQ(0, ctx_with_timeout_cause(ctx_background(), 0, CTX_CANCELED,
					    "context canceled", &c, &cancel));
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_wait(c, LIB_LONG));
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_cause(c, &code, msg, sizeof(msg)));
	EXPECT_EQ(CTX_CANCELED, code);
	EXPECT_STREQ("context canceled", msg);
	ctx_cancel_release(cancel);
	ctx_release(c);
}

TEST_HARNESS_MAIN
