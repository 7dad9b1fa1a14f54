// SPDX-License-Identifier: GPL-2.0
/*
 * Figure 11: a teardown costs what its tree costs, not what the system
 * holds.
 *
 * Row "11": tear down a 10-process tree (figure 7's tree, fan-out 10)
 * while 20 000 unrelated processes exist (a "crowd": one process and its
 * children, sharing its memory, pausing, in their own process group), by
 * canceling a context the tree's leader is attached to (descendants,
 * SIGKILL) vs kill(-PGID, SIGKILL). Time = from the cancel (or kill)
 * until the bench has reaped the 10. Each run times SAMPLES teardowns of
 * each kind, alternating, and takes the median of each; ratio = ctxfd /
 * kill, target <= 1.2. A teardown that walked every process of the
 * system would pay for the crowd here (issue 18: it did, before members
 * were tracked at fork).
 *
 * Row "11/memory": the memory an attachment holds, armed and during a
 * teardown's grace period. ATTACHMENTS trees of 10 processes that ignore
 * SIGTERM are built; then the bench moves alone into a memory cgroup of
 * its own (the module charges an attachment, its members and its
 * teardown to the attacher's cgroup), attaches each tree (descendants,
 * SIGTERM, grace 60 s), and reads the cgroup's slab bytes (memory.stat)
 * before, once armed, and 200 ms after the cancel, while every teardown
 * waits out its grace period. Bytes per attachment, no target; no row
 * without a cgroup2 memory controller.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

#define CROWD		20000
#define TREE		10
#define SAMPLES		9
#define ATTACHMENTS	200
#define CGROOT		"/sys/fs/cgroup"

/*
 * A member of the crowd: it shares the leader's memory (CLONE_VM), so it
 * costs the system a process (task, kernel stack, pid), not a copy of
 * the bench's page tables, which a plain fork() of a bench that has run
 * the other figures would make (20 000 copies filled a 4 GiB guest).
 * Raw system calls only: errno and the rest of libc's state are the
 * leader's.
 */
static int crowd_member(void *arg)
{
	syscall(SYS_close, (long)(intptr_t)arg);	/* EOF if the leader dies */
	for (;;)
		syscall(SYS_pause);
	return 0;
}

#define CROWD_STACK	16384

/*
 * The crowd: a process in its own group with @n - 1 children (processes
 * sharing its memory, see crowd_member()), pausing; it says so on
 * @ready. Returns its pid (the pgid).
 */
static pid_t spawn_crowd(int n)
{
	int ready[2];
	pid_t leader;
	char b;

	check(pipe2(ready, O_CLOEXEC), "pipe");
	leader = xfork();
	if (!leader) {
		char *stacks = mmap(NULL, (size_t)n * CROWD_STACK,
				    PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
				    MAP_STACK, -1, 0);

		setpgid(0, 0);
		close(ready[0]);
		if (stacks == MAP_FAILED)
			_exit(1);	/* the bench sees no byte */
		for (int i = 1; i < n; i++) {
			char *top = stacks + (size_t)i * CROWD_STACK;

			if (clone(crowd_member, top, CLONE_VM | SIGCHLD,
				  (void *)(intptr_t)ready[1]) < 0)
				_exit(1);
		}
		b = 1;
		if (write(ready[1], &b, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	setpgid(leader, leader);
	close(ready[1]);
	if (read(ready[0], &b, 1) != 1)
		die("the crowd of %d processes did not start (clone failed: pid_max, threads-max or memory)",
		    n);
	close(ready[0]);
	return leader;
}

/* Make room for @n more processes (threads-max, pid_max) as root. */
static void raise_process_limits(long n)
{
	static const char *const files[] = { "/proc/sys/kernel/threads-max",
					     "/proc/sys/kernel/pid_max" };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (read_long_file(files[i]) < 2 * n)
			write_file(files[i], "%ld", 2 * n);
}

/* ---- memory per attachment -------------------------------------------- */

/* The "slab" bytes of memory.stat in @cg, or -1. */
static long long cg_slab(const char *cg)
{
	char path[256], key[64];
	long long v, found = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.stat", cg);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", key, &v) == 2)
		if (!strcmp(key, "slab"))
			found = v;
	fclose(f);
	return found;
}

static void move_self(const char *cg)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	if (write_file(path, "%d", getpid()))
		die("moving the bench to %s: %s", cg, strerror(errno));
}

/*
 * Let the slab counters settle, then read: memory.stat is flushed from
 * the per-CPU counters every 2 s (or after large changes), so a read
 * sooner may show the previous state.
 */
static long long settled_slab(const char *cg)
{
	sleep_us(2500000);
	return cg_slab(cg);
}

