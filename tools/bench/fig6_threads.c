// SPDX-License-Identifier: GPL-2.0
/*
 * Figure 6: two independent trees driven by two threads vs one thread.
 *
 * A worker owns a root and loops: create a child, cancel it, close it.
 * Two workers (pinned to CPU 0 and CPU 1, each on its own root, threads
 * of one process) run through alternating phases: worker 0 alone, then
 * both, each phase a short slice, order rotating, many rounds per run
 * (a host that preempts the VM spoils one slice, not the run). Scaling
 * of a round = ops/s with both / ops/s with worker 0 alone; a run reports
 * the median of its rounds.
 *
 * Row "6": threads. Threads of one process share the fd table, and every
 * anon-inode file takes the lock of the one shared anon inode: eventfd
 * meets the same VFS limits. So the row is ctxfd's two-thread scaling
 * over eventfd's, measured in the same run: target >= 0.95 (trees share
 * no lock, so ctxfd should scale as well as the VFS lets anything).
 * Row "6/processes": two processes (no shared fd table), ctxfd's own
 * scaling, target >= 1.7.
 *
 * SCHED_IDLE spinners keep both vCPUs busy in both phases, so that the
 * host (which shares its CPUs among threads) gives the VM the same CPU in
 * both; otherwise two busy vCPUs get more than twice one on a busy host.
 *
 * The eventfd reference: create + write + close on two threads, same
 * scheme: what this machine (two vCPUs, TCG on a shared host) lets any
 * such loop scale to.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

#define ROUNDS 10

enum phase { PH_SETUP, PH_ONE, PH_TWO, PH_QUIT };

struct shared {
	atomic_int phase;
	atomic_int ready;
	struct {
		atomic_long ops;
		char pad[56];
	} cnt[2];
};

enum kind { K_CTXFD_THREADS, K_CTXFD_PROCESSES, K_EVENTFD_THREADS, NR_KINDS };

struct worker {
	struct shared *sh;
	int id;
	bool ctxfd;
};

static void one_op(bool ctxfd, int root)
{
	int fd;

	if (ctxfd) {
		fd = check(kctx_child(root, 0), "create");
		check(kctx_cancel(fd), "cancel");
	} else {
		uint64_t one = 1;

		fd = check(eventfd(0, EFD_CLOEXEC), "eventfd");
		if (write(fd, &one, sizeof(one)) != sizeof(one))
			die("eventfd write");
	}
	close(fd);
}

/*
 * A worker with nothing to do sleeps until the phase changes. It must
 * not poll: a sleep loop on one CPU wakes the VM thousands of times a
 * second, and under TCG those wakeups take host CPU from the other vCPU,
 * which is measuring the one-worker phase.
 */
static void phase_wait(struct shared *sh, int p)
{
	/* Shared (not private): the workers may be processes. */
	syscall(SYS_futex, &sh->phase, FUTEX_WAIT, p, NULL, NULL, 0);
}

