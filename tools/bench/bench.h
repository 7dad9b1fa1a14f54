/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxfd-bench: the shared harness of `make bench`.
 *
 * Every figure lives in its own fig*.c file and exports one function that
 * measures ctxfd and its baseline in the same run, repeats the paired
 * measurement, and records one or more result rows. This header gives
 * them: clocks and statistics, CPU pinning and limits, thin wrappers
 * around the ctxfd ioctls, cross-process helpers, progress lines, and the
 * result table (printed and written as JSON by bench.c).
 */
#ifndef CTXFD_BENCH_H
#define CTXFD_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/ctxfd.h>

/* ---- configuration (bench.c) ------------------------------------------ */

/* Paired repetitions of every measurement (CTXFD_BENCH_RUNS, >= 5). */
extern int bench_runs;
/* Scale of iteration counts (CTXFD_BENCH_SCALE, 1.0 = default). */
extern double bench_scale;
/* Number of online CPUs. */
extern int bench_ncpus;

/* ---- time and statistics (bench.c) ------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t now_ns(void);
/* Sleep @us microseconds. */
void sleep_us(long us);

/* Summary of a sample: sorted copy, then median / quantiles / extremes. */
struct stats {
	int n;
	double median;
	double min;
	double max;
	double p25;
	double p75;
	double p99;
	double mean;
};

void stats_of(const double *v, int n, struct stats *st);
/* Median of @n values (does not modify @v). */
double median_of(const double *v, int n);

/* ---- results (bench.c) -------------------------------------------------- */

enum bench_cmp {
	CMP_NONE,	/* no target: reported only */
	CMP_GE,		/* pass if ratio >= target */
	CMP_LE,		/* pass if ratio <= target */
};

/**
 * struct bench_result - one row of the table and of results.json
 * @figure: "1", "3/n=1000", "4/wide" ...
 * @what: a short description
 * @unit: unit of @value and @baseline
 * @value: the ctxfd figure (median over runs)
 * @baseline: what a user would use instead (median over runs)
 * @ratio: as the figure defines it (median of the per-run ratios)
 * @ratio_min, @ratio_max: spread of the per-run ratios
 * @value_spread, @baseline_spread: (max - min) / median over runs, in %
 * @target, @cmp: the target and its direction
 * @pass: the verdict; forced false by @fail_reason
 * @runs: paired repetitions behind the figure
 * @detail: extra JSON members (",\"k\": v" ...), or empty
 * @fail_reason: why the row fails regardless of the ratio, or NULL
 */
struct bench_result {
	char figure[32];
	char what[96];
	char unit[16];
	double value;
	double baseline;
	double ratio;
	double ratio_min;
	double ratio_max;
	double value_spread;
	double baseline_spread;
	double target;
	enum bench_cmp cmp;
	bool pass;
	int runs;
	char detail[2048];
	const char *fail_reason;
};

/*
 * Record a row from per-run paired samples: @vals[i] (ctxfd) and
 * @bases[i] (baseline) were measured in run i, and @ratios[i] is that
 * run's ratio as the figure defines it. The row reports the medians of
 * the three arrays and the spread of each; the verdict compares the
 * median ratio with @target.
 */
struct bench_result *bench_record(const char *figure, const char *what,
				  const char *unit, const double *vals,
				  const double *bases, const double *ratios,
				  int runs, enum bench_cmp cmp, double target);
/*
 * Replace a row's headline figures (when they are not plain medians of
 * the per-run values) and redo the verdict; the spread stays per run.
 */
void bench_override(struct bench_result *r, double value, double baseline,
		    double ratio);
/* Append printf-formatted JSON members to a row's detail. */
void bench_detail(struct bench_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A progress line on stderr: "bench: <fig>: ...". */
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* With CTXFD_BENCH_TRACE set, a line in the ftrace buffer (trace_marker). */
void bench_mark(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Fatal error: print and exit 1. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* ---- system (bench.c) --------------------------------------------------- */

/* Pin the calling thread to @cpu (modulo the CPU count). */
void pin_cpu(int cpu);
/* Raise RLIMIT_NOFILE (and fs.nr_open if needed, as root) to @n. */
/* Write a printf-formatted value into @path (/proc, /sys): 0 or -1. */
int write_file(const char *path, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The number in @path, or -1. */
long read_long_file(const char *path);
void raise_nofile(long n);
/* Raise ctxfd's max_nodes_per_user module parameter to at least @n. */
void raise_node_limit(long n);
/* Read /proc/meminfo's "Slab:" in bytes. */
long slab_bytes(void);
/* Shrink every slab cache (sysfs), so that deltas start from a clean state. */
void slab_shrink_all(void);
/*
 * Keep every CPU busy with a SCHED_IDLE spinner, so that no vCPU halts:
 * under TCG a halted vCPU needs the host to schedule its thread again
 * before it sees an interrupt (milliseconds on a busy host), which would
 * swamp the wakeup latencies we measure. A normal task that wakes up
 * preempts a SCHED_IDLE one at once, and takes nearly all of the CPU from
 * it. Stop them with spinners_stop().
 */
void spinners_start(void);
void spinners_stop(void);
/* Wait until task @pid is sleeping (state S in /proc/PID/stat). */
void wait_sleeping(pid_t pid);
/* Full read/write of @len bytes, dying on failure. */
void xread(int fd, void *buf, size_t len);
void xwrite(int fd, const void *buf, size_t len);
/* Fork, dying on failure. */
pid_t xfork(void);
/* waitpid() for @pid, dying unless it exited 0. */
void xwait(pid_t pid);

/* ---- ctxfd wrappers (bench.c): return the fd or -1 with errno ------------ */

/* /dev/ctxfd, opened once. */
int ctxfd_dev(void);
int kctx_root(void);
int kctx_child(int parent, uint64_t flags);
int kctx_child_timeout(int parent, int64_t ns);
int kctx_cancel(int fd);
int kctx_watch(int fd);
int kctx_info(int fd, struct ctxfd_info *info);

/* Die with a message if @ret < 0. */
int check(int ret, const char *what);

/* ---- figures --------------------------------------------------------------- */

struct figure {
	const char *id;		/* "0" .. "9" */
	const char *name;
	void (*run)(void);
};

void fig0_lateness(void);
void fig1_create(void);
void fig2_wakeup(void);
void fig3_fanout(void);
void fig4_scaling(void);
void fig5_memory(void);
void fig6_threads(void);
void fig7_teardown(void);
/* fig7_teardown.c, also for fig11: see there. */
pid_t teardown_tree(int size);
int teardown_reap(int n);
double teardown_once(bool ctxfd, int size, int *survivors);
void fig8_err(void);
void fig9_merge(void);
void fig10_remote(void);
void fig11_crowded(void);

#endif /* CTXFD_BENCH_H */
