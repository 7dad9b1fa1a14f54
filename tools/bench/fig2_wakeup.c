// SPDX-License-Identifier: GPL-2.0
/*
 * Figure 2: cancel -> wakeup latency of a waiter in another process,
 * vs eventfd write -> wakeup.
 *
 * The parent (pinned to CPU 0) prepares, per round, a child context
 * (cancel-capable fd kept by the parent, a watch-only fd for the waiter)
 * and an eventfd, then forks the waiter (pinned to CPU 1), which polls
 * one fd at a time. For each step the waiter says it is about to poll,
 * the parent waits until it sleeps (state S in /proc/PID/stat, so the
 * wait queue entry is in place), takes t0, then cancels the context or
 * writes the eventfd; the waiter takes t1 as soon as poll() returns.
 * Latency = t1 - t0, both CLOCK_MONOTONIC. ctxfd and eventfd steps
 * alternate, and which comes first alternates per round. Ratio = median
 * ctxfd latency / median eventfd latency (per run), target <= 1.2.
 *
 * Row "2" has the waiter on the other CPU (the wakeup crosses CPUs: an
 * IPI, and under TCG the host must run the other vCPU's thread, which on
 * a busy host costs milliseconds for both mechanisms alike). Row
 * "2/same-cpu" has it on the canceler's CPU: the wakeup path alone,
 * with no second vCPU involved, and far less exposed to host load.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench.h"

/* Step s of a run: is it a ctxfd step, and which round's fd? */
static bool step_is_ctxfd(int s)
{
	int round = s / 2;

	return (s % 2 == 0) == (round % 2 == 0);
}

static void waiter(int cpu, int rounds, const int *watch, const int *efd,
		   int ready, int res)
{
	pin_cpu(cpu);
	for (int s = 0; s < 2 * rounds; s++) {
		int fd = step_is_ctxfd(s) ? watch[s / 2] : efd[s / 2];
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t t1;
		char b = 1;

		xwrite(ready, &b, 1);
		while (poll(&p, 1, -1) != 1)
			if (errno != EINTR)
				die("poll: %s", strerror(errno));
		t1 = now_ns();
		xwrite(res, &t1, sizeof(t1));
	}
	_exit(0);
}

/* One placement of the waiter: on CPU @wcpu (the canceler is on 0). */
static void placement(int wcpu, const char *fig, const char *what)
{
	int rounds = (int)(40 * bench_scale), runs = bench_runs;
	double *c = calloc(runs, sizeof(double));
	double *e = calloc(runs, sizeof(double));
	double *ratio = calloc(runs, sizeof(double));
	double *lc = calloc(rounds, sizeof(double));
	double *le = calloc(rounds, sizeof(double));
	int *cancel = calloc(rounds, sizeof(int));
	int *watch = calloc(rounds, sizeof(int));
	int *efd = calloc(rounds, sizeof(int));
	double *all_c = calloc(rounds * runs, sizeof(double));
	double *all_e = calloc(rounds * runs, sizeof(double));
	struct stats sc, se;
	struct bench_result *r;
	int root;

	if (!c || !e || !ratio || !lc || !le || !cancel || !watch || !efd ||
	    !all_c || !all_e)
		die("out of memory");
	root = check(kctx_root(), "root");

	for (int run = 0; run < runs; run++) {
		int ready[2], res[2];
		pid_t pid;

		for (int i = 0; i < rounds; i++) {
			cancel[i] = check(kctx_child(root, 0), "create");
			watch[i] = check(kctx_watch(cancel[i]), "watch");
			efd[i] = check(eventfd(0, EFD_CLOEXEC), "eventfd");
		}
		check(pipe2(ready, O_CLOEXEC), "pipe");
		check(pipe2(res, O_CLOEXEC), "pipe");
		pid = xfork();
		if (!pid) {
			for (int i = 0; i < rounds; i++)
				close(cancel[i]);
			close(ready[0]);
			close(res[0]);
			waiter(wcpu, rounds, watch, efd, ready[1], res[1]);
		}
		close(ready[1]);
		close(res[1]);
		for (int i = 0; i < rounds; i++)
			close(watch[i]);

		for (int s = 0; s < 2 * rounds; s++) {
			uint64_t t0, t1;
			char b;

			xread(ready[0], &b, 1);
			wait_sleeping(pid);
			t0 = now_ns();
			if (step_is_ctxfd(s)) {
				check(kctx_cancel(cancel[s / 2]), "cancel");
			} else {
				uint64_t one = 1;

				xwrite(efd[s / 2], &one, sizeof(one));
			}
			xread(res[0], &t1, sizeof(t1));
			if (step_is_ctxfd(s))
				lc[s / 2] = (t1 - t0) / 1e3;
			else
				le[s / 2] = (t1 - t0) / 1e3;
		}
		xwait(pid);
		close(ready[0]);
		close(res[0]);
		for (int i = 0; i < rounds; i++) {
			close(cancel[i]);
			close(efd[i]);
		}
		memcpy(all_c + run * rounds, lc, rounds * sizeof(double));
		memcpy(all_e + run * rounds, le, rounds * sizeof(double));
		c[run] = median_of(lc, rounds);
		e[run] = median_of(le, rounds);
		ratio[run] = c[run] / e[run];
		progress("%s run %d/%d: median wakeup ctxfd %.1f us, eventfd %.1f us",
			 fig, run + 1, runs, c[run], e[run]);
	}
	close(root);

	stats_of(all_c, rounds * runs, &sc);
	stats_of(all_e, rounds * runs, &se);
	r = bench_record(fig, what, "us", c, e, ratio, runs, CMP_LE, 1.2);
	bench_detail(r, ", \"rounds_per_run\": %d, \"waiter_cpu\": %d"
		     ", \"ctxfd_us\": {\"min\": %.2f, \"p25\": %.2f, \"median\": %.2f, \"p99\": %.2f}"
		     ", \"eventfd_us\": {\"min\": %.2f, \"p25\": %.2f, \"median\": %.2f, \"p99\": %.2f}",
		     rounds, wcpu, sc.min, sc.p25, sc.median, sc.p99,
		     se.min, se.p25, se.median, se.p99);
	free(c); free(e); free(ratio); free(lc); free(le);
	free(cancel); free(watch); free(efd); free(all_c); free(all_e);
}

void fig2_wakeup(void)
{
	pin_cpu(0);
	placement(1, "2", "cancel -> wakeup, waiter on the other CPU, vs eventfd");
	placement(0, "2/same-cpu", "cancel -> wakeup, waiter on the same CPU, vs eventfd");
}
