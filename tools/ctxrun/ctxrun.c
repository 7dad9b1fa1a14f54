// SPDX-License-Identifier: GPL-2.0
/*
 * ctxrun: run a command under a context; tear its whole process tree
 * down when the context is done. timeout(1) done right.
 *
 *   ctxrun [OPTION]... DURATION COMMAND [ARG]...     (timeout(1)'s form)
 *   ctxrun [OPTION]... [--] COMMAND [ARG]...
 *
 * How it works (see ctxrun(1) for the user's view; ctxrun.h for the
 * files):
 *
 *  - The contexts. "outer", a child of the inherited context (CTXFD,
 *    else a new root), is what ctxrun cancels: when COMMAND ends, or a
 *    signal asks the run to end. "ctx", below it, carries the deadline;
 *    COMMAND gets a watch-only fd of it in CTXFD. "sig" sends SIGNAL and
 *    SIGCONT to the tree: a child of the inherited context with ctx's
 *    deadline, so the kernel fires it at the deadline or on an inherited
 *    cancel with no help from ctxrun, but not when ctxrun cancels outer
 *    (a signal ctxrun received is passed on instead of SIGNAL); with
 *    --grace, a root that ctxrun cancels once the grace is over. "kill",
 *    a root whose only fd ctxrun holds, sends SIGKILL: ctxrun cancels it
 *    for -k and a second signal, and its death cancels it too.
 *  - The tree. ctxrun is a child subreaper, so every orphan of the tree
 *    (double-forked daemons included) is reparented to it and stays a
 *    descendant; it attaches itself to "sig" and "kill" with
 *    CTXFD_ATTACH_DESCENDANTS_ONLY, so the kernel signals every process
 *    below ctxrun, and nothing else.
 *  - The end. When COMMAND ends, ctxrun cancels outer (the tree's
 *    leftovers see their context done), then sends SIGNAL (after
 *    --grace), and reaps until it has no child at all: when ctxrun
 *    returns, nothing it started is left. As PID 1 of a pid namespace
 *    this is also what a container's init does: reap every orphan.
 *
 * Exit status as timeout(1): COMMAND's; 124 if the deadline was exceeded
 * (or SIGALRM came), 137 if COMMAND was then killed with SIGKILL; 125 if
 * ctxrun failed, 126/127 if COMMAND could not be run or found. COMMAND
 * killed by signal N makes ctxrun die of N (128+N to a shell), or of the
 * signal M that asked the run to end, if there was one.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctxrun.h"
#include "remote.h"

const char *prog = "ctxrun";
int verbose;

void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(EXIT_CANCELED);
}

static void __attribute__((noreturn)) try_help(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", prog);
	exit(EXIT_CANCELED);
}

static void __attribute__((noreturn)) usage(void)
{
	printf(
"Usage: %s [OPTION]... DURATION COMMAND [ARG]...\n"
"  or:  %s [OPTION]... [--] COMMAND [ARG]...\n"
"Run COMMAND under a new context, a child of the one inherited through\n"
"CTXFD (if any), exported to COMMAND in CTXFD. When the context is done\n"
"(DURATION passed, the inherited context canceled, SIGTERM, SIGINT,\n"
"SIGHUP or SIGQUIT to %s) or COMMAND exits, signal COMMAND's whole\n"
"process tree, daemons included, and wait until all of it is gone.\n"
"\n"
"  -t, --timeout=DURATION     the deadline, if not given as an operand\n"
"  -s, --signal=SIGNAL        the signal to send (default TERM): a name like\n"
"                               HUP or a number; 0 or EXIT sends nothing\n"
"  -k, --kill-after=DURATION  also send SIGKILL this long after SIGNAL\n"
"      --grace=DURATION       on deadline or cancel, let COMMAND see its\n"
"                               context done and exit on its own for this\n"
"                               long before sending SIGNAL\n"
"      --preserve-status      exit with COMMAND's status even after the\n"
"                               deadline\n"
"      --foreground           accepted for timeout(1) compatibility: COMMAND\n"
"                               always stays in the foreground\n"
"      --join=NAME            run under the context exported as NAME on any\n"
"                               host (ctxd(8)) instead of the inherited one\n"
"      --export=NAME          publish the context as NAME for other hosts\n"
"                               (ctxd(8)), for the whole run\n"
"  -v, --verbose              say on stderr which signal is sent; twice: all\n"
"                               that happens\n"
"      --help                 display this help and exit\n"
"      --version              output version information and exit\n"
"\n"
"DURATION is a floating point number with an optional suffix: 's' for\n"
"seconds (the default), 'm' for minutes, 'h' for hours or 'd' for days.\n"
"A duration of 0 disables the associated timeout. A first operand that is\n"
"a DURATION is one; after -t or --, the first operand is COMMAND.\n"
"\n"
"Exit status: COMMAND's; 124 if the deadline was exceeded and\n"
"--preserve-status was not given (137 if COMMAND was then killed with\n"
"SIGKILL); 125 if %s fails; 126 if COMMAND cannot be invoked; 127 if\n"
"it cannot be found. If COMMAND dies of a signal, %s dies of the same\n"
"signal. See ctxrun(1).\n", prog, prog, prog, prog, prog);
	exit(0);
}

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Exit the way COMMAND ended: die of its signal, or exit with its code.
 * Core dumps are off first, so a COMMAND that dumped core does not make
 * ctxrun dump too (timeout(1) does the same). PID 1 cannot die of its
 * own signals: it exits 128+N.
 */
