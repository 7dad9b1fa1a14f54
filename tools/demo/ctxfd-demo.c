// SPDX-License-Identifier: GPL-2.0
/*
 * ctxfd-demo: one context shared by a tree of processes, one cancel.
 *
 * Act 1: a parent creates a context and hands it to four workers in the
 * three ways a descriptor travels - fork, exec (the CTXFD environment
 * variable), and a unix socket (SCM_RIGHTS) - and one worker derives a
 * child context for a grandchild of its own. One cancel with a cause
 * reaches all of them; each reports what it saw and how fast.
 *
 * Act 2: a supervisor creates a context for a worker and is killed with
 * SIGKILL. Nobody calls cancel, yet the worker's context is canceled: the
 * kernel closed the supervisor's cancel-capable descriptor.
 *
 * Exit status 0 only if every worker saw the cancel with the right cause.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ctxfd.h>
#include <linux/ctxfd.h>

#define CAUSE_CODE	42
#define CAUSE_MSG	"demo: shutting down"
#define REPORT_ENV	"DEMO_REPORT_FD"

/* What each worker sends back through the report pipe (atomic write). */
struct report {
	char name[16];
	pid_t pid;
	int err;
	int code;
	uint64_t woke_ns;
	char msg[64];
};

static uint64_t t0;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One line per call, written at once so that processes do not interleave. */
static void say(const char *who, const char *fmt, ...)
{
	char line[512];
	int n;
	va_list ap;

	n = snprintf(line, sizeof(line), "%8.3f ms  %-12s [%5d]  ",
		     t0 ? (now_ns() - t0) / 1e6 : 0.0, who, (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDOUT_FILENO, line, n) < 0)
		_exit(3);
}

static void die(const char *who, const char *what, int err)
{
	say(who, "FAILED: %s: %s (%s)", what, strerror(err < 0 ? -err : err),
	    ctx_last_error());
	exit(125);
}

/* Kernel view of a context: its id and depth (CTXFD_IOC_INFO). */
static void describe(ctx_t *ctx, unsigned long long *id, unsigned int *depth)
{
	struct ctxfd_info info;

	memset(&info, 0, sizeof(info));
	*id = 0;
	*depth = 0;
	if (ctx_done_fd(ctx) >= 0 &&
	    ioctl(ctx_done_fd(ctx), CTXFD_IOC_INFO, &info) == 0) {
		*id = info.id;
		*depth = info.depth;
	}
}

/* A worker: announce, signal readiness, wait for the context, report. */
static void work(const char *name, ctx_t *ctx, int ready_fd, int report_fd,
		 const char *how)
{
	struct report r = { .pid = getpid() };
	unsigned long long id;
	unsigned int depth;
	char byte = 'r';
	int ret;

	describe(ctx, &id, &depth);
	say(name, "got context #%llu (depth %u) %s; waiting in poll()",
	    id, depth, how);
	if (write(ready_fd, &byte, 1) != 1)
		exit(3);

	ret = ctx_wait(ctx, CTX_FOREVER);
	r.woke_ns = now_ns();
	if (ret < 0)
		die(name, "ctx_wait", ret);
	r.err = ctx_cause(ctx, &r.code, r.msg, sizeof(r.msg));
	snprintf(r.name, sizeof(r.name), "%s", name);
	say(name, "woke up: %s; cause %d \"%s\"", ctx_strerror(r.err), r.code,
	    r.msg);
	if (write(report_fd, &r, sizeof(r)) != sizeof(r))
		exit(3);
}

/* Worker B runs here after execve(): it finds its context through CTXFD. */
static int exec_worker(int argc, char **argv)
{
	const char *rep = getenv(REPORT_ENV);
	int ready_fd = argc > 2 ? atoi(argv[2]) : -1;
	int report_fd = rep ? atoi(rep) : -1;
	ctx_t *ctx, *child;
	ctx_cancel_t *cancel;
	pid_t pid;
	int ret;

	t0 = argc > 3 ? strtoull(argv[3], NULL, 10) : 0;
	ret = ctx_from_env(&ctx);
	if (ret != 1)
		die("worker B", "ctx_from_env", ret ? ret : -ENOENT);

	/* A grandchild gets a child context of B's, one level deeper. */
	ret = ctx_with_cancel(ctx, &child, &cancel);
	if (ret)
		die("worker B", "ctx_with_cancel", ret);
	pid = fork();
	if (pid < 0)
		die("worker B", "fork", errno);
	if (pid == 0) {
		work("worker B1", child, ready_fd, report_fd,
		     "as a child context of worker B's");
		_exit(0);
	}
	work("worker B", ctx, ready_fd, report_fd,
	     "after execve() via CTXFD");
	waitpid(pid, NULL, 0);
	ctx_cancel_release(cancel);
	ctx_release(child);
	ctx_release(ctx);
	return 0;
}

