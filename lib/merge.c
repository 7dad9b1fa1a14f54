// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Contexts with several parents: ctx_with_any() and ctx_with_all(), on
 * the kernel's CTXFD_IOC_MERGE. Go has no such function (golang/go#36503
 * was declined for AfterFunc, the building block of
 * ExampleAfterFunc_merge); here the kernel does the merge, with no thread
 * and no AfterFunc registration per merged context, and the merged
 * context is done before the cancel that made it so returns.
 *
 * Background and TODO have no descriptor: they are never done, carry no
 * value and no deadline. ANY ignores them, except as the first parent,
 * whose values lookups follow; ALL is never done through its parents if
 * one of them is never done. Where the kernel must see such a parent, a
 * root of our own stands in for all of them: created with
 * CTXFD_CREATE_NO_CANCEL_ON_CLOSE and closed at once, so that nothing can
 * ever cancel it; the merged context keeps it alive as long as it lives.
 */
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

_Static_assert(CTX_MAX_PARENTS == CTXFD_MERGE_MAX_PARENTS,
	       "CTX_MAX_PARENTS is the kernel's bound");

/* A root that is never done: no cancel fd is left once @fd is closed. */
static int ctx__never_done_root(const char *what)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_NO_CANCEL_ON_CLOSE,
	};

	return ctx__new_root(&args, what);
}

static int ctx__merge_fail(int err, const char *what)
{
	switch (err) {
	case EINVAL:
		return ctx__fail(EINVAL, "%s: two parents are the same context",
				 what);
	case EBADF:
		return ctx__fail(EBADF,
				 "%s: a parent's descriptor is not an open context",
				 what);
	case ENOTTY:
		return ctx__fail(ENOTTY,
				 "%s: the loaded ctxfd module predates merged contexts (CTXFD_IOC_MERGE)",
				 what);
	default:
		errno = err;
		return ctx__fail_errno("%s: CTXFD_IOC_MERGE", what);
	}
}

static int ctx__merge(ctx_t *const *parents, size_t n, __u32 mode,
		      ctx_t **ctx, ctx_cancel_t **cancel, const char *what)
{
	int fds[CTX_MAX_PARENTS];
	struct ctxfd_merge args = { .mode = mode };
	struct ctx_context *c;
	int stand_in = -1, fd, err;
	bool need_stand_in = false;
	size_t i, j, nr = 0;

	if (ctx)
		*ctx = NULL;
	if (cancel)
		*cancel = NULL;
	if (!ctx || !cancel)
		return ctx__fail(EINVAL, "%s: NULL result pointer", what);
	if (!parents)
		return ctx__fail(EINVAL, "%s: NULL parents", what);
	if (!n)
		return ctx__fail(EINVAL, "%s: no parents", what);
	for (i = 0; i < n; i++)
		if (!parents[i])
			return ctx__fail(EINVAL, "%s: parent %zu is NULL", what, i);

	for (i = 0; i < n; i++) {
		ctx_t *p = parents[i];

		/* The same object twice is the same parent once. */
		for (j = 0; j < i && parents[j] != p; j++)
			;
		if (j < i)
			continue;
		if (p->fd < 0) {
			/* ANY: a never-done parent matters only as the first. */
			if (mode == CTXFD_MERGE_ANY && i)
				continue;
			if (need_stand_in)
				continue;
			need_stand_in = true;
		}
		if (nr == CTX_MAX_PARENTS)
			return ctx__fail(E2BIG, "%s: more than %d parents", what,
					 CTX_MAX_PARENTS);
		fds[nr++] = p->fd;
	}

	if (need_stand_in) {
		stand_in = ctx__never_done_root(what);
		if (stand_in < 0)
			return stand_in;
		for (i = 0; i < nr; i++)
			if (fds[i] < 0)
				fds[i] = stand_in;
	}

	args.parents = (uintptr_t)fds;
	args.nr_parents = (__u32)nr;
	fd = ioctl(fds[0], CTXFD_IOC_MERGE, &args);
	err = errno;
	if (stand_in >= 0)
		close(stand_in);
	if (fd < 0)
		return ctx__merge_fail(err, what);

	c = ctx__alloc(fd, CTX_KIND_CANCEL, false);
	if (!c) {
		close(fd);
		return ctx__fail(ENOMEM, "%s: out of memory", what);
	}
	atomic_store_explicit(&c->refs, 2, memory_order_relaxed);
	c->cancel.ctx = c;
	c->cancel.cause_ok = true;
	*ctx = c;
	*cancel = &c->cancel;
	return 0;
}

int ctx_with_any(ctx_t *const *parents, size_t n, ctx_t **ctx,
		 ctx_cancel_t **cancel)
{
	return ctx__merge(parents, n, CTXFD_MERGE_ANY, ctx, cancel,
			  "ctx_with_any");
}

int ctx_with_all(ctx_t *const *parents, size_t n, ctx_t **ctx,
		 ctx_cancel_t **cancel)
{
	return ctx__merge(parents, n, CTXFD_MERGE_ALL, ctx, cancel,
			  "ctx_with_all");
}
