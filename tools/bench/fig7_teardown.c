// SPDX-License-Identifier: GPL-2.0
/*
 * Figure 7: tear down a 1 000-process tree: cancel a context the tree's
 * leader is attached to (CTXFD_IOC_ATTACH, SIGKILL, with descendants)
 * vs `kill -- -PGID` (kill(-pgid, SIGKILL)) on the same kind of tree.
 *
 * The bench is a child subreaper (PR_SET_CHILD_SUBREAPER): every process
 * of the tree, orphaned or not, ends up reaped by it, and nobody inside
 * the tree reaps anything. The tree: a leader in its own process group,
 * fan-out 10, depth 3 (1 + 10 + 100 + 889 processes = 1 000); each
 * process reports when its children are forked, then pauses. Time =
 * from the cancel (or the kill) until the bench has reaped all 1 000.
 * Survivors = processes not reaped within 30 s (then killed): must be 0.
 * Runs alternate. Ratio = ctxfd time / kill time, target <= 1.2.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define TREE_SIZE	1000
#define FANOUT		10
#define REAP_LIMIT_S	30

/* Become a process of @budget processes (itself included), then pause. */
static void __attribute__((noreturn)) grow(int budget, int ready)
{
	int rest = budget - 1, k = rest < FANOUT ? rest : FANOUT;
	char b = 1;

	for (int i = 0; i < k; i++) {
		int share = rest / k + (i < rest % k);
		pid_t pid = fork();

		if (pid < 0)
			_exit(1);	/* the bench sees a short count */
		if (!pid)
			grow(share, ready);
	}
	if (write(ready, &b, 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/*
 * Build a tree of @size processes; return its leader (also the pgid).
 * The tree inherits the bench's signal dispositions (fig11 ignores
 * SIGTERM in it, to hold a teardown in its grace period).
 */
pid_t teardown_tree(int size)
{
	int ready[2];
	pid_t leader;
	char buf[TREE_SIZE];
	int got = 0;

	check(pipe2(ready, O_CLOEXEC), "pipe");
	leader = xfork();
	if (!leader) {
		cpu_set_t all;

		/* The tree runs anywhere: only the bench is pinned. */
		CPU_ZERO(&all);
		for (int i = 0; i < bench_ncpus; i++)
			CPU_SET(i, &all);
		sched_setaffinity(0, sizeof(all), &all);
		close(ready[0]);
		setpgid(0, 0);
		grow(size, ready[1]);
	}
	setpgid(leader, leader);	/* either side may win; both say the same */
	close(ready[1]);
	while (got < size) {
		ssize_t n = read(ready[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("tree: only %d of %d processes started", got, size);
		got += n;
	}
	close(ready[0]);
	return leader;
}

static volatile sig_atomic_t alarmed;

static void on_alarm(int sig)
{
	alarmed = 1;
}

/* Reap until @n children are gone or the limit hits; return how many. */
int teardown_reap(int n)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	int got = 0;

	alarmed = 0;
	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: waitpid -> EINTR */
	alarm(REAP_LIMIT_S);
	while (got < n) {
		pid_t pid = waitpid(-1, NULL, 0);

		if (pid > 0) {
			got++;
			continue;
		}
		if (errno == EINTR && !alarmed)
			continue;
		break;
	}
	alarm(0);
	return got;
}

/*
 * Processes of process group @pgid still there, and how many of them the
 * bench has become the parent of (orphans reparented to the subreaper).
 */
static int scan_group(pid_t pgid, int *reparented)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	*reparented = 0;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[300], buf[512], *p;
		int ppid, pgrp, fd;
		ssize_t len;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = 0;
		p = strrchr(buf, ')');
		if (!p || sscanf(p + 2, "%*c %d %d", &ppid, &pgrp) != 2)
			continue;
		if (pgrp != pgid)
			continue;
		n++;
		if (ppid == getpid())
			(*reparented)++;
	}
	closedir(d);
	return n;
}

/*
 * One teardown of a @size-process tree in ms; *survivors gets what was
 * not reaped in time.
 */
double teardown_once(bool ctxfd, int size, int *survivors)
{
	pid_t leader = teardown_tree(size);
	uint64_t t0, t1;
	int ctx = -1, reaped;

	if (ctxfd) {
		int pidfd = check((int)syscall(SYS_pidfd_open, leader, 0),
				  "pidfd_open");
		struct ctxfd_attach att = {
			.flags = CTXFD_ATTACH_DESCENDANTS,
			.pidfd = pidfd,
			.signal = SIGKILL,
			.pid = leader,
		};

		ctx = check(kctx_root(), "root");
		check(ioctl(ctx, CTXFD_IOC_ATTACH, &att), "attach");
		close(pidfd);
	}
	bench_mark("fig7 %s start", ctxfd ? "ctxfd" : "kill");
	t0 = now_ns();
	if (ctxfd)
		check(kctx_cancel(ctx), "cancel");
	else
		check(kill(-leader, SIGKILL), "kill");
	bench_mark("fig7 %s triggered", ctxfd ? "ctxfd" : "kill");
	reaped = teardown_reap(size);
	t1 = now_ns();
	bench_mark("fig7 %s all reaped", ctxfd ? "ctxfd" : "kill");
	*survivors = size - reaped;
	if (*survivors) {
		int rep, left = scan_group(leader, &rep);

		progress("%s: %d of %d processes survived %d s; %d still in the group, %d of them orphans reparented to the bench (subreaper)",
			 ctxfd ? "ctxfd" : "kill", *survivors, size,
			 REAP_LIMIT_S, left, rep);
		kill(-leader, SIGKILL);
		teardown_reap(*survivors);
	}
	if (ctx >= 0)
		close(ctx);
	return (t1 - t0) / 1e6;
}

void fig7_teardown(void)
{
	int runs = bench_runs, lost_c = 0, lost_k = 0;
	double c[runs], k[runs], ratio[runs];
	struct bench_result *r;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		die("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	pin_cpu(0);
	for (int run = 0; run < runs; run++) {
		int sc, sk;

		if (run % 2) {
			k[run] = teardown_once(false, TREE_SIZE, &sk);
			c[run] = teardown_once(true, TREE_SIZE, &sc);
		} else {
			c[run] = teardown_once(true, TREE_SIZE, &sc);
			k[run] = teardown_once(false, TREE_SIZE, &sk);
		}
		lost_c += sc;
		lost_k += sk;
		ratio[run] = c[run] / k[run];
		progress("run %d/%d: all %d reaped after ctxfd %.1f ms (%d survivors), kill -PGID %.1f ms (%d survivors)",
			 run + 1, runs, TREE_SIZE, c[run], sc, k[run], sk);
	}
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	r = bench_record("7", "teardown of a 1000-process tree vs kill -PGID",
			 "ms", c, k, ratio, runs, CMP_LE, 1.2);
	bench_detail(r, ", \"processes\": %d, \"ctxfd_survivors\": %d, \"kill_survivors\": %d",
		     TREE_SIZE, lost_c, lost_k);
	if (lost_c)
		r->fail_reason = "processes survived the ctxfd teardown";
}
