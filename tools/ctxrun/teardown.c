// SPDX-License-Identifier: GPL-2.0
/*
 * The phases of a teardown, once the context is done (deadline, inherited
 * context canceled) or canceled by ctxrun (COMMAND ended, a signal asked
 * ctxrun to end):
 *
 *  1. the context is done: COMMAND's CTXFD fires, with its cause;
 *  2. --grace later (at once without it): the signal phase, SIGNAL (or
 *     the signal ctxrun received) and SIGCONT to the whole tree;
 *  3. -k later: SIGKILL to the whole tree.
 *
 * The kernel does the signalling (CTXFD_IOC_ATTACH with
 * CTXFD_ATTACH_DESCENDANTS_ONLY on ctxrun itself): it finds every
 * descendant, daemons included, and signals it with ctxrun's
 * credentials. SIGNAL at a deadline or an inherited cancel needs no
 * help from ctxrun: r->sigctx is done at the same moment as r->ctx (see
 * ctxrun.c). The later phases are timed here, in the wait loop; if
 * ctxrun dies meanwhile, r->killctx loses its last descriptor and the
 * kernel kills the tree at once.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctxrun.h"

/*
 * Send @sig, then SIGCONT (so that stopped processes act on it), to every
 * descendant of ctxrun, through a context made for this alone.
 */
static void signal_tree(struct run *r, int sig)
{
	ctx_cancel_t *cancel;
	ctx_t *c;

	if (ctx_with_cancel(ctx_background(), &c, &cancel) == 0) {
		if (ctx_kill_on_cancel(c, getpid(), sig, 0,
				       CTX_KILL_DESCENDANTS_ONLY) == 0 &&
		    (sig == SIGKILL || sig == SIGCONT ||
		     ctx_kill_on_cancel(c, getpid(), SIGCONT, 0,
					CTX_KILL_DESCENDANTS_ONLY) == 0)) {
			ctx_cancel(cancel);
			ctx_cancel_release(cancel);
			ctx_release(c);
			return;
		}
		ctx_cancel_release(cancel);	/* cancels, signals nobody */
		ctx_release(c);
	}
	/* Out of attachments or memory: COMMAND at least gets it. */
	say("cannot signal the process tree (%s): %s to '%s' only",
	    ctx_last_error(), sig_name(sig), r->command);
	if (!r->command_done) {
		kill(r->child, sig);
		if (sig != SIGKILL && sig != SIGCONT)
			kill(r->child, SIGCONT);
	}
}

/**
 * teardown_start - the context is done, or ctxrun cancels it now
 * @r: the run
 * @sig: what the signal phase is to send: r->sig, or the signal ctxrun
 *	received
 * @cause_code: 0 if the context is done already; else ctxrun cancels
 *	outer with this cause code and @why
 * @why: the cause message (ignored with @cause_code 0)
 */
void teardown_start(struct run *r, int sig, int cause_code, const char *why)
{
	if (r->started)
		return;
	r->started = true;
	r->tsig = sig;
	if (cause_code)
		ctx_cancel_cause(r->outer_cancel, cause_code, why);
	if (!r->grace) {
		teardown_signal(r);
		return;
	}
	info(2, "context of '%s' done; %s in %s", r->command, sig_name(sig),
	     fmt_duration(r->grace));
	if (r->grace != DURATION_FOREVER)
		r->signal_at = now_ns() + r->grace;
}

/* Phase 2: the signal, then -k's SIGKILL in due time. */
void teardown_signal(struct run *r)
{
	if (r->signalled)
		return;
	r->signalled = true;
	r->signal_at = 0;
	if (!r->command_done)
		info(1, "sending signal %s to command '%s'", sig_name(r->tsig),
		     r->command);
	else
		info(2, "sending signal %s to what '%s' left behind",
		     sig_name(r->tsig), r->command);
	if (r->tsig == r->sig) {
		/* Done already at a deadline or inherited cancel. */
		if (r->sig_cancel)
			ctx_cancel(r->sig_cancel);
	} else if (r->tsig) {
		signal_tree(r, r->tsig);
	}
	if (r->tsig == SIGKILL)
		r->killed = true;
	else if (r->kill_after && r->kill_after != DURATION_FOREVER)
		r->kill_at = now_ns() + r->kill_after;
}

/*
 * A signal ctxrun received after a signal phase that sent nothing (-s 0):
 * the tree gets it now. -k's timer runs on.
 */
void teardown_pass_on(struct run *r, int sig)
{
	if (!r->command_done)
		info(1, "sending signal %s to command '%s'", sig_name(sig),
		     r->command);
	signal_tree(r, sig);
}

/* Phase 3: SIGKILL to the whole tree. */
void teardown_kill(struct run *r)
{
	if (r->killed)
		return;
	r->killed = true;
	r->kill_at = 0;
	if (!r->command_done)
		info(1, "sending signal KILL to command '%s'", r->command);
	else
		info(2, "sending signal KILL to what '%s' left behind",
		     r->command);
	ctx_cancel(r->kill_cancel);
}

/*
 * Asked again (a second SIGINT, SIGTERM...): end the grace period now,
 * or, if the signal went out already, SIGKILL the tree.
 */
void teardown_hurry(struct run *r)
{
	if (!r->signalled)
		teardown_signal(r);
	else
		teardown_kill(r);
}

/* Run the phases that are due. */
void teardown_timers(struct run *r)
{
	int64_t now = now_ns();

	if (r->signal_at && now >= r->signal_at)
		teardown_signal(r);
	if (r->kill_at && now >= r->kill_at)
		teardown_kill(r);
}

/* poll()'s timeout until the next phase: -1 for none, else ms (rounded up). */
int teardown_poll_timeout(const struct run *r)
{
	int64_t next = 0, left;

	if (r->signal_at)
		next = r->signal_at;
	if (r->kill_at && (!next || r->kill_at < next))
		next = r->kill_at;
	if (!next)
		return -1;
	left = next - now_ns();
	if (left <= 0)
		return 0;
	left = (left + 999999) / 1000000;
	return left > INT_MAX ? INT_MAX : (int)left;
}
