// SPDX-License-Identifier: GPL-2.0
/*
 * The record of an export: the JSON value of P ctx/NAME.
 *
 *   {"version": 1, "host": "a", "state": "active", "cancelable": true,
 *    "remaining_ns": "4999712001", "ctx_id": "17",
 *    "values": [{"key": "<base64>", "value": "<base64>"}]}
 *
 * once done:
 *
 *   {..., "state": "done", "err": "canceled", "cause": {"code": 42,
 *    "msg": "job aborted"}, "by": "uid 0 pid 811 on b (etcd user ops)"}
 *
 * "remaining_ns" is the time left to the deadline when the record was
 * written, never an absolute time: the hosts' clocks need not agree
 * (gRPC's rule for deadlines). It is absent without a deadline. "err" is
 * "canceled" or "deadline exceeded" (Go's errors); the cause code is the
 * exporting host's (Linux errno values when no cause was given). A
 * reader ignores members it does not know, and records of a newer
 * "version" (it cannot know what they mean).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd.h"

static const char *record_err_name(int err)
{
	return err == ETIMEDOUT ? "deadline exceeded" : "canceled";
}

char *record_encode(const struct record *r)
{
	struct json_object *o = json_object_new_object(), *vals, *cause;
	char *s;
	int i;

	if (!o)
		return NULL;
	json_object_object_add(o, "version", json_object_new_int(RECORD_VERSION));
	json_object_object_add(o, "host", json_object_new_string(r->host));
	json_object_object_add(o, "state",
			       json_object_new_string(r->done ? "done" : "active"));
	json_object_object_add(o, "cancelable", json_object_new_boolean(r->cancelable));
	if (r->has_deadline)
		json_object_object_add(o, "remaining_ns", etcd_int_str(r->remaining_ns));
	if (r->ctx_id)
		json_object_object_add(o, "ctx_id", etcd_int_str((int64_t)r->ctx_id));
	if (r->done) {
		json_object_object_add(o, "err",
				       json_object_new_string(record_err_name(r->err)));
		cause = json_object_new_object();
		json_object_object_add(cause, "code", json_object_new_int(r->cause_code));
		json_object_object_add(cause, "msg", json_object_new_string(r->cause_msg));
		json_object_object_add(o, "cause", cause);
		if (r->by[0])
			json_object_object_add(o, "by", json_object_new_string(r->by));
	}
	if (r->nr_values) {
		vals = json_object_new_array();
		for (i = 0; i < r->nr_values; i++) {
			struct json_object *v = json_object_new_object();

			json_object_object_add(v, "key", etcd_b64(r->values[i].key,
								  r->values[i].key_len));
			/* nil is JSON's null; "" an empty string */
			json_object_object_add(v, "value", r->values[i].nil ? NULL :
					       etcd_b64(r->values[i].val,
							r->values[i].val_len));
			json_object_array_add(vals, v);
		}
		json_object_object_add(o, "values", vals);
	}
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

static void copy_str(char *dst, size_t size, struct json_object *o,
		     const char *name)
{
	struct json_object *v;

	dst[0] = '\0';
	if (json_object_object_get_ex(o, name, &v))
		snprintf(dst, size, "%s", json_object_get_string(v));
}

int record_decode(const char *json, size_t len, struct record *r)
{
	struct json_object *o, *v, *cause;
	json_tokener *tok;
	int ret = -EINVAL;

	memset(r, 0, sizeof(*r));
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, json, (int)len);
	json_tokener_free(tok);
	if (!o || !json_object_is_type(o, json_type_object))
		goto out;
	if (etcd_int(o, "version", 0) != RECORD_VERSION)
		goto out;
	copy_str(r->host, sizeof(r->host), o, "host");
	if (!json_object_object_get_ex(o, "state", &v))
		goto out;
	r->done = !strcmp(json_object_get_string(v), "done");
	r->cancelable = json_object_object_get_ex(o, "cancelable", &v) &&
			json_object_get_boolean(v);
	r->has_deadline = json_object_object_get_ex(o, "remaining_ns", &v);
	r->remaining_ns = r->has_deadline ? json_object_get_int64(v) : 0;
	if (r->remaining_ns < 0)
		r->remaining_ns = 0;
	r->ctx_id = (uint64_t)etcd_int(o, "ctx_id", 0);
	if (r->done) {
		char err[32];

		copy_str(err, sizeof(err), o, "err");
		r->err = !strcmp(err, "deadline exceeded") ? ETIMEDOUT : ECANCELED;
		r->cause_code = r->err;
		if (json_object_object_get_ex(o, "cause", &cause)) {
			r->cause_code = (int)etcd_int(cause, "code", r->err);
			copy_str(r->cause_msg, sizeof(r->cause_msg), cause, "msg");
		}
		copy_str(r->by, sizeof(r->by), o, "by");
	}
	if (json_object_object_get_ex(o, "values", &v) &&
	    json_object_is_type(v, json_type_array)) {
		size_t i, n = json_object_array_length(v);

		r->values = calloc(n ? n : 1, sizeof(*r->values));
		if (!r->values) {
			ret = -ENOMEM;
			goto out;
		}
		for (i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(v, i);
			struct kctx_value *kv = &r->values[r->nr_values];

			struct json_object *jv;

			kv->key = etcd_unb64(e, "key", &kv->key_len);
			if (json_object_object_get_ex(e, "value", &jv) && !jv) {
				kv->nil = true;
				kv->val = strdup("");
				kv->val_len = 0;
			} else {
				kv->val = etcd_unb64(e, "value", &kv->val_len);
			}
			if (!kv->key || !kv->key_len || !kv->val) {
				free(kv->key);
				free(kv->val);
				continue;
			}
			r->nr_values++;
		}
	}
	ret = 0;
out:
	json_object_put(o);
	if (ret)
		record_free(r);
	return ret;
}

void record_free(struct record *r)
{
	int i;

	for (i = 0; i < r->nr_values; i++) {
		free(r->values[i].key);
		free(r->values[i].val);
	}
	free(r->values);
	r->values = NULL;
	r->nr_values = 0;
}

void record_set_done(struct record *r, int err, int code, const char *msg,
		     const char *by)
{
	r->done = true;
	r->err = err;
	r->cause_code = code ? code : err;
	snprintf(r->cause_msg, sizeof(r->cause_msg), "%s", msg ? msg : "");
	snprintf(r->by, sizeof(r->by), "%s", by ? by : "");
}
