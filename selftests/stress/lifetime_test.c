// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetime: epoll and io_uring watch context fds while the context is
 * torn down through an ancestor, and every fd involved closes in every
 * order, before and after the teardown.
 *
 * The wait queue a poller sleeps on lives in the context; epoll (which
 * holds no file reference) and io_uring (which does, per request and per
 * registered file) must never be left pointing at a freed one (signalfd's
 * and binder's bug, CVE-2019-2215). Each scenario builds
 *
 *	R (root) -> C (NO_CANCEL_ON_CLOSE, often without any fd) -> G
 *
 * with W a watch fd on G, E an epoll set on G's fds (sometimes nested in
 * another set), and U an io_uring with a POLL_ADD (one-shot, multishot, or
 * on a registered file), a READ, and a POLL_ADD on E. Then six actions
 * run in one of the 720 orders: cancel R, close R (the last cancel fd:
 * a cancel too), close G, close W, close E, close the ring (munmap and
 * close). After each step what must hold is checked: G done from the
 * teardown on (before the cancel returns), epoll reporting it while a
 * registered fd is open, every io_uring request completing with the right
 * result; after the last step every node is freed (the per-user charge
 * in debugfs is back at its baseline) and no fd is left. The debug kernel
 * adds KASAN, lockdep and DEBUG_OBJECTS.
 *
 * A second test lets a 0-2 ms deadline do the teardown while the fds
 * close in random order under blocked epoll_wait() and read() threads.
 *
 * CTXFD_STRESS_SEED picks the variants, CTXFD_STRESS_SCALE the number of
 * passes.
 */
#define _GNU_SOURCE
#include <linux/io_uring.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

/* ---- a minimal io_uring, raw system calls ------------------------------ */

struct ring {
	int fd;
	void *sq_ptr, *cq_ptr;
	size_t sq_len, cq_len;
	struct io_uring_sqe *sqes;
	size_t sqes_len;
	unsigned int *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
};

static int ring_init(struct ring *r, unsigned int entries)
{
	struct io_uring_params p;

	memset(&p, 0, sizeof(p));
	memset(r, 0, sizeof(*r));
	r->fd = (int)syscall(__NR_io_uring_setup, entries, &p);
	if (r->fd < 0)
		return -1;
	r->sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	r->cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (r->cq_len > r->sq_len)
			r->sq_len = r->cq_len;
		r->cq_len = 0;
	}
	r->sq_ptr = mmap(NULL, r->sq_len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
	if (r->sq_ptr == MAP_FAILED)
		goto fail;
	if (r->cq_len) {
		r->cq_ptr = mmap(NULL, r->cq_len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_POPULATE, r->fd,
				 IORING_OFF_CQ_RING);
		if (r->cq_ptr == MAP_FAILED)
			goto fail;
	} else {
		r->cq_ptr = r->sq_ptr;
	}
	r->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
	r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED)
		goto fail;
	r->sq_head = (unsigned int *)((char *)r->sq_ptr + p.sq_off.head);
	r->sq_tail = (unsigned int *)((char *)r->sq_ptr + p.sq_off.tail);
	r->sq_mask = (unsigned int *)((char *)r->sq_ptr + p.sq_off.ring_mask);
	r->sq_array = (unsigned int *)((char *)r->sq_ptr + p.sq_off.array);
	r->cq_head = (unsigned int *)((char *)r->cq_ptr + p.cq_off.head);
	r->cq_tail = (unsigned int *)((char *)r->cq_ptr + p.cq_off.tail);
	r->cq_mask = (unsigned int *)((char *)r->cq_ptr + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)((char *)r->cq_ptr + p.cq_off.cqes);
	return 0;
fail:
	close(r->fd);
	r->fd = -1;
	return -1;
}

/* Tear the ring down: its mappings hold the file too. */
static void ring_close(struct ring *r)
{
	if (r->fd < 0)
		return;
	munmap(r->sqes, r->sqes_len);
	if (r->cq_ptr != r->sq_ptr)
		munmap(r->cq_ptr, r->cq_len);
	munmap(r->sq_ptr, r->sq_len);
	close(r->fd);
	r->fd = -1;
}

static struct io_uring_sqe *ring_sqe(struct ring *r)
{
	unsigned int tail = *r->sq_tail, idx = tail & *r->sq_mask;
	struct io_uring_sqe *sqe = &r->sqes[idx];

