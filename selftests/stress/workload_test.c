// SPDX-License-Identifier: GPL-2.0
/*
 * A randomized workload of many threads in several processes, checking
 * invariants all along.
 *
 * Three worker processes (the third one as user nobody), each with op
 * threads, waiter threads, a receiver and a watchdog, share contexts over
 * a ring of SCM_RIGHTS sockets. Op threads create roots and children of
 * every kind (cancelable, deadlines of 0-2 ms with and without causes, on
 * both clocks, values, WithoutCancel, no-cancel-on-close), watch, cancel
 * with random causes, close, look values up, read and poll, send fds to
 * the next process, fork short-lived processes that act on inherited fds,
 * and attach victim processes (with and without grace, descendants,
 * ignored signals, victims that exit first).
 *
 * Invariants:
 *  - no child is active under a done ancestor: read the ancestor, then the
 *    child (the kernel finishes subtrees leaves first); a values-only
 *    child is done exactly when its parent is, with the same cause; a
 *    child made under a done parent is born done with its cause;
 *  - err and cause never change once set, done never goes back, and every
 *    cause is one that was given (code and message of the same cancel, a
 *    deadline's cause only with ETIMEDOUT); a done context polls readable
 *    and read() returns its record; WithoutCancel contexts are never done;
 *  - lookups return the nearest binding of the key along the chain, or
 *    ENOENT, for fds of any origin;
 *  - every poller is woken: a watchdog fails the run if a waiter (poll,
 *    ppoll, select, epoll level or one-shot, blocking read) still sleeps
 *    30 s after its context was seen done;
 *  - an attached process is signalled, with its signal (or SIGKILL after
 *    its grace), within 30 s of its context being done, and never while
 *    its context is active;
 *  - at the end every worker has exactly the fds it started with, every
 *    process it forked is reaped, and every per-user charge (debugfs) is
 *    back at its baseline.
 *
 * Prints "# stress: N operations ..." with a count per kind. Each thread
 * draws its choices from the seed (CTXFD_STRESS_SEED), so a failing run's
 * sequence of choices can be replayed; the interleaving, of course, is
 * the scheduler's. CTXFD_STRESS_SCALE scales the operations per thread.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#define NOBODY		65534
#define NPROC		3
#define NOPS_THREADS	3
#define NWAITERS	2
#define MAXE		160		/* pool entries per process */
#define NKEYS		4
#define VMAX		48
#define OPS_PER_THREAD	2500
#define LOST_MS		30000		/* a waiter's allowance after done */
#define VICTIM_MS	30000		/* a victim's allowance after done */
#define MAX_VICTIMS	6		/* per op thread */
#define CANCEL_BASE	0x100000
#define DEADLINE_BASE	0x200000
#define CODE_RANGE	0x100000

enum op {
	OP_NEW, OP_CREATE, OP_WATCH, OP_CANCEL, OP_CLOSE, OP_CHECK, OP_LOOKUP,
	OP_READPOLL, OP_SEND, OP_FORK, OP_ATTACH, OP_BIGVALUE, OP_VICTIMS,
	NR_OPS,
	/* counted, not chosen */
	CNT_RECV = NR_OPS, CNT_WAKEUPS, CNT_SIGNALLED, CNT_BORN_DONE,
	CNT_DEADLINES, CNT_CHILD_OPS, NR_COUNTS,
};

static const char *const op_names[NR_COUNTS] = {
	"new", "create", "watch", "cancel", "close", "check", "lookup",
	"read/poll", "send", "fork", "attach", "big value", "victim checks",
	"received", "waiter wakeups", "victims signalled", "born done",
	"deadlines", "ops in forked children",
};

static const unsigned int weights[NR_OPS] = {
	[OP_NEW] = 4, [OP_CREATE] = 22, [OP_WATCH] = 5, [OP_CANCEL] = 10,
	[OP_CLOSE] = 14, [OP_CHECK] = 16, [OP_LOOKUP] = 10, [OP_READPOLL] = 8,
	[OP_SEND] = 4, [OP_FORK] = 1, [OP_ATTACH] = 3, [OP_BIGVALUE] = 1,
	[OP_VICTIMS] = 2,
};

/* ---- shared by every process of the run ------------------------------------ */

#define NMSG 12

struct shared {
	long count[NR_COUNTS];
	int violations;
	int nmsg;
	char msg[NMSG][240];
	int stop;		/* op threads: stop early (a violation) */
	long ops_per_thread;
	__u64 seed;
	__u64 deadline_ns;	/* hard stop, CLOCK_MONOTONIC */
};

static struct shared *sh;

static void count(int what)
{
	__atomic_add_fetch(&sh->count[what], 1, __ATOMIC_RELAXED);
}

/* Record a violation; async-signal-safe enough for forked children. */
static void violation(const char *fmt, ...)
{
	int i = __atomic_fetch_add(&sh->nmsg, 1, __ATOMIC_SEQ_CST);
	va_list ap;

	__atomic_add_fetch(&sh->violations, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
	if (i >= NMSG)
		return;
	va_start(ap, fmt);
	vsnprintf(sh->msg[i], sizeof(sh->msg[i]), fmt, ap);
	va_end(ap);
}

#define CHECK(cond, ...) do {						\
	if (!(cond))							\
		violation(__VA_ARGS__);					\
} while (0)

/* ---- causes ---------------------------------------------------------------- */

struct rec {
	bool done;
	int err, code;
	__u32 len;
	char msg[CTXFD_CAUSE_MSG_MAX + 1];
};

/* The message that goes with a code: a function of it, or none. */
static __u32 msg_for(int code, char prefix, char *buf)
{
	return (__u32)snprintf(buf, 32, "%c%d", prefix, code);
}

/* Was this (err, cause) given by someone? Code and message match. */
static bool cause_valid(const struct rec *r)
{
	char want[32];
	__u32 len;
	char prefix;
	int base;

	if (r->err == ECANCELED) {
		prefix = 'm';
		base = CANCEL_BASE;
	} else if (r->err == ETIMEDOUT) {
		prefix = 'd';
		base = DEADLINE_BASE;
	} else {
		return false;
	}
	if (r->code == r->err) {
		/* No code, maybe a message: "m0" / "d0". */
		len = msg_for(0, prefix, want);
		return r->len == 0 || (r->len == len && !memcmp(r->msg, want, len));
	}
	if (r->code < base || r->code >= base + CODE_RANGE)
		return false;
	if (!(r->code & 1))
		return r->len == 0;
	len = msg_for(r->code, prefix, want);
	return r->len == len && !memcmp(r->msg, want, len);
}

static void random_cause(__u64 *st, char prefix, int base, struct ctxfd_cause *c,
			 char *buf)
{
	unsigned int x = (unsigned int)t_rand(st);

	memset(c, 0, sizeof(*c));
	switch (x % 4) {
	case 0:		/* none */
		return;
	case 1:		/* a message without a code */
		c->msg_len = msg_for(0, prefix, buf);
		c->msg = (uintptr_t)buf;
		return;
	default:	/* a code, odd ones with a message */
		c->code = base + (int)((x >> 8) % CODE_RANGE);
		if (c->code & 1) {
			c->msg_len = msg_for(c->code, prefix, buf);
			c->msg = (uintptr_t)buf;
		}
	}
}

