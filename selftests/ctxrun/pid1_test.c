// SPDX-License-Identifier: GPL-2.0
/*
 * ctxrun as PID 1 of a pid namespace, as a container's entrypoint:
 * "unshare --pid --fork ctxrun ...". It must do what a container init
 * does (reap orphaned zombies, pass signals on, as tini and dumb-init
 * do) with the deadline and the teardown on top.
 *
 * Two ways in: as root, and as the user nobody in a user namespace of
 * its own (--map-root-user), as rootless containers run.
 */
#define _GNU_SOURCE
#include "kselftest_harness.h"
#include "ctxfd_test.h"
#include "ctxrun_test.h"

FIXTURE(pid1) {
	int rep[2];
	struct how how;
};

FIXTURE_VARIANT(pid1) {
	uid_t uid;
	bool userns;
};

FIXTURE_VARIANT_ADD(pid1, root) {
	.uid = 0,
};

FIXTURE_VARIANT_ADD(pid1, nobody_in_user_namespace) {
	.uid = NOBODY,
	.userns = true,
};

FIXTURE_SETUP(pid1)
{
	ctxrun_or_skip();
	if (access("/usr/bin/unshare", X_OK))
		CTXFD_SKIP("no /usr/bin/unshare");
	ASSERT_EQ(0, pipe2(self->rep, O_CLOEXEC));
	ASSERT_EQ(0, t_subreaper());
	self->how = (struct how){
		.uid = variant->uid, .rep = self->rep[1], .ctx = -1,
		.err = -1, .out = -1, .shm = -1,
	};
	if (variant->userns) {
		/*
		 * Unprivileged user namespaces may be off, and are refused
		 * in a chroot (as in the test VM).
		 */
		char *argv[] = { "/usr/bin/unshare", "--user", "--map-root-user",
				 "--pid", "--fork", "true", NULL };
		struct how quiet = self->how;
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		pid_t pid;

		quiet.err = null;
		pid = start_prog(&quiet, argv);
		close(null);
		ASSERT_LT(0, pid);
		if (wait_exit(pid, 20000) != 0)
			CTXFD_SKIP("no unprivileged user and pid namespaces here");
	}
}

FIXTURE_TEARDOWN(pid1)
{
	t_kill_descendants(20000);
	close(self->rep[0]);
	close(self->rep[1]);
}

/* "unshare [--user --map-root-user] --pid --fork ctxrun ARGS..." */
#define UNSHARE_CTXRUN(self, variant, ...) ({				\
	char *__argv[] = { "/usr/bin/unshare", "--user", "--map-root-user", \
			   "--pid", "--fork", (char *)ctxrun_path(),	\
			   __VA_ARGS__, NULL };				\
	char **__a = __argv;						\
	pid_t __p;							\
									\
	if (!(variant)->userns) {					\
		__argv[2] = "/usr/bin/unshare";				\
		__a = __argv + 2;					\
	}								\
	__p = start_prog(&(self)->how, __a);				\
	ASSERT_LT(0, __p);						\
	__p;								\
})
#define HELPER(...) "--", (char *)self_exe(), "--helper", __VA_ARGS__

/* ctxrun's pid, as seen from here: unshare's only child. */
static pid_t ctxrun_of(pid_t unshare)
{
	pid_t pids[4];
	int i, n, tries;

	for (tries = 0; tries < 1000; tries++) {
		n = t_live_descendants(unshare, 0, pids, 4);
		for (i = 0; i < n && i < 4; i++)
			if (t_ppid(pids[i]) == unshare)
				return pids[i];
		usleep(10000);
	}
	return -1;
}

TEST_F(pid1, deadline_tears_namespace_down_before_exit)
{
	pid_t pid = UNSHARE_CTXRUN(self, variant, "-t", "3",
				   HELPER("term-daemon"));
	struct rec r[8];
	int n;

	/* The helper's parent is PID 1: ctxrun. */
	ASSERT_EQ(3, get_recs(self->rep[0], r, 3, 30000));
	EXPECT_EQ(1, count_tag(r, 3, TAG_DAEMON));
	ASSERT_NE(NULL, find_tag(r, 3, TAG_CTXRUN));
	EXPECT_EQ(1, find_tag(r, 3, TAG_CTXRUN)->val);
	EXPECT_EQ(124, wait_exit(pid, 30000));
	/*
	 * The daemon got ctxrun's SIGTERM: the teardown reached it before
	 * ctxrun exited (when PID 1 exits, the kernel would SIGKILL it).
	 */
	n = get_recs(self->rep[0], r, 8, 2000);
	EXPECT_EQ(1, count_tag(r, n, TAG_TERM));
	EXPECT_EQ(0, t_live_descendants(getpid(), 0, NULL, 0));
}

TEST_F(pid1, orphaned_zombie_is_reaped)
{
	pid_t pid = UNSHARE_CTXRUN(self, variant, "-t", "60",
				   HELPER("orphan-zombie", "10000"));
	struct rec r[2];

	/* The helper exits 0 once its orphan is no longer a zombie. */
	EXPECT_EQ(0, wait_exit(pid, 30000));
	ASSERT_EQ(2, get_recs(self->rep[0], r, 2, 1000));
	EXPECT_EQ(TAG_ORPHAN, r[0].tag);
	EXPECT_EQ(TAG_GONE, r[1].tag);
	EXPECT_EQ(r[0].val, r[1].val);
}

TEST_F(pid1, signals_are_passed_on_and_sigterm_ends_the_run)
{
	pid_t pid = UNSHARE_CTXRUN(self, variant, "-k", "1", HELPER("record"));
	pid_t init = ctxrun_of(pid);
	struct rec r[4];
	int i, n;
	const int passed[] = { SIGUSR1, SIGHUP, SIGWINCH, SIGRTMIN };

	ASSERT_LT(0, init);
	ASSERT_EQ(1, get_recs(self->rep[0], r, 1, 30000));
	ASSERT_EQ(TAG_HELPER, r[0].tag);
	/* As tini does; SIGHUP ("reload") too, for PID 1. */
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, kill(init, passed[i]));
		ASSERT_EQ(1, get_recs(self->rep[0], r, 1, 10000));
		EXPECT_EQ(TAG_SIG, r[0].tag);
		EXPECT_EQ(passed[i], r[0].val);
	}
	EXPECT_EQ(-2, wait_exit(pid, 200));
	/* docker stop: SIGTERM to the tree, then -k's SIGKILL. */
	ASSERT_EQ(0, kill(init, SIGTERM));
	n = get_recs(self->rep[0], r, 2, 5000);	/* SIGTERM and SIGCONT */
	EXPECT_EQ(2, n);
	for (i = 0; i < n; i++)
		EXPECT_TRUE(r[i].val == SIGTERM || r[i].val == SIGCONT);
	EXPECT_NE(r[0].val, r[1].val);
	/* PID 1 cannot die of its signal: it exits 128+15. */
	EXPECT_EQ(128 + SIGTERM, wait_exit(pid, 30000));
	EXPECT_EQ(0, t_live_descendants(getpid(), 0, NULL, 0));
}

TEST_HARNESS_MAIN
