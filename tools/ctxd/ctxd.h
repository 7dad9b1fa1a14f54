/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxd: the per-host daemon that links ctxfd contexts across machines
 * through etcd. See Documentation/ctxd.rst for the model and
 * Documentation/man/man8/ctxd.8 for the command.
 *
 * One thread, one loop (main.c): etcd traffic on libcurl's multi handle
 * (etcd.c), everything else on one epoll fd that the loop hands to curl
 * as an extra fd to wait on: the local socket and its clients
 * (server.c), the contexts this host exports (export.c), and the
 * contexts it made for local joiners of remote ones (remote.c).
 *
 * Keys, under the prefix P (default "/ctxfd/"):
 *   P ctx/NAME          the record of export NAME (record.c), bound to
 *                       the exporting ctxd's lease
 *   P join/NAME/ID      a joiner asking the exporter for a fresh
 *                       remaining time, bound to the joiner's lease
 *
 * Objects and lifetimes (all owned by the loop's thread, so no locks):
 *  - struct export: created by an EXPORT request, lives as long as the
 *    exporting client's connection; then its record is finished and
 *    deleted, and the export freed (export_free()).
 *  - struct remote: one per remote NAME that local processes joined;
 *    created by the first JOIN, freed once its local context is done
 *    and no JOIN waits for it.
 *  - struct cjoin: one per join with the cancel right; freed with its
 *    remote or once it has forwarded its cancel.
 *  - struct client: one per connection; a JOIN client lives until it has
 *    its answer, an EXPORT client as long as the export.
 * Every etcd call in flight is referenced by the object it works for,
 * which cancels it (etcd_call_cancel()) when it goes away first.
 */
#ifndef CTXD_H
#define CTXD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/ctxfd.h>

#include "ctxd_proto.h"
#include "etcd.h"

/* ---- lists -------------------------------------------------------------- */

struct list {
	struct list *prev, *next;
};

#define LIST_INIT(l)	{ &(l), &(l) }
#define list_entry(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))
#define list_for_each_safe(p, n, head) \
	for ((p) = (head)->next, (n) = (p)->next; (p) != (head); \
	     (p) = (n), (n) = (p)->next)

static inline void list_init(struct list *l)
{
	l->prev = l->next = l;
}

static inline bool list_empty(const struct list *l)
{
	return l->next == l;
}

static inline void list_add_tail(struct list *n, struct list *head)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

static inline void list_del(struct list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

/* ---- epoll sources -------------------------------------------------------- */

enum src_kind {
	SRC_LISTEN,
	SRC_CLIENT,
	SRC_SIGNAL,
	SRC_EXPORT,	/* an exported context's watch fd */
	SRC_REMOTE,	/* a joined remote's local root */
	SRC_CJOIN,	/* a join with the cancel right */
};

/* First member of everything registered with epoll. */
struct src {
	enum src_kind kind;
};

/* ---- the daemon ------------------------------------------------------------- */

/* Status probes in flight per member, at most (main.c). */
#define PROBES_INFLIGHT	4

struct probe {
	struct etcd_call *call;		/* NULL: free slot */
	int endpoint;
	int64_t sent_at;		/* ms */
};

struct ctxd {
	/* Configuration (main.c, from the command line). */
	char *prefix;			/* "/ctxfd/" */
	char *host;			/* this host's name in records */
	int ttl;			/* lease TTL, seconds */
	int64_t failsafe_ms;		/* 0: never */
	int timeout_ms;			/* one etcd request */
	int64_t handshake_ms;		/* a joiner waits this long for the exporter */
	char *socket_path;
	mode_t socket_mode;
	gid_t socket_gid;		/* (gid_t)-1: leave it */
	bool verbose;
	struct etcd_auth self;		/* ctxd's own etcd identity */

	struct etcd *etcd;
	int ep;				/* epoll */
	struct src listen_src;
	int lfd;			/* the local socket */
	struct src signal_src;
	int sigfd;

	/* The lease (main.c). */
	int64_t lease;			/* 0: none yet, or lost */
	struct etcd_call *lease_call;	/* grant or keepalive in flight */
	int64_t next_tick;		/* next keepalive + probe (ms) */

	/* Reachability (main.c): fail-safe input. */
	int64_t contact_at;		/* etcd known reachable then (ms) */
	struct probe *probes;		/* [endpoint][PROBES_INFLIGHT] */
	int64_t *answered_at;		/* per endpoint: when its last answer was asked */
	bool unreachable;		/* the fail-safe fired; until contact */

	/* The watch on the whole prefix (main.c). */
	struct etcd_watch *watch;
	bool watch_up;			/* created, not ended */
	bool watch_restart;		/* ended: start a new one */
	int64_t watch_rev;		/* last revision dispatched */
	int64_t watch_down_at;		/* down since (ms), 0 while up */
	int64_t watch_retry_at;

	/* Objects. */
	struct list exports;
	struct list remotes;
	struct list clients;
	bool flush_needed;		/* export_flush() at the end of the turn */
	int64_t flush_at;		/* or at this time (ms), after a failure */
	uint64_t join_seq;

	bool ready;			/* serving */
	bool stopping;
};

extern struct ctxd d;

/* ---- main.c ------------------------------------------------------------------ */

int64_t now_ms(void);
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define info(...) do { if (d.verbose) say(__VA_ARGS__); } while (0)
/* Register @fd for EPOLLIN (and hang-ups) with @src as its data. */
int ep_add(int fd, struct src *src);
void ep_del(int fd);
/* "P ctx/NAME" as a new string. */
char *key_of(const char *kind, const char *name);
/* Is the lease usable (granted and not known lost)? */
bool have_lease(void);
/* etcd says our lease is gone: grant a new one, publish again. */
void lease_lost(void);

/* ---- kctx.c: the ctxfd calls ctxd makes ------------------------------------ */

struct kctx_value {
	char *key;
	size_t key_len;
	char *val;
	size_t val_len;
	bool nil;	/* Go's nil (val "", val_len 0): shadows, reads as no value */
};

/* /dev/ctxfd, opened once. */
int kctx_dev(void);
int kctx_info(int fd, struct ctxfd_info *info);
bool kctx_done(int fd);
/*
 * Cancel @fd with a cause: every cancel ctxd does goes through here, with
 * CTXFD_CANCEL_REMOTE (the reason "remote" in CTXFD_IOC_INFO).
 */
int kctx_cancel(int fd, int code, const char *msg);
/* A new root, with a timeout of @timeout_ns if >= 0. Returns fd or -errno. */
int kctx_root(int64_t timeout_ns, int code, const char *msg);
int kctx_value_child(int fd, const struct kctx_value *v);
int kctx_child(int fd, uint64_t flags);
int kctx_watch(int fd);
/*
 * Look @key up; 0 and a new value (*nil: the binding is Go's nil), -ENOENT,
 * or -errno.
 */
int kctx_lookup(int fd, const char *key, size_t key_len, char **val,
		size_t *val_len, bool *nil);
/* Remaining time to @info's deadline on its clock, at least 0. */
int64_t kctx_remaining_ns(const struct ctxfd_info *info);

/* ---- record.c -------------------------------------------------------------------- */

#define RECORD_VERSION	1

/**
 * struct record - the value of P ctx/NAME (JSON, see record.c)
 * @host: the exporting ctxd's host name.
 * @done: the context is done (final).
 * @has_deadline, @remaining_ns: the time left to the deadline when the
 *	record was written (never an absolute time).
 * @err, @cause_code, @cause_msg: once done.
 * @cancelable: the exporter lets joiners with the right cancel it.
 * @by: who made it done, in words (a remote canceler), or "".
 * @ctx_id: the context's id on the exporting host (for people).
 * @values, @nr_values: the values carried.
 */
struct record {
	char host[64];
	bool done;
	bool has_deadline;
	int64_t remaining_ns;
	int err;
	int cause_code;
	char cause_msg[CTXFD_CAUSE_MSG_MAX + 1];
	bool cancelable;
	char by[160];
	uint64_t ctx_id;
	struct kctx_value *values;
	int nr_values;
};

/* A JSON string (to free); NULL if out of memory. */
char *record_encode(const struct record *r);
/* 0, or -EINVAL if @json is not a record of a version we read. */
int record_decode(const char *json, size_t len, struct record *r);
void record_free(struct record *r);
/* A done record @r from @base with a cause. */
void record_set_done(struct record *r, int err, int code, const char *msg,
		     const char *by);

/* ---- server.c ------------------------------------------------------------------------ */

struct client {
	struct src src;
	struct list node;		/* on d.clients */
	int fd;
	uid_t uid;
	pid_t pid;
	int op;				/* CTXD_OP_* of its request, 0 before */
	struct export *exp;		/* EXPORT: its export */
	struct list wait;		/* JOIN: on its remote's waiters */
	struct remote *remote;		/* JOIN: the remote it waits for */
	unsigned int flags;		/* JOIN: CTXD_JOIN_* */
	struct etcd_auth auth;		/* JOIN with the cancel right */
	struct etcd_call *call;		/* JOIN: its permission check */
};

int server_start(void);
void server_stop(void);
void server_accept(void);
void server_client_event(struct client *c, uint32_t events);
/* Answer @c (status 0 or -errno, a message, an fd or -1), then close it. */
void client_reply(struct client *c, int status, int fd, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void client_free(struct client *c);
/* "uid 1000 pid 42 on a": who a client is, for logs and records. */
const char *client_who(const struct client *c);

/* ---- export.c ----------------------------------------------------------------------------- */

int export_create(struct client *c, const char *name, char **keys,
		  int nr_keys, int wfd, int cfd);
void export_ctx_event(struct src *src);
/* The exporting client went away. */
void export_withdraw(struct export *x);
/* Write what changed (done contexts, fresh remaining times). */
void export_flush(void);
/* A watch event on P ctx/NAME or P join/NAME/...: NAME is ours? */
bool export_record_event(const char *name, int64_t rev,
			 const char *val, size_t len, bool deleted);
bool export_join_event(const char *name, int64_t rev);
/* The lease was lost and a new one granted: publish everything again. */
void exports_republish(void);
/* ctxd stops: drop every export (the lease revoke deletes the keys). */
void exports_free_all(void);
/* The keys of every export (new strings, in a new array). */
char **exports_keys(size_t *n);

/* ---- remote.c ----------------------------------------------------------------------------- */

void remote_join(struct client *c, const char *name);
void remote_client_gone(struct client *c);
void remote_ctx_event(struct src *src);
void cjoin_event(struct src *src);
bool remote_record_event(const char *name, int64_t rev, const char *val,
			 size_t len, bool deleted);
/* Fail-safe: etcd unreachable for too long. */
void remotes_unreachable(int64_t since_ms);
void remotes_timers(int64_t now, int64_t *next);
/* ctxd stops: cancel every joined context. */
void remotes_free_all(void);
/* The keys of every remote (new strings, in a new array). */
char **remotes_keys(size_t *n);

#endif /* CTXD_H */
