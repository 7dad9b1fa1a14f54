// SPDX-License-Identifier: GPL-2.0
/*
 * Members: which processes belong to an attachment's process tree.
 *
 * An attachment with a descendants flag tears down the attached process
 * and everything forked below it, daemons included, even after a parent
 * died and its child was reparented away (to a subreaper or to init).
 * Finding them by walking every process of the system at teardown time
 * costs in proportion to the system, not to the tree, holds memory in
 * proportion to the system, and misses a daemon whose parent died before
 * the walk got to it. So membership is tracked as processes fork:
 *
 *  - a probe on the sched_process_fork tracepoint (a module reaches it
 *    with for_each_kernel_tracepoint() and tracepoint_probe_register(),
 *    as LTTng does) makes the child of a member a member, before the
 *    child first runs;
 *  - a probe on sched_process_exit forgets a member whose last thread
 *    exits, while the attachment is armed (its children are members in
 *    their own right; a process that has exited forks no more), so a
 *    long-lived tree costs what its live processes cost;
 *  - the members present at attach time are found by one walk over
 *    every process, in the attacher's context.
 *
 * Members are found by their struct pid in one hash table shared by every
 * set: the probes look up the parent (or the exiting process) there.
 * Both probes return after one atomic read while nothing is tracked.
 *
 * A set that could not record a member (the probes run with preemption
 * off and allocate with GFP_NOWAIT; or the attacher's per-user cap was
 * reached) is marked lost, and its teardown walks every process first to
 * find what tracking missed, charged like the rest to the attacher. A
 * kernel without tracepoints always walks, and so does PREEMPT_RT, where
 * the probes' spinlocks and allocations are not allowed with preemption
 * off (see ctxfd_members_init()). A walk finds the children of members;
 * it misses a daemon whose parent exited before the teardown.
 *
 * Memory: members are charged to the attacher's memory cgroup (saved at
 * attach time, made active around every allocation, whichever process
 * forks), and one per-user unit (user.c) per CTXFD_MEMBERS_PER_UNIT
 * members to the attacher.
 *
 * Locking: set->lock (a spinlock, taken in the probes) protects a set's
 * list, counts, state and the flags of its members; a member is added to
 * or removed from the hash only under its set's lock and then the hash
 * bucket's lock (ctxfd_member_locks[]); nothing nests the other way.
 * Readers of the hash (the probes, lookups under a set's lock) use RCU;
 * members and sets are freed through RCU.
 */
#include <linux/hash.h>
#include <linux/memcontrol.h>
#include <linux/pid.h>
#include <linux/rculist.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>

/*
 * Only for the type of the probes (see ctxfd_members_probe_types()):
 * nothing here refers to the tracepoints' symbols, which are not
 * exported.
 */
#include <trace/events/sched.h>

#include "ctxfd.h"

#define CTXFD_MEMBER_HASH_BITS	12
#define CTXFD_MEMBER_LOCK_BITS	8
/* Walks of every process before a growing tree counts as found. */
#define CTXFD_WALK_ROUNDS	16

static struct hlist_head ctxfd_member_hash[1 << CTXFD_MEMBER_HASH_BITS];
/* Bucket locks: insertion into and removal from ctxfd_member_hash. */
static spinlock_t ctxfd_member_locks[1 << CTXFD_MEMBER_LOCK_BITS];
/* Members in the hash: zero lets the probes return at once. */
static atomic_t ctxfd_members_hashed = ATOMIC_INIT(0);
static struct kmem_cache *ctxfd_member_cache;
static struct tracepoint *ctxfd_tp_fork, *ctxfd_tp_exit;
static bool ctxfd_members_tracking;

static unsigned int ctxfd_member_bucket(const struct pid *pid)
{
	return hash_ptr(pid, CTXFD_MEMBER_HASH_BITS);
}

