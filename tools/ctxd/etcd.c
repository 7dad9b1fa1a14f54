// SPDX-License-Identifier: GPL-2.0
/*
 * etcd's v3 JSON gateway over libcurl's multi interface: see etcd.h.
 *
 * Every call is one POST on its own easy handle; the multi handle keeps
 * connections to each member alive between calls (HTTP/1.1 keep-alive),
 * so a call costs one request on a warm connection. "Expect:" is turned
 * off: curl would otherwise wait for a "100 Continue" before sending a
 * body over 1 KiB, which the gateway never sends.
 *
 * Calls and streams live on two lists of the client, so that
 * etcd_free() and etcd_call_cancel() can end them at any time; a call
 * waiting to be retried sits on the list with @retry_at set and no easy
 * handle in the multi.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "etcd.h"

/* Delay before retrying a call after "unavailable" or a failover. */
#define ETCD_RETRY_DELAY_MS	100

struct etcd_buf {
	char *data;
	size_t len;
	size_t cap;
};

struct etcd_call {
	struct etcd *e;
	struct etcd_call *prev, *next;	/* on e->calls */
	char *path;
	char *body;
	struct etcd_auth *auth;
	unsigned int flags;
	int endpoint;			/* where the current attempt goes */
	int64_t give_up_at;		/* no retry after this (ms) */
	int timeout_ms;			/* of one attempt */
	int64_t retry_at;		/* waiting to be retried (ms), or 0 */
	bool authenticating;		/* the transfer is /v3/auth/authenticate */
	bool reauthed;			/* the token was renewed once already */
	bool got_object;		/* ETCD_FIRST_OBJECT: it came */
	etcd_fn fn;
	void *arg;
	CURL *easy;
	struct curl_slist *headers;
	struct etcd_buf resp;
	char errbuf[CURL_ERROR_SIZE];
};

struct etcd_watch {
	struct etcd *e;
	struct etcd_watch *prev, *next;	/* on e->watches */
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	json_tokener *tok;
	struct json_object *queue;	/* objects parsed, not yet dispatched */
	int end_status;			/* the transfer ended with this, or 0 */
	const char *end_error;
	etcd_created_fn created;
	etcd_watch_fn fn;
	void *arg;
	bool ended;			/* fn was told; ignore the rest */
	char errbuf[CURL_ERROR_SIZE];
};

struct etcd {
	CURLM *multi;
	char **endpoints;
	int nr_endpoints;
	int current;
	int timeout_ms;
	struct etcd_auth *self;
	struct etcd_call *calls;
	struct etcd_watch *watches;
};

static int64_t etcd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- JSON and base64 ------------------------------------------------------ */

struct json_object *etcd_b64(const void *p, size_t len)
{
	size_t cap = 4 * ((len + 2) / 3) + 1;
	struct json_object *s;
	unsigned char *out;
	int n;

	if (len > INT_MAX / 2)
		return NULL;
	out = malloc(cap);
	if (!out)
		return NULL;
	n = EVP_EncodeBlock(out, p, (int)len);
	s = json_object_new_string_len((char *)out, n);
	free(out);
	return s;
}

