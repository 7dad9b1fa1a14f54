// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection: every ioctl path fails cleanly at every allocation.
 *
 * For each operation, fail-nth makes the 1st, 2nd, 3rd... fault-injectable
 * call of the system call fail (slab and page allocations, user copies),
 * until the operation runs through without reaching the injected fault.
 * Each injected failure must return a clean errno and change nothing: no
 * fd installed, no child linked under the parent, the per-user count
 * (debugfs ctxfd/users) back where it was; the context still active where
 * the operation would have changed it. The debug-kernel lane then scans
 * kmemleak for anything a failure path lost.
 *
 * Needs root and a kernel with CONFIG_FAULT_INJECTION_DEBUG_FS and
 * CONFIG_FAILSLAB (the debug kernel); skips elsewhere.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#define DBG		"/sys/kernel/debug"
#define MAX_SWEEP	400

/* Fault types fail-nth can trigger, whose stack dumps we silence. */
static const char *const fault_dirs[] = {
	"failslab", "fail_page_alloc", "fail_usercopy", "fail_futex",
};

struct env {
	int dev;
	int root;		/* parent of everything created */
	int fail_nth;		/* /proc/thread-self/fail-nth */
	pid_t sleeper;		/* a process to ATTACH (fixture) */
	int sleeper_pidfd;
	pid_t target;		/* the ATTACH step's own process, or 0 */
	int target_pidfd;
	long baseline;		/* objects charged to root between steps */
};

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/* Objects charged to @uid (debugfs ctxfd/users), 0 if none. */
static long charged(uid_t uid)
{
	char buf[4096], *line;
	unsigned int u;
	long n;

	if (t_read_file(DBG "/ctxfd/users", buf, sizeof(buf)) < 0)
		return -1;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (sscanf(line, "%u %ld", &u, &n) == 2 && u == uid)
			return n;
	return 0;
}

/*
 * Wait until the charge is back at the baseline: attachments that fired
 * are freed by a work item, shortly after their context closed.
 */
static bool settle(struct env *e)
{
	int i;

	for (i = 0; i < 5000; i++) {
		if (charged(0) == e->baseline)
			return true;
		usleep(1000);
	}
	return false;
}

static void arm(struct env *e, int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	if (pwrite(e->fail_nth, buf, len, 0) != len)
		abort();
}

/*
 * Disarm; returns true if the armed fault was injected into the
 * operation. Reading and writing fail-nth copy to and from userspace,
 * which are fault points themselves (fail_usercopy): if the count had not
 * run out during the operation, this read may be the call that takes the
 * fault (EFAULT), which also means the operation did not. Whatever is
 * left is cleared the same way: a write either clears it or consumes it.
 */
static bool disarm(struct env *e)
{
	char buf[16] = "";
	ssize_t r = pread(e->fail_nth, buf, sizeof(buf) - 1, 0);
	bool hit = r > 0 && atoi(buf) == 0;

	while (pwrite(e->fail_nth, "0", 1, 0) != 1)
		if (errno != EFAULT)
			abort();
	return hit;
}

/*
 * An operation under test. run() performs the one system call that gets
 * the fault; it returns its result (-1 with errno on failure) and may
 * leave a new fd in *out for cleanup. check() verifies what must not have
 * changed after a failure (may be NULL).
 */
struct op {
	const char *name;
	int (*prepare)(struct env *e);	/* returns an fd used by run, or -1 */
	int (*run)(struct env *e, int prep, int *out);
	bool (*unchanged)(struct env *e, int prep);
};

static int prep_none(struct env *e)
{
	return -1;
}

static int prep_child(struct env *e)
{
	return t_child(e->root, 0);
}

/*
 * ATTACH: a process of the step's own, made before the fault is armed.
 * An attachment that succeeds fires when @prep is closed; its process
 * survives SIGWINCH, so the attachment (and its charge) stays until the
 * process exits (the context is not drained before): end_step() kills it.
 */
static int prep_child_and_target(struct env *e)
{
	e->target = fork();
	if (e->target == 0) {
		for (;;)
			pause();
	}
	if (e->target < 0)
		return -1;
	e->target_pidfd = syscall(SYS_pidfd_open, e->target, 0);
	if (e->target_pidfd < 0)
		return -1;
	return prep_child(e);
}

/* The step is over: its own process goes, and its attachments with it. */
static void end_step(struct env *e)
{
	if (e->target <= 0)
		return;
	close(e->target_pidfd);
	kill(e->target, SIGKILL);
	waitpid(e->target, NULL, 0);
	e->target = 0;
}

static int prep_value_chain(struct env *e)
{
	int v = t_child_value(e->root, "k", "v", 1);
	int c = v < 0 ? -1 : t_child(v, 0);

	close(v);
	return c;
}

static int run_new(struct env *e, int prep, int *out)
{
	return *out = t_new(e->dev, 0);
}

