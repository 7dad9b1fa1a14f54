// SPDX-License-Identifier: GPL-2.0
/*
 * Figure 4: per-node cancel cost must stay flat as trees grow.
 *
 * Wide trees: a root with N children, N = 1 000 ... 1 000 000. Chains:
 * a root with a chain of N descendants, N = 1 000 ... 100 000. Every
 * node keeps its fd open (a node without fd or descendant is freed at
 * once). Time = the one CTXFD_IOC_CANCEL on the root (made by the main
 * thread, pinned to CPU 0), which returns once
 * every node is done and woken; per-node cost = time / N.
 *
 * Every run measures every size once (sizes interleaved, so drift hits
 * them alike). Ratio of a run = its largest per-node cost / its smallest
 * per-node cost over the sizes of one shape; target <= 2. The "ctxfd"
 * column is the largest per-node cost and the "baseline" column the
 * smallest (ns per node): this figure compares ctxfd with itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static int *fds;

/*
 * Building and closing a million fds is most of this figure's run time,
 * so wide trees are built and closed by one thread per CPU (each on its
 * own slice of the children); the timed cancel is one ioctl either way.
 */
struct slice {
	pthread_t th;
	int root;
	int from, to;
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
		fds[i] = kctx_child(s->root, 0);
		if (fds[i] < 0)
			die("creating node %d: %s", i + 1, strerror(errno));
	}
	return NULL;
}

static void wide_parallel(int root, int n, bool create)
{
	int nth = bench_ncpus > 1 ? 2 : 1;
	struct slice s[2];

	for (int t = 0; t < nth; t++) {
		s[t] = (struct slice){ .root = root, .from = n / nth * t,
				       .to = t == nth - 1 ? n : n / nth * (t + 1),
				       .cpu = t, .create = create };
		if (pthread_create(&s[t].th, NULL, slice_work, &s[t]))
			die("pthread_create");
	}
	for (int t = 0; t < nth; t++)
		pthread_join(s[t].th, NULL);
}

/* Build, cancel, tear down; return the cancel time per node in ns. */
static double cancel_cost(int n, bool chain)
{
	uint64_t t0, t1;
	int root, parent;

	root = check(kctx_root(), "root");
	parent = root;
	if (chain) {
		for (int i = 0; i < n; i++) {
			fds[i] = kctx_child(parent, 0);
			if (fds[i] < 0)
				die("creating node %d of %d: %s", i + 1, n,
				    strerror(errno));
			parent = fds[i];
		}
	} else {
		wide_parallel(root, n, true);
	}
	t0 = now_ns();
	check(kctx_cancel(root), "cancel");
	t1 = now_ns();
	if (chain) {
		for (int i = n - 1; i >= 0; i--)
			close(fds[i]);
	} else {
		wide_parallel(root, n, false);
	}
	close(root);
	return (double)(t1 - t0) / n;
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
	bench_detail(r, ", \"ns_per_node\": {");
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

	raise_nofile(max + 1000);
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