char *etcd_unb64(struct json_object *obj, const char *name, size_t *len)
{
	struct json_object *v;
	const char *s;
	size_t slen, pad = 0;
	unsigned char *out;
	int n;

	*len = 0;
	if (!json_object_object_get_ex(obj, name, &v))
		return NULL;
	s = json_object_get_string(v);
	slen = (size_t)json_object_get_string_len(v);
	if (!s || slen % 4 || slen > INT_MAX / 2)
		return NULL;
	out = malloc(slen / 4 * 3 + 1);
	if (!out)
		return NULL;
	n = slen ? EVP_DecodeBlock(out, (const unsigned char *)s, (int)slen) : 0;
	if (n < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	if (slen && s[slen - 1] == '=')
		pad++;
	if (slen > 1 && s[slen - 2] == '=')
		pad++;
	n -= (int)pad;
	out[n] = '\0';
	*len = (size_t)n;
	return (char *)out;
}

int64_t etcd_int(struct json_object *obj, const char *name, int64_t def)
{
	struct json_object *v;

	if (!obj || !json_object_object_get_ex(obj, name, &v))
		return def;
	/* Strings ("123") and numbers alike. */
	return json_object_get_int64(v);
}

struct json_object *etcd_int_str(int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return json_object_new_string(buf);
}

char *etcd_prefix_end(const char *prefix, size_t len, size_t *end_len)
{
	char *end = malloc(len + 1);
	size_t i;

	if (!end)
		return NULL;
	memcpy(end, prefix, len);
	for (i = len; i > 0; i--) {
		if ((unsigned char)end[i - 1] != 0xff) {
			end[i - 1]++;
			*end_len = i;
			end[i] = '\0';
			return end;
		}
	}
	/* All 0xff: the range goes to the end of the key space ("\0"). */
	end[0] = '\0';
	*end_len = 1;
	return end;
}

/* ---- the client ------------------------------------------------------------- */

struct etcd *etcd_new(char **endpoints, int nr_endpoints, int timeout_ms,
		      struct etcd_auth *self)
{
	struct etcd *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->multi = curl_multi_init();
	if (!e->multi) {
		free(e);
		return NULL;
	}
	e->endpoints = endpoints;
	e->nr_endpoints = nr_endpoints;
	e->timeout_ms = timeout_ms;
	e->self = self;
	return e;
}

int etcd_nr_endpoints(struct etcd *e)
{
	return e->nr_endpoints;
}

const char *etcd_endpoint(struct etcd *e, int i)
{
	return e->endpoints[i];
}

int etcd_current(struct etcd *e)
{
	return e->current;
}

void etcd_set_current(struct etcd *e, int i)
{
	e->current = i % e->nr_endpoints;
}

static void etcd_call_free(struct etcd_call *c)
{
	struct etcd *e = c->e;

	if (c->easy) {
		curl_multi_remove_handle(e->multi, c->easy);
		curl_easy_cleanup(c->easy);
	}
	curl_slist_free_all(c->headers);
	if (c->prev)
		c->prev->next = c->next;
	else
		e->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c->resp.data);
	free(c->path);
	free(c->body);
	free(c);
}

void etcd_call_cancel(struct etcd_call *c)
{
	if (c)
		etcd_call_free(c);
}

static void etcd_watch_free(struct etcd_watch *w)
{
	struct etcd *e = w->e;

	if (w->easy) {
		curl_multi_remove_handle(e->multi, w->easy);
		curl_easy_cleanup(w->easy);
	}
	curl_slist_free_all(w->headers);
	if (w->tok)
		json_tokener_free(w->tok);
	json_object_put(w->queue);
	if (w->prev)
		w->prev->next = w->next;
	else
		e->watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	free(w->body);
	free(w);
}

void etcd_watch_stop(struct etcd_watch *w)
{
	if (w)
		etcd_watch_free(w);
}

void etcd_free(struct etcd *e)
{
	if (!e)
		return;
	while (e->calls)
		etcd_call_free(e->calls);
	while (e->watches)
		etcd_watch_free(e->watches);
	curl_multi_cleanup(e->multi);
	free(e);
}

