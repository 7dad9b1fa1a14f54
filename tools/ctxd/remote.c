// SPDX-License-Identifier: GPL-2.0
/*
 * Remotes: contexts of other hosts (or of this one) that local processes
 * joined, by name.
 *
 * For each remote NAME joined on this host, ctxd makes one local root
 * context R, of which it holds the only cancel-capable descriptor, with
 * the record's values below it as a chain of value contexts; every
 * joiner gets a descriptor of the chain's end (T): a watch-only one, or,
 * with the cancel right, the cancel-capable descriptor of a child J of T
 * made for it alone. ctxd cancels R, and the kernel everything below:
 *  - when the record says done: with the record's cause. A deadline
 *    exceeded on the exporter is left to R's own timer when that fires
 *    within DEADLINE_SLACK_MS, so that the joined context, too, ends
 *    with "context deadline exceeded" (a cancel cannot set that err);
 *  - when the record is deleted while the context is active: the
 *    exporter's lease expired (host dead or cut off): cause
 *    CTX_CAUSE_LEASE_LOST, "remote: lease lost";
 *  - when this host cannot reach etcd for longer than --failsafe (main.c
 *    calls remotes_unreachable()): CTX_CAUSE_UNREACHABLE;
 *  - when ctxd stops: CTX_CAUSE_CTXD_STOPPED; and if ctxd dies, its
 *    descriptor closes and the kernel cancels R ("defer cancel()").
 * R's deadline is armed here, relative: the record's remaining time,
 * counted from when this host received it. To make that remaining time
 * fresh, a joiner writes P join/NAME/ID and waits (at most --handshake)
 * for the exporter to rewrite the record: the time left is then measured
 * by the exporter after the join began, and the joined context's deadline
 * is later than the exporter's by at most one etcd write-to-watch delay,
 * whatever the two hosts' clocks say.
 *
 * The cancel right: the joiner sends etcd credentials; ctxd checks with a
 * transaction that cannot succeed (version < 0) but whose success branch
 * writes the record: etcd checks permissions on both branches, so
 * "permission denied" means this user may not write the record. J is made
 * with CTXFD_CREATE_NO_CANCEL_ON_CLOSE (a joiner that exits does not
 * cancel the remote job); when J is canceled while R is not, the joiner
 * canceled: ctxd writes, as that etcd user, the record and every active
 * record under NAME/ as done in one transaction, and the exporter's ctxd
 * cancels its context when it sees it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ctxfd.h>

#include "ctxd.h"

/* A remote deadline this close is left to the local timer (ms). */
#define DEADLINE_SLACK_MS	250
/* Attempts of a remote cancel whose compare keeps failing. */
#define CANCEL_TRIES		5

enum remote_state {
	RM_LOOKUP,	/* reading the record */
	RM_HANDSHAKE,	/* waiting for a fresh remaining time */
	RM_ACTIVE,	/* R exists and is active */
};

struct remote {
	struct src src;			/* SRC_REMOTE: @rfd in epoll */
	struct list node;		/* on d.remotes */
	char *name;
	char *key;
	enum remote_state state;
	int64_t rev;			/* revision of the newest state known */
	bool known;			/* @rev/@absent/@rec hold a state */
	bool absent;			/* the key does not exist */
	struct record rec;
	int rfd;			/* R, cancel-capable, or -1 */
	int tfd;			/* T, the end of the value chain */
	bool has_deadline;		/* R has a timer */
	bool timer_wait;		/* the exporter's deadline passed: R's timer next */
	struct list waiters;		/* clients (c->wait) */
	struct list cjoins;
	struct etcd_call *call;		/* lookup or join-key put */
	char *join_key;
	int64_t join_rev;		/* 0 until the put is answered */
	int64_t hs_deadline;		/* ms */
};