static bool rec_equal(const struct rec *a, const struct rec *b)
{
	return a->err == b->err && a->code == b->code && a->len == b->len &&
	       !memcmp(a->msg, b->msg, a->len);
}

/* INFO into a rec; false if INFO failed. */
static bool observe(int fd, struct rec *r, struct ctxfd_info *info)
{
	struct ctxfd_info tmp;

	if (!info)
		info = &tmp;
	if (t_info(fd, info))
		return false;
	r->done = info->err != 0;
	r->err = info->err;
	r->code = info->cause_code;
	r->len = info->cause_msg_len;
	if (r->len > CTXFD_CAUSE_MSG_MAX)
		r->len = CTXFD_CAUSE_MSG_MAX;
	memcpy(r->msg, info->cause_msg, r->len);
	r->msg[r->len] = '\0';
	return true;
}

/* ---- values ------------------------------------------------------------------ */

struct vals {
	unsigned char bound[NKEYS];
	unsigned char len[NKEYS];
	char v[NKEYS][VMAX];
};

static const char *const keys[NKEYS + 1] = { "k0", "k1", "k2", "k3", "none" };

/* ---- the pool of contexts of one process ------------------------------------- */

enum kind { K_CANCEL, K_VALUE, K_WC };

struct entry {
	int fd;
	int refs;		/* the pool's own + borrowers */
	bool live;		/* in the pool */
	unsigned int gen;
	__u64 id;
	__u8 kind;
	bool can_cancel;	/* this fd */
	bool can_be_done;	/* some cancel or deadline can reach the node */
	int parent, parent_gen;	/* linked parent's entry, or -1 */
	int same, same_gen;	/* another entry on the same node, or -1 */
	struct vals vals;
	struct rec rec;		/* first done observation */
};

struct pool {
	pthread_mutex_t lock;
	struct entry e[MAXE];
	int nlive;
};

static struct pool pool;
static int dev_fd = -1;
static int send_sock = -1, recv_sock = -1;
static int stop_efd = -1;
static volatile int stopping;	/* this process winds down */
static volatile int waiters_done;
static int my_index;

static int pool_add(const struct entry *tmpl)
{
	int i;

	pthread_mutex_lock(&pool.lock);
	for (i = 0; i < MAXE; i++) {
		if (!pool.e[i].live && pool.e[i].refs == 0) {
			unsigned int gen = pool.e[i].gen + 1;

			pool.e[i] = *tmpl;
			pool.e[i].gen = gen;
			pool.e[i].live = true;
			pool.e[i].refs = 1;
			pool.nlive++;
			pthread_mutex_unlock(&pool.lock);
			return i;
		}
	}
	pthread_mutex_unlock(&pool.lock);
	return -1;
}

/* Borrow a random live entry (optionally one that can be done). */
static int borrow(__u64 *st, bool need_done)
{
	int i, start, n;

	pthread_mutex_lock(&pool.lock);
	if (!pool.nlive) {
		pthread_mutex_unlock(&pool.lock);
		return -1;
	}
	start = (int)(t_rand(st) % MAXE);
	for (n = 0; n < MAXE; n++) {
		i = (start + n) % MAXE;
		if (pool.e[i].live && (!need_done || pool.e[i].can_be_done)) {
			pool.e[i].refs++;
			pthread_mutex_unlock(&pool.lock);
			return i;
		}
	}
	pthread_mutex_unlock(&pool.lock);
	return -1;
}

static void put(int i);

/*
 * Borrow a random entry, preferring (up to three draws) one not known to
 * be done (@active) or one known done (!@active).
 */
static int borrow_pref(__u64 *st, bool active)
{
	int i = -1, tries;

	for (tries = 0; tries < 3; tries++) {
		if (i >= 0)
			put(i);
		i = borrow(st, false);
		if (i < 0 || pool.e[i].rec.done != active)
			break;
	}
	return i;
}

/* Borrow entry @i if it is still generation @gen. */
static bool borrow_exact(int i, unsigned int gen)
{
	bool ok;

	if (i < 0)
		return false;
	pthread_mutex_lock(&pool.lock);
	ok = pool.e[i].live && pool.e[i].gen == gen;
	if (ok)
		pool.e[i].refs++;
	pthread_mutex_unlock(&pool.lock);
	return ok;
}

static void put(int i)
{
	int fd = -1;

	pthread_mutex_lock(&pool.lock);
	/* The last one out closes; the slot stays taken until it has. */
	if (pool.e[i].refs == 1 && !pool.e[i].live)
		fd = pool.e[i].fd;
	else
		pool.e[i].refs--;
	pthread_mutex_unlock(&pool.lock);
	if (fd >= 0) {
		close(fd);
		pthread_mutex_lock(&pool.lock);
		pool.e[i].fd = -1;
		pool.e[i].refs = 0;
		pthread_mutex_unlock(&pool.lock);
	}
}

/* Take entry @i (borrowed) out of the pool; it closes with the last put. */
static void retire(int i)
{
	pthread_mutex_lock(&pool.lock);
	if (pool.e[i].live) {
		pool.e[i].live = false;
		pool.e[i].refs--;	/* the pool's own reference */
		pool.nlive--;
	}
	pthread_mutex_unlock(&pool.lock);
}

/*
 * Check an observation of entry @i against what is known, and record a
 * first done. @before: the entry was known done before the INFO began.
 */
static void note(int i, const struct rec *o, bool before, const char *where)
{
	struct entry *e = &pool.e[i];
	struct rec old;
	bool had;

	if (!o->done) {
		CHECK(!before, "%s: context %llu went from done back to active",
		      where, (unsigned long long)e->id);
		return;
	}
	CHECK(e->can_be_done, "%s: context %llu (kind %d) is done (err %d cause %d) but nothing can end it",
	      where, (unsigned long long)e->id, e->kind, o->err, o->code);
	CHECK(cause_valid(o), "%s: context %llu done with err %d, cause %d \"%s\": never given",
	      where, (unsigned long long)e->id, o->err, o->code, o->msg);
	CHECK(t_readable(e->fd, 0), "%s: context %llu reports done but does not poll readable",
	      where, (unsigned long long)e->id);
	pthread_mutex_lock(&pool.lock);
	had = e->rec.done;
	old = e->rec;
	if (!had)
		e->rec = *o;
	pthread_mutex_unlock(&pool.lock);
	CHECK(!had || rec_equal(&old, o),
	      "%s: context %llu changed its cause: err %d cause %d \"%s\", then err %d cause %d \"%s\"",
	      where, (unsigned long long)e->id, old.err, old.code, old.msg,
	      o->err, o->code, o->msg);
}

