// SPDX-License-Identifier: GPL-2.0
/*
 * ctxfd-bench: the harness and main() of `make bench`.
 *
 *   ctxfd-bench [--json FILE] [FIGURE]...
 *
 * Runs the figures (all, or those named: "0" .. "10"), prints a progress
 * line per measurement on stderr, then the table on stdout, and writes
 * the rows as JSON to FILE. Meant to run as root inside the VM
 * (tools/bench/run); as a normal user the figures that need root
 * (limits, slab shrinking) do what they can.
 *
 * Environment: CTXFD_BENCH_RUNS (paired repetitions, default 5, at
 * least 5 for a valid run), CTXFD_BENCH_SCALE (multiplies iteration
 * counts and sizes where that is meaningful, default 1),
 * CTXFD_BENCH_NOTE (free text stored in the JSON, e.g. the host load),
 * CTXFD_BENCH_TRACE (write marks to the ftrace buffer) and
 * CTXFD_BENCH_ONLY (figure 1: one variant alone, for profiling).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

int bench_runs = 5;
double bench_scale = 1.0;
int bench_ncpus = 1;
static double clock_cost_ns;

static const struct figure figures[] = {
	{ "0", "deadline lateness vs timerfd", fig0_lateness },
	{ "1", "create + close vs eventfd", fig1_create },
	{ "2", "cancel -> wakeup vs eventfd write", fig2_wakeup },
	{ "3", "fan-out to N epoll watchers vs N eventfd writes", fig3_fanout },
	{ "4", "per-node cancel cost: wide trees and chains", fig4_scaling },
	{ "5", "slab bytes per context vs per eventfd", fig5_memory },
	{ "6", "two trees on two threads vs one", fig6_threads },
	{ "7", "1000-process teardown vs kill -PGID", fig7_teardown },
	{ "8", "ctx_err() / done-check vs eventfd read", fig8_err },
	{ "9", "cancel reaching 1000 merged ctxs vs AfterFunc", fig9_merge },
	{ "10", "remote cancel -> wakeup on another host vs etcd put -> watch", fig10_remote },
	{ "11", "10-process teardown among 20000 processes vs kill -PGID; memory per attachment", fig11_crowded },
};
#define NR_FIGURES (sizeof(figures) / sizeof(figures[0]))

#define MAX_RESULTS 64
static struct bench_result results[MAX_RESULTS];
static int nr_results;
static const char *current_figure = "-";

/* ---- time and statistics ------------------------------------------------ */

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Quantile @q of sorted @v by linear interpolation. */
static double quantile(const double *v, int n, double q)
{
	double pos = q * (n - 1);
	int i = (int)pos;

	if (i >= n - 1)
		return v[n - 1];
	return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

void stats_of(const double *v, int n, struct stats *st)
{
	double *s, sum = 0;
	int i;

	memset(st, 0, sizeof(*st));
	st->n = n;
	if (n <= 0)
		return;
	s = malloc(n * sizeof(*s));
	if (!s)
		die("out of memory");
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	for (i = 0; i < n; i++)
		sum += s[i];
	st->min = s[0];
	st->max = s[n - 1];
	st->median = quantile(s, n, 0.5);
	st->p25 = quantile(s, n, 0.25);
	st->p75 = quantile(s, n, 0.75);
	st->p99 = quantile(s, n, 0.99);
	st->mean = sum / n;
	free(s);
}

double median_of(const double *v, int n)
{
	struct stats st;

	stats_of(v, n, &st);
	return st.median;
}

/* ---- messages ------------------------------------------------------------- */

void progress(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench: [%s] ", current_figure);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench: [%s] error: ", current_figure);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

int check(int ret, const char *what)
{
	if (ret < 0)
		die("%s: %s", what, strerror(errno));
	return ret;
}

static int trace_fd = -1;

void bench_mark(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int len;

	if (trace_fd < 0)
		return;
	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (len > 0 && write(trace_fd, buf, len) < 0)
		trace_fd = -1;
}

/* ---- results --------------------------------------------------------------- */

static double spread_pct(const double *v, int n)
{
	struct stats st;

	stats_of(v, n, &st);
	return st.median ? 100.0 * (st.max - st.min) / fabs(st.median) : 0;
}

struct bench_result *bench_record(const char *figure, const char *what,
				  const char *unit, const double *vals,
				  const double *bases, const double *ratios,
				  int runs, enum bench_cmp cmp, double target)
{
	struct bench_result *r;
	struct stats st;

	if (nr_results == MAX_RESULTS)
		die("too many results");
	r = &results[nr_results++];
	memset(r, 0, sizeof(*r));
	snprintf(r->figure, sizeof(r->figure), "%s", figure);
	snprintf(r->what, sizeof(r->what), "%s", what);
	snprintf(r->unit, sizeof(r->unit), "%s", unit);
	r->runs = runs;
	r->value = median_of(vals, runs);
	r->baseline = median_of(bases, runs);
	stats_of(ratios, runs, &st);
	r->ratio = st.median;
	r->ratio_min = st.min;
	r->ratio_max = st.max;
	r->value_spread = spread_pct(vals, runs);
	r->baseline_spread = spread_pct(bases, runs);
	r->cmp = cmp;
	r->target = target;
	r->pass = cmp == CMP_NONE ||
		  (cmp == CMP_GE && r->ratio >= target) ||
		  (cmp == CMP_LE && r->ratio <= target);
	progress("%s: ctxfd %.4g %s, baseline %.4g %s, ratio %.3f [%.3f .. %.3f]",
		 r->figure, r->value, unit, r->baseline, unit, r->ratio,
		 r->ratio_min, r->ratio_max);
	return r;
}

void bench_override(struct bench_result *r, double value, double baseline,
		    double ratio)
{
	r->value = value;
	r->baseline = baseline;
	r->ratio = ratio;
	r->pass = r->cmp == CMP_NONE ||
		  (r->cmp == CMP_GE && ratio >= r->target) ||
		  (r->cmp == CMP_LE && ratio <= r->target);
	progress("%s: headline ctxfd %.4g %s, baseline %.4g %s, ratio %.3f",
		 r->figure, value, r->unit, baseline, r->unit, ratio);
}

/* Replace non-finite numbers printed as values ("nan", "-inf") by null. */
static void json_fix_nonfinite(char *s)
{
	static const char *const bad[] = { "-nan", "nan", "-inf", "inf" };
	char *p = s;

	while ((p = strstr(p, ": "))) {
		p += 2;
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			size_t n = strlen(bad[i]);

			if (!strncmp(p, bad[i], n)) {
				memmove(p + 4, p + n, strlen(p + n) + 1);
				memcpy(p, "null", 4);
				break;
			}
		}
	}
}

