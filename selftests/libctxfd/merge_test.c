// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ctx_with_any() and ctx_with_all(): contexts with several parents,
 * through the library. The kernel's semantics are tested in
 * selftests/ctxfd/merge_test.c; here: Go-style results and errors,
 * Background and TODO as parents, values and deadlines seen through the
 * library, the cancel handle, parents from another process, release
 * (no descriptor or memory left), and many threads merging at once.
 */
#include <sys/socket.h>

#include "lib_test.h"

static void release2(ctx_t *ctx, ctx_cancel_t *cancel)
{
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

LIBTEST(WithAnyIsDoneWithTheFirstParentAndItsCause)
{
	ctx_cancel_t *c1, *c2, *c3, *mc;
	ctx_t *p1, *p2, *p3, *m;
	char msg[CTX_CAUSE_MSG_MAX + 1];
	int code;

	ASSERT_EQ(0, ctx_with_cancel_cause(ctx_background(), &p1, &c1));
	ASSERT_EQ(0, ctx_with_cancel_cause(ctx_background(), &p2, &c2));
	ASSERT_EQ(0, ctx_with_cancel_cause(p1, &p3, &c3));
	ASSERT_EQ(0, ctx_with_any((ctx_t *[]){ p1, p2, p3 }, 3, &m, &mc));
	EXPECT_EQ(0, ctx_err(m));
	ASSERT_EQ(0, ctx_cancel_cause(c2, 5, "second parent"));
	/* No wait: done before the cancel returned. */
	EXPECT_EQ(CTX_CANCELED, ctx_err(m));
	EXPECT_EQ(CTX_CANCELED, ctx_cause(m, &code, msg, sizeof(msg)));
	EXPECT_EQ(5, code);
	EXPECT_STREQ("second parent", msg);
	ASSERT_EQ(0, ctx_cancel_cause(c1, 6, "first parent"));
	EXPECT_EQ(CTX_CANCELED, ctx_cause(m, &code, msg, sizeof(msg)));
	EXPECT_EQ(5, code);
	release2(m, mc);
	release2(p3, c3);
	release2(p2, c2);
	release2(p1, c1);
}

LIBTEST(WithAllIsDoneWithTheLastParent)
{
	ctx_cancel_t *c1, *c2, *mc;
	ctx_t *p1, *p2, *m;
	char msg[CTX_CAUSE_MSG_MAX + 1];
	int code;

	ASSERT_EQ(0, ctx_with_cancel_cause(ctx_background(), &p1, &c1));
	/* Long enough that valgrind's pace cannot reach it before the check. */
	ASSERT_EQ(0, ctx_with_timeout_cause(ctx_background(), 10 * LIB_SHORT,
					    7, "too slow", &p2, &c2));
	ASSERT_EQ(0, ctx_with_all((ctx_t *[]){ p1, p2 }, 2, &m, &mc));
	ASSERT_EQ(0, ctx_cancel_cause(c1, 1, "first"));
	EXPECT_FALSE(lib_done_within(m, LIB_SHORT));
	/* The other one times out: that is the err and cause. */
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_wait(m, LIB_LONG));
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_cause(m, &code, msg, sizeof(msg)));
	EXPECT_EQ(7, code);
	EXPECT_STREQ("too slow", msg);
	release2(m, mc);
	release2(p2, c2);
	release2(p1, c1);
}

LIBTEST(BornDoneWhenTheModesConditionHolds)
{
	ctx_cancel_t *c1, *c2, *mc;
	ctx_t *p1, *p2, *m;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &p1, &c1));
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &p2, &c2));
	ASSERT_EQ(0, ctx_cancel(c2));
	ASSERT_EQ(0, ctx_with_any((ctx_t *[]){ p1, p2 }, 2, &m, &mc));
	EXPECT_EQ(CTX_CANCELED, ctx_err(m));
	release2(m, mc);
	ASSERT_EQ(0, ctx_with_all((ctx_t *[]){ p1, p2 }, 2, &m, &mc));
	EXPECT_EQ(0, ctx_err(m));
	ASSERT_EQ(0, ctx_cancel(c1));
	EXPECT_EQ(CTX_CANCELED, ctx_err(m));
	release2(m, mc);
	release2(p2, c2);
	release2(p1, c1);
}

