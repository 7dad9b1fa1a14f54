// SPDX-License-Identifier: GPL-2.0
/*
 * What a signal that ctxrun receives means. ctxrun blocks every signal
 * it can pass on and reads them from a signalfd; it never changes process
 * groups, so COMMAND stays in the terminal's foreground, and:
 *
 *  - A signal the terminal sent to the foreground process group (Ctrl-C,
 *    Ctrl-\, Ctrl-Z, a window size change; si_code SI_KERNEL) reached
 *    COMMAND too, if COMMAND is in ctxrun's group: COMMAND decides, as
 *    without ctxrun. If it ends, so does the run (ctxrun.c); if it lives
 *    on (a Python REPL after Ctrl-C), so does ctxrun.
 *  - SIGTERM, SIGINT, SIGHUP and SIGQUIT sent to ctxrun ask the run to
 *    end: the context is canceled ("ctxrun: got SIGTERM"), and the same
 *    signal goes to the whole tree (after --grace), as timeout(1) passes
 *    it on to its command. Again, and the tree is killed.
 *  - SIGALRM is the deadline, as for timeout(1): SIGNAL, exit 124.
 *  - Any other signal (SIGUSR1, SIGWINCH, real-time signals...) is
 *    passed on to COMMAND, as tini and dumb-init do for a container.
 *  - As the init of a pid namespace, SIGHUP is passed on too (servers
 *    read it as "reload"), not taken as the end.
 *  - Job control: when the job is stopped (Ctrl-Z or tty input in the
 *    background stop the whole process group; a stop signal sent to
 *    ctxrun alone is passed on to COMMAND), ctxrun stops once COMMAND has
 *    stopped, so that the shell sees the job stopped when COMMAND is;
 *    continued, it continues COMMAND if COMMAND is still stopped. A stop
 *    of COMMAND alone (kill -STOP on its pid) is not the job's: ctxrun
 *    does not stop then, or nobody might continue it.
 *
 * Signals ignored when ctxrun starts (nohup, a script's background job)
 * stay ignored, for ctxrun and for COMMAND. Faults (SIGSEGV...), SIGPIPE,
 * SIGXCPU and SIGXFSZ concern ctxrun itself and are not passed on;
 * ctxrun ignores SIGPIPE, so that a closed stderr cannot kill it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctxrun.h"

static struct sigaction orig_act[_NSIG];	/* as ctxrun found them */
static sigset_t orig_mask;

/* Signals ctxrun never takes: they are about ctxrun itself. */
static bool sig_is_own(int sig)
{
	switch (sig) {
	case SIGKILL:
	case SIGSTOP:
	case SIGSEGV:
	case SIGBUS:
	case SIGFPE:
	case SIGILL:
	case SIGTRAP:
	case SIGSYS:
	case SIGABRT:
	case SIGPIPE:
	case SIGXCPU:
	case SIGXFSZ:
		return true;
	}
	return false;
}

/**
 * signals_setup - take the signals ctxrun handles
 * @handled: receives the set, for signalfd()
 *
 * Saves the dispositions and mask ctxrun was started with (COMMAND gets
 * them back), blocks @handled, makes SIGCHLD report (a SIG_IGN there
 * would reap for us) and ignores SIGPIPE.
 *
 * Return: false if the mask cannot be set.
 */
bool signals_setup(sigset_t *handled)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	struct sigaction ign = { .sa_handler = SIG_IGN };
	int sig;

	sigprocmask(SIG_SETMASK, NULL, &orig_mask);
	sigemptyset(handled);
	for (sig = 1; sig < _NSIG; sig++) {
		if (sigaction(sig, NULL, &orig_act[sig]) < 0)
			continue;	/* glibc's own: 32, 33 */
		if (sig_is_own(sig))
			continue;
		if (orig_act[sig].sa_handler == SIG_IGN && sig != SIGCHLD)
			continue;	/* nohup & co: stays ignored */
		sigaddset(handled, sig);
	}
	sigaction(SIGCHLD, &dfl, NULL);
	sigaction(SIGPIPE, &ign, NULL);
	return sigprocmask(SIG_BLOCK, handled, NULL) == 0;
}