struct cjoin {
	struct src src;			/* SRC_CJOIN: @jfd in epoll */
	struct list node;		/* on r->cjoins */
	struct remote *r;
	int jfd;			/* watch-only fd of J */
	struct etcd_auth auth;
	char by[160];
	int code;
	char msg[CTXFD_CAUSE_MSG_MAX + 1];
	int tries;
	struct etcd_call *call;
};

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void cjoin_free(struct cjoin *cj)
{
	etcd_call_cancel(cj->call);
	if (cj->jfd >= 0) {
		ep_del(cj->jfd);
		close(cj->jfd);
	}
	wipe_free(cj->auth.user);
	wipe_free(cj->auth.password);
	wipe_free(cj->auth.token);
	list_del(&cj->node);
	free(cj);
}

static struct remote *remote_find(const char *name)
{
	struct list *p, *n;

	list_for_each_safe(p, n, &d.remotes) {
		struct remote *r = list_entry(p, struct remote, node);

		if (!strcmp(r->name, name))
			return r;
	}
	return NULL;
}

/* Delete our join key, if any (nobody waits for the answer). */
static void remote_drop_join_key(struct remote *r)
{
	struct json_object *req;

	if (!r->join_key)
		return;
	req = json_object_new_object();
	json_object_object_add(req, "key", etcd_b64(r->join_key, strlen(r->join_key)));
	etcd_call(d.etcd, "/v3/kv/deleterange", req, NULL, 0, -1, 0, NULL, NULL);
	free(r->join_key);
	r->join_key = NULL;
}