LIBTEST(DeadlinesAreTheEarliestForAnyAndTheLatestForAll)
{
	ctx_cancel_t *c1, *c2, *mc;
	ctx_t *p1, *p2, *m;
	struct timespec d1, d2, d;

	ASSERT_EQ(0, ctx_with_timeout(ctx_background(), CTX_HOUR, &p1, &c1));
	ASSERT_EQ(0, ctx_with_timeout(ctx_background(), 2 * CTX_HOUR, &p2, &c2));
	ASSERT_TRUE(ctx_deadline(p1, &d1));
	ASSERT_TRUE(ctx_deadline(p2, &d2));

	ASSERT_EQ(0, ctx_with_any((ctx_t *[]){ p2, p1 }, 2, &m, &mc));
	ASSERT_TRUE(ctx_deadline(m, &d));
	EXPECT_EQ(d1.tv_sec, d.tv_sec);
	EXPECT_EQ(d1.tv_nsec, d.tv_nsec);
	release2(m, mc);

	ASSERT_EQ(0, ctx_with_all((ctx_t *[]){ p2, p1 }, 2, &m, &mc));
	ASSERT_TRUE(ctx_deadline(m, &d));
	EXPECT_EQ(d2.tv_sec, d.tv_sec);
	EXPECT_EQ(d2.tv_nsec, d.tv_nsec);
	release2(m, mc);

	/* A parent without deadline: ALL has none, ANY ignores it. */
	ASSERT_EQ(0, ctx_with_all((ctx_t *[]){ p1, ctx_background() }, 2, &m, &mc));
	EXPECT_FALSE(ctx_deadline(m, &d));
	release2(m, mc);
	ASSERT_EQ(0, ctx_with_any((ctx_t *[]){ ctx_todo(), p1 }, 2, &m, &mc));
	ASSERT_TRUE(ctx_deadline(m, &d));
	EXPECT_EQ(d1.tv_sec, d.tv_sec);
	release2(m, mc);
	release2(p2, c2);
	release2(p1, c1);
}

LIBTEST(ValuesFollowTheFirstParent)
{
	ctx_cancel_t *c, *mc;
	ctx_t *va, *vb, *base, *m;
	char buf[16];

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &base, &c));
	ASSERT_EQ(0, ctx_with_value(base, "k", "a", 1, &va));
	ASSERT_EQ(0, ctx_with_value(ctx_background(), "k", "b", 1, &vb));

	ASSERT_EQ(0, ctx_with_any((ctx_t *[]){ va, vb }, 2, &m, &mc));
	ASSERT_EQ(1, ctx_value(m, "k", buf, sizeof(buf)));
	EXPECT_EQ('a', buf[0]);
	release2(m, mc);
	ASSERT_EQ(0, ctx_with_all((ctx_t *[]){ vb, va }, 2, &m, &mc));
	ASSERT_EQ(1, ctx_value(m, "k", buf, sizeof(buf)));
	EXPECT_EQ('b', buf[0]);
	release2(m, mc);
	/* Background first: no values, although va has one. */
	ASSERT_EQ(0, ctx_with_any((ctx_t *[]){ ctx_background(), va }, 2, &m, &mc));
	EXPECT_EQ(-ENOENT, ctx_value(m, "k", buf, sizeof(buf)));
	/* ... and va still makes it done. */
	ASSERT_EQ(0, ctx_cancel(c));
	EXPECT_EQ(CTX_CANCELED, ctx_err(m));
	release2(m, mc);
	ctx_release(vb);
	ctx_release(va);
	release2(base, c);
}

LIBTEST(BackgroundParentsAreNeverDone)
{
	ctx_cancel_t *c, *mc;
	ctx_t *p, *m;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &p, &c));
	/* ALL with a never-done parent is never done through its parents. */
	ASSERT_EQ(0, ctx_with_all((ctx_t *[]){ p, ctx_todo(), ctx_background() },
				  3, &m, &mc));
	ASSERT_EQ(0, ctx_cancel(c));
	EXPECT_FALSE(lib_done_within(m, LIB_SHORT));
	/* Its own cancel still works. */
	ASSERT_EQ(0, ctx_cancel(mc));
	EXPECT_EQ(CTX_CANCELED, ctx_err(m));
	release2(m, mc);
	/* Only Background: a context only its own cancel makes done. */
	ASSERT_EQ(0, ctx_with_any((ctx_t *[]){ ctx_background() }, 1, &m, &mc));
	EXPECT_NE(-1, ctx_done_fd(m));
	EXPECT_FALSE(lib_done_within(m, LIB_SHORT));
	ASSERT_EQ(0, ctx_cancel_cause(mc, 3, "own"));
	EXPECT_EQ(CTX_CANCELED, ctx_err(m));
	release2(m, mc);
	release2(p, c);
}

LIBTEST(ReleasingTheMergeCancelsItButNotItsParents)
{
	ctx_cancel_t *c1, *c2, *mc, *kc;
	ctx_t *p1, *p2, *m, *kid;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &p1, &c1));
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &p2, &c2));
	ASSERT_EQ(0, ctx_with_any((ctx_t *[]){ p1, p2 }, 2, &m, &mc));
	ASSERT_EQ(0, ctx_with_cancel(m, &kid, &kc));
	release2(m, mc);	/* "defer cancel()" */
	EXPECT_EQ(CTX_CANCELED, ctx_err(kid));
	EXPECT_EQ(0, ctx_err(p1));
	EXPECT_EQ(0, ctx_err(p2));
	release2(kid, kc);
	release2(p2, c2);
	release2(p1, c1);
}

