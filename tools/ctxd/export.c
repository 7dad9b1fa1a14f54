// SPDX-License-Identifier: GPL-2.0
/*
 * Exports: contexts of this host published in etcd under P ctx/NAME,
 * bound to this ctxd's lease.
 *
 * An export holds a watch-only descriptor of the context (and a
 * cancel-capable one when the exporter lets joiners cancel it), and the
 * record it last wrote. It writes:
 *  - the record, once, when created (a transaction that fails if the
 *    name is taken: names are first come, first served);
 *  - the record again with a fresh "remaining_ns" when a joiner asks
 *    (P join/NAME/...), so that joiners arm their deadline from a time
 *    measured just before the write, not at export time;
 *  - the final record once the context is done.
 * Writes of one export never overlap: each carries a compare on the
 * mod_revision the export last knew, so a remote cancel written in
 * between is never overwritten (the compare fails, and the export reads
 * what is there).
 *
 * A cancel is one transaction for the whole subtree: when a context is
 * done, the kernel has already canceled its whole subtree, so every
 * export whose context is done by then goes into the same transaction
 * (export_flush() looks at all of them), and every watcher sees them
 * change at the same revision.
 *
 * A remote cancel (a joiner with the right rewrote the record as done)
 * reaches the exporting host through the watch: the export cancels its
 * context with the record's cause, and the kernel does the rest.
 *
 * The export ends with its client's connection (ctx_export_release() or
 * the process's exit): its cancel-capable descriptor is closed first (if
 * it was the last one, the kernel cancels the context: "defer cancel()"),
 * the record is finished (done with the context's cause, or with
 * "remote: export withdrawn" if it lives on), then deleted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ctxfd.h>

#include "ctxd.h"

/* How long an export may wait to be published (libctxfd waits 60 s). */
#define EXPORT_PATIENCE_MS	30000

struct export {
	struct src src;			/* SRC_EXPORT: @wfd in epoll */
	int64_t created_at;		/* ms */
	struct list node;		/* on d.exports */
	char *name;
	char *key;
	int wfd;			/* watch-only fd of the context */
	int cfd;			/* cancel-capable fd, or -1 */
	struct client *client;		/* NULL once withdrawn */
	struct record rec;		/* the record as we want it */
	int64_t rev;			/* mod_revision we know, 0: none */
	bool published;			/* the key exists, with our lease */
	bool replied;			/* the client got its answer */
	bool local_done;		/* the context is done; @rec says so */
	bool record_done;		/* the record in etcd says done */
	bool refresh;			/* a joiner wants a fresh remaining time */
	bool withdrawn;
	bool deleting;
	struct etcd_call *call;		/* a write of this export alone */
	struct xbatch *batch;		/* or the batch it is part of */
};

/* A transaction over several exports; slots are NULLed if one goes. */
struct xbatch {
	int n;
	struct etcd_call *call;
	struct export *x[];
};

static void export_free(struct export *x)
{
	if (x->batch) {
		for (int i = 0; i < x->batch->n; i++)
			if (x->batch->x[i] == x)
				x->batch->x[i] = NULL;
	}
	etcd_call_cancel(x->call);
	if (x->client) {
		x->client->exp = NULL;
		x->client = NULL;
	}
	if (x->wfd >= 0) {
		ep_del(x->wfd);
		close(x->wfd);
	}
	if (x->cfd >= 0)
		close(x->cfd);
	record_free(&x->rec);
	list_del(&x->node);
	free(x->name);
	free(x->key);
	free(x);
}

static struct export *export_find(const char *name)
{
	struct list *p, *n;

	list_for_each_safe(p, n, &d.exports) {
		struct export *x = list_entry(p, struct export, node);

		if (!strcmp(x->name, name))
			return x;
	}
	return NULL;
}

/* Refresh @x->rec from the kernel: done state, cause, remaining time. */
static void export_refresh_rec(struct export *x)
{
	struct ctxfd_info info;

	if (x->local_done || kctx_info(x->wfd, &info) < 0)
		return;
	if (info.flags & CTXFD_INFO_DONE) {
		char by[160];

		snprintf(by, sizeof(by), "%s", d.host);
		record_set_done(&x->rec, info.err, info.cause_code,
				info.cause_msg_len ? info.cause_msg : NULL, by);
		x->local_done = true;
		return;
	}
	x->rec.has_deadline = !!(info.flags & CTXFD_INFO_HAS_DEADLINE);
	x->rec.remaining_ns = x->rec.has_deadline ? kctx_remaining_ns(&info) : 0;
}

