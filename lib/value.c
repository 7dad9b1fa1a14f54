// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Go's WithValue, WithoutCancel and ctx.Value(). Keys are non-empty
 * strings; values are byte strings stored in the kernel, so they cross
 * processes with the context. The nearest binding wins and an empty
 * binding (Go's nil value) shadows older ones.
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

int ctx_with_value(ctx_t *parent, const char *key, const void *val,
		   size_t len, ctx_t **ctx)
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
	args.value = len ? (uintptr_t)val : 0;
	args.value_len = (__u32)len;
	fd = ctx__create(parent, &args, what);
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

ssize_t ctx_value(ctx_t *ctx, const char *key, void *buf, size_t len)
{
	static const char what[] = "ctx_value";
	struct ctxfd_lookup args = { 0 };
	size_t key_len;
	int ret;

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
	return (ssize_t)args.value_len;
}