/* In COMMAND, before execve(): the dispositions and mask ctxrun found. */
void signals_restore_for_command(void)
{
	sigaction(SIGCHLD, &orig_act[SIGCHLD], NULL);
	sigaction(SIGPIPE, &orig_act[SIGPIPE], NULL);
	sigprocmask(SIG_SETMASK, &orig_mask, NULL);
}

/*
 * Did the terminal send @si to ctxrun's process group, which COMMAND is
 * in too? The tty driver sends with si_code SI_KERNEL; kill(2) gives
 * SI_USER. A hangup reaches a session leader alone, so SIGHUP to a
 * ctxrun that leads its session is its own.
 */
static bool from_terminal(const struct run *r,
			  const struct signalfd_siginfo *si)
{
	int sig = (int)si->ssi_signo;

	if (si->ssi_code != SI_KERNEL || r->command_done)
		return false;
	switch (sig) {
	case SIGINT:
	case SIGQUIT:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
	case SIGHUP:
	case SIGWINCH:
	case SIGCONT:
		break;
	default:
		return false;
	}
	if (sig == SIGHUP && getsid(0) == getpid())
		return false;
	return getpgid(r->child) == getpgrp();
}

/* SIGTERM & co. sent to ctxrun: the run is to end. */
static void end_signal(struct run *r, int sig)
{
	char msg[64];

	if (r->started && r->signalled && !r->tsig && !r->got_sig) {
		/* -s 0 sent nothing: this is the first signal the tree gets. */
		r->got_sig = sig;
		teardown_pass_on(r, sig);
		return;
	}
	if (r->started) {
		info(2, "SIG%s again: hurrying the teardown", sig_name(sig));
		teardown_hurry(r);
		return;
	}
	r->got_sig = sig;
	snprintf(msg, sizeof(msg), "ctxrun: got SIG%s", sig_name(sig));
	info(2, "%s: canceling the context", msg + 8);
	teardown_start(r, sig, 128 + sig, msg);
}

/* SIGALRM: the deadline, as for timeout(1). */
static void alarm_signal(struct run *r)
{
	if (!r->command_done)
		r->timed_out = true;
	if (r->started) {
		teardown_hurry(r);
		return;
	}
	info(2, "got SIGALRM: deadline");
	teardown_start(r, r->sig, EXIT_TIMEDOUT, "ctxrun: got SIGALRM");
}

/* Pass @sig on to COMMAND. */
static void forward(struct run *r, int sig)
{
	if (r->command_done)
		return;
	info(2, "passing SIG%s on to '%s'", sig_name(sig), r->command);
	kill(r->child, sig);
}

/**
 * signals_note - what a signal says about job control, before the reaping
 * @r: the run
 * @si: the signal
 *
 * A stop signal that reached ctxrun (from the terminal to the group, or
 * sent to ctxrun) makes the next stop of COMMAND a stop of the job;
 * SIGCONT ends that.
 */
void signals_note(struct run *r, const struct signalfd_siginfo *si)
{
	switch (si->ssi_signo) {
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		r->stop_asked = true;
		break;
	case SIGCONT:
		r->stop_asked = false;
		break;
	}
}

/**
 * signals_handle - act on a signal ctxrun received
 * @r: the run
 * @si: the signal, as signalfd() reads it (not SIGCHLD: the loop reaps)
 */