static void __attribute__((noreturn)) die_of(int sig)
{
	struct rlimit rl = { 0, 0 };
	sigset_t set;

	fflush(NULL);
	if (sig == SIGKILL) {
		raise(SIGKILL);
	} else if (setrlimit(RLIMIT_CORE, &rl) == 0) {
		signal(sig, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
	}
	exit(128 + sig);
}

static void __attribute__((noreturn)) exit_like(int status)
{
	if (WIFSIGNALED(status))
		die_of(WTERMSIG(status));
	exit(WEXITSTATUS(status));
}

/* The context is done: deadline, inherited cancel, or our own cancel. */
static void context_done(struct run *r)
{
	char msg[CTX_CAUSE_MSG_MAX + 1];
	int err = ctx_cause(r->ctx, NULL, msg, sizeof(msg));

	if (r->started)
		return;
	if (err == CTX_DEADLINE_EXCEEDED && !r->command_done)
		r->timed_out = true;
	info(2, "%s", strncmp(msg, "ctxrun: ", 8) ? msg : msg + 8);
	teardown_start(r, r->sig, 0, NULL);
}

/* COMMAND ended: its leftovers go with it (the kernel's defer cancel()). */
static void command_ended(struct run *r, int status)
{
	r->command_done = true;
	r->command_stopped = false;
	r->status = status;
	if (!r->started && ctx_err(r->ctx) == CTX_DEADLINE_EXCEEDED)
		r->timed_out = true;	/* the fd has not told us yet */
	if (WIFEXITED(status))
		info(2, "'%s' exited with status %d", r->command,
		     WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		info(2, "'%s' died of SIG%s", r->command,
		     sig_name(WTERMSIG(status)));
	if (WIFSIGNALED(status) && WCOREDUMP(status))
		say("the monitored command dumped core");
	if (!r->started) {
		ctx_cancel(r->outer_cancel);
		teardown_start(r, r->sig, 0, NULL);
	}
}

/*
 * Reap what can be reaped: COMMAND, orphans, stop and continue reports of
 * COMMAND. True once no child is left.
 */
static bool reap(struct run *r)
{
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG | WUNTRACED | WCONTINUED);

		if (pid == 0)
			return false;
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECHILD;
		}
		if (pid != r->child || r->command_done)
			continue;	/* an orphan, reaped */
		if (WIFSTOPPED(st)) {
			r->command_stopped = true;
			signals_command_stopped(r, WSTOPSIG(st));
		} else if (WIFCONTINUED(st)) {
			r->command_stopped = false;
		} else {
			command_ended(r, st);
		}
	}
}

