// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Go's ExampleWithTimeout: pass a context with a timeout to tell a
 * blocking function that it should abandon its work after the timeout
 * elapses.
 */
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include <ctxfd.h>

#define SHORT_DURATION CTX_MILLISECOND

int main(void)
{
	ctx_cancel_t *cancel;
	int never_ready[2];
	ctx_t *ctx;

	if (pipe(never_ready))
		return 1;
	if (ctx_with_timeout(ctx_background(), SHORT_DURATION, &ctx, &cancel)) {
		fprintf(stderr, "%s\n", ctx_last_error());
		return 1;
	}

	struct pollfd pfd[2] = {
		{ .fd = never_ready[0], .events = POLLIN },
		{ .fd = ctx_done_fd(ctx), .events = POLLIN },
	};
	if (poll(pfd, 2, -1) > 0) {
		if (pfd[0].revents)
			printf("ready\n");
		else	/* prints "context deadline exceeded" */
			printf("%s\n", ctx_strerror(ctx_err(ctx)));
	}

	ctx_cancel_release(cancel);
	ctx_release(ctx);
	close(never_ready[0]);
	close(never_ready[1]);
	return 0;
}

/* Output:
 * context deadline exceeded
 */
