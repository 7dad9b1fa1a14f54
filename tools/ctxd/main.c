// SPDX-License-Identifier: GPL-2.0
/*
 * ctxd: main loop, command line, lease, reachability and the watch.
 *
 *   ctxd [--endpoints URL,...] [--ttl SECONDS] [--failsafe DURATION] ...
 *
 * (ctxd(8) lists every option.) Start-up: grant the lease, read the
 * prefix, open the watch from the revision read, then serve the local
 * socket. The loop then runs forever:
 *
 *   etcd_perform()     finished etcd calls run their callbacks
 *   ep_dispatch()      local events, one at a time (a handler may free
 *                      objects that have events pending: taking them
 *                      one by one never hands out a stale one)
 *   export_flush()     write what changed, one transaction
 *   tick()             lease keepalive and reachability probes, every
 *                      TTL/3; the fail-safe; handshake timeouts
 *   etcd_poll()        wait for etcd or epoll
 *
 * Reachability: every TTL/3 ctxd asks every member for its status
 * (/v3/maintenance/status, answered by the member alone); etcd is
 * reachable while a majority of the members answer and the watch is up:
 * then every cancel that etcd commits will reach us, because any leader
 * that commits it is among the members we reach. A leader's death is
 * not unreachability (its followers still answer), a partition of this
 * host is. After --failsafe without reachability, every joined context
 * is canceled (remotes_unreachable()).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ctxd.h"

struct ctxd d = {
	.exports = LIST_INIT(d.exports),
	.remotes = LIST_INIT(d.remotes),
	.clients = LIST_INIT(d.clients),
	.lfd = -1,
	.sigfd = -1,
	.ep = -1,
};

static char *pid_file;
static int ready_fd = -1;
static struct etcd_call *resync_call;
static struct etcd_call *revoke_call;
static bool revoked;

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void say(const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "ctxd[%s %lld.%03ld]: ", d.host ? d.host : "-",
		(long long)ts.tv_sec, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("ctxd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

int ep_add(int fd, struct src *src)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = src };

	if (src->kind == SRC_CLIENT)
		ev.events |= EPOLLRDHUP;
	return epoll_ctl(d.ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void ep_del(int fd)
{
	epoll_ctl(d.ep, EPOLL_CTL_DEL, fd, NULL);
}

char *key_of(const char *kind, const char *name)
{
	char *key;

	if (asprintf(&key, "%s%s%s", d.prefix, kind, name) < 0)
		return NULL;
	return key;
}

bool have_lease(void)
{
	return d.lease != 0;
}

/* ---- the lease --------------------------------------------------------------- */

static void start_resync(void);

static void lease_granted(void *arg, const struct etcd_reply *r)
{
	static bool started;
	bool first = !started;

	d.lease_call = NULL;
	if (r->status) {
		say("cannot get a lease from etcd: %s (retrying)", r->error);
		d.next_tick = now_ms() + 1000;
		return;
	}
	d.lease = etcd_int(r->json, "ID", 0);
	if (!d.lease) {
		say("etcd granted no lease (retrying)");
		d.next_tick = now_ms() + 1000;
		return;
	}
	info("lease %llx, TTL %d s", (unsigned long long)d.lease, d.ttl);
	d.next_tick = now_ms() + d.ttl * 1000 / 3;
	started = true;
	if (first)
		start_resync();
	else
		exports_republish();
}

static void lease_grant(void)
{
	struct json_object *req = json_object_new_object();

	json_object_object_add(req, "TTL", etcd_int_str(d.ttl));
	d.lease_call = etcd_call(d.etcd, "/v3/lease/grant", req, NULL, 0, -1,
				 0, lease_granted, NULL);
}

void lease_lost(void)
{
	if (!d.lease)
		return;
	say("lease %llx lost: granting a new one", (unsigned long long)d.lease);
	d.lease = 0;
	etcd_call_cancel(d.lease_call);
	lease_grant();
}

