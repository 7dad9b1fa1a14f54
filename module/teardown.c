// SPDX-License-Identifier: GPL-2.0
/*
 * Process-tree teardown: find the processes of a tree, signal them,
 * freeze and kill them.
 *
 * A teardown works on a set of struct pid references (struct
 * ctxfd_pidset): the attached process and every process found below it
 * or below a member. Because members are held by reference, a process
 * stays a target after its parent died and it was reparented away, and a
 * reused pid is never hit. Membership is decided by real_parent, read
 * under RCU while walking the task list; no tasklist_lock (which is not
 * exported) is needed.
 *
 * Killing freezes first: every member gets SIGSTOP, and the tree is walked
 * again until a walk finds no new member (a stopped process cannot fork;
 * one caught in fork() restarts the call after the stop, without a
 * child). Then every member gets SIGKILL, again until a walk finds nothing
 * alive that is not already dying.
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
#include <linux/hash.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "ctxfd.h"

/* Walks while freezing before giving up on a tree that keeps growing. */
#define CTXFD_FREEZE_ROUNDS	16
/* SIGKILL walks after which a teardown gives up on stragglers. */
#define CTXFD_KILL_ROUNDS	64

/**
 * ctxfd_pidset_free - drop every reference and the set's memory
 * @set: the set
 */
void ctxfd_pidset_free(struct ctxfd_pidset *set)
{
	unsigned int i;

	for (i = 0; i < set->nr; i++)
		put_pid(set->list[i]);
	kvfree(set->list);
	kvfree(set->slots);
	memset(set, 0, sizeof(*set));
}

static unsigned int ctxfd_pidset_slot(const struct ctxfd_pidset *set,
				      const struct pid *pid)
{
	return hash_ptr(pid, set->bits);
}

/* Is @pid a member? Open addressing with linear probing. */
static bool ctxfd_pidset_has(const struct ctxfd_pidset *set,
			     const struct pid *pid)
{
	unsigned int mask, i;

	if (!set->slots)
		return false;
	mask = (1U << set->bits) - 1;
	for (i = ctxfd_pidset_slot(set, pid); set->slots[i]; i = (i + 1) & mask)
		if (set->slots[i] == pid)
			return true;
	return false;
}

static void ctxfd_pidset_hash(struct ctxfd_pidset *set, struct pid *pid)
{
	unsigned int mask = (1U << set->bits) - 1;
	unsigned int i = ctxfd_pidset_slot(set, pid);

	while (set->slots[i])
		i = (i + 1) & mask;
	set->slots[i] = pid;
}

/*
 * Make room for @extra more members, keeping the table at most half
 * full. Called outside RCU (it allocates).
 */
static int ctxfd_pidset_reserve(struct ctxfd_pidset *set, unsigned int extra)
{
	unsigned int cap = set->nr + extra, bits = 4, i;
	struct pid **list, **slots;

	if (cap <= set->cap)
		return 0;
	while ((1U << bits) < 2 * cap)
		bits++;
	list = kvmalloc_array(cap, sizeof(*list), GFP_KERNEL_ACCOUNT);
	slots = kvcalloc(1U << bits, sizeof(*slots), GFP_KERNEL_ACCOUNT);
	if (!list || !slots) {
		kvfree(list);
		kvfree(slots);
		return -ENOMEM;
	}
	if (set->nr)
		memcpy(list, set->list, set->nr * sizeof(*list));
	kvfree(set->list);
	kvfree(set->slots);
	set->list = list;
	set->slots = slots;
	set->cap = cap;
	set->bits = bits;
	for (i = 0; i < set->nr; i++)
		ctxfd_pidset_hash(set, set->list[i]);
	return 0;
}

/* Add @pid (not a member yet); false if the set is full. */
static bool ctxfd_pidset_add(struct ctxfd_pidset *set, struct pid *pid)
{
	if (set->nr == set->cap)
		return false;
	set->list[set->nr++] = get_pid(pid);
	ctxfd_pidset_hash(set, pid);
	return true;
}

/* Has the whole thread group exited (pidfd_poll()'s test)? */
static bool ctxfd_task_gone(struct task_struct *t)
{
	return READ_ONCE(t->exit_state) && thread_group_empty(t);
}

/* Exited, or a fatal signal is already on its way to the group. */
static bool ctxfd_task_dying(struct task_struct *t)
{
	return ctxfd_task_gone(t) ||
	       (READ_ONCE(t->signal->flags) & SIGNAL_GROUP_EXIT);
}

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

/*
 * One walk: add the leader (unless spared) and every live process whose
 * parent is the leader or a member. Caller holds rcu_read_lock().
 * Returns the number added, or -EAGAIN when the set is full.
 */
static int ctxfd_tree_collect_pass(struct pid *leader_pid, u64 flags,
				   struct ctxfd_pidset *set)
{
	struct task_struct *leader = pid_task(leader_pid, PIDTYPE_TGID);
	struct task_struct *p;
	int added = 0;

	if (leader && !(flags & CTXFD_ATTACH_DESCENDANTS_ONLY) &&
	    !ctxfd_task_gone(leader) && !ctxfd_task_untouchable(leader) &&
	    !ctxfd_pidset_has(set, leader_pid)) {
		if (!ctxfd_pidset_add(set, leader_pid))
			return -EAGAIN;
		added++;
	}
	if (!(flags & (CTXFD_ATTACH_DESCENDANTS |
		       CTXFD_ATTACH_DESCENDANTS_ONLY)))
		return added;