static bool known_done(int i)
{
	bool d;

	pthread_mutex_lock(&pool.lock);
	d = pool.e[i].rec.done;
	pthread_mutex_unlock(&pool.lock);
	return d;
}

/* Observe entry @i (borrowed) now and check it. */
static struct rec look(int i, const char *where)
{
	bool before = known_done(i);
	struct rec r = { 0 };

	if (!observe(pool.e[i].fd, &r, NULL)) {
		violation("%s: INFO failed on context %llu: %s", where,
			  (unsigned long long)pool.e[i].id, strerror(errno));
		return r;
	}
	note(i, &r, before, where);
	return r;
}

/* ---- op thread ------------------------------------------------------------------- */

struct victim {
	pid_t pid;
	int pidfd;
	int vfd;		/* watch fd on the context it is attached to */
	int sig;
	__u64 grace_ns;
	bool self_exit;		/* exits by itself soon */
	bool ignores;		/* ignores @sig: only SIGKILL after grace ends it */
	__u64 done_seen;
};

struct opthread {
	int idx;
	__u64 st;
	struct victim v[MAX_VICTIMS];
	int nv;
};

static bool time_up(void)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_SEQ_CST) ||
	       t_now_ns(CLOCK_MONOTONIC) > sh->deadline_ns;
}

static int do_create(int parent_fd, struct ctxfd_create *a)
{
	return ioctl(parent_fd, CTXFD_IOC_CREATE, a);
}

static void op_new(struct opthread *t)
{
	struct entry e = { .parent = -1, .same = -1 };
	struct ctxfd_create a = { 0 };
	char buf[32], val[VMAX];
	unsigned int x = (unsigned int)t_rand(&t->st);
	int k = 0;

	e.kind = K_CANCEL;
	e.can_cancel = true;
	e.can_be_done = true;
	switch (x % 5) {
	case 0:
		a.flags = CTXFD_CREATE_NO_CANCEL_ON_CLOSE;
		break;
	case 1:
		a.flags = CTXFD_CREATE_TIMEOUT;
		a.clockid = CLOCK_MONOTONIC;
		a.deadline_ns = (__s64)(t_rand(&t->st) % 2000001);
		random_cause(&t->st, 'd', DEADLINE_BASE, &a.deadline_cause, buf);
		count(CNT_DEADLINES);
		break;
	case 2:		/* a value root: never done */
		k = (int)(t_rand(&t->st) % NKEYS);
		e.kind = K_VALUE;
		e.can_cancel = false;
		e.can_be_done = false;
		a.flags = CTXFD_CREATE_VALUE;
		a.key = (uintptr_t)keys[k];
		a.key_len = 2;
		a.value_len = (__u32)(t_rand(&t->st) % (VMAX + 1));
		memset(val, 'a' + (int)(x % 26), sizeof(val));
		a.value = a.value_len ? (uintptr_t)val : 0;
		e.vals.bound[k] = 1;
		e.vals.len[k] = (unsigned char)a.value_len;
		memcpy(e.vals.v[k], val, a.value_len);
		break;
	default:
		break;
	}
	e.fd = ioctl(dev_fd, CTXFD_IOC_NEW, &a);
	if (e.fd < 0) {
		violation("NEW: %s", strerror(errno));
		return;
	}
	e.id = t_id(e.fd);
	if (pool_add(&e) < 0)
		close(e.fd);
}

static void op_create(struct opthread *t)
{
	int pi = borrow_pref(&t->st, true), k;
	struct ctxfd_create a = { 0 };
	struct rec pr, cr;
	struct entry e = { .parent = -1, .same = -1 };
	char buf[32], val[VMAX];
	unsigned int x = (unsigned int)t_rand(&t->st);
	bool pdone_before;

	if (pi < 0)
		return;
	e.vals = pool.e[pi].vals;
	switch (x % 10) {
	case 0: case 1:	/* a value child */
		k = (int)(t_rand(&t->st) % NKEYS);
		e.kind = K_VALUE;
		a.flags = CTXFD_CREATE_VALUE;
		a.key = (uintptr_t)keys[k];
		a.key_len = 2;
		a.value_len = (__u32)(t_rand(&t->st) % (VMAX + 1));
		memset(val, 'A' + (int)(x % 26), sizeof(val));
		val[0] = (char)t->idx;
		a.value = a.value_len ? (uintptr_t)val : 0;
		e.vals.bound[k] = 1;
		e.vals.len[k] = (unsigned char)a.value_len;
		memcpy(e.vals.v[k], val, a.value_len);
		break;
	case 2:		/* WithoutCancel */
		e.kind = K_WC;
		a.flags = CTXFD_CREATE_WITHOUT_CANCEL;
		break;
	case 3: case 4: case 5:	/* a deadline, 0-2 ms */
		e.kind = K_CANCEL;
		if (x & 0x100) {
			a.flags = CTXFD_CREATE_TIMEOUT;
			a.clockid = CLOCK_MONOTONIC;
			a.deadline_ns = (__s64)(t_rand(&t->st) % 2000001);
		} else {
			a.flags = CTXFD_CREATE_DEADLINE;
			a.clockid = (x & 0x200) ? CLOCK_BOOTTIME : CLOCK_MONOTONIC;
			a.deadline_ns = (__s64)(t_now_ns(a.clockid) +
						t_rand(&t->st) % 2000001);
		}
		random_cause(&t->st, 'd', DEADLINE_BASE, &a.deadline_cause, buf);
		count(CNT_DEADLINES);
		break;
	default:
		e.kind = K_CANCEL;
		break;
	}
	if (e.kind == K_CANCEL && (x & 0x400))
		a.flags |= CTXFD_CREATE_NO_CANCEL_ON_CLOSE;
	if (x & 0x800)
		a.flags |= CTXFD_CREATE_NO_CLOEXEC;

	pdone_before = observe(pool.e[pi].fd, &pr, NULL) && pr.done;
	if (pdone_before)
		note(pi, &pr, known_done(pi), "create/parent");
	e.fd = do_create(pool.e[pi].fd, &a);
	if (e.fd < 0) {
		violation("CREATE (flags %#llx) under %llu: %s",
			  (unsigned long long)a.flags,
			  (unsigned long long)pool.e[pi].id, strerror(errno));
		put(pi);
		return;
	}
	e.id = t_id(e.fd);
	e.can_cancel = e.kind == K_CANCEL;
	e.can_be_done = e.kind == K_CANCEL ||
			(e.kind == K_VALUE && pool.e[pi].can_be_done);
	if (e.kind != K_WC) {
		e.parent = pi;
		e.parent_gen = (int)pool.e[pi].gen;
	}
	if (!observe(e.fd, &cr, NULL)) {
		violation("INFO of a new child: %s", strerror(errno));
	} else if (e.kind == K_WC) {
		CHECK(!cr.done, "a WithoutCancel child is born done");
	} else if (pdone_before) {
		/* Born done, with the parent's err and cause exactly. */
		CHECK(cr.done && rec_equal(&cr, &pr),
		      "child %llu of done parent %llu: err %d cause %d \"%s\", parent err %d cause %d \"%s\"",
		      (unsigned long long)e.id, (unsigned long long)pool.e[pi].id,
		      cr.err, cr.code, cr.msg, pr.err, pr.code, pr.msg);
		count(CNT_BORN_DONE);
	}
	if (cr.done && e.can_be_done) {
		CHECK(cause_valid(&cr), "new child %llu done with a cause never given (%d %d \"%s\")",
		      (unsigned long long)e.id, cr.err, cr.code, cr.msg);
		e.rec = cr;
	}
	put(pi);
	if (pool_add(&e) < 0)
		close(e.fd);
}

