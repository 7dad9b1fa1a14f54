// SPDX-License-Identifier: GPL-2.0
/*
 * Figure 6: two independent trees driven by two threads vs one thread.
 *
 * A worker owns a root and loops: create a child, cancel it, close it.
 * One worker on CPU 0 gives the one-thread rate; two workers (CPU 0 and
 * CPU 1, each on its own root, same process) give the two-thread rate.
 * Ratio = two-thread ops/s / one-thread ops/s, target >= 1.7: trees
 * share no lock, so only the machine limits the scaling.
 *
 * Two references, same run, same scheme, not part of the verdict:
 *  - eventfd create + write + close (what this machine and the shared
 *    fd table let any fd-creating loop scale to);
 *  - ctxfd with two processes instead of two threads (no shared fd
 *    table), to tell ctxfd's own sharing from the file table's.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

#define BATCH 50

struct shared {
	atomic_int go;		/* 1: start, 2: stop */
	atomic_int ready;
	double rate[2];		/* ops/s of each worker */
};

struct worker {
	struct shared *sh;
	int cpu;
	bool ctxfd;
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	uint64_t t0, t1;
	long ops = 0;
	int root = -1;

	pin_cpu(w->cpu);
	if (w->ctxfd)
		root = check(kctx_root(), "root");
	atomic_fetch_add(&sh->ready, 1);
	while (atomic_load(&sh->go) == 0)
		;
	t0 = now_ns();
	while (atomic_load_explicit(&sh->go, memory_order_relaxed) == 1) {
		for (int i = 0; i < BATCH; i++) {
			int fd;

			if (w->ctxfd) {
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
		ops += BATCH;
	}
	t1 = now_ns();
	if (root >= 0)
		close(root);
	sh->rate[w->cpu] = ops * 1e9 / (t1 - t0);
	return NULL;
}

/* Total ops/s of @n workers (1 or 2), threads or processes. */
static double drive(int n, bool ctxfd, bool processes, uint64_t slice)
{
	struct shared *sh;
	struct worker w[2];
	pthread_t th[2];
	pid_t pid[2];
	double total = 0;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	memset(sh, 0, sizeof(*sh));
	for (int i = 0; i < n; i++) {
		w[i] = (struct worker){ .sh = sh, .cpu = i, .ctxfd = ctxfd };
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
	while (atomic_load(&sh->ready) < n)
		sleep_us(1000);
	atomic_store(&sh->go, 1);
	sleep_us(slice / 1000);
	atomic_store(&sh->go, 2);
	for (int i = 0; i < n; i++) {
		if (processes)
			xwait(pid[i]);
		else
			pthread_join(th[i], NULL);
		total += sh->rate[i];
	}
	munmap(sh, sizeof(*sh));
	return total;
}

void fig6_threads(void)
{
	uint64_t slice = (uint64_t)(400e6 * bench_scale);
	int runs = bench_runs;
	double one[runs], two[runs], ratio[runs];
	double eone[runs], etwo[runs], eratio[runs], ptwo[runs], pratio[runs];
	struct bench_result *r;

	if (bench_ncpus < 2)
		progress("only %d CPU: this figure needs 2", bench_ncpus);
	for (int run = 0; run < runs; run++) {
		if (run % 2) {
			two[run] = drive(2, true, false, slice);
			one[run] = drive(1, true, false, slice);
			ptwo[run] = drive(2, true, true, slice);
			etwo[run] = drive(2, false, false, slice);
			eone[run] = drive(1, false, false, slice);
		} else {
			one[run] = drive(1, true, false, slice);
			two[run] = drive(2, true, false, slice);
			ptwo[run] = drive(2, true, true, slice);
			eone[run] = drive(1, false, false, slice);
			etwo[run] = drive(2, false, false, slice);
		}
		ratio[run] = two[run] / one[run];
		pratio[run] = ptwo[run] / one[run];
		eratio[run] = etwo[run] / eone[run];
		progress("run %d/%d: ctxfd 1 thread %.0f ops/s, 2 threads %.0f (x%.2f), 2 processes %.0f (x%.2f); eventfd x%.2f",
			 run + 1, runs, one[run], two[run], ratio[run],
			 ptwo[run], pratio[run], eratio[run]);
	}
	r = bench_record("6", "two trees, two threads vs one thread (ops/s)",
			 "ops/s", two, one, ratio, runs, CMP_GE, 1.7);
	bench_detail(r, ", \"op\": \"create + cancel + close\", \"slice_ms\": %.0f"
		     ", \"two_processes_ratio\": %.3f, \"eventfd_two_threads_ratio\": %.3f"
		     ", \"eventfd_one_thread_ops\": %.0f",
		     slice / 1e6, median_of(pratio, runs),
		     median_of(eratio, runs), median_of(eone, runs));
}
