// SPDX-License-Identifier: GPL-2.0
/*
 * ctxrun: run a command under a context; tear its whole process tree
 * down when the context is done. timeout(1) done right.
 *
 *   ctxrun [-t DURATION] [-k GRACE] [-s SIGNAL] [-v] [--preserve-status]
 *          [--] COMMAND [ARG]...
 *
 * How it works (see ctxrun(1) for the user's view):
 *
 *  - The context: a child of the inherited one (CTXFD, else a new root),
 *    made in two steps: "outer", which ctxrun cancels on SIGINT, SIGTERM,
 *    SIGHUP and SIGQUIT (with a cause), and "ctx" below it, which carries
 *    the -t deadline. COMMAND gets a watch-only fd of "ctx" in CTXFD.
 *  - The teardown: ctxrun is a child subreaper, so every orphan of the
 *    tree (double-forked daemons included) is reparented to it and stays
 *    a descendant; ctxrun attaches itself to "ctx" with
 *    CTXFD_ATTACH_DESCENDANTS_ONLY, so the kernel signals every process
 *    below ctxrun, and nothing else, when "ctx" is done (SIGNAL, then
 *    SIGKILL after GRACE). A second attachment sends SIGCONT, as
 *    timeout(1) does, so that stopped processes can act on SIGNAL.
 *  - Escalation: a separate root context, "kill", is attached with
 *    SIGKILL; a second SIGINT/SIGTERM/SIGHUP/SIGQUIT cancels it. As
 *    ctxrun holds its only fd, ctxrun's own death cancels it too.
 *  - The end: when COMMAND exits, ctxrun cancels "ctx" (the tree's
 *    leftovers get SIGNAL), then reaps until it has no child at all:
 *    when ctxrun returns, nothing it started is left.
 *
 * Exit status as timeout(1): COMMAND's, 124 if the context's deadline
 * was exceeded, 125 if ctxrun failed, 126/127 if COMMAND could not be
 * run or found, 137 if COMMAND was killed with SIGKILL after a deadline.
 * COMMAND killed by signal N makes ctxrun die of N (128+N to a shell),
 * or of the signal M that canceled ctxrun if there was one (timeout(1)
 * forwards M, so its COMMAND dies of M).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctxfd.h>

#include "remote.h"

#define EXIT_TIMEDOUT		124
#define EXIT_CANCELED		125	/* ctxrun itself failed */
#define EXIT_CANNOT_INVOKE	126
#define EXIT_ENOENT		127

/* The kernel's longest grace period (module/attach.c): one day. */
#define GRACE_MAX	(86400 * CTX_SECOND)
/* Longer durations mean "no limit" (about 31 years). */
#define DURATION_MAX	((ctx_duration_t)1000000000 * 1000000000)

static bool verbose;

static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("ctxrun: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

#define info(...) do { if (verbose) say(__VA_ARGS__); } while (0)

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("ctxrun: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(EXIT_CANCELED);
}

static void __attribute__((noreturn)) usage(int status)
{
	FILE *f = status ? stderr : stdout;

	if (status)
		fprintf(f, "Try 'ctxrun --help' for more information.\n");
	else
		fprintf(f,
"Usage: ctxrun [OPTION]... [--] COMMAND [ARG]...\n"
"Run COMMAND under a new context, a child of the one inherited through\n"
"CTXFD (if any), exported to COMMAND in CTXFD. When the context is done\n"
"(deadline, inherited context canceled, SIGINT/SIGTERM/SIGHUP/SIGQUIT to\n"
"ctxrun) or COMMAND exits, signal COMMAND's whole process tree, daemons\n"
"included, and wait until all of it is gone.\n"
"\n"
"  -t, --timeout=DURATION    deadline: DURATION from now\n"
"  -k, --kill-after=DURATION also send SIGKILL this long after SIGNAL\n"
"  -s, --signal=SIGNAL       signal to send (default TERM); a name like\n"
"                            HUP or SIGHUP, or a number\n"
"      --preserve-status     exit with COMMAND's status even after the\n"
"                            deadline\n"
"      --join=NAME           run under the context exported as NAME on any\n"
"                            host (ctxd(8)) instead of the inherited one\n"
"      --export=NAME         publish the context as NAME for other hosts\n"
"  -v, --verbose             report progress on stderr\n"
"      --help                display this help and exit\n"
"      --version             output version information and exit\n"
"\n"
"DURATION is a floating point number with an optional suffix: 's' for\n"
"seconds (the default), 'm' for minutes, 'h' for hours or 'd' for days.\n"
"0 disables the associated timeout.\n"
"\n"
"Exit status: COMMAND's; 124 if the deadline was exceeded (137 if\n"
"COMMAND was then killed with SIGKILL); 125 if ctxrun fails; 126 if\n"
"COMMAND cannot be invoked; 127 if it cannot be found. If COMMAND dies\n"
"of a signal, ctxrun dies of the same signal.\n");
	exit(status);
}

/*
 * timeout(1)'s DURATION: a floating point number (strtod, so also
 * "1e3", "inf") with an optional suffix s, m, h or d. 0 disables, so
 * does anything beyond DURATION_MAX. Returns false if invalid.
 */
static bool parse_duration(const char *s, ctx_duration_t *out)
{
	double d, mult = 1, ns;
	char *end;

	errno = 0;
	d = strtod(s, &end);
	if (end == s || !(d >= 0) || (errno && errno != ERANGE))
		return false;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	default:
		return false;
	}
	if (*end && end[1])
		return false;
	ns = d * mult * 1e9;
	if (ns >= (double)DURATION_MAX)
		*out = 0;	/* no limit */
	else if (d > 0 && ns < 1)
		*out = 1;	/* tiny, but not "disabled" */
	else
		*out = (ctx_duration_t)ns;
	return true;
}

