// SPDX-License-Identifier: GPL-2.0
/*
 * ctxrun returns only when everything started under its context is gone
 * (drained, ctx_wait_drained(3)): a context COMMAND made and handed to a
 * process outside the tree keeps it waiting until that process lets go,
 * for at most as long as -k and --grace allow. And ctxrun -v says what
 * the teardown did.
 */
#define _GNU_SOURCE
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"
#include "ctxrun_test.h"

FIXTURE(drain) {
	int rep[2];
	int err[2];	/* ctxrun's stderr */
	int sock[2];	/* the helper hands its context out on this */
	struct how how;
	char *ctxrun;
	char *self;
};

FIXTURE_SETUP(drain)
{
	ctxrun_or_skip();
	ASSERT_EQ(0, pipe2(self->rep, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(self->err, O_CLOEXEC));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				self->sock));
	ASSERT_EQ(0, t_subreaper());
	self->how = (struct how){
		.rep = self->rep[1], .ctx = -1, .err = self->err[1], .out = -1,
		.shm = self->sock[1],
	};
	self->ctxrun = (char *)ctxrun_path();
	self->self = (char *)self_exe();
}

FIXTURE_TEARDOWN(drain)
{
	t_kill_descendants(20000);
	close(self->rep[0]);
	close(self->rep[1]);
	close(self->err[0]);
	close(self->err[1]);
	close(self->sock[0]);
	close(self->sock[1]);
}

#define CTXRUN(self, ...) ({						\
	char *__argv[] = { (self)->ctxrun, __VA_ARGS__, NULL };	\
	pid_t __p = start_prog(&(self)->how, __argv);			\
	ASSERT_LT(0, __p);						\
	__p;								\
})
#define HELPER(self, ...) "--", (self)->self, "--helper", __VA_ARGS__

/* What ctxrun wrote on stderr, once it has exited. */
static void read_err(int fd[2], char *buf, size_t size)
{
	ssize_t n;

	close(fd[1]);
	fd[1] = -1;
	n = read(fd[0], buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
}

TEST_F(drain, ctxrun_waits_until_a_context_held_outside_is_released)
{
	pid_t pid = CTXRUN(self, "-k", "30", HELPER(self, "send-child"));
	struct ctxfd_info info;
	struct rec r;
	int held;

	ASSERT_EQ(1, get_recs(self->rep[0], &r, 1, 20000));
	held = t_recv_fd(self->sock[0]);
	ASSERT_LE(0, held);
	/* COMMAND is gone, its context canceled, but we hold a child. */
	ASSERT_TRUE(t_readable(held, 20000));
	EXPECT_EQ(-2, wait_exit(pid, 300));
	ASSERT_EQ(0, t_info(held, &info));
	EXPECT_EQ(CTXFD_REASON_CANCEL, info.reason);
	EXPECT_EQ(CTXFD_VIA_ANCESTOR, info.origin_via);
	close(held);
	EXPECT_EQ(0, wait_exit(pid, 20000));
}

TEST_F(drain, ctxrun_gives_up_waiting_after_the_kill_delay)
{
	pid_t pid = CTXRUN(self, "-v", "-k", "0.2", HELPER(self, "send-child"));
	char err[1024];
	struct rec r;
	int held;

	ASSERT_EQ(1, get_recs(self->rep[0], &r, 1, 20000));
	held = t_recv_fd(self->sock[0]);
	ASSERT_LE(0, held);
	EXPECT_EQ(0, wait_exit(pid, 20000));
	read_err(self->err, err, sizeof(err));
	EXPECT_NE(NULL, strstr(err, "not drained after 0.2s"))
		TH_LOG("stderr: %s", err);
	close(held);
}

/*
 * Two processes ignore SIGTERM: both signalled, both need SIGKILL. The
 * SIGTERM that ends the run comes to ctxrun once both are up (a deadline
 * could beat the helper to its signal(SIGTERM, SIG_IGN) on a slow VM),
 * and ctxrun passes it on.
 */
TEST_F(drain, verbose_prints_the_teardown_report)
{
	pid_t pid = CTXRUN(self, "-v", "-k", "0.2",
			   HELPER(self, "ignore-term"));
	char err[1024];
	struct rec r[2];

	ASSERT_EQ(2, get_recs(self->rep[0], r, 2, 20000));
	ASSERT_EQ(0, kill(pid, SIGTERM));
	EXPECT_EQ(128 + SIGTERM, wait_exit(pid, 20000));
	read_err(self->err, err, sizeof(err));
	EXPECT_NE(NULL, strstr(err, ": 2 signalled, 2 needed SIGKILL, 0 left alive, "))
		TH_LOG("stderr: %s", err);
	EXPECT_NE(NULL, strstr(err, "sending signal TERM"));
	EXPECT_EQ(0, t_live_descendants(getpid(), 0, NULL, 0));
}

TEST_HARNESS_MAIN
