// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Contexts across machines: the client side of ctxd(8).
 *
 * ctx_export() publishes a context under a name through the local ctxd;
 * ctx_join() asks the local ctxd for a context that follows the one
 * exported under a name, on whatever host. Both talk to ctxd over its
 * unix socket ($CTXD_SOCKET, else /run/ctxd/ctxd.sock) with the messages
 * of ctxd_proto.h; descriptors travel in SCM_RIGHTS. The library needs no
 * etcd client: ctxd does all of that.
 *
 * An export lasts as long as its connection: the handle keeps the socket
 * open, and closing it (ctx_export_release(), or the last process holding
 * it exiting) withdraws the export.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctxd_proto.h"
#include "internal.h"

/* How long to wait for ctxd's answer before giving up. */
#define CTX_CTXD_TIMEOUT_S	60

struct ctx_export_handle {
	int sock;
};

static const char *ctx__ctxd_path(void)
{
	const char *p = secure_getenv(CTXD_SOCKET_ENV);

	return p && *p ? p : CTXD_SOCKET_DEFAULT;
}

/* Connect to ctxd; returns the socket or a negative errno. */
static int ctx__ctxd_connect(const char *what)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CTX_CTXD_TIMEOUT_S };
	const char *path = ctx__ctxd_path();
	int sock;

	if (strlen(path) >= sizeof(addr.sun_path))
		return ctx__fail(ENAMETOOLONG, "%s: %s=%s is too long", what,
				 CTXD_SOCKET_ENV, path);
	strcpy(addr.sun_path, path);
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return ctx__fail_errno("%s: socket", what);
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = errno;

		close(sock);
		if (err == ENOENT || err == ECONNREFUSED)
			return ctx__fail(err,
					 "%s: ctxd is not running (nothing listens on %s; see ctxd(8))",
					 what, path);
		if (err == EACCES || err == EPERM)
			return ctx__fail(err,
					 "%s: no permission to use ctxd's socket %s (its group may use it: see ctxd(8))",
					 what, path);
		errno = err;
		return ctx__fail_errno("%s: connect %s", what, path);
	}
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return sock;
}

/* Send a request: @op, @flags, @n strings, @nfds descriptors. */
static int ctx__ctxd_send(int sock, unsigned int op, unsigned int flags,
			  const char *const *strs, size_t n, const int *fds,
			  int nfds, const char *what)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} cmsg;
	struct ctxd_msg m = {
		.magic = CTXD_MSG_MAGIC,
		.version = CTXD_MSG_VERSION,
		.op = (uint16_t)op,
		.flags = flags,
		.nr_strings = (uint32_t)n,
	};
	struct msghdr msg = { 0 };
	struct iovec *iov;
	size_t i, total = sizeof(m);
	ssize_t sent;
	int ret = 0;

	for (i = 0; i < n; i++)
		total += strlen(strs[i]) + 1;
	if (total > CTXD_MSG_MAX)
		return ctx__fail(E2BIG, "%s: the request is too big (%zu bytes, at most %d)",
				 what, total, CTXD_MSG_MAX);
	iov = calloc(n + 1, sizeof(*iov));
	if (!iov)
		return ctx__fail(ENOMEM, "%s: out of memory", what);
	iov[0].iov_base = &m;
	iov[0].iov_len = sizeof(m);
	for (i = 0; i < n; i++) {
		iov[i + 1].iov_base = (void *)strs[i];
		iov[i + 1].iov_len = strlen(strs[i]) + 1;
	}
	msg.msg_iov = iov;
	msg.msg_iovlen = n + 1;
	if (nfds) {
		struct cmsghdr *h;

		memset(&cmsg, 0, sizeof(cmsg));
		msg.msg_control = cmsg.buf;
		msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		h = CMSG_FIRSTHDR(&msg);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(h), fds, (size_t)nfds * sizeof(int));
	}
	do {
		sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (sent < 0 && errno == EINTR);
	if (sent < 0)
		ret = ctx__fail_errno("%s: cannot talk to ctxd", what);
	free(iov);
	return ret;
}

/*
 * Wait for ctxd's answer. Returns its status (0 or -errno, with
 * ctxd's message as the error) and, if @fd is not NULL, the descriptor
 * it carried (-1 if none).
 */
static int ctx__ctxd_reply(int sock, int *fd, const char *what)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} cmsg;
	char buf[1024];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cmsg.buf,
		.msg_controllen = sizeof(cmsg.buf),
	};
	struct cmsghdr *h;
	struct ctxd_msg m;
	int got = -1;
	ssize_t n;

	if (fd)
		*fd = -1;
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return ctx__fail(ETIMEDOUT, "%s: ctxd did not answer within %d s",
					 what, CTX_CTXD_TIMEOUT_S);
		return ctx__fail_errno("%s: cannot hear from ctxd", what);
	}
	for (h = CMSG_FIRSTHDR(&msg); h; h = CMSG_NXTHDR(&msg, h)) {
		size_t i, nfds;

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			int one;

			memcpy(&one, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (got < 0 && fd)
				got = one;
			else
				close(one);
		}
	}
	if (n == 0)
		return ctx__fail(ECONNRESET, "%s: ctxd closed the connection", what);
	if ((size_t)n < sizeof(m)) {
		if (got >= 0)
			close(got);
		return ctx__fail(EBADMSG, "%s: malformed answer from ctxd", what);
	}
	memcpy(&m, buf, sizeof(m));
	buf[n] = '\0';
	if (m.magic != CTXD_MSG_MAGIC || m.op != CTXD_OP_REPLY) {
		if (got >= 0)
			close(got);
		return ctx__fail(EBADMSG, "%s: malformed answer from ctxd", what);
	}
	if (m.status) {
		int err = m.status < 0 ? -m.status : EIO;

		if (got >= 0)
			close(got);
		return ctx__fail(err, "%s: %s", what,
				 (size_t)n > sizeof(m) && buf[sizeof(m)] ?
				 buf + sizeof(m) : strerror(err));
	}
	if (fd)
		*fd = got;
	return 0;
}