static int run_child(struct env *e, int prep, int *out)
{
	return *out = t_child(e->root, 0);
}

static int run_child_deadline(struct env *e, int prep, int *out)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_TIMEOUT,
		.deadline_ns = 3600LL * 1000000000LL,
		.clockid = CLOCK_MONOTONIC,
		.deadline_cause = { .code = 3, .msg = (uintptr_t)"late",
				    .msg_len = 4 },
	};

	return *out = ioctl(e->root, CTXFD_IOC_CREATE, &args);
}

static int run_child_value(struct env *e, int prep, int *out)
{
	return *out = t_child_value(e->root, "key", "value", 5);
}

static int run_without_cancel(struct env *e, int prep, int *out)
{
	return *out = t_child(e->root, CTXFD_CREATE_WITHOUT_CANCEL);
}

static int run_watch(struct env *e, int prep, int *out)
{
	return *out = t_watch(prep, 0);
}

static int run_cancel_msg(struct env *e, int prep, int *out)
{
	return t_cancel(prep, 9, "a cause message");
}

static int run_lookup(struct env *e, int prep, int *out)
{
	char buf[8];
	__u32 len = sizeof(buf);

	return t_lookup(prep, "k", buf, &len);
}

static int run_info(struct env *e, int prep, int *out)
{
	struct ctxfd_info info;

	return t_info(prep, &info);
}

static int run_attach(struct env *e, int prep, int *out)
{
	/*
	 * SIGWINCH is ignored by default: the sleeper survives the
	 * attachments that succeed and fire when @prep is closed.
	 */
	struct ctxfd_attach args = {
		.pidfd = e->target_pidfd, .signal = SIGWINCH, .pid = e->target,
	};
	int ret, err;

	ret = ioctl(prep, CTXFD_IOC_ATTACH, &args);
	err = errno;
	errno = err;
	return ret;
}

static bool still_active(struct env *e, int prep)
{
	return t_err(prep) == 0;
}

static bool nothing_attached(struct env *e, int prep)
{
	struct ctxfd_info info;

	return t_info(prep, &info) == 0 && info.nr_attached == 0;
}

static const struct op ops[] = {
	{ "NEW",		prep_none,	run_new,		NULL },
	{ "CREATE",		prep_none,	run_child,		NULL },
	{ "CREATE+deadline",	prep_none,	run_child_deadline,	NULL },
	{ "CREATE+value",	prep_none,	run_child_value,	NULL },
	{ "CREATE+without",	prep_none,	run_without_cancel,	NULL },
	{ "WATCH",		prep_child,	run_watch,		NULL },
	{ "CANCEL+msg",		prep_child,	run_cancel_msg,		still_active },
	{ "LOOKUP",		prep_value_chain, run_lookup,		NULL },
	{ "INFO",		prep_child,	run_info,		NULL },
	{ "ATTACH",		prep_child_and_target, run_attach,	nothing_attached },
};

/* An errno a failed allocation or user copy may honestly produce. */
static bool clean_errno(int err)
{
	return err == ENOMEM || err == EFAULT || err == ENFILE ||
	       err == EMFILE || err == ENOSPC;
}

FIXTURE(faults) {
	struct env e;
	char saved[4][8];
};

FIXTURE_SETUP(faults)
{
	char path[128];
	size_t i;

	ctxfd_require_root();
	self->e.dev = ctxfd_dev_or_skip();
	snprintf(path, sizeof(path), "/proc/self/task/%d/fail-nth", t_gettid());
	self->e.fail_nth = open(path, O_RDWR | O_CLOEXEC);
	if (self->e.fail_nth < 0 || access(DBG "/failslab", F_OK) ||
	    access(DBG "/ctxfd/users", F_OK))
		CTXFD_SKIP("no fail-nth/failslab/debugfs: needs the debug kernel");

	/* Fail sleeping allocations too, and print no stack per fault. */
	ASSERT_EQ(0, write_str(DBG "/failslab/ignore-gfp-wait", "N"));
	for (i = 0; i < sizeof(fault_dirs) / sizeof(fault_dirs[0]); i++) {
		snprintf(path, sizeof(path), DBG "/%s/verbose", fault_dirs[i]);
		write_str(path, "0");
	}
	snprintf(path, sizeof(path), DBG "/fail_page_alloc/ignore-gfp-wait");
	write_str(path, "N");

	self->e.root = t_new(self->e.dev, 0);
	ASSERT_LE(0, self->e.root);
	self->e.sleeper = fork();
	ASSERT_LE(0, self->e.sleeper);
	if (self->e.sleeper == 0) {
		for (;;)
			pause();
	}
	self->e.sleeper_pidfd = syscall(SYS_pidfd_open, self->e.sleeper, 0);
	ASSERT_LE(0, self->e.sleeper_pidfd);
	self->e.baseline = charged(0);
	ASSERT_LT(0, self->e.baseline);
}