/* A put of @x's record with the lease, as a txn request_op. */
static struct json_object *export_put_op(struct export *x)
{
	struct json_object *op = json_object_new_object();
	struct json_object *put = json_object_new_object();
	char *val = record_encode(&x->rec);

	json_object_object_add(put, "key", etcd_b64(x->key, strlen(x->key)));
	json_object_object_add(put, "value", etcd_b64(val ? val : "", val ? strlen(val) : 0));
	json_object_object_add(put, "lease", etcd_int_str(d.lease));
	json_object_object_add(op, "request_put", put);
	free(val);
	return op;
}

static struct json_object *range_op(const char *key)
{
	struct json_object *op = json_object_new_object();
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "key", etcd_b64(key, strlen(key)));
	json_object_object_add(op, "request_range", r);
	return op;
}

static struct json_object *compare_rev(const char *key, const char *target,
				       const char *field, int64_t rev)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "key", etcd_b64(key, strlen(key)));
	json_object_object_add(c, "target", json_object_new_string(target));
	json_object_object_add(c, "result", json_object_new_string("EQUAL"));
	json_object_object_add(c, field, etcd_int_str(rev));
	return c;
}

/* The lease we used is gone: etcd says "requested lease not found". */
static bool lease_error(const struct etcd_reply *r)
{
	return r->status == ETCD_NOT_FOUND && r->error && strstr(r->error, "lease");
}

/*
 * Apply what a failed compare found at @x's key: the response of the
 * failure branch's range, @resp (one per export, in order).
 */
static void export_apply_range(struct export *x, struct json_object *resp)
{
	struct json_object *rr, *kvs, *kv;
	struct record rec;
	int64_t rev;
	size_t len;
	char *val;

	if (!json_object_object_get_ex(resp, "response_range", &rr) ||
	    !json_object_object_get_ex(rr, "kvs", &kvs) ||
	    json_object_array_length(kvs) == 0) {
		/* Gone: our lease expired; republish once we have a new one. */
		x->published = false;
		x->record_done = false;
		x->rev = 0;
		return;
	}
	kv = json_object_array_get_idx(kvs, 0);
	rev = etcd_int(kv, "mod_revision", 0);
	if (rev <= x->rev)
		return;
	val = etcd_unb64(kv, "value", &len);
	if (val && record_decode(val, len, &rec) == 0) {
		if (rec.done)
			export_record_event(x->name, rev, val, len, false);
		else
			x->rev = rev;
		record_free(&rec);
	}
	free(val);
}

static void export_created(void *arg, const struct etcd_reply *r)
{
	struct export *x = arg;
	struct json_object *v, *resps;
	bool ok;

	x->call = NULL;
	if (r->status) {
		bool permanent = r->status == ETCD_PERMISSION_DENIED ||
				 r->status == ETCD_INVALID_ARGUMENT;

		say("export %s: cannot publish: %s", x->name, r->error);
		if (lease_error(r))
			lease_lost();
		/*
		 * etcd being slow or our lease being granted again is no
		 * reason to give up: the flush tries again, for as long as
		 * the exporter waits for its answer (EXPORT_PATIENCE_MS).
		 */
		if (!x->replied && !x->withdrawn &&
		    (permanent || now_ms() - x->created_at > EXPORT_PATIENCE_MS)) {
			x->replied = true;
			client_reply(x->client, r->status < 0 ? r->status :
				     permanent ? -EPERM : -EIO, -1,
				     "cannot publish %s in etcd: %s", x->name, r->error);
			client_free(x->client);	/* withdraws and frees @x */
			return;
		}
		if (!d.flush_at || d.flush_at > now_ms() + 500)
			d.flush_at = now_ms() + 500;
		return;
	}
	ok = json_object_object_get_ex(r->json, "succeeded", &v) &&
	     json_object_get_boolean(v);
	if (!ok) {
		char host[80] = "another host";
		struct json_object *rr, *kvs, *kv = NULL;
		struct record rec;

		if (json_object_object_get_ex(r->json, "responses", &resps) &&
		    json_object_object_get_ex(json_object_array_get_idx(resps, 0),
					      "response_range", &rr) &&
		    json_object_object_get_ex(rr, "kvs", &kvs))
			kv = json_object_array_get_idx(kvs, 0);
		if (kv && etcd_int(kv, "lease", 0) == d.lease) {
			/*
			 * Our own key: an earlier attempt of this very call
			 * went through before it timed out, and was retried.
			 */
			x->published = true;
			x->rev = etcd_int(kv, "mod_revision", 0);
			x->record_done = x->rec.done;
			goto published;
		}
		if (kv) {
			size_t len;
			char *val = etcd_unb64(kv, "value", &len);

			if (val && record_decode(val, len, &rec) == 0) {
				snprintf(host, sizeof(host), "host %s", rec.host);
				record_free(&rec);
			}
			free(val);
		}
		say("export %s: the name is taken by %s", x->name, host);
		if (x->client && !x->replied) {
			x->replied = true;
			client_reply(x->client, -EEXIST, -1,
				     "%s is already exported by %s", x->name, host);
		}
		if (x->client)
			client_free(x->client);	/* withdraws and frees @x */
		else
			export_free(x);
		return;
	}
	x->published = true;
	x->rev = r->revision;
	x->record_done = x->rec.done;
published:
	info("export %s: published at revision %lld", x->name, (long long)x->rev);
	if (x->client && !x->replied) {
		x->replied = true;
		client_reply(x->client, 0, -1, "%s", "");
	}
	d.flush_needed = true;
}

