// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Go's ExampleAfterFunc_cond: AfterFunc defines a function which waits on
 * a condition variable, stopping the wait when a context is canceled.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include <ctxfd.h>

struct cond {
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static struct cond cond = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER
};

static void broadcast(void *arg)
{
	struct cond *c = arg;

	/*
	 * We need to acquire the lock here to be sure that the broadcast
	 * below won't occur before the call to wait, which would result in
	 * a missed signal (and deadlock).
	 */
	pthread_mutex_lock(&c->lock);
	/*
	 * If multiple threads are waiting on cond simultaneously, we need
	 * to make sure we wake up exactly this one. That means that we need
	 * to broadcast to all of the threads, which will wake them all up.
	 *
	 * If there are N concurrent calls to wait_on_cond, each of the
	 * threads will spuriously wake up O(N) other threads that aren't
	 * ready yet, so this will cause the overall CPU cost to be O(N^2).
	 */
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* Called with c->lock held. Returns 0 or the context's err. */
static int wait_on_cond(ctx_t *ctx, struct cond *c, bool (*condition_met)(void))
{
	ctx_stop_t *stop;
	int err = 0;

	if (ctx_after_func(ctx, broadcast, c, &stop))
		return -1;

	/*
	 * Since the wakeups are using broadcast instead of signal, this
	 * wait may unblock due to some other thread's context being
	 * canceled, so to be sure that ctx is actually canceled we need to
	 * check it in a loop.
	 */
	while (!condition_met()) {
		pthread_cond_wait(&c->cond, &c->lock);
		err = ctx_err(ctx);
		if (err)
			break;
	}

	/*
	 * defer stopf(). If the function has started already, it may still
	 * be waiting for c->lock, which our caller holds: c must outlive it
	 * (it is static here; in Go the garbage collector sees to that).
	 */
	ctx_stop(stop);
	ctx_stop_release(stop);
	return err;
}

static bool never(void)
{
	return false;
}

static void *worker(void *unused)
{
	ctx_cancel_t *cancel;
	ctx_t *ctx;
	int err;

	if (ctx_with_timeout(ctx_background(), CTX_MILLISECOND, &ctx, &cancel))
		return NULL;

	pthread_mutex_lock(&cond.lock);
	err = wait_on_cond(ctx, &cond, never);
	printf("%s\n", ctx_strerror(err));
	pthread_mutex_unlock(&cond.lock);

	ctx_cancel_release(cancel);
	ctx_release(ctx);
	return unused;
}

int main(void)
{
	pthread_t t[4];
	int i;

	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	return 0;
}

/* Output:
 * context deadline exceeded
 * context deadline exceeded
 * context deadline exceeded
 * context deadline exceeded
 */