static spinlock_t *ctxfd_member_lock(unsigned int bucket)
{
	return &ctxfd_member_locks[bucket & ((1 << CTXFD_MEMBER_LOCK_BITS) - 1)];
}

/* @pid's entry in @set, or NULL. Caller holds set->lock (or RCU). */
static struct ctxfd_member *__ctxfd_members_find(struct ctxfd_members *set,
						 const struct pid *pid)
{
	struct ctxfd_member *m;

	if (!set->tracked) {
		list_for_each_entry(m, &set->list, entry)
			if (m->pid == pid)
				return m;
		return NULL;
	}
	hlist_for_each_entry_rcu(m, &ctxfd_member_hash[ctxfd_member_bucket(pid)],
				 hnode, true)
		if (m->pid == pid && m->set == set)
			return m;
	return NULL;
}

static void ctxfd_member_free_rcu(struct rcu_head *rcu)
{
	kmem_cache_free(ctxfd_member_cache,
			container_of(rcu, struct ctxfd_member, rcu));
}

/*
 * Make @m, a new member for @pid, part of @set: its list, its charge and,
 * for a tracked set, the hash. Caller holds set->lock. False at the
 * attacher's per-user cap (then @m is not used).
 */
static bool __ctxfd_members_add(struct ctxfd_members *set,
				struct ctxfd_member *m, struct pid *pid,
				unsigned int flags)
{
	unsigned int bucket;
	spinlock_t *lock;

	lockdep_assert_held(&set->lock);
	if (set->nr == set->units * CTXFD_MEMBERS_PER_UNIT) {
		if (!ctxfd_user_charge_more(set->user, 1))
			return false;
		set->units++;
	}
	m->pid = get_pid(pid);
	m->set = set;
	m->flags = flags;
	list_add_tail(&m->entry, &set->list);
	set->nr++;
	set->alive++;
	if (!set->tracked)
		return true;

	bucket = ctxfd_member_bucket(pid);
	lock = ctxfd_member_lock(bucket);
	spin_lock(lock);
	hlist_add_head_rcu(&m->hnode, &ctxfd_member_hash[bucket]);
	spin_unlock(lock);
	atomic_inc(&ctxfd_members_hashed);
	return true;
}

/* Take @m out of the hash. Caller holds its set's lock or owns the set. */
static void ctxfd_member_unhash(struct ctxfd_member *m)
{
	unsigned int bucket = ctxfd_member_bucket(m->pid);
	spinlock_t *lock = ctxfd_member_lock(bucket);

	spin_lock(lock);
	hlist_del_rcu(&m->hnode);
	spin_unlock(lock);
	atomic_dec(&ctxfd_members_hashed);
}

/* Allocate a member, charged to @set's attacher. */
static struct ctxfd_member *ctxfd_member_alloc(struct ctxfd_members *set,
					       gfp_t gfp)
{
	struct mem_cgroup *old = set_active_memcg(set->memcg);
	struct ctxfd_member *m;

	m = kmem_cache_alloc(ctxfd_member_cache, gfp | __GFP_NOWARN);
	set_active_memcg(old);
	return m;
}

/*
 * sched_process_fork: @child, a new process whose real parent is a
 * member, joins that member's sets. Runs in the forking task with
 * preemption off, before @child first runs; @child cannot fork before
 * it is a member.
 */
static void ctxfd_members_adopt(struct ctxfd_member *parent,
				struct task_struct *child)
{
	struct ctxfd_members *set = parent->set;
	struct pid *pid = task_tgid(child);
	struct ctxfd_member *m;
	bool kill = false;