void bench_detail(struct bench_result *r, const char *fmt, ...)
{
	size_t len = strlen(r->detail);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->detail + len, sizeof(r->detail) - len, fmt, ap);
	va_end(ap);
	json_fix_nonfinite(r->detail + len);
}

static const char *target_str(const struct bench_result *r, char *buf,
			      size_t len)
{
	switch (r->cmp) {
	case CMP_GE:
		snprintf(buf, len, ">= %g", r->target);
		break;
	case CMP_LE:
		snprintf(buf, len, "<= %g", r->target);
		break;
	default:
		snprintf(buf, len, "-");
	}
	return buf;
}

static const char *verdict(const struct bench_result *r)
{
	if (r->cmp == CMP_NONE)
		return "-";
	if (r->fail_reason)
		return "FAIL*";
	return r->pass ? "pass" : "FAIL";
}

static void print_table(void)
{
	char tbuf[32];
	int i;

	printf("\n%-10s %-44s %-6s %12s %12s %8s %-17s %-7s %s\n", "figure",
	       "what", "unit", "ctxfd", "baseline", "ratio", "ratio min..max",
	       "target", "pass");
	for (i = 0; i < nr_results; i++) {
		const struct bench_result *r = &results[i];
		char range[32];

		snprintf(range, sizeof(range), "%.3f..%.3f", r->ratio_min,
			 r->ratio_max);
		printf("%-10s %-44.44s %-6s %12.4g %12.4g %8.3f %-17s %-7s %s\n",
		       r->figure, r->what, r->unit, r->value, r->baseline,
		       r->ratio, range, target_str(r, tbuf, sizeof(tbuf)),
		       verdict(r));
		if (r->fail_reason)
			printf("%-10s   * %s\n", "", r->fail_reason);
	}
	fflush(stdout);
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_number(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.6g", v);
	else
		fputs("null", f);
}

static void write_json(const char *path, double secs)
{
	struct utsname u;
	char tbuf[32];
	const char *note = getenv("CTXFD_BENCH_NOTE");
	FILE *f;
	int i;

	f = fopen(path, "w");
	if (!f)
		die("%s: %s", path, strerror(errno));
	uname(&u);
	fprintf(f, "{\n  \"kernel\": ");
	json_string(f, u.release);
	fprintf(f, ",\n  \"cpus\": %d,\n  \"runs\": %d,\n  \"scale\": %g,\n"
		"  \"seconds\": %.1f,\n  \"clock_gettime_ns\": %.0f,\n"
		"  \"note\": ", bench_ncpus, bench_runs, bench_scale, secs,
		clock_cost_ns);
	json_string(f, note ? note : "");
	fprintf(f, ",\n  \"figures\": [\n");
	for (i = 0; i < nr_results; i++) {
		const struct bench_result *r = &results[i];

		fprintf(f, "    {\"figure\": ");
		json_string(f, r->figure);
		fprintf(f, ", \"what\": ");
		json_string(f, r->what);
		fprintf(f, ", \"unit\": ");
		json_string(f, r->unit);
		fprintf(f, ", \"value\": ");
		json_number(f, r->value);
		fprintf(f, ", \"baseline\": ");
		json_number(f, r->baseline);
		fprintf(f, ", \"ratio\": ");
		json_number(f, r->ratio);
		fprintf(f, ", \"target\": ");
		if (r->cmp == CMP_NONE)
			fputs("null", f);
		else
			json_string(f, target_str(r, tbuf, sizeof(tbuf)));
		fprintf(f, ", \"pass\": %s",
			r->cmp == CMP_NONE ? "null" :
			(r->pass && !r->fail_reason) ? "true" : "false");
		fprintf(f, ",\n     \"runs\": %d, \"ratio_min\": ", r->runs);
		json_number(f, r->ratio_min);
		fprintf(f, ", \"ratio_max\": ");
		json_number(f, r->ratio_max);
		fprintf(f, ", \"value_spread_pct\": ");
		json_number(f, r->value_spread);
		fprintf(f, ", \"baseline_spread_pct\": ");
		json_number(f, r->baseline_spread);
		if (r->fail_reason) {
			fprintf(f, ", \"fail_reason\": ");
			json_string(f, r->fail_reason);
		}
		fprintf(f, "%s}%s\n", r->detail, i + 1 < nr_results ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	if (fclose(f))
		die("%s: %s", path, strerror(errno));
}

/* ---- system ------------------------------------------------------------------- */

void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % bench_ncpus, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity(%d): %s", cpu, strerror(errno));
}

int write_file(const char *path, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	int fd, len, ret = 0;

	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, buf, len) != len)
		ret = -1;
	close(fd);
	return ret;
}