void signals_handle(struct run *r, const struct signalfd_siginfo *si)
{
	int sig = (int)si->ssi_signo;
	bool tty = from_terminal(r, si);

	switch (sig) {
	case SIGCHLD:
		return;
	case SIGALRM:
		alarm_signal(r);
		return;
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		/* The terminal's go to process groups: not to pass on. */
		if (si->ssi_code != SI_KERNEL)
			forward(r, sig);
		return;
	case SIGCONT:
		/* Someone continued ctxrun: COMMAND too, if it stays stopped. */
		if (r->command_stopped)
			forward(r, sig);
		return;
	}
	if (tty) {
		info(2, "SIG%s from the terminal: '%s' got it too", sig_name(sig),
		     r->command);
		return;
	}
	switch (sig) {
	case SIGHUP:
		if (r->pid1) {
			forward(r, sig);
			return;
		}
		/* fall through */
	case SIGINT:
	case SIGQUIT:
	case SIGTERM:
		end_signal(r, sig);
		return;
	}
	forward(r, sig);
}

/* Is any of the run's contexts done? Then the run is ending. */
static bool run_ending(struct run *r)
{
	return ctx_err(r->ctx) || (r->contctx && ctx_err(r->contctx)) ||
	       (r->sigctx && ctx_err(r->sigctx));
}

/*
 * Stop ctxrun with @sig's default action, as a job control stop would,
 * unless the run is ending. The kernel drops SIGTSTP, SIGTTIN and
 * SIGTTOU in an orphaned process group (no shell to continue it), and
 * ctxrun then goes on at once.
 *
 * The order matters. A stop signal, when sent, discards a pending
 * SIGCONT, and a SIGCONT discards a pending stop. ctx, sigctx and
 * contctx each have a timer for the same deadline and fire in any order;
 * contctx's SIGCONT is what resumes a stopped ctxrun. Checked first and
 * raised second, a SIGCONT sent in between would be discarded by the
 * raise, and ctxrun would stop with nothing left to resume it. So @sig
 * is raised blocked first, then the contexts are checked: a SIGCONT sent
 * before the raise comes after its context was marked done (the kernel
 * marks a context done before it signals), and the check sees it; one
 * sent after it discards the pending stop. Either way ctxrun does not
 * stay stopped.
 */
static void stop_unless_ending(struct run *r, int sig)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old;
	struct timespec zero = { 0, 0 };
	sigset_t one, mask;

	sigemptyset(&one);
	sigaddset(&one, sig);
	fflush(stderr);
	sigprocmask(SIG_BLOCK, &one, &mask);
	sigaction(sig, &dfl, &old);
	raise(sig);	/* pending, at most once */
	if (run_ending(r)) {
		info(2, "the run is ending: not stopping");
		sigtimedwait(&one, NULL, &zero);	/* take it back */
	} else {
		info(2, "'%s' stopped: stopping with SIG%s", r->command,
		     sig_name(sig));
		fflush(stderr);
		sigprocmask(SIG_UNBLOCK, &one, NULL);	/* stops here */
		sigprocmask(SIG_BLOCK, &one, NULL);
		info(2, "continued");
	}
	sigaction(sig, &old, NULL);
	sigprocmask(SIG_SETMASK, &mask, NULL);
}

/**
 * signals_command_stopped - COMMAND stopped: if the job is being stopped,
 * stop ctxrun too
 * @r: the run
 * @stopsig: the signal that stopped it
 *
 * So that a shell sees the job stopped while COMMAND is, as without
 * ctxrun. Only when a stop signal reached ctxrun too (see signals_note());
 * not as PID 1 (init cannot be stopped), and not once a teardown is under
 * way (the kernel stops the tree with SIGSTOP before SIGKILL).
 * ctxrun resumes on SIGCONT: from the shell (fg, bg), or from the
 * kernel when the context is done meanwhile (ctxrun.c attaches itself
 * with SIGCONT), so that a deadline still ends a stopped job.
 */
void signals_command_stopped(struct run *r, int stopsig)
{
	if (!r->stop_asked || r->pid1 || r->started)
		return;
	r->stop_asked = false;
	if (stopsig != SIGTSTP && stopsig != SIGTTIN && stopsig != SIGTTOU)
		stopsig = SIGTSTP;
	stop_unless_ending(r, stopsig);
}
