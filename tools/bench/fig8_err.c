// SPDX-License-Identifier: GPL-2.0
/*
 * Figure 8: asking "is this context done yet?" vs a non-blocking eventfd
 * read (the check a user of eventfd would make), on an active context.
 *
 * With libctxfd (built when lib/ctxfd.h exists), three ways to ask:
 *  - 8/err:  ctx_err(ctx), Go's ctx.Err();
 *  - 8/poll: poll() of ctx_done_fd(ctx) with a zero timeout, Go's
 *            select { case <-ctx.Done(): default: };
 *  - 8/wait: ctx_wait(ctx, 0), the library's own done-check.
 * Without the library, the raw kernel paths stand in for them (a
 * non-blocking read() of the context fd, poll() with a zero timeout).
 *
 * Each is a tight loop of calls timed over a slice; ns per call. Runs
 * alternate. Ratio = ctxfd ns / eventfd ns, target <= 1.2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench.h"

#ifdef HAVE_LIBCTXFD
#include <ctxfd.h>
#endif

#define BATCH 100
#define ROUNDS 10

enum check_kind { CHECK_ERR, CHECK_POLL, CHECK_WAIT, CHECK_EVENTFD, CHECK_RAW,
		  NR_CHECKS };

struct target {
#ifdef HAVE_LIBCTXFD
	ctx_t *ctx;
#endif
	int fd;		/* the context's fd (raw) or done fd (library) */
	int raw;	/* a watch-only fd of our own, O_NONBLOCK */
	int efd;	/* the eventfd, non-blocking */
};

static int one_check(const struct target *t, enum check_kind k)
{
	struct pollfd p = { .fd = t->fd, .events = POLLIN };
	uint64_t v;

	switch (k) {
	case CHECK_ERR:
#ifdef HAVE_LIBCTXFD
		return ctx_err(t->ctx);
#else
		{
			struct ctxfd_event ev;

			return read(t->fd, &ev, sizeof(ev)) < 0 &&
			       errno == EAGAIN ? 0 : 1;
		}
#endif
	case CHECK_POLL:
		return poll(&p, 1, 0);
	case CHECK_WAIT:
#ifdef HAVE_LIBCTXFD
		return ctx_wait(t->ctx, 0);
#else
		return poll(&p, 1, 0);
#endif
	case CHECK_EVENTFD:
		return read(t->efd, &v, sizeof(v)) < 0 && errno == EAGAIN ?
		       0 : 1;
	case CHECK_RAW: {
		struct ctxfd_event ev;

		return read(t->raw, &ev, sizeof(ev)) < 0 && errno == EAGAIN ?
		       0 : 1;
	}
	default:
		break;
	}
	return -1;
}

/* ns per check over a slice. */
static double ns_per_check(const struct target *t, enum check_kind k,
			   uint64_t slice)
{
	uint64_t t0 = now_ns(), t1;
	long calls = 0;

	do {
		for (int i = 0; i < BATCH; i++)
			if (one_check(t, k))
				die("check %d: the context is done or failed", k);
		calls += BATCH;
		t1 = now_ns();
	} while (t1 - t0 < slice);
	return (double)(t1 - t0) / calls;
}

void fig8_err(void)
{
	static const char *const names[] = { "err", "poll", "wait" };
	static const char *const whats[] = {
#ifdef HAVE_LIBCTXFD
		"ctx_err() on an active ctx vs eventfd read",
		"poll(ctx_done_fd(), 0) vs eventfd read",
		"ctx_wait(ctx, 0) vs eventfd read",
#else
		"raw: non-blocking ctxfd read vs eventfd read",
		"raw: poll(ctxfd, 0) vs eventfd read",
		"raw: poll(ctxfd, 0) vs eventfd read (no lib)",
#endif
	};
	uint64_t slice = (uint64_t)(30e6 * bench_scale);	/* 30 ms */
	int runs = bench_runs;
	double c[3][runs], e[runs], ratio[3][runs], raw[runs], raw_ratio[runs];
	struct target t;
#ifdef HAVE_LIBCTXFD
	ctx_cancel_t *cancel;
#else
	int root;
#endif

	pin_cpu(0);
	t.efd = check(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd");
#ifdef HAVE_LIBCTXFD
	{
		int ret = ctx_with_cancel(ctx_background(), &t.ctx, &cancel);

		if (ret < 0)
			die("ctx_with_cancel: %s", strerror(-ret));
		t.fd = ctx_done_fd(t.ctx);
	}
#else
	root = check(kctx_root(), "root");
	t.fd = check(kctx_child(root, 0), "create");
	check(fcntl(t.fd, F_SETFL, O_NONBLOCK), "fcntl");
#endif
	/* The kernel's own cost: a non-blocking read of an fd of our own. */
	t.raw = check(kctx_watch(t.fd), "watch");
	check(fcntl(t.raw, F_SETFL, O_NONBLOCK), "fcntl");
	for (int k = 0; k < NR_CHECKS; k++)	/* warm up */
		ns_per_check(&t, k, slice);

	/*
	 * Short slices of the four kinds alternate, order rotating, ROUNDS
	 * per run; a run's ratio is the median of its rounds' ratios.
	 */
	for (int run = 0; run < runs; run++) {
		double x[NR_CHECKS][ROUNDS], rr[3][ROUNDS], rraw[ROUNDS];

		for (int i = 0; i < ROUNDS; i++) {
			for (int j = 0; j < NR_CHECKS; j++) {
				int k = (j + i + run) % NR_CHECKS;

				x[k][i] = ns_per_check(&t, k, slice);
			}
			for (int k = 0; k < 3; k++)
				rr[k][i] = x[k][i] / x[CHECK_EVENTFD][i];
			rraw[i] = x[CHECK_RAW][i] / x[CHECK_EVENTFD][i];
		}
		raw[run] = median_of(x[CHECK_RAW], ROUNDS);
		raw_ratio[run] = median_of(rraw, ROUNDS);
		e[run] = median_of(x[CHECK_EVENTFD], ROUNDS);
		for (int k = 0; k < 3; k++) {
			c[k][run] = median_of(x[k], ROUNDS);
			ratio[k][run] = median_of(rr[k], ROUNDS);
		}
		progress("run %d/%d: err %.0f ns, poll %.0f ns, wait %.0f ns, raw read %.0f ns; eventfd read %.0f ns",
			 run + 1, runs, c[0][run], c[1][run], c[2][run],
			 raw[run], e[run]);
	}
	for (int k = 0; k < 3; k++) {
		char fig[32];
		struct bench_result *r;

		snprintf(fig, sizeof(fig), "8/%s", names[k]);
		r = bench_record(fig, whats[k], "ns", c[k], e, ratio[k], runs,
				 CMP_LE, 1.2);
#ifdef HAVE_LIBCTXFD
		bench_detail(r, ", \"libctxfd\": true");
#else
		bench_detail(r, ", \"libctxfd\": false");
#endif
		bench_detail(r, ", \"raw_ctxfd_read_ns\": %.0f, \"raw_read_ratio\": %.3f",
			     median_of(raw, runs), median_of(raw_ratio, runs));
	}
#ifdef HAVE_LIBCTXFD
	ctx_release(t.ctx);
	ctx_cancel_release(cancel);
#else
	close(t.fd);
	close(root);
#endif
	close(t.raw);
	close(t.efd);
}