static void op_watch(struct opthread *t)
{
	int i = borrow(&t->st, false);
	struct entry e;

	if (i < 0)
		return;
	pthread_mutex_lock(&pool.lock);
	e = pool.e[i];
	pthread_mutex_unlock(&pool.lock);
	e.fd = t_watch(pool.e[i].fd, (t_rand(&t->st) & 1) ? CTXFD_WATCH_NO_CLOEXEC : 0);
	if (e.fd < 0) {
		violation("WATCH: %s", strerror(errno));
		put(i);
		return;
	}
	e.can_cancel = false;
	e.same = i;
	e.same_gen = (int)pool.e[i].gen;
	put(i);
	if (pool_add(&e) < 0)
		close(e.fd);
}

static void op_cancel(struct opthread *t)
{
	int i = borrow(&t->st, false), ret;
	struct ctxfd_cause c;
	struct ctxfd_cancel a = { 0 };
	char buf[32];
	struct rec r;

	if (i < 0)
		return;
	random_cause(&t->st, 'm', CANCEL_BASE, &c, buf);
	a.cause = c;
	ret = ioctl(pool.e[i].fd, CTXFD_IOC_CANCEL, &a);
	if (pool.e[i].can_cancel) {
		CHECK(ret == 0, "CANCEL on a cancel fd: %s", strerror(errno));
		r = look(i, "after cancel");
		CHECK(r.done, "context %llu active after its CANCEL returned",
		      (unsigned long long)pool.e[i].id);
	} else {
		CHECK(ret == -1 && errno == EPERM,
		      "CANCEL on a watch-only fd: %d (%s)", ret, strerror(errno));
	}
	put(i);
}

static void op_close(struct opthread *t)
{
	int i = borrow_pref(&t->st, false);

	if (i < 0)
		return;
	retire(i);
	put(i);
}

/* Ancestor first, then the node: a done ancestor has no active descendant. */
static void op_check(struct opthread *t)
{
	int x = borrow(&t->st, false), a = -1, cur, up[16], nup = 0, j;
	struct rec ar, xr, pr;

	if (x < 0)
		return;
	/* Linked ancestors still in the pool. */
	cur = x;
	while (nup < 16) {
		int p = pool.e[cur].parent;
		unsigned int pg = (unsigned int)pool.e[cur].parent_gen;

		if (p < 0 || !borrow_exact(p, pg))
			break;
		up[nup++] = p;
		cur = p;
	}
	if (nup) {
		a = up[t_rand(&t->st) % (unsigned int)nup];
		ar = look(a, "check/ancestor");
		xr = look(x, "check/descendant");
		CHECK(!ar.done || xr.done,
		      "context %llu active under done ancestor %llu (err %d cause %d)",
		      (unsigned long long)pool.e[x].id,
		      (unsigned long long)pool.e[a].id, ar.err, ar.code);
		/*
		 * A values-only node is done with its parent, and with the
		 * same cause. Parent first: a walk finishes the leaves first,
		 * so while it runs the node may be done and its parent not.
		 */
		if (pool.e[x].kind == K_VALUE) {
			pr = look(up[0], "check/value-parent");
			xr = look(x, "check/value");
			CHECK(!pr.done || (xr.done && rec_equal(&xr, &pr)),
			      "value context %llu: err %d cause %d, its done parent %llu: err %d cause %d",
			      (unsigned long long)pool.e[x].id, xr.err, xr.code,
			      (unsigned long long)pool.e[up[0]].id, pr.err, pr.code);
		}
	} else {
		look(x, "check");
	}
	for (j = 0; j < nup; j++)
		put(up[j]);
	/* Two fds of one node agree. */
	if (borrow_exact(pool.e[x].same, (unsigned int)pool.e[x].same_gen)) {
		int s = pool.e[x].same;

		xr = look(x, "check/fd");
		pr = look(s, "check/same-node fd");
		CHECK(!xr.done || (pr.done && rec_equal(&xr, &pr)),
		      "two fds of context %llu disagree", (unsigned long long)pool.e[x].id);
		put(s);
	}
	put(x);
}

static void op_lookup(struct opthread *t)
{
	int i = borrow(&t->st, false), k = (int)(t_rand(&t->st) % (NKEYS + 1));
	char buf[VMAX + 1];
	__u32 len = (t_rand(&t->st) & 7) ? VMAX : 4, size;
	struct vals *v;
	int ret;

	if (i < 0)
		return;
	v = &pool.e[i].vals;
	size = len;
	ret = t_lookup(pool.e[i].fd, keys[k], buf, &len);
	if (k == NKEYS || !v->bound[k]) {
		CHECK(ret == -1 && errno == ENOENT, "lookup of unbound %s on %llu: %d (%s)",
		      keys[k], (unsigned long long)pool.e[i].id, ret, strerror(errno));
	} else if (v->len[k] > size) {
		CHECK(ret == -1 && errno == ERANGE && len == v->len[k],
		      "lookup of %s with a %u-byte buffer: %d (%s), len %u of %u",
		      keys[k], size, ret, strerror(errno), len, v->len[k]);
	} else {
		CHECK(ret == 0 && len == v->len[k] && !memcmp(buf, v->v[k], len),
		      "lookup of %s on %llu: %d (%s), %u bytes, expected %u",
		      keys[k], (unsigned long long)pool.e[i].id, ret,
		      ret ? strerror(errno) : "ok", len, v->len[k]);
	}
	put(i);
}

static void op_readpoll(struct opthread *t)
{
	int i = borrow(&t->st, false);
	bool before, readable;
	struct ctxfd_event ev;
	struct iovec iov = { .iov_base = &ev, .iov_len = sizeof(ev) };
	struct rec r;
	ssize_t n;

	if (i < 0)
		return;
	before = known_done(i);
	readable = t_readable(pool.e[i].fd, 0);
	CHECK(!before || readable, "done context %llu does not poll readable",
	      (unsigned long long)pool.e[i].id);
	n = preadv2(pool.e[i].fd, &iov, 1, -1, RWF_NOWAIT);
	if (n < 0) {
		CHECK(errno == EAGAIN, "read: %s", strerror(errno));
		CHECK(!before, "read of done context %llu: EAGAIN",
		      (unsigned long long)pool.e[i].id);
	} else {
		CHECK(n == sizeof(ev), "read returned %zd", n);
		r = look(i, "read");
		CHECK(r.done && ev.err == r.err && ev.cause_code == r.code &&
		      ev.id == pool.e[i].id,
		      "read record (id %llu err %d cause %d) vs INFO (err %d cause %d)",
		      (unsigned long long)ev.id, ev.err, ev.cause_code, r.err, r.code);
	}
	if (readable) {
		r = look(i, "poll");
		CHECK(r.done, "context %llu polled readable while active",
		      (unsigned long long)pool.e[i].id);
	}
	put(i);
}