static pid_t spawn_fork_worker(ctx_t *ctx, int ready[2], int report[2])
{
	pid_t pid = fork();

	if (pid == 0) {
		close(ready[0]);
		close(report[0]);
		work("worker A", ctx, ready[1], report[1],
		     "by fork() (the same descriptor)");
		_exit(0);
	}
	return pid;
}

static pid_t spawn_exec_worker(const char *self, ctx_t *ctx, int ready[2],
			       int report[2])
{
	char env[CTX_ENV_MAX], rep_env[64], ready_arg[16], t0_arg[32];
	pid_t pid;
	int fd;

	fd = ctx_export_env(ctx, env, sizeof(env));
	if (fd < 0)
		die("parent", "ctx_export_env", fd);
	snprintf(rep_env, sizeof(rep_env), REPORT_ENV "=%d", report[1]);
	snprintf(ready_arg, sizeof(ready_arg), "%d", ready[1]);
	snprintf(t0_arg, sizeof(t0_arg), "%llu", (unsigned long long)t0);
	say("parent", "exec worker B with %s (a watch-only fd that survives execve)",
	    env);

	pid = fork();
	if (pid == 0) {
		char *args[] = { (char *)self, "--exec-worker", ready_arg,
				 t0_arg, NULL };
		char *envp[] = { env, rep_env, NULL };

		close(ready[0]);
		close(report[0]);
		execve(self, args, envp);
		_exit(127);
	}
	close(fd);
	return pid;
}

static pid_t spawn_socket_worker(ctx_t *ctx, ctx_cancel_t *cancel,
				 int ready[2], int report[2])
{
	ctx_t *got;
	int sv[2], ret;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("parent", "socketpair", errno);
	pid = fork();
	if (pid == 0) {
		/*
		 * Drop the contexts inherited by fork (closing copies of the
		 * descriptors cancels nothing while the parent holds its own):
		 * this worker holds only what arrives over the socket.
		 */
		ctx_cancel_release(cancel);
		ctx_release(ctx);
		close(sv[0]);
		close(ready[0]);
		close(report[0]);
		ret = ctx_recv(sv[1], &got);
		if (ret)
			die("worker C", "ctx_recv", ret);
		work("worker C", got, ready[1], report[1],
		     "over a unix socket (SCM_RIGHTS)");
		ctx_release(got);
		_exit(0);
	}
	close(sv[1]);
	ret = ctx_send(sv[0], ctx);
	if (ret)
		die("parent", "ctx_send", ret);
	close(sv[0]);
	return pid;
}

