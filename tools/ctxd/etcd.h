/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small asynchronous client of etcd's v3 JSON gateway (etcd 3.4:
 * POST /v3/kv/range, /v3/kv/txn, /v3/lease/..., /v3/auth/authenticate,
 * /v3/maintenance/status, and the /v3/watch stream), on libcurl's multi
 * interface and json-c. Keys and values travel base64-encoded (the
 * gateway's JSON mapping of protobuf bytes); 64-bit integers travel as
 * JSON strings.
 *
 * Everything runs on the caller's thread: etcd_poll() waits for the
 * network (and for one extra fd of the caller's, its epoll fd), then
 * etcd_perform() moves the transfers on and calls the completion
 * callbacks. A callback runs at most once, never from inside etcd_call().
 *
 * Failures: transport errors (refused, timed out, reset) move the client
 * to the next endpoint and are retried, as are etcd's "unavailable"
 * answers (no leader, leader changed, request timed out), until the
 * call's retry budget is spent; an expired auth token is renewed once.
 * What is left reaches the callback as a status: 0, a negative errno
 * (transport), or a positive gRPC code from etcd (7: permission denied,
 * 9: failed precondition ...).
 */
#ifndef CTXD_ETCD_H
#define CTXD_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* gRPC status codes etcd answers with. */
#define ETCD_INVALID_ARGUMENT	3
#define ETCD_NOT_FOUND		5
#define ETCD_PERMISSION_DENIED	7
#define ETCD_FAILED_PRECONDITION 9
#define ETCD_UNAVAILABLE	14
#define ETCD_UNAUTHENTICATED	16

struct etcd;
struct etcd_call;
struct etcd_watch;

/**
 * struct etcd_auth - an etcd identity: a user and password, and the
 * token etcd gave for them. One per identity, owned by the caller; the
 * client fills @token and @disabled.
 * @user: NULL for no authentication.
 * @password: the password.
 * @token: the current token, or NULL.
 * @disabled: the cluster answered that authentication is not enabled.
 */
struct etcd_auth {
	char *user;
	char *password;
	char *token;
	bool disabled;
};

/**
 * struct etcd_reply - what a call's callback gets
 * @status: 0, -errno for a transport failure, or etcd's gRPC code.
 * @error: a message when @status is not 0.
 * @json: the response object, or NULL; the answer of a streaming call
 *	(lease keepalive) is its "result" member.
 * @revision: header.revision of the response, 0 if none.
 */
struct etcd_reply {
	int status;
	const char *error;
	struct json_object *json;
	int64_t revision;
};

typedef void (*etcd_fn)(void *arg, const struct etcd_reply *reply);

/*
 * Watch callback: @events is the array of events of one response (never
 * empty), at @revision; or, with @status non-zero, the stream ended
 * (transport error, canceled or compacted by etcd: @error says which):
 * start a new one. @created is called once the stream is registered.
 */
typedef void (*etcd_watch_fn)(void *arg, int status, const char *error,
			      struct json_object *events, int64_t revision);
typedef void (*etcd_created_fn)(void *arg, int64_t revision);

/* Flags of etcd_call(). */
#define ETCD_NO_RETRY	0x1	/* one attempt, at the endpoint given */
/*
 * A streaming call (lease keepalive) answered by its first object: the
 * call ends as soon as that has arrived, without waiting for the stream
 * to close.
 */
#define ETCD_FIRST_OBJECT 0x2

struct etcd *etcd_new(char **endpoints, int nr_endpoints, int timeout_ms,
		      struct etcd_auth *self);
void etcd_free(struct etcd *e);
int etcd_nr_endpoints(struct etcd *e);
const char *etcd_endpoint(struct etcd *e, int i);
/* The endpoint new calls and streams go to. */
int etcd_current(struct etcd *e);
void etcd_set_current(struct etcd *e, int i);

/**
 * etcd_call() - POST @body (consumed) to @path ("/v3/kv/range" ...)
 * @auth: the identity to use; NULL for the client's own.
 * @endpoint: with ETCD_NO_RETRY, the endpoint index; otherwise -1.
 * @budget_ms: how long transport failures and "unavailable" are retried;
 *	0 for the client's default. With ETCD_NO_RETRY: the time limit of
 *	the one attempt (0: the client's request timeout).
 *
 * Returns the call, which stays valid until its callback has run or
 * etcd_call_cancel(); NULL (no callback) only when out of memory.
 */
struct etcd_call *etcd_call(struct etcd *e, const char *path,
			    struct json_object *body, struct etcd_auth *auth,
			    unsigned int flags, int endpoint, int budget_ms,
			    etcd_fn fn, void *arg);
/*
 * etcd_call() whose attempts each last at most @attempt_ms (0: the
 * request timeout), so that a member that holds a request (a follower
 * waiting for a leader to be elected) costs one short attempt before the
 * call moves on to the next member, within @budget_ms.
 */
struct etcd_call *etcd_call_tries(struct etcd *e, const char *path,
				  struct json_object *body,
				  struct etcd_auth *auth, unsigned int flags,
				  int endpoint, int attempt_ms, int budget_ms,
				  etcd_fn fn, void *arg);
/* Forget a call: its callback will not run. */
void etcd_call_cancel(struct etcd_call *call);

/*
 * Open a watch stream on [key, range_end) (raw bytes, not base64) from
 * @start_rev, at the current endpoint. Returns NULL if out of memory.
 * Its callbacks run from etcd_perform(); they must not stop the stream
 * (stop it after etcd_perform() returns).
 */
struct etcd_watch *etcd_watch_start(struct etcd *e, const char *key,
				    size_t key_len, const char *range_end,
				    size_t end_len, int64_t start_rev,
				    etcd_created_fn created, etcd_watch_fn fn,
				    void *arg);
/* Close a stream; its callbacks will not run any more. */
void etcd_watch_stop(struct etcd_watch *w);

/*
 * Wait until the network or @extra_fd has something, at most
 * @timeout_ms (-1: no limit besides curl's own timers).
 */
void etcd_poll(struct etcd *e, int extra_fd, int timeout_ms);
/* Move transfers on and run the callbacks of those that ended. */
void etcd_perform(struct etcd *e);

/* ---- JSON and base64 helpers ---------------------------------------- */

/* A new JSON string with base64 of @len bytes at @p. */
struct json_object *etcd_b64(const void *p, size_t len);
/*
 * Decode the base64 string member @name of @obj into a new buffer
 * (NUL-terminated for convenience); *len gets its length. NULL if
 * missing or invalid.
 */
char *etcd_unb64(struct json_object *obj, const char *name, size_t *len);
/* The int64 member @name of @obj (etcd sends them as strings), or @def. */
int64_t etcd_int(struct json_object *obj, const char *name, int64_t def);
/* A new JSON string holding the decimal @v (how the gateway wants int64). */
struct json_object *etcd_int_str(int64_t v);
/* The end of the range of every key that starts with @prefix. */
char *etcd_prefix_end(const char *prefix, size_t len, size_t *end_len);

#endif /* CTXD_ETCD_H */
