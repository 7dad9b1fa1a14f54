// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Contexts across processes: exporting and adopting descriptors, passing
 * them over unix sockets (SCM_RIGHTS), the CTXFD environment convention,
 * and process-tree teardown (CTXFD_IOC_ATTACH).
 *
 * CTXFD works like systemd's LISTEN_FDS: a parent creates a descriptor
 * that survives execve() and names it in the child's environment; the
 * child adopts it once (ctx_from_env()), makes it close-on-exec and unsets
 * the variable, so that its own children do not mistake a reused number
 * for a context.
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/* A root that is never done: how Background travels to other processes. */
static int ctx__background_fd(int flags, const char *what)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_NO_CANCEL_ON_CLOSE,
	};
	struct ctxfd_watch watch = { .flags = flags };
	int root, fd;

	root = ctx__new_root(&args, what);
	if (root < 0)
		return root;
	fd = ioctl(root, CTXFD_IOC_WATCH, &watch);
	if (fd < 0)
		fd = ctx__fail_errno("%s: CTXFD_IOC_WATCH", what);
	close(root);	/* nobody can cancel it any more */
	return fd;
}

static int ctx__watch_fd(ctx_t *ctx, int flags, const char *what)
{
	struct ctxfd_watch args = { 0 };
	int fd;

	if (!ctx)
		return ctx__fail(EINVAL, "%s: NULL context", what);
	if (flags & ~CTX_NO_CLOEXEC)
		return ctx__fail(EINVAL, "%s: unknown flags %#x", what, flags);
	if (flags & CTX_NO_CLOEXEC)
		args.flags |= CTXFD_WATCH_NO_CLOEXEC;
	if (ctx->fd < 0)
		return ctx__background_fd((int)args.flags, what);
	fd = ioctl(ctx->fd, CTXFD_IOC_WATCH, &args);
	if (fd < 0)
		return ctx__fail_errno("%s: CTXFD_IOC_WATCH", what);
	return fd;
}

int ctx_fd(ctx_t *ctx, int flags)
{
	return ctx__watch_fd(ctx, flags, "ctx_fd");
}

int ctx_from_fd(int fd, ctx_t **ctx)
{
	if (!ctx)
		return ctx__fail(EINVAL, "ctx_from_fd: NULL result pointer");
	return ctx__adopt(fd, false, ctx);
}

int ctx_cancel_fd(ctx_cancel_t *cancel, int flags)
{
	int fd;

	if (!cancel)
		return ctx__fail(EINVAL, "ctx_cancel_fd: NULL cancel handle");
	if (flags & ~CTX_NO_CLOEXEC)
		return ctx__fail(EINVAL, "ctx_cancel_fd: unknown flags %#x", flags);
	fd = fcntl(cancel->ctx->fd,
		   (flags & CTX_NO_CLOEXEC) ? F_DUPFD : F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return ctx__fail_errno("ctx_cancel_fd: dup");
	return fd;
}

int ctx_cancel_from_fd(int fd, ctx_t **ctx, ctx_cancel_t **cancel)
{
	struct ctx_context *c;
	int ret;

	if (ctx)
		*ctx = NULL;
	if (cancel)
		*cancel = NULL;
	if (!ctx || !cancel)
		return ctx__fail(EINVAL, "ctx_cancel_from_fd: NULL result pointer");
	ret = ctx__adopt(fd, true, &c);
	if (ret)
		return ret;
	atomic_store_explicit(&c->refs, 2, memory_order_relaxed);
	c->cancel.ctx = c;
	c->cancel.cause_ok = true;	/* unknown: let the caller decide */
	*ctx = c;
	*cancel = &c->cancel;
	return 0;
}

/* ---- SCM_RIGHTS ----------------------------------------------------------- */

#define CTX_MSG_WATCH	'W'
#define CTX_MSG_CANCEL	'X'

static int ctx__send_fd(int sock, int fd, char tag, const char *what)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cmsg;
	struct iovec iov = { .iov_base = &tag, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cmsg.buf,
		.msg_controllen = sizeof(cmsg.buf),
	};
	struct cmsghdr *c;
	ssize_t n;

	memset(&cmsg, 0, sizeof(cmsg));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return ctx__fail_errno("%s: sendmsg", what);
	return 0;
}