/* Create P ctx/NAME, failing if it exists. */
static void export_publish(struct export *x)
{
	struct json_object *txn = json_object_new_object();
	struct json_object *cmp = json_object_new_array();
	struct json_object *ok = json_object_new_array();
	struct json_object *fail = json_object_new_array();

	export_refresh_rec(x);
	json_object_array_add(cmp, compare_rev(x->key, "CREATE", "create_revision", 0));
	json_object_array_add(ok, export_put_op(x));
	json_object_array_add(fail, range_op(x->key));
	json_object_object_add(txn, "compare", cmp);
	json_object_object_add(txn, "success", ok);
	json_object_object_add(txn, "failure", fail);
	x->refresh = false;
	x->call = etcd_call(d.etcd, "/v3/kv/txn", txn, NULL, 0, -1, 0,
			    export_created, x);
}

int export_create(struct client *c, const char *name, char **keys,
		  int nr_keys, int wfd, int cfd)
{
	struct ctxfd_info info;
	struct export *x;
	int i, ret;

	if (!ctxd_name_valid(name)) {
		client_reply(c, -EINVAL, -1,
			     "invalid name \"%s\": use segments of [A-Za-z0-9._-] joined by '/'",
			     name);
		return -EINVAL;
	}
	if (kctx_info(wfd, &info) < 0 || (cfd >= 0 && kctx_info(cfd, &info) < 0)) {
		client_reply(c, -EBADF, -1, "the descriptors are not ctxfd contexts");
		return -EBADF;
	}
	if (cfd >= 0 && !(info.flags & CTXFD_INFO_CAN_CANCEL)) {
		client_reply(c, -EPERM, -1, "the cancel descriptor cannot cancel");
		return -EPERM;
	}
	if (export_find(name)) {
		client_reply(c, -EEXIST, -1, "%s is already exported by this host", name);
		return -EEXIST;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		client_reply(c, -ENOMEM, -1, "out of memory");
		return -ENOMEM;
	}
	x->src.kind = SRC_EXPORT;
	x->created_at = now_ms();
	x->name = strdup(name);
	x->key = key_of("ctx/", name);
	x->wfd = -1;
	x->cfd = -1;
	list_add_tail(&x->node, &d.exports);
	x->rec.values = calloc(nr_keys ? nr_keys : 1, sizeof(*x->rec.values));
	if (!x->name || !x->key || !x->rec.values) {
		ret = -ENOMEM;
		client_reply(c, ret, -1, "out of memory");
		goto fail;
	}
	snprintf(x->rec.host, sizeof(x->rec.host), "%s", d.host);
	x->rec.cancelable = cfd >= 0;
	x->rec.ctx_id = info.id;
	for (i = 0; i < nr_keys; i++) {
		struct kctx_value *v = &x->rec.values[x->rec.nr_values];

		v->key_len = strlen(keys[i]);
		ret = v->key_len ? kctx_lookup(wfd, keys[i], v->key_len, &v->val,
					       &v->val_len, &v->nil) : -EINVAL;
		if (ret == -ENOENT)
			continue;	/* not bound: nothing to carry */
		if (ret < 0) {
			client_reply(c, ret, -1, "cannot look value \"%s\" up: %s",
				     keys[i], strerror(-ret));
			goto fail;
		}
		v->key = strdup(keys[i]);
		if (!v->key) {
			free(v->val);
			ret = -ENOMEM;
			client_reply(c, ret, -1, "out of memory");
			goto fail;
		}
		x->rec.nr_values++;
	}
	ret = ep_add(wfd, &x->src);
	if (ret < 0) {
		client_reply(c, ret, -1, "epoll: %s", strerror(-ret));
		goto fail;
	}
	x->wfd = wfd;
	x->cfd = cfd;
	x->client = c;
	c->exp = x;
	/* Without a lease (being granted again), the flush publishes later. */
	if (have_lease())
		export_publish(x);
	return 0;
fail:
	export_free(x);
	return ret;
}