	for_each_process(p) {
		struct task_struct *parent;
		struct pid *pid = task_tgid(p);

		if (p == leader || ctxfd_task_gone(p) ||
		    ctxfd_task_untouchable(p) || ctxfd_pidset_has(set, pid))
			continue;
		parent = rcu_dereference(p->real_parent);
		if (!(leader && same_thread_group(parent, leader)) &&
		    !ctxfd_pidset_has(set, task_tgid(parent)))
			continue;
		if (!ctxfd_pidset_add(set, pid))
			return -EAGAIN;
		added++;
	}
	return added;
}

static unsigned int ctxfd_count_processes(void)
{
	struct task_struct *p;
	unsigned int n = 0;

	rcu_read_lock();
	for_each_process(p)
		n++;
	rcu_read_unlock();
	return n;
}

/**
 * ctxfd_tree_collect - add the current members of a teardown to a set
 * @leader_pid: the attached process
 * @flags: CTXFD_ATTACH_* flags of the attachment
 * @set: members found so far; new ones are added with references
 *
 * Walks until a walk adds nothing, so chains of any length are found.
 * Sleeps (allocates).
 *
 * Return: the number of members added, or -ENOMEM.
 */
int ctxfd_tree_collect(struct pid *leader_pid, u64 flags,
		       struct ctxfd_pidset *set)
{
	bool tree = flags & (CTXFD_ATTACH_DESCENDANTS |
			     CTXFD_ATTACH_DESCENDANTS_ONLY);
	unsigned int before = set->nr;
	int ret;

	for (;;) {
		ret = ctxfd_pidset_reserve(set, tree ?
					   ctxfd_count_processes() + 16 : 1);
		if (ret)
			return ret;
		rcu_read_lock();
		ret = ctxfd_tree_collect_pass(leader_pid, flags, set);
		rcu_read_unlock();
		if (!ret)
			break;
		cond_resched();
	}
	return set->nr - before;
}

/**
 * ctxfd_tree_signal - send a signal to every live member
 * @set: the members
 * @cred: the attacher's saved credentials
 * @sig: the signal
 * @skip_dying: skip members already dying (for SIGKILL rounds)
 *
 * Members are signalled newest first: children before their parents, the
 * attached process (the first member) last, so a parent that reacts to
 * the signal by exiting does not get ahead of its children.
 *
 * Return: how many members were signalled.
 */
unsigned int ctxfd_tree_signal(struct ctxfd_pidset *set,
			       const struct cred *cred, int sig,
			       bool skip_dying)
{
	const struct cred *old = override_creds(cred);
	unsigned int i, n = 0;

	for (i = set->nr; i-- > 0;) {
		struct task_struct *t;
		bool live;

		rcu_read_lock();
		t = pid_task(set->list[i], PIDTYPE_TGID);
		live = t && !ctxfd_task_gone(t) &&
		       !(skip_dying && ctxfd_task_dying(t));
		rcu_read_unlock();
		if (live && !kill_pid(set->list[i], sig, 0))
			n++;
		if ((i & 255) == 0)
			cond_resched();
	}
	revert_creds(old);
	return n;
}

/**
 * ctxfd_tree_alive - has a member of a teardown not exited yet?
 * @set: members found so far
 *
 * Return: true if a member has not exited.
 */
bool ctxfd_tree_alive(struct ctxfd_pidset *set)
{
	struct task_struct *t;
	bool alive = false;
	unsigned int i;

	rcu_read_lock();
	for (i = 0; !alive && i < set->nr; i++) {
		t = pid_task(set->list[i], PIDTYPE_TGID);
		alive = t && !ctxfd_task_gone(t);
	}
	rcu_read_unlock();
	return alive;
}

/**
 * ctxfd_tree_kill - freeze the tree, then SIGKILL every member
 * @leader_pid: the attached process
 * @flags: CTXFD_ATTACH_* flags of the attachment
 * @cred: the attacher's saved credentials
 * @set: members found so far (kept, and grown)
 *
 * Without a descendants flag there is no tree to freeze: the process is
 * killed directly.
 */
void ctxfd_tree_kill(struct pid *leader_pid, u64 flags,
		     const struct cred *cred, struct ctxfd_pidset *set)
{
	bool tree = flags & (CTXFD_ATTACH_DESCENDANTS |
			     CTXFD_ATTACH_DESCENDANTS_ONLY);
	int round, added;

	for (round = 0; tree && round < CTXFD_FREEZE_ROUNDS; round++) {
		added = ctxfd_tree_collect(leader_pid, flags, set);
		ctxfd_tree_signal(set, cred, SIGSTOP, true);
		if (round && added <= 0)
			break;
	}

	for (round = 0; round < CTXFD_KILL_ROUNDS; round++) {
		ctxfd_tree_collect(leader_pid, flags, set);
		if (!ctxfd_tree_signal(set, cred, SIGKILL, true))
			return;
		usleep_range(1000, 2000);
	}
	pr_warn_ratelimited("ctxfd: processes still appearing after %d SIGKILL rounds\n",
			    CTXFD_KILL_ROUNDS);
}
