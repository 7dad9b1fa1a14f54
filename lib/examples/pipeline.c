// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Multi-process scenario: a pipeline of three processes sharing one
 * context tree.
 *
 *   stage 1 --CTXFD--> stage 2 --SCM_RIGHTS--> stage 3
 *
 * Stage 1 makes the request context (a root with a "request-id" value)
 * and starts stage 2 with it in the CTXFD environment variable. Stage 2
 * adopts it (ctx_from_env), derives a child context of its own and sends
 * that child to stage 3 over a unix socket (ctx_send / ctx_recv). Stage 3
 * works under the child.
 *
 *   pipeline                   stage 2 cancels its child context: only
 *                              stage 3, downstream, sees it; stages 1
 *                              and 2 keep running under their contexts.
 *   pipeline --cancel-upstream stage 1 cancels the request: the whole
 *                              pipeline sees it, through both hops.
 *
 * The stages talk over their sockets only to take turns printing (one
 * byte per step), so the output is deterministic. Every wait is bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctxfd.h>

#define LIMIT (60 * CTX_SECOND)

static const char *self;

static void die(const char *what)
{
	fprintf(stderr, "pipeline[%d]: %s: %s\n", (int)getpid(), what,
		ctx_last_error()[0] ? ctx_last_error() : strerror(errno));
	exit(1);
}

static void send_byte(int sock, char c)
{
	if (write(sock, &c, 1) != 1)
		die("write");
}

static char recv_byte(int sock)
{
	char c;

	if (read(sock, &c, 1) != 1)
		die("read");
	return c;
}

/*
 * Start "self @stage <fd>" where <fd> is a copy of @sock that survives
 * execve() (every other descriptor here is close-on-exec); with @export,
 * also hand it that context through CTXFD. Returns the pid.
 */
static pid_t spawn(const char *stage, int sock, ctx_t *export)
{
	char arg[16];
	pid_t pid;
	int fd;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid)
		return pid;
	fd = dup(sock);		/* dup() drops close-on-exec */
	if (fd < 0)
		die("dup");
	if (export && ctx_export_env(export, NULL, 0) < 0)
		die("ctx_export_env");
	snprintf(arg, sizeof(arg), "%d", fd);
	execl(self, self, stage, arg, (char *)NULL);
	die("execl");
	return -1;
}

static void reap(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		die("a stage failed");
}

static void print_done(const char *who, ctx_t *ctx)
{
	char msg[CTX_CAUSE_MSG_MAX + 1];
	int err = ctx_cause(ctx, NULL, msg, sizeof(msg));

	printf("%s: %s (%s)\n", who, ctx_strerror(err), msg);
}

static int stage3(int up)
{
	char id[16];
	ctx_t *ctx;
	ssize_t n;

	if (ctx_recv(up, &ctx))
		die("ctx_recv");
	n = ctx_value(ctx, "request-id", id, sizeof(id) - 1);
	id[n > 0 ? n : 0] = '\0';
	printf("stage 3: request-id=%s\n", id);
	send_byte(up, 'r');

	if (ctx_wait(ctx, LIMIT) <= 0)
		die("stage 3 was never canceled");
	print_done("stage 3", ctx);
	send_byte(up, 'd');
	ctx_release(ctx);
	return 0;
}

static int stage2(int up)
{
	ctx_cancel_t *cancel;
	ctx_t *req, *mine;
	int sv[2];
	pid_t pid;
	char cmd;

	if (ctx_from_env(&req) != 1)
		die("ctx_from_env");
	if (ctx_with_cancel_cause(req, &mine, &cancel))
		die("ctx_with_cancel_cause");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
	pid = spawn("--stage3", sv[1], NULL);
	close(sv[1]);
	if (ctx_send(sv[0], mine))
		die("ctx_send");
	if (recv_byte(sv[0]) != 'r')
		die("protocol");
	send_byte(up, 'r');

	cmd = recv_byte(up);
	if (cmd == 'c') {
		/* Stop our part of the work: our child context only. */
		ctx_cancel_cause(cancel, 2, "stage 2 stopped its part");
		if (recv_byte(sv[0]) != 'd')
			die("protocol");
		printf("stage 2: own context: %s; upstream context: %s\n",
		       ctx_strerror(ctx_err(mine)),
		       ctx_err(req) ? ctx_strerror(ctx_err(req)) : "active");
	} else {
		if (recv_byte(sv[0]) != 'd')
			die("protocol");
		if (ctx_wait(req, LIMIT) <= 0)
			die("stage 2 was never canceled");
		print_done("stage 2: upstream context", req);
	}
	fflush(stdout);
	send_byte(up, 'd');
	reap(pid);
	ctx_cancel_release(cancel);
	ctx_release(mine);
	ctx_release(req);
	return 0;
}

static int stage1(bool cancel_upstream)
{
	ctx_cancel_t *cancel;
	ctx_t *root, *req;
	int sv[2];
	pid_t pid;

	if (ctx_with_cancel_cause(ctx_background(), &root, &cancel) ||
	    ctx_with_value(root, "request-id", "42", 2, &req))
		die("context");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
	pid = spawn("--stage2", sv[1], req);
	close(sv[1]);
	if (recv_byte(sv[0]) != 'r')
		die("protocol");

	if (!cancel_upstream) {
		send_byte(sv[0], 'c');
		if (recv_byte(sv[0]) != 'd')
			die("protocol");
		printf("stage 1: context %s\n",
		       ctx_err(req) ? ctx_strerror(ctx_err(req)) : "active");
	} else {
		send_byte(sv[0], 'u');
		ctx_cancel_cause(cancel, 1, "stopped by stage 1");
		if (recv_byte(sv[0]) != 'd')
			die("protocol");
		printf("stage 1: canceled the pipeline\n");
	}
	fflush(stdout);
	reap(pid);
	close(sv[0]);
	ctx_release(req);
	ctx_cancel_release(cancel);
	ctx_release(root);
	return 0;
}

int main(int argc, char **argv)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	if (n <= 0)
		die("readlink /proc/self/exe");
	path[n] = '\0';
	self = path;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && (!strcmp(argv[1], "--stage2") ||
			  !strcmp(argv[1], "--stage3"))) {
		int up = atoi(argv[2]);

		fcntl(up, F_SETFD, FD_CLOEXEC);	/* ours, not our children's */
		return argv[1][7] == '2' ? stage2(up) : stage3(up);
	}
	return stage1(argc == 2 && !strcmp(argv[1], "--cancel-upstream"));
}

/* Output:
 * stage 3: request-id=42
 * stage 3: context canceled (stage 2 stopped its part)
 * stage 2: own context: context canceled; upstream context: active
 * stage 1: context active
 */

/* Output (--cancel-upstream):
 * stage 3: request-id=42
 * stage 3: context canceled (stopped by stage 1)
 * stage 2: upstream context: context canceled (stopped by stage 1)
 * stage 1: canceled the pipeline
 */