void export_ctx_event(struct src *src)
{
	struct export *x = (struct export *)src;

	/* Done is final: stop listening, the flush writes it. */
	ep_del(x->wfd);
	d.flush_needed = true;
}

void export_withdraw(struct export *x)
{
	x->client = NULL;
	x->withdrawn = true;
	if (x->cfd >= 0) {
		/* If it was the last one, this cancels the context. */
		close(x->cfd);
		x->cfd = -1;
	}
	info("export %s: withdrawn", x->name);
	d.flush_needed = true;
}

static void export_batch_done(void *arg, const struct etcd_reply *r)
{
	struct xbatch *b = arg;
	struct json_object *v, *resps = NULL;
	bool ok = false;
	int i;

	if (!r->status)
		ok = json_object_object_get_ex(r->json, "succeeded", &v) &&
		     json_object_get_boolean(v);
	if (!r->status && !ok)
		json_object_object_get_ex(r->json, "responses", &resps);
	for (i = 0; i < b->n; i++) {
		struct export *x = b->x[i];

		if (!x)
			continue;
		x->batch = NULL;
		if (r->status)
			continue;
		if (ok) {
			x->rev = r->revision;
			if (x->rec.done && !x->record_done) {
				x->record_done = true;
				info("export %s: done (%s) at revision %lld", x->name,
				     x->rec.cause_msg[0] ? x->rec.cause_msg :
				     strerror(x->rec.cause_code), (long long)x->rev);
			}
		} else if (resps) {
			export_apply_range(x, json_object_array_get_idx(resps, (size_t)i));
		}
	}
	if (r->status) {
		say("cannot update the records: %s", r->error);
		if (lease_error(r))
			lease_lost();
		d.flush_at = now_ms() + 200;
	}
	free(b);
	d.flush_needed = true;
}

static void export_deleted(void *arg, const struct etcd_reply *r)
{
	struct export *x = arg;

	x->call = NULL;
	if (r->status) {
		say("export %s: cannot delete the record: %s", x->name, r->error);
		x->deleting = false;
		d.flush_at = now_ms() + 500;
		return;
	}
	info("export %s: record deleted", x->name);
	export_free(x);
}

static void export_delete(struct export *x)
{
	struct json_object *req = json_object_new_object();

	json_object_object_add(req, "key", etcd_b64(x->key, strlen(x->key)));
	x->deleting = true;
	x->call = etcd_call(d.etcd, "/v3/kv/deleterange", req, NULL, 0, -1, 0,
			    export_deleted, x);
}

