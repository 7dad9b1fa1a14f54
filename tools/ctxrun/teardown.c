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
			/* Kept for the report of -v (teardown_drain()). */
			if (r->nr_passed < (int)(sizeof(r->passed) /
						 sizeof(r->passed[0])))
				r->passed[r->nr_passed++] = c;
			else
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

/*
 * Add the teardown report of @c to @sum; @per_process: the attachments
 * of @c each send one signal to the same processes (SIGNAL, then
 * SIGCONT), so a process counts once per fired attachment.
 */
static void report_add(ctx_t *c, struct ctx_teardown *sum)
{
	struct ctx_teardown td;
	unsigned int per;

	if (!c || ctx_teardown_report(c, &td) < 0 || !td.fired)
		return;
	/*
	 * SIGNAL and SIGCONT are two attachments of one context on one
	 * tree, each counting its processes: count each process once.
	 */
	per = td.fired;
	sum->fired += td.fired;
	sum->signalled += (td.signalled + per - 1) / per;
	sum->killed += td.killed;
	sum->left += td.left;
	if (td.duration > sum->duration)
		sum->duration = td.duration;
}

/**
 * teardown_drain - every child is reaped: wait until nothing is left
 * @r: the run
 *
 * The tree is gone, but contexts COMMAND made may still be held by
 * processes outside it (passed over a socket), and processes outside it
 * may be attached to them. ctxrun returns once its context is drained
 * (ctx_wait_drained(3)), waiting at most as long as its -k and --grace
 * would have given the tree (the longer of the two), one second without
 * them. With -v, it then prints the teardown report; invoked as
 * "timeout", -v stays byte for byte timeout(1)'s, and it takes -vv.
 */
void teardown_drain(struct run *r)
{
	struct ctx_teardown sum = { 0 }, kill;
	ctx_duration_t bound = CTX_SECOND;
	int level = strcmp(prog, "timeout") ? 1 : 2;
	int i, ret;

	if (r->kill_after || r->grace)
		bound = r->kill_after > r->grace ? r->kill_after : r->grace;
	if (bound == DURATION_FOREVER)
		bound = CTX_FOREVER;
	/* What ctxrun itself holds under outer must go first. */
	if (r->ctx != r->outer) {
		ctx_release(r->ctx);
		r->ctx = NULL;
	}
	ctx_cancel(r->outer_cancel);
	ret = ctx_wait_drained(r->outer, bound);
	if (ret == 0)
		info(level, "context of '%s' not drained after %s: contexts or processes outside its tree hold on to it",
		     r->command, fmt_duration(bound));
	else if (ret < 0 && ret != -EOPNOTSUPP)
		info(2, "cannot wait for the context to drain: %s",
		     ctx_last_error());
	else if (ret > 0)
		info(2, "context of '%s' drained", r->command);
	if (verbose < level)
		return;

	report_add(r->sigctx, &sum);
	for (i = 0; i < r->nr_passed; i++)
		report_add(r->passed[i], &sum);
	if (ctx_teardown_report(r->killctx, &kill) == 0 && kill.fired) {
		/* A SIGKILL attachment counts its processes as killed. */
		sum.fired += kill.fired;
		sum.killed += kill.signalled + kill.killed;
		sum.left += kill.left;
		if (kill.duration > sum.duration)
			sum.duration = kill.duration;
	}
	if (sum.fired)
		say("teardown of '%s': %u signalled, %u needed SIGKILL, %u left alive, %s",
		    r->command, sum.signalled, sum.killed, sum.left,
		    fmt_duration(sum.duration));
}
