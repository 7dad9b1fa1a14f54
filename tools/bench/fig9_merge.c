// SPDX-License-Identifier: GPL-2.0
/*
 * Figure 9: merged contexts in the kernel (ctx_with_any(), issue 14) vs
 * the same merge built in userspace the Go way (ExampleAfterFunc_merge:
 * a child of ctx1 plus an AfterFunc on ctx2 that cancels the child with
 * ctx2's cause).
 *
 *  - 9/cancel: two parents, 1 000 merged contexts of both; cancel ctx2
 *    and time until all 1 000 are done: for the kernel, the cancel call
 *    itself (they are done when it returns, checked after the clock
 *    stops); for userspace, until the last AfterFunc callback has
 *    canceled its merged context. Runs alternate. Ratio = kernel time /
 *    userspace time, target <= 0.5.
 *  - 9/memory: what one merged context costs: kernel slab for the
 *    kernel's (node, file, two merge links); for userspace's, kernel slab
 *    and kernel stacks plus the process's resident memory, for the child
 *    context and the AfterFunc registration (libctxfd runs one watcher
 *    thread per registration). The detail gives a plain child context's
 *    cost, so that the merge link (merged minus child, per parent) and
 *    the AfterFunc registration (userspace minus child) stand alone;
 *    10 000 of each per sample.
 *    Ratio = kernel bytes / userspace bytes; reported only.
 *
 * Needs libctxfd (built when lib/ctxfd.h exists); without it the figure
 * says so and records nothing.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#ifdef HAVE_LIBCTXFD
#include <ctxfd.h>

#define NR_MERGED 1000
/* Merged contexts per memory sample: slab is counted in kB. */
#define NR_MEM 10000

struct parents {
	ctx_t *ctx[2];
	ctx_cancel_t *cancel[2];
};

/* Userspace's merged context: a child of ctx1, and an AfterFunc on ctx2. */
struct umerge {
	ctx_t *ctx;
	ctx_cancel_t *cancel;
	ctx_stop_t *stop;
	ctx_t *other;
};

static pthread_mutex_t fired_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fired_cond = PTHREAD_COND_INITIALIZER;
static int fired;

/* Go's func() { mergedCancel(context.Cause(ctx2)) }. */
static void merge_after(void *arg)
{
	struct umerge *u = arg;
	char msg[CTX_CAUSE_MSG_MAX + 1];
	int code;

	ctx_cause(u->other, &code, msg, sizeof(msg));
	ctx_cancel_cause(u->cancel, code, msg);
	pthread_mutex_lock(&fired_lock);
	if (++fired == NR_MERGED)
		pthread_cond_signal(&fired_cond);
	pthread_mutex_unlock(&fired_lock);
}

static void parents_new(struct parents *p)
{
	for (int i = 0; i < 2; i++)
		if (ctx_with_cancel_cause(ctx_background(), &p->ctx[i],
					  &p->cancel[i]))
			die("ctx_with_cancel_cause: %s", ctx_last_error());
}

static void parents_release(struct parents *p)
{
	for (int i = 0; i < 2; i++) {
		ctx_cancel_release(p->cancel[i]);
		ctx_release(p->ctx[i]);
	}
}

static void kmerge_build(struct parents *p, ctx_t **m, ctx_cancel_t **mc,
			 int n)
{
	for (int i = 0; i < n; i++)
		if (ctx_with_any(p->ctx, 2, &m[i], &mc[i]))
			die("ctx_with_any: %s", ctx_last_error());
}

static void kmerge_release(ctx_t **m, ctx_cancel_t **mc, int n)
{
	for (int i = 0; i < n; i++) {
		ctx_cancel_release(mc[i]);
		ctx_release(m[i]);
	}
}

static void umerge_build(struct parents *p, struct umerge *u, int n)
{
	fired = 0;
	for (int i = 0; i < n; i++) {
		u[i].other = p->ctx[1];
		if (ctx_with_cancel_cause(p->ctx[0], &u[i].ctx, &u[i].cancel) ||
		    ctx_after_func(p->ctx[1], merge_after, &u[i], &u[i].stop))
			die("userspace merge: %s", ctx_last_error());
	}
}

static void umerge_release(struct umerge *u, int n)
{
	for (int i = 0; i < n; i++) {
		ctx_stop(u[i].stop);
		ctx_stop_release(u[i].stop);
		ctx_cancel_release(u[i].cancel);
		ctx_release(u[i].ctx);
	}
}

/* ns until all NR_MERGED kernel-merged contexts are done. */
static double kernel_cancel(void)
{
	static ctx_t *m[NR_MERGED];
	static ctx_cancel_t *mc[NR_MERGED];
	struct parents p;
	uint64_t t0, t1;

	parents_new(&p);
	kmerge_build(&p, m, mc, NR_MERGED);
	t0 = now_ns();
	ctx_cancel_cause(p.cancel[1], 2, "ctx2 canceled");
	t1 = now_ns();
	for (int i = 0; i < NR_MERGED; i++)
		if (ctx_err(m[i]) != CTX_CANCELED)
			die("merged context %d not done after the cancel", i);
	kmerge_release(m, mc, NR_MERGED);
	parents_release(&p);
	return (double)(t1 - t0);
}

