// SPDX-License-Identifier: GPL-2.0
/*
 * Races around process attachments (CTXFD_IOC_ATTACH), each run for many
 * rounds:
 *
 *  - attaching to a context that is already done starts the teardown at
 *    once, from a work item: on a preemptible kernel that work can run,
 *    signal, and free the attachment before the ATTACH ioctl has
 *    returned. The ioctl must not touch the attachment (or its struct
 *    pid) once the work owns it. The rounds pin the test to one CPU, so
 *    that the high-priority worker queued on that CPU preempts the ioctl
 *    right after queue_work() on a preempt=full kernel, which is when
 *    the bug showed (KASAN: use-after-free in the ioctl; a GPF in
 *    __list_del_entry_valid with slab poisoning). The worker gets the
 *    CPU when an interrupt's return preempts the ioctl, so an interval
 *    timer firing every few microseconds on that CPU (SIGALRM, handled
 *    and restarted) sweeps the window;
 *  - attaching a process that exits at the same moment;
 *  - attaching on one CPU while another cancels the context.
 *
 * Each round checks what a user sees (the process is signalled exactly
 * when it should be, nothing stays attached); the memory-safety part is
 * checked by the kernel log, which `make check` fails on, and by KASAN
 * on the debug kernel. CTXFD_RACE_ROUNDS scales the counts (a
 * percentage), as in race_test.c.
 */
#include "kselftest_harness.h"
#include "ctxfd_test.h"

#include <pthread.h>
#include <sched.h>
#include <sys/time.h>

#define ROUNDS_DONE	2000
#define ROUNDS_EXIT	1000
#define ROUNDS_CANCEL	1000

/*
 * A child that sleeps until signalled, on the other CPU: it dies there
 * while the teardown work and the ioctl share the first.
 */
static pid_t sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		t_pin_cpu(1);
		for (;;)
			pause();
	}
	return pid;
}

FIXTURE(ar) {
	int dev;
	int root;
};

FIXTURE_SETUP(ar)
{
	self->dev = ctxfd_dev_or_skip();
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);
	ASSERT_EQ(0, t_subreaper());
}

FIXTURE_TEARDOWN(ar)
{
	t_kill_descendants(20000);
	close(self->root);
	close(self->dev);
}

static void on_alarm(int sig)
{
}

/*
 * Interrupts as often as the kernel will deliver them, on the CPU the
 * caller is pinned to: ITIMER_REAL rearms where its signal is taken.
 */
static int interrupt_storm(bool on)
{
	struct itimerval it = {
		.it_interval = { .tv_usec = on ? 20 : 0 },
		.it_value = { .tv_usec = on ? 20 : 0 },
	};
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };

	if (sigaction(SIGALRM, &sa, NULL))
		return -1;
	return setitimer(ITIMER_REAL, &it, NULL);
}

/*
 * The teardown that ATTACH starts on a done context runs while the ioctl
 * is still in the kernel. Every attached process is signalled, each
 * round's attachment is gone when the round ends, and the kernel log
 * stays clean.
 */
TEST_F_TIMEOUT(ar, attach_to_done_context_while_its_teardown_runs, 600)
{
	int n = t_race_rounds(ROUNDS_DONE), i, failed = 0;

	ASSERT_LE(0, t_pin_cpu(0));
	ASSERT_EQ(0, t_cancel(self->root, 0, NULL));
	ASSERT_EQ(0, interrupt_storm(true));
	for (i = 0; i < n && !failed; i++) {
		pid_t pid = sleeper();
		int pidfd;

		ASSERT_LT(0, pid);
		pidfd = t_pidfd_open(pid);
		ASSERT_LE(0, pidfd);
		/* With and without a grace period: two paths that free. */
		if (t_attach_pidfd(self->root, pid, pidfd, SIGTERM,
				   (i & 1) ? 1000000000ull : 0, 0))
			failed = errno;
		close(pidfd);
		if (!failed && t_wait_status(pid) != 128 + SIGTERM)
			failed = -1;
	}
	interrupt_storm(false);
	EXPECT_EQ(0, failed) TH_LOG("round %d of %d", i, n);
	EXPECT_TRUE(t_wait_nr_attached(self->root, 0, 10000));
}

/*
 * The process exits (SIGKILL from another process) while it is being
 * attached, to an active context and to a done one: ATTACH either
 * succeeds or says ESRCH, and no attachment outlives the process.
 */