long read_long_file(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 10);
}

void raise_nofile(long n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit: %s", strerror(errno));
	if ((long)rl.rlim_cur >= n)
		return;
	if (read_long_file("/proc/sys/fs/nr_open") < n)
		write_file("/proc/sys/fs/nr_open", "%ld", n);
	rl.rlim_cur = n;
	if ((long)rl.rlim_max < n)
		rl.rlim_max = n;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("cannot raise RLIMIT_NOFILE to %ld (root needed): %s", n,
		    strerror(errno));
}

void raise_node_limit(long n)
{
	const char *p = "/sys/module/ctxfd/parameters/max_nodes_per_user";
	long cur = read_long_file(p);

	if (cur >= n)
		return;
	if (write_file(p, "%ld", n))
		die("cannot raise %s to %ld (root needed): %s", p, n,
		    strerror(errno));
}

long slab_bytes(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	long kb = -1;

	if (!f)
		die("/proc/meminfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %ld kB", &kb) == 1)
			break;
	fclose(f);
	if (kb < 0)
		die("no Slab line in /proc/meminfo");
	return kb * 1024;
}

void slab_shrink_all(void)
{
	DIR *d = opendir("/sys/kernel/slab");
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink",
			 e->d_name);
		write_file(path, "1");
	}
	closedir(d);
}