static int act1(const char *self)
{
	enum { WORKERS = 4 };	/* A, B, B1, C */
	struct report r[WORKERS];
	ctx_t *root;
	ctx_cancel_t *cancel;
	int ready[2], report[2], i, ok = 0, ret;
	unsigned long long id;
	unsigned int depth;
	uint64_t cancel_ns, cancel_done_ns;
	pid_t pids[3];
	char byte;

	say("parent", "--- Act 1: one context, four worker processes, one cancel ---");
	ret = ctx_with_cancel_cause(ctx_background(), &root, &cancel);
	if (ret)
		die("parent", "ctx_with_cancel_cause", ret);
	describe(root, &id, &depth);
	say("parent", "created context #%llu (a root; this process holds its cancel-capable fd)",
	    id);

	/* Not O_CLOEXEC: worker B reaches them after execve(). */
	if (pipe(ready) || pipe(report))
		die("parent", "pipe", errno);
	pids[0] = spawn_fork_worker(root, ready, report);
	pids[1] = spawn_exec_worker(self, root, ready, report);
	pids[2] = spawn_socket_worker(root, cancel, ready, report);
	close(ready[1]);
	close(report[1]);

	for (i = 0; i < WORKERS; i++)
		if (read(ready[0], &byte, 1) != 1)
			die("parent", "a worker did not start", EPIPE);
	say("parent", "all %d workers are waiting; canceling #%llu with cause %d \"%s\"",
	    WORKERS, id, CAUSE_CODE, CAUSE_MSG);

	cancel_ns = now_ns();
	ret = ctx_cancel_cause(cancel, CAUSE_CODE, CAUSE_MSG);
	cancel_done_ns = now_ns();
	if (ret)
		die("parent", "ctx_cancel_cause", ret);
	say("parent", "cancel returned after %.1f us: the whole tree is done already",
	    (cancel_done_ns - cancel_ns) / 1e3);

	for (i = 0; i < WORKERS; i++)
		if (read(report[0], &r[i], sizeof(r[i])) != sizeof(r[i]))
			die("parent", "a worker did not report", EPIPE);
	for (i = 0; i < 3; i++)
		waitpid(pids[i], NULL, 0);

	say("parent", "report:");
	for (i = 0; i < WORKERS; i++) {
		bool good = r[i].err == CTX_CANCELED && r[i].code == CAUSE_CODE &&
			    !strcmp(r[i].msg, CAUSE_MSG);

		ok += good;
		say("parent", "  %-10s pid %-6d %-17s cause %d \"%s\"  woke %7.1f us after cancel  %s",
		    r[i].name, (int)r[i].pid, ctx_strerror(r[i].err), r[i].code,
		    r[i].msg, ((int64_t)(r[i].woke_ns - cancel_ns)) / 1e3,
		    good ? "ok" : "WRONG");
	}
	ctx_cancel_release(cancel);
	ctx_release(root);
	close(ready[0]);
	close(report[0]);
	return ok == WORKERS;
}

static int act2(void)
{
	struct report r;
	int report[2], ready[2], status, good;
	pid_t sup;
	char byte;

	say("parent", "--- Act 2: the supervisor dies; nobody calls cancel ---");
	if (pipe2(ready, O_CLOEXEC) || pipe2(report, O_CLOEXEC))
		die("parent", "pipe", errno);
	sup = fork();
	if (sup == 0) {
		ctx_t *ctx, *watch;
		ctx_cancel_t *cancel;
		int fd, ret;
		pid_t w;

		ret = ctx_with_cancel(ctx_background(), &ctx, &cancel);
		if (ret)
			die("supervisor", "ctx_with_cancel", ret);
		/* The worker gets a watch-only fd: only we can cancel. */
		fd = ctx_fd(ctx, 0);
		if (fd < 0 || ctx_from_fd(fd, &watch))
			die("supervisor", "ctx_fd", fd);
		w = fork();
		if (w == 0) {
			ctx_cancel_release(cancel);	/* not ours */
			ctx_release(ctx);
			work("worker D", watch, ready[1], report[1],
			     "watch-only, from the supervisor");
			_exit(0);
		}
		ctx_release(watch);
		say("supervisor", "started worker D [%d]; now hanging forever", (int)w);
		pause();
		_exit(0);
	}
	close(ready[1]);
	close(report[1]);
	if (read(ready[0], &byte, 1) != 1)
		die("parent", "worker D did not start", EPIPE);
	say("parent", "kill -KILL the supervisor [%d]", (int)sup);
	kill(sup, SIGKILL);
	waitpid(sup, &status, 0);
	if (read(report[0], &r, sizeof(r)) != sizeof(r))
		die("parent", "worker D did not report", EPIPE);
	good = r.err == CTX_CANCELED;
	say("parent", "worker D saw: %s - the kernel canceled the context when the supervisor's last cancel fd closed  %s",
	    ctx_strerror(r.err), good ? "ok" : "WRONG");
	while (wait(NULL) > 0)
		;
	close(ready[0]);
	close(report[0]);
	return good;
}

int main(int argc, char **argv)
{
	char self[4096];
	ssize_t n;
	int ok;

	if (argc > 1 && !strcmp(argv[1], "--exec-worker"))
		return exec_worker(argc, argv);

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		die("parent", "readlink /proc/self/exe", errno);
	self[n] = '\0';
	t0 = now_ns();

	ok = act1(self);
	ok &= act2();
	say("parent", ok ? "--- every worker saw the cancel, with its cause: demo passed ---"
			 : "--- some worker saw something else: demo FAILED ---");
	return ok ? 0 : 1;
}
