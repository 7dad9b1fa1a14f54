// SPDX-License-Identifier: GPL-2.0
/*
 * Figure 9: a remote cancel -> wakeup on another host, vs a raw etcd put
 * -> watch event on the same cluster (issue 17).
 *
 * The test bed of the ctxd selftests (tools/ctxd/testnet): three etcd
 * members in the VM, hosts a and b in network namespaces, a ctxd on each
 * (lease TTL 10 s, so that no lease traffic is due during a round).
 *
 * ctxfd: per round, the benchmark (a process of host a) exports a fresh
 * context; a child (a process of host b) joins it, says so, and polls
 * the joined context; once it sleeps, the benchmark takes t0 and cancels;
 * the child takes t1 when poll() returns. The path: ctxd on a wakes up,
 * writes the record (one transaction), etcd commits it and sends the
 * watch event to ctxd on b, which cancels the joined context; the kernel
 * wakes the child.
 *
 * Baseline: build/tools/ctxd-etcdping, the same etcd client as ctxd's
 * (libcurl + json-c on the JSON gateway, same first endpoint): a putter
 * in host a's namespace takes t0 and puts a key, a watcher in host b's
 * namespace takes t1 when the event arrives. So the ratio is what ctxd
 * adds to etcd: two daemon wakeups, the record, the kernel cancel and
 * the wakeup of the process that waits.
 *
 * Steps alternate (ctxfd, baseline; which first alternates per round).
 * Ratio = median ctxfd latency / median baseline latency, per run;
 * target <= 1.2. Details: quartiles and p99 of both, pooled.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#ifdef HAVE_LIBCTXFD
#include <ctxfd.h>

static char top[4096];
static char net[64];

static int shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int shell(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int st;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	st = system(cmd);
	free(cmd);
	return st == 0 ? 0 : -1;
}

/* A helper in host @h's namespace, with pipes to its stdin and stdout. */
static pid_t spawn(char h, const char *mode, int *in, FILE **out)
{
	char ns[16], tool[4200], eps[128];
	int pin[2], pout[2];
	pid_t pid;

	snprintf(ns, sizeof(ns), "ctxd-%c", h);
	snprintf(tool, sizeof(tool), "%s/build/tools/ctxd-etcdping", top);
	snprintf(eps, sizeof(eps), "http://10.77.0.11:2379,http://10.77.0.12:2379,http://10.77.0.13:2379");
	check(pipe2(pin, O_CLOEXEC), "pipe");
	check(pipe2(pout, O_CLOEXEC), "pipe");
	pid = xfork();
	if (!pid) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		execlp("ip", "ip", "netns", "exec", ns, tool, "--endpoints", eps,
		       mode, "/bench/key", (char *)NULL);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	*in = pin[1];
	*out = fdopen(pout[0], "r");
	if (!*out)
		die("fdopen: %s", strerror(errno));
	return pid;
}

static long long read_ll(FILE *f, const char *what)
{
	char line[128];

	if (!fgets(line, sizeof(line), f))
		die("%s: no answer", what);
	return atoll(line);
}

/* One remote cancel: its latency in microseconds. */
static double remote_cancel(int run, int round)
{
	char name[64], sock_a[128], sock_b[128];
	ctx_t *ctx;
	ctx_cancel_t *cancel;
	ctx_export_t *exp;
	int ready[2], res[2];
	uint64_t t0, t1;
	pid_t pid;
	char b;

	snprintf(name, sizeof(name), "bench-%d-%d", run, round);
	snprintf(sock_a, sizeof(sock_a), "%s/a/ctxd.sock", net);
	snprintf(sock_b, sizeof(sock_b), "%s/b/ctxd.sock", net);
	setenv("CTXD_SOCKET", sock_a, 1);
	if (ctx_with_cancel(ctx_background(), &ctx, &cancel) ||
	    ctx_export(ctx, NULL, name, NULL, &exp))
		die("export: %s", ctx_last_error());
	check(pipe2(ready, O_CLOEXEC), "pipe");
	check(pipe2(res, O_CLOEXEC), "pipe");
	pid = xfork();
	if (!pid) {
		ctx_t *j;
		struct pollfd p;

		pin_cpu(1);
		setenv("CTXD_SOCKET", sock_b, 1);
		if (ctx_join(name, 0, &j, NULL))
			_exit(1);
		p.fd = ctx_done_fd(j);
		p.events = POLLIN;
		xwrite(ready[1], "x", 1);
		while (poll(&p, 1, -1) != 1)
			;
		t1 = now_ns();
		xwrite(res[1], &t1, sizeof(t1));
		_exit(0);
	}
	close(ready[1]);
	close(res[1]);
	if (read(ready[0], &b, 1) != 1)
		die("the joiner on b failed: %s", "see ctxd's log");
	wait_sleeping(pid);
	sleep_us(20000);	/* let both ctxds go idle */
	t0 = now_ns();
	check(ctx_cancel(cancel), "cancel");
	xread(res[0], &t1, sizeof(t1));
	xwait(pid);
	close(ready[0]);
	close(res[0]);
	ctx_export_release(exp);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
	return (t1 - t0) / 1e3;
}

