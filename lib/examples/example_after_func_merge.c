// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Go's ExampleAfterFunc_merge: AfterFunc defines a function which
 * combines the cancellation signals of two contexts.
 *
 * Go's garbage collector keeps the merge alive for as long as the
 * AfterFunc function may use it. In C, ctx_after_func_full() says when
 * that is over: merged_free() runs once propagate() has returned or can
 * no longer run, and once the stop handle has been released.
 */
#include <stdio.h>
#include <stdlib.h>

#include <ctxfd.h>

/*
 * A context that contains the values of ctx, and which is canceled when
 * either ctx or cancel_ctx is canceled.
 */
struct merged {
	ctx_t *ctx;
	ctx_cancel_t *cancel;
	ctx_t *cancel_ctx;
	ctx_stop_t *stop;
};

static void propagate(void *arg)
{
	struct merged *m = arg;
	char msg[CTX_CAUSE_MSG_MAX + 1];
	int code;

	/* cancel(context.Cause(cancelCtx)) */
	ctx_cause(m->cancel_ctx, &code, msg, sizeof(msg));
	ctx_cancel_cause(m->cancel, code, msg);
}

/* The destroy callback: nobody uses the merge any more. */
static void merged_free(void *arg)
{
	struct merged *m = arg;

	ctx_cancel_release(m->cancel);
	ctx_release(m->ctx);
	ctx_release(m->cancel_ctx);
	free(m);
}

static struct merged *merge_cancel(ctx_t *ctx, ctx_t *cancel_ctx)
{
	struct merged *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->cancel_ctx = ctx_retain(cancel_ctx);
	if (ctx_with_cancel_cause(ctx, &m->ctx, &m->cancel) ||
	    ctx_after_func_full(cancel_ctx, propagate, m, merged_free,
				&m->stop)) {
		fprintf(stderr, "%s\n", ctx_last_error());
		exit(1);
	}
	return m;
}

/*
 * The merged cancel function: stop(); cancel(context.Canceled). Then m
 * belongs to propagate(), if it is running, and is freed after it.
 */
static void merged_cancel(struct merged *m)
{
	ctx_stop(m->stop);
	ctx_cancel(m->cancel);
	ctx_stop_release(m->stop);
}

int main(void)
{
	ctx_cancel_t *cancel1, *cancel2;
	char msg[CTX_CAUSE_MSG_MAX + 1];
	struct merged *merged;
	ctx_t *ctx1, *ctx2;

	if (ctx_with_cancel_cause(ctx_background(), &ctx1, &cancel1) ||
	    ctx_with_cancel_cause(ctx_background(), &ctx2, &cancel2)) {
		fprintf(stderr, "%s\n", ctx_last_error());
		return 1;
	}

	merged = merge_cancel(ctx1, ctx2);
	if (!merged)
		return 1;

	ctx_cancel_cause(cancel2, 2, "ctx2 canceled");
	ctx_wait(merged->ctx, CTX_FOREVER);
	ctx_cause(merged->ctx, NULL, msg, sizeof(msg));
	printf("%s\n", msg);

	/* the defers */
	merged_cancel(merged);
	ctx_cancel_release(cancel2);
	ctx_release(ctx2);
	ctx_cancel_cause(cancel1, 1, "ctx1 canceled");
	ctx_cancel_release(cancel1);
	ctx_release(ctx1);
	return 0;
}

/* Output:
 * ctx2 canceled
 */