	spin_lock(&set->lock);
	if (set->state == CTXFD_MEMBERS_CLOSED ||
	    (parent->flags & CTXFD_MEMBER_GONE) ||
	    __ctxfd_members_find(set, pid))
		goto out;
	m = ctxfd_member_alloc(set, GFP_NOWAIT);
	if (!m || !__ctxfd_members_add(set, m, pid, 0)) {
		if (m)
			kmem_cache_free(ctxfd_member_cache, m);
		set->lost = true;
		goto out;
	}
	/*
	 * Forked while its parent was being killed, after the kill pass
	 * went by: kill it now. Its credentials are its parent's (fork
	 * copies them, and it has not run yet), so the attacher may kill
	 * it as it killed the parent.
	 */
	if (set->state == CTXFD_MEMBERS_KILLING &&
	    (parent->flags & CTXFD_MEMBER_KILLED)) {
		m->flags |= CTXFD_MEMBER_KILLED;
		kill = true;
	}
out:
	spin_unlock(&set->lock);
	if (kill)
		send_sig_info(SIGKILL, SEND_SIG_PRIV, child);
}

static void ctxfd_members_fork_probe(void *data, struct task_struct *parent,
				     struct task_struct *child)
{
	struct ctxfd_member *m;
	struct pid *ppid;

	if (!atomic_read(&ctxfd_members_hashed) || !thread_group_leader(child))
		return;
	rcu_read_lock();
	/* Not @parent: with CLONE_PARENT the child is its sibling. */
	ppid = task_tgid(rcu_dereference(child->real_parent));
	hlist_for_each_entry_rcu(m, &ctxfd_member_hash[ctxfd_member_bucket(ppid)],
				 hnode)
		if (m->pid == ppid)
			ctxfd_members_adopt(m, child);
	rcu_read_unlock();
}

/*
 * sched_process_exit of the last thread of a member: forget it while
 * its set is armed. Once a teardown has started, members stay where the
 * teardown iterates them.
 */
static void ctxfd_members_forget(struct ctxfd_member *m)
{
	struct ctxfd_members *set = m->set;
	bool drop = false;

	spin_lock(&set->lock);
	if (set->state != CTXFD_MEMBERS_TRACKING &&
	    set->state != CTXFD_MEMBERS_CLOSED &&
	    !(m->flags & CTXFD_MEMBER_EXITED)) {
		/* A teardown iterates the list: only count the exit. */
		m->flags |= CTXFD_MEMBER_EXITED;
		if (!--set->alive && set->empty)
			set->empty(set->empty_data);
	} else if (set->state == CTXFD_MEMBERS_TRACKING &&
		   !(m->flags & CTXFD_MEMBER_GONE)) {
		m->flags |= CTXFD_MEMBER_GONE;
		list_del(&m->entry);
		set->nr--;
		set->alive--;
		ctxfd_member_unhash(m);
		if (set->units && set->nr <= (set->units - 1) * CTXFD_MEMBERS_PER_UNIT) {
			set->units--;
			ctxfd_user_uncharge(set->user, 1);
		}
		drop = true;
	}
	spin_unlock(&set->lock);
	if (drop) {
		put_pid(m->pid);
		call_rcu(&m->rcu, ctxfd_member_free_rcu);
	}
}

/* sched_process_exit: @group_dead when the last thread of @p exits. */
static void ctxfd_members_exited(void *data, struct task_struct *p,
			       bool group_dead)
{
	struct ctxfd_member *m;
	struct pid *pid;

	if (!atomic_read(&ctxfd_members_hashed) || !group_dead)
		return;
	pid = task_tgid(p);
	rcu_read_lock();
	hlist_for_each_entry_rcu(m, &ctxfd_member_hash[ctxfd_member_bucket(pid)],
				 hnode)
		if (m->pid == pid)
			ctxfd_members_forget(m);
	rcu_read_unlock();
}

CTXFD_COMPAT_EXIT_PROBE(ctxfd_members_exit_probe, ctxfd_members_exited)