/* One raw put -> watch event: its latency in microseconds. */
static double raw_put(int put_in, FILE *put_out, FILE *watch_out)
{
	long long t0, t1;

	sleep_us(20000);
	xwrite(put_in, "x\n", 2);
	t0 = read_ll(put_out, "the putter");
	t1 = read_ll(watch_out, "the watcher");
	if (t0 < 0)
		die("the put failed");
	return (t1 - t0) / 1e3;
}

static void teardown(void)
{
	const char *out = getenv("CTXFD_VM_OUT");

	if (net[0] && out && *out)
		shell("cp %s/a/ctxd.log %s/fig9-ctxd-a.log; cp %s/b/ctxd.log %s/fig9-ctxd-b.log",
		      net, out, net, out);
	if (net[0]) {
		shell("%s/tools/ctxd/testnet down %s >/dev/null 2>&1; rm -rf %s",
		      top, net, net);
		net[0] = '\0';
	}
}

void fig10_remote(void)
{
	int rounds = (int)(15 * bench_scale), runs = bench_runs;
	double *c = calloc(runs, sizeof(double));
	double *e = calloc(runs, sizeof(double));
	double *ratio = calloc(runs, sizeof(double));
	double *lc = calloc(rounds, sizeof(double));
	double *le = calloc(rounds, sizeof(double));
	double *all_c = calloc(rounds * runs, sizeof(double));
	double *all_e = calloc(rounds * runs, sizeof(double));
	struct stats sc, se;
	struct bench_result *r;
	pid_t watcher, putter;
	FILE *put_out, *watch_out;
	int put_in, watch_in;
	char exe[4096], line[64];
	ssize_t n;

	if (rounds < 3)
		rounds = 3;
	if (!c || !e || !ratio || !lc || !le || !all_c || !all_e)
		die("out of memory");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		die("readlink: %s", strerror(errno));
	exe[n] = '\0';
	snprintf(top, sizeof(top), "%s/../..", dirname(exe));
	if (shell("command -v etcd >/dev/null && test -x %s/build/tools/ctxd && test -x %s/build/tools/ctxd-etcdping",
		  top, top)) {
		progress("skipped: needs etcd, build/tools/ctxd and ctxd-etcdping");
		return;
	}
	snprintf(net, sizeof(net), "/tmp/ctxd-bench.XXXXXX");
	if (!mkdtemp(net))
		die("mkdtemp: %s", strerror(errno));
	atexit(teardown);
	progress("starting 3 etcd members and hosts a, b");
	if (shell("%s/tools/ctxd/testnet up %s a b", top, net) ||
	    shell("CTXD_TTL=10 %s/tools/ctxd/testnet ctxd %s a -v", top, net) ||
	    shell("CTXD_TTL=10 %s/tools/ctxd/testnet ctxd %s b -v", top, net))
		die("cannot start the test bed (see %s)", net);
	watcher = spawn('b', "watch", &watch_in, &watch_out);
	if (!fgets(line, sizeof(line), watch_out) || strncmp(line, "ready", 5))
		die("the watcher did not start");
	putter = spawn('a', "put", &put_in, &put_out);
	/* Warm both paths up: connections, the first export. */
	raw_put(put_in, put_out, watch_out);
	remote_cancel(-1, 0);

	pin_cpu(0);
	for (int run = 0; run < runs; run++) {
		for (int i = 0; i < rounds; i++) {
			if ((i + run) % 2 == 0) {
				lc[i] = remote_cancel(run, i);
				le[i] = raw_put(put_in, put_out, watch_out);
			} else {
				le[i] = raw_put(put_in, put_out, watch_out);
				lc[i] = remote_cancel(run, i);
			}
		}
		memcpy(all_c + run * rounds, lc, rounds * sizeof(double));
		memcpy(all_e + run * rounds, le, rounds * sizeof(double));
		c[run] = median_of(lc, rounds);
		e[run] = median_of(le, rounds);
		ratio[run] = c[run] / e[run];
		progress("10 run %d/%d: median remote cancel -> wakeup %.0f us, put -> watch %.0f us",
			 run + 1, runs, c[run], e[run]);
	}
	close(put_in);
	close(watch_in);
	kill(watcher, SIGKILL);
	kill(putter, SIGKILL);
	waitpid(watcher, NULL, 0);
	waitpid(putter, NULL, 0);
	fclose(put_out);
	fclose(watch_out);
	teardown();

	stats_of(all_c, rounds * runs, &sc);
	stats_of(all_e, rounds * runs, &se);
	r = bench_record("10", "remote cancel -> wakeup on host b vs etcd put -> watch",
			 "us", c, e, ratio, runs, CMP_LE, 1.2);
	bench_detail(r, ", \"rounds_per_run\": %d"
		     ", \"remote_us\": {\"min\": %.0f, \"p25\": %.0f, \"median\": %.0f, \"p75\": %.0f, \"p99\": %.0f}"
		     ", \"etcd_us\": {\"min\": %.0f, \"p25\": %.0f, \"median\": %.0f, \"p75\": %.0f, \"p99\": %.0f}",
		     rounds, sc.min, sc.p25, sc.median, sc.p75, sc.p99,
		     se.min, se.p25, se.median, se.p75, se.p99);
	free(c); free(e); free(ratio); free(lc); free(le); free(all_c); free(all_e);
}

#else /* !HAVE_LIBCTXFD */

void fig10_remote(void)
{
	progress("skipped: needs libctxfd (ctx_export, ctx_join)");
}

#endif