LIBTEST(BadArgumentsAreRefusedAndClearTheResults)
{
	ctx_cancel_t *c1, *mc = (ctx_cancel_t *)1, *c2;
	ctx_t *p1, *m = (ctx_t *)1, *same, *many[CTX_MAX_PARENTS + 1];
	int i, fd;

	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &p1, &c1));
	EXPECT_EQ(-EINVAL, ctx_with_any(NULL, 1, &m, &mc));
	EXPECT_EQ(NULL, m);
	EXPECT_EQ(NULL, mc);
	EXPECT_EQ(-EINVAL, ctx_with_any((ctx_t *[]){ p1 }, 0, &m, &mc));
	EXPECT_EQ(-EINVAL, ctx_with_all((ctx_t *[]){ p1, NULL }, 2, &m, &mc));
	EXPECT_EQ(-EINVAL, ctx_with_all((ctx_t *[]){ p1 }, 1, NULL, &mc));
	EXPECT_EQ(-EINVAL, ctx_with_all((ctx_t *[]){ p1 }, 1, &m, NULL));
	EXPECT_NE(NULL, strstr(ctx_last_error(), "NULL"));

	/* The same object twice is one parent; two objects on one context are not. */
	ASSERT_EQ(0, ctx_with_any((ctx_t *[]){ p1, p1 }, 2, &m, &mc));
	release2(m, mc);
	fd = ctx_fd(p1, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ctx_from_fd(fd, &same));
	EXPECT_EQ(-EINVAL, ctx_with_any((ctx_t *[]){ p1, same }, 2, &m, &mc));
	EXPECT_NE(NULL, strstr(ctx_last_error(), "same context"));
	ctx_release(same);

	/* Too many parents. */
	for (i = 0; i <= CTX_MAX_PARENTS; i++) {
		ASSERT_EQ(0, ctx_with_cancel(p1, &many[i], &c2));
		ctx_cancel_release(c2);
	}
	EXPECT_EQ(-E2BIG, ctx_with_all(many, CTX_MAX_PARENTS + 1, &m, &mc));
	ASSERT_EQ(0, ctx_with_all(many, CTX_MAX_PARENTS, &m, &mc));
	ASSERT_EQ(0, ctx_cancel(c1));
	EXPECT_EQ(CTX_CANCELED, ctx_err(m));
	release2(m, mc);
	for (i = 0; i <= CTX_MAX_PARENTS; i++)
		ctx_release(many[i]);
	release2(p1, c1);
}

LIBTEST(ParentsFromAnotherProcess)
{
	ctx_cancel_t *c1, *mc, *rc;
	ctx_t *p1, *remote, *m;
	int sv[2], status, code;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &p1, &c1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ctx_t *mine;
		ctx_cancel_t *cancel;
		char b;

		if (ctx_with_cancel_cause(ctx_background(), &mine, &cancel) ||
		    ctx_cancel_send(sv[1], cancel))
			_exit(1);
		if (read(sv[1], &b, 1) != 1)
			_exit(2);
		_exit(0);	/* our exit closes our cancel fd: no cancel yet */
	}
	close(sv[1]);
	ASSERT_EQ(0, ctx_cancel_recv(sv[0], &remote, &rc));
	ASSERT_EQ(0, ctx_with_any((ctx_t *[]){ p1, remote }, 2, &m, &mc));
	EXPECT_EQ(0, ctx_err(m));
	/* The other process's context is canceled from here. */
	ASSERT_EQ(0, ctx_cancel_cause(rc, 9, "remote"));
	EXPECT_EQ(CTX_CANCELED, ctx_cause(m, &code, NULL, 0));
	EXPECT_EQ(9, code);
	ASSERT_EQ(1, write(sv[0], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(sv[0]);
	release2(m, mc);
	release2(remote, rc);
	release2(p1, c1);
}

struct merger {
	ctx_t *parents[3];
	int failures;
};

static void *merge_many(void *arg)
{
	struct merger *w = arg;
	int i;

	for (i = 0; i < lib_iterations(200); i++) {
		ctx_cancel_t *mc;
		ctx_t *m;

		if ((i % 2 ? ctx_with_all : ctx_with_any)(w->parents, 3, &m, &mc)) {
			__atomic_add_fetch(&w->failures, 1, __ATOMIC_RELAXED);
			continue;
		}
		release2(m, mc);
	}
	return NULL;
}

LIBTEST(ManyThreadsMergeTheSameParents)
{
	ctx_cancel_t *c[3];
	struct merger w;
	pthread_t th[4];
	int i;

	memset(&w, 0, sizeof(w));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &w.parents[i], &c[i]));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, merge_many, &w));
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(0, w.failures);
	for (i = 0; i < 3; i++)
		release2(w.parents[i], c[i]);
}

TEST_HARNESS_MAIN
