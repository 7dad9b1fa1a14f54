// SPDX-License-Identifier: GPL-2.0
/*
 * read(): blocks until the context is done (EAGAIN with O_NONBLOCK), then
 * returns one fixed struct ctxfd_event, the same one every time. There is
 * no write().
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#define EV_SIZE ((ssize_t)sizeof(struct ctxfd_event))

FIXTURE(rd) {
	int dev;
	int root;
};

FIXTURE_SETUP(rd)
{
	self->dev = ctxfd_dev_or_skip();
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);
}

FIXTURE_TEARDOWN(rd)
{
	close(self->root);
	close(self->dev);
}

/* read(2) without the compiler's and libc's checks on the buffer. */
static long raw_read(int fd, void *buf, size_t count)
{
	return syscall(SYS_read, fd, buf, count);
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* A thread that cancels @fd once thread @tid sleeps. */
struct canceler {
	int fd;
	pid_t tid;
	int code;
	bool blocked;		/* @tid was seen asleep */
	int ret;		/* t_cancel() result */
};

static void *cancel_when_blocked(void *arg)
{
	struct canceler *c = arg;

	c->blocked = t_wait_blocked(c->tid, 10000);
	c->ret = t_cancel(c->fd, c->code, NULL);
	return NULL;
}

TEST_F(rd, blocking_read_returns_after_cancel_from_other_thread)
{
	struct canceler c = { .fd = self->root, .tid = t_gettid(), .code = 77 };
	struct ctxfd_event ev;
	pthread_t th;
	ssize_t n;

	memset(&ev, 0xa5, sizeof(ev));
	ASSERT_EQ(0, pthread_create(&th, NULL, cancel_when_blocked, &c));
	n = read(self->root, &ev, sizeof(ev));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_TRUE(c.blocked);
	EXPECT_EQ(0, c.ret);
	ASSERT_EQ(EV_SIZE, n);
	EXPECT_EQ(t_id(self->root), ev.id);
	EXPECT_EQ(ECANCELED, ev.err);
	EXPECT_EQ(77, ev.cause_code);
}

TEST_F(rd, blocking_read_of_descendant_returns_after_ancestor_cancel)
{
	int child = t_child(self->root, 0);
	int grand = t_child(child, 0);
	struct canceler c = { .fd = self->root, .tid = t_gettid(), .code = 5 };
	struct ctxfd_event ev;
	pthread_t th;

	ASSERT_LE(0, grand);
	ASSERT_EQ(0, pthread_create(&th, NULL, cancel_when_blocked, &c));
	ASSERT_EQ(EV_SIZE, read(grand, &ev, sizeof(ev)));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_TRUE(c.blocked);
	EXPECT_EQ(t_id(grand), ev.id);
	EXPECT_EQ(ECANCELED, ev.err);
	EXPECT_EQ(5, ev.cause_code);
	close(grand);
	close(child);
}

TEST_F(rd, nonblocking_read_gives_eagain_while_active)
{
	struct ctxfd_event ev;

	ASSERT_EQ(0, set_nonblock(self->root));
	EXPECT_EQ(-1, read(self->root, &ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
	/* Reading did nothing to the context. */
	EXPECT_EQ(0, t_err(self->root));

	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_EQ(EV_SIZE, read(self->root, &ev, sizeof(ev)));
}

/*
 * One call can ask not to wait (RWF_NOWAIT) without making the shared
 * open file non-blocking for everyone else who holds it.
 */
TEST_F(rd, preadv2_nowait_gives_eagain_without_changing_file_flags)
{
	struct ctxfd_event ev;
	struct iovec iov = { .iov_base = &ev, .iov_len = sizeof(ev) };
	int fl = fcntl(self->root, F_GETFL);

	ASSERT_LE(0, fl);
	ASSERT_EQ(0, fl & O_NONBLOCK);
	EXPECT_EQ(-1, preadv2(self->root, &iov, 1, -1, RWF_NOWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(fl, fcntl(self->root, F_GETFL));

	ASSERT_EQ(0, t_cancel(self->root, 6, NULL));
	ASSERT_EQ(EV_SIZE, preadv2(self->root, &iov, 1, -1, RWF_NOWAIT));
	EXPECT_EQ(ECANCELED, ev.err);
	EXPECT_EQ(6, ev.cause_code);
}

TEST_F(rd, nonblocking_read_on_watch_fd_gives_eagain_while_active)
{
	int w = t_watch(self->root, 0);
	struct ctxfd_event ev;

	ASSERT_LE(0, w);
	ASSERT_EQ(0, set_nonblock(w));
	EXPECT_EQ(-1, read(w, &ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	ASSERT_EQ(EV_SIZE, read(w, &ev, sizeof(ev)));
	EXPECT_EQ(ECANCELED, ev.err);
	close(w);
}

TEST_F(rd, record_has_id_err_and_plain_cause)
{
	struct ctxfd_event ev;

	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	memset(&ev, 0xa5, sizeof(ev));
	ASSERT_EQ(EV_SIZE, read(self->root, &ev, sizeof(ev)));
	EXPECT_EQ(t_id(self->root), ev.id);
	EXPECT_EQ(ECANCELED, ev.err);
	/* No explicit cause: the cause is the err. */
	EXPECT_EQ(ECANCELED, ev.cause_code);
}

TEST_F(rd, record_has_explicit_cause_code)
{
	struct ctxfd_event ev;

	ASSERT_EQ(0, t_cancel(self->root, -3, "negative codes are codes too"));
	ASSERT_EQ(EV_SIZE, read(self->root, &ev, sizeof(ev)));
	EXPECT_EQ(ECANCELED, ev.err);
	EXPECT_EQ(-3, ev.cause_code);
}

TEST_F(rd, record_of_descendant_carries_its_own_id_and_ancestor_cause)
{
	int child = t_child(self->root, 0);
	int w = t_watch(child, 0);
	struct ctxfd_event ev;

	ASSERT_LE(0, w);
	ASSERT_EQ(0, t_cancel(self->root, 31, NULL));
	ASSERT_EQ(EV_SIZE, read(w, &ev, sizeof(ev)));
	EXPECT_EQ(t_id(child), ev.id);
	EXPECT_NE(t_id(self->root), ev.id);
	EXPECT_EQ(ECANCELED, ev.err);
	EXPECT_EQ(31, ev.cause_code);
	close(w);
	close(child);
}

TEST_F(rd, blocking_read_returns_when_deadline_expires)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_TIMEOUT,
		.deadline_ns = 100 * 1000 * 1000,
		.clockid = CLOCK_MONOTONIC,
		.deadline_cause = { .code = 408 },
	};
	struct ctxfd_event ev;
	int child = ioctl(self->root, CTXFD_IOC_CREATE, &args);

	ASSERT_LE(0, child);
	ASSERT_EQ(EV_SIZE, read(child, &ev, sizeof(ev)));
	EXPECT_EQ(t_id(child), ev.id);
	EXPECT_EQ(ETIMEDOUT, ev.err);
	EXPECT_EQ(408, ev.cause_code);
	close(child);
}

TEST_F(rd, read_repeats_the_same_record)
{
	struct ctxfd_event first, again;
	int i;

	ASSERT_EQ(0, t_cancel(self->root, 12, "once"));
	ASSERT_EQ(EV_SIZE, read(self->root, &first, sizeof(first)));
	/* Later cancels change nothing: done is final. */
	ASSERT_EQ(0, t_cancel(self->root, 13, "twice"));
	for (i = 0; i < 3; i++) {
		memset(&again, 0, sizeof(again));
		ASSERT_EQ(EV_SIZE, read(self->root, &again, sizeof(again)));
		EXPECT_EQ(0, memcmp(&first, &again, sizeof(first)));
	}
	EXPECT_EQ(12, again.cause_code);
	/* Reading consumes nothing: the fd stays readable. */
	EXPECT_TRUE(t_readable(self->root, 0));
}

TEST_F(rd, buffer_smaller_than_record_gives_einval)
{
	char buf[sizeof(struct ctxfd_event)];

	ASSERT_EQ(0, set_nonblock(self->root));
	/* While active: EINVAL, not EAGAIN, and without blocking. */
	EXPECT_EQ(-1, read(self->root, buf, sizeof(buf) - 1));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	memset(buf, 0x5a, sizeof(buf));
	EXPECT_EQ(-1, read(self->root, buf, sizeof(buf) - 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(self->root, buf, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(self->root, buf, 0));
	EXPECT_EQ(EINVAL, errno);
	/* Nothing was written. */
	EXPECT_EQ(0x5a, (unsigned char)buf[0]);
	EXPECT_EQ(0x5a, (unsigned char)buf[sizeof(buf) - 2]);
}

TEST_F(rd, short_buffer_on_blocking_fd_fails_without_blocking)
{
	char buf[8];

	/* An active context and a blocking fd: must not sleep. */
	EXPECT_EQ(-1, read(self->root, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(rd, larger_buffer_returns_exactly_one_record)
{
	unsigned char buf[4 * sizeof(struct ctxfd_event) + 3];
	struct ctxfd_event ev;
	size_t i;

	ASSERT_EQ(0, t_cancel(self->root, 9, NULL));
	memset(buf, 0xee, sizeof(buf));
	ASSERT_EQ(EV_SIZE, read(self->root, buf, sizeof(buf)));
	memcpy(&ev, buf, sizeof(ev));
	EXPECT_EQ(t_id(self->root), ev.id);
	EXPECT_EQ(ECANCELED, ev.err);
	EXPECT_EQ(9, ev.cause_code);
	for (i = sizeof(ev); i < sizeof(buf); i++)
		ASSERT_EQ(0xee, buf[i]) TH_LOG("byte %zu written", i);
}

TEST_F(rd, born_done_child_reads_at_once)
{
	struct ctxfd_event ev;
	int child;

	ASSERT_EQ(0, t_cancel(self->root, 21, "before"));
	child = t_child(self->root, 0);
	ASSERT_LE(0, child);
	/* Readable without waiting, on a nonblocking and a blocking fd. */
	ASSERT_EQ(0, set_nonblock(child));
	ASSERT_EQ(EV_SIZE, read(child, &ev, sizeof(ev)));
	EXPECT_EQ(t_id(child), ev.id);
	EXPECT_EQ(ECANCELED, ev.err);
	EXPECT_EQ(21, ev.cause_code);
	close(child);

	child = t_child(self->root, 0);
	ASSERT_LE(0, child);
	ASSERT_EQ(EV_SIZE, read(child, &ev, sizeof(ev)));
	EXPECT_EQ(21, ev.cause_code);
	close(child);
}

TEST_F(rd, child_with_passed_deadline_reads_etimedout_at_once)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_DEADLINE,
		.deadline_ns = 1,	/* long ago on CLOCK_MONOTONIC */
		.clockid = CLOCK_MONOTONIC,
		.deadline_cause = { .code = 504 },
	};
	struct ctxfd_event ev;
	int child = ioctl(self->root, CTXFD_IOC_CREATE, &args);

	ASSERT_LE(0, child);
	ASSERT_EQ(0, set_nonblock(child));
	ASSERT_EQ(EV_SIZE, read(child, &ev, sizeof(ev)));
	EXPECT_EQ(ETIMEDOUT, ev.err);
	EXPECT_EQ(504, ev.cause_code);
	close(child);
}

static volatile sig_atomic_t nr_signals;

static void count_signal(int sig)
{
	nr_signals++;
}

/* Sends SIGUSR1 to @tid once it sleeps; with @then_cancel, cancels @fd once
 * the handler ran and @tid sleeps again. */
struct signaler {
	pid_t tid;
	int fd;
	bool then_cancel;
	bool blocked;
	bool reblocked;
};

static void *signal_when_blocked(void *arg)
{
	struct signaler *s = arg;
	__u64 end;

	s->blocked = t_wait_blocked(s->tid, 10000);
	syscall(SYS_tgkill, getpid(), s->tid, SIGUSR1);
	if (!s->then_cancel)
		return NULL;
	end = t_now_ns(CLOCK_MONOTONIC) + 10000000000ull;
	while (!nr_signals && t_now_ns(CLOCK_MONOTONIC) < end)
		sched_yield();
	/* After the handler the reader is running until it sleeps again. */
	s->reblocked = nr_signals && t_wait_blocked(s->tid, 10000);
	t_cancel(s->fd, 66, NULL);
	return NULL;
}

TEST_F(rd, signal_interrupts_blocking_read_with_eintr)
{
	struct sigaction sa = { .sa_handler = count_signal };
	struct signaler s = { .tid = t_gettid(), .fd = self->root };
	struct ctxfd_event ev;
	pthread_t th;
	ssize_t n;
	int err;

	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));	/* no SA_RESTART */
	nr_signals = 0;
	ASSERT_EQ(0, pthread_create(&th, NULL, signal_when_blocked, &s));
	n = read(self->root, &ev, sizeof(ev));
	err = errno;
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_TRUE(s.blocked);
	EXPECT_EQ(1, nr_signals);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EINTR, err);
	/* The interrupted read changed nothing. */
	EXPECT_EQ(0, t_err(self->root));
}

TEST_F(rd, blocking_read_restarts_after_signal_with_sa_restart)
{
	struct sigaction sa = { .sa_handler = count_signal,
				.sa_flags = SA_RESTART };
	struct signaler s = { .tid = t_gettid(), .fd = self->root,
			      .then_cancel = true };
	struct ctxfd_event ev;
	pthread_t th;
	ssize_t n;
	int err;

	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	nr_signals = 0;
	ASSERT_EQ(0, pthread_create(&th, NULL, signal_when_blocked, &s));
	n = read(self->root, &ev, sizeof(ev));
	err = errno;
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_TRUE(s.blocked);
	EXPECT_TRUE(s.reblocked);
	EXPECT_EQ(1, nr_signals);
	/* The read went on after the handler and returned the record. */
	ASSERT_EQ(EV_SIZE, n) TH_LOG("read: %s", strerror(err));
	EXPECT_EQ(ECANCELED, ev.err);
	EXPECT_EQ(66, ev.cause_code);
}

TEST_F(rd, bad_buffer_pointer_gives_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	void *none = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	void *ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);

	ASSERT_NE(MAP_FAILED, none);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	EXPECT_EQ(-1, raw_read(self->root, none, sizeof(struct ctxfd_event)));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, raw_read(self->root, ro, sizeof(struct ctxfd_event)));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, raw_read(self->root, NULL, sizeof(struct ctxfd_event)));
	EXPECT_EQ(EFAULT, errno);
	/* A kernel address. */
	EXPECT_EQ(-1, raw_read(self->root, (void *)-4096L,
			   sizeof(struct ctxfd_event)));
	EXPECT_EQ(EFAULT, errno);
	/* The fd works afterwards. */
	EXPECT_EQ(ECANCELED, t_err(self->root));
	munmap(none, page);
	munmap(ro, page);
}

TEST_F(rd, write_on_cancel_fd_fails_with_einval_and_changes_nothing)
{
	struct ctxfd_event ev = { .err = ECANCELED };

	/* No write method: an O_RDWR file that cannot be written. */
	EXPECT_EQ(-1, write(self->root, &ev, sizeof(ev)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->root, "x", 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, t_err(self->root));
	EXPECT_FALSE(t_readable(self->root, 0));
}

TEST_F(rd, write_on_watch_fd_fails_with_ebadf)
{
	int w = t_watch(self->root, 0);

	ASSERT_LE(0, w);
	/* Opened O_RDONLY: not open for writing. */
	EXPECT_EQ(-1, write(w, "x", 1));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(0, t_err(self->root));
	close(w);
}

TEST_HARNESS_MAIN