/* Aliases sigabbrev_np() does not know. */
static const struct {
	const char *name;
	int sig;
} sig_aliases[] = {
	{ "IOT", SIGABRT },
	{ "CLD", SIGCHLD },
	{ "POLL", SIGIO },
};

/*
 * A signal by number, or by name with or without "SIG", any case,
 * including RTMIN, RTMIN+N, RTMAX and RTMAX-N. -1 if invalid; 0 is
 * invalid too (the kernel has nothing to send).
 */
static int parse_signal(const char *s)
{
	const char *name = s;
	char *end;
	long n;
	int i;

	if (isdigit((unsigned char)*s)) {
		errno = 0;
		n = strtol(s, &end, 10);
		if (errno || *end || n < 1 || n > SIGRTMAX)
			return -1;
		return (int)n;
	}
	if (!strncasecmp(name, "SIG", 3))
		name += 3;
	if (!strncasecmp(name, "RTMIN", 5) || !strncasecmp(name, "RTMAX", 5)) {
		bool min = !strncasecmp(name, "RTMIN", 5);
		const char *off = name + 5;

		n = 0;
		if (*off) {
			if (*off != (min ? '+' : '-') || !isdigit((unsigned char)off[1]))
				return -1;
			errno = 0;
			n = strtol(off + 1, &end, 10);
			if (errno || *end)
				return -1;
		}
		if (n > SIGRTMAX - SIGRTMIN)
			return -1;
		return min ? SIGRTMIN + (int)n : SIGRTMAX - (int)n;
	}
	for (i = 1; i < SIGRTMIN; i++) {
		const char *abbrev = sigabbrev_np(i);

		if (abbrev && !strcasecmp(abbrev, name))
			return i;
	}
	for (i = 0; i < (int)(sizeof(sig_aliases) / sizeof(sig_aliases[0])); i++)
		if (!strcasecmp(sig_aliases[i].name, name))
			return sig_aliases[i].sig;
	return -1;
}

static const char *signame(int sig)
{
	static char buf[32];
	const char *abbrev = sig < SIGRTMIN ? sigabbrev_np(sig) : NULL;

	if (abbrev)
		snprintf(buf, sizeof(buf), "SIG%s", abbrev);
	else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, sizeof(buf), "signal %d", sig);
	return buf;
}

/* "1.5s", for messages. */
static const char *fmt_duration(ctx_duration_t d)
{
	static char buf[2][32];
	static int which;
	char *b = buf[which++ & 1];

	snprintf(b, sizeof(buf[0]), "%gs", (double)d / 1e9);
	return b;
}