static void memory_row(void)
{
	static pid_t leaders[ATTACHMENTS];
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	long long before, armed, grace;
	char cg[128];
	int ctx;
	struct bench_result *r;
	double v[1], b[1], ratio[1];

	if (write_file(CGROOT "/cgroup.subtree_control", "+memory") &&
	    errno != EBUSY) {
		progress("no cgroup2 memory controller at %s: no memory row",
			 CGROOT);
		return;
	}
	snprintf(cg, sizeof(cg), CGROOT "/ctxfd-bench-%d", getpid());
	if (mkdir(cg, 0755) || cg_slab(cg) < 0) {
		progress("cannot make the memory cgroup %s (%s): no memory row",
			 cg, strerror(errno));
		rmdir(cg);
		return;
	}

	/* Trees that survive SIGTERM, built in the bench's own cgroup. */
	sigaction(SIGTERM, &ign, &old);
	for (int i = 0; i < ATTACHMENTS; i++)
		leaders[i] = teardown_tree(TREE);
	sigaction(SIGTERM, &old, NULL);

	move_self(cg);
	ctx = check(kctx_root(), "root");
	before = settled_slab(cg);
	for (int i = 0; i < ATTACHMENTS; i++) {
		int pidfd = check((int)syscall(SYS_pidfd_open, leaders[i], 0),
				  "pidfd_open");
		struct ctxfd_attach att = {
			.flags = CTXFD_ATTACH_DESCENDANTS,
			.pidfd = pidfd,
			.signal = SIGTERM,
			.pid = leaders[i],
			.grace_ns = 60ull * 1000000000,
		};

		check(ioctl(ctx, CTXFD_IOC_ATTACH, &att), "attach");
		close(pidfd);
	}
	armed = settled_slab(cg);
	check(kctx_cancel(ctx), "cancel");
	grace = settled_slab(cg);	/* SIGTERM ignored: all in grace */

	for (int i = 0; i < ATTACHMENTS; i++)
		kill(-leaders[i], SIGKILL);
	if (teardown_reap(ATTACHMENTS * TREE) != ATTACHMENTS * TREE)
		progress("memory: not every tree was reaped in time");
	close(ctx);
	move_self(CGROOT);
	rmdir(cg);

	v[0] = (double)(grace - before) / ATTACHMENTS;
	b[0] = (double)(armed - before) / ATTACHMENTS;
	ratio[0] = b[0] > 0 ? v[0] / b[0] : 0;
	progress("memory: %d attachments of %d-process trees: slab %lld -> %lld armed -> %lld in grace: %.0f bytes each armed, %.0f in grace",
		 ATTACHMENTS, TREE, before, armed, grace, b[0], v[0]);
	r = bench_record("11/memory",
			 "bytes per attachment (10-process tree) in grace; baseline: armed",
			 "bytes", v, b, ratio, 1, CMP_NONE, 0);
	bench_detail(r, ", \"attachments\": %d, \"tree\": %d, \"slab_before\": %lld, \"slab_armed\": %lld, \"slab_grace\": %lld",
		     ATTACHMENTS, TREE, before, armed, grace);
}

void fig11_crowded(void)
{
	int runs = bench_runs, lost_c = 0, lost_k = 0, crowd = CROWD;
	double c[runs], k[runs], ratio[runs];
	struct bench_result *r;
	char what[96];
	uint64_t t0;
	pid_t leader;

	/* CTXFD_BENCH_CROWD: another crowd size, to see what it changes. */
	if (getenv("CTXFD_BENCH_CROWD"))
		crowd = atoi(getenv("CTXFD_BENCH_CROWD"));
	else
		crowd = (int)(CROWD * (bench_scale < 1 ? bench_scale : 1));
	if (crowd < 1)
		crowd = 1;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		die("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	pin_cpu(0);
	raise_process_limits(crowd + ATTACHMENTS * TREE + 1000);
	t0 = now_ns();
	leader = spawn_crowd(crowd);
	progress("a crowd of %d processes started in %.1f s", crowd,
		 (now_ns() - t0) / 1e9);

	for (int run = 0; run < runs; run++) {
		double sc[SAMPLES], sk[SAMPLES];

		for (int i = 0; i < SAMPLES; i++) {
			int lc, lk;
			bool ctxfd_first = (run + i) % 2;

			if (ctxfd_first)
				sc[i] = teardown_once(true, TREE, &lc);
			sk[i] = teardown_once(false, TREE, &lk);
			if (!ctxfd_first)
				sc[i] = teardown_once(true, TREE, &lc);
			lost_c += lc;
			lost_k += lk;
		}
		c[run] = median_of(sc, SAMPLES);
		k[run] = median_of(sk, SAMPLES);
		ratio[run] = c[run] / k[run];
		progress("run %d/%d: %d-process tree among %d processes: ctxfd %.2f ms, kill -PGID %.2f ms (medians of %d)",
			 run + 1, runs, TREE, crowd, c[run], k[run], SAMPLES);
	}
	snprintf(what, sizeof(what),
		 "teardown of a 10-process tree among %d processes vs kill -PGID",
		 crowd);
	r = bench_record("11", what, "ms", c, k, ratio, runs, CMP_LE, 1.2);
	bench_detail(r, ", \"crowd\": %d, \"tree\": %d, \"samples\": %d, \"ctxfd_survivors\": %d, \"kill_survivors\": %d",
		     crowd, TREE, SAMPLES, lost_c, lost_k);
	if (lost_c)
		r->fail_reason = "processes survived the ctxfd teardown";

	memory_row();

	kill(-leader, SIGKILL);
	if (teardown_reap(crowd) != crowd)
		progress("not every process of the crowd was reaped in time");
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}