static void lease_kept(void *arg, const struct etcd_reply *r)
{
	struct json_object *res;

	d.lease_call = NULL;
	if (r->status) {
		if (r->status == ETCD_NOT_FOUND)
			lease_lost();
		else
			info("lease keepalive failed: %s", r->error);
		return;
	}
	if (!json_object_object_get_ex(r->json, "result", &res))
		res = r->json;
	if (etcd_int(res, "TTL", 0) <= 0)
		lease_lost();	/* it expired while we were away */
}

static void lease_keepalive(void)
{
	struct json_object *req = json_object_new_object();

	json_object_object_add(req, "ID", etcd_int_str(d.lease));
	/*
	 * A keepalive goes to the leader (a follower forwards it, and holds
	 * it while there is none). Each attempt lasts one keepalive
	 * interval, then the next member is tried, for up to the TTL: when
	 * the leader dies, the lease (which the new leader extends by its
	 * TTL) is renewed through whichever member answers first.
	 */
	d.lease_call = etcd_call_tries(d.etcd, "/v3/lease/keepalive", req, NULL,
				       ETCD_FIRST_OBJECT, -1, d.ttl * 1000 / 3,
				       d.ttl * 1000, lease_kept, NULL);
}

/* ---- reachability ------------------------------------------------------------ */

/*
 * Probes: every TTL/3, every member is asked for its status, each probe
 * with the fail-safe's own time as its limit (a slow member is not an
 * absent one), and up to PROBES_INFLIGHT of them in flight per member,
 * so that a member that hangs delays nobody. etcd was reachable at time
 * T if a majority of the members answered probes sent at T or later:
 * contact_at is the majority-th latest "sent at" of the answers.
 */
static void probe_done(void *arg, const struct etcd_reply *r)
{
	struct probe *p = arg;
	int i, j, n = etcd_nr_endpoints(d.etcd), k = n / 2 + 1;
	int64_t sent = p->sent_at, best[64];

	p->call = NULL;
	if (r->status)
		return;
	if (sent > d.answered_at[p->endpoint])
		d.answered_at[p->endpoint] = sent;
	/* The k-th latest answer time, k = a majority. */
	for (i = 0; i < n && i < 64; i++)
		best[i] = d.answered_at[i];
	for (i = 0; i < k && i < n; i++)
		for (j = i + 1; j < n && j < 64; j++)
			if (best[j] > best[i]) {
				int64_t t = best[i];

				best[i] = best[j];
				best[j] = t;
			}
	if (best[k - 1] > d.contact_at) {
		d.contact_at = best[k - 1];
		if (d.unreachable && d.watch_up) {
			say("etcd is reachable again");
			d.unreachable = false;
		}
	}
}

static void probe_round(void)
{
	int i, slot, n = etcd_nr_endpoints(d.etcd);
	int limit = d.failsafe_ms > 0 && d.failsafe_ms < INT_MAX ?
		    (int)d.failsafe_ms : d.timeout_ms;
	int64_t now = now_ms();

	for (i = 0; i < n; i++) {
		struct probe *p = NULL;

		for (slot = 0; slot < PROBES_INFLIGHT && !p; slot++)
			if (!d.probes[i * PROBES_INFLIGHT + slot].call)
				p = &d.probes[i * PROBES_INFLIGHT + slot];
		if (!p)
			continue;	/* this member does not answer */
		p->endpoint = i;
		p->sent_at = now;
		p->call = etcd_call(d.etcd, "/v3/maintenance/status",
				    json_object_new_object(), NULL, ETCD_NO_RETRY,
				    i, limit, probe_done, p);
	}
}

/* ---- the watch ---------------------------------------------------------------- */

/* Hand one key's new state to whoever knows its name. */
static void dispatch_kv(const char *key, size_t klen, int64_t rev,
			const char *val, size_t vlen, bool deleted)
{
	size_t plen = strlen(d.prefix);
	const char *rest;

	if (klen <= plen || memcmp(key, d.prefix, plen))
		return;
	rest = key + plen;
	if (!strncmp(rest, "ctx/", 4)) {
		const char *name = rest + 4;

		export_record_event(name, rev, val, vlen, deleted);
		remote_record_event(name, rev, val, vlen, deleted);
	} else if (!strncmp(rest, "join/", 5) && !deleted) {
		char *name = strdup(rest + 5), *slash;

		if (!name)
			return;
		slash = strrchr(name, '/');
		if (slash) {
			*slash = '\0';
			export_join_event(name, rev);
		}
		free(name);
	}
}

