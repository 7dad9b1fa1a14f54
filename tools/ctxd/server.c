// SPDX-License-Identifier: GPL-2.0
/*
 * The local socket: libctxfd's ctx_export() and ctx_join() talk to ctxd
 * here (the messages are in lib/ctxd_proto.h).
 *
 * Who may connect is the socket's mode and group (--socket-mode,
 * --socket-group; default 0660 root:ctxd if that group exists, else 0600):
 * anyone who can connect can read remote contexts' values and states,
 * and publish names. The cancel right is not given by this socket: it
 * takes etcd credentials that etcd itself accepts (remote.c). Every
 * request is logged with the peer's uid and pid (SO_PEERCRED), and a
 * remote cancel records them in the record's "by".
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctxd.h"

int server_start(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char *dir, *slash;
	mode_t old;
	int fd;

	if (strlen(d.socket_path) >= sizeof(addr.sun_path)) {
		say("socket path too long: %s", d.socket_path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, d.socket_path);
	/* The directory (e.g. /run/ctxd), readable by everyone. */
	dir = strdup(d.socket_path);
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			say("cannot create %s: %s", dir, strerror(errno));
			free(dir);
			return -errno;
		}
	}
	free(dir);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A stale socket of a ctxd that died: nobody listens behind it. */
	unlink(d.socket_path);
	/* Born with no access at all; the mode is set once the group is. */
	old = umask(0777);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = errno;

		umask(old);
		say("cannot bind %s: %s", d.socket_path, strerror(err));
		close(fd);
		return -err;
	}
	umask(old);
	if ((d.socket_gid != (gid_t)-1 &&
	     chown(d.socket_path, (uid_t)-1, d.socket_gid) < 0) ||
	    chmod(d.socket_path, d.socket_mode) < 0 || listen(fd, 64) < 0) {
		int err = errno;

		say("cannot set up %s: %s", d.socket_path, strerror(err));
		close(fd);
		unlink(d.socket_path);
		return -err;
	}
	d.lfd = fd;
	d.listen_src.kind = SRC_LISTEN;
	return ep_add(fd, &d.listen_src);
}

void server_stop(void)
{
	struct list *p, *n;

	if (d.lfd >= 0) {
		ep_del(d.lfd);
		close(d.lfd);
		unlink(d.socket_path);
		d.lfd = -1;
	}
	list_for_each_safe(p, n, &d.clients)
		client_free(list_entry(p, struct client, node));
}

const char *client_who(const struct client *c)
{
	static char buf[96];

	snprintf(buf, sizeof(buf), "uid %u pid %d on %s", (unsigned int)c->uid,
		 (int)c->pid, d.host);
	return buf;
}

void server_accept(void)
{
	for (;;) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct client *c;
		int fd;

		fd = accept4(d.lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				say("accept: %s", strerror(errno));
			return;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->src.kind = SRC_CLIENT;
		c->fd = fd;
		list_init(&c->wait);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
			c->uid = cred.uid;
			c->pid = cred.pid;
		}
		list_add_tail(&c->node, &d.clients);
		if (ep_add(fd, &c->src) < 0)
			client_free(c);
	}
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void client_free(struct client *c)
{
	if (c->exp)
		export_withdraw(c->exp);
	if (c->remote)
		remote_client_gone(c);
	etcd_call_cancel(c->call);
	wipe_free(c->auth.user);
	wipe_free(c->auth.password);
	wipe_free(c->auth.token);
	if (c->fd >= 0) {
		ep_del(c->fd);
		close(c->fd);
	}
	list_del(&c->node);
	free(c);
}

void client_reply(struct client *c, int status, int fd, const char *fmt, ...)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cmsg;
	struct ctxd_msg m = {
		.magic = CTXD_MSG_MAGIC,
		.version = CTXD_MSG_VERSION,
		.op = CTXD_OP_REPLY,
		.status = status,
		.nr_strings = 1,
	};
	char text[512];
	struct iovec iov[2] = {
		{ .iov_base = &m, .iov_len = sizeof(m) },
		{ .iov_base = text },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	iov[1].iov_len = strlen(text) + 1;
	if (fd >= 0) {
		struct cmsghdr *h;

		memset(&cmsg, 0, sizeof(cmsg));
		msg.msg_control = cmsg.buf;
		msg.msg_controllen = sizeof(cmsg.buf);
		h = CMSG_FIRSTHDR(&msg);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(h), &fd, sizeof(int));
	}
	if (sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		info("%s: cannot answer: %s", client_who(c), strerror(errno));
	if (status)
		info("%s: refused: %s", client_who(c), text);
}

