// SPDX-License-Identifier: GPL-2.0
/*
 * Figure 3: fan-out. Cancel a root whose N children are each watched by
 * epoll in another process, time until the watcher has seen all N; vs a
 * userspace controller that writes N eventfds watched the same way.
 *
 * The parent (CPU 0) makes the N objects, forks the watcher (CPU 1),
 * which adds every fd it inherited to one epoll set (EPOLLIN|EPOLLET)
 * and reports when it is about to wait. Once it sleeps, the parent takes
 * t0 and cancels the root (one ioctl) or writes the N eventfds (N write
 * calls); the watcher counts distinct ready fds and takes t1 when it has
 * seen all N. Time = t1 - t0. Also recorded: how long the trigger took
 * in the parent (the ioctl, or the N writes) and how long the watcher
 * spent harvesting events from its first wakeup to the last event, and,
 * in a third measurement per run, the harvest floor: how long the
 * watcher takes to collect N events that are all ready before it looks
 * (no mechanism can beat that; floor_ratio = floor / eventfd time says
 * how low the ratio can possibly go on this machine).
 *
 * The trigger's own floor: each run also times the trigger alone, on N
 * objects nobody watches (the cancel ioctl's walk; the N write calls),
 * and, in the harvest-floor measurement, the cancel with the N epoll
 * callbacks (ep_poll_callback()) but nobody harvesting meanwhile.
 * Unharvested minus alone is what the N callbacks cost at their
 * cheapest; a kernel fan-out has to run them, one per watched fd, so
 * callback_floor_ratio = that / eventfd time bounds the ratio from below
 * too. Watched minus alone is what the callbacks cost each trigger with
 * the watcher harvesting on the other CPU: more, and not the same on
 * both sides (a callback that finds the watcher asleep wakes it).
 *
 * Ratio = ctxfd time / eventfd time, target <= 0.25, for N = 1 000,
 * 10 000, 100 000.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench.h"

#define MAX_EVENTS 1024

struct fanout_times {
	uint64_t first;		/* watcher: first epoll_wait() return */
	uint64_t last;		/* watcher: N-th distinct fd seen */
};

static void watcher(const int *fds, int n, int ready, int res, int go)
{
	struct epoll_event *ev = calloc(MAX_EVENTS, sizeof(*ev));
	char *seen = calloc(n, 1);
	struct fanout_times t = { 0, 0 };
	int epfd, count = 0;
	char b = 1;

	if (!ev || !seen)
		die("out of memory");
	pin_cpu(1);
	epfd = check(epoll_create1(EPOLL_CLOEXEC), "epoll_create1");
	for (int i = 0; i < n; i++) {
		struct epoll_event e = { .events = EPOLLIN | EPOLLET,
					 .data.u32 = i };

		check(epoll_ctl(epfd, EPOLL_CTL_ADD, fds[i], &e), "epoll_ctl");
	}
	xwrite(ready, &b, 1);
	if (go >= 0) {
		xread(go, &b, 1);
		t.first = now_ns();
	}
	while (count < n) {
		int k = epoll_wait(epfd, ev, MAX_EVENTS, -1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			die("epoll_wait: %s", strerror(errno));
		if (!t.first)
			t.first = now_ns();
		for (int j = 0; j < k; j++) {
			if (!seen[ev[j].data.u32]) {
				seen[ev[j].data.u32] = 1;
				count++;
			}
		}
	}
	t.last = now_ns();
	xwrite(res, &t, sizeof(t));
	_exit(0);
}

/*
 * N objects of one kind in @fds: children of a new root (*@root) or
 * eventfds (*@root = -1). Dies if @fds is NULL (out of memory).
 */
static void make_objects(int *fds, int n, bool ctxfd, int *root)
{
	if (!fds)
		die("out of memory");
	*root = -1;
	if (ctxfd) {
		*root = check(kctx_root(), "root");
		for (int i = 0; i < n; i++)
			fds[i] = check(kctx_child(*root, 0), "create");
	} else {
		for (int i = 0; i < n; i++)
			fds[i] = check(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
				       "eventfd");
	}
}

/* Fire: cancel @root (ctxfd), or write each of the @n eventfds. */
static void trigger(const int *fds, int n, int root)
{
	uint64_t one = 1;

	if (root >= 0) {
		check(kctx_cancel(root), "cancel");
		return;
	}
	for (int i = 0; i < n; i++)
		if (write(fds[i], &one, sizeof(one)) != sizeof(one))
			die("eventfd write: %s", strerror(errno));
}

/* Close what make_objects() made and free @fds. */
static void drop_objects(int *fds, int n, int root)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
	if (root >= 0)
		close(root);
	free(fds);
}

/*
 * One measurement: N objects of one kind, a watcher, the trigger.
 * Returns t1 - t0 in ms; *trigger_ms and *harvest_ms get the parts.
 * With @floor, the root is canceled before the watcher starts waiting,
 * and the result is the time the watcher needs to harvest N events that
 * are all ready already: the floor under any mechanism's fan-out time;
 * *trigger_ms is then the cancel with nobody harvesting meanwhile.
 */