static size_t etcd_write_buf(char *p, size_t size, size_t n, void *arg)
{
	struct etcd_buf *b = arg;
	size_t len = size * n;

	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *d;

		while (cap < b->len + len + 1)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			return 0;	/* curl fails the transfer */
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

/* curl's write callback of calls: collect the body. */
static size_t etcd_call_write(char *p, size_t size, size_t n, void *arg)
{
	struct etcd_call *c = arg;
	size_t len = etcd_write_buf(p, size, n, &c->resp);
	struct json_object *o;

	if (len != size * n || !(c->flags & ETCD_FIRST_OBJECT) || c->authenticating)
		return len;
	/* One whole object is the answer: stop there (curl reports an error). */
	o = json_tokener_parse(c->resp.data);
	if (!o)
		return len;
	json_object_put(o);
	c->got_object = true;
	return 0;
}

/* An easy handle for a POST of @body to @url, with @headers. */
static CURL *etcd_easy(const char *url, const char *body,
		       struct curl_slist *headers, char *errbuf, int timeout_ms)
{
	CURL *h = curl_easy_init();

	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	errbuf[0] = '\0';
	return h;
}

static struct curl_slist *etcd_headers(const char *token)
{
	struct curl_slist *h = NULL, *t;

	h = curl_slist_append(NULL, "Content-Type: application/json");
	if (!h)
		return NULL;
	t = curl_slist_append(h, "Expect:");
	if (!t)
		goto fail;
	h = t;
	if (token) {
		char *line;

		if (asprintf(&line, "Authorization: %s", token) < 0)
			goto fail;
		t = curl_slist_append(h, line);
		free(line);
		if (!t)
			goto fail;
		h = t;
	}
	return h;
fail:
	curl_slist_free_all(h);
	return NULL;
}

static struct etcd_auth *etcd_call_auth(struct etcd_call *c)
{
	return c->auth ? c->auth : c->e->self;
}

/* Does the call need a token that it does not have yet? */
static bool etcd_needs_token(struct etcd_call *c)
{
	struct etcd_auth *a = etcd_call_auth(c);

	return a && a->user && !a->disabled && !a->token;
}

/* Start the next attempt of @c (an authentication first if needed). */
static int etcd_call_start(struct etcd_call *c)
{
	struct etcd *e = c->e;
	struct etcd_auth *a = etcd_call_auth(c);
	const char *path = c->path, *body = c->body;
	char *auth_body = NULL, *url;
	int ret = -ENOMEM;

	c->retry_at = 0;
	c->resp.len = 0;
	if (c->resp.data)
		c->resp.data[0] = '\0';
	c->authenticating = etcd_needs_token(c);
	if (c->authenticating) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(a->user));
		json_object_object_add(o, "password",
				       json_object_new_string(a->password ? a->password : ""));
		auth_body = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		if (!auth_body)
			return -ENOMEM;
		path = "/v3/auth/authenticate";
		body = auth_body;
	}
	if (!(c->flags & ETCD_NO_RETRY))
		c->endpoint = e->current;
	if (asprintf(&url, "%s%s", e->endpoints[c->endpoint], path) < 0)
		goto out;
	curl_slist_free_all(c->headers);
	c->headers = etcd_headers(c->authenticating ? NULL :
				  (a && !a->disabled) ? a->token : NULL);
	if (!c->headers)
		goto out_url;
	c->easy = etcd_easy(url, body, c->headers, c->errbuf, c->timeout_ms);
	if (!c->easy)
		goto out_url;
	if (auth_body) {
		/* POSTFIELDS is not copied: make curl keep its own copy. */
		curl_easy_setopt(c->easy, CURLOPT_COPYPOSTFIELDS, auth_body);
	}
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, etcd_call_write);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	c->got_object = false;
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
	if (curl_multi_add_handle(e->multi, c->easy) != CURLM_OK) {
		curl_easy_cleanup(c->easy);
		c->easy = NULL;
		goto out_url;
	}
	ret = 0;
out_url:
	free(url);
out:
	free(auth_body);
	return ret;
}

struct etcd_call *etcd_call(struct etcd *e, const char *path,
			    struct json_object *body, struct etcd_auth *auth,
			    unsigned int flags, int endpoint, int budget_ms,
			    etcd_fn fn, void *arg)
{
	return etcd_call_tries(e, path, body, auth, flags, endpoint, 0,
			       budget_ms, fn, arg);
}

struct etcd_call *etcd_call_tries(struct etcd *e, const char *path,
				  struct json_object *body,
				  struct etcd_auth *auth, unsigned int flags,
				  int endpoint, int attempt_ms, int budget_ms,
				  etcd_fn fn, void *arg)
{
	struct etcd_call *c = calloc(1, sizeof(*c));

	if (!c) {
		json_object_put(body);
		return NULL;
	}
	c->e = e;
	c->path = strdup(path);
	c->body = strdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
	json_object_put(body);
	c->auth = auth;
	c->flags = flags;
	c->endpoint = (flags & ETCD_NO_RETRY) ? endpoint : e->current;
	c->timeout_ms = (flags & ETCD_NO_RETRY) && budget_ms > 0 ? budget_ms :
			attempt_ms > 0 ? attempt_ms : e->timeout_ms;
	c->give_up_at = etcd_now_ms() + (budget_ms > 0 ? budget_ms : 3 * e->timeout_ms);
	c->fn = fn;
	c->arg = arg;
	c->next = e->calls;
	if (e->calls)
		e->calls->prev = c;
	e->calls = c;
	if (!c->path || !c->body || etcd_call_start(c) < 0) {
		/* Report it from etcd_perform(), never from here. */
		c->retry_at = etcd_now_ms();
		c->give_up_at = 0;
	}
	return c;
}