/* Receive one descriptor; returns it, or a negative errno. */
static int ctx__recv_fd(int sock, char *tag, const char *what)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} cmsg;
	struct iovec iov = { .iov_base = tag, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cmsg.buf,
		.msg_controllen = sizeof(cmsg.buf),
	};
	struct cmsghdr *c;
	int fd = -1;
	ssize_t n;

	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return ctx__fail_errno("%s: recvmsg", what);
	/* Take the first descriptor, close anything else we were sent. */
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		size_t i, nfds;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			int got;

			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fd < 0)
				fd = got;
			else
				close(got);
		}
	}
	if (n == 0 && fd < 0)
		return ctx__fail(ECONNRESET, "%s: the peer closed the socket", what);
	if (fd < 0)
		return ctx__fail(EBADMSG, "%s: the message carried no descriptor",
				 what);
	if (msg.msg_flags & MSG_CTRUNC) {
		close(fd);
		return ctx__fail(EBADMSG, "%s: descriptors were truncated", what);
	}
	return fd;
}

int ctx_send(int sock, ctx_t *ctx)
{
	int fd, ret;

	fd = ctx__watch_fd(ctx, 0, "ctx_send");
	if (fd < 0)
		return fd;
	ret = ctx__send_fd(sock, fd, CTX_MSG_WATCH, "ctx_send");
	close(fd);
	return ret;
}

int ctx_cancel_send(int sock, ctx_cancel_t *cancel)
{
	if (!cancel)
		return ctx__fail(EINVAL, "ctx_cancel_send: NULL cancel handle");
	return ctx__send_fd(sock, cancel->ctx->fd, CTX_MSG_CANCEL,
			    "ctx_cancel_send");
}

int ctx_recv(int sock, ctx_t **ctx)
{
	char tag = 0;
	int fd, ret;

	if (!ctx)
		return ctx__fail(EINVAL, "ctx_recv: NULL result pointer");
	*ctx = NULL;
	fd = ctx__recv_fd(sock, &tag, "ctx_recv");
	if (fd < 0)
		return fd;
	ret = ctx__adopt(fd, false, ctx);
	if (ret)
		close(fd);
	return ret;
}

int ctx_cancel_recv(int sock, ctx_t **ctx, ctx_cancel_t **cancel)
{
	char tag = 0;
	int fd, ret;

	if (ctx)
		*ctx = NULL;
	if (cancel)
		*cancel = NULL;
	if (!ctx || !cancel)
		return ctx__fail(EINVAL, "ctx_cancel_recv: NULL result pointer");
	fd = ctx__recv_fd(sock, &tag, "ctx_cancel_recv");
	if (fd < 0)
		return fd;
	ret = ctx_cancel_from_fd(fd, ctx, cancel);
	if (ret)
		close(fd);
	return ret;
}

/* ---- CTXFD=<fd> ------------------------------------------------------------ */

static pthread_mutex_t ctx_env_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ctx_context *ctx_env_ctx;	/* adopted once, kept */

static void ctx__env_atfork_prepare(void)
{
	pthread_mutex_lock(&ctx_env_lock);
}

static void ctx__env_atfork_release(void)
{
	pthread_mutex_unlock(&ctx_env_lock);
}

static void ctx__env_init(void)
{
	pthread_atfork(ctx__env_atfork_prepare, ctx__env_atfork_release,
		       ctx__env_atfork_release);
}