	memset(sqe, 0, sizeof(*sqe));
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	return sqe;
}

static int ring_submit(struct ring *r, unsigned int n)
{
	return (int)syscall(__NR_io_uring_enter, r->fd, n, 0, 0, NULL, 0);
}

static void ring_poll_add(struct ring *r, int fd, bool fixed, bool multi,
			  __u64 data)
{
	struct io_uring_sqe *sqe = ring_sqe(r);

	sqe->opcode = IORING_OP_POLL_ADD;
	sqe->fd = fd;
	sqe->poll32_events = POLLIN;
	sqe->len = multi ? IORING_POLL_ADD_MULTI : 0;
	sqe->flags = fixed ? IOSQE_FIXED_FILE : 0;
	sqe->user_data = data;
}

static void ring_read(struct ring *r, int fd, void *buf, unsigned int len,
		      __u64 data)
{
	struct io_uring_sqe *sqe = ring_sqe(r);

	sqe->opcode = IORING_OP_READ;
	sqe->fd = fd;
	sqe->addr = (uintptr_t)buf;
	sqe->len = len;
	sqe->off = (__u64)-1;
	sqe->user_data = data;
}

/* Wait at most @ms for @n completions to be available (0 or -1). */
static int ring_wait(struct ring *r, unsigned int n, int ms)
{
	struct __kernel_timespec ts = {
		.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L,
	};
	struct io_uring_getevents_arg arg = { .ts = (uintptr_t)&ts };
	int ret;

	do {
		ret = (int)syscall(__NR_io_uring_enter, r->fd, 0, n,
				   IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
				   &arg, sizeof(arg));
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -1 : 0;
}

/* Take one completion; false if there is none. */
static bool ring_cqe(struct ring *r, struct io_uring_cqe *out)
{
	unsigned int head = *r->cq_head;

	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
		return false;
	*out = r->cqes[head & *r->cq_mask];
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return true;
}

/* ---- one scenario -------------------------------------------------------- */

enum action { CANCEL_R, CLOSE_R, CLOSE_G, CLOSE_W, CLOSE_E, CLOSE_U, NR_ACTIONS };

static const char *const action_names[NR_ACTIONS] = {
	"cancel R", "close R", "close G", "close W", "close E", "close ring",
};

/* Variants, drawn from the seed for each order. */
struct variant {
	bool g_nocancel;	/* G survives the close of its own fd */
	bool keep_c;		/* C keeps its fd until the end */
	bool reg_g, reg_w;	/* what E watches */
	bool nested;		/* E inside another epoll set, E2 */
	int e_flags;		/* 0, EPOLLET or EPOLLONESHOT */
	bool poll_on_w;		/* io_uring POLL_ADD on W rather than G */
	bool multishot;
	bool fixed;		/* POLL_ADD on G registered as a fixed file */
	bool read_on_g;		/* io_uring READ on G rather than W */
	bool poll_e;		/* io_uring POLL_ADD on E */
};

struct scene {
	int dev;
	int r, c, g, w, e, e2;
	struct ring u;
	bool u_open;
	bool torn;		/* R canceled or closed */
	bool g_closed;
	__u64 g_id;
	struct ctxfd_event rbuf;
	int pending;		/* io_uring requests not yet completed */
	bool got[4];
	char why[256];		/* first failure */
};

#define FAIL(s, ...) do {						\
	if (!(s)->why[0])						\
		snprintf((s)->why, sizeof((s)->why), __VA_ARGS__);	\
	return false;							\
} while (0)