int ctx_export(ctx_t *ctx, ctx_cancel_t *cancel, const char *name,
	       const char *const *keys, ctx_export_t **exp)
{
	const char **strs = NULL;
	struct ctx_export_handle *h;
	int fds[2] = { -1, -1 }, nfds = 1, sock = -1, ret;
	size_t nkeys = 0, i;

	if (exp)
		*exp = NULL;
	if (!ctx || !name || !exp)
		return ctx__fail(EINVAL, "ctx_export: NULL argument");
	if (cancel && cancel->ctx != ctx)
		return ctx__fail(EINVAL,
				 "ctx_export: the cancel handle is not the context's own");
	if (!ctxd_name_valid(name))
		return ctx__fail(EINVAL,
				 "ctx_export: invalid name \"%s\": segments of [A-Za-z0-9._-] joined by '/', at most %d bytes",
				 name, CTXD_NAME_MAX);
	while (keys && keys[nkeys]) {
		if (!keys[nkeys][0])
			return ctx__fail(EINVAL, "ctx_export: empty value key");
		nkeys++;
	}
	strs = calloc(nkeys + 1, sizeof(*strs));
	h = calloc(1, sizeof(*h));
	if (!strs || !h) {
		ret = ctx__fail(ENOMEM, "ctx_export: out of memory");
		goto out;
	}
	strs[0] = name;
	for (i = 0; i < nkeys; i++)
		strs[i + 1] = keys[i];
	ret = fds[0] = ctx_fd(ctx, 0);
	if (ret < 0)
		goto out;
	if (cancel) {
		ret = fds[1] = ctx_cancel_fd(cancel, 0);
		if (ret < 0)
			goto out;
		nfds = 2;
	}
	ret = sock = ctx__ctxd_connect("ctx_export");
	if (ret < 0)
		goto out;
	ret = ctx__ctxd_send(sock, CTXD_OP_EXPORT, cancel ? CTXD_EXPORT_CANCEL : 0,
			     strs, nkeys + 1, fds, nfds, "ctx_export");
	if (ret)
		goto out;
	ret = ctx__ctxd_reply(sock, NULL, "ctx_export");
	if (ret)
		goto out;
	/* From now on, ctxd holds its own copies; the socket is the export. */
	h->sock = sock;
	sock = -1;
	*exp = h;
	h = NULL;
out:
	if (sock >= 0)
		close(sock);
	for (i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(strs);
	free(h);
	return ret;
}

void ctx_export_release(ctx_export_t *exp)
{
	if (!exp)
		return;
	close(exp->sock);
	free(exp);
}

int ctx_join(const char *name, unsigned int flags, ctx_t **ctx,
	     ctx_cancel_t **cancel)
{
	const char *strs[3] = { name, "", "" };
	char *cred = NULL, *colon = NULL;
	size_t cred_len = 0;
	int sock, fd, ret;

	if (ctx)
		*ctx = NULL;
	if (cancel)
		*cancel = NULL;
	if (!name || !ctx)
		return ctx__fail(EINVAL, "ctx_join: NULL argument");
	if (flags & ~(unsigned int)CTX_JOIN_CANCEL)
		return ctx__fail(EINVAL, "ctx_join: unknown flags %#x", flags);
	if ((flags & CTX_JOIN_CANCEL) && !cancel)
		return ctx__fail(EINVAL,
				 "ctx_join: CTX_JOIN_CANCEL needs a place for the cancel handle");
	if (!ctxd_name_valid(name))
		return ctx__fail(EINVAL,
				 "ctx_join: invalid name \"%s\": segments of [A-Za-z0-9._-] joined by '/', at most %d bytes",
				 name, CTXD_NAME_MAX);
	if (flags & CTX_JOIN_CANCEL) {
		const char *env = secure_getenv(CTXD_USER_ENV);

		/* etcdctl's --user form: "user:password". */
		if (env && *env) {
			cred_len = strlen(env);
			cred = strdup(env);
			if (!cred)
				return ctx__fail(ENOMEM, "ctx_join: out of memory");
			colon = strchr(cred, ':');
			if (colon)
				*colon++ = '\0';
			strs[1] = cred;
			strs[2] = colon ? colon : "";
		}
	}
	sock = ret = ctx__ctxd_connect("ctx_join");
	if (ret < 0)
		goto out;
	ret = ctx__ctxd_send(sock, CTXD_OP_JOIN,
			     (flags & CTX_JOIN_CANCEL) ? CTXD_JOIN_CANCEL : 0,
			     strs, (flags & CTX_JOIN_CANCEL) ? 3 : 1, NULL, 0,
			     "ctx_join");
	if (!ret)
		ret = ctx__ctxd_reply(sock, &fd, "ctx_join");
	close(sock);
	if (ret)
		goto out;
	if (fd < 0) {
		ret = ctx__fail(EBADMSG, "ctx_join: ctxd sent no context");
		goto out;
	}
	if (flags & CTX_JOIN_CANCEL)
		ret = ctx_cancel_from_fd(fd, ctx, cancel);
	else
		ret = ctx_from_fd(fd, ctx);
	if (ret)
		close(fd);
out:
	if (cred) {
		explicit_bzero(cred, cred_len);
		free(cred);
	}
	return ret;
}