void wait_sleeping(pid_t pid)
{
	char path[64], buf[512], *p;
	int fd, spins = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	for (;;) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			die("%s: %s", path, strerror(errno));
		buf[n] = 0;
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'S')
			break;
		if (p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
			die("process %d died", pid);
		if (++spins > 100)
			sched_yield();
	}
	close(fd);
}

/* PIDs of the spinners of spinners_start(), 0 if none. */
static pid_t spinner_pids[64];

void spinners_start(void)
{
	struct sched_param sp = { 0 };

	for (int cpu = 0; cpu < bench_ncpus && cpu < 64; cpu++) {
		pid_t pid = xfork();

		if (!pid) {
			pin_cpu(cpu);
			if (sched_setscheduler(0, SCHED_IDLE, &sp))
				_exit(1);
			for (;;)
				;
		}
		spinner_pids[cpu] = pid;
	}
}

void spinners_stop(void)
{
	for (int cpu = 0; cpu < 64; cpu++) {
		if (!spinner_pids[cpu])
			continue;
		kill(spinner_pids[cpu], SIGKILL);
		waitpid(spinner_pids[cpu], NULL, 0);
		spinner_pids[cpu] = 0;
	}
}

void xread(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("read: %s", n ? strerror(errno) : "end of file");
		p += n;
		len -= n;
	}
}

void xwrite(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write: %s", strerror(errno));
		p += n;
		len -= n;
	}
}

pid_t xfork(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	return pid;
}

void xwait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid(%d): %s", pid, strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die("child %d failed (status %#x)", pid, status);
}

/* ---- ctxfd wrappers ------------------------------------------------------- */

int ctxfd_dev(void)
{
	static int dev = -1;

	if (dev < 0) {
		dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
		if (dev < 0)
			die("%s: %s (is ctxfd.ko loaded?)", CTXFD_DEVICE,
			    strerror(errno));
	}
	return dev;
}

int kctx_root(void)
{
	struct ctxfd_create args = { 0 };

	return ioctl(ctxfd_dev(), CTXFD_IOC_NEW, &args);
}

int kctx_child(int parent, uint64_t flags)
{
	struct ctxfd_create args = { .flags = flags };

	return ioctl(parent, CTXFD_IOC_CREATE, &args);
}

int kctx_child_timeout(int parent, int64_t ns)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_TIMEOUT,
		.deadline_ns = ns,
		.clockid = CLOCK_MONOTONIC,
	};

	return ioctl(parent, CTXFD_IOC_CREATE, &args);
}

int kctx_cancel(int fd)
{
	struct ctxfd_cancel args = { 0 };

	return ioctl(fd, CTXFD_IOC_CANCEL, &args);
}

int kctx_watch(int fd)
{
	struct ctxfd_watch args = { 0 };

	return ioctl(fd, CTXFD_IOC_WATCH, &args);
}

int kctx_info(int fd, struct ctxfd_info *info)
{
	return ioctl(fd, CTXFD_IOC_INFO, info);
}

/* ---- the host's speed ------------------------------------------------------------ */

/*
 * The host of this VM may run it at half speed for minutes, with no load
 * and no steal visible from the host's /proc/stat (Documentation/
 * bench.rst, "What the numbers are worth"). A figure whose ratio mixes
 * different kinds of work can move with it, so each figure is bracketed
 * by a probe of every CPU: a fixed loop of integer work, best of three,
 * in millions of iterations a second.
 */
#define SPEED_ITERS	(1 << 20)
#define SPEED_TRIES	3

/* Beyond this move (percent), a figure is flagged (CTXFD_BENCH_DRIFT). */
static double speed_drift_pct = 15.0;

static uint64_t speed_sink;	/* keeps the loop's result alive */

static double speed_probe_here(void)
{
	double best = 0;

	for (int t = 0; t < SPEED_TRIES; t++) {
		uint64_t x = t, t0 = now_ns(), dt;

		for (long i = 0; i < SPEED_ITERS; i++)
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		speed_sink += x;
		dt = now_ns() - t0;
		if (dt && SPEED_ITERS * 1e3 / dt > best)
			best = SPEED_ITERS * 1e3 / dt;
	}
	return best;
}