static bool scene_setup(struct scene *s, const struct variant *v)
{
	struct epoll_event ev;
	int n = 0;

	memset(&s->rbuf, 0, sizeof(s->rbuf));
	memset(s->got, 0, sizeof(s->got));
	s->why[0] = '\0';
	s->torn = s->g_closed = false;
	s->e2 = -1;
	s->r = t_new(s->dev, 0);
	s->c = s->r < 0 ? -1 : t_child(s->r, CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
	s->g = s->c < 0 ? -1 : t_child(s->c, v->g_nocancel ?
				       CTXFD_CREATE_NO_CANCEL_ON_CLOSE : 0);
	s->w = s->g < 0 ? -1 : t_watch(s->g, 0);
	s->e = epoll_create1(EPOLL_CLOEXEC);
	if (s->r < 0 || s->c < 0 || s->g < 0 || s->w < 0 || s->e < 0)
		FAIL(s, "setup: %s", strerror(errno));
	s->g_id = t_id(s->g);
	if (!v->keep_c) {
		close(s->c);	/* C lives on, pinned by G, with no fd */
		s->c = -1;
	}
	ev.events = EPOLLIN | (__u32)v->e_flags;
	ev.data.fd = s->g;
	if (v->reg_g && epoll_ctl(s->e, EPOLL_CTL_ADD, s->g, &ev))
		FAIL(s, "EPOLL_CTL_ADD G: %s", strerror(errno));
	ev.data.fd = s->w;
	if (v->reg_w && epoll_ctl(s->e, EPOLL_CTL_ADD, s->w, &ev))
		FAIL(s, "EPOLL_CTL_ADD W: %s", strerror(errno));
	if (v->nested) {
		s->e2 = epoll_create1(EPOLL_CLOEXEC);
		ev.events = EPOLLIN;
		ev.data.fd = s->e;
		if (s->e2 < 0 || epoll_ctl(s->e2, EPOLL_CTL_ADD, s->e, &ev))
			FAIL(s, "nested epoll: %s", strerror(errno));
	}

	if (ring_init(&s->u, 8))
		FAIL(s, "io_uring_setup: %s", strerror(errno));
	s->u_open = true;
	if (v->fixed) {
		int files[1] = { s->g };

		if (syscall(__NR_io_uring_register, s->u.fd,
			    IORING_REGISTER_FILES, files, 1))
			FAIL(s, "IORING_REGISTER_FILES: %s", strerror(errno));
		ring_poll_add(&s->u, 0, true, v->multishot, 1);
	} else {
		ring_poll_add(&s->u, v->poll_on_w ? s->w : s->g, false,
			      v->multishot, 1);
	}
	n++;
	ring_read(&s->u, v->read_on_g ? s->g : s->w, &s->rbuf,
		  sizeof(s->rbuf), 2);
	n++;
	if (v->poll_e) {
		ring_poll_add(&s->u, s->e, false, false, 3);
		n++;
	}
	if (ring_submit(&s->u, (unsigned int)n) != n)
		FAIL(s, "io_uring_enter submit: %s", strerror(errno));
	s->pending = n;
	/* Nothing is done yet: nothing completes, nothing polls ready. */
	if (t_err(s->w) != 0)
		FAIL(s, "G done before any action");
	return true;
}

/* The io_uring requests complete once G is done, with the right results. */
static bool check_ring(struct scene *s, const struct variant *v)
{
	struct io_uring_cqe cqe;
	bool want_e = v->poll_e &&
		      ((v->reg_g && !s->g_closed) || (v->reg_w && s->w >= 0)) &&
		      s->e >= 0;
	unsigned int want = 2 + (want_e ? 1 : 0), have = 0, i;

	for (i = 1; i <= 3; i++)
		have += s->got[i];
	if (have < want && ring_wait(&s->u, want - have, 5000))
		FAIL(s, "io_uring: %u of %u completions after 5 s", have, want);
	while (ring_cqe(&s->u, &cqe)) {
		if (cqe.user_data < 1 || cqe.user_data > 3)
			FAIL(s, "io_uring: stray user_data %llu",
			     (unsigned long long)cqe.user_data);
		if (cqe.user_data == 2) {
			if (cqe.res != (int)sizeof(s->rbuf))
				FAIL(s, "io_uring READ: res %d", cqe.res);
			if (s->rbuf.err != ECANCELED || s->rbuf.id != s->g_id)
				FAIL(s, "io_uring READ: err %d id %llu (G %llu)",
				     s->rbuf.err, (unsigned long long)s->rbuf.id,
				     (unsigned long long)s->g_id);
		} else if (cqe.res < 0 || !(cqe.res & POLLIN)) {
			FAIL(s, "io_uring POLL_ADD %llu: res %d",
			     (unsigned long long)cqe.user_data, cqe.res);
		}
		if (!s->got[cqe.user_data]) {
			s->got[cqe.user_data] = true;
			s->pending--;
		}
	}
	if (!s->got[1] || !s->got[2])
		FAIL(s, "io_uring: POLL_ADD %d, READ %d", s->got[1], s->got[2]);
	return true;
}

/* What must hold right after the teardown. */
static bool check_torn(struct scene *s, const struct variant *v)
{
	struct epoll_event evs[4];
	int probe = s->w >= 0 ? s->w : (!s->g_closed ? s->g : -1), n;

	if (probe >= 0) {
		if (t_err(probe) != ECANCELED)
			FAIL(s, "G not done when the teardown returned");
		if (!t_readable(probe, 0))
			FAIL(s, "G done but not readable");
	}
	if (s->e >= 0 && ((v->reg_g && !s->g_closed) || (v->reg_w && s->w >= 0))) {
		/* The outer set first: reading E consumes ET and ONESHOT. */
		if (v->nested && !t_readable(s->e2, 0))
			FAIL(s, "nested epoll set not readable");
		n = epoll_wait(s->e, evs, 4, 0);
		if (n < 1)
			FAIL(s, "epoll_wait: %d events after the teardown", n);
	}
	if (s->u_open)
		return check_ring(s, v);
	return true;
}

/* Does the ring (while open) hold a reference to G's cancel file? */
static bool ring_holds_g(const struct variant *v)
{
	return v->fixed || !v->poll_on_w || v->read_on_g;
}

static bool act(struct scene *s, const struct variant *v, enum action a)
{
	bool teardown = false;

	switch (a) {
	case CANCEL_R:
		if (s->r >= 0) {
			if (t_cancel(s->r, 0, NULL))
				FAIL(s, "cancel R: %s", strerror(errno));
			teardown = true;
		}
		break;
	case CLOSE_R:
		if (s->r >= 0) {
			close(s->r);
			s->r = -1;
			teardown = true;	/* its last cancel fd */
		}
		break;
	case CLOSE_G:
		close(s->g);
		s->g = -1;
		s->g_closed = true;
		if (v->g_nocancel || s->torn || s->w < 0)
			break;
		if (!ring_holds_g(v)) {
			/* G's own last cancel fd: canceled before close returns. */
			if (t_err(s->w) != ECANCELED)
				FAIL(s, "closing G's only cancel fd did not cancel G");
		} else if (s->u_open) {
			/* The ring's request still holds G's file: no last close. */
			if (t_err(s->w) != 0)
				FAIL(s, "G canceled while the ring holds its file");
		} else if (!t_readable(s->w, 5000)) {
			/* The ring let its requests go from a work item. */
			FAIL(s, "G not canceled 5 s after its file was let go");
		}
		break;
	case CLOSE_W:
		close(s->w);
		s->w = -1;
		break;
	case CLOSE_E:
		close(s->e);
		s->e = -1;
		break;
	case CLOSE_U:
		ring_close(&s->u);
		s->u_open = false;
		break;
	default:
		break;
	}
	if (teardown && !s->torn) {
		s->torn = true;
		return check_torn(s, v);
	}
	/* Not torn down: G active, unless its own last cancel fd went. */
	if (!s->torn && s->w >= 0 && (v->g_nocancel || !s->g_closed) &&
	    t_err(s->w) != 0)
		FAIL(s, "G done after %s, before any teardown", action_names[a]);
	return true;
}

static void scene_cleanup(struct scene *s)
{
	if (s->r >= 0)
		close(s->r);
	if (s->c >= 0)
		close(s->c);
	if (s->g >= 0)
		close(s->g);
	if (s->w >= 0)
		close(s->w);
	if (s->e >= 0)
		close(s->e);
	if (s->e2 >= 0)
		close(s->e2);
	if (s->u_open)
		ring_close(&s->u);
	s->r = s->c = s->g = s->w = s->e = s->e2 = -1;
	s->u_open = false;
}

static void draw(struct variant *v, __u64 *st)
{
	__u64 x = t_rand(st);

	v->g_nocancel = x & 1;
	v->keep_c = x & 2;
	v->reg_g = x & 4;
	v->reg_w = (x & 8) || !v->reg_g;
	v->nested = x & 16;
	v->e_flags = (x >> 5) % 3 == 0 ? 0 : (x >> 5) % 3 == 1 ? EPOLLET : EPOLLONESHOT;
	v->poll_on_w = x & 128;
	v->multishot = x & 256;
	v->fixed = (x & 512) && !v->poll_on_w;
	v->read_on_g = x & 1024;
	v->poll_e = x & 2048;
}

static void describe(char *buf, size_t len, const int *order,
		     const struct variant *v)
{
	int i, n = 0;

	for (i = 0; i < NR_ACTIONS; i++)
		n += snprintf(buf + n, len - (size_t)n, "%s%s", i ? ", " : "",
			      action_names[order[i]]);
	snprintf(buf + n, len - (size_t)n,
		 " [G %s, C %s, E on%s%s%s%s, ring: %s%s poll on %s, read on %s%s]",
		 v->g_nocancel ? "no-cancel-on-close" : "cancel-on-close",
		 v->keep_c ? "open" : "fd-less", v->reg_g ? " G" : "",
		 v->reg_w ? " W" : "",
		 v->e_flags == EPOLLET ? " ET" : v->e_flags ? " ONESHOT" : " LT",
		 v->nested ? " nested" : "", v->multishot ? "multishot" : "one-shot",
		 v->fixed ? " fixed-file" : "", v->poll_on_w ? "W" : "G",
		 v->read_on_g ? "G" : "W", v->poll_e ? ", poll on E" : "");
}

static bool next_permutation(int *a, int n)
{
	int i = n - 2, j, t;

	while (i >= 0 && a[i] >= a[i + 1])
		i--;
	if (i < 0)
		return false;
	for (j = n - 1; a[j] <= a[i]; j--)
		;
	t = a[i], a[i] = a[j], a[j] = t;
	for (i++, j = n - 1; i < j; i++, j--)
		t = a[i], a[i] = a[j], a[j] = t;
	return true;
}

FIXTURE(life) {
	int dev;
	long base;	/* objects charged to us, -1 without debugfs */
	int nfds;
};

FIXTURE_SETUP(life)
{
	struct ring r;

	self->dev = ctxfd_dev_or_skip();
	if (ring_init(&r, 4)) {
		if (errno == ENOSYS || errno == EPERM)
			CTXFD_SKIP("no io_uring: %s", strerror(errno));
		ASSERT_EQ(0, -1) TH_LOG("io_uring_setup: %s", strerror(errno));
	}
	ring_close(&r);
	/* A previous program's ring may still be letting its files go. */
	self->base = t_charges_available() ? t_settled_charge(getuid()) : -1;
	if (self->base < 0)
		TH_LOG("no debugfs ctxfd/users: frees are not checked");
	self->nfds = t_nr_fds();
}

FIXTURE_TEARDOWN(life)
{
	close(self->dev);
}

/* Every node of a scenario freed, every fd closed: or say so. */
static bool all_gone(struct scene *s, long base, int nfds)
{
	long n;

	if (t_nr_fds() != nfds)
		FAIL(s, "%d fds open, %d before", t_nr_fds(), nfds);
	if (base >= 0) {
		/* The ring's teardown puts its files from a work item. */
		n = t_wait_charged(getuid(), base, 10000);
		if (n != base)
			FAIL(s, "%ld objects still charged, %ld before", n, base);
	}
	return true;
}

TEST_F_TIMEOUT(life, every_close_order_around_an_ancestor_teardown, 1800)
{
	__u64 st = t_stress_seed();
	long passes = t_scaled(1, 1), pass, runs = 0;
	int order[NR_ACTIONS];
	__u64 start = t_now_ns(CLOCK_MONOTONIC);
	struct scene s = { .dev = self->dev };
	char desc[512];

	for (pass = 0; pass < passes; pass++) {
		int i;

		for (i = 0; i < NR_ACTIONS; i++)
			order[i] = i;
		do {
			struct variant v;
			bool ok;

			draw(&v, &st);
			ok = scene_setup(&s, &v);
			for (i = 0; ok && i < NR_ACTIONS; i++)
				ok = act(&s, &v, (enum action)order[i]);
			scene_cleanup(&s);
			if (ok)
				ok = all_gone(&s, self->base, self->nfds);
			runs++;
			if (!ok) {
				describe(desc, sizeof(desc), order, &v);
				ASSERT_TRUE(ok) TH_LOG("order %s: %s", desc, s.why);
			}
		} while (next_permutation(order, NR_ACTIONS));
	}
	TH_LOG("%ld scenarios (%ld pass(es) over the 720 orders) in %.1f s", runs,
	       passes, t_ms_since(start) / 1000.0);
}

/* ---- deadline teardown racing closes, under blocked waiters --------------- */

struct blocked {
	int fd;
	volatile pid_t tid;
	bool epoll;
	int ret;
	int err;
	__u64 woken_ns;
};

static void *blocked_waiter(void *arg)
{
	struct blocked *b = arg;
	struct epoll_event ev;
	struct ctxfd_event e;

	b->tid = t_gettid();
	if (b->epoll) {
		do {
			b->ret = epoll_wait(b->fd, &ev, 1, 20000);
		} while (b->ret < 0 && errno == EINTR);
	} else {
		b->ret = (int)read(b->fd, &e, sizeof(e));
		/* The deadline, or a close of R or G, whichever came first. */
		if (b->ret == (int)sizeof(e) && e.err != ETIMEDOUT &&
		    e.err != ECANCELED)
			b->ret = -2;
	}
	b->err = errno;
	b->woken_ns = t_now_ns(CLOCK_MONOTONIC);
	return NULL;
}

static void __attribute__((constructor)) seed_early(void)
{
	t_stress_seed_init();	/* one seed for every test of the program */
}

static void spin_us(__u64 *st)
{
	__u64 end = t_now_ns(CLOCK_MONOTONIC) + t_rand(st) % 500000;

	while (t_now_ns(CLOCK_MONOTONIC) < end)
		;
}

TEST_F_TIMEOUT(life, deadline_teardown_races_closes_under_blocked_waiters, 1800)
{
	__u64 st = t_sub_seed(t_stress_seed(), 2, 0);
	long rounds = t_scaled(400, 20), i;
	__u64 start = t_now_ns(CLOCK_MONOTONIC);
	struct ctxfd_event rbuf;

	for (i = 0; i < rounds; i++) {
		struct ctxfd_create tmo = {
			.flags = CTXFD_CREATE_TIMEOUT | CTXFD_CREATE_NO_CANCEL_ON_CLOSE,
			.deadline_ns = (__s64)(t_rand(&st) % 2000001),
			.clockid = CLOCK_MONOTONIC,
		};
		struct blocked be = { .epoll = true }, br = { .epoll = false };
		pthread_t te, tr;
		struct epoll_event ev = { .events = EPOLLIN };
		struct io_uring_cqe cqe;
		struct ring u;
		int r, c, g, w, w2, w3, e, fds[5], k, got = 0;

		r = t_new(self->dev, 0);
		ASSERT_LE(0, r);
		c = ioctl(r, CTXFD_IOC_CREATE, &tmo);
		ASSERT_LE(0, c);
		g = t_child(c, 0);
		ASSERT_LE(0, g);
		w = t_watch(g, 0);
		w2 = t_watch(g, 0);
		w3 = t_watch(g, 0);
		e = epoll_create1(EPOLL_CLOEXEC);
		ASSERT_LE(0, w3);
		ASSERT_LE(0, w);
		ASSERT_LE(0, w2);
		ASSERT_LE(0, e);
		ev.data.fd = g;
		ASSERT_EQ(0, epoll_ctl(e, EPOLL_CTL_ADD, g, &ev));
		ev.data.fd = w;
		ASSERT_EQ(0, epoll_ctl(e, EPOLL_CTL_ADD, w, &ev));
		/*
		 * Epoll forgets the event of a file released before the
		 * waiter collects it: w3 stays open until the waiter is back,
		 * g and w come and go.
		 */
		ev.data.fd = w3;
		ASSERT_EQ(0, epoll_ctl(e, EPOLL_CTL_ADD, w3, &ev));
		ASSERT_EQ(0, ring_init(&u, 4));
		ring_poll_add(&u, g, false, t_rand(&st) & 1, 1);
		ring_read(&u, w, &rbuf, sizeof(rbuf), 2);
		ASSERT_EQ(2, ring_submit(&u, 2));
		be.fd = e;
		br.fd = w2;
		ASSERT_EQ(0, pthread_create(&te, NULL, blocked_waiter, &be));
		ASSERT_EQ(0, pthread_create(&tr, NULL, blocked_waiter, &br));
		/* Both asleep before anything closes (or the timer may win). */
		while (!be.tid || !br.tid)
			sched_yield();
		t_wait_blocked(be.tid, 2000);
		t_wait_blocked(br.tid, 2000);

		/* Close in random order while the timer fires somewhere. */
		fds[0] = r, fds[1] = c, fds[2] = g, fds[3] = w, fds[4] = e;
		t_shuffle(fds, 5, t_rand(&st));
		for (k = 0; k < 5; k++) {
			spin_us(&st);
			close(fds[k]);
		}
		/*
		 * R's close canceled everything, if the timer had not: both
		 * waiters are woken (epoll_wait keeps its file; read keeps w2).
		 */
		ASSERT_EQ(0, pthread_join(te, NULL));
		ASSERT_EQ(0, pthread_join(tr, NULL));
		EXPECT_EQ(1, be.ret) TH_LOG("round %ld: epoll_wait %d (%s)", i,
					    be.ret, strerror(be.err));
		EXPECT_EQ((int)sizeof(rbuf), br.ret)
			TH_LOG("round %ld: read %d (%s)", i, br.ret, strerror(br.err));
		close(w2);
		close(w3);
		/* The ring still completes both requests on files we closed. */
		ASSERT_EQ(0, ring_wait(&u, 2, 5000)) TH_LOG("round %ld: io_uring", i);
		while (ring_cqe(&u, &cqe))
			got++;
		EXPECT_LE(2, got);
		ring_close(&u);
		if (i % 16 == 0 || i == rounds - 1) {
			struct scene s = { .why = "" };

			EXPECT_TRUE(all_gone(&s, self->base, self->nfds))
				TH_LOG("round %ld: %s", i, s.why);
		}
		if (_metadata->passed == 0)
			break;
	}
	TH_LOG("%ld rounds in %.1f s", rounds, t_ms_since(start) / 1000.0);
}

/* ---- an attachment's lifetime: fire and exit paths at once ----------------- */

/*
 * ATTACH to a context that is already done: the fire work is queued at
 * once, while the attach ioctl still holds the attachment and then checks
 * whether the process has exited. The process is paused (the teardown
 * kills it: SIGKILL or SIGTERM), exiting by itself right then, or a
 * zombie (refused: ESRCH). The fire path, the exit path and the ioctl
 * must each leave the attachment alone once another one owns it (KASAN
 * on the debug kernel: a preemptible kernel runs the fire work on the
 * ioctl's CPU the moment it is queued), and every charge comes back.
 */
TEST_F_TIMEOUT(life, attach_of_dying_processes_to_a_done_context, 600)
{
	static const char *const kinds[4] = {
		"paused, SIGKILL", "paused, SIGTERM", "exiting", "zombie",
	};
	__u64 st = t_sub_seed(t_stress_seed(), 3, 0);
	long rounds = t_scaled(200, 20), i, refused[4] = { 0 };
	int fd = t_new(self->dev, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, t_cancel(fd, 0, NULL));
	for (i = 0; i < rounds; i++) {
		int kind = (int)(t_rand(&st) % 4), pidfd, ret, status;
		int sig = kind == 0 ? SIGKILL : SIGTERM;
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			if (kind == 2)
				spin_us(&st);
			if (kind <= 1)
				for (;;)
					pause();
			_exit(0);
		}
		pidfd = t_pidfd_open(pid);
		ASSERT_LE(0, pidfd);
		if (kind == 3)
			ASSERT_TRUE(t_pidfd_exited(pidfd, 10000));
		ret = t_attach_pidfd(fd, pid, pidfd, sig, 0,
				     (t_rand(&st) & 1) ? CTXFD_ATTACH_DESCENDANTS : 0);
		if (ret)
			refused[kind]++;
		if (kind <= 1) {
			EXPECT_EQ(0, ret) TH_LOG("round %ld (%s): %s", i, kinds[kind],
						 strerror(errno));
		} else if (kind == 3) {
			EXPECT_TRUE(ret == -1 && errno == ESRCH)
				TH_LOG("round %ld: a zombie: %d (%s)", i, ret,
				       strerror(errno));
		} else {
			EXPECT_TRUE(ret == 0 || errno == ESRCH)
				TH_LOG("round %ld (%s): %s", i, kinds[kind],
				       strerror(errno));
		}
		if (kind <= 1 && !ret)
			EXPECT_TRUE(t_pidfd_exited(pidfd, 10000))
				TH_LOG("round %ld (%s): never signalled", i, kinds[kind]);
		if (kind <= 1 && ret)
			kill(pid, SIGKILL);
		status = t_wait_status(pid);
		if (kind <= 1 && !ret)
			EXPECT_EQ(128 + sig, status) TH_LOG("round %ld", i);
		close(pidfd);
		if (_metadata->passed == 0)
			break;
	}
	close(fd);
	if (self->base >= 0)
		EXPECT_EQ(self->base, t_wait_charged(getuid(), self->base, 20000));
	TH_LOG("%ld attachments to a done context; refused: %ld paused, %ld exiting, %ld zombies",
	       rounds, refused[0] + refused[1], refused[2], refused[3]);
}

TEST_HARNESS_MAIN