TEST_F_TIMEOUT(ar, attach_racing_the_process_exit_leaves_nothing_attached, 600)
{
	int n = t_race_rounds(ROUNDS_EXIT), i, bad = 0;
	int active = t_child(self->root, 0);
	int done = t_child(self->root, 0);

	ASSERT_LE(0, active);
	ASSERT_LE(0, done);
	ASSERT_EQ(0, t_cancel(done, 0, NULL));
	for (i = 0; i < n; i++) {
		int ctx = (i & 1) ? done : active;
		pid_t pid = sleeper();
		int pidfd, ret;

		ASSERT_LT(0, pid);
		pidfd = t_pidfd_open(pid);
		ASSERT_LE(0, pidfd);
		/* The kill lands anywhere between, before or after. */
		if ((i % 3) == 0)
			kill(pid, SIGKILL);
		ret = t_attach_pidfd(ctx, pid, pidfd, SIGTERM, 0, 0);
		if (ret && errno != ESRCH)
			bad++;
		kill(pid, SIGKILL);
		close(pidfd);
		t_wait_status(pid);
	}
	EXPECT_EQ(0, bad);
	EXPECT_TRUE(t_wait_nr_attached(active, 0, 10000));
	EXPECT_EQ(0, t_nr_attached(done));
	close(active);
	close(done);
}

struct canceler {
	int fd;
	volatile int go;
};

static void *cancel_thread(void *arg)
{
	struct canceler *c = arg;

	t_pin_cpu(1);
	while (!__atomic_load_n(&c->go, __ATOMIC_ACQUIRE))
		;
	t_cancel(c->fd, 0, NULL);
	return NULL;
}

/*
 * One CPU attaches while the other cancels: whichever comes first, the
 * process is signalled exactly once and nothing stays attached.
 */
TEST_F_TIMEOUT(ar, attach_racing_cancel_signals_exactly_once, 600)
{
	int n = t_race_rounds(ROUNDS_CANCEL), i, bad = 0;

	ASSERT_LE(0, t_pin_cpu(0));
	for (i = 0; i < n; i++) {
		struct canceler c = { .fd = t_child(self->root, 0) };
		pthread_t th;
		pid_t pid = sleeper();
		int pidfd;

		ASSERT_LE(0, c.fd);
		ASSERT_LT(0, pid);
		pidfd = t_pidfd_open(pid);
		ASSERT_LE(0, pidfd);
		ASSERT_EQ(0, pthread_create(&th, NULL, cancel_thread, &c));
		__atomic_store_n(&c.go, 1, __ATOMIC_RELEASE);
		if (t_attach_pidfd(c.fd, pid, pidfd, SIGTERM, 0, 0))
			bad++;
		pthread_join(th, NULL);
		if (t_wait_status(pid) != 128 + SIGTERM)
			bad++;
		if (!t_wait_nr_attached(c.fd, 0, 10000))
			bad++;
		close(pidfd);
		close(c.fd);
	}
	EXPECT_EQ(0, bad);
}

/*
 * A 1 ms deadline fires while the process is being attached: the timer
 * finishes a node with no attachment at once, in its interrupt, so the
 * attach and the timer decide under the node's wait queue lock. Either
 * way the process gets its signal, exactly once, and nothing stays
 * attached.
 */
TEST_F_TIMEOUT(ar, attach_racing_a_deadline_signals_exactly_once, 600)
{
	int n = t_race_rounds(ROUNDS_CANCEL), i, bad = 0, refused = 0;

	ASSERT_LE(0, t_pin_cpu(0));
	for (i = 0; i < n; i++) {
		pid_t pid = sleeper();
		int pidfd, c;
		__u64 until;

		ASSERT_LT(0, pid);
		pidfd = t_pidfd_open(pid);
		ASSERT_LE(0, pidfd);
		c = t_child_timeout(self->root, 1000000);
		ASSERT_LE(0, c);
		until = t_now_ns(CLOCK_MONOTONIC) + (i % 20) * 100000;
		while (t_now_ns(CLOCK_MONOTONIC) < until)
			;
		if (t_attach_pidfd(c, pid, pidfd, SIGTERM, 0, 0))
			refused++;
		if (t_wait_status(pid) != 128 + SIGTERM)
			bad++;
		if (!t_wait_nr_attached(c, 0, 10000))
			bad++;
		close(pidfd);
		close(c);
	}
	EXPECT_EQ(0, refused);
	EXPECT_EQ(0, bad);
}

TEST_HARNESS_MAIN
