// SPDX-License-Identifier: GPL-2.0
/*
 * Figure 1: create + close a child context vs eventfd create + close.
 *
 * ctxfd: CTXFD_IOC_CREATE on a root (a plain WithCancel child, O_CLOEXEC
 * by default), then close(), which cancels and frees it (the kernel's
 * "defer cancel()"). eventfd: eventfd(0, EFD_CLOEXEC), then close().
 * Both loops run for the same time slice, alternating, pinned to one
 * CPU. Ratio = ctxfd ops/s / eventfd ops/s, target >= 0.8.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench.h"

#define BATCH	200

static double ctxfd_rate(int root, uint64_t slice)
{
	uint64_t t0 = now_ns(), t;
	long ops = 0;

	do {
		for (int i = 0; i < BATCH; i++)
			close(check(kctx_child(root, 0), "create"));
		ops += BATCH;
		t = now_ns();
	} while (t - t0 < slice);
	return ops * 1e9 / (t - t0);
}

static double eventfd_rate(uint64_t slice)
{
	uint64_t t0 = now_ns(), t;
	long ops = 0;

	do {
		for (int i = 0; i < BATCH; i++)
			close(check(eventfd(0, EFD_CLOEXEC), "eventfd"));
		ops += BATCH;
		t = now_ns();
	} while (t - t0 < slice);
	return ops * 1e9 / (t - t0);
}

void fig1_create(void)
{
	uint64_t slice = (uint64_t)(300e6 * bench_scale);	/* 0.3 s */
	int runs = bench_runs;
	double *c = calloc(runs, sizeof(double));
	double *e = calloc(runs, sizeof(double));
	double *ratio = calloc(runs, sizeof(double));
	struct bench_result *r;
	int root;

	if (!c || !e || !ratio)
		die("out of memory");
	pin_cpu(0);
	root = check(kctx_root(), "root");
	/* Warm up both paths (slab caches, fd table). */
	ctxfd_rate(root, slice / 4);
	eventfd_rate(slice / 4);

	for (int run = 0; run < runs; run++) {
		if (run % 2) {
			e[run] = eventfd_rate(slice);
			c[run] = ctxfd_rate(root, slice);
		} else {
			c[run] = ctxfd_rate(root, slice);
			e[run] = eventfd_rate(slice);
		}
		ratio[run] = c[run] / e[run];
		progress("run %d/%d: ctxfd %.0f ops/s, eventfd %.0f ops/s",
			 run + 1, runs, c[run], e[run]);
	}
	close(root);
	r = bench_record("1", "create + close: child context vs eventfd",
			 "ops/s", c, e, ratio, runs, CMP_GE, 0.8);
	bench_detail(r, ", \"slice_ms\": %.0f", slice / 1e6);
	free(c);
	free(e);
	free(ratio);
}
