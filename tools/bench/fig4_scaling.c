// SPDX-License-Identifier: GPL-2.0
/*
 * Figure 4: per-node cancel cost must stay flat as trees grow.
 *
 * Wide trees: a root with N children, N = 1 000 ... 1 000 000. Chains:
 * a root with a chain of N descendants, N = 1 000 ... 100 000. Every
 * node keeps its fd open (a node without fd or descendant is freed at
 * once). Time = the CTXFD_IOC_CANCEL on the root (made by the main
 * thread, pinned to CPU 0); small trees are timed 100 000 nodes at a
 * time, as many trees canceled in a row (see cancel_cost()), which returns once
 * every node is done and woken; per-node cost = time / N.
 *
 * Every run measures every size once (sizes interleaved, so drift hits
 * them alike). Ratio = the largest per-size median per-node cost / the
 * smallest, over the sizes of one shape; target <= 2 (the spread shown
 * is that of the per-run max / min). The "ctxfd" column is the largest
 * per-node cost and the "baseline" column the smallest (ns per node):
 * this figure compares ctxfd with itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* Nodes canceled per timed sample, at least (see cancel_cost()). */
#define MIN_NODES 100000

static int *fds;
static int roots[MIN_NODES];

/*
 * Building and closing a million fds is most of this figure's run time,
 * so wide trees are built and closed by one thread per CPU (each on its
 * own slice of the children); the timed cancels are made by the main
 * thread either way.
 */
struct slice {
	pthread_t th;
	int n;			/* children per root */
	int from, to;		/* children fds[from .. to - 1] */
	int cpu;
	bool create;
};

static void *slice_work(void *arg)
{
	struct slice *s = arg;

	pin_cpu(s->cpu);
	for (int i = s->from; i < s->to; i++) {
		if (!s->create) {
			close(fds[i]);
			continue;
		}
		fds[i] = kctx_child(roots[i / s->n], 0);
		if (fds[i] < 0)
			die("creating node %d: %s", i + 1, strerror(errno));
	}
	return NULL;
}

static void wide_parallel(int n, int total, bool create)
{
	int nth = bench_ncpus > 1 ? 2 : 1;
	struct slice s[2];

	for (int t = 0; t < nth; t++) {
		s[t] = (struct slice){ .n = n, .from = total / nth * t,
				       .to = t == nth - 1 ? total :
					     total / nth * (t + 1),
				       .cpu = t, .create = create };
		if (pthread_create(&s[t].th, NULL, slice_work, &s[t]))
			die("pthread_create");
	}
	for (int t = 0; t < nth; t++)
		pthread_join(s[t].th, NULL);
}

/*
 * Build max(1, MIN_NODES / n) trees of n nodes below their roots, cancel
 * the roots one after another, tear down; return the cancel time per
 * node in ns. Timing at least MIN_NODES nodes per sample keeps every
 * timed window far longer than a host time slice, so that a busy host
 * slows small and large trees alike (a lone 1 000-node cancel fits in a
 * slice and would look faster than it is).
 */
static double cancel_cost(int n, bool chain)
{
	int trees = n >= MIN_NODES ? 1 : MIN_NODES / n, total = trees * n;
	uint64_t t0, t1;

	for (int t = 0; t < trees; t++)
		roots[t] = check(kctx_root(), "root");
	if (chain) {
		for (int i = 0; i < total; i++) {
			int parent = i % n ? fds[i - 1] : roots[i / n];

			fds[i] = kctx_child(parent, 0);
			if (fds[i] < 0)
				die("creating node %d of %d: %s", i % n + 1, n,
				    strerror(errno));
		}
	} else {
		wide_parallel(n, total, true);
	}
	t0 = now_ns();
	for (int t = 0; t < trees; t++)
		check(kctx_cancel(roots[t]), "cancel");
	t1 = now_ns();
	if (chain) {
		for (int i = total - 1; i >= 0; i--)
			close(fds[i]);
	} else {
		wide_parallel(n, total, false);
	}
	for (int t = 0; t < trees; t++)
		close(roots[t]);
	return (double)(t1 - t0) / total;
}

static void shape(const char *name, bool chain, const int *sizes, int nsizes)
{
	int runs = bench_runs;
	double per[nsizes][runs], hi[runs], lo[runs], ratio[runs];
	struct bench_result *r;
	char fig[32], what[96];

	for (int run = 0; run < runs; run++) {
		hi[run] = 0;
		lo[run] = 1e300;
		for (int k = 0; k < nsizes; k++) {
			uint64_t t0 = now_ns();

			per[k][run] = cancel_cost(sizes[k], chain);
			if (per[k][run] > hi[run])
				hi[run] = per[k][run];
			if (per[k][run] < lo[run])
				lo[run] = per[k][run];
			progress("%s N=%d run %d/%d: %.0f ns/node (%.1f s with build and close)",
				 name, sizes[k], run + 1, runs, per[k][run],
				 (now_ns() - t0) / 1e9);
		}
		ratio[run] = hi[run] / lo[run];
	}
	snprintf(fig, sizeof(fig), "4/%s", name);
	snprintf(what, sizeof(what), "per-node cancel cost, %s %d..%d: max vs min",
		 name, sizes[0], sizes[nsizes - 1]);
	r = bench_record(fig, what, "ns/node", hi, lo, ratio, runs, CMP_LE, 2);
	/*
	 * Headline: the per-size medians over the runs, largest / smallest
	 * (a per-run max / min would turn noise into a trend); the spread
	 * stays the per-run ratios.
	 */
	{
		double mhi = 0, mlo = 1e300;

		for (int k = 0; k < nsizes; k++) {
			double m = median_of(per[k], runs);

			mhi = m > mhi ? m : mhi;
			mlo = m < mlo ? m : mlo;
		}
		bench_override(r, mhi, mlo, mhi / mlo);
	}
	bench_detail(r, ", \"min_nodes_per_sample\": %d, \"ns_per_node\": {",
		     MIN_NODES);
	for (int k = 0; k < nsizes; k++)
		bench_detail(r, "%s\"%d\": %.1f", k ? ", " : "", sizes[k],
			     median_of(per[k], runs));
	bench_detail(r, "}");
}

void fig4_scaling(void)
{
	static const int wide[] = { 1000, 10000, 100000, 1000000 };
	static const int chain[] = { 1000, 10000, 100000 };
	int max = 1000000;

	raise_nofile(max + MIN_NODES + 1000);
	raise_node_limit(2L * max);
	fds = calloc(max, sizeof(int));
	if (!fds)
		die("out of memory");
	pin_cpu(0);
	shape("wide", false, wide, 4);
	shape("chain", true, chain, 3);
	free(fds);
	fds = NULL;
}
