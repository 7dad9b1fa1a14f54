// SPDX-License-Identifier: GPL-2.0
/*
 * Contexts across hosts (issue 17): ctxd, ctx_export(), ctx_join() and
 * ctxrun --join on a real etcd cluster.
 *
 * The "hosts" are network namespaces of the test VM (tools/ctxd/testnet):
 * three etcd members on 10.77.0.11..13, host a and host b each in a
 * netns with its own ctxd. Host b's ctxd runs in a time namespace whose
 * clocks are a day ahead (when the kernel has time namespaces), so that
 * anything that leaked an absolute time from a to b would be off by a
 * day. etcd has authentication on: the ctxds are user "ctxd", joiners
 * that ask for the cancel right are "canceler" (may write the records)
 * or "watcher" (may only read them). The cluster is started once, for
 * every test, by main(); the tests that break it (a ctxd killed, the
 * leader killed, host b partitioned) come last and repair it.
 *
 * A process on a host is a process that uses that host's ctxd socket
 * ($CTXD_SOCKET); ctxrun and the workers of host b also run in b's
 * network namespace. Time bounds are the protocol's (TTL, keepalive
 * interval) plus a slack of max(1 s, 3 x the propagation measured by the
 * first test), so that a loaded machine slows the check down with it.
 *
 * Needs root, /dev/ctxfd, etcd and veth (skips otherwise).
 * CTXFD_CTXD_TTL=N sets the short lease TTL of the failure tests (default
 * 3 s; their bounds scale with it); the other tests run with 10 s.
 * CTXFD_CTXD_TESTS=name,... runs only the tests named; CTXFD_CTXD_KEEP=1
 * keeps the test bed (in the VM, for tools/vm/run -- sh -c ...).
 */
#include <libgen.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#include <ctxfd.h>

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 180

/*
 * Lease TTLs, seconds. The tests of failures with a time bound (a ctxd
 * killed, a partition) run with the short one, CTXFD_CTXD_TTL (default
 * 3), which their bounds are made of; the others (the leader killed
 * too) with ctxd's default, a long one,
 * so that a slow moment of etcd under TCG (a keepalive late by seconds)
 * cannot cancel what they look at.
 */
static int ttl_s = 3;
#define TTL		ttl_s
#define TTL_LONG	10
#define KEEPALIVE_MS	(TTL * 1000 / 3)
#define DAY_S		86400		/* host b's clock offset */
#define MS		1000000LL

static char net[128];			/* the testnet directory */
static char testnet[4096];		/* tools/ctxd/testnet */
static char ctxrun[4096];		/* build/tools/ctxrun */
static const char *skip_why;
static pid_t main_pid;
static bool b_in_timens;

/* What tests learn for the tests after them (shared with their children). */
static struct shared {
	int64_t prop_ns;	/* cancel on a -> done on b, first test */
	int ttl;		/* the ctxds' TTL now */
} *shared;

/* ---- running things ------------------------------------------------------ */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run a shell command; its exit status, or -1. */
static int sh(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int st;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		cmd = NULL;
	va_end(ap);
	if (!cmd)
		return -1;
	st = system(cmd);
	free(cmd);
	if (st < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int64_t now_ns(void)
{
	return (int64_t)t_now_ns(CLOCK_MONOTONIC);
}

/* The slack added to every protocol bound. */
static int64_t slack_ns(void)
{
	int64_t s = 3 * (shared ? shared->prop_ns : 0);

	return s > 1000 * MS ? s : 1000 * MS;
}

/* Take the root namespace's end of host @h's veth up or down. */
static int link_set(char h, bool up)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = -1;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "ctxd-%c", h);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		if (up)
			ifr.ifr_flags |= IFF_UP;
		else
			ifr.ifr_flags &= ~IFF_UP;
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return ret;
}

/* The pid in @net/@file (a pid file of testnet), or -1. */
static pid_t pid_in(const char *file)
{
	char path[256];
	FILE *f;
	int pid = -1;

	snprintf(path, sizeof(path), "%s/%s", net, file);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &pid) != 1)
		pid = -1;
	fclose(f);
	return pid;
}

/* SIGKILL the process of pid file @file, now; wait until it is gone. */
static int kill_now(const char *file, int64_t *t)
{
	char path[256];
	pid_t pid = pid_in(file);
	int i;

	if (pid <= 0)
		return -1;
	*t = now_ns();
	if (kill(pid, SIGKILL))
		return -1;
	for (i = 0; i < 600 && kill(pid, 0) == 0; i++)
		usleep(10000);
	snprintf(path, sizeof(path), "%s/%s", net, file);
	unlink(path);
	return 0;
}

/* Be a process of host @h (use its ctxd). */
static void on_host(char h)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%c/ctxd.sock", net, h);
	setenv("CTXD_SOCKET", path, 1);
}

/* A name no other test uses. */
static const char *uniq(const char *base)
{
	static char buf[64];
	static int n;

	snprintf(buf, sizeof(buf), "%s-%d-%d", base, (int)getpid(), ++n);
	return buf;
}

static int start_ctxd(char h)
{
	char wrap[128] = "";

	if (h == 'b' && b_in_timens)
		snprintf(wrap, sizeof(wrap),
			 "CTXD_WRAP='unshare --fork --time --monotonic %d --boottime %d' ",
			 DAY_S, DAY_S);
	return sh("%sCTXD_TTL=%d %s ctxd %s %c --user ctxd --password-file %s/ctxd.pw -v",
		  wrap, shared->ttl, testnet, net, h, net);
}

/* Run both ctxds with a lease TTL of @ttl (restarting them if needed). */
static int use_ttl(int ttl)
{
	if (shared->ttl == ttl)
		return 0;
	/* A ctxd an earlier test left dead is fine: it is started anyway. */
	sh("%s stop-ctxd %s a 2>/dev/null; %s stop-ctxd %s b 2>/dev/null",
	   testnet, net, testnet, net);
	shared->ttl = ttl;
	return start_ctxd('a') || start_ctxd('b') ? -1 : 0;
}