static void phase_set(struct shared *sh, enum phase p)
{
	atomic_store(&sh->phase, p);
	syscall(SYS_futex, &sh->phase, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static void *worker(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	int root = -1;
	long ops = 0;

	pin_cpu(w->id);
	if (w->ctxfd)
		root = check(kctx_root(), "root");
	atomic_fetch_add(&sh->ready, 1);
	for (;;) {
		int p = atomic_load_explicit(&sh->phase, memory_order_relaxed);

		if (p == PH_QUIT)
			break;
		if (p == PH_SETUP || (p == PH_ONE && w->id == 1)) {
			phase_wait(sh, p);
			continue;
		}
		one_op(w->ctxfd, root);
		atomic_store_explicit(&sh->cnt[w->id].ops, ++ops,
				      memory_order_relaxed);
	}
	if (root >= 0)
		close(root);
	return NULL;
}

static long total_ops(struct shared *sh)
{
	return atomic_load(&sh->cnt[0].ops) + atomic_load(&sh->cnt[1].ops);
}

/* ops/s of one phase of @slice ns. */
static double phase_rate(struct shared *sh, enum phase p, uint64_t slice)
{
	uint64_t t0, t1;
	long o0, o1;

	phase_set(sh, p);
	sleep_us(500);		/* let worker 1 wake up or settle down */
	o0 = total_ops(sh);
	t0 = now_ns();
	sleep_us(slice / 1000);
	o1 = total_ops(sh);
	t1 = now_ns();
	return (o1 - o0) * 1e9 / (t1 - t0);
}

/*
 * ROUNDS rounds of (one worker, two workers) slices for one kind; stores
 * the medians of the one- and two-worker rates and returns the median of
 * the rounds' ratios.
 */
static double scaling(enum kind kind, uint64_t slice, double *one,
		      double *two)
{
	bool processes = kind == K_CTXFD_PROCESSES;
	double r1[ROUNDS], r2[ROUNDS], rr[ROUNDS], ret;
	struct worker w[2];
	struct shared *sh;
	pthread_t th[2];
	pid_t pid[2];

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	memset(sh, 0, sizeof(*sh));
	for (int i = 0; i < 2; i++) {
		w[i] = (struct worker){ .sh = sh, .id = i,
					.ctxfd = kind != K_EVENTFD_THREADS };
		if (processes) {
			pid[i] = xfork();
			if (!pid[i]) {
				worker(&w[i]);
				_exit(0);
			}
		} else if (pthread_create(&th[i], NULL, worker, &w[i])) {
			die("pthread_create");
		}
	}
	while (atomic_load(&sh->ready) < 2)
		sleep_us(1000);
	phase_rate(sh, PH_TWO, slice / 2);	/* warm up */
	for (int k = 0; k < ROUNDS; k++) {
		if (k % 2) {
			r2[k] = phase_rate(sh, PH_TWO, slice);
			r1[k] = phase_rate(sh, PH_ONE, slice);
		} else {
			r1[k] = phase_rate(sh, PH_ONE, slice);
			r2[k] = phase_rate(sh, PH_TWO, slice);
		}
		rr[k] = r2[k] / r1[k];
	}
	phase_set(sh, PH_QUIT);
	for (int i = 0; i < 2; i++) {
		if (processes)
			xwait(pid[i]);
		else
			pthread_join(th[i], NULL);
	}
	munmap(sh, sizeof(*sh));
	*one = median_of(r1, ROUNDS);
	*two = median_of(r2, ROUNDS);
	ret = median_of(rr, ROUNDS);
	return ret;
}

void fig6_threads(void)
{
	uint64_t slice = (uint64_t)(100e6 * bench_scale);	/* 100 ms */
	int runs = bench_runs;
	double one[NR_KINDS][runs], two[NR_KINDS][runs], ratio[NR_KINDS][runs];
	double rel[runs];
	struct bench_result *r;
	cpu_set_t all;

	if (bench_ncpus < 2)
		progress("only %d CPU: this figure needs 2", bench_ncpus);
	/* The controller (this thread) may run anywhere. */
	CPU_ZERO(&all);
	for (int i = 0; i < bench_ncpus; i++)
		CPU_SET(i, &all);
	sched_setaffinity(0, sizeof(all), &all);
	/*
	 * Keep both vCPUs busy in both phases (SCHED_IDLE spinners yield to
	 * the workers at once): a busy host gives two busy vCPU threads more
	 * CPU than one busy and one halted, which would inflate the ratio.
	 */
	spinners_start();

	for (int run = 0; run < runs; run++) {
		for (int j = 0; j < NR_KINDS; j++) {
			int k = (j + run) % NR_KINDS;

			ratio[k][run] = scaling(k, slice, &one[k][run],
						&two[k][run]);
		}
		progress("run %d/%d: ctxfd 1 thread %.0f ops/s, 2 threads %.0f (x%.2f), 2 processes x%.2f; eventfd 1 thread %.0f, 2 threads x%.2f",
			 run + 1, runs, one[0][run], two[0][run], ratio[0][run],
			 ratio[1][run], one[2][run], ratio[2][run]);
	}
	spinners_stop();
	/*
	 * Threads share the fd table and the anon inode with eventfd: what
	 * the machine lets threads scale to is eventfd's own scaling in the
	 * same run, so the thread row is ctxfd's scaling over eventfd's.
	 */
	for (int run = 0; run < runs; run++)
		rel[run] = ratio[K_CTXFD_THREADS][run] /
			   ratio[K_EVENTFD_THREADS][run];
	r = bench_record("6", "two threads' scaling vs eventfd's (x, same run)",
			 "x", ratio[K_CTXFD_THREADS], ratio[K_EVENTFD_THREADS],
			 rel, runs, CMP_GE, 0.95);
	bench_detail(r, ", \"op\": \"create + cancel + close\", \"slice_ms\": %.0f, \"rounds_per_run\": %d"
		     ", \"ctxfd_one_thread_ops\": %.0f, \"ctxfd_two_threads_ops\": %.0f"
		     ", \"eventfd_one_thread_ops\": %.0f",
		     slice / 1e6, ROUNDS, median_of(one[K_CTXFD_THREADS], runs),
		     median_of(two[K_CTXFD_THREADS], runs),
		     median_of(one[K_EVENTFD_THREADS], runs));
	r = bench_record("6/processes", "two trees, two processes vs one (ops/s)",
			 "ops/s", two[K_CTXFD_PROCESSES], one[K_CTXFD_PROCESSES],
			 ratio[K_CTXFD_PROCESSES], runs, CMP_GE, 1.7);
	bench_detail(r, ", \"op\": \"create + cancel + close\"");
}