static void watch_events(void *arg, int status, const char *error,
			 struct json_object *events, int64_t revision)
{
	size_t i, n;

	if (status) {
		say("the watch ended: %s", error);
		if (!d.watch_down_at)
			d.watch_down_at = now_ms();
		d.watch_up = false;
		d.watch_restart = true;
		if (status < 0 && status != -ECANCELED)
			etcd_set_current(d.etcd, etcd_current(d.etcd) + 1);
		return;
	}
	n = json_object_array_length(events);
	for (i = 0; i < n; i++) {
		struct json_object *ev = json_object_array_get_idx(events, i);
		struct json_object *kv, *type;
		bool deleted = json_object_object_get_ex(ev, "type", &type) &&
			       !strcmp(json_object_get_string(type), "DELETE");
		size_t klen, vlen = 0;
		char *key, *val = NULL;

		if (!json_object_object_get_ex(ev, "kv", &kv))
			continue;
		key = etcd_unb64(kv, "key", &klen);
		if (!deleted)
			val = etcd_unb64(kv, "value", &vlen);
		if (key)
			dispatch_kv(key, klen, etcd_int(kv, "mod_revision", revision),
				    val ? val : "", vlen, deleted);
		free(key);
		free(val);
	}
	if (revision > d.watch_rev)
		d.watch_rev = revision;
}

static void watch_created(void *arg, int64_t revision)
{
	d.watch_up = true;
	d.watch_down_at = 0;
	info("watching %s from revision %lld", d.prefix, (long long)d.watch_rev + 1);
	if (!d.ready) {
		int ret = server_start();

		if (ret < 0)
			die("cannot serve %s: %s", d.socket_path, strerror(-ret));
		d.ready = true;
		d.contact_at = now_ms();
		say("ready: %s, lease TTL %d s, fail-safe %lld ms, socket %s",
		    etcd_endpoint(d.etcd, etcd_current(d.etcd)), d.ttl,
		    (long long)d.failsafe_ms, d.socket_path);
		if (ready_fd >= 0) {
			if (write(ready_fd, "READY=1\n", 8) < 0)
				say("--ready-fd: %s", strerror(errno));
			close(ready_fd);
			ready_fd = -1;
		}
	}
}

/* Everything under the prefix is the truth as of the range's revision. */
static void resync_done(void *arg, const struct etcd_reply *r)
{
	struct json_object *kvs;
	size_t i, n;
	char *end;
	size_t end_len;

	resync_call = NULL;
	if (r->status) {
		say("cannot read %s: %s (retrying)", d.prefix, r->error);
		d.watch_retry_at = now_ms() + 500;
		d.watch_restart = true;
		return;
	}
	n = json_object_object_get_ex(r->json, "kvs", &kvs) ?
	    json_object_array_length(kvs) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *kv = json_object_array_get_idx(kvs, i);
		size_t klen, vlen;
		char *key = etcd_unb64(kv, "key", &klen);
		char *val = etcd_unb64(kv, "value", &vlen);

		if (key && val)
			dispatch_kv(key, klen, etcd_int(kv, "mod_revision", 0),
				    val, vlen, false);
		free(key);
		free(val);
	}
	/*
	 * Keys that are gone: tell the exports and remotes whose key was
	 * not in the answer (each ignores it if it knows better).
	 */
	for (int pass = 0; pass < 2; pass++) {
		size_t nr = 0, j;
		char **keys = pass ? remotes_keys(&nr) : exports_keys(&nr);

		for (j = 0; j < nr; j++) {
			bool found = false;

			for (i = 0; i < n && !found; i++) {
				size_t klen;
				char *k = etcd_unb64(json_object_array_get_idx(kvs, i),
						     "key", &klen);

				found = k && klen == strlen(keys[j]) &&
					!memcmp(k, keys[j], klen);
				free(k);
			}
			if (!found)
				dispatch_kv(keys[j], strlen(keys[j]), r->revision,
					    "", 0, true);
			free(keys[j]);
		}
		free(keys);
	}
	d.watch_rev = r->revision;
	end = etcd_prefix_end(d.prefix, strlen(d.prefix), &end_len);
	d.watch = etcd_watch_start(d.etcd, d.prefix, strlen(d.prefix), end,
				   end_len, d.watch_rev + 1, watch_created,
				   watch_events, NULL);
	free(end);
	if (!d.watch) {
		d.watch_retry_at = now_ms() + 500;
		d.watch_restart = true;
	}
}