/* What travels with an fd to the next process. */
struct wire {
	__u64 id;
	__u8 kind, can_cancel, can_be_done;
	struct vals vals;
	struct rec rec;
};

static void op_send(struct opthread *t)
{
	int i = borrow(&t->st, false);
	struct wire w;
	struct iovec iov = { .iov_base = &w, .iov_len = sizeof(w) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;

	if (i < 0)
		return;
	memset(&w, 0, sizeof(w));
	memset(&u, 0, sizeof(u));
	pthread_mutex_lock(&pool.lock);
	w.id = pool.e[i].id;
	w.kind = pool.e[i].kind;
	w.can_cancel = pool.e[i].can_cancel;
	w.can_be_done = pool.e[i].can_be_done;
	w.vals = pool.e[i].vals;
	w.rec = pool.e[i].rec;
	pthread_mutex_unlock(&pool.lock);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &pool.e[i].fd, sizeof(int));
	/* A full socket just skips the send. */
	sendmsg(send_sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	put(i);
}

/* A short-lived process acting on what it inherited. No stdio here. */
static void fork_child_body(__u64 seed)
{
	__u64 st = seed;
	int n, k;

	for (n = 0; n < 6; n++) {
		int i = (int)(t_rand(&st) % MAXE);
		struct entry *e = &pool.e[i];
		struct rec r;
		char buf[32];

		if (!e->live || e->fd < 0)
			continue;
		__atomic_add_fetch(&sh->count[CNT_CHILD_OPS], 1, __ATOMIC_RELAXED);
		if (!observe(e->fd, &r, NULL)) {
			violation("forked child: INFO: %s", strerror(errno));
			continue;
		}
		if (e->rec.done)
			CHECK(r.done && rec_equal(&r, &e->rec),
			      "forked child: context %llu not done as recorded",
			      (unsigned long long)e->id);
		switch (t_rand(&st) % 3) {
		case 0:
			if (e->can_cancel) {
				struct ctxfd_cancel a = { 0 };

				random_cause(&st, 'm', CANCEL_BASE, &a.cause, buf);
				CHECK(!ioctl(e->fd, CTXFD_IOC_CANCEL, &a),
				      "forked child: cancel: %s", strerror(errno));
			}
			break;
		case 1:
			/* Children we leave open: our exit closes (cancels) them. */
			k = t_child(e->fd, 0);
			CHECK(k >= 0, "forked child: create: %s", strerror(errno));
			break;
		default: {
			char v[VMAX + 1];
			__u32 len = VMAX;

			k = (int)(t_rand(&st) % NKEYS);
			if (t_lookup(e->fd, keys[k], v, &len) == 0)
				CHECK(e->vals.bound[k] && len == e->vals.len[k] &&
				      !memcmp(v, e->vals.v[k], len),
				      "forked child: lookup of %s", keys[k]);
			else
				CHECK(errno == ENOENT && !e->vals.bound[k],
				      "forked child: lookup of %s: %s", keys[k],
				      strerror(errno));
		}
		}
	}
}

static void op_fork(struct opthread *t)
{
	__u64 seed = t_rand(&t->st);
	pid_t pid;
	int st;

	/* Under the pool lock: the child sees a consistent pool. */
	pthread_mutex_lock(&pool.lock);
	pid = fork();
	if (pid == 0) {
		fork_child_body(seed);
		_exit(0);
	}
	pthread_mutex_unlock(&pool.lock);
	if (pid < 0) {
		violation("fork: %s", strerror(errno));
		return;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "forked child: status %#x", st);
}

static void op_attach(struct opthread *t)
{
	static const int sigs[] = { SIGTERM, SIGUSR1, SIGHUP, SIGKILL };
	struct victim *v;
	unsigned int x = (unsigned int)t_rand(&t->st);
	int i, ret, ready[2];
	__u64 flags = 0;

	if (t->nv >= MAX_VICTIMS)
		return;
	i = borrow(&t->st, false);
	if (i < 0)
		return;
	v = &t->v[t->nv];
	memset(v, 0, sizeof(*v));
	v->sig = sigs[x % 4];
	v->grace_ns = (v->sig != SIGKILL && (x & 4)) ?
		      1000000ull * (1 + (x >> 8) % 20) : 0;
	v->ignores = v->grace_ns && (x & 8);
	v->self_exit = (x & 0x30) == 0x30;
	if (x & 0x40)
		flags = CTXFD_ATTACH_DESCENDANTS;
	if (pipe2(ready, O_CLOEXEC)) {
		violation("pipe: %s", strerror(errno));
		put(i);
		return;
	}
	v->pid = fork();
	if (v->pid == 0) {
		struct sigaction sa = { .sa_handler = SIG_IGN };
		pid_t me = getpid();
		sigset_t none;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(ready[1], 3) != 3)
			_exit(3);
		syscall(SYS_close_range, 4, ~0U, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (v->ignores)
			sigaction(v->sig, &sa, NULL);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGUSR2, &sa, NULL);
		if (flags && fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			/* The victim may be gone already: no PDEATHSIG then. */
			if (getppid() != me)
				_exit(0);
			close(3);
			for (;;)
				pause();
		}
		/* Ready: its signal dispositions are set. */
		if (write(3, "r", 1) != 1)
			_exit(4);
		close(3);
		if (v->self_exit) {
			usleep(x % 3000);
			_exit(0);
		}
		for (;;)
			pause();
	}
	close(ready[1]);
	if (v->pid < 0 || !t_sync_wait(ready[0], 30000)) {
		violation("fork a victim: %s", strerror(errno));
		if (v->pid > 0) {
			kill(v->pid, SIGKILL);
			waitpid(v->pid, NULL, 0);
		}
		close(ready[0]);
		put(i);
		return;
	}
	close(ready[0]);
	v->pidfd = t_pidfd_open(v->pid);
	v->vfd = t_watch(pool.e[i].fd, 0);
	if (v->pidfd < 0 || v->vfd < 0) {
		violation("victim: pidfd %d watch %d: %s", v->pidfd, v->vfd,
			  strerror(errno));
		kill(v->pid, SIGKILL);
		waitpid(v->pid, NULL, 0);
		if (v->pidfd >= 0)
			close(v->pidfd);
		if (v->vfd >= 0)
			close(v->vfd);
		put(i);
		return;
	}
	ret = t_attach_pidfd(pool.e[i].fd, v->pid, v->pidfd, v->sig,
			     v->grace_ns, flags);
	CHECK(ret == 0 || (v->self_exit && errno == ESRCH),
	      "ATTACH: %s", strerror(errno));
	put(i);
	t->nv++;
}