/* Map a curl failure to an errno. */
static int etcd_curl_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	default:
		return -EIO;
	}
}

/* Fill @r from a finished transfer; returns the parsed body or NULL. */
static struct json_object *etcd_parse(CURLcode rc, long http, const char *data,
				      const char *errbuf, struct etcd_reply *r)
{
	struct json_object *o = NULL, *v, *hdr;

	memset(r, 0, sizeof(*r));
	if (rc != CURLE_OK) {
		r->status = etcd_curl_errno(rc);
		r->error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
		return NULL;
	}
	if (data)
		o = json_tokener_parse(data);
	if (!o || !json_object_is_type(o, json_type_object)) {
		r->status = -EPROTO;
		r->error = http == 200 ? "etcd sent something that is not JSON" :
					 "etcd answered with an HTTP error";
		json_object_put(o);
		return NULL;
	}
	if (json_object_object_get_ex(o, "error", &v) &&
	    json_object_is_type(v, json_type_object)) {
		/* A stream's error: {"error": {"grpc_code": 5, "message": ...}} */
		struct json_object *m;

		r->status = (int)etcd_int(v, "grpc_code", -EPROTO);
		if (!r->status)
			r->status = -EPROTO;
		r->error = json_object_object_get_ex(v, "message", &m) ?
			   json_object_get_string(m) : "etcd error";
	} else if (json_object_object_get_ex(o, "code", &v) && json_object_get_int(v)) {
		r->status = json_object_get_int(v);
		r->error = json_object_object_get_ex(o, "message", &v) ?
			   json_object_get_string(v) : "etcd error";
	} else if (http != 200) {
		r->status = -EPROTO;
		r->error = "etcd answered with an HTTP error";
	}
	r->json = o;
	if (json_object_object_get_ex(o, "header", &hdr))
		r->revision = etcd_int(hdr, "revision", 0);
	return o;
}

static bool etcd_retryable(int status)
{
	return status < 0 || status == ETCD_UNAVAILABLE;
}

static void etcd_call_finish(struct etcd_call *c, const struct etcd_reply *r)
{
	etcd_fn fn = c->fn;
	void *arg = c->arg;

	/* The callback may cancel other calls, or start new ones. */
	etcd_call_free(c);
	if (fn)
		fn(arg, r);
}

static void etcd_call_done(struct etcd_call *c, CURLcode rc)
{
	struct etcd *e = c->e;
	struct etcd_auth *a = etcd_call_auth(c);
	struct etcd_reply r;
	struct json_object *o;
	long http = 0;
	int64_t now = etcd_now_ms();

	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &http);
	if (rc == CURLE_WRITE_ERROR && c->got_object)
		rc = CURLE_OK;	/* we stopped it: the answer is complete */
	o = etcd_parse(rc, http, c->resp.data, c->errbuf, &r);
	curl_multi_remove_handle(e->multi, c->easy);
	curl_easy_cleanup(c->easy);
	c->easy = NULL;

	if (c->authenticating && r.status == 0) {
		struct json_object *t;

		free(a->token);
		a->token = NULL;
		if (json_object_object_get_ex(o, "token", &t))
			a->token = strdup(json_object_get_string(t));
		json_object_put(o);
		if (!a->token) {
			r.status = -EPROTO;
			r.error = "etcd gave no token";
			r.json = NULL;
			etcd_call_finish(c, &r);
			return;
		}
		if (etcd_call_start(c) < 0)
			goto oom;
		return;
	}
	if (c->authenticating && r.status == ETCD_FAILED_PRECONDITION &&
	    r.error && strstr(r.error, "not enabled")) {
		/* Authentication is off in this cluster: go without. */
		a->disabled = true;
		json_object_put(o);
		if (etcd_call_start(c) < 0)
			goto oom;
		return;
	}
	if (!c->authenticating && r.status == ETCD_UNAUTHENTICATED &&
	    a && a->user && !c->reauthed) {
		/* The token expired (or the member restarted): renew it. */
		c->reauthed = true;
		free(a->token);
		a->token = NULL;
		json_object_put(o);
		if (etcd_call_start(c) < 0)
			goto oom;
		return;
	}
	if (etcd_retryable(r.status) && !(c->flags & ETCD_NO_RETRY) &&
	    now < c->give_up_at) {
		/* Another member may do better: move on (once per failure). */
		if (r.status < 0 && e->current == c->endpoint)
			e->current = (e->current + 1) % e->nr_endpoints;
		c->retry_at = now + (r.status < 0 ? 1 : ETCD_RETRY_DELAY_MS);
		json_object_put(o);
		return;
	}
	etcd_call_finish(c, &r);
	json_object_put(o);
	return;
