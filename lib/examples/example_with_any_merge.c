// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Go's ExampleAfterFunc_merge without AfterFunc: a context that contains
 * the values of ctx1 and is canceled when either ctx1 or ctx2 is
 * canceled, made by the kernel with ctx_with_any(). There is no
 * function to run in a thread, no stop() to race with it, and no wait:
 * the merged context is done before cancel2 returns. ctx_with_all()
 * makes the other merge, done when both are.
 */
#include <stdio.h>

#include <ctxfd.h>

int main(void)
{
	ctx_cancel_t *cancel1, *cancel2, *merged_cancel, *both_cancel;
	char msg[CTX_CAUSE_MSG_MAX + 1];
	ctx_t *ctx1, *ctx2, *merged, *both;

	if (ctx_with_cancel_cause(ctx_background(), &ctx1, &cancel1) ||
	    ctx_with_cancel_cause(ctx_background(), &ctx2, &cancel2) ||
	    ctx_with_any((ctx_t *[]){ ctx1, ctx2 }, 2, &merged,
			 &merged_cancel) ||
	    ctx_with_all((ctx_t *[]){ ctx1, ctx2 }, 2, &both, &both_cancel)) {
		fprintf(stderr, "%s\n", ctx_last_error());
		return 1;
	}

	ctx_cancel_cause(cancel2, 2, "ctx2 canceled");
	/* No <-mergedCtx.Done(): it is done already. */
	ctx_cause(merged, NULL, msg, sizeof(msg));
	printf("%s\n", msg);
	printf("both done: %s\n", ctx_err(both) ? "yes" : "no");

	ctx_cancel_cause(cancel1, 1, "ctx1 canceled");
	ctx_cause(both, NULL, msg, sizeof(msg));
	printf("both done: %s (%s)\n", ctx_err(both) ? "yes" : "no", msg);

	/* The defers: releasing a merged context detaches it. */
	ctx_cancel_release(both_cancel);
	ctx_release(both);
	ctx_cancel_release(merged_cancel);
	ctx_release(merged);
	ctx_cancel_release(cancel2);
	ctx_release(ctx2);
	ctx_cancel_release(cancel1);
	ctx_release(ctx1);
	return 0;
}

/* Output:
 * ctx2 canceled
 * both done: no
 * both done: yes (ctx1 canceled)
 */
