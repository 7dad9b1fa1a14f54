// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Go's ExampleAfterFunc_connection: AfterFunc defines a function which
 * reads from a connection, stopping the read when a context is canceled.
 *
 * Go sets the connection's read deadline to "now" to interrupt the read;
 * the C equivalent for a socket is shutdown(SHUT_RD), which makes the
 * blocked read() return end-of-file. The connection is a unix socket
 * pair rather than TCP over localhost, which the test VM may not have.
 */
#include <semaphore.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctxfd.h>

struct conn {
	int fd;
	sem_t stopc;
};

static void interrupt_read(void *arg)
{
	struct conn *c = arg;

	shutdown(c->fd, SHUT_RD);
	sem_post(&c->stopc);	/* close(stopc) */
}

/* Returns bytes read, or a negative errno / -ctx_err(). */
static ssize_t read_from_conn(ctx_t *ctx, struct conn *c, void *b, size_t len)
{
	ctx_stop_t *stop;
	ssize_t n;
	int err;

	sem_init(&c->stopc, 0, 0);
	if (ctx_after_func(ctx, interrupt_read, c, &stop))
		return -1;
	n = read(c->fd, b, len);
	err = n < 0 ? -errno : 0;
	if (!ctx_stop(stop)) {
		/*
		 * The AfterFunc was started. Wait for it to complete (a
		 * shut-down socket cannot be reset the way Go resets the
		 * deadline, so a real program would reconnect).
		 */
		sem_wait(&c->stopc);
		ctx_stop_release(stop);
		sem_destroy(&c->stopc);
		return -ctx_err(ctx);
	}
	ctx_stop_release(stop);
	sem_destroy(&c->stopc);
	return err ? err : n;
}

int main(void)
{
	ctx_cancel_t *cancel;
	struct conn conn;
	char b[1024];
	ctx_t *ctx;
	int sv[2];
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		perror("socketpair");
		return 1;
	}
	conn.fd = sv[0];	/* the listener's side, sv[1], never writes */

	if (ctx_with_timeout(ctx_background(), CTX_MILLISECOND, &ctx, &cancel)) {
		fprintf(stderr, "%s\n", ctx_last_error());
		return 1;
	}
	n = read_from_conn(ctx, &conn, b, sizeof(b));
	printf("%s\n", n < 0 ? ctx_strerror((int)-n) : "read data");

	ctx_cancel_release(cancel);
	ctx_release(ctx);
	close(sv[0]);
	close(sv[1]);
	return 0;
}

/* Output:
 * context deadline exceeded
 */
