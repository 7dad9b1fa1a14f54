// SPDX-License-Identifier: GPL-2.0
/*
 * Process-tree teardown: signal, freeze and kill the members of an
 * attachment (members.c finds them).
 *
 * A teardown works on the attachment's member set, which holds struct
 * pid references: a process stays a target after its parent died and it
 * was reparented away, and a reused pid is never hit. The set only grows
 * while a teardown runs (ctxfd_members_set_state()), so iterating it is
 * safe against the fork probe appending to it.
 *
 * Killing a set that lost track of a fork (members.c: it was completed
 * by a walk over every process) freezes first: every member gets SIGSTOP,
 * and the teardown waits (briefly, bounded) until every member is
 * stopped, traced or dying. A stopped process cannot fork, and a member
 * caught between fork and its return to userspace has made its child a
 * member before it stops. Then every member gets SIGKILL, in passes until
 * a pass finds nobody new; a member that forks after the kill pass went
 * by gets its child killed by the fork probe itself. A set that saw every
 * fork needs no freeze (see ctxfd_teardown_kill()).
 * Whatever was stopped and could not be killed (an LSM may allow SIGSTOP
 * but refuse SIGKILL) gets SIGCONT at the end, never left stopped.
 *
 * Signals are sent with kill_pid() under the credentials saved when the
 * process was attached: the kernel's own kill(2) permission check
 * (matching uids or CAP_KILL in the target's user namespace) and the
 * LSMs' decide, exactly as for a kill(2) by the attacher. Targets see
 * SI_USER from the attacher's uid. kthreads and init are never
 * signalled.
 */
#include <linux/cred.h>
#include <linux/delay.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>

#include "ctxfd.h"

/*
 * Waiting for the members to stop: a member stops as soon as it runs, so
 * the first looks come soon (50 us) and the waits then double, up to 2 ms
 * apart and 100 ms in all. (A fixed 1-2 ms sleep made the freeze, not the
 * tree, the cost of tearing down a small tree: bench figure 11.)
 */
#define CTXFD_FREEZE_WAIT_MIN_US	50
#define CTXFD_FREEZE_WAIT_MAX_US	2000
#define CTXFD_FREEZE_WAIT_TOTAL_US	100000
/* SIGKILL passes after which a teardown gives up on stragglers. */
#define CTXFD_KILL_ROUNDS	64

/**
 * ctxfd_task_untouchable - processes ctxfd never signals
 * @t: the task
 *
 * Return: true for kthreads and the global init.
 */
bool ctxfd_task_untouchable(struct task_struct *t)
{
	return (t->flags & PF_KTHREAD) || is_global_init(t);
}

enum ctxfd_member_look {
	CTXFD_LOOK_GONE,	/* exited, or never to be signalled */
	CTXFD_LOOK_DYING,	/* a fatal signal is on its way */
	CTXFD_LOOK_STOPPED,	/* group stop complete, or traced */
	CTXFD_LOOK_RUNNING,
};

static enum ctxfd_member_look ctxfd_member_look(struct ctxfd_member *m)
{
	enum ctxfd_member_look look;
	struct task_struct *t;

	rcu_read_lock();
	t = pid_task(m->pid, PIDTYPE_TGID);
	if (!t || ctxfd_task_gone(t) || ctxfd_task_untouchable(t))
		look = CTXFD_LOOK_GONE;
	else if (READ_ONCE(t->signal->flags) & SIGNAL_GROUP_EXIT)
		look = CTXFD_LOOK_DYING;
	else if ((READ_ONCE(t->signal->flags) & SIGNAL_STOP_STOPPED) ||
		 task_is_traced(t))
		look = CTXFD_LOOK_STOPPED;
	else
		look = CTXFD_LOOK_RUNNING;
	rcu_read_unlock();
	return look;
}

/* Send @sig to @m; 0 or kill_pid()'s error. Caller overrides creds. */
static int ctxfd_member_signal(struct ctxfd_member *m, int sig)
{
	return kill_pid(m->pid, sig, 0);
}

/**
 * ctxfd_teardown_signal - send a signal to every live member, once
 * @set: the members, in a teardown state
 * @cred: the attacher's saved credentials
 * @sig: the signal
 *
 * Members are signalled newest first: children before their parents, the
 * attached process (the first member) last, so a parent that reacts to
 * the signal by exiting does not get ahead of its children. Members
 * forked meanwhile are not signalled (they are killed at the end of a
 * grace period, if there is one).
 *
 * Return: how many members were signalled.
 */
unsigned int ctxfd_teardown_signal(struct ctxfd_members *set,
				   const struct cred *cred, int sig)
{
	const struct cred *old = override_creds(cred);
	struct ctxfd_member *m = NULL;
	unsigned int n = 0, i = 0;

	while ((m = ctxfd_members_next(set, m, true))) {
		if (!(m->flags & CTXFD_MEMBER_SPARED) &&
		    ctxfd_member_look(m) != CTXFD_LOOK_GONE &&
		    !ctxfd_member_signal(m, sig))
			n++;
		if ((++i & 255) == 0)
			cond_resched();
	}
	revert_creds(old);
	return n;
}