/*
 * Read the prefix, then watch from the revision read. Serializable: the
 * member answers from its own store, without a leader (during an
 * election too), and the watch, opened on the same member, goes on from
 * exactly there; if that member lags, its events catch up.
 */
static void start_resync(void)
{
	struct json_object *req = json_object_new_object();
	char *end;
	size_t end_len;

	end = etcd_prefix_end(d.prefix, strlen(d.prefix), &end_len);
	json_object_object_add(req, "key", etcd_b64(d.prefix, strlen(d.prefix)));
	json_object_object_add(req, "range_end", etcd_b64(end, end_len));
	json_object_object_add(req, "serializable", json_object_new_boolean(1));
	free(end);
	resync_call = etcd_call(d.etcd, "/v3/kv/range", req, NULL, 0, -1, 0,
				resync_done, NULL);
}

/* Start a new stream: read everything, then watch from there. */
static void restart_watch(void)
{
	d.watch_restart = false;
	d.watch_retry_at = 0;
	d.watch_up = false;
	if (!d.watch_down_at)
		d.watch_down_at = now_ms();
	etcd_watch_stop(d.watch);
	d.watch = NULL;
	if (!resync_call)
		start_resync();
}

/* ---- the loop ---------------------------------------------------------------------- */

static void on_signal(void)
{
	struct signalfd_siginfo si;

	while (read(d.sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			continue;
		say("got %s: stopping", strsignal((int)si.ssi_signo));
		d.stopping = true;
	}
}

static void ep_dispatch(void)
{
	int rounds;

	for (rounds = 0; rounds < 1024; rounds++) {
		struct epoll_event ev;
		struct src *src;

		if (epoll_wait(d.ep, &ev, 1, 0) <= 0)
			return;
		src = ev.data.ptr;
		switch (src->kind) {
		case SRC_LISTEN:
			server_accept();
			break;
		case SRC_CLIENT:
			server_client_event((struct client *)src, ev.events);
			break;
		case SRC_SIGNAL:
			on_signal();
			break;
		case SRC_EXPORT:
			export_ctx_event(src);
			break;
		case SRC_REMOTE:
			remote_ctx_event(src);
			break;
		case SRC_CJOIN:
			cjoin_event(src);
			break;
		}
	}
}

static void tick(int64_t now, int64_t *next)
{
	int64_t down;

	if (now >= d.next_tick && !d.stopping) {
		d.next_tick = now + d.ttl * 1000 / 3;
		if (!d.lease_call) {
			if (d.lease)
				lease_keepalive();
			else
				lease_grant();
		}
		if (d.ready)
			probe_round();
	}
	if (!*next || d.next_tick < *next)
		*next = d.next_tick;
	if (d.watch_restart && d.ready && now >= d.watch_retry_at)
		restart_watch();
	else if (d.watch_restart && d.watch_retry_at && d.watch_retry_at < *next)
		*next = d.watch_retry_at;
	if (d.flush_at) {
		if (now >= d.flush_at)
			d.flush_needed = true;
		else if (d.flush_at < *next)
			*next = d.flush_at;
	}
	remotes_timers(now, next);
	if (!d.ready || !d.failsafe_ms)
		return;
	/*
	 * Unreachable: no majority of members answered for that long, or
	 * the watch has been down for that long (cancels would not reach
	 * us either way).
	 */
	down = now - d.contact_at;
	if (d.watch_down_at && now - d.watch_down_at > down)
		down = now - d.watch_down_at;
	if (!d.unreachable && down > d.failsafe_ms) {
		say("etcd unreachable for %lld ms: fail-safe", (long long)down);
		d.unreachable = true;
		remotes_unreachable(down);
		/* A fresh connection once etcd is back. */
		d.watch_restart = true;
	} else if (!d.unreachable) {
		int64_t at = d.contact_at + d.failsafe_ms + 1;

		if (d.watch_down_at && d.watch_down_at + d.failsafe_ms + 1 < at)
			at = d.watch_down_at + d.failsafe_ms + 1;
		if (at < *next)
			*next = at;
	}
}

static void revoke_done(void *arg, const struct etcd_reply *r)
{
	revoke_call = NULL;
	revoked = true;
	if (r->status)
		say("cannot revoke the lease: %s (it expires in %d s)", r->error, d.ttl);
}

static void loop(void)
{
	for (;;) {
		int64_t now, next = 0;
		int timeout;

		etcd_perform(d.etcd);
		ep_dispatch();
		if (d.stopping)
			break;
		if (d.flush_needed)
			export_flush();
		now = now_ms();
		tick(now, &next);
		if (d.flush_needed)
			export_flush();
		etcd_perform(d.etcd);
		timeout = next ? (int)(next - now_ms()) : 1000;
		if (timeout < 0)
			timeout = 0;
		if (d.flush_needed)
			timeout = 0;
		etcd_poll(d.etcd, d.ep, timeout);
	}
}

/* Stop: cancel what we joined, drop what we export, revoke the lease. */
static void shutdown_all(void)
{
	int64_t until = now_ms() + 2000;

	remotes_free_all();
	server_stop();
	exports_free_all();
	etcd_watch_stop(d.watch);
	d.watch = NULL;
	if (d.lease) {
		struct json_object *req = json_object_new_object();

		json_object_object_add(req, "ID", etcd_int_str(d.lease));
		revoke_call = etcd_call(d.etcd, "/v3/lease/revoke", req, NULL, 0,
					-1, 2000, revoke_done, NULL);
		while (!revoked && now_ms() < until) {
			etcd_perform(d.etcd);
			etcd_poll(d.etcd, -1, 50);
		}
	}
	etcd_free(d.etcd);
	if (pid_file)
		unlink(pid_file);
}

/* ---- the command line ------------------------------------------------------------------ */

static void __attribute__((noreturn)) usage(int status)
{
	FILE *f = status ? stderr : stdout;

	fprintf(f,
"Usage: ctxd [OPTION]...\n"
"Link ctxfd contexts across hosts through etcd: export local contexts\n"
"under a name, and give local processes contexts that follow remote ones.\n"
"\n"
"  --endpoints URL[,URL]...  etcd client URLs, every member of the cluster\n"
"                            (default $CTXD_ENDPOINTS, else\n"
"                            http://127.0.0.1:2379)\n"
"  --prefix PREFIX           etcd key prefix (default /ctxfd/)\n"
"  --ttl SECONDS             lease TTL (default 10, at least 2)\n"
"  --failsafe DURATION       cancel joined contexts after etcd has been\n"
"                            unreachable this long (default: the TTL;\n"
"                            0: never)\n"
"  --handshake DURATION      how long a join waits for the exporter's\n"
"                            fresh deadline (default: the TTL)\n"
"  --request-timeout DURATION  one etcd request (default TTL/2, >= 2s)\n"
"  --socket PATH             local socket (default %s)\n"
"  --socket-group GROUP      give the socket to GROUP, mode 0660 (default:\n"
"                            group ctxd if it exists, else mode 0600)\n"
"  --socket-mode MODE        the socket's mode, octal\n"
"  --host-name NAME          this host's name in records (default: hostname)\n"
"  --user USER               etcd user of ctxd itself\n"
"  --password-file FILE      its password (first line of FILE)\n"
"  --pid-file FILE           write ctxd's pid to FILE\n"
"  --ready-fd FD             write READY=1 to FD once serving, close it\n"
"  -v, --verbose             log every export, join and cancel\n"
"      --help                display this help and exit\n"
"      --version             output version information and exit\n"
"\n"
"DURATION: a number of seconds, or with a suffix ms, s, m.\n",
		CTXD_SOCKET_DEFAULT);
	exit(status);
}

static int64_t parse_ms(const char *opt, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || v < 0)
		die("%s: invalid duration '%s'", opt, s);
	if (!strcmp(end, "ms"))
		;
	else if (!*end || !strcmp(end, "s"))
		v *= 1000;
	else if (!strcmp(end, "m"))
		v *= 60000;
	else
		die("%s: invalid duration '%s'", opt, s);
	if (v > 1e12)
		die("%s: duration too long", opt);
	return (int64_t)v;
}

