// SPDX-License-Identifier: GPL-2.0
/*
 * ctxd-etcdping: a raw etcd put -> watch event, with the client stack ctxd
 * uses (etcd.c: libcurl, json-c, the v3 JSON gateway). The baseline of
 * `make bench` figure 10 (tools/bench/fig10_remote.c): what a remote cancel
 * costs beyond etcd itself.
 *
 *   ctxd-etcdping --endpoints URL[,URL]... watch KEY
 *       prints "ready" once the watch is registered, then, for every
 *       event on KEY, "<CLOCK_MONOTONIC ns> <revision>" as soon as it
 *       has arrived
 *   ctxd-etcdping --endpoints URL[,URL]... put KEY
 *       for every line read on stdin: takes the time, puts the line as
 *       KEY's value, then prints "<the time taken before the put>"
 *
 * Both use the first endpoint (as ctxd does until it fails over).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "etcd.h"

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool stop;
static int pending;

static void on_created(void *arg, int64_t rev)
{
	printf("ready\n");
	fflush(stdout);
}

static void on_events(void *arg, int status, const char *error,
		      struct json_object *events, int64_t rev)
{
	int64_t t = mono_ns();
	size_t i, n;

	if (status) {
		fprintf(stderr, "etcdping: the watch ended: %s\n", error);
		stop = true;
		return;
	}
	n = json_object_array_length(events);
	for (i = 0; i < n; i++)
		printf("%lld %lld\n", (long long)t, (long long)rev);
	fflush(stdout);
}

static void on_put(void *arg, const struct etcd_reply *r)
{
	int64_t *t0 = arg;

	if (r->status)
		fprintf(stderr, "etcdping: put failed: %s\n", r->error);
	printf("%lld\n", r->status ? -1LL : (long long)*t0);
	fflush(stdout);
	free(t0);
	pending--;
}

int main(int argc, char **argv)
{
	char *eps[16], *list, *tok, *save = NULL, *key;
	struct etcd *e;
	int n = 0;

	if (argc != 5 || strcmp(argv[1], "--endpoints")) {
		fprintf(stderr, "usage: ctxd-etcdping --endpoints URL[,URL]... watch|put KEY\n");
		return 2;
	}
	list = strdup(argv[2]);
	for (tok = strtok_r(list, ",", &save); tok && n < 16;
	     tok = strtok_r(NULL, ",", &save))
		eps[n++] = tok;
	key = argv[4];
	if (!n || curl_global_init(CURL_GLOBAL_DEFAULT))
		return 1;
	e = etcd_new(eps, n, 5000, NULL);
	if (!e)
		return 1;
	if (!strcmp(argv[3], "watch")) {
		size_t end_len;
		char *end = etcd_prefix_end(key, strlen(key), &end_len);

		if (!etcd_watch_start(e, key, strlen(key), end, end_len, 0,
				      on_created, on_events, NULL))
			return 1;
		while (!stop) {
			etcd_poll(e, -1, 1000);
			etcd_perform(e);
		}
		return 1;
	}
	if (strcmp(argv[3], "put"))
		return 2;
	for (;;) {
		char line[256];
		size_t len;

		etcd_poll(e, pending ? -1 : STDIN_FILENO, 1000);
		etcd_perform(e);
		if (pending)
			continue;
		if (!fgets(line, sizeof(line), stdin))
			return 0;
		len = strcspn(line, "\n");
		{
			int64_t *t0 = malloc(sizeof(*t0));
			struct json_object *req = json_object_new_object();

			json_object_object_add(req, "key", etcd_b64(key, strlen(key)));
			json_object_object_add(req, "value", etcd_b64(line, len));
			*t0 = mono_ns();
			pending++;
			etcd_call(e, "/v3/kv/put", req, NULL, 0, -1, 0, on_put, t0);
			etcd_perform(e);
		}
	}
}
