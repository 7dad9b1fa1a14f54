// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Seed scenario: stopping an endless watch loop by canceling its context.
 *
 * watch() watches a directory with inotify forever, reporting every file
 * created in it, until its context is done. It waits on the inotify fd
 * and on ctx_done_fd() in the same epoll set, the way any event loop can
 * include a context. Another thread (here a "producer" that creates three
 * files, then asks for a shutdown with a cause) stops the loop by
 * canceling the context: no flag, no signal, no self-pipe.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <ctxfd.h>

#define SHUTDOWN 1	/* cause code of a requested shutdown */

/* Print the creations queued on @ifd; false when the queue is empty. */
static int report(int ifd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t len = read(ifd, buf, sizeof(buf));
	char *p;

	if (len <= 0)
		return 0;
	for (p = buf; p < buf + len;) {
		struct inotify_event *ev = (struct inotify_event *)p;

		if (ev->mask & IN_CREATE)
			printf("event: created %s\n", ev->name);
		p += sizeof(*ev) + ev->len;
	}
	return 1;
}

/* Start watching @dir: an inotify fd. */
static int watch_open(const char *dir)
{
	int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (ifd < 0 || inotify_add_watch(ifd, dir, IN_CREATE) < 0)
		return -1;
	return ifd;
}

/* The endless loop: returns why it stopped (the context's err). */
static int watch(ctx_t *ctx, int ifd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep, err = 0;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -1;
	ev.data.fd = ifd;
	epoll_ctl(ep, EPOLL_CTL_ADD, ifd, &ev);
	ev.data.fd = ctx_done_fd(ctx);
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);

	while (!err) {
		struct epoll_event got[2];
		int i, n = epoll_wait(ep, got, 2, -1);

		for (i = 0; i < n; i++) {
			if (got[i].data.fd == ifd)
				report(ifd);
			else
				err = ctx_err(ctx);
		}
	}
	/* Events that were queued before the cancel are still reported. */
	while (report(ifd))
		;
	close(ep);
	close(ifd);
	return err;
}

struct producer {
	ctx_cancel_t *cancel;
	const char *dir;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	static const char *const names[] = { "a.txt", "b.txt", "c.txt" };
	char path[PATH_MAX];
	int i;

	for (i = 0; i < 3; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", p->dir, names[i]);
		f = fopen(path, "w");
		if (f)
			fclose(f);
	}
	ctx_cancel_cause(p->cancel, SHUTDOWN, "shutdown requested");
	return NULL;
}

int main(void)
{
	char dir[] = "/tmp/watch_loop.XXXXXX", path[PATH_MAX];
	char msg[CTX_CAUSE_MSG_MAX + 1];
	struct producer prod;
	pthread_t t;
	ctx_t *ctx;
	int err, i, ifd;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	if (ctx_with_cancel_cause(ctx_background(), &ctx, &prod.cancel)) {
		fprintf(stderr, "%s\n", ctx_last_error());
		return 1;
	}
	prod.dir = dir;

	ifd = watch_open(dir);
	if (ifd < 0) {
		perror("inotify");
		return 1;
	}
	pthread_create(&t, NULL, produce, &prod);
	err = watch(ctx, ifd);
	pthread_join(t, NULL);
	if (err < 0) {
		fprintf(stderr, "watch failed\n");
		return 1;
	}
	ctx_cause(ctx, NULL, msg, sizeof(msg));
	printf("watch stopped: %s (%s)\n", ctx_strerror(err), msg);

	ctx_cancel_release(prod.cancel);
	ctx_release(ctx);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%c.txt", dir, 'a' + i);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}

/* Output:
 * event: created a.txt
 * event: created b.txt
 * event: created c.txt
 * watch stopped: context canceled (shutdown requested)
 */