void export_flush(void)
{
	struct json_object *cmp, *ok, *fail, *txn;
	struct list *p, *n;
	struct xbatch *b;
	int count = 0;

	d.flush_needed = false;
	d.flush_at = 0;
	list_for_each_safe(p, n, &d.exports) {
		struct export *x = list_entry(p, struct export, node);

		if (x->call || x->batch)
			continue;	/* one write at a time */
		export_refresh_rec(x);
		if (x->withdrawn && !x->published) {
			export_free(x);
			continue;
		}
		if (!x->published) {
			if (have_lease())
				export_publish(x);
			continue;
		}
		if (x->withdrawn && !x->local_done && !x->rec.done)
			record_set_done(&x->rec, ECANCELED, CTX_CAUSE_WITHDRAWN,
					"remote: export withdrawn", d.host);
		if (x->withdrawn && x->record_done) {
			export_delete(x);
			continue;
		}
		if ((x->rec.done && !x->record_done) ||
		    (x->refresh && !x->record_done))
			count++;
	}
	if (!count || !have_lease())
		return;
	b = calloc(1, sizeof(*b) + count * sizeof(b->x[0]));
	if (!b) {
		d.flush_at = now_ms() + 200;
		return;
	}
	cmp = json_object_new_array();
	ok = json_object_new_array();
	fail = json_object_new_array();
	list_for_each_safe(p, n, &d.exports) {
		struct export *x = list_entry(p, struct export, node);

		if (x->call || x->batch || !x->published || b->n == count)
			continue;
		if (!((x->rec.done && !x->record_done) ||
		      (x->refresh && !x->record_done)))
			continue;
		x->refresh = false;
		x->batch = b;
		b->x[b->n++] = x;
		json_object_array_add(cmp, compare_rev(x->key, "MOD",
						       "mod_revision", x->rev));
		json_object_array_add(ok, export_put_op(x));
		json_object_array_add(fail, range_op(x->key));
	}
	txn = json_object_new_object();
	json_object_object_add(txn, "compare", cmp);
	json_object_object_add(txn, "success", ok);
	json_object_object_add(txn, "failure", fail);
	b->call = etcd_call(d.etcd, "/v3/kv/txn", txn, NULL, 0, -1, 0,
			    export_batch_done, b);
}

bool export_record_event(const char *name, int64_t rev, const char *val,
			 size_t len, bool deleted)
{
	struct export *x = export_find(name);
	struct record rec;

	if (!x)
		return false;
	if (rev <= x->rev && !deleted)
		return true;	/* old news */
	if (deleted) {
		if (x->deleting || rev <= x->rev)
			return true;
		/* Not by us: our lease expired, or someone removed it. */
		say("export %s: the record was deleted (lease lost?)", x->name);
		x->published = false;
		x->record_done = false;
		x->rev = 0;
		d.flush_needed = true;
		return true;
	}
	x->rev = rev;
	if (record_decode(val, len, &rec) < 0)
		return true;
	if (rec.done && !x->record_done) {
		x->record_done = true;
		if (!x->local_done) {
			/* A remote cancel: the kernel cancels the subtree. */
			say("export %s: canceled remotely by %s: %s", x->name,
			    rec.by[0] ? rec.by : "another host",
			    rec.cause_msg[0] ? rec.cause_msg : strerror(rec.cause_code));
			if (x->cfd >= 0)
				kctx_cancel(x->cfd, rec.cause_code, rec.cause_msg);
			else
				say("export %s: the exporter did not give the cancel right: the context stays active",
				    x->name);
			/* The record is what etcd has now. */
			record_free(&x->rec);
			x->rec = rec;
			x->local_done = true;
			/* Descendants the kernel canceled go out in one txn. */
			d.flush_needed = true;
			return true;
		}
	}
	record_free(&rec);
	return true;
}

bool export_join_event(const char *name, int64_t rev)
{
	struct export *x = export_find(name);

	if (!x)
		return false;
	if (!x->record_done && !x->local_done) {
		x->refresh = true;
		d.flush_needed = true;
	}
	return true;
}

void exports_republish(void)
{
	struct list *p, *n;

	list_for_each_safe(p, n, &d.exports) {
		struct export *x = list_entry(p, struct export, node);

		x->published = false;
		x->record_done = false;
		x->rev = 0;
		x->deleting = false;
		etcd_call_cancel(x->call);
		x->call = NULL;
	}
	d.flush_needed = true;
}

void exports_free_all(void)
{
	struct list *p, *n;

	list_for_each_safe(p, n, &d.exports)
		export_free(list_entry(p, struct export, node));
}

char **exports_keys(size_t *n)
{
	struct list *p, *q;
	size_t nr = 0;
	char **v;

	list_for_each_safe(p, q, &d.exports)
		nr++;
	*n = 0;
	v = calloc(nr ? nr : 1, sizeof(*v));
	if (!v)
		return NULL;
	list_for_each_safe(p, q, &d.exports) {
		struct export *x = list_entry(p, struct export, node);

		v[*n] = strdup(x->key);
		if (v[*n])
			(*n)++;
	}
	return v;
}