/* Take the descriptors of a message; returns how many (at most @max). */
static int take_fds(struct msghdr *msg, int *fds, int max)
{
	struct cmsghdr *h;
	int n = 0;

	for (h = CMSG_FIRSTHDR(msg); h; h = CMSG_NXTHDR(msg, h)) {
		size_t i, nfds;

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (n < max)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

/* Split the strings after the header; NULL if malformed. */
static char **split_strings(char *p, size_t len, uint32_t n)
{
	char **v = calloc(n + 1, sizeof(char *));
	uint32_t i;

	if (!v)
		return NULL;
	for (i = 0; i < n; i++) {
		char *end = memchr(p, '\0', len);

		if (!end) {
			free(v);
			return NULL;
		}
		v[i] = p;
		len -= (size_t)(end - p) + 1;
		p = end + 1;
	}
	return v;
}

static void client_request(struct client *c)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} cmsg;
	static char buf[CTXD_MSG_MAX];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cmsg.buf,
		.msg_controllen = sizeof(cmsg.buf),
	};
	struct ctxd_msg m;
	int fds[2] = { -1, -1 }, nfds, i;
	char **str = NULL;
	ssize_t n;

	n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	nfds = n >= 0 ? take_fds(&msg, fds, 2) : 0;
	if (n <= 0 || c->op) {
		/* Hung up, or a second message: the connection is over. */
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		client_free(c);
		return;
	}
	if ((size_t)n < sizeof(m) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		client_reply(c, -EBADMSG, -1, "malformed request");
		goto drop;
	}
	memcpy(&m, buf, sizeof(m));
	if (m.magic != CTXD_MSG_MAGIC || m.version != CTXD_MSG_VERSION) {
		client_reply(c, -EPROTO, -1,
			     "protocol version mismatch: libctxfd and ctxd differ");
		goto drop;
	}
	str = split_strings(buf + sizeof(m), (size_t)n - sizeof(m), m.nr_strings);
	if (!str || m.nr_strings < 1) {
		client_reply(c, -EBADMSG, -1, "malformed request");
		goto drop;
	}
	c->op = m.op;
	switch (m.op) {
	case CTXD_OP_EXPORT:
		if (m.flags & ~CTXD_EXPORT_CANCEL ||
		    nfds != ((m.flags & CTXD_EXPORT_CANCEL) ? 2 : 1)) {
			client_reply(c, -EBADMSG, -1, "malformed export request");
			goto drop;
		}
		info("%s: export %s%s", client_who(c), str[0],
		     (m.flags & CTXD_EXPORT_CANCEL) ? " (cancelable)" : "");
		/* On success the export owns the descriptors. */
		if (export_create(c, str[0], str + 1, (int)m.nr_strings - 1,
				  fds[0], nfds > 1 ? fds[1] : -1) < 0)
			goto drop;
		free(str);
		return;
	case CTXD_OP_JOIN:
		if (nfds || m.flags & ~CTXD_JOIN_CANCEL ||
		    m.nr_strings != ((m.flags & CTXD_JOIN_CANCEL) ? 3u : 1u)) {
			client_reply(c, -EBADMSG, -1, "malformed join request");
			goto drop;
		}
		c->flags = m.flags;
		if ((m.flags & CTXD_JOIN_CANCEL) && str[1][0]) {
			c->auth.user = strdup(str[1]);
			c->auth.password = strdup(str[2]);
			if (!c->auth.user || !c->auth.password) {
				client_reply(c, -ENOMEM, -1, "out of memory");
				goto drop;
			}
		}
		if ((m.flags & CTXD_JOIN_CANCEL) && str[2][0])
			explicit_bzero(str[2], strlen(str[2]));
		info("%s: join %s%s", client_who(c), str[0],
		     (m.flags & CTXD_JOIN_CANCEL) ? " with the cancel right" : "");
		remote_join(c, str[0]);
		free(str);
		return;
	default:
		client_reply(c, -EOPNOTSUPP, -1, "unknown request %u", m.op);
		goto drop;
	}
drop:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	free(str);
	client_free(c);
}

void server_client_event(struct client *c, uint32_t events)
{
	if (events & EPOLLIN) {
		client_request(c);
		return;
	}
	if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
		client_free(c);
}