/**
 * ctxfd_members_walk - add the members tracking could not see
 * @set: the set; its attacher's memory cgroup is charged
 *
 * Walks every process (under RCU, no tasklist_lock, which is not
 * exported): a live process whose real parent is a member joins. Walks
 * again until a walk adds nothing, at most CTXFD_WALK_ROUNDS times, so
 * that a chain is found whatever the order of the task list. Sleeps.
 *
 * Return: the number of members added.
 */
unsigned int ctxfd_members_walk(struct ctxfd_members *set)
{
	struct ctxfd_member *spare = NULL;
	unsigned int added = 0, round;

	for (round = 0; round < CTXFD_WALK_ROUNDS; round++) {
		struct task_struct *p;
		bool short_of_memory = false;
		unsigned int found = 0;

		if (!spare)
			spare = ctxfd_member_alloc(set, CTXFD_GFP);
		if (!spare)
			break;
		rcu_read_lock();
		for_each_process(p) {
			struct pid *pid = task_tgid(p), *ppid;

			if (ctxfd_task_gone(p) || ctxfd_task_untouchable(p))
				continue;
			ppid = task_tgid(rcu_dereference(p->real_parent));
			spin_lock(&set->lock);
			if (set->state != CTXFD_MEMBERS_CLOSED &&
			    __ctxfd_members_find(set, ppid) &&
			    !__ctxfd_members_find(set, pid)) {
				if (!spare)
					spare = ctxfd_member_alloc(set, GFP_NOWAIT);
				if (!spare) {
					short_of_memory = true;
				} else if (__ctxfd_members_add(set, spare, pid, 0)) {
					spare = NULL;
					found++;
				} else {
					set->lost = true;
				}
			}
			spin_unlock(&set->lock);
			if (short_of_memory)
				break;
		}
		rcu_read_unlock();
		added += found;
		if (!found && !short_of_memory)
			break;
		cond_resched();
	}
	if (spare)
		kmem_cache_free(ctxfd_member_cache, spare);
	return added;
}

/**
 * ctxfd_members_create - the member set of a new attachment
 * @leader: the attached process
 * @flags: CTXFD_ATTACH_* flags: with a descendants flag the set tracks
 *	the tree below @leader; with DESCENDANTS_ONLY, @leader is tracked
 *	(its children are members) but spared
 * @user: who is charged per-user units for the members; the set keeps
 *	no reference (the attachment holds a unit of it)
 *
 * Called in the attacher's context: its memory cgroup is saved and
 * charged for every member, whoever forks. The members present now are
 * found by one walk over every process; later ones are tracked as they
 * fork. Sleeps.
 *
 * Return: the set, or ERR_PTR(-ENOMEM) / ERR_PTR(-ENOSPC).
 */
struct ctxfd_members *ctxfd_members_create(struct pid *leader, u64 flags,
					   struct ctxfd_user *user)
{
	bool tree = flags & (CTXFD_ATTACH_DESCENDANTS |
			     CTXFD_ATTACH_DESCENDANTS_ONLY);
	struct ctxfd_members *set;
	struct ctxfd_member *m;
	bool ok;

	set = kzalloc(sizeof(*set), CTXFD_GFP);
	if (!set)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&set->lock);
	INIT_LIST_HEAD(&set->list);
	set->user = user;
	set->tracked = tree;
	set->lost = tree && !ctxfd_members_tracking;
	set->state = CTXFD_MEMBERS_TRACKING;
	set->memcg = get_mem_cgroup_from_mm(current->mm);

	m = ctxfd_member_alloc(set, CTXFD_GFP);
	if (!m) {
		ctxfd_members_destroy(set);
		return ERR_PTR(-ENOMEM);
	}
	spin_lock(&set->lock);
	ok = __ctxfd_members_add(set, m, leader,
				 (flags & CTXFD_ATTACH_DESCENDANTS_ONLY) ?
				 CTXFD_MEMBER_SPARED : 0);
	spin_unlock(&set->lock);
	if (!ok) {
		kmem_cache_free(ctxfd_member_cache, m);
		ctxfd_members_destroy(set);
		return ERR_PTR(-ENOSPC);
	}
	if (tree)
		ctxfd_members_walk(set);
	return set;
}