static char *read_password(const char *path)
{
	char buf[256];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		die("--password-file %s: %s", path, strerror(errno));
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return strdup(buf);
}

static char **split_endpoints(const char *list, int *n)
{
	char *copy = strdup(list), *tok, *save = NULL;
	char **v = NULL;

	*n = 0;
	if (!copy)
		die("out of memory");
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t len = strlen(tok);

		while (len && tok[len - 1] == '/')
			tok[--len] = '\0';	/* "http://h:2379/" */
		if (strncmp(tok, "http://", 7) && strncmp(tok, "https://", 8))
			die("--endpoints: '%s' is not an http:// or https:// URL", tok);
		v = realloc(v, (*n + 1) * sizeof(*v));
		if (!v || !(v[*n] = strdup(tok)))
			die("out of memory");
		(*n)++;
	}
	free(copy);
	if (!*n)
		die("--endpoints: no endpoint");
	return v;
}

static bool host_name_valid(const char *s)
{
	if (!*s || strlen(s) > 63)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

enum {
	OPT_ENDPOINTS = 256, OPT_PREFIX, OPT_TTL, OPT_FAILSAFE, OPT_HANDSHAKE,
	OPT_TIMEOUT, OPT_SOCKET, OPT_GROUP, OPT_MODE, OPT_HOST, OPT_USER,
	OPT_PWFILE, OPT_PIDFILE, OPT_READY, OPT_HELP, OPT_VERSION,
};

static const struct option longopts[] = {
	{ "endpoints", required_argument, NULL, OPT_ENDPOINTS },
	{ "prefix", required_argument, NULL, OPT_PREFIX },
	{ "ttl", required_argument, NULL, OPT_TTL },
	{ "failsafe", required_argument, NULL, OPT_FAILSAFE },
	{ "handshake", required_argument, NULL, OPT_HANDSHAKE },
	{ "request-timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "socket-group", required_argument, NULL, OPT_GROUP },
	{ "socket-mode", required_argument, NULL, OPT_MODE },
	{ "host-name", required_argument, NULL, OPT_HOST },
	{ "user", required_argument, NULL, OPT_USER },
	{ "password-file", required_argument, NULL, OPT_PWFILE },
	{ "pid-file", required_argument, NULL, OPT_PIDFILE },
	{ "ready-fd", required_argument, NULL, OPT_READY },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	const char *endpoints = getenv("CTXD_ENDPOINTS");
	const char *group = NULL, *mode = NULL;
	int64_t failsafe = -1, handshake = -1, timeout = -1;
	char **eps, hostname[256], *end;
	int opt, nr_eps;
	long v;
	sigset_t mask;

	d.prefix = "/ctxfd/";
	d.ttl = 10;
	d.socket_path = CTXD_SOCKET_DEFAULT;
	while ((opt = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_ENDPOINTS:
			endpoints = optarg;
			break;
		case OPT_PREFIX:
			if (optarg[0] != '/' || optarg[strlen(optarg) - 1] != '/')
				die("--prefix must start and end with '/'");
			d.prefix = optarg;
			break;
		case OPT_TTL:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v < 2 || v > 3600)
				die("--ttl: a number of seconds from 2 to 3600, not '%s'", optarg);
			d.ttl = (int)v;
			break;
		case OPT_FAILSAFE:
			failsafe = parse_ms("--failsafe", optarg);
			break;
		case OPT_HANDSHAKE:
			handshake = parse_ms("--handshake", optarg);
			break;
		case OPT_TIMEOUT:
			timeout = parse_ms("--request-timeout", optarg);
			if (timeout < 100 || timeout > INT_MAX)
				die("--request-timeout: at least 100ms");
			break;
		case OPT_SOCKET:
			d.socket_path = optarg;
			break;
		case OPT_GROUP:
			group = optarg;
			break;
		case OPT_MODE:
			mode = optarg;
			break;
		case OPT_HOST:
			d.host = optarg;
			break;
		case OPT_USER:
			d.self.user = optarg;
			break;
		case OPT_PWFILE:
			d.self.password = read_password(optarg);
			break;
		case OPT_PIDFILE:
			pid_file = optarg;
			break;
		case OPT_READY:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v < 0 || v > INT_MAX ||
			    fcntl((int)v, F_GETFD) < 0)
				die("--ready-fd: '%s' is not an open descriptor", optarg);
			ready_fd = (int)v;
			break;
		case 'v':
			d.verbose = true;
			break;
		case OPT_HELP:
			usage(0);
		case OPT_VERSION:
			printf("ctxd (ctxfd) 1.1\n");
			return 0;
		default:
			usage(2);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s' (see --help)", argv[optind]);
	if (d.self.password && !d.self.user)
		die("--password-file needs --user");
	if (!d.host) {
		if (gethostname(hostname, sizeof(hostname)) < 0)
			die("gethostname: %s", strerror(errno));
		hostname[sizeof(hostname) - 1] = '\0';
		d.host = strdup(hostname);
	}
	if (!host_name_valid(d.host))
		die("host name '%s': use [A-Za-z0-9._-], at most 63 bytes (--host-name)",
		    d.host);
	d.failsafe_ms = failsafe >= 0 ? failsafe : d.ttl * 1000LL;
	d.handshake_ms = handshake >= 0 ? handshake : d.ttl * 1000LL;
	if (timeout < 0) {
		/* A slow etcd is not a dead one: the fail-safe judges that. */
		timeout = d.ttl * 1000 / 2;
		if (timeout < 2000)
			timeout = 2000;
	}
	d.timeout_ms = (int)timeout;
	d.socket_gid = (gid_t)-1;
	d.socket_mode = 0600;
	if (group) {
		struct group *g = getgrnam(group);

		if (!g)
			die("--socket-group: no group '%s'", group);
		d.socket_gid = g->gr_gid;
		d.socket_mode = 0660;
	} else {
		struct group *g = getgrnam("ctxd");

		if (g) {
			d.socket_gid = g->gr_gid;
			d.socket_mode = 0660;
		}
	}
	if (mode) {
		v = strtol(mode, &end, 8);
		if (*end || v < 0 || v > 0777)
			die("--socket-mode: '%s' is not an octal mode", mode);
		d.socket_mode = (mode_t)v;
	}

	signal(SIGPIPE, SIG_IGN);
	if (kctx_dev() < 0)
		die("cannot open %s: %s (is the ctxfd module loaded?)", CTXFD_DEVICE,
		    strerror(-kctx_dev()));
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		die("cannot initialize libcurl");
	eps = split_endpoints(endpoints ? endpoints : "http://127.0.0.1:2379", &nr_eps);
	d.etcd = etcd_new(eps, nr_eps, d.timeout_ms, &d.self);
	if (nr_eps > 64)
		die("--endpoints: at most 64");
	d.probes = calloc((size_t)nr_eps * PROBES_INFLIGHT, sizeof(*d.probes));
	d.answered_at = calloc((size_t)nr_eps, sizeof(*d.answered_at));
	d.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!d.etcd || !d.probes || !d.answered_at || d.ep < 0)
		die("cannot initialize: %s", strerror(errno));
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	d.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d.signal_src.kind = SRC_SIGNAL;
	if (d.sigfd < 0 || ep_add(d.sigfd, &d.signal_src) < 0)
		die("signalfd: %s", strerror(errno));
	if (pid_file) {
		FILE *f = fopen(pid_file, "we");

		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f))
			die("--pid-file %s: %s", pid_file, strerror(errno));
	}
	info("starting: %s, %d endpoint(s), prefix %s", d.host, nr_eps, d.prefix);
	d.next_tick = now_ms();
	loop();
	shutdown_all();
	curl_global_cleanup();
	return 0;
}