int ctx_from_env(ctx_t **ctx)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct ctx_context *c;
	const char *val;
	char *end;
	long fd;
	int ret;

	if (!ctx)
		return ctx__fail(EINVAL, "ctx_from_env: NULL result pointer");
	*ctx = NULL;
	pthread_once(&once, ctx__env_init);
	pthread_mutex_lock(&ctx_env_lock);
	if (ctx_env_ctx) {
		*ctx = ctx_retain(ctx_env_ctx);
		ret = 1;
		goto out;
	}
	val = getenv(CTX_ENV);
	if (!val || !*val) {
		*ctx = ctx_background();
		ret = 0;
		goto out;
	}
	errno = 0;
	fd = strtol(val, &end, 10);
	if (errno || *end || fd < 0 || fd > INT_MAX) {
		ret = ctx__fail(EINVAL, "ctx_from_env: %s=%s is not a descriptor",
				CTX_ENV, val);
		goto out;
	}
	ret = ctx__adopt((int)fd, false, &c);
	if (ret)
		goto out;
	if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0) {
		ret = ctx__fail_errno("ctx_from_env: F_SETFD");
		c->fd = -1;	/* not ours to close after all */
		ctx_release(c);
		goto out;
	}
	unsetenv(CTX_ENV);
	ctx_env_ctx = c;
	*ctx = ctx_retain(c);
	ret = 1;
out:
	pthread_mutex_unlock(&ctx_env_lock);
	return ret;
}

int ctx_export_env(ctx_t *ctx, char *buf, size_t len)
{
	char env[CTX_ENV_MAX];
	int fd;

	if (!ctx)
		return ctx__fail(EINVAL, "ctx_export_env: NULL context");
	if (buf && len < CTX_ENV_MAX)
		return ctx__fail(ERANGE, "ctx_export_env: buffer shorter than CTX_ENV_MAX");
	fd = ctx__watch_fd(ctx, CTX_NO_CLOEXEC, "ctx_export_env");
	if (fd < 0)
		return fd;
	snprintf(env, sizeof(env), "%s=%d", CTX_ENV, fd);
	if (buf) {
		memcpy(buf, env, strlen(env) + 1);
	} else if (setenv(CTX_ENV, env + strlen(CTX_ENV) + 1, 1) < 0) {
		int ret = ctx__fail_errno("ctx_export_env: setenv");

		close(fd);
		return ret;
	}
	return fd;
}

/* ---- process-tree teardown -------------------------------------------------- */

int ctx_kill_on_cancel(ctx_t *ctx, pid_t pid, int sig, ctx_duration_t grace,
		       unsigned int flags)
{
	struct ctxfd_attach args = { 0 };
	int pidfd, ret;

	if (!ctx)
		return ctx__fail(EINVAL, "ctx_kill_on_cancel: NULL context");
	if (pid <= 0 || sig <= 0 || sig > SIGRTMAX || grace < 0 ||
	    (flags & ~(unsigned int)(CTX_KILL_DESCENDANTS |
				     CTX_KILL_DESCENDANTS_ONLY)))
		return ctx__fail(EINVAL, "ctx_kill_on_cancel: invalid argument");
	/* A context that is never done never signals anybody. */
	if (ctx->never_done)
		return 0;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return ctx__fail_errno("ctx_kill_on_cancel: pidfd_open(%d)", (int)pid);
	if (flags & CTX_KILL_DESCENDANTS)
		args.flags |= CTXFD_ATTACH_DESCENDANTS;
	if (flags & CTX_KILL_DESCENDANTS_ONLY)
		args.flags |= CTXFD_ATTACH_DESCENDANTS_ONLY;
	args.pidfd = pidfd;
	args.signal = (__u32)sig;
	args.grace_ns = (__u64)grace;
	args.pid = pid;
	ret = ioctl(ctx->fd, CTXFD_IOC_ATTACH, &args);
	if (ret < 0)
		ret = ctx__fail_errno(errno == ENOTTY ?
				      "ctx_kill_on_cancel: CTXFD_IOC_ATTACH (not implemented by this kernel module)" :
				      "ctx_kill_on_cancel: CTXFD_IOC_ATTACH");
	close(pidfd);
	return ret;
}