/* Answer every waiter with @status (a failure) and free the remote. */
static void remote_free(struct remote *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void remote_free(struct remote *r, int status, const char *fmt, ...)
{
	struct list *p, *n;
	char msg[256] = "";

	if (fmt) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	list_for_each_safe(p, n, &r->waiters) {
		struct client *c = list_entry(p, struct client, wait);

		list_del(&c->wait);
		c->remote = NULL;
		client_reply(c, status ? status : -EIO, -1, "%s", msg);
		client_free(c);
	}
	list_for_each_safe(p, n, &r->cjoins)
		cjoin_free(list_entry(p, struct cjoin, node));
	etcd_call_cancel(r->call);
	remote_drop_join_key(r);
	if (r->rfd >= 0) {
		ep_del(r->rfd);
		close(r->rfd);
	}
	if (r->tfd >= 0 && r->tfd != r->rfd)
		close(r->tfd);
	record_free(&r->rec);
	list_del(&r->node);
	free(r->name);
	free(r->key);
	free(r);
}

/* ---- serving joiners ------------------------------------------------------ */

static void serve_watch(struct remote *r, struct client *c)
{
	int fd = kctx_watch(r->tfd);

	if (fd < 0) {
		client_reply(c, fd, -1, "cannot make the joined context: %s",
			     strerror(-fd));
	} else {
		client_reply(c, 0, fd, "%s", "");
		close(fd);
	}
	client_free(c);
}

/*
 * A joiner that asked for the cancel right on a remote that is done:
 * a cancel-capable descriptor of a context born done (canceling it does
 * nothing), so that the answer does not depend on a race.
 */
static void serve_done_cancel(struct remote *r, struct client *c)
{
	int fd = kctx_child(r->tfd, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);

	if (fd < 0) {
		client_reply(c, fd, -1, "cannot make the joined context: %s",
			     strerror(-fd));
	} else {
		client_reply(c, 0, fd, "%s", "");
		close(fd);
	}
	client_free(c);
}

static void serve_cancel(struct remote *r, struct client *c)
{
	struct cjoin *cj;
	int jfd, wfd;

	jfd = kctx_child(r->tfd, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
	if (jfd < 0) {
		client_reply(c, jfd, -1, "cannot make the joined context: %s",
			     strerror(-jfd));
		client_free(c);
		return;
	}
	wfd = kctx_watch(jfd);
	cj = calloc(1, sizeof(*cj));
	if (wfd < 0 || !cj) {
		client_reply(c, -ENOMEM, -1, "cannot make the joined context");
		if (wfd >= 0)
			close(wfd);
		close(jfd);
		free(cj);
		client_free(c);
		return;
	}
	cj->src.kind = SRC_CJOIN;
	cj->r = r;
	cj->jfd = wfd;
	/* The credentials move from the client to the join. */
	cj->auth = c->auth;
	memset(&c->auth, 0, sizeof(c->auth));
	snprintf(cj->by, sizeof(cj->by), "%s%s%s%s", client_who(c),
		 cj->auth.user ? " (etcd user " : "",
		 cj->auth.user ? cj->auth.user : "", cj->auth.user ? ")" : "");
	list_add_tail(&cj->node, &r->cjoins);
	if (ep_add(wfd, &cj->src) < 0) {
		client_reply(c, -ENOMEM, -1, "epoll failed");
		cjoin_free(cj);
		close(jfd);
		client_free(c);
		return;
	}
	client_reply(c, 0, jfd, "%s", "");
	close(jfd);	/* NO_CANCEL_ON_CLOSE: the joiner's copy is the one */
	client_free(c);
}

static void check_done(void *arg, const struct etcd_reply *reply)
{
	struct client *c = arg;
	struct remote *r = c->remote;

	c->call = NULL;
	if (!r)
		return;
	if (reply->status == 0) {
		list_del(&c->wait);
		c->remote = NULL;
		serve_cancel(r, c);
		return;
	}
	if (reply->status == ETCD_PERMISSION_DENIED ||
	    reply->status == ETCD_INVALID_ARGUMENT ||
	    reply->status == ETCD_UNAUTHENTICATED) {
		if (!c->auth.user)
			client_reply(c, -EPERM, -1,
				     "the cancel right of %s needs etcd credentials (%s=user:password)",
				     r->name, CTXD_USER_ENV);
		else
			client_reply(c, -EPERM, -1,
				     "etcd user %s may not write %s: %s", c->auth.user,
				     r->key, reply->error);
	} else {
		client_reply(c, reply->status < 0 ? reply->status : -EIO, -1,
			     "cannot check the cancel right of %s: %s", r->name,
			     reply->error);
	}
	client_free(c);
}

/*
 * May @c's etcd identity write the record? A transaction whose compare
 * is never true (version < 0) and whose success branch writes it: etcd
 * checks the permissions of both branches, and changes nothing.
 */
static void check_cancel_right(struct remote *r, struct client *c)
{
	struct json_object *txn = json_object_new_object();
	struct json_object *cmp = json_object_new_array();
	struct json_object *ok = json_object_new_array();
	struct json_object *cc = json_object_new_object();
	struct json_object *op = json_object_new_object();
	struct json_object *put = json_object_new_object();

	json_object_object_add(cc, "key", etcd_b64(r->key, strlen(r->key)));
	json_object_object_add(cc, "target", json_object_new_string("VERSION"));
	json_object_object_add(cc, "result", json_object_new_string("LESS"));
	json_object_object_add(cc, "version", etcd_int_str(0));
	json_object_array_add(cmp, cc);
	json_object_object_add(put, "key", etcd_b64(r->key, strlen(r->key)));
	json_object_object_add(put, "value", etcd_b64("", 0));
	json_object_object_add(op, "request_put", put);
	json_object_array_add(ok, op);
	json_object_object_add(txn, "compare", cmp);
	json_object_object_add(txn, "success", ok);
	c->call = etcd_call(d.etcd, "/v3/kv/txn", txn, &c->auth, 0, -1, 0,
			    check_done, c);
}

/* Give every waiter what it asked for (R exists). */
static void serve_waiters(struct remote *r, bool done)
{
	struct list *p, *n;

	list_for_each_safe(p, n, &r->waiters) {
		struct client *c = list_entry(p, struct client, wait);

		if (c->call)
			continue;	/* its check is on its way */
		if (!(c->flags & CTXD_JOIN_CANCEL) || done) {
			list_del(&c->wait);
			c->remote = NULL;
			if (c->flags & CTXD_JOIN_CANCEL)
				serve_done_cancel(r, c);
			else
				serve_watch(r, c);
		} else if (!r->rec.cancelable) {
			client_reply(c, -EPERM, -1,
				     "the exporter of %s did not give the cancel right",
				     r->name);
			client_free(c);
		} else {
			check_cancel_right(r, c);
		}
	}
}

/* ---- the local context ------------------------------------------------------ */

/*
 * R is done (our cancel, its deadline, or the kernel): serve the
 * waiters with the done context, and free everything.
 */
static void remote_finish(struct remote *r)
{
	struct ctxfd_info info;
	struct list *p, *n;

	if (r->rfd >= 0 && kctx_info(r->rfd, &info) == 0)
		info("joined %s: done: %s", r->name,
		     info.cause_msg_len ? info.cause_msg : ctx_strerror(info.cause_code));
	list_for_each_safe(p, n, &r->waiters) {
		struct client *c = list_entry(p, struct client, wait);

		etcd_call_cancel(c->call);
		c->call = NULL;
		list_del(&c->wait);
		c->remote = NULL;
		if (c->flags & CTXD_JOIN_CANCEL)
			serve_done_cancel(r, c);
		else
			serve_watch(r, c);
	}
	remote_free(r, 0, NULL);
}

static void remote_cancel(struct remote *r, int code, const char *msg)
{
	if (r->rfd >= 0)
		kctx_cancel(r->rfd, code, msg);
	remote_finish(r);
}

/* Make R (and T) from the state known; R may be born done. */
static int remote_make(struct remote *r)
{
	int64_t timeout = -1;
	int fd, i;

	if (!r->absent && r->rec.done && r->rec.err == ETIMEDOUT)
		timeout = 0;	/* born done, with ETIMEDOUT and the cause */
	else if (!r->absent && !r->rec.done && r->rec.has_deadline)
		timeout = r->rec.remaining_ns;
	fd = kctx_root(timeout, timeout == 0 ? r->rec.cause_code : 0,
		       timeout == 0 && r->rec.cause_msg[0] ? r->rec.cause_msg : NULL);
	if (fd < 0)
		return fd;
	r->rfd = r->tfd = fd;
	r->has_deadline = timeout > 0;
	for (i = 0; !r->absent && i < r->rec.nr_values; i++) {
		int v = kctx_value_child(r->tfd, &r->rec.values[i]);

		if (v < 0) {
			say("joined %s: cannot bind value %s: %s", r->name,
			    r->rec.values[i].key, strerror(-v));
			continue;
		}
		if (r->tfd != r->rfd)
			close(r->tfd);	/* the kernel keeps the chain */
		r->tfd = v;
	}
	if (r->absent)
		kctx_cancel(r->rfd, CTX_CAUSE_LEASE_LOST, "remote: lease lost");
	else if (r->rec.done && r->rec.err != ETIMEDOUT)
		kctx_cancel(r->rfd, r->rec.cause_code, r->rec.cause_msg);
	return 0;
}

/* The state is known well enough: make R and serve. */
static void remote_start(struct remote *r)
{
	int ret;

	remote_drop_join_key(r);
	ret = remote_make(r);
	if (ret < 0) {
		remote_free(r, ret, "cannot make the joined context: %s",
			    strerror(-ret));
		return;
	}
	if (kctx_done(r->rfd)) {
		remote_finish(r);
		return;
	}
	if (ep_add(r->rfd, &r->src) < 0) {
		remote_free(r, -ENOMEM, "epoll failed");
		return;
	}
	r->state = RM_ACTIVE;
	info("joined %s (exported by %s)%s", r->name, r->rec.host,
	     r->has_deadline ? ", deadline armed" : "");
	serve_waiters(r, false);
}

/* The record says done (R is active). */
static void remote_done(struct remote *r)
{
	struct ctxfd_info info;

	if (r->rec.err == ETIMEDOUT && r->has_deadline &&
	    kctx_info(r->rfd, &info) == 0 &&
	    kctx_remaining_ns(&info) <= (int64_t)DEADLINE_SLACK_MS * 1000000) {
		/* R's own timer fires in a moment, with the right err. */
		r->timer_wait = true;
		return;
	}
	remote_cancel(r, r->rec.cause_code, r->rec.cause_msg);
}

/* ---- states from etcd -------------------------------------------------------- */

/* Take a state of the key at @rev, unless we know a newer one. */
static bool remote_apply(struct remote *r, int64_t rev, const char *val,
			 size_t len, bool absent)
{
	struct record rec;

	if (r->known && rev <= r->rev)
		return false;
	if (!absent && record_decode(val, len, &rec) < 0) {
		say("joined %s: unreadable record at revision %lld", r->name,
		    (long long)rev);
		return false;
	}
	record_free(&r->rec);
	if (!absent)
		r->rec = rec;
	r->absent = absent;
	r->rev = rev;
	r->known = true;
	return true;
}

static void handshake_complete(struct remote *r, const char *why)
{
	info("joined %s: %s", r->name, why);
	remote_start(r);
}

static void join_key_put(void *arg, const struct etcd_reply *reply)
{
	struct remote *r = arg;

	r->call = NULL;
	if (reply->status) {
		/* No answer will come: go with what we have. */
		say("joined %s: cannot ask the exporter for a fresh deadline: %s",
		    r->name, reply->error);
		free(r->join_key);
		r->join_key = NULL;
		handshake_complete(r, "deadline from the record as it was");
		return;
	}
	r->join_rev = reply->revision;
	if (r->rev > r->join_rev)
		handshake_complete(r, "fresh deadline from the exporter");
}

static void remote_handshake(struct remote *r)
{
	struct json_object *req;
	char id[96];

	snprintf(id, sizeof(id), "%s/%s-%d-%llu", r->name, d.host, (int)getpid(),
		 (unsigned long long)++d.join_seq);
	r->join_key = key_of("join/", id);
	if (!r->join_key) {
		remote_start(r);
		return;
	}
	r->state = RM_HANDSHAKE;
	r->join_rev = 0;
	r->hs_deadline = now_ms() + d.handshake_ms;
	req = json_object_new_object();
	json_object_object_add(req, "key", etcd_b64(r->join_key, strlen(r->join_key)));
	json_object_object_add(req, "value", etcd_b64(d.host, strlen(d.host)));
	/*
	 * Bound to our lease, so that it cannot outlive us; while a lost
	 * lease is being granted again, without: we delete it ourselves.
	 */
	if (have_lease())
		json_object_object_add(req, "lease", etcd_int_str(d.lease));
	r->call = etcd_call(d.etcd, "/v3/kv/put", req, NULL, 0, -1, 0,
			    join_key_put, r);
}

static void lookup_done(void *arg, const struct etcd_reply *reply)
{
	struct remote *r = arg;
	struct json_object *kvs;

	r->call = NULL;
	if (reply->status) {
		remote_free(r, reply->status < 0 ? reply->status : -EIO,
			    "cannot read %s from etcd: %s", r->key, reply->error);
		return;
	}
	if (json_object_object_get_ex(reply->json, "kvs", &kvs) &&
	    json_object_array_length(kvs) > 0) {
		struct json_object *kv = json_object_array_get_idx(kvs, 0);
		size_t len;
		char *val = etcd_unb64(kv, "value", &len);

		remote_apply(r, etcd_int(kv, "mod_revision", 0), val ? val : "",
			     len, false);
		free(val);
	} else {
		remote_apply(r, reply->revision, NULL, 0, true);
	}
	if (!r->known) {
		remote_free(r, -EBADMSG, "the record of %s is unreadable", r->name);
		return;
	}
	if (r->absent) {
		remote_free(r, -ENOENT, "nothing is exported as %s", r->name);
		return;
	}
	if (!r->rec.done && r->rec.has_deadline)
		remote_handshake(r);
	else
		remote_start(r);
}

void remote_join(struct client *c, const char *name)
{
	struct remote *r;

	if (!ctxd_name_valid(name)) {
		client_reply(c, -EINVAL, -1,
			     "invalid name \"%s\": use segments of [A-Za-z0-9._-] joined by '/'",
			     name);
		client_free(c);
		return;
	}
	if (d.unreachable) {
		client_reply(c, -EHOSTUNREACH, -1, "etcd is unreachable from this host");
		client_free(c);
		return;
	}
	r = remote_find(name);
	if (!r) {
		struct json_object *req;

		r = calloc(1, sizeof(*r));
		if (!r) {
			client_reply(c, -ENOMEM, -1, "out of memory");
			client_free(c);
			return;
		}
		r->src.kind = SRC_REMOTE;
		r->rfd = r->tfd = -1;
		list_init(&r->waiters);
		list_init(&r->cjoins);
		list_add_tail(&r->node, &d.remotes);
		r->name = strdup(name);
		r->key = key_of("ctx/", name);
		if (!r->name || !r->key) {
			remote_free(r, -ENOMEM, "out of memory");
			client_reply(c, -ENOMEM, -1, "out of memory");
			client_free(c);
			return;
		}
		r->state = RM_LOOKUP;
		req = json_object_new_object();
		json_object_object_add(req, "key", etcd_b64(r->key, strlen(r->key)));
		r->call = etcd_call(d.etcd, "/v3/kv/range", req, NULL, 0, -1, 0,
				    lookup_done, r);
	}
	c->remote = r;
	list_add_tail(&c->wait, &r->waiters);
	if (r->state == RM_ACTIVE)
		serve_waiters(r, false);
}

void remote_client_gone(struct client *c)
{
	struct remote *r = c->remote;

	list_del(&c->wait);
	c->remote = NULL;
	/* Nobody waits for a remote that is not set up yet: forget it. */
	if (r->state != RM_ACTIVE && list_empty(&r->waiters))
		remote_free(r, 0, NULL);
}

bool remote_record_event(const char *name, int64_t rev, const char *val,
			 size_t len, bool deleted)
{
	struct remote *r = remote_find(name);

	if (!r)
		return false;
	if (!remote_apply(r, rev, val, len, deleted))
		return true;
	switch (r->state) {
	case RM_LOOKUP:
		break;	/* lookup_done() takes the newest */
	case RM_HANDSHAKE:
		if (r->absent || r->rec.done)
			handshake_complete(r, "done while joining");
		else if (r->join_rev && r->rev > r->join_rev)
			handshake_complete(r, "fresh deadline from the exporter");
		break;
	case RM_ACTIVE:
		if (r->timer_wait)
			break;
		if (r->absent) {
			say("joined %s: the exporter's lease is gone: canceling", r->name);
			remote_cancel(r, CTX_CAUSE_LEASE_LOST, "remote: lease lost");
		} else if (r->rec.done) {
			remote_done(r);
		}
		break;
	}
	return true;
}

void remote_ctx_event(struct src *src)
{
	/* R is done: its own deadline fired (nobody else can cancel it). */
	remote_finish((struct remote *)src);
}

/* ---- remote cancels --------------------------------------------------------- */

static void cjoin_range(struct cjoin *cj);

/* Is @key the record of @r or of a name under it? */
static bool in_subtree(struct remote *r, const char *key, size_t len)
{
	size_t klen = strlen(r->key);

	return len >= klen && !memcmp(key, r->key, klen) &&
	       (len == klen || key[klen] == '/');
}

static void cjoin_txn_done(void *arg, const struct etcd_reply *reply)
{
	struct cjoin *cj = arg;
	struct remote *r = cj->r;
	char msg[CTXFD_CAUSE_MSG_MAX + 1];
	struct json_object *v;
	int code;

	cj->call = NULL;
	if (reply->status) {
		say("joined %s: the remote cancel by %s failed: %s", r->name,
		    cj->by, reply->error);
		cjoin_free(cj);
		return;
	}
	if (!json_object_object_get_ex(reply->json, "succeeded", &v) ||
	    !json_object_get_boolean(v)) {
		/* Something changed in between: read again. */
		if (++cj->tries < CANCEL_TRIES) {
			cjoin_range(cj);
			return;
		}
		say("joined %s: the remote cancel by %s gave up: the records keep changing",
		    r->name, cj->by);
		cjoin_free(cj);
		return;
	}
	info("joined %s: canceled remotely by %s at revision %lld", r->name,
	     cj->by, (long long)reply->revision);
	code = cj->code;
	snprintf(msg, sizeof(msg), "%s", cj->msg);
	cjoin_free(cj);
	/*
	 * What we wrote is the newest state: the other joiners of this
	 * host need not wait for the watch to bring it back.
	 */
	if (r->state == RM_ACTIVE && !r->timer_wait && reply->revision > r->rev) {
		r->rev = reply->revision;
		remote_cancel(r, code, msg);
	}
}

static void cjoin_range_done(void *arg, const struct etcd_reply *reply)
{
	struct cjoin *cj = arg;
	struct remote *r = cj->r;
	struct json_object *kvs, *txn, *cmp, *ok;
	size_t i, n;
	int writes = 0;

	cj->call = NULL;
	if (reply->status) {
		say("joined %s: the remote cancel by %s failed: %s", r->name,
		    cj->by, reply->error);
		cjoin_free(cj);
		return;
	}
	txn = json_object_new_object();
	cmp = json_object_new_array();
	ok = json_object_new_array();
	n = json_object_object_get_ex(reply->json, "kvs", &kvs) ?
	    json_object_array_length(kvs) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *kv = json_object_array_get_idx(kvs, i);
		struct json_object *c, *op, *put;
		size_t klen, vlen;
		char *key = etcd_unb64(kv, "key", &klen);
		char *val = etcd_unb64(kv, "value", &vlen);
		struct record rec;
		char *enc;

		if (!key || !val || !in_subtree(r, key, klen) ||
		    record_decode(val, vlen, &rec) < 0) {
			free(key);
			free(val);
			continue;
		}
		free(val);
		if (rec.done) {
			record_free(&rec);
			free(key);
			continue;
		}
		record_set_done(&rec, ECANCELED, cj->code, cj->msg, cj->by);
		enc = record_encode(&rec);
		record_free(&rec);
		c = json_object_new_object();
		json_object_object_add(c, "key", etcd_b64(key, klen));
		json_object_object_add(c, "target", json_object_new_string("MOD"));
		json_object_object_add(c, "result", json_object_new_string("EQUAL"));
		json_object_object_add(c, "mod_revision",
				       etcd_int_str(etcd_int(kv, "mod_revision", 0)));
		json_object_array_add(cmp, c);
		put = json_object_new_object();
		json_object_object_add(put, "key", etcd_b64(key, klen));
		json_object_object_add(put, "value", etcd_b64(enc ? enc : "",
							     enc ? strlen(enc) : 0));
		json_object_object_add(put, "ignore_lease", json_object_new_boolean(1));
		op = json_object_new_object();
		json_object_object_add(op, "request_put", put);
		json_object_array_add(ok, op);
		free(enc);
		free(key);
		writes++;
	}
	if (!writes) {
		/* Done already, or gone: nothing to cancel. */
		json_object_put(txn);
		json_object_put(cmp);
		json_object_put(ok);
		cjoin_free(cj);
		return;
	}
	json_object_object_add(txn, "compare", cmp);
	json_object_object_add(txn, "success", ok);
	cj->call = etcd_call(d.etcd, "/v3/kv/txn", txn, &cj->auth, 0, -1, 0,
			     cjoin_txn_done, cj);
}

/* Read NAME and everything under NAME/ (as the joiner's etcd user). */
static void cjoin_range(struct cjoin *cj)
{
	struct json_object *req = json_object_new_object();
	size_t klen = strlen(cj->r->key);
	char *end = malloc(klen + 1);

	json_object_object_add(req, "key", etcd_b64(cj->r->key, klen));
	if (end) {
		/* [NAME, NAME0): NAME, NAME/... ('0' is '/' + 1) and a few
		 * others (NAME-x, NAME.x) that in_subtree() leaves out. */
		memcpy(end, cj->r->key, klen);
		end[klen] = '0';
		json_object_object_add(req, "range_end", etcd_b64(end, klen + 1));
		free(end);
	}
	cj->call = etcd_call(d.etcd, "/v3/kv/range", req, &cj->auth, 0, -1, 0,
			     cjoin_range_done, cj);
}

void cjoin_event(struct src *src)
{
	struct cjoin *cj = (struct cjoin *)src;
	struct ctxfd_info info;

	ep_del(cj->jfd);
	if (kctx_info(cj->jfd, &info) < 0 || cj->r->rfd < 0 ||
	    kctx_done(cj->r->rfd) || info.err != ECANCELED) {
		/* Canceled with R (the remote's end), not by the joiner. */
		cjoin_free(cj);
		return;
	}
	cj->code = info.cause_code;
	snprintf(cj->msg, sizeof(cj->msg), "%s",
		 info.cause_msg_len ? info.cause_msg : "");
	info("joined %s: canceled by %s (%s): canceling the remote context",
	     cj->r->name, cj->by, cj->msg[0] ? cj->msg : ctx_strerror(cj->code));
	cjoin_range(cj);
}

/* ---- timers and the end ------------------------------------------------------- */

void remotes_timers(int64_t now, int64_t *next)
{
	struct list *p, *n;

	list_for_each_safe(p, n, &d.remotes) {
		struct remote *r = list_entry(p, struct remote, node);

		if (r->state != RM_HANDSHAKE)
			continue;
		if (now >= r->hs_deadline) {
			say("joined %s: no fresh deadline from host %s within %lld ms: using the record's",
			    r->name, r->rec.host, (long long)d.handshake_ms);
			etcd_call_cancel(r->call);
			r->call = NULL;
			remote_start(r);
			continue;
		}
		if (!*next || r->hs_deadline < *next)
			*next = r->hs_deadline;
	}
}

void remotes_unreachable(int64_t since_ms)
{
	struct list *p, *n;
	char msg[CTXFD_CAUSE_MSG_MAX + 1];

	snprintf(msg, sizeof(msg), "remote: etcd unreachable for %.1fs (fail-safe)",
		 (double)since_ms / 1000);
	list_for_each_safe(p, n, &d.remotes) {
		struct remote *r = list_entry(p, struct remote, node);

		if (r->state == RM_ACTIVE) {
			say("joined %s: %s", r->name, msg);
			remote_cancel(r, CTX_CAUSE_UNREACHABLE, msg);
		} else {
			remote_free(r, -EHOSTUNREACH, "etcd is unreachable from this host");
		}
	}
}

void remotes_free_all(void)
{
	struct list *p, *n;

	list_for_each_safe(p, n, &d.remotes) {
		struct remote *r = list_entry(p, struct remote, node);

		if (r->state == RM_ACTIVE)
			remote_cancel(r, CTX_CAUSE_CTXD_STOPPED, "ctxd: stopped");
		else
			remote_free(r, -ESHUTDOWN, "ctxd is stopping");
	}
}

char **remotes_keys(size_t *n)
{
	struct list *p, *q;
	size_t nr = 0;
	char **v;

	list_for_each_safe(p, q, &d.remotes)
		nr++;
	*n = 0;
	v = calloc(nr ? nr : 1, sizeof(*v));
	if (!v)
		return NULL;
	list_for_each_safe(p, q, &d.remotes) {
		struct remote *x = list_entry(p, struct remote, node);

		v[*n] = strdup(x->key);
		if (v[*n])
			(*n)++;
	}
	return v;
}