/* Reap victims that are gone, check their signal; watch the others. */
static void check_victims(struct opthread *t, bool final)
{
	int j = 0;

	while (j < t->nv) {
		struct victim *v = &t->v[j];
		struct rec r;
		bool gone = t_readable(v->pidfd, 0), done;
		int st;

		if (!observe(v->vfd, &r, NULL))
			violation("victim's context: INFO: %s", strerror(errno));
		done = r.done;
		if (!gone && done) {
			__u64 now = t_now_ns(CLOCK_MONOTONIC);

			if (!v->done_seen)
				v->done_seen = now;
			if (now - v->done_seen >
			    (VICTIM_MS * 1000000ull + v->grace_ns)) {
				violation("victim %d not signalled %d ms after its context was done (sig %d, grace %llu ns)",
					  (int)v->pid, VICTIM_MS, v->sig,
					  (unsigned long long)v->grace_ns);
				kill(v->pid, SIGKILL);
			}
			if (final) {
				usleep(1000);
				continue;
			}
		}
		if (!gone && final && !done) {
			/* Its context never ended: not ours to judge. */
			kill(v->pid, SIGKILL);
			gone = true;
		}
		if (!gone) {
			j++;
			continue;
		}
		while (waitpid(v->pid, &st, 0) < 0 && errno == EINTR)
			;
		if (WIFSIGNALED(st) && !(final && !done && WTERMSIG(st) == SIGKILL)) {
			int sig = WTERMSIG(st);

			/* Signalled: only once done, only with its signal. */
			if (!observe(v->vfd, &r, NULL))
				r.done = false;
			CHECK(r.done, "victim %d killed by signal %d while its context is active",
			      (int)v->pid, sig);
			CHECK(sig == v->sig || sig == SIGKILL,
			      "victim %d killed by signal %d, attached with %d",
			      (int)v->pid, sig, v->sig);
			CHECK(!v->ignores || sig == SIGKILL,
			      "victim %d ignoring %d died of %d", (int)v->pid,
			      v->sig, sig);
			count(CNT_SIGNALLED);
		} else if (WIFEXITED(st)) {
			CHECK(v->self_exit, "victim %d exited by itself (%d)",
			      (int)v->pid, WEXITSTATUS(st));
		}
		close(v->pidfd);
		close(v->vfd);
		t->v[j] = t->v[--t->nv];
	}
}

static void op_bigvalue(struct opthread *t)
{
	static __thread char big[4096], out[4096];
	int i = borrow(&t->st, false), fd;
	__u32 len = sizeof(out);

	if (i < 0)
		return;
	memset(big, 'b' + t->idx, sizeof(big));
	big[0] = (char)t_rand(&t->st);
	fd = t_child_value(pool.e[i].fd, "big", big, sizeof(big));
	if (fd < 0) {
		violation("4 KiB value: %s", strerror(errno));
	} else {
		CHECK(!t_lookup(fd, "big", out, &len) && len == sizeof(big) &&
		      !memcmp(out, big, len), "4 KiB value lookup");
		close(fd);
	}
	put(i);
}

static void *op_thread(void *arg)
{
	struct opthread *t = arg;
	unsigned int total = 0, w, x;
	long n;
	int op;

	for (op = 0; op < NR_OPS; op++)
		total += weights[op];
	for (n = 0; n < sh->ops_per_thread && !time_up(); n++) {
		x = (unsigned int)(t_rand(&t->st) % total);
		for (op = 0, w = 0; op < NR_OPS; op++) {
			w += weights[op];
			if (x < w)
				break;
		}
		/* A full pool closes more; an empty one creates. */
		if (pool.nlive > MAXE - 40 && (x & 1))
			op = OP_CLOSE;
		if (pool.nlive < 4)
			op = (x & 1) ? OP_NEW : OP_CREATE;
		switch (op) {
		case OP_NEW: op_new(t); break;
		case OP_CREATE: op_create(t); break;
		case OP_WATCH: op_watch(t); break;
		case OP_CANCEL: op_cancel(t); break;
		case OP_CLOSE: op_close(t); break;
		case OP_CHECK: op_check(t); break;
		case OP_LOOKUP: op_lookup(t); break;
		case OP_READPOLL: op_readpoll(t); break;
		case OP_SEND: op_send(t); break;
		case OP_FORK: op_fork(t); break;
		case OP_ATTACH: op_attach(t); break;
		case OP_BIGVALUE: op_bigvalue(t); break;
		default: check_victims(t, false); break;
		}
		count(op);
	}
	/*
	 * Before this thread ends: victims die with it (PDEATHSIG). Those
	 * whose context is done get their signal; the others are killed.
	 */
	check_victims(t, true);
	return NULL;
}

/* ---- receiver --------------------------------------------------------------------- */

static void *receiver(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = recv_sock, .events = POLLIN },
			{ .fd = stop_efd, .events = POLLIN },
		};
		struct wire w;
		struct iovec iov = { .iov_base = &w, .iov_len = sizeof(w) };
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} u;
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
		};
		struct entry e = { .parent = -1, .same = -1 };
		struct ctxfd_info info;
		struct cmsghdr *cm;
		struct rec r;
		ssize_t n;

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		n = recvmsg(recv_sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n <= 0)
			continue;
		cm = CMSG_FIRSTHDR(&msg);
		if (n != sizeof(w) || !cm || cm->cmsg_type != SCM_RIGHTS) {
			violation("receiver: message of %zd bytes, cmsg %p", n, (void *)cm);
			continue;
		}
		memcpy(&e.fd, CMSG_DATA(cm), sizeof(int));
		count(CNT_RECV);
		if (!observe(e.fd, &r, &info)) {
			violation("receiver: INFO: %s", strerror(errno));
			close(e.fd);
			continue;
		}
		CHECK(info.id == w.id, "received fd of context %llu, sent %llu",
		      (unsigned long long)info.id, (unsigned long long)w.id);
		CHECK(!!(info.flags & CTXFD_INFO_CAN_CANCEL) == w.can_cancel,
		      "received fd's rights changed in flight");
		CHECK(!w.rec.done || (r.done && rec_equal(&r, &w.rec)),
		      "received context %llu was done (err %d cause %d) in the sender, now err %d cause %d",
		      (unsigned long long)w.id, w.rec.err, w.rec.code, r.err, r.code);
		e.id = w.id;
		e.kind = w.kind;
		e.can_cancel = w.can_cancel;
		e.can_be_done = w.can_be_done;
		e.vals = w.vals;
		if (r.done && w.can_be_done)
			e.rec = r;
		CHECK(!r.done || w.can_be_done, "received never-done context %llu is done",
		      (unsigned long long)w.id);
		if (pool_add(&e) < 0)
			close(e.fd);
	}
	return NULL;
}

/* ---- waiters and the watchdog ---------------------------------------------------- */

enum wmode { W_POLL, W_PPOLL, W_SELECT, W_EPOLL, W_EPOLL_ONESHOT, W_READ, NR_WMODES };