enum {
	OPT_GRACE = 256,
	OPT_FOREGROUND,
	OPT_PRESERVE,
	OPT_HELP,
	OPT_VERSION,
	OPT_JOIN,
	OPT_EXPORT,
};

static const struct option longopts[] = {
	{ "timeout", required_argument, NULL, 't' },
	{ "kill-after", required_argument, NULL, 'k' },
	{ "signal", required_argument, NULL, 's' },
	{ "grace", required_argument, NULL, OPT_GRACE },
	{ "foreground", no_argument, NULL, OPT_FOREGROUND },
	{ "preserve-status", no_argument, NULL, OPT_PRESERVE },
	{ "join", required_argument, NULL, OPT_JOIN },
	{ "export", required_argument, NULL, OPT_EXPORT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static ctx_duration_t duration_arg(const char *s)
{
	ctx_duration_t d;

	if (!parse_duration(s, &d)) {
		say("invalid time interval '%s'", s);
		try_help();
	}
	return d;
}

int main(int argc, char **argv)
{
	struct run r = { .sig = SIGTERM };
	ctx_duration_t timeout = 0;
	ctx_t *parent = NULL;
	ctx_cancel_t *deadline_cancel = NULL;
	const char *join = NULL, *export_name = NULL;
	bool preserve = false, have_timeout = false, dashdash, ctx_seen = false;
	bool inherited;
	char errbuf[CTX_CAUSE_MSG_MAX + 1], msg[128];
	int opt, before, first, ret, sfd, sync[2], envfd, err;
	sigset_t handled;
	struct timespec deadline;
	char *argv0 = argv[0];

	prog = program_invocation_short_name;
	/* getopt's own messages name argv[0]: the short name, as ours. */
	argv[0] = (char *)prog;
	for (;;) {
		before = optind;
		opt = getopt_long(argc, argv, "+t:k:s:v", longopts, NULL);
		if (opt == -1)
			break;
		switch (opt) {
		case 't':
			timeout = duration_arg(optarg);
			have_timeout = true;
			break;
		case 'k':
			r.kill_after = duration_arg(optarg);
			break;
		case OPT_GRACE:
			r.grace = duration_arg(optarg);
			break;
		case 's':
			r.sig = parse_signal(optarg);
			if (r.sig < 0) {
				say("'%s': invalid signal", optarg);
				try_help();
			}
			break;
		case 'v':
			verbose++;
			break;
		case OPT_FOREGROUND:
			break;	/* COMMAND is always in the foreground */
		case OPT_PRESERVE:
			preserve = true;
			break;
		case OPT_JOIN:
			join = optarg;
			break;
		case OPT_EXPORT:
			export_name = optarg;
			break;
		case OPT_HELP:
			usage();
		case OPT_VERSION:
			/* ctxfd's one version (VERSION; tools/version) */
			printf("%s (ctxfd) %d.%d.%d\n", prog,
			       LIBCTXFD_VERSION_MAJOR, LIBCTXFD_VERSION_MINOR,
			       LIBCTXFD_VERSION_PATCH);
			return 0;
		default:
			try_help();
		}
	}
	argv[0] = argv0;
	dashdash = optind > before;	/* getopt stepped over a "--" */

	/* timeout(1)'s form: DURATION first, unless -t or -- came. */
	first = optind;
	if (!have_timeout && !dashdash && first < argc &&
	    parse_duration(argv[first], &timeout)) {
		first++;
		if (first < argc && !strcmp(argv[first], "--"))
			first++;
	}
	if (first >= argc) {
		say("missing operand");
		try_help();
	}
	r.command = argv[first];
	if (timeout == DURATION_FOREVER)
		timeout = 0;
	if (r.sig == SIGKILL)
		r.kill_after = 0;	/* nothing follows SIGKILL */
	r.pid1 = getpid() == 1;

	/* The contexts: see the top of this file. */
	if (join) {
		/* The remote context is the parent; CTXFD is ignored. */
		if (ctxrun_join_parent(join, &parent, verbose >= 2) < 0)
			return EXIT_CANCELED;
		ret = 1;
	} else {
		ret = ctx_from_env(&parent);
	}
	if (ret < 0)
		die("cannot adopt the inherited context (%s): %s", CTX_ENV,
		    ctx_last_error());
	inherited = ret == 1;
	if (ctx_with_cancel_cause(parent, &r.outer, &r.outer_cancel) < 0)
		die("cannot create a context: %s", ctx_last_error());
	err = ctx_err(r.outer);
	if (err) {
		/* The inherited context is done: nothing to run. */
		ctx_cause(r.outer, NULL, errbuf, sizeof(errbuf));
		say("not running %s: %s", r.command,
		    strncmp(errbuf, "ctxrun: ", 8) ? errbuf : errbuf + 8);
		return err == CTX_DEADLINE_EXCEEDED ? EXIT_TIMEDOUT : EXIT_CANCELED;
	}
	if (timeout) {
		snprintf(msg, sizeof(msg), "ctxrun: timed out after %s",
			 fmt_duration(timeout));
		/* Its cancel handle stays unused: releasing it would cancel. */
		if (ctx_with_timeout_cause(r.outer, timeout, EXIT_TIMEDOUT, msg,
					   &r.ctx, &deadline_cancel) < 0)
			die("cannot create a context: %s", ctx_last_error());
	} else {
		r.ctx = ctx_retain(r.outer);
	}
	if (export_name &&
	    ctxrun_export(export_name, r.ctx,
			  deadline_cancel ? deadline_cancel : r.outer_cancel,
			  verbose >= 2) < 0)
		return EXIT_CANCELED;
	if (r.sig) {
		if (r.grace)
			ret = ctx_with_cancel(ctx_background(), &r.sigctx,
					      &r.sig_cancel);
		else if (ctx_deadline(r.ctx, &deadline))
			ret = ctx_with_deadline(parent, &deadline, &r.sigctx,
						&r.sig_cancel);
		else
			ret = ctx_with_cancel(parent, &r.sigctx, &r.sig_cancel);
		if (ret < 0)
			die("cannot create a context: %s", ctx_last_error());
	}
	if (ctx_with_cancel(ctx_background(), &r.killctx, &r.kill_cancel) < 0)
		die("cannot create a context: %s", ctx_last_error());
	if (!r.pid1) {
		if (ctx_deadline(r.ctx, &deadline))
			ret = ctx_with_deadline(parent, &deadline, &r.contctx,
						&r.cont_cancel);
		else
			ret = ctx_with_cancel(parent, &r.contctx, &r.cont_cancel);
		if (ret < 0)
			die("cannot create a context: %s", ctx_last_error());
	}
	info(2, "context%s%s%s", join ? " under the joined one" :
	     inherited ? " under the inherited one" : " (new root)",
	     timeout ? ", deadline in " : "", timeout ? fmt_duration(timeout) : "");

	/*
	 * Orphans come to us; the signals come through a signalfd, SIGCHLD
	 * too.
	 */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		die("cannot become a child subreaper: %s", strerror(errno));
	if (!signals_setup(&handled))
		die("sigprocmask: %s", strerror(errno));
	sfd = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		die("signalfd: %s", strerror(errno));

	/*
	 * Fork COMMAND held back on a pipe, attach, then let it go: if the
	 * context is done by then (a tiny DURATION), attaching signals it at
	 * once, and it dies as timeout(1)'s would.
	 */
	if (pipe2(sync, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	envfd = ctx_export_env(r.ctx, NULL, 0);
	if (envfd < 0)
		die("cannot export the context: %s", ctx_last_error());
	fflush(NULL);
	r.child = fork();
	if (r.child < 0)
		die("fork: %s", strerror(errno));
	if (r.child == 0) {
		char c;

		close(sync[1]);
		if (read(sync[0], &c, 1) != 1)
			_exit(EXIT_CANCELED);
		signals_restore_for_command();
		execvp(r.command, &argv[first]);
		ret = errno;
		say("failed to run command '%s': %s", r.command, strerror(ret));
		_exit(ret == ENOENT ? EXIT_ENOENT : EXIT_CANNOT_INVOKE);
	}
	close(envfd);	/* the exported fd: COMMAND's now */
	close(sync[0]);

	if ((r.sigctx &&
	     (ctx_kill_on_cancel(r.sigctx, getpid(), r.sig, 0,
				 CTX_KILL_DESCENDANTS_ONLY) < 0 ||
	      (r.sig != SIGKILL && r.sig != SIGCONT &&
	       ctx_kill_on_cancel(r.sigctx, getpid(), SIGCONT, 0,
				  CTX_KILL_DESCENDANTS_ONLY) < 0))) ||
	    ctx_kill_on_cancel(r.killctx, getpid(), SIGKILL, 0,
			       CTX_KILL_DESCENDANTS_ONLY) < 0 ||
	    /* A stopped ctxrun (job control) resumes when the context is done. */
	    (!r.pid1 && ctx_kill_on_cancel(r.contctx, getpid(), SIGCONT, 0, 0) < 0)) {
		say("cannot attach the process tree: %s", ctx_last_error());
		kill(r.child, SIGKILL);
		waitpid(r.child, NULL, 0);
		return EXIT_CANCELED;
	}
	/*
	 * EPIPE: the context was done already and its SIGKILL (-s KILL)
	 * got COMMAND first. The loop reaps it, like any other end.
	 */
	if (write(sync[1], "x", 1) != 1 && errno != EPIPE)
		say("cannot start %s: %s", r.command, strerror(errno));
	close(sync[1]);
	info(2, "started '%s' (pid %d)%s", r.command, (int)r.child,
	     r.pid1 ? " as the child of PID 1" : "");

	/* Until no child is left: COMMAND and every orphan. */
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = ctx_seen ? -1 : ctx_done_fd(r.ctx), .events = POLLIN },
		};
		struct signalfd_siginfo si[16];
		int nsi = 0, i;
		bool reaped_all;

		if (poll(pfd, 2, teardown_poll_timeout(&r)) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (pfd[1].revents && !ctx_seen) {
			ctx_seen = true;
			context_done(&r);
		}
		teardown_timers(&r);
		/*
		 * The signals waiting, then the wait reports (which job
		 * control stops may depend on), then the signals.
		 */
		while (nsi < 16 &&
		       read(sfd, &si[nsi], sizeof(si[0])) == sizeof(si[0]))
			nsi++;
		for (i = 0; i < nsi; i++)
			signals_note(&r, &si[i]);
		reaped_all = reap(&r);
		for (i = 0; i < nsi; i++)
			signals_handle(&r, &si[i]);
		if (r.command_done && reaped_all)
			break;
	}
	info(2, "process tree gone");
	if (deadline_cancel) {
		/* Done with: the deadline's fd under outer must go too. */
		ctx_cancel_release(deadline_cancel);
		deadline_cancel = NULL;
	}
	teardown_drain(&r);

	if (r.timed_out) {
		if (WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL)
			return 128 + SIGKILL;
		if (!preserve)
			return EXIT_TIMEDOUT;
		if (WIFSIGNALED(r.status))
			return 128 + WTERMSIG(r.status);
		return WEXITSTATUS(r.status);
	}
	/*
	 * Asked to end by a signal, and COMMAND died of a signal: die of the
	 * one we got, so that a shell sees the interrupt for what it is.
	 */
	if (r.got_sig && WIFSIGNALED(r.status))
		die_of(r.got_sig);
	exit_like(r.status);
}