/* Probe CPUs 0 and 1 into @speed (0: no such CPU). */
static void speed_probe(double speed[2])
{
	cpu_set_t saved;

	if (sched_getaffinity(0, sizeof(saved), &saved))
		die("sched_getaffinity: %s", strerror(errno));
	for (int c = 0; c < 2; c++) {
		speed[c] = 0;
		if (c >= bench_ncpus)
			continue;
		pin_cpu(c);
		speed[c] = speed_probe_here();
	}
	if (sched_setaffinity(0, sizeof(saved), &saved))
		die("sched_setaffinity: %s", strerror(errno));
}

/*
 * After a figure: how far the host's speed moved between the probes
 * before and after it (the largest move of any CPU, in percent), said,
 * and recorded in each of the figure's rows from @first on.
 */
static void speed_record(const double before[2], int first)
{
	double after[2], drift = 0;

	speed_probe(after);
	for (int c = 0; c < 2; c++) {
		double d;

		if (!before[c] || !after[c])
			continue;
		d = 100.0 * (after[c] / before[c] - 1);
		if (fabs(d) > fabs(drift))
			drift = d;
	}
	progress("host speed: %.0f/%.0f before, %.0f/%.0f after (M it/s, CPU 0/1): moved %+.0f%%%s",
		 before[0], before[1], after[0], after[1], drift,
		 fabs(drift) > speed_drift_pct ?
		 "; WARNING: the host changed speed during this figure" : "");
	for (int i = first; i < nr_results; i++)
		bench_detail(&results[i], ", \"host_speed\": {"
			     "\"before\": [%.1f, %.1f], "
			     "\"after\": [%.1f, %.1f], \"drift_pct\": %.1f}",
			     before[0], before[1], after[0], after[1], drift);
}

/* ---- main -------------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: ctxfd-bench [--json FILE] [FIGURE]...\n"
		"figures:\n");
	for (size_t i = 0; i < NR_FIGURES; i++)
		fprintf(stderr, "  %s  %s\n", figures[i].id, figures[i].name);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *json = NULL, *env;
	bool want[NR_FIGURES] = { false }, any = false;
	uint64_t start;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") && i + 1 < argc) {
			json = argv[++i];
			continue;
		}
		if (argv[i][0] == '-')
			usage();
		for (size_t j = 0; j < NR_FIGURES; j++) {
			if (!strcmp(argv[i], figures[j].id)) {
				want[j] = true;
				any = true;
				break;
			}
			if (j + 1 == NR_FIGURES)
				usage();
		}
	}

	env = getenv("CTXFD_BENCH_RUNS");
	if (env && *env)
		bench_runs = atoi(env);
	if (bench_runs < 1)
		bench_runs = 1;
	env = getenv("CTXFD_BENCH_SCALE");
	if (env && *env)
		bench_scale = atof(env);
	if (bench_scale <= 0)
		bench_scale = 1;
	env = getenv("CTXFD_BENCH_DRIFT");
	if (env && *env && atof(env) > 0)
		speed_drift_pct = atof(env);
	bench_ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (bench_ncpus < 1)
		bench_ncpus = 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	ctxfd_dev();
	env = getenv("CTXFD_BENCH_TRACE");
	if (env && *env)
		trace_fd = open("/sys/kernel/tracing/trace_marker",
				O_WRONLY | O_CLOEXEC);

	start = now_ns();
	for (i = 0; i < 1000; i++)
		now_ns();
	clock_cost_ns = (now_ns() - start) / 1000.0;
	start = now_ns();
	progress("clock_gettime(CLOCK_MONOTONIC) costs %.0f ns here", clock_cost_ns);
	progress("%d CPUs, %d runs per figure, scale %g%s", bench_ncpus,
		 bench_runs, bench_scale,
		 bench_runs < 5 ? " (fewer than 5 runs: not a valid result)" :
		 "");
	for (size_t j = 0; j < NR_FIGURES; j++) {
		double speed[2];
		int first = nr_results;
		uint64_t t0;

		if (any && !want[j])
			continue;
		current_figure = figures[j].id;
		progress("%s", figures[j].name);
		speed_probe(speed);
		t0 = now_ns();
		figures[j].run();
		progress("done in %.1f s", (now_ns() - t0) / 1e9);
		speed_record(speed, first);
	}
	current_figure = "-";
	print_table();
	if (json) {
		write_json(json, (now_ns() - start) / 1e9);
		progress("results written to %s", json);
	}
	/* Missed targets are results, not failures of the run. */
	return 0;
}