static const char *const wmode_names[NR_WMODES] = {
	"poll", "ppoll", "select", "epoll", "epoll one-shot", "read",
};

struct wslot {
	pthread_mutex_t lock;
	pthread_t thread;
	bool blocked;
	bool reported;
	int mode;
	int n;
	int fd[3];
	__u64 id[3];
	__u64 done_seen;
	__u64 st;
};

static struct wslot wslots[NWAITERS];

static void on_usr2(int sig)
{
	(void)sig;
}

/* After a wait: every fd reported ready must be done, with its record. */
static void verify_ready(int fd, __u64 id, const char *how)
{
	struct ctxfd_event ev;
	struct iovec iov = { .iov_base = &ev, .iov_len = sizeof(ev) };
	struct rec r;

	if (!observe(fd, &r, NULL)) {
		violation("waiter: INFO: %s", strerror(errno));
		return;
	}
	CHECK(r.done, "%s reported context %llu ready while active", how,
	      (unsigned long long)id);
	CHECK(!r.done || cause_valid(&r), "%s: context %llu done with a cause never given",
	      how, (unsigned long long)id);
	if (r.done)
		CHECK(preadv2(fd, &iov, 1, -1, RWF_NOWAIT) == sizeof(ev) &&
		      ev.err == r.err && ev.cause_code == r.code,
		      "%s: read of done context %llu", how, (unsigned long long)id);
}

static void *waiter(void *arg)
{
	struct wslot *w = arg;

	while (!stopping) {
		int picks[3], n = 1 + (int)(t_rand(&w->st) % 3), k, got = 0, ret;
		int mode = (int)(t_rand(&w->st) % NR_WMODES);
		struct pollfd pfd[4];
		bool ready[3] = { false };

		if (mode == W_READ)
			n = 1;
		for (k = 0; k < n; k++) {
			picks[got] = borrow(&w->st, true);
			if (picks[got] < 0)
				break;
			got++;
		}
		if (!got) {
			usleep(1000);
			continue;
		}
		pthread_mutex_lock(&w->lock);
		for (k = 0; k < got; k++) {
			w->fd[k] = t_watch(pool.e[picks[k]].fd, 0);
			w->id[k] = pool.e[picks[k]].id;
			if (w->fd[k] < 0)
				violation("waiter: WATCH: %s", strerror(errno));
		}
		w->n = got;
		w->mode = mode;
		w->done_seen = 0;
		w->reported = false;
		w->blocked = true;
		pthread_mutex_unlock(&w->lock);
		for (k = 0; k < got; k++)
			put(picks[k]);
		for (k = 0; k < got; k++)
			if (w->fd[k] < 0)
				goto out;
		if (mode == W_SELECT)
			for (k = 0; k < got; k++)
				if (w->fd[k] >= FD_SETSIZE || stop_efd >= FD_SETSIZE)
					mode = W_POLL;

		switch (mode) {
		case W_POLL:
		case W_PPOLL:
			for (k = 0; k < got; k++)
				pfd[k] = (struct pollfd){ .fd = w->fd[k], .events = POLLIN };
			pfd[got] = (struct pollfd){ .fd = stop_efd, .events = POLLIN };
			if (mode == W_POLL)
				ret = poll(pfd, (nfds_t)got + 1, -1);
			else
				ret = ppoll(pfd, (nfds_t)got + 1, NULL, NULL);
			for (k = 0; ret > 0 && k < got; k++)
				ready[k] = pfd[k].revents & POLLIN;
			break;
		case W_SELECT: {
			fd_set rs;
			int max = stop_efd;

			FD_ZERO(&rs);
			FD_SET(stop_efd, &rs);
			for (k = 0; k < got; k++) {
				FD_SET(w->fd[k], &rs);
				if (w->fd[k] > max)
					max = w->fd[k];
			}
			ret = select(max + 1, &rs, NULL, NULL, NULL);
			for (k = 0; ret > 0 && k < got; k++)
				ready[k] = FD_ISSET(w->fd[k], &rs);
			break;
		}
		case W_EPOLL:
		case W_EPOLL_ONESHOT: {
			int ep = epoll_create1(EPOLL_CLOEXEC), e;
			struct epoll_event evs[4], ev;

			if (ep < 0) {
				violation("epoll_create1: %s", strerror(errno));
				break;
			}
			for (k = 0; k <= got; k++) {
				ev.events = EPOLLIN | (mode == W_EPOLL_ONESHOT ? EPOLLONESHOT : 0);
				ev.data.u32 = (__u32)k;
				epoll_ctl(ep, EPOLL_CTL_ADD, k < got ? w->fd[k] : stop_efd, &ev);
			}
			do {
				ret = epoll_wait(ep, evs, 4, -1);
			} while (ret < 0 && errno == EINTR);
			for (e = 0; e < ret; e++)
				if (evs[e].data.u32 < (__u32)got)
					ready[evs[e].data.u32] = true;
			close(ep);
			break;
		}
		default: {
			struct ctxfd_event ev;

			ret = (int)read(w->fd[0], &ev, sizeof(ev));
			ready[0] = ret == (int)sizeof(ev);
			CHECK(ret == (int)sizeof(ev) || (ret < 0 && errno == EINTR),
			      "blocking read: %d (%s)", ret, strerror(errno));
			break;
		}
		}
out:
		pthread_mutex_lock(&w->lock);
		w->blocked = false;
		pthread_mutex_unlock(&w->lock);
		for (k = 0; k < got; k++) {
			if (w->fd[k] < 0)
				continue;
			if (ready[k]) {
				verify_ready(w->fd[k], w->id[k], wmode_names[mode]);
				count(CNT_WAKEUPS);
			}
			close(w->fd[k]);
			w->fd[k] = -1;
		}
	}
	return NULL;
}

/* Every 100 ms: a waiter still asleep 30 s after its context was done? */
static void *watchdog(void *arg)
{
	(void)arg;
	while (!waiters_done) {
		int s, k;

		for (s = 0; s < NWAITERS; s++) {
			struct wslot *w = &wslots[s];

			pthread_mutex_lock(&w->lock);
			if (w->blocked && !w->reported) {
				bool done = false;

				for (k = 0; k < w->n; k++)
					if (w->fd[k] >= 0 && t_err(w->fd[k]) > 0)
						done = true;
				if (done && !w->done_seen)
					w->done_seen = t_now_ns(CLOCK_MONOTONIC);
				if (done && t_ms_since(w->done_seen) > LOST_MS) {
					w->reported = true;
					violation("lost wakeup: a %s waiter on context %llu still asleep %d ms after it was done",
						  wmode_names[w->mode],
						  (unsigned long long)w->id[0], LOST_MS);
				}
			}
			pthread_mutex_unlock(&w->lock);
		}
		/* Repeated: a signal just before read() began is lost. */
		if (stopping)
			for (s = 0; s < NWAITERS; s++)
				if (wslots[s].blocked && wslots[s].mode == W_READ)
					pthread_kill(wslots[s].thread, SIGUSR2);
		usleep(100000);
	}
	return NULL;
}