/**
 * ctxfd_members_destroy - forget every member and free the set
 * @set: the set, or NULL; its owner is done with it
 */
void ctxfd_members_destroy(struct ctxfd_members *set)
{
	struct ctxfd_member *m, *tmp;
	LIST_HEAD(dead);

	if (!set)
		return;
	spin_lock(&set->lock);
	set->state = CTXFD_MEMBERS_CLOSED;
	list_splice_init(&set->list, &dead);
	set->nr = 0;
	spin_unlock(&set->lock);

	/* No probe adds to a closed set; those still looking see it closed. */
	list_for_each_entry_safe(m, tmp, &dead, entry) {
		if (set->tracked)
			ctxfd_member_unhash(m);
		put_pid(m->pid);
		call_rcu(&m->rcu, ctxfd_member_free_rcu);
	}
	if (set->units)
		ctxfd_user_uncharge(set->user, set->units);
	mem_cgroup_put(set->memcg);
	/* After the members: probes may still hold them, and reach us. */
	kfree_rcu(set, rcu);
}

/**
 * ctxfd_members_on_empty - be told when the last member has exited
 * @set: the set
 * @fn: called (with @set's lock held, in atomic context: it must only
 *	queue work) when, in a teardown state, the exit probe sees the last
 *	live member exit; NULL to stop
 * @data: its argument
 *
 * Only exits the probe sees count: the caller must still check
 * (ctxfd_teardown_alive()) and may poll too.
 */
void ctxfd_members_on_empty(struct ctxfd_members *set, void (*fn)(void *),
			    void *data)
{
	spin_lock(&set->lock);
	set->empty = fn;
	set->empty_data = data;
	spin_unlock(&set->lock);
}

/**
 * ctxfd_members_kick - call the set's empty callback now, if it has one
 * @set: the set
 *
 * For exits the probe cannot see (a set that is not tracked).
 */
void ctxfd_members_kick(struct ctxfd_members *set)
{
	spin_lock(&set->lock);
	if (set->empty)
		set->empty(set->empty_data);
	spin_unlock(&set->lock);
}

/**
 * ctxfd_members_set_state - move a set on to a teardown state
 * @set: the set
 * @state: CTXFD_MEMBERS_FIRING (members are no longer forgotten when
 *	they exit: the teardown iterates them) or CTXFD_MEMBERS_KILLING
 *	(the fork probe also kills the new children of killed members)
 */
void ctxfd_members_set_state(struct ctxfd_members *set, int state)
{
	spin_lock(&set->lock);
	set->state = state;
	spin_unlock(&set->lock);
}

/**
 * ctxfd_members_next - iterate a set that only grows
 * @set: a set in a teardown state (no member is ever removed)
 * @pos: the current member, or NULL to start
 * @reverse: newest first (children before their parents) instead of
 *	oldest first
 *
 * Safe against members appended meanwhile; oldest first reaches them too.
 *
 * Return: the next member, or NULL at the end.
 */
struct ctxfd_member *ctxfd_members_next(struct ctxfd_members *set,
					struct ctxfd_member *pos, bool reverse)
{
	struct list_head *next;

	spin_lock(&set->lock);
	WARN_ON_ONCE(set->state == CTXFD_MEMBERS_TRACKING);
	if (!pos)
		next = reverse ? set->list.prev : set->list.next;
	else
		next = reverse ? pos->entry.prev : pos->entry.next;
	spin_unlock(&set->lock);
	return next == &set->list ? NULL :
	       list_entry(next, struct ctxfd_member, entry);
}

/**
 * ctxfd_members_mark - set flags on a member
 * @m: the member
 * @flags: CTXFD_MEMBER_* flags to add
 */
