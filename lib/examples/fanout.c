// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Seed scenario: a request handler fans out to several worker threads
 * with a 50 ms downstream timeout, and answers with a default for every
 * backend that has not replied when it expires.
 *
 * The handler derives one context from the request's (which carries a
 * request id), with a timeout, and hands it to one worker thread per
 * backend (a pool, started once, as a server would). Each backend call
 * waits on that context while it "works": the slow one is abandoned as
 * soon as the deadline passes, so every worker is back right away and the
 * handler answers. Nothing sleeps its way to the end.
 *
 *   fanout [TIMEOUT_MS]     (default 50)
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctxfd.h>

struct backend {
	const char *name;
	ctx_duration_t latency;	/* how long it takes to answer */
	int answer;
	int fallback;		/* the default used when it is too slow */
};

static const struct backend backends[] = {
	{ "cache", 0, 42, 0 },
	{ "db", 0, 7, 0 },
	{ "recommendations", CTX_HOUR, 99, -1 },
};
#define NR_BACKENDS (sizeof(backends) / sizeof(backends[0]))

struct call {
	ctx_t *ctx;
	const struct backend *be;
	int value;
	int err;		/* 0: answered; else why not */
};

/* A downstream call: answers after its latency, unless ctx is done. */
static void *call_backend(void *arg)
{
	struct call *c = arg;
	int err;

	err = c->be->latency ? ctx_wait(c->ctx, c->be->latency)
			     : ctx_err(c->ctx);
	if (err) {
		c->err = err;		/* abandoned: the caller gave up */
		c->value = c->be->fallback;
	} else {
		c->value = c->be->answer;
	}
	return NULL;
}

struct worker {
	pthread_t thread;
	sem_t go, done;
	struct call *call;	/* NULL: quit */
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (;;) {
		sem_wait(&w->go);
		if (!w->call)
			return NULL;
		call_backend(w->call);
		sem_post(&w->done);
	}
}

static void handle_request(ctx_t *req, ctx_duration_t timeout,
			   struct worker *workers)
{
	struct call calls[NR_BACKENDS];
	ctx_cancel_t *cancel;
	char id[16] = "?";
	ctx_t *ctx;
	ssize_t n;
	size_t i;

	if (ctx_with_timeout(req, timeout, &ctx, &cancel)) {
		fprintf(stderr, "%s\n", ctx_last_error());
		exit(1);
	}
	for (i = 0; i < NR_BACKENDS; i++) {
		calls[i] = (struct call){ .ctx = ctx, .be = &backends[i] };
		workers[i].call = &calls[i];
		sem_post(&workers[i].go);
	}
	for (i = 0; i < NR_BACKENDS; i++)
		sem_wait(&workers[i].done);
	/* Every worker is back: the slow one gave up at the deadline. */
	ctx_cancel(cancel);

	n = ctx_value(ctx, "example.request-id", id, sizeof(id) - 1);
	if (n >= 0)
		id[n] = '\0';
	printf("request %s:\n", id);
	for (i = 0; i < NR_BACKENDS; i++) {
		if (calls[i].err)
			printf("  %s: %d (default: %s)\n", calls[i].be->name,
			       calls[i].value, ctx_strerror(calls[i].err));
		else
			printf("  %s: %d\n", calls[i].be->name, calls[i].value);
	}
	printf("workers back: %zu\n", NR_BACKENDS);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

int main(int argc, char **argv)
{
	ctx_duration_t timeout = 50 * CTX_MILLISECOND;
	struct worker workers[NR_BACKENDS];
	ctx_t *req;
	size_t i;

	if (argc > 1)
		timeout = atoll(argv[1]) * CTX_MILLISECOND;
	for (i = 0; i < NR_BACKENDS; i++) {
		sem_init(&workers[i].go, 0, 0);
		sem_init(&workers[i].done, 0, 0);
		pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);
	}
	if (ctx_with_value(ctx_background(), "example.request-id", "7", 1, &req)) {
		fprintf(stderr, "%s\n", ctx_last_error());
		return 1;
	}
	handle_request(req, timeout, workers);
	ctx_release(req);
	for (i = 0; i < NR_BACKENDS; i++) {
		workers[i].call = NULL;
		sem_post(&workers[i].go);
		pthread_join(workers[i].thread, NULL);
		sem_destroy(&workers[i].go);
		sem_destroy(&workers[i].done);
	}
	return 0;
}

/* Output:
 * request 7:
 *   cache: 42
 *   db: 7
 *   recommendations: -1 (default: context deadline exceeded)
 * workers back: 3
 */
