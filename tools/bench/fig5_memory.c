// SPDX-License-Identifier: GPL-2.0
/*
 * Figure 5: kernel slab memory per context vs per eventfd.
 *
 * Each measurement shrinks every slab cache (so that it starts from full
 * slabs only), reads /proc/meminfo "Slab:", creates M objects kept open
 * (child contexts of one root, or eventfds), reads "Slab:" again, and
 * divides the delta by M. The object is everything one more context
 * costs the kernel: the node, its file and dentry, and anything else
 * allocated from slab on the way. Runs alternate between the two kinds.
 * Also recorded, from /proc/slabinfo, which caches grew and by how much
 * per object (last run). Ratio = ctxfd bytes / eventfd bytes, <= 1.5.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench.h"

#define MAX_CACHES 512

struct cache {
	char name[64];
	long active;
	long objsize;
};

static int read_slabinfo(struct cache *c)
{
	FILE *f = fopen("/proc/slabinfo", "re");
	char line[512];
	int n = 0;

	if (!f)
		return 0;
	while (n < MAX_CACHES && fgets(line, sizeof(line), f)) {
		long num;

		if (sscanf(line, "%63s %ld %ld %ld", c[n].name, &c[n].active,
			   &num, &c[n].objsize) == 4)
			n++;
	}
	fclose(f);
	return n;
}

/* Append the caches that grew by at least m/2 objects to @r's detail. */
static void slab_breakdown(struct bench_result *r, const char *key,
			   const struct cache *a, int na,
			   const struct cache *b, int nb, long m)
{
	bool first = true;

	bench_detail(r, ", \"%s\": {", key);
	for (int i = 0; i < nb; i++) {
		for (int j = 0; j < na; j++) {
			long d;

			if (strcmp(a[j].name, b[i].name))
				continue;
			d = b[i].active - a[j].active;
			if (d >= m / 2)
				bench_detail(r, "%s\"%s\": {\"objs_per\": %.2f, \"bytes_per\": %.1f}",
					     first ? "" : ", ", b[i].name,
					     (double)d / m,
					     (double)d * b[i].objsize / m);
			if (d >= m / 2)
				first = false;
			break;
		}
	}
	bench_detail(r, "}");
}

static struct cache before_c[MAX_CACHES], after_c[MAX_CACHES];
static struct cache before_e[MAX_CACHES], after_e[MAX_CACHES];
static int nbc, nac, nbe, nae;

/* Bytes of slab per object for @m objects of one kind. */
static double per_object(int m, bool ctxfd, int *fds)
{
	struct cache *b = ctxfd ? before_c : before_e;
	struct cache *a = ctxfd ? after_c : after_e;
	int root = -1, nb, na;
	long s0, s1;

	if (ctxfd)
		root = check(kctx_root(), "root");
	sleep_us(200000);	/* let RCU-deferred frees of the last run land */
	slab_shrink_all();
	nb = read_slabinfo(b);
	s0 = slab_bytes();
	for (int i = 0; i < m; i++)
		fds[i] = ctxfd ? check(kctx_child(root, 0), "create") :
				 check(eventfd(0, EFD_CLOEXEC), "eventfd");
	s1 = slab_bytes();
	na = read_slabinfo(a);
	if (ctxfd) {
		nbc = nb;
		nac = na;
	} else {
		nbe = nb;
		nae = na;
	}
	for (int i = 0; i < m; i++)
		close(fds[i]);
	if (root >= 0)
		close(root);
	return (double)(s1 - s0) / m;
}

void fig5_memory(void)
{
	int m = (int)(100000 * bench_scale), runs = bench_runs;
	double c[runs], e[runs], ratio[runs];
	struct bench_result *r;
	int *fds;

	raise_nofile(m + 1000);
	raise_node_limit(2L * m);
	fds = calloc(m, sizeof(int));
	if (!fds)
		die("out of memory");
	pin_cpu(0);
	for (int run = 0; run < runs; run++) {
		if (run % 2) {
			e[run] = per_object(m, false, fds);
			c[run] = per_object(m, true, fds);
		} else {
			c[run] = per_object(m, true, fds);
			e[run] = per_object(m, false, fds);
		}
		ratio[run] = c[run] / e[run];
		progress("run %d/%d: %d objects: ctxfd %.0f B each, eventfd %.0f B each",
			 run + 1, runs, m, c[run], e[run]);
	}
	free(fds);
	r = bench_record("5", "slab bytes per child context vs per eventfd",
			 "B", c, e, ratio, runs, CMP_LE, 1.5);
	bench_detail(r, ", \"objects\": %d", m);
	slab_breakdown(r, "ctxfd_caches", before_c, nbc, after_c, nac, m);
	slab_breakdown(r, "eventfd_caches", before_e, nbe, after_e, nae, m);
}