/* Is test @name selected by CTXFD_CTXD_TESTS (comma-separated parts)? */
static bool selected(const char *name)
{
	const char *only = getenv("CTXFD_CTXD_TESTS");
	char buf[1024], *tok, *save = NULL;

	if (!only || !*only)
		return true;
	snprintf(buf, sizeof(buf), "%s", only);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (strstr(name, tok))
			return true;
	return false;
}

#define REQUIRE_NET() do {						\
	if (!selected(_metadata->name))					\
		SKIP(return, "not selected by CTXFD_CTXD_TESTS");	\
	if (skip_why)							\
		SKIP(return, "%s", skip_why);				\
} while (0)

/* ---- a process tree on host b -------------------------------------------------- */

/* What a worker reports: up (done 0), then done with the cause. */
struct report {
	int pid;
	int done;
	int err;
	int code;
	int reason;	/* CTXFD_IOC_INFO's, CTXFD_REASON_* */
	char msg[CTX_CAUSE_MSG_MAX + 1];
};

#define WORKER_FD	100

static void worker_report(int done, int err, int code, const char *msg,
			  int reason)
{
	struct report r = { .pid = getpid(), .done = done, .err = err,
			    .code = code, .reason = reason };

	snprintf(r.msg, sizeof(r.msg), "%s", msg ? msg : "");
	if (write(WORKER_FD, &r, sizeof(r)) != sizeof(r))
		_exit(120);
}

/*
 * One worker: report up, wait for CTXFD to be done, report the cause,
 * sleep. ctxrun's SIGTERM comes as soon as the context is done: it stays
 * blocked until the worker has reported what it saw.
 */
static sigset_t term;

static void __attribute__((noreturn)) worker_body(ctx_t *ctx)
{
	char msg[CTX_CAUSE_MSG_MAX + 1];
	struct ctxfd_info info;
	int code = 0, err;

	worker_report(0, 0, 0, NULL, 0);
	err = ctx_wait(ctx, CTX_FOREVER);
	ctx_cause(ctx, &code, msg, sizeof(msg));
	if (t_info(ctx_done_fd(ctx), &info) < 0)
		info.reason = 0;
	worker_report(1, err, code, msg, info.reason);
	/* Reported: now the teardown's SIGTERM may take us. */
	sigprocmask(SIG_UNBLOCK, &term, NULL);
	for (;;)
		pause();
}

/*
 * "remote_test --worker": run under ctxrun on host b: the worker, a
 * child and a double-forked daemon, all watching the same context.
 */
static int __attribute__((noreturn)) worker_main(void)
{
	ctx_t *ctx;
	pid_t mid;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	if (ctx_from_env(&ctx) != 1)
		_exit(121);
	if (fork() == 0)
		worker_body(ctx);
	mid = fork();
	if (mid == 0) {
		setsid();
		if (fork() == 0)
			worker_body(ctx);
		_exit(0);
	}
	waitpid(mid, NULL, 0);
	worker_body(ctx);
}

/* Read one report, waiting at most @ms. */
static bool read_report(int fd, struct report *r, int ms)
{
	return t_readable(fd, ms) && read(fd, r, sizeof(*r)) == sizeof(*r);
}

/*
 * Start "ctxrun --join NAME -- remote_test --worker" in host b's netns;
 * returns ctxrun's pid and the read end of the report pipe, once the
 * three workers are up (their pids in @pids).
 */
static pid_t start_tree_on_b(const char *name, int *rfd, int pids[3])
{
	int p[2], i;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		char exe[4096];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

		if (n <= 0)
			_exit(126);
		exe[n] = '\0';
		if (dup2(p[1], WORKER_FD) < 0)
			_exit(126);
		on_host('b');
		execlp("ip", "ip", "netns", "exec", "ctxd-b", ctxrun, "-v",
		       "--join", name, "--", exe, "--worker", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	for (i = 0; i < 3; i++) {
		struct report r;

		if (!read_report(p[0], &r, 60000) || r.done) {
			close(p[0]);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -1;
		}
		pids[i] = r.pid;
	}
	*rfd = p[0];
	return pid;
}

/* ---- contexts ---------------------------------------------------------------- */

/* Wait until @ctx is done, at most @ms; the time it took (ns), or -1. */
static int64_t wait_done(ctx_t *ctx, int ms)
{
	int64_t t0 = now_ns();

	if (!t_readable(ctx_done_fd(ctx), ms))
		return -1;
	return now_ns() - t0;
}

static int cause_of(ctx_t *ctx, char *msg, size_t len)
{
	int code = 0;

	ctx_cause(ctx, &code, msg, len);
	return code;
}

/* CTXFD_IOC_INFO's reason (CTXFD_REASON_*), or -1. */
static int reason_of(ctx_t *ctx)
{
	struct ctxfd_info info;

	return t_info(ctx_done_fd(ctx), &info) < 0 ? -1 : (int)info.reason;
}

/* Export a new cancelable context as @name on host @h. */
static int export_on(char h, const char *name, ctx_duration_t timeout,
		     bool cancelable, ctx_t **ctx, ctx_cancel_t **cancel,
		     ctx_export_t **exp)
{
	int ret;

	on_host(h);
	if (timeout)
		ret = ctx_with_timeout(ctx_background(), timeout, ctx, cancel);
	else
		ret = ctx_with_cancel_cause(ctx_background(), ctx, cancel);
	if (ret)
		return ret;
	return ctx_export(*ctx, cancelable ? *cancel : NULL, name, NULL, exp);
}

/* The mod_revision of @key and of every @key/... (testnet revisions). */
static int mod_revisions(const char *key, long long *revs, int max)
{
	char cmd[4352], line[64];
	FILE *f;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "%s revisions %s '%s'", testnet, net, key);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (n < max && fgets(line, sizeof(line), f))
		revs[n++] = atoll(line);
	pclose(f);
	return n;
}

/* ==== the tests ================================================================ */

