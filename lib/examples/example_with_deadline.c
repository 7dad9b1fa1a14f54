// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Go's ExampleWithDeadline: pass a context with an arbitrary deadline to
 * tell a blocking function that it should abandon its work as soon as it
 * gets to it.
 */
#include <poll.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <ctxfd.h>

#define SHORT_DURATION CTX_MILLISECOND

int main(void)
{
	ctx_cancel_t *cancel;
	struct timespec d;
	int never_ready[2];	/* a channel nobody ever writes to */
	ctx_t *ctx;

	if (pipe(never_ready))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &d);
	d.tv_nsec += SHORT_DURATION;
	if (d.tv_nsec >= 1000000000) {
		d.tv_sec++;
		d.tv_nsec -= 1000000000;
	}
	if (ctx_with_deadline(ctx_background(), &d, &ctx, &cancel)) {
		fprintf(stderr, "%s\n", ctx_last_error());
		return 1;
	}

	/*
	 * Even though ctx will be expired, it is good practice to release
	 * its cancel handle in any case. Failure to do so may keep the
	 * context and its parent alive longer than necessary.
	 */
	struct pollfd pfd[2] = {
		{ .fd = never_ready[0], .events = POLLIN },
		{ .fd = ctx_done_fd(ctx), .events = POLLIN },
	};
	if (poll(pfd, 2, -1) > 0) {
		if (pfd[0].revents)
			printf("ready\n");
		else
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