static double fanout_once(int n, bool ctxfd, bool floor, double *trigger_ms,
			  double *harvest_ms)
{
	int *fds = malloc(n * sizeof(int));
	struct fanout_times t;
	int ready[2], res[2], go[2] = { -1, -1 }, root;
	uint64_t t0, t_trig, trig;
	pid_t pid;

	make_objects(fds, n, ctxfd, &root);
	check(pipe2(ready, O_CLOEXEC), "pipe");
	check(pipe2(res, O_CLOEXEC), "pipe");
	if (floor)
		check(pipe2(go, O_CLOEXEC), "pipe");
	pid = xfork();
	if (!pid) {
		close(ready[0]);
		close(res[0]);
		if (root >= 0)
			close(root);
		if (floor)
			close(go[1]);
		watcher(fds, n, ready[1], res[1], go[0]);
	}
	close(ready[1]);
	close(res[1]);

	{
		char b = 1;

		xread(ready[0], &b, 1);
		if (floor) {
			close(go[0]);
			t0 = now_ns();
			trigger(fds, n, root);
			t_trig = now_ns();
			xwrite(go[1], &b, 1);
			close(go[1]);
			xread(res[0], &t, sizeof(t));
			trig = t_trig - t0;
			t0 = t.first;
			goto out;
		}
	}
	wait_sleeping(pid);
	t0 = now_ns();
	trigger(fds, n, root);
	t_trig = now_ns();
	trig = t_trig - t0;
	xread(res[0], &t, sizeof(t));
out:
	xwait(pid);
	close(ready[0]);
	close(res[0]);
	drop_objects(fds, n, root);
	*trigger_ms = trig / 1e6;
	*harvest_ms = (t.last - t.first) / 1e6;
	return (t.last - t0) / 1e6;
}

/*
 * The trigger alone, in ms: N objects that nobody watches, canceled (the
 * root) or written (N eventfds).
 */
static double trigger_alone(int n, bool ctxfd)
{
	int *fds = malloc(n * sizeof(int)), root;
	uint64_t t0, t1;

	make_objects(fds, n, ctxfd, &root);
	t0 = now_ns();
	trigger(fds, n, root);
	t1 = now_ns();
	drop_objects(fds, n, root);
	return (t1 - t0) / 1e6;
}

void fig3_fanout(void)
{
	static const int sizes[] = { 1000, 10000, 100000 };
	int runs = bench_runs;

	raise_nofile(100000 + 1000);
	raise_node_limit(200000);
	pin_cpu(0);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		int n = sizes[k];
		double c[runs], e[runs], ratio[runs];
		double ct[runs], et[runs], ch[runs], eh[runs], fl[runs], x;
		double ca[runs], ea[runs], cb[runs], cbc[runs], cbr[runs];
		double cq[runs];
		struct bench_result *r;
		char fig[32], what[96];

		for (int run = 0; run < runs; run++) {
			if (run % 2) {
				e[run] = fanout_once(n, false, false, &et[run], &eh[run]);
				c[run] = fanout_once(n, true, false, &ct[run], &ch[run]);
			} else {
				c[run] = fanout_once(n, true, false, &ct[run], &ch[run]);
				e[run] = fanout_once(n, false, false, &et[run], &eh[run]);
			}
			fl[run] = fanout_once(n, true, true, &cq[run], &x);
			ca[run] = trigger_alone(n, true);
			ea[run] = trigger_alone(n, false);
			cb[run] = et[run] - ea[run];
			cbc[run] = ct[run] - ca[run];
			cbr[run] = (cq[run] - ca[run]) / e[run];
			ratio[run] = c[run] / e[run];
			progress("N=%d run %d/%d: all seen after ctxfd %.2f ms (cancel %.2f, harvest %.2f), eventfd %.2f ms (writes %.2f, harvest %.2f); harvest floor %.2f ms (cancel %.2f); unwatched: cancel %.2f, writes %.2f ms; callbacks: %.2f ms in the writes, %.2f in the cancel",
				 n, run + 1, runs, c[run], ct[run], ch[run],
				 e[run], et[run], eh[run], fl[run], cq[run],
				 ca[run], ea[run], cb[run], cbc[run]);
		}
		snprintf(fig, sizeof(fig), "3/n=%d", n);
		snprintf(what, sizeof(what),
			 "fan-out to %d epoll watchers vs %d eventfd writes", n,
			 n);
		r = bench_record(fig, what, "ms", c, e, ratio, runs, CMP_LE,
				 0.25);
		bench_detail(r, ", \"n\": %d, \"ctxfd_cancel_ms\": %.3f, \"eventfd_writes_ms\": %.3f"
			     ", \"ctxfd_harvest_ms\": %.3f, \"eventfd_harvest_ms\": %.3f"
			     ", \"harvest_floor_ms\": %.3f, \"floor_ratio\": %.3f"
			     ", \"ctxfd_cancel_alone_ms\": %.3f, \"eventfd_writes_alone_ms\": %.3f"
			     ", \"eventfd_callbacks_ms\": %.3f, \"ctxfd_callbacks_ms\": %.3f"
			     ", \"callback_floor_ratio\": %.3f"
			     ", \"ctxfd_cancel_unharvested_ms\": %.3f",
			     n, median_of(ct, runs), median_of(et, runs),
			     median_of(ch, runs), median_of(eh, runs),
			     median_of(fl, runs),
			     median_of(fl, runs) / median_of(e, runs),
			     median_of(ca, runs), median_of(ea, runs),
			     median_of(cb, runs), median_of(cbc, runs),
			     median_of(cbr, runs), median_of(cq, runs));
	}
}
