// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Seed scenario: a generator that does not leak when its consumer stops
 * early.
 *
 * Two pipeline stages run in threads of their own: numbers() sends 1, 2,
 * 3, ... and square() sends their squares, each on a pipe ("channel").
 * The consumer stops at the first square above 50, long before the
 * (endless) generator would end, and cancels the context: each stage,
 * blocked in poll() on its output or its input, also watches
 * ctx_done_fd() and returns. Every thread is joined; none is left (and
 * the selftests run this under ASan and valgrind).
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include <ctxfd.h>

struct stage {
	ctx_t *ctx;
	int in;			/* -1 for the first stage */
	int out[2];
	int (*fn)(int);
	int stopped_by;		/* the ctx err that stopped it */
	pthread_t thread;
};

/* Wait until @fd is ready for @events or ctx is done; false if done. */
static int ready(struct stage *s, int fd, short events)
{
	struct pollfd pfd[2] = {
		{ .fd = ctx_done_fd(s->ctx), .events = POLLIN },
		{ .fd = fd, .events = events },
	};

	while (poll(pfd, 2, -1) < 0)
		;
	if (pfd[0].revents) {
		s->stopped_by = ctx_err(s->ctx);
		return 0;
	}
	return 1;
}

static void *stage_main(void *arg)
{
	struct stage *s = arg;
	int n = 0;

	for (;;) {
		int v;

		if (s->in < 0) {
			v = ++n;
		} else {
			if (!ready(s, s->in, POLLIN) ||
			    read(s->in, &v, sizeof(v)) != sizeof(v))
				return NULL;
		}
		v = s->fn(v);
		if (!ready(s, s->out[1], POLLOUT) ||
		    write(s->out[1], &v, sizeof(v)) != sizeof(v))
			return NULL;
	}
}

static int identity(int v)
{
	return v;
}

static int sq(int v)
{
	return v * v;
}

static int start(struct stage *s, ctx_t *ctx, int in, int (*fn)(int))
{
	s->ctx = ctx;
	s->in = in;
	s->fn = fn;
	s->stopped_by = 0;
	if (pipe(s->out))
		return -1;
	return pthread_create(&s->thread, NULL, stage_main, s) ? -1 : 0;
}

int main(void)
{
	struct stage numbers, squares;
	ctx_cancel_t *cancel;
	int v, count = 0, joined = 0;
	ctx_t *ctx;

	if (ctx_with_cancel(ctx_background(), &ctx, &cancel)) {
		fprintf(stderr, "%s\n", ctx_last_error());
		return 1;
	}
	/* squares reads what numbers writes */
	if (start(&numbers, ctx, -1, identity) ||
	    start(&squares, ctx, numbers.out[0], sq))
		return 1;

	while (read(squares.out[0], &v, sizeof(v)) == sizeof(v)) {
		printf("%d\n", v);
		count++;
		if (v > 50)
			break;	/* the consumer stops early */
	}
	printf("consumer stopped after %d values\n", count);

	ctx_cancel(cancel);
	/* Both stages return: joining them cannot hang, nothing leaks. */
	joined += !pthread_join(numbers.thread, NULL);
	joined += !pthread_join(squares.thread, NULL);
	printf("stages stopped: %s, %s\n", ctx_strerror(numbers.stopped_by),
	       ctx_strerror(squares.stopped_by));
	printf("stages joined: %d\n", joined);

	close(numbers.out[0]);
	close(numbers.out[1]);
	close(squares.out[0]);
	close(squares.out[1]);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
	return 0;
}

/* Output:
 * 1
 * 4
 * 9
 * 16
 * 25
 * 36
 * 49
 * 64
 * consumer stopped after 8 values
 * stages stopped: context canceled, context canceled
 * stages joined: 2
 */