FIXTURE_TEARDOWN(faults)
{
	if (self->e.sleeper > 0) {
		close(self->e.sleeper_pidfd);
		kill(self->e.sleeper, SIGKILL);
		waitpid(self->e.sleeper, NULL, 0);
	}
	close(self->e.root);
	close(self->e.dev);
}

TEST_F_TIMEOUT(faults, every_ioctl_fails_cleanly_at_every_allocation, 900)
{
	struct env *e = &self->e;
	unsigned long total = 0;
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		const struct op *op = &ops[i];
		unsigned long hits = 0;
		bool finished = false;
		int n;

		for (n = 1; n <= MAX_SWEEP && !finished; n++) {
			int prep, children;
			long objs;
			int fds, out = -1, ret, err;
			bool hit;

			ASSERT_TRUE(settle(e)) TH_LOG("%s, before fault %d: %ld objects charged, expected %ld",
						      op->name, n, charged(0), e->baseline);
			prep = op->prepare(e);
			children = t_nr_children(e->root);
			objs = charged(0);
			fds = t_nr_fds();

			arm(e, n);
			ret = op->run(e, prep, &out);
			err = errno;
			hit = disarm(e);

			if (!hit) {
				/* The sweep is past the last injectable call. */
				ASSERT_LE(0, ret) TH_LOG("%s without fault failed: %s",
							 op->name, strerror(err));
				finished = true;
			} else if (ret < 0) {
				hits++;
				ASSERT_TRUE(clean_errno(err))
					TH_LOG("%s, fault %d: errno %d (%s)", op->name,
					       n, err, strerror(err));
				/* Nothing changed. */
				ASSERT_EQ(fds, t_nr_fds())
					TH_LOG("%s, fault %d leaked an fd", op->name, n);
				ASSERT_EQ(children, t_nr_children(e->root))
					TH_LOG("%s, fault %d changed the tree", op->name, n);
				ASSERT_EQ(objs, charged(0))
					TH_LOG("%s, fault %d kept a charge", op->name, n);
				if (op->unchanged)
					ASSERT_TRUE(op->unchanged(e, prep))
						TH_LOG("%s, fault %d changed the context",
						       op->name, n);
			} else {
				/* Injected somewhere optional: it coped. */
				hits++;
			}
			if (out >= 0)
				close(out);
			if (prep >= 0)
				close(prep);
			end_step(e);
			/* Every sweep step ends with nothing extra alive. */
			ASSERT_EQ(0, t_nr_children(e->root))
				TH_LOG("%s, fault %d: children left", op->name, n);
		}
		ASSERT_TRUE(finished) TH_LOG("%s: over %d injectable calls?",
					     op->name, MAX_SWEEP);
		TH_LOG("%-16s %3lu faults injected", op->name, hits);
		total += hits;
	}
	TH_LOG("failslab sweep: %lu faults injected over %zu ioctl paths",
	       total, sizeof(ops) / sizeof(ops[0]));
	EXPECT_LT(0, total);
}

/*
 * A cancellation records its provenance inside the context where it
 * begins: it allocates nothing, so no fault can cost it its origin. Each
 * fault point of a plain cancel in turn (the only one it has is the copy
 * of its arguments): a cancel that succeeds names its process; and the
 * last close, which copies nothing, takes no fault at all.
 */
TEST_F(faults, a_cancel_under_faults_still_names_its_canceler)
{
	struct env *e = &self->e;
	struct ctxfd_info info;
	int n, c, w, ret, err, done = 0;
	bool hit;

	for (n = 1; n <= 8; n++) {
		c = t_child(e->root, 0);
		ASSERT_LE(0, c);
		w = t_watch(c, 0);
		ASSERT_LE(0, w);
		arm(e, n);
		ret = t_cancel(c, 0, NULL);
		err = errno;
		hit = disarm(e);
		if (ret == 0) {
			done++;
			ASSERT_EQ(0, t_info(w, &info));
			EXPECT_EQ(CTXFD_REASON_CANCEL, info.reason)
				TH_LOG("fault %d%s", n, hit ? " (taken)" : "");
			EXPECT_EQ(getpid(), info.origin_pid)
				TH_LOG("fault %d%s: the cancel lost its origin",
				       n, hit ? " (taken)" : "");
		} else {
			EXPECT_TRUE(hit && clean_errno(err));
			EXPECT_EQ(0, t_err(w));
		}
		close(w);
		close(c);
	}
	EXPECT_LT(0, done);

	c = t_child(e->root, 0);
	ASSERT_LE(0, c);
	w = t_watch(c, 0);
	ASSERT_LE(0, w);
	arm(e, 1);
	close(c);
	EXPECT_FALSE(disarm(e)) TH_LOG("the last close took a fault");
	ASSERT_EQ(0, t_info(w, &info));
	EXPECT_EQ(CTXFD_REASON_CLOSE, info.reason);
	EXPECT_EQ(getpid(), info.origin_pid);
	close(w);
}

TEST_HARNESS_MAIN