TEST(cancel_on_a_reaches_a_process_tree_on_b_with_its_cause)
{
	ctx_t *ctx;
	ctx_cancel_t *cancel;
	ctx_export_t *exp;
	const char *name;
	int rfd, pids[3], i, st;
	int64_t t0, last = 0;
	pid_t run;

	REQUIRE_NET();
	name = uniq("tree");
	ASSERT_EQ(0, export_on('a', name, 0, true, &ctx, &cancel, &exp)) {
		TH_LOG("%s", ctx_last_error());
	}
	run = start_tree_on_b(name, &rfd, pids);
	ASSERT_LT(0, run) TH_LOG("the tree on b did not come up");

	t0 = now_ns();
	ASSERT_EQ(0, ctx_cancel_cause(cancel, 42, "job aborted on a"));
	for (i = 0; i < 3; i++) {
		struct report r;

		ASSERT_TRUE(read_report(rfd, &r, 30000)) {
			TH_LOG("worker %d of the tree on b never saw the cancel", i);
		}
		ASSERT_EQ(1, r.done);
		EXPECT_EQ(CTX_CANCELED, r.err);
		EXPECT_EQ(42, r.code);
		EXPECT_STREQ("job aborted on a", r.msg);
		/* ctxd relayed it: the reason says so, down the tree. */
		EXPECT_EQ(CTXFD_REASON_REMOTE, r.reason);
		last = now_ns() - t0;
	}
	shared->prop_ns = last;
	TH_LOG("cancel on a -> the last of 3 workers on b woke: %.1f ms",
	       last / 1e6);
	/* ctxrun tears the tree down: the workers die of SIGTERM. */
	ASSERT_EQ(run, waitpid(run, &st, 0));
	EXPECT_TRUE(WIFSIGNALED(st) || WEXITSTATUS(st) == 128 + SIGTERM);
	for (i = 0; i < 3; i++) {
		int tries = 0;

		while (kill(pids[i], 0) == 0 && tries++ < 100)
			usleep(50000);
		EXPECT_NE(0, kill(pids[i], 0)) TH_LOG("worker %d survived", pids[i]);
	}
	close(rfd);
	ctx_export_release(exp);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

TEST(deadline_on_a_fires_on_b_never_early_whatever_b_s_clock)
{
	ctx_t *ctx, *joined;
	ctx_cancel_t *cancel;
	ctx_export_t *exp;
	struct timespec da, db;
	char msg[CTX_CAUSE_MSG_MAX + 1];
	int64_t deadline, join_start, join_ns, done_at, late, dl_b;
	const char *name;
	int err;

	REQUIRE_NET();
	name = uniq("deadline");
	ASSERT_EQ(0, export_on('a', name, 4 * CTX_SECOND, true, &ctx, &cancel, &exp)) {
		TH_LOG("%s", ctx_last_error());
	}
	ASSERT_TRUE(ctx_deadline(ctx, &da));
	deadline = (int64_t)da.tv_sec * 1000000000 + da.tv_nsec;

	on_host('b');
	join_start = now_ns();
	ASSERT_EQ(0, ctx_join(name, 0, &joined, NULL)) TH_LOG("%s", ctx_last_error());
	join_ns = now_ns() - join_start;
	/*
	 * b armed its own timer from the remaining time a measured after the
	 * join began: no earlier than a's deadline, and later by at most
	 * what the join took (b's clock is a day ahead: an absolute time
	 * would be a day off).
	 */
	ASSERT_TRUE(ctx_deadline(joined, &db));
	dl_b = (int64_t)db.tv_sec * 1000000000 + db.tv_nsec;
	TH_LOG("join took %.1f ms; b's deadline - a's: %+.1f ms", join_ns / 1e6,
	       (dl_b - deadline) / 1e6);
	EXPECT_LE(deadline, dl_b);
	/*
	 * A join that ends after a's deadline (a slow machine) gets a
	 * context born done: its deadline is when it was made.
	 */
	EXPECT_GE(deadline + join_ns > join_start + join_ns ?
		  deadline + join_ns : join_start + join_ns, dl_b);

	ASSERT_LE(0, wait_done(joined, 30000)) TH_LOG("the deadline never reached b");
	done_at = now_ns();
	late = done_at - deadline;
	TH_LOG("b done %.1f ms after a's deadline", late / 1e6);
	EXPECT_LE(0, late) TH_LOG("b was done before a's deadline");
	EXPECT_GE((join_start + join_ns > deadline ? join_start + join_ns - deadline :
		   join_ns) + slack_ns(), late);
	err = ctx_err(joined);
	EXPECT_EQ(ETIMEDOUT, cause_of(joined, msg, sizeof(msg)));
	TH_LOG("b: err %s, cause \"%s\"", ctx_strerror(err), msg);
	EXPECT_TRUE(err == CTX_DEADLINE_EXCEEDED || err == CTX_CANCELED);
	/* a's own timer fired first, but its kworker may still be at work. */
	EXPECT_EQ(CTX_DEADLINE_EXCEEDED, ctx_wait(ctx, 10 * CTX_SECOND));

	ctx_release(joined);
	ctx_export_release(exp);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

TEST(values_travel_with_the_exported_context)
{
	const char *keys[] = { "job-id", "nil-value", "empty", "never-bound", NULL };
	ctx_t *root, *v0, *v1, *v2, *v3, *joined;
	struct ctxfd_lookup l = { 0 };
	ctx_cancel_t *cancel;
	ctx_export_t *exp;
	char buf[64];
	const char *name;

	REQUIRE_NET();
	name = uniq("values");
	on_host('a');
	ASSERT_EQ(0, ctx_with_cancel_cause(ctx_background(), &root, &cancel));
	ASSERT_EQ(0, ctx_with_value(root, "nil-value", "shadowed", 8, &v0));
	ASSERT_EQ(0, ctx_with_value(v0, "job-id", "job 42", 6, &v1));
	ASSERT_EQ(0, ctx_with_value(v1, "nil-value", NULL, 0, &v2));
	ASSERT_EQ(0, ctx_with_value(v2, "empty", "", 0, &v3));
	ASSERT_EQ(0, ctx_export(v3, NULL, name, keys, &exp)) TH_LOG("%s", ctx_last_error());

	on_host('b');
	ASSERT_EQ(0, ctx_join(name, 0, &joined, NULL)) TH_LOG("%s", ctx_last_error());
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(6, ctx_value(joined, "job-id", buf, sizeof(buf)));
	EXPECT_STREQ("job 42", buf);
	/*
	 * nil travels as nil: a binding that reads as no value (the older
	 * one stays hidden on a), which the kernel reports as nil on b.
	 */
	EXPECT_EQ(-ENOENT, ctx_value(v3, "nil-value", buf, sizeof(buf)));
	EXPECT_EQ(-ENOENT, ctx_value(joined, "nil-value", buf, sizeof(buf)));
	l.key = (uintptr_t)"nil-value";
	l.key_len = 9;
	l.value = (uintptr_t)buf;
	l.value_len = sizeof(buf);
	EXPECT_EQ(0, ioctl(ctx_done_fd(joined), CTXFD_IOC_LOOKUP, &l));
	EXPECT_EQ(CTXFD_LOOKUP_NIL, l.result_flags);
	/* "" is not nil (libctxfd 1.1) */
	EXPECT_EQ(0, ctx_value(joined, "empty", buf, sizeof(buf)));
	EXPECT_EQ(-ENOENT, ctx_value(joined, "never-bound", buf, sizeof(buf)));
	EXPECT_EQ(0, ctx_err(joined));
	ctx_release(joined);
	ctx_export_release(exp);
	ctx_cancel_release(cancel);
	ctx_release(v3);
	ctx_release(v2);
	ctx_release(v1);
	ctx_release(v0);
	ctx_release(root);
}

TEST(watch_only_joiner_cannot_cancel)
{
	ctx_t *ctx, *joined, *j2;
	ctx_cancel_t *cancel, *jc = NULL;
	ctx_export_t *exp;
	struct ctxfd_cancel args = { 0 };
	const char *name;

	REQUIRE_NET();
	name = uniq("watchonly");
	ASSERT_EQ(0, export_on('a', name, 0, true, &ctx, &cancel, &exp));

	on_host('b');
	/* Joining gives a watch-only context: the kernel refuses a cancel. */
	ASSERT_EQ(0, ctx_join(name, 0, &joined, NULL)) TH_LOG("%s", ctx_last_error());
	EXPECT_EQ(-1, ioctl(ctx_done_fd(joined), CTXFD_IOC_CANCEL, &args));
	EXPECT_EQ(EPERM, errno);
	/* Asking for the cancel right without credentials: refused. */
	unsetenv("CTXD_USER");
	EXPECT_EQ(-EPERM, ctx_join(name, CTX_JOIN_CANCEL, &j2, &jc));
	TH_LOG("no credentials: %s", ctx_last_error());
	/* As an etcd user whose role may only read the records: refused. */
	setenv("CTXD_USER", "watcher:watcher", 1);
	EXPECT_EQ(-EPERM, ctx_join(name, CTX_JOIN_CANCEL, &j2, &jc));
	TH_LOG("watcher: %s", ctx_last_error());
	/* A wrong password: refused too. */
	setenv("CTXD_USER", "canceler:wrong", 1);
	EXPECT_EQ(-EPERM, ctx_join(name, CTX_JOIN_CANCEL, &j2, &jc));
	TH_LOG("wrong password: %s", ctx_last_error());
	unsetenv("CTXD_USER");
	EXPECT_EQ(NULL, jc);
	/* Nothing was canceled, here or on a. */
	usleep(500000);
	EXPECT_EQ(0, ctx_err(joined));
	EXPECT_EQ(0, ctx_err(ctx));
	ctx_release(joined);
	ctx_export_release(exp);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

TEST(joiner_with_the_cancel_right_cancels_the_exporter_and_every_joiner)
{
	ctx_t *ctx, *jb, *wb, *wa;
	ctx_cancel_t *cancel, *jc;
	ctx_export_t *exp;
	char msg[CTX_CAUSE_MSG_MAX + 1];
	const char *name;

	REQUIRE_NET();
	name = uniq("cancelright");
	ASSERT_EQ(0, export_on('a', name, 0, true, &ctx, &cancel, &exp));
	ASSERT_EQ(0, ctx_join(name, 0, &wa, NULL)) TH_LOG("%s", ctx_last_error());

	on_host('b');
	ASSERT_EQ(0, ctx_join(name, 0, &wb, NULL)) TH_LOG("%s", ctx_last_error());
	setenv("CTXD_USER", "canceler:canceler", 1);
	ASSERT_EQ(0, ctx_join(name, CTX_JOIN_CANCEL, &jb, &jc)) {
		TH_LOG("%s", ctx_last_error());
	}
	unsetenv("CTXD_USER");
	EXPECT_EQ(0, ctx_err(ctx));
	ASSERT_EQ(0, ctx_cancel_cause(jc, 7, "stopped from b"));

	ASSERT_LE(0, wait_done(ctx, 30000)) TH_LOG("the cancel from b never reached a");
	EXPECT_EQ(7, cause_of(ctx, msg, sizeof(msg)));
	EXPECT_STREQ("stopped from b", msg);
	ASSERT_LE(0, wait_done(wb, 30000));
	EXPECT_EQ(7, cause_of(wb, msg, sizeof(msg)));
	ASSERT_LE(0, wait_done(wa, 30000));
	EXPECT_EQ(7, cause_of(wa, msg, sizeof(msg)));
	EXPECT_STREQ("stopped from b", msg);

	ctx_cancel_release(jc);
	ctx_release(jb);
	ctx_release(wb);
	ctx_release(wa);
	ctx_export_release(exp);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

TEST(joiner_that_exits_without_canceling_cancels_nothing)
{
	ctx_t *ctx, *wb;
	ctx_cancel_t *cancel;
	ctx_export_t *exp;
	const char *name;
	pid_t pid;

	REQUIRE_NET();
	name = uniq("exitjoiner");
	ASSERT_EQ(0, export_on('a', name, 0, true, &ctx, &cancel, &exp));
	on_host('b');
	ASSERT_EQ(0, ctx_join(name, 0, &wb, NULL));
	pid = fork();
	if (pid == 0) {
		ctx_t *j;
		ctx_cancel_t *c;

		setenv("CTXD_USER", "canceler:canceler", 1);
		_exit(ctx_join(name, CTX_JOIN_CANCEL, &j, &c) ? 1 : 0);
	}
	ASSERT_EQ(0, t_wait_status(pid));
	/* A cancel would have come through in that time. */
	usleep(slack_ns() / 1000);
	EXPECT_EQ(0, ctx_err(ctx));
	EXPECT_EQ(0, ctx_err(wb));
	ctx_release(wb);
	ctx_export_release(exp);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

TEST(export_without_the_cancel_right_refuses_remote_cancels)
{
	ctx_t *ctx, *j;
	ctx_cancel_t *cancel, *jc = NULL;
	ctx_export_t *exp;
	const char *name;

	REQUIRE_NET();
	name = uniq("nocancel");
	ASSERT_EQ(0, export_on('a', name, 0, false, &ctx, &cancel, &exp));
	on_host('b');
	setenv("CTXD_USER", "canceler:canceler", 1);
	EXPECT_EQ(-EPERM, ctx_join(name, CTX_JOIN_CANCEL, &j, &jc));
	TH_LOG("%s", ctx_last_error());
	unsetenv("CTXD_USER");
	ctx_export_release(exp);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

TEST(cancel_of_an_exported_subtree_is_one_transaction)
{
	ctx_t *p, *c1, *c2, *jp, *j1, *j2;
	ctx_cancel_t *pc, *cc1, *cc2;
	ctx_export_t *ep, *e1, *e2;
	char name[64], n1[80], n2[80], prefix[128];
	long long revs[8];
	int n;

	REQUIRE_NET();
	snprintf(name, sizeof(name), "%s", uniq("subtree"));
	snprintf(n1, sizeof(n1), "%s/fetch", name);
	snprintf(n2, sizeof(n2), "%s/build", name);
	on_host('a');
	ASSERT_EQ(0, ctx_with_cancel_cause(ctx_background(), &p, &pc));
	ASSERT_EQ(0, ctx_with_cancel(p, &c1, &cc1));
	ASSERT_EQ(0, ctx_with_cancel(c1, &c2, &cc2));
	ASSERT_EQ(0, ctx_export(p, pc, name, NULL, &ep));
	ASSERT_EQ(0, ctx_export(c1, cc1, n1, NULL, &e1));
	ASSERT_EQ(0, ctx_export(c2, cc2, n2, NULL, &e2));
	on_host('b');
	ASSERT_EQ(0, ctx_join(name, 0, &jp, NULL));
	ASSERT_EQ(0, ctx_join(n1, 0, &j1, NULL));
	ASSERT_EQ(0, ctx_join(n2, 0, &j2, NULL));

	ASSERT_EQ(0, ctx_cancel_cause(pc, 9, "subtree"));
	ASSERT_LE(0, wait_done(jp, 30000));
	ASSERT_LE(0, wait_done(j1, 30000));
	ASSERT_LE(0, wait_done(j2, 30000));
	EXPECT_EQ(9, cause_of(j2, NULL, 0));
	snprintf(prefix, sizeof(prefix), "/ctxfd/ctx/%s", name);
	n = mod_revisions(prefix, revs, 8);
	ASSERT_EQ(3, n);
	TH_LOG("mod_revisions: %lld %lld %lld", revs[0], revs[1], revs[2]);
	EXPECT_EQ(revs[0], revs[1]);
	EXPECT_EQ(revs[0], revs[2]);

	ctx_release(jp);
	ctx_release(j1);
	ctx_release(j2);
	ctx_export_release(e2);
	ctx_export_release(e1);
	ctx_export_release(ep);
	ctx_cancel_release(cc2);
	ctx_cancel_release(cc1);
	ctx_cancel_release(pc);
	ctx_release(c2);
	ctx_release(c1);
	ctx_release(p);
}

TEST(remote_cancel_of_a_subtree_is_one_transaction)
{
	ctx_t *p, *c1, *jb, *w1;
	ctx_cancel_t *pc, *cc1, *jc;
	ctx_export_t *ep, *e1;
	char name[64], n1[80], prefix[128];
	long long revs[8];

	REQUIRE_NET();
	snprintf(name, sizeof(name), "%s", uniq("rsubtree"));
	snprintf(n1, sizeof(n1), "%s/step", name);
	on_host('a');
	ASSERT_EQ(0, ctx_with_cancel_cause(ctx_background(), &p, &pc));
	ASSERT_EQ(0, ctx_with_cancel_cause(p, &c1, &cc1));
	ASSERT_EQ(0, ctx_export(p, pc, name, NULL, &ep));
	ASSERT_EQ(0, ctx_export(c1, cc1, n1, NULL, &e1));
	on_host('b');
	ASSERT_EQ(0, ctx_join(n1, 0, &w1, NULL));
	setenv("CTXD_USER", "canceler:canceler", 1);
	ASSERT_EQ(0, ctx_join(name, CTX_JOIN_CANCEL, &jb, &jc)) TH_LOG("%s", ctx_last_error());
	unsetenv("CTXD_USER");
	ASSERT_EQ(0, ctx_cancel_cause(jc, 11, "remote subtree"));
	ASSERT_LE(0, wait_done(w1, 30000));
	ASSERT_LE(0, wait_done(c1, 30000));
	EXPECT_EQ(11, cause_of(w1, NULL, 0));
	snprintf(prefix, sizeof(prefix), "/ctxfd/ctx/%s", name);
	ASSERT_EQ(2, mod_revisions(prefix, revs, 8));
	EXPECT_EQ(revs[0], revs[1]);
	ctx_cancel_release(jc);
	ctx_release(jb);
	ctx_release(w1);
	ctx_export_release(e1);
	ctx_export_release(ep);
	ctx_cancel_release(cc1);
	ctx_cancel_release(pc);
	ctx_release(c1);
	ctx_release(p);
}

TEST(late_joiner_of_a_done_export_gets_a_done_context_with_the_cause)
{
	ctx_t *ctx, *j;
	ctx_cancel_t *cancel;
	ctx_export_t *exp;
	char msg[CTX_CAUSE_MSG_MAX + 1];
	const char *name;

	REQUIRE_NET();
	name = uniq("late");
	ASSERT_EQ(0, export_on('a', name, 0, true, &ctx, &cancel, &exp));
	ASSERT_EQ(0, ctx_cancel_cause(cancel, 5, "over before you came"));
	usleep(500000);
	on_host('b');
	ASSERT_EQ(0, ctx_join(name, 0, &j, NULL)) TH_LOG("%s", ctx_last_error());
	EXPECT_EQ(CTX_CANCELED, ctx_wait(j, 10 * CTX_SECOND));
	EXPECT_EQ(5, cause_of(j, msg, sizeof(msg)));
	EXPECT_STREQ("over before you came", msg);
	ctx_release(j);
	ctx_export_release(exp);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

TEST(withdrawn_export_cancels_its_joiners)
{
	ctx_t *ctx, *j;
	ctx_cancel_t *cancel;
	ctx_export_t *exp;
	char msg[CTX_CAUSE_MSG_MAX + 1];
	const char *name;

	REQUIRE_NET();
	name = uniq("withdrawn");
	ASSERT_EQ(0, export_on('a', name, 0, true, &ctx, &cancel, &exp));
	on_host('b');
	ASSERT_EQ(0, ctx_join(name, 0, &j, NULL));
	ctx_export_release(exp);
	ASSERT_LE(0, wait_done(j, 30000));
	EXPECT_EQ(CTX_CAUSE_WITHDRAWN, cause_of(j, msg, sizeof(msg)));
	EXPECT_STREQ("remote: export withdrawn", msg);
	/* The exporter's own context lives on. */
	EXPECT_EQ(0, ctx_err(ctx));
	/* And the name is free again. */
	usleep(500000);
	on_host('b');
	EXPECT_EQ(-ENOENT, ctx_join(name, 0, &j, NULL)) {
		TH_LOG("%s", ctx_last_error());
	}
	ctx_release(j);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

TEST(exporter_exit_cancels_its_joiners)
{
	ctx_t *j;
	int sync[2];
	const char *name;
	char c;
	pid_t pid;

	REQUIRE_NET();
	name = uniq("exporterexit");
	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	if (pid == 0) {
		ctx_t *ctx;
		ctx_cancel_t *cancel;
		ctx_export_t *exp;

		if (export_on('a', name, 0, true, &ctx, &cancel, &exp))
			_exit(1);
		if (write(sync[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(sync[1]);
	ASSERT_EQ(1, read(sync[0], &c, 1));
	on_host('b');
	ASSERT_EQ(0, ctx_join(name, 0, &j, NULL));
	kill(pid, SIGKILL);
	t_wait_status(pid);
	/* Its last cancel fd closed: the kernel canceled it, ctxd tells b. */
	ASSERT_LE(0, wait_done(j, 30000));
	EXPECT_EQ(CTX_CANCELED, cause_of(j, NULL, 0));
	ctx_release(j);
}

TEST(names_are_checked)
{
	ctx_t *ctx, *j;
	ctx_cancel_t *cancel;
	ctx_export_t *exp, *exp2;
	const char *name;

	REQUIRE_NET();
	on_host('b');
	EXPECT_EQ(-ENOENT, ctx_join(uniq("never-exported"), 0, &j, NULL));
	TH_LOG("%s", ctx_last_error());
	EXPECT_EQ(-EINVAL, ctx_join("", 0, &j, NULL));
	EXPECT_EQ(-EINVAL, ctx_join("a//b", 0, &j, NULL));
	EXPECT_EQ(-EINVAL, ctx_join("../x", 0, &j, NULL));
	EXPECT_EQ(-EINVAL, ctx_join("sp ace", 0, &j, NULL));
	EXPECT_EQ(-EINVAL, ctx_join("x", 0x80, &j, NULL));
	EXPECT_EQ(-EINVAL, ctx_join("x", CTX_JOIN_CANCEL, &j, NULL));
	/* First come, first served: the name is taken, from any host. */
	name = uniq("taken");
	ASSERT_EQ(0, export_on('a', name, 0, true, &ctx, &cancel, &exp));
	on_host('b');
	EXPECT_EQ(-EEXIST, ctx_export(ctx, NULL, name, NULL, &exp2));
	TH_LOG("%s", ctx_last_error());
	on_host('a');
	EXPECT_EQ(-EEXIST, ctx_export(ctx, NULL, name, NULL, &exp2));
	EXPECT_EQ(-EINVAL, ctx_export(ctx, NULL, "/x", NULL, &exp2));
	ctx_export_release(exp);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
	/* No ctxd at all. */
	setenv("CTXD_SOCKET", "/nonexistent/ctxd.sock", 1);
	EXPECT_EQ(-ENOENT, ctx_join("x", 0, &j, NULL));
	TH_LOG("%s", ctx_last_error());
}

TEST(ctxrun_join_exits_124_when_the_remote_deadline_passes)
{
	ctx_t *ctx;
	ctx_cancel_t *cancel;
	ctx_export_t *exp;
	const char *name;

	REQUIRE_NET();
	name = uniq("ctxrun");
	ASSERT_EQ(0, export_on('a', name, 2 * CTX_SECOND, true, &ctx, &cancel, &exp));
	EXPECT_EQ(124, sh("CTXD_SOCKET=%s/b/ctxd.sock ip netns exec ctxd-b %s --join %s -- sleep 100",
			  net, ctxrun, name));
	ctx_export_release(exp);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

/* ---- the tests that break the cluster, and repair it ------------------------ */

TEST(killing_the_etcd_leader_causes_no_spurious_cancel)
{
	ctx_t *ctx, *j;
	ctx_cancel_t *cancel;
	ctx_export_t *exp;
	char cmd[8192], line[32];
	int leader, now_leader = 0, i;
	const char *name;
	FILE *f;

	REQUIRE_NET();
	/*
	 * ctxd's default TTL (and so fail-safe), 10 s, not the short one:
	 * this test bounds no time, and under TCG on a loaded host an
	 * election has taken longer than 3 s, which a 3 s fail-safe on b
	 * rightly counts as etcd out of reach.
	 */
	ASSERT_EQ(0, use_ttl(TTL_LONG)) TH_LOG("cannot restart the ctxds with TTL %d s", TTL_LONG);
	name = uniq("leader");
	ASSERT_EQ(0, export_on('a', name, 0, true, &ctx, &cancel, &exp));
	on_host('b');
	ASSERT_EQ(0, ctx_join(name, 0, &j, NULL)) TH_LOG("%s", ctx_last_error());

	snprintf(cmd, sizeof(cmd), "ETCDCTL_USER=root:root %s leader %s", testnet, net);
	f = popen(cmd, "r");
	ASSERT_NE(NULL, f);
	leader = fgets(line, sizeof(line), f) ? atoi(line) : 0;
	pclose(f);
	ASSERT_LT(0, leader);
	TH_LOG("killing the leader, member %d", leader);
	snprintf(line, sizeof(line), "etcd/m%d.pid", leader);
	{
		int64_t t;

		ASSERT_EQ(0, kill_now(line, &t));
	}
	/*
	 * A new leader, then a TTL and a keepalive interval: the new leader
	 * extends every lease by its TTL when it takes over, so a lease that
	 * ctxd failed to keep would be gone by then, and b told.
	 */
	for (i = 0; i < 120 && now_leader <= 0; i++) {
		f = popen(cmd, "r");
		ASSERT_NE(NULL, f);
		now_leader = fgets(line, sizeof(line), f) ? atoi(line) : 0;
		pclose(f);
		if (now_leader <= 0)
			usleep(250000);
	}
	ASSERT_LT(0, now_leader) TH_LOG("no new leader");
	TH_LOG("member %d leads now", now_leader);
	usleep((TTL_LONG * 1000 + TTL_LONG * 1000 / 3) * 1000);
	EXPECT_EQ(0, ctx_err(j)) {
		char msg[CTX_CAUSE_MSG_MAX + 1];

		cause_of(j, msg, sizeof(msg));
		TH_LOG("spurious cancel on b: %s", msg);
	}
	EXPECT_EQ(0, ctx_err(ctx));
	/* And the link still works. */
	ASSERT_EQ(0, ctx_cancel_cause(cancel, 3, "after the election"));
	ASSERT_LE(0, wait_done(j, 30000));
	EXPECT_EQ(3, cause_of(j, NULL, 0));
	ctx_release(j);
	ctx_export_release(exp);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
	ASSERT_EQ(0, sh("%s start-member %s %d", testnet, net, leader));
	/*
	 * The next test needs the whole cluster: wait until the member is
	 * back in it (it answers /health once it follows a leader).
	 */
	ASSERT_EQ(0, sh("for i in $(seq 300); do curl -s -m 2 http://10.77.0.%d:2379/health | grep -q '\"health\":\"true\"' && exit 0; sleep 0.2; done; exit 1",
			10 + leader)) TH_LOG("member %d did not come back", leader);
}

TEST(sigkill_of_the_exporting_ctxd_cancels_joiners_within_ttl_and_a_keepalive)
{
	ctx_t *ctx, *j;
	ctx_cancel_t *cancel;
	ctx_export_t *exp;
	char msg[CTX_CAUSE_MSG_MAX + 1];
	int64_t t_kill, took;
	const char *name;

	REQUIRE_NET();
	ASSERT_EQ(0, use_ttl(TTL)) TH_LOG("cannot restart the ctxds with TTL %d s", TTL);
	name = uniq("ctxddeath");
	ASSERT_EQ(0, export_on('a', name, 0, true, &ctx, &cancel, &exp));
	on_host('b');
	ASSERT_EQ(0, ctx_join(name, 0, &j, NULL)) TH_LOG("%s", ctx_last_error());
	ASSERT_EQ(0, kill_now("a/ctxd.pid", &t_kill));
	ASSERT_LE(0, wait_done(j, 60000)) TH_LOG("b never noticed");
	took = now_ns() - t_kill;
	TH_LOG("ctxd on a killed -> b canceled in %.1f ms (TTL %d s, keepalive every %d ms)",
	       took / 1e6, TTL, KEEPALIVE_MS);
	EXPECT_EQ(CTX_CAUSE_LEASE_LOST, cause_of(j, msg, sizeof(msg)));
	EXPECT_STREQ("remote: lease lost", msg);
	EXPECT_EQ(CTXFD_REASON_REMOTE, reason_of(j));
	/*
	 * The lease ran out: at most a TTL after the last keepalive, which
	 * was at most one keepalive interval before the kill.
	 */
	EXPECT_GE((TTL * 1000LL + KEEPALIVE_MS) * MS + slack_ns(), took);
	/* The exporting process carries on without ctxd. */
	EXPECT_EQ(0, ctx_err(ctx));
	ctx_release(j);
	ctx_export_release(exp);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
	ASSERT_EQ(0, start_ctxd('a')) TH_LOG("cannot start ctxd on a again");
}

TEST(sigkill_of_the_joining_ctxd_cancels_its_joined_contexts)
{
	ctx_t *ctx, *j;
	ctx_cancel_t *cancel;
	ctx_export_t *exp;
	const char *name;

	REQUIRE_NET();
	ASSERT_EQ(0, use_ttl(TTL)) TH_LOG("cannot restart the ctxds with TTL %d s", TTL);
	name = uniq("joinerdeath");
	ASSERT_EQ(0, export_on('a', name, 0, true, &ctx, &cancel, &exp));
	on_host('b');
	ASSERT_EQ(0, ctx_join(name, 0, &j, NULL)) TH_LOG("%s", ctx_last_error());
	int64_t t;

	ASSERT_EQ(0, kill_now("b/ctxd.pid", &t));
	/* ctxd held the only cancel fd: the kernel cancels at its death. */
	ASSERT_LE(0, wait_done(j, 10000));
	EXPECT_EQ(CTX_CANCELED, ctx_err(j));
	EXPECT_EQ(0, ctx_err(ctx));
	ctx_release(j);
	ctx_export_release(exp);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
	ASSERT_EQ(0, start_ctxd('b')) TH_LOG("cannot start ctxd on b again");
}

TEST(partitioning_b_from_etcd_cancels_its_contexts_fail_safe_within_the_ttl)
{
	ctx_t *ctx, *j, *j2;
	ctx_cancel_t *cancel;
	ctx_export_t *exp;
	char msg[CTX_CAUSE_MSG_MAX + 1];
	int64_t t_cut, took;
	const char *name;
	int i, ret = -1;

	REQUIRE_NET();
	ASSERT_EQ(0, use_ttl(TTL)) TH_LOG("cannot restart the ctxds with TTL %d s", TTL);
	name = uniq("partition");
	ASSERT_EQ(0, export_on('a', name, 0, true, &ctx, &cancel, &exp));
	on_host('b');
	ASSERT_EQ(0, ctx_join(name, 0, &j, NULL)) TH_LOG("%s", ctx_last_error());
	t_cut = now_ns();
	ASSERT_EQ(0, link_set('b', false));
	ASSERT_LE(0, wait_done(j, 60000)) {
		link_set('b', true);
		TH_LOG("b never gave up");
	}
	took = now_ns() - t_cut;
	ASSERT_EQ(0, link_set('b', true));
	TH_LOG("b cut off -> canceled in %.1f ms (fail-safe: the TTL, %d s)",
	       took / 1e6, TTL);
	EXPECT_EQ(CTX_CAUSE_UNREACHABLE, cause_of(j, msg, sizeof(msg)));
	TH_LOG("cause: %s", msg);
	EXPECT_EQ(0, strncmp(msg, "remote: etcd unreachable", 24));
	EXPECT_GE(TTL * 1000LL * MS + slack_ns(), took);
	/* a was not cut off: its context is active. */
	EXPECT_EQ(0, ctx_err(ctx));
	/* Once b is back, joining works again. */
	for (i = 0; i < 120 && ret; i++) {
		ret = ctx_join(name, 0, &j2, NULL);
		if (ret)
			usleep(250000);
	}
	ASSERT_EQ(0, ret) TH_LOG("b cannot join after the partition: %s", ctx_last_error());
	EXPECT_EQ(0, ctx_err(j2));
	ctx_release(j2);
	ctx_release(j);
	ctx_export_release(exp);
	ctx_cancel_release(cancel);
	ctx_release(ctx);
}

/* ==== set-up ======================================================================== */

static void teardown(void)
{
	const char *out = getenv("CTXFD_VM_OUT");

	if (getpid() != main_pid || !net[0])
		return;
	/* The logs, for whoever reads the run directory. */
	if (out && *out)
		sh("mkdir -p %s/ctxd-test && for h in a b; do cp %s/$h/ctxd.log %s/ctxd-test/ctxd-$h.log; done; cp %s/etcd/*.log %s/ctxd-test/ 2>/dev/null",
		   out, net, out, net, out);
	if (getenv("CTXFD_CTXD_KEEP")) {
		fprintf(stderr, "# keeping %s\n", net);
		return;
	}
	sh("%s down %s >/dev/null 2>&1", testnet, net);
	sh("rm -rf %s", net);
}

/* Start the cluster and both ctxds; on failure, say why in skip_why. */
static void setup(void)
{
	char exe[4096], *dir;
	ssize_t n;
	int fd;

	main_pid = getpid();
	if (getenv("CTXFD_CTXD_TTL") && atoi(getenv("CTXFD_CTXD_TTL")) >= 2)
		ttl_s = atoi(getenv("CTXFD_CTXD_TTL"));
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		shared = NULL;
		skip_why = "mmap failed";
		return;
	}
	shared->ttl = TTL_LONG;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		skip_why = "cannot find myself";
		return;
	}
	exe[n] = '\0';
	dir = dirname(exe);
	snprintf(testnet, sizeof(testnet), "%s/tools/ctxd/testnet", CTXD_TOP);
	snprintf(ctxrun, sizeof(ctxrun), "%s/../../tools/ctxrun", dir);
	if (geteuid() != 0) {
		skip_why = "needs root (network namespaces)";
		return;
	}
	fd = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		skip_why = "/dev/ctxfd missing: ctxfd.ko not loaded";
		return;
	}
	close(fd);
	if (sh("command -v etcd >/dev/null && command -v etcdctl >/dev/null")) {
		skip_why = "etcd is not installed (apt-get install etcd-server etcd-client)";
		return;
	}
	if (sh("ip netns add ctxd-probe 2>/dev/null && ip netns del ctxd-probe")) {
		skip_why = "this kernel has no network namespaces";
		return;
	}
	if (sh("modprobe veth 2>/dev/null; ip link add ctxd-probe type veth peer name ctxd-probe2 2>/dev/null && ip link del ctxd-probe")) {
		skip_why = "this kernel has no veth";
		return;
	}
	b_in_timens = sh("unshare --fork --time --monotonic 1 true 2>/dev/null") == 0;
	snprintf(net, sizeof(net), "/tmp/ctxd-test.XXXXXX");
	if (!mkdtemp(net)) {
		skip_why = "mkdtemp failed";
		net[0] = '\0';
		return;
	}
	atexit(teardown);
	fprintf(stderr, "# starting 3 etcd members and hosts a, b in %s%s\n", net,
		b_in_timens ? " (b's clocks a day ahead)" : "");
	if (sh("%s up %s a b", testnet, net) || sh("%s auth %s", testnet, net) ||
	    start_ctxd('a') || start_ctxd('b')) {
		sh("tail -n 20 %s/etcd/*.log %s/*/ctxd.log >&2", net, net);
		/* The environment works (checked above): this is a failure. */
		fprintf(stderr, "# cannot start the cluster\n");
		ksft_print_header();
		ksft_set_plan(1);
		ksft_test_result_fail("cluster start-up\n");
		ksft_exit_fail();
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--worker"))
		worker_main();
	setup();
	return test_harness_run(argc, argv);
}
