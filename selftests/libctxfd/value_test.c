// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Values as Go has them: the empty value "" is a value, nil is none.
 *
 *  - ctx_with_value(p, k, "", 0) binds "": ctx_value() returns 0;
 *  - ctx_with_value(p, k, NULL, 0) binds nil, which shadows older
 *    bindings: ctx_value() returns -ENOENT, as for a key never bound
 *    (Go's Value(k) == nil in both cases);
 *  - both cross processes with the descriptor;
 *  - programs linked against libctxfd 1.0 keep its behaviour (the
 *    LIBCTXFD_1.0 versions of ctx_value and ctx_with_value).
 */
#include <dlfcn.h>

#include "lib_test.h"

static ctx_t *bind_value(struct __test_metadata *_metadata, ctx_t *parent,
		   const char *key, const void *val, size_t len)
{
	ctx_t *c = NULL;

	EXPECT_EQ(0, ctx_with_value(parent, key, val, len, &c))
		TH_LOG("%s", ctx_last_error());
	return c;
}

LIBTEST(EmptyValueIsAValue)
{
	char buf[8] = "xxxxxxx";
	ctx_t *c = bind_value(_metadata, ctx_background(), "k", "", 0);

	ASSERT_NE(NULL, c);
	EXPECT_EQ(0, ctx_value(c, "k", buf, sizeof(buf)));
	EXPECT_EQ(0, ctx_value(c, "k", NULL, 0));
	EXPECT_STREQ("xxxxxxx", buf);		/* nothing to copy */
	EXPECT_EQ(-ENOENT, ctx_value(c, "other", NULL, 0));
	ctx_release(c);
}

LIBTEST(NilValueReadsAsNoValue)
{
	char buf[8];
	ctx_t *outer = bind_value(_metadata, ctx_background(), "k", "outer", 5);
	ctx_t *nil, *empty, *inner;

	ASSERT_NE(NULL, outer);
	nil = bind_value(_metadata, outer, "k", NULL, 0);
	ASSERT_NE(NULL, nil);
	/* nil shadows "outer", and reads like a key never bound. */
	EXPECT_EQ(-ENOENT, ctx_value(nil, "k", buf, sizeof(buf)));
	EXPECT_EQ(-ENOENT, ctx_value(nil, "k", NULL, 0));

	/* "" under nil is a value again; nil under "" is none again. */
	empty = bind_value(_metadata, nil, "k", "", 0);
	ASSERT_NE(NULL, empty);
	EXPECT_EQ(0, ctx_value(empty, "k", buf, sizeof(buf)));
	inner = bind_value(_metadata, empty, "k", NULL, 0);
	ASSERT_NE(NULL, inner);
	EXPECT_EQ(-ENOENT, ctx_value(inner, "k", buf, sizeof(buf)));

	/* The ancestors still read their own bindings. */
	EXPECT_EQ(5, ctx_value(outer, "k", buf, sizeof(buf)));
	ctx_release(inner);
	ctx_release(empty);
	ctx_release(nil);
	ctx_release(outer);
}

/* Go's Value of an unrelated key walks past nil and "" bindings. */
LIBTEST(OtherKeysSeeThroughEmptyAndNil)
{
	char buf[8];
	ctx_t *a = bind_value(_metadata, ctx_background(), "a", "1", 1);
	ctx_t *b = bind_value(_metadata, a, "b", NULL, 0);
	ctx_t *c = bind_value(_metadata, b, "c", "", 0);

	ASSERT_NE(NULL, c);
	EXPECT_EQ(1, ctx_value(c, "a", buf, sizeof(buf)));
	EXPECT_EQ('1', buf[0]);
	EXPECT_EQ(-ENOENT, ctx_value(c, "b", buf, sizeof(buf)));
	EXPECT_EQ(0, ctx_value(c, "c", buf, sizeof(buf)));
	ctx_release(c);
	ctx_release(b);
	ctx_release(a);
}

/* The distinction is the kernel's: it crosses processes with the fd. */
LIBTEST(EmptyAndNilCrossFork)
{
	ctx_t *empty = bind_value(_metadata, ctx_background(), "e", "", 0);
	ctx_t *nil = bind_value(_metadata, empty, "n", NULL, 0);
	int fd, status;
	pid_t pid;

	ASSERT_NE(NULL, nil);
	fd = ctx_fd(nil, CTX_NO_CLOEXEC);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		bool ok;
		ctx_t *c;

		if (ctx_from_fd(fd, &c))
			_exit(2);
		ok = ctx_value(c, "e", NULL, 0) == 0 &&
		     ctx_value(c, "n", NULL, 0) == -ENOENT;
		/* Nothing lost, for valgrind: the parent's objects too. */
		ctx_release(c);
		ctx_release(nil);
		ctx_release(empty);
		_exit(ok ? 0 : 1);
	}
	close(fd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ctx_release(nil);
	ctx_release(empty);
}

/*
 * Binaries built against libctxfd 1.0 call ctx_value@LIBCTXFD_1.0 and
 * ctx_with_value@LIBCTXFD_1.0: an empty binding of theirs is nil (as it
 * always was), and they read 0 for nil and "" alike. Only the shared
 * library has symbol versions (the ASan build links the archive).
 */
LIBTEST(Version10CallersKeepTheirBehaviour)
{
	typedef ssize_t (*value_fn)(ctx_t *, const char *, void *, size_t);
	typedef int (*with_value_fn)(ctx_t *, const char *, const void *,
				     size_t, ctx_t **);
	value_fn value10 = (value_fn)dlvsym(RTLD_DEFAULT, "ctx_value",
					    "LIBCTXFD_1.0");
	with_value_fn with_value10 =
		(with_value_fn)dlvsym(RTLD_DEFAULT, "ctx_with_value",
				      "LIBCTXFD_1.0");
	ctx_t *empty, *nil, *old;

	if (!value10 || !with_value10) {
#ifdef __SANITIZE_ADDRESS__
		SKIP(return, "the static library has no symbol versions");
#else
		ASSERT_NE(NULL, value10) TH_LOG("no ctx_value@LIBCTXFD_1.0");
		ASSERT_NE(NULL, with_value10);
#endif
	}
	EXPECT_NE((void *)value10, (void *)ctx_value);

	empty = bind_value(_metadata, ctx_background(), "k", "", 0);
	nil = bind_value(_metadata, empty, "n", NULL, 0);
	ASSERT_NE(NULL, nil);
	EXPECT_EQ(0, value10(nil, "k", NULL, 0));
	EXPECT_EQ(0, value10(nil, "n", NULL, 0));
	EXPECT_EQ(-ENOENT, value10(nil, "none", NULL, 0));

	/* 1.0's ctx_with_value(p, k, "", 0) bound nil. */
	ASSERT_EQ(0, with_value10(nil, "o", "", 0, &old));
	EXPECT_EQ(-ENOENT, ctx_value(old, "o", NULL, 0));
	ctx_release(old);
	ctx_release(nil);
	ctx_release(empty);
}

TEST_HARNESS_MAIN