/* The signals that cancel the context. */
static const int cancel_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/*
 * Exit the way COMMAND ended: die of its signal, or exit with its code.
 * Core dumps are off first, so a COMMAND that dumped core does not make
 * ctxrun dump too (timeout(1) does the same).
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

static const struct option longopts[] = {
	{ "timeout", required_argument, NULL, 't' },
	{ "kill-after", required_argument, NULL, 'k' },
	{ "signal", required_argument, NULL, 's' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "preserve-status", no_argument, NULL, 'P' },
	{ "join", required_argument, NULL, 'J' },
	{ "export", required_argument, NULL, 'E' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	ctx_duration_t timeout = 0, grace = 0;
	ctx_t *parent = NULL, *outer = NULL, *ctx = NULL, *killctx = NULL;
	ctx_cancel_t *outer_cancel = NULL, *cancel = NULL, *kill_cancel = NULL;
	bool preserve = false, inherited, done = false, command_done = false;
	bool timed_out = false;
	int got_sig = 0;	/* the first signal that canceled */
	int sig = SIGTERM, opt, ret, sfd, sync[2], nsignals = 0, status = 0;
	int envfd;
	char errbuf[CTX_CAUSE_MSG_MAX + 1];
	sigset_t block, orig;
	pid_t child;
	unsigned int i;
	char msg[128];
	const char *join = NULL, *export_name = NULL;

	while ((opt = getopt_long(argc, argv, "+t:k:s:v", longopts, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (!parse_duration(optarg, &timeout))
				die("invalid time interval '%s'", optarg);
			break;
		case 'k':
			if (!parse_duration(optarg, &grace))
				die("invalid time interval '%s'", optarg);
			break;
		case 's':
			sig = parse_signal(optarg);
			if (sig < 0)
				die("%s: invalid signal", optarg);
			break;
		case 'v':
			verbose = true;
			break;
		case 'P':
			preserve = true;
			break;
		case 'J':
			join = optarg;
			break;
		case 'E':
			export_name = optarg;
			break;
		case 'h':
			usage(0);
		case 'V':
			printf("ctxrun (ctxfd) %d.%d\n", LIBCTXFD_VERSION_MAJOR,
			       LIBCTXFD_VERSION_MINOR);
			return 0;
		default:
			usage(EXIT_CANCELED);
		}
	}
	if (optind >= argc) {
		say("missing operand");
		usage(EXIT_CANCELED);
	}
	if (sig == SIGKILL)
		grace = 0;	/* nothing follows SIGKILL */
	if (grace > GRACE_MAX)
		die("kill-after duration %s is too long: the kernel accepts at most 1d",
		    fmt_duration(grace));

	/* The context: a child of the inherited one, with the deadline. */
	if (join)
		ret = ctxrun_join_parent(join, &parent, verbose) < 0 ? -1 : 1;
	else
		ret = ctx_from_env(&parent);
	if (join && ret < 0)
		return EXIT_CANCELED;
	if (ret < 0)
		die("cannot adopt the inherited context (%s): %s", CTX_ENV,
		    ctx_last_error());
	inherited = ret == 1;
	if (ctx_with_cancel_cause(parent, &outer, &outer_cancel) < 0)
		die("cannot create a context: %s", ctx_last_error());
	if (timeout) {
		snprintf(msg, sizeof(msg), "ctxrun: timed out after %s",
			 fmt_duration(timeout));
		if (ctx_with_timeout_cause(outer, timeout, EXIT_TIMEDOUT, msg,
					   &ctx, &cancel) < 0)
			die("cannot create a context: %s", ctx_last_error());
	} else {
		ctx = ctx_retain(outer);
		cancel = NULL;
	}
	if (export_name &&
	    ctxrun_export(export_name, ctx, cancel ? cancel : outer_cancel,
			  verbose) < 0)
		return EXIT_CANCELED;
	if (ctx_with_cancel(ctx_background(), &killctx, &kill_cancel) < 0)
		die("cannot create a context: %s", ctx_last_error());
	info("context%s%s%s", inherited ? " under the inherited one" : " (new root)",
	     timeout ? ", deadline in " : "", timeout ? fmt_duration(timeout) : "");

	ret = ctx_err(ctx);
	if (ret) {
		ctx_cause(ctx, NULL, errbuf, sizeof(errbuf));
		say("not running %s: %s", argv[optind],
		    strncmp(errbuf, "ctxrun: ", 8) ? errbuf : errbuf + 8);
		return ret == CTX_DEADLINE_EXCEEDED ? EXIT_TIMEDOUT : EXIT_CANCELED;
	}

	/*
	 * Orphans come to us; we see the signals that cancel through a
	 * signalfd, and SIGCHLD there too.
	 */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		die("cannot become a child subreaper: %s", strerror(errno));
	signal(SIGCHLD, SIG_DFL);	/* SIG_IGN would reap for us */
	sigemptyset(&block);
	for (i = 0; i < sizeof(cancel_signals) / sizeof(cancel_signals[0]); i++)
		sigaddset(&block, cancel_signals[i]);
	sigaddset(&block, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &block, &orig) < 0)
		die("sigprocmask: %s", strerror(errno));
	sfd = signalfd(-1, &block, SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd: %s", strerror(errno));

	/*
	 * Fork COMMAND held back on a pipe, attach, then let it go: if the
	 * context is done by then, attaching signals it at once.
	 */
	if (pipe2(sync, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	envfd = ctx_export_env(ctx, NULL, 0);
	if (envfd < 0)
		die("cannot export the context: %s", ctx_last_error());
	child = fork();
	if (child < 0)
		die("fork: %s", strerror(errno));
	if (child == 0) {
		char c;

		close(sync[1]);
		if (read(sync[0], &c, 1) != 1)
			_exit(EXIT_CANCELED);
		sigprocmask(SIG_SETMASK, &orig, NULL);
		execvp(argv[optind], &argv[optind]);
		ret = errno;
		say("failed to run command '%s': %s", argv[optind], strerror(ret));
		_exit(ret == ENOENT ? EXIT_ENOENT : EXIT_CANNOT_INVOKE);
	}
	close(envfd);	/* the exported fd: COMMAND's now */
	close(sync[0]);

	if (ctx_kill_on_cancel(ctx, getpid(), sig, grace,
			       CTX_KILL_DESCENDANTS_ONLY) < 0 ||
	    (sig != SIGKILL && sig != SIGCONT &&
	     ctx_kill_on_cancel(ctx, getpid(), SIGCONT, 0,
				CTX_KILL_DESCENDANTS_ONLY) < 0) ||
	    ctx_kill_on_cancel(killctx, getpid(), SIGKILL, 0,
			       CTX_KILL_DESCENDANTS_ONLY) < 0) {
		say("cannot attach the process tree: %s", ctx_last_error());
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		return EXIT_CANCELED;
	}
	if (write(sync[1], "x", 1) != 1) {
		say("cannot start %s: %s", argv[optind], strerror(errno));
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		return EXIT_CANCELED;
	}
	close(sync[1]);
	info("started %s (pid %d)", argv[optind], (int)child);

	/* Until we have no child left: COMMAND and every orphan. */
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = done ? -1 : ctx_done_fd(ctx), .events = POLLIN },
		};
		struct signalfd_siginfo si;
		bool reaped_all = false;
		pid_t pid;
		int st;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (pfd[1].revents && !done) {
			done = true;
			ret = ctx_cause(ctx, NULL, errbuf, sizeof(errbuf));
			if (!command_done) {
				timed_out = ret == CTX_DEADLINE_EXCEEDED;
				info("%s: %s to the process tree%s%s",
				     strncmp(errbuf, "ctxrun: ", 8) ? errbuf : errbuf + 8,
				     signame(sig), grace ? ", SIGKILL after " : "",
				     grace ? fmt_duration(grace) : "");
			}
		}
		if (!(pfd[0].revents & POLLIN))
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if ((int)si.ssi_signo != SIGCHLD) {
			nsignals++;
			if (nsignals == 1) {
				got_sig = (int)si.ssi_signo;
				snprintf(msg, sizeof(msg), "ctxrun: got %s",
					 signame((int)si.ssi_signo));
				info("%s, canceling", signame((int)si.ssi_signo));
				ctx_cancel_cause(outer_cancel,
						 128 + (int)si.ssi_signo, msg);
			} else {
				info("%s again: SIGKILL to the process tree",
				     signame((int)si.ssi_signo));
				ctx_cancel(kill_cancel);
			}
			continue;
		}
		while ((pid = waitpid(-1, &st, WNOHANG)) != 0) {
			if (pid < 0) {
				reaped_all = errno == ECHILD;
				break;
			}
			if (pid != child)
				continue;
			command_done = true;
			status = st;
			/* Deadline hit before COMMAND ended? */
			if (!done)
				timed_out = ctx_err(ctx) == CTX_DEADLINE_EXCEEDED;
			if (WIFEXITED(st))
				info("%s exited with status %d", argv[optind],
				     WEXITSTATUS(st));
			else
				info("%s died of %s", argv[optind],
				     signame(WTERMSIG(st)));
			/* Its leftovers go with it: the kernel's defer cancel(). */
			if (!done) {
				info("%s to whatever is left of the tree",
				     signame(sig));
				if (cancel)
					ctx_cancel(cancel);
				else
					ctx_cancel(outer_cancel);
			}
		}
		if (reaped_all && command_done)
			break;
	}
	info("process tree gone");

	if (timed_out) {
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			return 128 + SIGKILL;
		if (!preserve)
			return EXIT_TIMEDOUT;
		if (WIFSIGNALED(status))
			return 128 + WTERMSIG(status);
		return WEXITSTATUS(status);
	}
	/*
	 * Interrupted, and COMMAND died of the teardown: die of the signal
	 * we got, as timeout(1) does by forwarding it, so that a shell sees
	 * the interrupt for what it is.
	 */
	if (got_sig && WIFSIGNALED(status))
		die_of(got_sig);
	exit_like(status);
}