void ctxfd_members_mark(struct ctxfd_member *m, unsigned int flags)
{
	spin_lock(&m->set->lock);
	m->flags |= flags;
	spin_unlock(&m->set->lock);
}

/**
 * ctxfd_members_count - how many members a set has
 * @set: the set
 *
 * Return: the number of members, @set's leader included.
 */
unsigned int ctxfd_members_count(struct ctxfd_members *set)
{
	unsigned int nr;

	spin_lock(&set->lock);
	nr = set->nr;
	spin_unlock(&set->lock);
	return nr;
}

/* The type check of the probes against the tracepoints' prototypes. */
static inline void ctxfd_members_probe_types(void)
{
	BUILD_BUG_ON(sizeof(register_trace_sched_process_fork(
				ctxfd_members_fork_probe, NULL)) != sizeof(int));
	BUILD_BUG_ON(sizeof(register_trace_sched_process_exit(
				ctxfd_members_exit_probe, NULL)) != sizeof(int));
}

static void ctxfd_members_find_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sched_process_fork"))
		ctxfd_tp_fork = tp;
	else if (!strcmp(tp->name, "sched_process_exit"))
		ctxfd_tp_exit = tp;
}

/**
 * ctxfd_members_init - module init: the member cache and the probes
 *
 * Without the two tracepoints (a kernel built without them), sets are
 * born lost: teardowns walk every process.
 *
 * Return: 0 or -ENOMEM.
 */
int ctxfd_members_init(void)
{
	unsigned int i;

	ctxfd_members_probe_types();
	for (i = 0; i < ARRAY_SIZE(ctxfd_member_locks); i++)
		spin_lock_init(&ctxfd_member_locks[i]);
	ctxfd_member_cache = KMEM_CACHE(ctxfd_member, SLAB_ACCOUNT);
	if (!ctxfd_member_cache)
		return -ENOMEM;

	/*
	 * PREEMPT_RT: a tracepoint runs its probes with preemption off, and
	 * there RT forbids what the probes do: take a spinlock_t (a sleeping
	 * lock on RT) and allocate. A contended set->lock scheduled while
	 * atomic and crashed the rt lane. Walk there instead.
	 */
	if (IS_ENABLED(CONFIG_PREEMPT_RT)) {
		pr_info("ctxfd: PREEMPT_RT: process trees are found by walking every process at teardown\n");
		return 0;
	}
	for_each_kernel_tracepoint(ctxfd_members_find_tp, NULL);
	if (!ctxfd_tp_fork || !ctxfd_tp_exit ||
	    tracepoint_probe_register(ctxfd_tp_fork,
				      ctxfd_members_fork_probe, NULL)) {
		pr_info("ctxfd: no sched_process_fork tracepoint: process trees are found by walking every process at teardown\n");
		return 0;
	}
	if (tracepoint_probe_register(ctxfd_tp_exit,
				      ctxfd_members_exit_probe, NULL)) {
		tracepoint_probe_unregister(ctxfd_tp_fork,
					    ctxfd_members_fork_probe, NULL);
		tracepoint_synchronize_unregister();
		pr_info("ctxfd: no sched_process_exit tracepoint: process trees are found by walking every process at teardown\n");
		return 0;
	}
	ctxfd_members_tracking = true;
	return 0;
}

/**
 * ctxfd_members_exit - module exit: no set is left (attachments pin the
 *	module); unregister the probes and wait until none runs
 */
void ctxfd_members_exit(void)
{
	if (ctxfd_members_tracking) {
		tracepoint_probe_unregister(ctxfd_tp_exit,
					    ctxfd_members_exit_probe, NULL);
		tracepoint_probe_unregister(ctxfd_tp_fork,
					    ctxfd_members_fork_probe, NULL);
		tracepoint_synchronize_unregister();
	}
	/* Members and sets are freed through RCU. */
	rcu_barrier();
	kmem_cache_destroy(ctxfd_member_cache);
}