/**
 * ctxfd_teardown_alive - has a member not exited yet?
 * @set: the members, in a teardown state
 *
 * Return: true if a member (spared or not) is still alive.
 */
bool ctxfd_teardown_alive(struct ctxfd_members *set)
{
	struct ctxfd_member *m = NULL;

	while ((m = ctxfd_members_next(set, m, false)))
		if (ctxfd_member_look(m) != CTXFD_LOOK_GONE)
			return true;
	return false;
}

/**
 * ctxfd_teardown_count_left - how many members are still standing?
 * @set: the members, in a teardown state
 *
 * Return: the number of members alive with no fatal signal on its way
 * (after a SIGKILL phase: the ones it could not kill), spared ones
 * excepted.
 */
unsigned int ctxfd_teardown_count_left(struct ctxfd_members *set)
{
	struct ctxfd_member *m = NULL;
	unsigned int n = 0;

	while ((m = ctxfd_members_next(set, m, false))) {
		enum ctxfd_member_look look;

		if (m->flags & CTXFD_MEMBER_SPARED)
			continue;
		look = ctxfd_member_look(m);
		if (look == CTXFD_LOOK_RUNNING || look == CTXFD_LOOK_STOPPED)
			n++;
	}
	return n;
}

/*
 * SIGSTOP every member not stopped yet, then wait until every member is
 * stopped, traced, dying or gone (or refused the stop), within bounds.
 */
static void ctxfd_teardown_freeze(struct ctxfd_members *set)
{
	unsigned int wait = CTXFD_FREEZE_WAIT_MIN_US, waited = 0, i = 0;

	for (;;) {
		struct ctxfd_member *m = NULL;
		bool quiet = true;

		while ((m = ctxfd_members_next(set, m, false))) {
			if (m->flags & (CTXFD_MEMBER_SPARED |
					CTXFD_MEMBER_DENIED))
				continue;
			if (!(m->flags & CTXFD_MEMBER_STOPPED) &&
			    ctxfd_member_look(m) == CTXFD_LOOK_RUNNING)
				ctxfd_members_mark(m, ctxfd_member_signal(m, SIGSTOP) ?
						   CTXFD_MEMBER_DENIED :
						   CTXFD_MEMBER_STOPPED);
			if (!(m->flags & CTXFD_MEMBER_DENIED) &&
			    ctxfd_member_look(m) == CTXFD_LOOK_RUNNING)
				quiet = false;
			if ((++i & 255) == 0)
				cond_resched();
		}
		if (quiet || waited >= CTXFD_FREEZE_WAIT_TOTAL_US)
			return;
		usleep_range(wait, 2 * wait);
		waited += wait;
		wait = min(2 * wait, CTXFD_FREEZE_WAIT_MAX_US);
	}
}

/**
 * ctxfd_teardown_kill - freeze the members, SIGKILL them, SIGCONT what
 *	could be stopped but not killed
 * @set: the members, in a teardown state
 * @cred: the attacher's saved credentials
 *
 * Return: how many members were sent SIGKILL.
 */
unsigned int ctxfd_teardown_kill(struct ctxfd_members *set,
				 const struct cred *cred)
{
	const struct cred *old = override_creds(cred);
	unsigned int round, killed = 0, i = 0;
	struct ctxfd_member *m;

	/*
	 * One process has no tree to freeze, and neither has a tree whose
	 * every fork was seen (not lost): a member with SIGKILL pending
	 * cannot complete a fork (copy_process() checks), a child forked
	 * before that is a member before it first runs, and the fork probe
	 * kills a child of a member already killed; so the kill passes
	 * below leave nobody behind, as kill(-pgid) does, without first
	 * making every member run twice (to stop, then to die). A lost set
	 * was completed by a walk that forks can race: freeze it first.
	 */
	if (set->tracked && READ_ONCE(set->lost))
		ctxfd_teardown_freeze(set);

	ctxfd_members_set_state(set, CTXFD_MEMBERS_KILLING);
	for (round = 0; round < CTXFD_KILL_ROUNDS; round++) {
		unsigned int n = 0;

		m = NULL;
		while ((m = ctxfd_members_next(set, m, false))) {
			enum ctxfd_member_look look;

			if (m->flags & CTXFD_MEMBER_SPARED)
				continue;
			look = ctxfd_member_look(m);
			if (look == CTXFD_LOOK_GONE || look == CTXFD_LOOK_DYING)
				continue;
			if (!ctxfd_member_signal(m, SIGKILL)) {
				ctxfd_members_mark(m, CTXFD_MEMBER_KILLED);
				n++;
			}
			if ((++i & 255) == 0)
				cond_resched();
		}
		killed += n;
		if (!n)
			break;
	}
	if (round == CTXFD_KILL_ROUNDS)
		pr_warn_ratelimited("ctxfd: processes still appearing after %d SIGKILL rounds\n",
				    CTXFD_KILL_ROUNDS);

	m = NULL;
	while ((m = ctxfd_members_next(set, m, false)))
		if ((m->flags & CTXFD_MEMBER_STOPPED) &&
		    !(m->flags & CTXFD_MEMBER_KILLED) &&
		    ctxfd_member_look(m) != CTXFD_LOOK_GONE)
			ctxfd_member_signal(m, SIGCONT);
	revert_creds(old);
	return killed;
}