/* ---- one worker process ------------------------------------------------------------ */

static int worker(int idx, int sock_send, int sock_recv)
{
	struct sigaction sa = { .sa_handler = on_usr2 };
	struct opthread ot[NOPS_THREADS];
	pthread_t th[NOPS_THREADS], rt, wd;
	int i, nfds_start;
	__u64 eval = 1;

	my_index = idx;
	sigaction(SIGUSR2, &sa, NULL);	/* no SA_RESTART: EINTR */
	pthread_mutex_init(&pool.lock, NULL);
	dev_fd = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	stop_efd = eventfd(0, EFD_CLOEXEC);
	send_sock = sock_send;
	recv_sock = sock_recv;
	if (dev_fd < 0 || stop_efd < 0) {
		violation("worker %d: setup: %s", idx, strerror(errno));
		return 1;
	}
	nfds_start = t_nr_fds();

	for (i = 0; i < NWAITERS; i++) {
		pthread_mutex_init(&wslots[i].lock, NULL);
		wslots[i].st = t_sub_seed(sh->seed, (__u64)idx, 100 + (__u64)i);
		pthread_create(&wslots[i].thread, NULL, waiter, &wslots[i]);
	}
	pthread_create(&rt, NULL, receiver, NULL);
	pthread_create(&wd, NULL, watchdog, NULL);
	for (i = 0; i < NOPS_THREADS; i++) {
		memset(&ot[i], 0, sizeof(ot[i]));
		ot[i].idx = idx * NOPS_THREADS + i;
		ot[i].st = t_sub_seed(sh->seed, (__u64)idx, (__u64)i);
		pthread_create(&th[i], NULL, op_thread, &ot[i]);
	}
	for (i = 0; i < NOPS_THREADS; i++)
		pthread_join(th[i], NULL);

	/* Wind down: end what can be ended, then close everything. */
	stopping = 1;
	if (write(stop_efd, &eval, sizeof(eval)) != sizeof(eval))
		violation("eventfd: %s", strerror(errno));
	pthread_join(rt, NULL);
	for (i = 0; i < MAXE; i++) {
		if (borrow_exact(i, pool.e[i].gen)) {
			if (pool.e[i].can_cancel)
				t_cancel(pool.e[i].fd, 0, NULL);
			put(i);
		}
	}
	for (i = 0; i < NWAITERS; i++)
		pthread_join(wslots[i].thread, NULL);
	waiters_done = 1;
	pthread_join(wd, NULL);
	for (i = 0; i < MAXE; i++) {
		if (borrow_exact(i, pool.e[i].gen)) {
			retire(i);
			put(i);
		}
	}
	for (i = 0; i < NOPS_THREADS; i++)
		CHECK(ot[i].nv == 0, "worker %d: %d victims left", idx, ot[i].nv);
	close(send_sock);
	close(recv_sock);
	/* Only what we started with (the sockets were open then). */
	CHECK(t_nr_fds() == nfds_start - 2, "worker %d: %d fds open, %d at start",
	      idx, t_nr_fds(), nfds_start - 2);
	close(dev_fd);
	close(stop_efd);
	return 0;
}

/* ---- the test ------------------------------------------------------------------------- */

FIXTURE(load) {
	int dev;
};

FIXTURE_SETUP(load)
{
	ctxfd_require_root();
	self->dev = ctxfd_dev_or_skip();
}

FIXTURE_TEARDOWN(load)
{
	close(self->dev);
}

static void __attribute__((constructor)) seed_early(void)
{
	t_stress_seed_init();
}

TEST_F_TIMEOUT(load, random_workload_keeps_every_invariant, 3600)
{
	int socks[NPROC][2], i, j, status[NPROC];
	long base0 = -1, base_nobody = -1, total = 0;
	double cap_s = 300.0 * (t_stress_scale() > 1 ? t_stress_scale() : 1);
	int nfds = t_nr_fds();
	pid_t pids[NPROC];
	__u64 start;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset(sh, 0, sizeof(*sh));
	sh->seed = t_stress_seed();
	sh->ops_per_thread = t_scaled(OPS_PER_THREAD, 20);
	if (t_charges_available()) {
		base0 = t_settled_charge(0);
		base_nobody = t_settled_charge(NOBODY);
	} else {
		TH_LOG("no %s: charges are not checked", T_USERS_FILE);
	}
	ASSERT_TRUE(t_raise_nofile(8192));
	for (i = 0; i < NPROC; i++)
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
					socks[i]));
	start = t_now_ns(CLOCK_MONOTONIC);
	sh->deadline_ns = start + (__u64)(cap_s * 1e9);
	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < NPROC; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			int snd = socks[i][0], rcv = socks[(i + NPROC - 1) % NPROC][1];

			for (j = 0; j < NPROC; j++) {
				if (socks[j][0] != snd)
					close(socks[j][0]);
				if (socks[j][1] != rcv)
					close(socks[j][1]);
			}
			/* The last worker is unprivileged. */
			if (i == NPROC - 1 && t_drop_to(NOBODY)) {
				violation("worker %d: cannot become nobody", i);
				_exit(1);
			}
			worker(i, snd, rcv);
			_exit(__atomic_load_n(&sh->violations, __ATOMIC_SEQ_CST) ? 1 : 0);
		}
	}
	for (i = 0; i < NPROC; i++) {
		close(socks[i][0]);
		close(socks[i][1]);
	}
	for (i = 0; i < NPROC; i++)
		status[i] = t_wait_status(pids[i]);

	for (i = 0; i < NR_OPS; i++)
		total += sh->count[i];
	printf("# stress: %ld operations in %.1f s by %d processes x %d threads (%ld per thread%s)\n",
	       total, t_ms_since(start) / 1000.0, NPROC, NOPS_THREADS,
	       sh->ops_per_thread,
	       t_now_ns(CLOCK_MONOTONIC) > sh->deadline_ns ? ", stopped by the time cap" : "");
	for (i = 0; i < NR_COUNTS; i++)
		printf("# stress:   %-22s %ld\n", op_names[i], sh->count[i]);
	fflush(stdout);
	for (i = 0; i < sh->nmsg && i < NMSG; i++)
		TH_LOG("violation: %s", sh->msg[i]);
	EXPECT_EQ(0, sh->violations);
	for (i = 0; i < NPROC; i++)
		EXPECT_EQ(0, status[i]) TH_LOG("worker %d", i);

	/* Everything freed: what the workers charged, and no fd of ours. */
	if (base0 >= 0) {
		EXPECT_EQ(base0, t_wait_charged(0, base0, 20000));
		EXPECT_EQ(base_nobody, t_wait_charged(NOBODY, base_nobody, 20000));
	}
	EXPECT_EQ(nfds, t_nr_fds());
	EXPECT_EQ(0, t_live_descendants(getpid(), 0, NULL, 0));
	munmap(sh, sizeof(*sh));
}

TEST_HARNESS_MAIN