oom:
	memset(&r, 0, sizeof(r));
	r.status = -ENOMEM;
	r.error = "out of memory";
	etcd_call_finish(c, &r);
}

/* ---- watch streams ------------------------------------------------------------ */

static void etcd_watch_end(struct etcd_watch *w, int status, const char *error)
{
	if (w->ended)
		return;
	w->ended = true;
	w->fn(w->arg, status, error, NULL, 0);
}

/* One complete JSON object of the stream. */
static void etcd_watch_object(struct etcd_watch *w, struct json_object *o)
{
	struct json_object *res, *v, *hdr, *err;
	int64_t rev = 0;

	if (json_object_object_get_ex(o, "error", &err)) {
		const char *msg = "watch stream error";
		int code = -EPROTO;

		if (json_object_object_get_ex(err, "message", &v))
			msg = json_object_get_string(v);
		if (json_object_object_get_ex(err, "grpc_code", &v))
			code = json_object_get_int(v);
		etcd_watch_end(w, code ? code : -EPROTO, msg);
		return;
	}
	if (!json_object_object_get_ex(o, "result", &res))
		return;
	if (json_object_object_get_ex(res, "header", &hdr))
		rev = etcd_int(hdr, "revision", 0);
	if (json_object_object_get_ex(res, "created", &v) &&
	    json_object_get_boolean(v) && w->created)
		w->created(w->arg, rev);
	if (json_object_object_get_ex(res, "canceled", &v) &&
	    json_object_get_boolean(v)) {
		const char *why = "the watch was canceled by etcd";

		if (etcd_int(res, "compact_revision", 0))
			why = "the watch's start revision was compacted";
		else if (json_object_object_get_ex(res, "cancel_reason", &v))
			why = json_object_get_string(v);
		etcd_watch_end(w, -ECANCELED, why);
		return;
	}
	if (json_object_object_get_ex(res, "events", &v) &&
	    json_object_array_length(v) > 0 && !w->ended)
		w->fn(w->arg, 0, NULL, v, rev);
}

/*
 * curl's write callback: cut the stream into JSON objects and queue
 * them; they are dispatched by etcd_perform(), outside curl's callbacks
 * (where the handlers may start calls of their own).
 */
static size_t etcd_watch_write(char *p, size_t size, size_t n, void *arg)
{
	struct etcd_watch *w = arg;
	size_t len = size * n, off = 0;

	while (off < len) {
		struct json_object *o;
		enum json_tokener_error jerr;

		o = json_tokener_parse_ex(w->tok, p + off, (int)(len - off));
		jerr = json_tokener_get_error(w->tok);
		if (!o) {
			if (jerr == json_tokener_continue)
				break;	/* needs more: curl calls again */
			if (!w->end_status) {
				w->end_status = -EPROTO;
				w->end_error = json_tokener_error_desc(jerr);
			}
			return 0;	/* fails the transfer */
		}
		off += json_tokener_get_parse_end(w->tok);
		json_tokener_reset(w->tok);
		json_object_array_add(w->queue, o);
	}
	return len;
}

