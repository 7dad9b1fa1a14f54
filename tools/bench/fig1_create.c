// SPDX-License-Identifier: GPL-2.0
/*
 * Figure 1: create + close a child context vs eventfd create + close.
 *
 * ctxfd: CTXFD_IOC_CREATE on a root (a plain WithCancel child, O_CLOEXEC
 * by default), then close(), which cancels and frees it (the kernel's
 * "defer cancel()"). eventfd: eventfd(0, EFD_CLOEXEC), then close().
 * Ratio = ctxfd ops/s / eventfd ops/s, target >= 0.9 (issue 18).
 *
 * Short slices of every variant alternate (order rotating), many rounds
 * per run: a host that preempts the VM hits one slice, and the median
 * over rounds discards it. A run's ratio is the median of its rounds'
 * ratios. Two more variants, reported as details, split the cost:
 *  - nocancel: a child created with CTXFD_CREATE_NO_CANCEL_ON_CLOSE,
 *    whose close frees it without a cancel;
 *  - watch: CTXFD_IOC_WATCH + close on an existing context: the file and
 *    descriptor alone, no node allocated or freed;
 *  - enotty: an unknown ioctl on the root (ENOTTY) + close(-1): the two
 *    system call round trips alone, no work.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "bench.h"

#define BATCH	50
#define ROUNDS	10

enum variant { V_CTXFD, V_EVENTFD, V_NOCANCEL, V_WATCH, V_ENOTTY,
	       NR_VARIANTS };
static const char *const variant_names[] = { "ctxfd", "eventfd", "nocancel",
					     "watch", "enotty" };

static int root;

static void one_op(enum variant v)
{
	switch (v) {
	case V_CTXFD:
		close(check(kctx_child(root, 0), "create"));
		break;
	case V_EVENTFD:
		close(check(eventfd(0, EFD_CLOEXEC), "eventfd"));
		break;
	case V_NOCANCEL:
		close(check(kctx_child(root, CTXFD_CREATE_NO_CANCEL_ON_CLOSE),
			    "create"));
		break;
	case V_WATCH:
		close(check(kctx_watch(root), "watch"));
		break;
	case V_ENOTTY:
		if (ioctl(root, _IO(CTXFD_IOC_MAGIC, 0x7f)) != -1 ||
		    errno != ENOTTY)
			die("ioctl 0x7f did not fail with ENOTTY");
		if (close(-1) != -1)
			die("close(-1) succeeded");
		break;
	default:
		break;
	}
}

/* ops/s of @v over @slice ns. */
static double rate(enum variant v, uint64_t slice)
{
	uint64_t t0 = now_ns(), t;
	long ops = 0;

	do {
		for (int i = 0; i < BATCH; i++)
			one_op(v);
		ops += BATCH;
		t = now_ns();
	} while (t - t0 < slice);
	return ops * 1e9 / (t - t0);
}

/*
 * CTXFD_BENCH_ONLY=<variant>: run that variant alone for a few seconds
 * and record nothing, for tools/bench/profile.
 */
static bool only(uint64_t slice)
{
	const char *env = getenv("CTXFD_BENCH_ONLY");

	if (!env || !*env)
		return false;
	for (int v = 0; v < NR_VARIANTS; v++) {
		if (strcmp(env, variant_names[v]))
			continue;
		progress("%s alone: %.0f ops/s", env,
			 rate(v, 100 * slice));
		return true;
	}
	die("CTXFD_BENCH_ONLY=%s: no such variant", env);
}

void fig1_create(void)
{
	uint64_t slice = (uint64_t)(50e6 * bench_scale);	/* 50 ms */
	int runs = bench_runs;
	double c[runs], e[runs], ratio[runs];
	double per[NR_VARIANTS][runs];
	struct bench_result *r;

	pin_cpu(0);
	root = check(kctx_root(), "root");
	if (only(slice)) {
		close(root);
		return;
	}
	for (int v = 0; v < NR_VARIANTS; v++)	/* warm up */
		rate(v, slice);

	for (int run = 0; run < runs; run++) {
		double x[NR_VARIANTS][ROUNDS], rr[ROUNDS];

		for (int k = 0; k < ROUNDS; k++) {
			for (int j = 0; j < NR_VARIANTS; j++) {
				int v = (j + k + run) % NR_VARIANTS;

				x[v][k] = rate(v, slice);
			}
			rr[k] = x[V_CTXFD][k] / x[V_EVENTFD][k];
		}
		for (int v = 0; v < NR_VARIANTS; v++)
			per[v][run] = median_of(x[v], ROUNDS);
		c[run] = per[V_CTXFD][run];
		e[run] = per[V_EVENTFD][run];
		ratio[run] = median_of(rr, ROUNDS);
		progress("run %d/%d: ctxfd %.0f ops/s, eventfd %.0f ops/s (ratio %.3f); nocancel %.0f, watch %.0f, enotty %.0f",
			 run + 1, runs, c[run], e[run], ratio[run],
			 per[V_NOCANCEL][run], per[V_WATCH][run],
			 per[V_ENOTTY][run]);
	}
	close(root);
	r = bench_record("1", "create + close: child context vs eventfd",
			 "ops/s", c, e, ratio, runs, CMP_GE, 0.9);
	bench_detail(r, ", \"slice_ms\": %.0f, \"rounds_per_run\": %d, \"ns_per_op\": {",
		     slice / 1e6, ROUNDS);
	for (int v = 0; v < NR_VARIANTS; v++)
		bench_detail(r, "%s\"%s\": %.0f", v ? ", " : "",
			     variant_names[v], 1e9 / median_of(per[v], runs));
	bench_detail(r, "}");
}