/* ns until all NR_MERGED AfterFunc merges are done. */
static double user_cancel(void)
{
	static struct umerge u[NR_MERGED];
	struct parents p;
	uint64_t t0, t1;

	parents_new(&p);
	umerge_build(&p, u, NR_MERGED);
	t0 = now_ns();
	ctx_cancel_cause(p.cancel[1], 2, "ctx2 canceled");
	pthread_mutex_lock(&fired_lock);
	while (fired < NR_MERGED)
		pthread_cond_wait(&fired_cond, &fired_lock);
	pthread_mutex_unlock(&fired_lock);
	t1 = now_ns();
	for (int i = 0; i < NR_MERGED; i++)
		if (ctx_err(u[i].ctx) != CTX_CANCELED)
			die("userspace merge %d not done", i);
	umerge_release(u, NR_MERGED);
	parents_release(&p);
	return (double)(t1 - t0);
}

static long meminfo_kb(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "re");
	size_t len = strlen(key);
	char line[256];
	long kb = 0;

	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':') {
			kb = atol(line + len + 1);
			break;
		}
	fclose(f);
	return kb;
}

/* Kernel slab and stacks plus our resident memory, in bytes. */
static long mem_now(bool user)
{
	long bytes = slab_bytes();
	long pages = 0, rss = 0;
	FILE *f;

	if (!user)
		return bytes;
	bytes += meminfo_kb("KernelStack") * 1024;
	f = fopen("/proc/self/statm", "re");
	if (f && fscanf(f, "%ld %ld", &pages, &rss) == 2)
		bytes += rss * sysconf(_SC_PAGESIZE);
	if (f)
		fclose(f);
	return bytes;
}

enum mkind { M_KERNEL, M_USER, M_CHILD };

/* Bytes per merged context (or plain child) of kind @k. */
static double bytes_per(enum mkind k)
{
	static ctx_t *m[NR_MEM];
	static ctx_cancel_t *mc[NR_MEM];
	static struct umerge u[NR_MEM];
	struct parents p;
	long before, after;

	parents_new(&p);
	slab_shrink_all();
	before = mem_now(k == M_USER);
	switch (k) {
	case M_KERNEL:
		kmerge_build(&p, m, mc, NR_MEM);
		break;
	case M_USER:
		umerge_build(&p, u, NR_MEM);
		break;
	case M_CHILD:
		for (int i = 0; i < NR_MEM; i++)
			if (ctx_with_cancel(p.ctx[0], &m[i], &mc[i]))
				die("ctx_with_cancel: %s", ctx_last_error());
		break;
	}
	after = mem_now(k == M_USER);
	if (k == M_USER)
		umerge_release(u, NR_MEM);
	else
		kmerge_release(m, mc, NR_MEM);
	parents_release(&p);
	return (double)(after - before) / NR_MEM;
}

void fig9_merge(void)
{
	int runs = bench_runs;
	double k[runs], us[runs], ratio[runs];
	double km[runs], um[runs], cm[runs], mratio[runs];
	struct bench_result *r;

	raise_nofile(4 * NR_MEM + 256);
	pin_cpu(0);
	kernel_cancel();	/* warm up */
	user_cancel();
	for (int run = 0; run < runs; run++) {
		if (run % 2) {
			us[run] = user_cancel();
			k[run] = kernel_cancel();
		} else {
			k[run] = kernel_cancel();
			us[run] = user_cancel();
		}
		k[run] /= 1e3;
		us[run] /= 1e3;
		ratio[run] = k[run] / us[run];
		progress("run %d/%d: cancel reaching %d merged contexts: kernel %.0f us, AfterFunc %.0f us",
			 run + 1, runs, NR_MERGED, k[run], us[run]);
	}
	r = bench_record("9/cancel",
			 "cancel reaching 1000 merged ctxs vs AfterFunc merges",
			 "us", k, us, ratio, runs, CMP_LE, 0.5);

	for (int run = 0; run < runs; run++) {
		km[run] = bytes_per(M_KERNEL);
		um[run] = bytes_per(M_USER);
		cm[run] = bytes_per(M_CHILD);
		mratio[run] = km[run] / um[run];
		progress("run %d/%d: bytes per merged context: kernel %.0f, AfterFunc merge %.0f (plain child %.0f)",
			 run + 1, runs, km[run], um[run], cm[run]);
	}
	r = bench_record("9/memory",
			 "bytes per merged ctx: kernel vs child + AfterFunc",
			 "B", km, um, mratio, runs, CMP_NONE, 0);
	bench_detail(r, ", \"child_bytes\": %.0f, \"merge_link_bytes\": %.0f, \"after_func_bytes\": %.0f",
		     median_of(cm, runs),
		     (median_of(km, runs) - median_of(cm, runs)) / 2,
		     median_of(um, runs) - median_of(cm, runs));
}

#else /* !HAVE_LIBCTXFD */

void fig9_merge(void)
{
	progress("figure 9 needs libctxfd (lib/ctxfd.h): skipped");
}

#endif