struct etcd_watch *etcd_watch_start(struct etcd *e, const char *key,
				    size_t key_len, const char *range_end,
				    size_t end_len, int64_t start_rev,
				    etcd_created_fn created, etcd_watch_fn fn,
				    void *arg)
{
	struct etcd_watch *w = calloc(1, sizeof(*w));
	struct json_object *o, *req;
	struct etcd_auth *a = e->self;
	char *url = NULL;

	if (!w)
		return NULL;
	w->e = e;
	w->created = created;
	w->fn = fn;
	w->arg = arg;
	w->tok = json_tokener_new();
	w->queue = json_object_new_array();
	req = json_object_new_object();
	json_object_object_add(req, "key", etcd_b64(key, key_len));
	json_object_object_add(req, "range_end", etcd_b64(range_end, end_len));
	if (start_rev > 0)
		json_object_object_add(req, "start_revision", etcd_int_str(start_rev));
	o = json_object_new_object();
	json_object_object_add(o, "create_request", req);
	w->body = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	w->headers = etcd_headers(a && !a->disabled ? a->token : NULL);
	if (!w->tok || !w->queue || !w->body || !w->headers ||
	    asprintf(&url, "%s/v3/watch", e->endpoints[e->current]) < 0)
		goto fail;
	w->easy = etcd_easy(url, w->body, w->headers, w->errbuf, e->timeout_ms);
	free(url);
	if (!w->easy)
		goto fail;
	curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, etcd_watch_write);
	curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(w->easy, CURLOPT_PRIVATE, NULL);
	/* An idle stream is normal; a dead peer is found by TCP keepalive. */
	curl_easy_setopt(w->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(w->easy, CURLOPT_TCP_KEEPIDLE, 2L);
	curl_easy_setopt(w->easy, CURLOPT_TCP_KEEPINTVL, 1L);
	if (curl_multi_add_handle(e->multi, w->easy) != CURLM_OK)
		goto fail;
	w->next = e->watches;
	if (e->watches)
		e->watches->prev = w;
	e->watches = w;
	return w;
fail:
	if (w->easy)
		curl_easy_cleanup(w->easy);
	curl_slist_free_all(w->headers);
	if (w->tok)
		json_tokener_free(w->tok);
	json_object_put(w->queue);
	free(w->body);
	free(w);
	return NULL;
}

static struct etcd_watch *etcd_watch_of(struct etcd *e, CURL *easy)
{
	struct etcd_watch *w;

	for (w = e->watches; w; w = w->next)
		if (w->easy == easy)
			return w;
	return NULL;
}

/* ---- the loop ------------------------------------------------------------------- */

void etcd_poll(struct etcd *e, int extra_fd, int timeout_ms)
{
	struct curl_waitfd wfd = { .fd = extra_fd, .events = CURL_WAIT_POLLIN };
	struct etcd_call *c;
	int64_t now = etcd_now_ms();

	/* Calls waiting to be retried shorten the wait. */
	for (c = e->calls; c; c = c->next) {
		if (c->retry_at) {
			int64_t left = c->retry_at - now;

			if (left < 0)
				left = 0;
			if (timeout_ms < 0 || left < timeout_ms)
				timeout_ms = (int)left;
		}
	}
	if (timeout_ms < 0)
		timeout_ms = 1000;
	curl_multi_poll(e->multi, extra_fd >= 0 ? &wfd : NULL,
			extra_fd >= 0 ? 1 : 0, timeout_ms, NULL);
}

void etcd_perform(struct etcd *e)
{
	struct etcd_call *c, *next;
	CURLMsg *msg;
	int running, left;
	int64_t now = etcd_now_ms();

	/* Retries that are due, and calls that could not even start. */
	for (c = e->calls; c; c = next) {
		next = c->next;
		if (!c->retry_at || c->retry_at > now)
			continue;
		if (c->give_up_at == 0 || etcd_call_start(c) < 0) {
			struct etcd_reply r = {
				.status = -ENOMEM,
				.error = "out of memory",
			};

			etcd_call_finish(c, &r);
			/* The callback may have freed anything: start over. */
			next = e->calls;
		}
	}
	curl_multi_perform(e->multi, &running);
	while ((msg = curl_multi_info_read(e->multi, &left))) {
		struct etcd_watch *w;
		void *priv = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		if (priv) {
			etcd_call_done(priv, msg->data.result);
			continue;
		}
		w = etcd_watch_of(e, msg->easy_handle);
		if (w && !w->end_status) {
			CURLcode rc = msg->data.result;

			w->end_status = rc == CURLE_OK ? -ECONNRESET : etcd_curl_errno(rc);
			w->end_error = rc == CURLE_OK ? "etcd closed the watch stream" :
				       curl_easy_strerror(rc);
		}
	}
	/* Then what the streams brought, in order, then their end. */
	for (struct etcd_watch *w = e->watches; w; w = w->next) {
		size_t i, n = json_object_array_length(w->queue);

		for (i = 0; i < n && !w->ended; i++)
			etcd_watch_object(w, json_object_array_get_idx(w->queue, i));
		if (n)
			json_object_array_del_idx(w->queue, 0, n);
		if (w->end_status && !w->ended)
			etcd_watch_end(w, w->end_status, w->end_error);
	}
}
