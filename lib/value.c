// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Go's WithValue, WithoutCancel and ctx.Value(). Keys are non-empty
 * strings; values are byte strings stored in the kernel, so they cross
 * processes with the context. The nearest binding wins; a nil binding
 * (Go's nil value) shadows older ones and reads as no value, while the
 * empty value "" is a value like any other.
 *
 * libctxfd 1.0 made "" nil and read nil as 0: programs linked against
 * it keep that behaviour through the LIBCTXFD_1.0 versions of
 * ctx_with_value() and ctx_value().
 */
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

/*
 * The kernel fills the value buffer through a pointer inside the LOOKUP
 * struct, which valgrind cannot know about: tell it, when it is there.
 */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define CTX_MARK_DEFINED(p, n) VALGRIND_MAKE_MEM_DEFINED(p, n)
#endif
#endif
#ifndef CTX_MARK_DEFINED
#define CTX_MARK_DEFINED(p, n) ((void)0)
#endif

static int ctx__check_key(const char *key, size_t *len, const char *what)
{
	if (!key)
		return ctx__fail(EINVAL, "%s: NULL key", what);
	*len = strlen(key);
	if (!*len)
		return ctx__fail(EINVAL, "%s: empty key", what);
	if (*len > UINT32_MAX)
		return ctx__fail(E2BIG, "%s: key too long", what);
	return 0;
}

/* ctx_with_value(): @nil binds nil, otherwise @val/@len (maybe ""). */
static int ctx__with_value(ctx_t *parent, const char *key, const void *val,
			   size_t len, bool nil, ctx_t **ctx)
{
	static const char what[] = "ctx_with_value";
	struct ctxfd_create args = { .flags = CTXFD_CREATE_VALUE };
	struct ctx_context *c;
	size_t key_len;
	int fd, ret;

	if (ctx)
		*ctx = NULL;
	if (!parent)
		return ctx__fail(EINVAL, "%s: NULL parent", what);
	if (!ctx)
		return ctx__fail(EINVAL, "%s: NULL result pointer", what);
	ret = ctx__check_key(key, &key_len, what);
	if (ret)
		return ret;
	if (!val && len)
		return ctx__fail(EINVAL, "%s: NULL value with a length", what);
	if (len > UINT32_MAX)
		return ctx__fail(E2BIG, "%s: value too long", what);

	args.key = (uintptr_t)key;
	args.key_len = (__u32)key_len;
	/* With no bytes, a pointer means "" and none means nil. */
	args.value = nil ? 0 : (uintptr_t)val;
	args.value_len = (__u32)len;
	fd = ctx__create(parent, &args, what);
	if (fd == -EINVAL && !nil && !len)
		return ctx__fail(EOPNOTSUPP,
				 "%s: the loaded ctxfd module predates empty values (\"\" as opposed to nil): load the current one, or bind nil with a NULL value",
				 what);
	if (fd < 0)
		return fd;
	c = ctx__alloc(fd, CTX_KIND_VALUE, parent->never_done);
	if (!c) {
		close(fd);
		return ctx__fail(ENOMEM, "%s: out of memory", what);
	}
	*ctx = c;
	return 0;
}

/* ctx_with_value() since 1.1: "" is a value, NULL is nil. */
CTX_SYMBOL_DEFAULT(ctx_with_value_v1_1, ctx_with_value, LIBCTXFD_1.1)
int ctx_with_value_v1_1(ctx_t *parent, const char *key, const void *val,
			size_t len, ctx_t **ctx);
int ctx_with_value_v1_1(ctx_t *parent, const char *key, const void *val,
			size_t len, ctx_t **ctx)
{
	return ctx__with_value(parent, key, val, len, !val, ctx);
}

/* libctxfd 1.0: an empty value, "" included, was nil. */
CTX_SYMBOL_COMPAT(ctx_with_value_v1_0, ctx_with_value, LIBCTXFD_1.0)
int ctx_with_value_v1_0(ctx_t *parent, const char *key, const void *val,
			size_t len, ctx_t **ctx);
int ctx_with_value_v1_0(ctx_t *parent, const char *key, const void *val,
			size_t len, ctx_t **ctx)
{
	return ctx__with_value(parent, key, val, len, !len, ctx);
}

int ctx_without_cancel(ctx_t *parent, ctx_t **ctx)
{
	static const char what[] = "ctx_without_cancel";
	struct ctxfd_create args = { .flags = CTXFD_CREATE_WITHOUT_CANCEL };
	struct ctx_context *c;
	int fd;

	if (ctx)
		*ctx = NULL;
	if (!parent)
		return ctx__fail(EINVAL, "%s: NULL parent", what);
	if (!ctx)
		return ctx__fail(EINVAL, "%s: NULL result pointer", what);
	/* Background and TODO are never done and carry nothing already. */
	if (ctx__is_static(parent)) {
		*ctx = parent;
		return 0;
	}
	fd = ctx__create(parent, &args, what);
	if (fd < 0)
		return fd;
	c = ctx__alloc(fd, CTX_KIND_WITHOUT_CANCEL, true);
	if (!c) {
		close(fd);
		return ctx__fail(ENOMEM, "%s: out of memory", what);
	}
	*ctx = c;
	return 0;
}

/*
 * Look @key up: the value's length (copied into @buf if it fits) and in
 * *@nil whether the binding is nil; -ENOENT if there is none.
 */
static ssize_t ctx__value(ctx_t *ctx, const char *key, void *buf, size_t len,
			  bool *nil)
{
	static const char what[] = "ctx_value";
	struct ctxfd_lookup args = { 0 };
	size_t key_len;
	int ret;

	*nil = false;
	if (!ctx)
		return ctx__fail(EINVAL, "%s: NULL context", what);
	ret = ctx__check_key(key, &key_len, what);
	if (ret)
		return ret;
	if (!buf && len)
		return ctx__fail(EINVAL, "%s: NULL buffer with a length", what);
	if (ctx->fd < 0)
		return -ENOENT;
	if (len > UINT32_MAX)
		len = UINT32_MAX;
	args.key = (uintptr_t)key;
	args.key_len = (__u32)key_len;
	args.value = len ? (uintptr_t)buf : 0;
	args.value_len = (__u32)len;
	if (ioctl(ctx->fd, CTXFD_IOC_LOOKUP, &args) < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		if (errno != ERANGE)
			return ctx__fail_errno("%s: CTXFD_IOC_LOOKUP", what);
	} else if (args.value_len) {
		CTX_MARK_DEFINED(buf, args.value_len);
	}
	/* A module without result_flags cannot bind "": empty is nil. */
	*nil = (args.result_flags & CTXFD_LOOKUP_NIL) ||
	       (!(args.result_flags & CTXFD_LOOKUP_VALUE) && !args.value_len);
	return (ssize_t)args.value_len;
}

/* ctx_value() since 1.1: -ENOENT for nil, as for no binding. */
CTX_SYMBOL_DEFAULT(ctx_value_v1_1, ctx_value, LIBCTXFD_1.1)
ssize_t ctx_value_v1_1(ctx_t *ctx, const char *key, void *buf, size_t len);
ssize_t ctx_value_v1_1(ctx_t *ctx, const char *key, void *buf, size_t len)
{
	bool nil;
	ssize_t ret = ctx__value(ctx, key, buf, len, &nil);

	/* Go's Value() is nil for a nil binding as for none. */
	return nil ? -ENOENT : ret;
}

/* libctxfd 1.0: 0 for a nil binding as for "". */
CTX_SYMBOL_COMPAT(ctx_value_v1_0, ctx_value, LIBCTXFD_1.0)
ssize_t ctx_value_v1_0(ctx_t *ctx, const char *key, void *buf, size_t len);
ssize_t ctx_value_v1_0(ctx_t *ctx, const char *key, void *buf, size_t len)
{
	bool nil;

	return ctx__value(ctx, key, buf, len, &nil);
}
