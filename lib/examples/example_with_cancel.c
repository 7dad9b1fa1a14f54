// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Go's ExampleWithCancel: the use of a cancelable context to prevent a
 * thread leak. By the end of main(), the thread started by gen() has
 * returned (and been joined) without leaking.
 *
 * gen() generates integers in a separate thread and sends them to the
 * returned "channel" (a pipe). The callers of gen() need to cancel the
 * context once they are done consuming generated integers not to leak the
 * internal thread.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <ctxfd.h>

struct gen {
	ctx_t *ctx;
	int dst[2];		/* the channel: [0] read, [1] write */
	pthread_t thread;
};

static void *gen_main(void *arg)
{
	struct gen *g = arg;
	int n = 1;

	for (;;) {
		/* select { case <-ctx.Done(): ... case dst <- n: ... } */
		struct pollfd pfd[2] = {
			{ .fd = ctx_done_fd(g->ctx), .events = POLLIN },
			{ .fd = g->dst[1], .events = POLLOUT },
		};

		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[0].revents)
			return NULL;	/* returning not to leak the thread */
		if (pfd[1].revents) {
			if (write(g->dst[1], &n, sizeof(n)) != sizeof(n))
				return NULL;
			n++;
		}
	}
}

static int gen_start(struct gen *g, ctx_t *ctx)
{
	g->ctx = ctx;
	if (pipe(g->dst))
		return -1;
	return pthread_create(&g->thread, NULL, gen_main, g) ? -1 : 0;
}

int main(void)
{
	ctx_cancel_t *cancel;
	struct gen g;
	ctx_t *ctx;
	int n;

	if (ctx_with_cancel(ctx_background(), &ctx, &cancel)) {
		fprintf(stderr, "%s\n", ctx_last_error());
		return 1;
	}
	if (gen_start(&g, ctx))
		return 1;
	while (read(g.dst[0], &n, sizeof(n)) == sizeof(n)) {
		printf("%d\n", n);
		if (n == 5)
			break;
	}

	/* defer cancel(): cancel when we are finished consuming integers */
	ctx_cancel(cancel);
	pthread_join(g.thread, NULL);
	close(g.dst[0]);
	close(g.dst[1]);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
	return 0;
}

/* Output:
 * 1
 * 2
 * 3
 * 4
 * 5
 */
