/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxfd internal interfaces.
 *
 * Objects
 * -------
 * A context is a struct ctxfd_node. Userspace reaches it through anon-inode
 * files whose ->private_data points at the node; a file opened FMODE_WRITE
 * is cancel-capable, a read-only one is watch-only.
 *
 * Every node belongs to one struct ctxfd_tree, the lock domain of one
 * cancellation tree: a root and every descendant created under it share
 * the tree of their parent, except WithoutCancel nodes, which start a tree
 * of their own. Independent trees never share a lock.
 *
 * Locking
 * -------
 *  tree->lock (mutex)   structure and transitions of every node of the tree:
 *                       ->children, ->sibling, ->nr_children,
 *                       ->cancel_files, ->attachments, ->nr_attached,
 *                       the active -> done transition, and the state of
 *                       every attachment of the tree's nodes (attach.c);
 *                       ->merge_links of its nodes and ->merge_work
 *                       (merge.c), and ->remaining of a merged root.
 *  node->wqh.lock       the wait queue, and publication of ->err: done is
 *                       published under it, then pollers are woken with
 *                       wake_up_locked_poll() (eventfd's pattern).
 *  pid->wait_pidfd.lock an attachment's wait entry on the process's pidfd
 *                       wait queue (attach.c): taken under tree->lock by
 *                       ATTACH, and by the kernel when it wakes pidfd
 *                       waiters (the attachment's wake function runs
 *                       under it and only queues work).
 *  set->lock (spinlock) a member set (struct ctxfd_members): its list,
 *                       counts, state and its members' flags; taken in
 *                       the fork and exit probes, with preemption off.
 *  member bucket locks  insertion into and removal from the member hash
 *                       (members.c), always under the member's set->lock.
 *  ctxfd_users_lock     insertion and removal in the per-user hash table.
 *
 * Context operations of independent trees never share a lock. The member
 * hash's bucket locks are striped (256) and taken only when a tracked
 * process forks or exits, or an attachment starts or ends.
 *
 * Order: tree->lock, then node->wqh.lock or pid->wait_pidfd.lock (never
 * both); set->lock, then a member bucket lock; set->lock is never taken
 * with tree->lock held, nor the other way round. No two tree locks are
 * ever held at once, nor two set locks.
 *
 * Merged contexts (merge.c) cross trees without nesting tree locks: a
 * merged context is the root of a tree of its own, and each of its
 * parents holds a merge link to it on ->merge_links. Finishing a parent
 * (under its tree lock) only moves its links to its tree's ->merge_work;
 * whoever releases that tree lock with ctxfd_tree_unlock() takes them
 * along and, with no lock held, applies each link under the merged
 * context's tree lock alone. Canceling a merged context there queues its
 * own subtree's links on its tree: the cascade is a loop over a work
 * list, never a recursion, and never holds two tree locks. So every path
 * that may finish a node under a tree lock releases that lock with
 * ctxfd_tree_unlock(), in the thread that started the cancellation, and
 * the cancel has reached every merged context downstream before it
 * returns. Releasing a merged context takes its parents' tree locks one
 * after the other (ctxfd_merge_release()).
 *
 * Lockless protocols (node.c):
 *  - ->err is written once, with smp_store_release() under wqh.lock (and
 *    tree->lock, but for the deadline's fast path: struct ctxfd_node,
 *    @err), after ->cause_code and ->cause_msg; readers use
 *    ctxfd_node_err() (acquire) and then may read the cause. ->drained
 *    is written after it, so a reader that reads ->drained (acquire)
 *    first and finds it set finds err set too.
 *  - ->sibling.next is written last with a release when a node is
 *    unlinked, and a node is never linked again: ctxfd_node_linked()
 *    (acquire) lets the destructor skip the tree lock for an unlinked
 *    node, and after it the unlinker touches the node no more.
 *  - ->nr_children and ->nr_attached are written with WRITE_ONCE() under
 *    tree->lock (and wqh.lock when they grow) and read with READ_ONCE()
 *    for INFO and fdinfo (a snapshot) and by the deadline's fast path.
 *  - Lookups of immutable fields (->parent, ->value, ->depth, ->id,
 *    ->deadline) take no lock; ->parent is pinned by the child's
 *    reference.
 *  - The member hash is read under RCU (members.c).
 *
 * Lifetime
 * --------
 * A node is reference counted. References are held by every file on the
 * node, by every child (through ->parent), by every process attachment
 * (attach.c), and temporarily by code that works on a node outside the
 * tree lock. A parent's ->children list does
 * NOT hold references: it is a weak link that a dying node removes under
 * the tree lock (ctxfd_node_put()). A node nobody can observe any more
 * (no fd, no descendant) is therefore freed, whatever its state; cancel
 * walks that meet a node whose count already dropped to zero may still
 * mark it done, because its destructor waits for the tree lock before it
 * unlinks and frees.
 *
 * Freeing is iterative: dropping a chain of 100 000 nodes walks up the
 * chain in a loop, never by recursion.
 *
 * A tree belongs to the node that starts it (a root, a WithoutCancel or
 * a merged node: ctxfd_kind_own_tree()) and is freed with it. Every
 * other node of the tree holds a reference on its parent, which is in
 * the same tree, until after its own destructor has run: so the node
 * that owns the tree outlives every node that uses it, and nodes need
 * no reference of their own on it.
 *
 * An attachment (attach.c) has exactly one owner at every step, and only
 * its owner touches it:
 *  1. ctxfd_ioctl_attach(), which builds it (member set included) and
 *     publishes it under the tree lock, either
 *  2. armed, on its node's ->attachments: owned by the tree lock; or
 *  3. handed straight to the fire path for a node already done. Queueing
 *     the fire work, or chaining it behind the node's @fire_tail, is the
 *     ioctl's last touch: the work may free it before the ioctl
 *     returns.
 *  4. Whoever takes it off ->attachments under the tree lock owns it from
 *     then on: the fire path (the node is done: fire_work, then
 *     kill_work after a grace period) or the exit path (exit_work: the
 *     process exited while armed). The owner frees it.
 * The fire path takes the pidfd wait entry off its queue and waits for a
 * queued exit work (which then finds the attachment taken and does
 * nothing) before it frees. A member set lives exactly as long as its
 * attachment; its members are reached locklessly by the fork and exit
 * probes, so members and sets are freed through RCU.
 */
#ifndef _CTXFD_INTERNAL_H
#define _CTXFD_INTERNAL_H

#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched/signal.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <uapi/linux/ctxfd.h>

#include "compat.h"

/**
 * struct ctxfd_tree - lock domain of one cancellation tree
 *
 * Freed with the node that starts it (see "Lifetime" above).
 *
 * @lock: see "Locking" above.
 * @merge_work: merge links of nodes finished under @lock, waiting to be
 *	applied; empty whenever @lock is free (see ctxfd_tree_unlock()).
 * @walking: a cancel walk is under way in the tree. Written under @lock;
 *	read by the deadline's fast path (ctxfd_node_finish_leaf()), which
 *	then declines: the walk unlinks a node's children before it
 *	finishes the node, which meanwhile looks like a leaf.
 */
struct ctxfd_tree {
	struct mutex lock;
	struct list_head merge_work;
	bool walking;
};

/**
 * struct ctxfd_msg - an immutable, shared cause message
 * @ref: one reference per holder (nodes canceled with it, deadline causes).
 * @len: length of @text without the NUL.
 * @text: the message, NUL-terminated.
 *
 * A cancel hands the same message to every node of the subtree it
 * cancels, so canceling a million nodes costs no copies.
 */
struct ctxfd_msg {
	refcount_t ref;
	u32 len;
	char text[];
};

/**
 * struct ctxfd_origin - how a cancellation began (origin.c)
 *
 * Lives in its owner, where the cancellation begins: a node's @here, or
 * a deadline timer's @origin; freed with it. Written before the err of
 * the first node it makes done is published, then immutable. The nodes
 * it reaches point at it, and keep its owner alive (struct ctxfd_node,
 * @via).
 *
 * @reason: CTXFD_REASON_*.
 * @id: the context where it began.
 * @pid: the thread group that began it; holds a reference; NULL for a
 *	deadline.
 * @time_ns: when, on CLOCK_BOOTTIME.
 * @comm: the name of @pid's process then.
 */
struct ctxfd_origin {
	u32 reason;
	u64 id;
	struct pid *pid;
	u64 time_ns;
	char comm[TASK_COMM_LEN];
};

/**
 * struct ctxfd_why - what a context becomes done with
 * @err: ECANCELED or ETIMEDOUT.
 * @code: cause code, 0 for "the cause is the err".
 * @msg: cause message or NULL; the node where it begins takes a
 *	reference, the others borrow (see struct ctxfd_node, @origin).
 * @origin: provenance; the same.
 */
struct ctxfd_why {
	int err;
	int code;
	struct ctxfd_msg *msg;
	const struct ctxfd_origin *origin;
};

/**
 * struct ctxfd_report - what a node's attachments did (report.c)
 * @fired: attachments that fired.
 * @running: of those, how many still have live processes.
 * @signalled: processes sent an attachment's signal.
 * @killed: processes sent SIGKILL.
 * @left: processes alive after a SIGKILL phase.
 * @first_fire: when the first attachment fired (CLOCK_MONOTONIC).
 * @last_end: when the last one ended.
 *
 * Under the node's wqh.lock.
 */
struct ctxfd_report {
	u32 fired;
	u32 running;
	u32 signalled;
	u32 killed;
	u32 left;
	ktime_t first_fire;
	ktime_t last_end;
};

/**
 * struct ctxfd_value - an immutable key -> value binding
 * @key_len: length of the key, bytes at @data.
 * @value_len: length of the value, bytes at @data + @key_len.
 * @nil: the binding is Go's nil (no value, @value_len 0), not "".
 * @data: key then value.
 *
 * Owned by exactly one node and freed with it.
 */
struct ctxfd_value {
	u32 key_len;
	u32 value_len;
	bool nil;
	u8 data[];
};

/**
 * struct ctxfd_timer - the deadline timer of a node that needs its own
 * @timer: hrtimer on the deadline's clock, absolute, expiring in hard
 *	interrupt context (softirq on PREEMPT_RT).
 * @work: finishes the cancel in process context: the timer callback does
 *	O(1) work only (it finishes a node with nothing under it, and
 *	queues @work), since the subtree may be huge and the cancel takes
 *	the tree mutex. After the fast path, @timer expires once more a
 *	tick later and queues @work, which only unlinks the node.
 * @node: the owner; the timer holds no reference: the node's destructor
 *	cancels @timer and @work synchronously before the free.
 * @cause_code: code recorded when the deadline fires (0: none).
 * @cause_msg: message recorded when the deadline fires, or NULL.
 * @origin: the origin a firing records, prepared with the timer (so the
 *	timer's interrupt has only the time to write), stamped with the
 *	time when it fires; freed with the timer, so with the node.
 */
struct ctxfd_timer {
	struct hrtimer timer;
	struct work_struct work;
	struct ctxfd_node *node;
	int cause_code;
	struct ctxfd_msg *cause_msg;
	struct ctxfd_origin origin;
};

/**
 * struct ctxfd_user - per-user accounting (user.c)
 * @hnode: entry in the hash table, under ctxfd_users_lock / RCU.
 * @uid: the user, in the initial user namespace.
 * @units: what is charged to the user, in CTXFD_NODE_COST units of
 *	kernel memory (a context, an attachment, a large value binding's
 *	share, CTXFD_MEMBERS_PER_UNIT tracked processes); the entry lives
 *	while this is non-zero, and is freed through RCU when it drops to
 *	zero.
 * @rcu: for kfree_rcu().
 */
struct ctxfd_user {
	struct hlist_node hnode;
	kuid_t uid;
	atomic_t units;
	struct rcu_head rcu;
};

/* struct ctxfd_node::kind */
enum ctxfd_kind {
	CTXFD_KIND_CANCEL,		/* WithCancel / WithDeadline / root */
	CTXFD_KIND_VALUE,		/* WithValue: watch-only, follows parent */
	CTXFD_KIND_WITHOUT_CANCEL,	/* WithoutCancel: never done */
	CTXFD_KIND_MERGE,		/* several parents: a tree of its own */
};

/* Kinds that have a tree of their own although they have a parent. */
static inline bool ctxfd_kind_own_tree(u8 kind)
{
	return kind == CTXFD_KIND_WITHOUT_CANCEL || kind == CTXFD_KIND_MERGE;
}

/* Kinds created with a cancel-capable fd (and canceled on its close). */
static inline bool ctxfd_kind_cancelable(u8 kind)
{
	return kind == CTXFD_KIND_CANCEL || kind == CTXFD_KIND_MERGE;
}

/*
 * Kinds whose ->parent counts them in its pending count. WithoutCancel
 * nodes are not canceled with their parent; a merged node is counted on
 * every parent by its merge links instead (merge.c).
 */
static inline bool ctxfd_kind_pends_parent(u8 kind)
{
	return kind != CTXFD_KIND_WITHOUT_CANCEL && kind != CTXFD_KIND_MERGE;
}

/**
 * struct ctxfd_node - one context
 * @tree: lock domain; immutable; holds a tree reference.
 * @parent: immutable; holds a reference on the parent; NULL for a root.
 *	Kept after the node is done and unlinked, for value lookups and the
 *	parent id (Go keeps it too). A merged node's first parent: lookups
 *	follow it.
 * @children: active children linked under this node (weak links).
 *	Under @tree->lock; added to under @wqh.lock too (see @err). Only
 *	active nodes are ever linked; a node the deadline's fast path
 *	finished stays linked until its work item unlinks it.
 * @sibling: entry in @parent->children; empty when unlinked. Under
 *	@tree->lock; linked once at creation, and once unlinked never again
 *	(ctxfd_node_linked() reads it without the lock).
 * @wqh: pollers and blocked readers; its lock publishes @err.
 * @ref: see "Lifetime" above.
 * @depth: number of ancestors; immutable.
 * @kind: enum ctxfd_kind; immutable.
 * @no_cancel_on_close: created with CTXFD_CREATE_NO_CANCEL_ON_CLOSE;
 *	immutable.
 * @id: unique id, never reused; immutable.
 * @err: 0 while active, then ECANCELED or ETIMEDOUT, forever. Written
 *	once, under @wqh.lock, after @cause_code and @cause_msg; read
 *	locklessly with smp_load_acquire(). Whoever writes it holds
 *	@tree->lock too, but for the deadline's fast path on a node with no
 *	child, attachment or merge link (ctxfd_node_finish_leaf(), in the
 *	timer's interrupt): so whoever adds one of those checks @err and
 *	adds under @wqh.lock, and a walk may find a node of its subtree
 *	done already (it then only unlinks it).
 * @cause_code: written before @err, then immutable.
 * @cause_msg: written before @err, then immutable.
 * @origin: how the cancellation began (origin.c); written before @err,
 *	then immutable. Points at this node's @here or its timer's origin
 *	(CTXFD_VIA_SELF), or at the origin of the node it was done with.
 * @via: how it reached this node, CTXFD_VIA_*; written with @origin.
 *	With CTXFD_VIA_SELF the node holds a reference on @cause_msg, and
 *	@origin is its own. Otherwise it borrows both from the node it was
 *	done with, which it keeps alive: an ancestor (through @parent
 *	references) or a merge parent (through its merge link, until it is
 *	freed), which in turn owns them or borrows them the same way. So a
 *	million-node cancel takes no reference per node.
 * @nr_children: number of nodes on @children. Under @tree->lock.
 * @cancel_files: number of open cancel-capable files. Under @tree->lock
 *	once the node is linked; set before that by its creator.
 * @deadline: effective deadline (earliest along the ancestor chain),
 *	KTIME_MAX if none; immutable.
 * @clockid: clock of @deadline; immutable.
 * @timer: own deadline timer, or NULL if the effective deadline is an
 *	ancestor's (or there is none); allocated at creation.
 * @value: the binding this node carries, or NULL; immutable.
 * @attachments: processes to signal when done (attach.c), armed ones
 *	only. Under @tree->lock; added to under @wqh.lock too (see @err).
 * @nr_attached: number of entries on @attachments. Under @tree->lock,
 *	and @wqh.lock when it grows; a cancel reads it, not the list, to
 *	skip a node without any.
 * @user: who is charged for the node.
 * @charge: units charged to @user (user.c); immutable.
 * @merge_links: links of merged nodes this node is a parent of (weak, like
 *	@children: a link belongs to its merged node). Under @tree->lock;
 *	added to under @wqh.lock too (see @err).
 * @merge: the parents of a merged node (CTXFD_KIND_MERGE), else NULL;
 *	set before the node is linked, then immutable; owned.
 * @pending: what keeps the node, once done, from being drained: live
 *	child nodes (WithoutCancel ones excepted: they are not canceled
 *	with it), live attachments (until their processes have exited)
 *	and live merged nodes (one per merge link: merge.c).
 *	Atomic: children are freed without the tree lock.
 * @drained: done and nothing pending; final. Written once under
 *	@wqh.lock, which publishes it like @err (the fd then polls
 *	EPOLLPRI).
 * @report: teardown report (report.c), made by the first attachment;
 *	freed with the node.
 * @fire_tail: once done, the last of the node's attachments taken by the
 *	fire path whose signals are not out yet, NULL if none: a later
 *	attachment fires after it (attach.c: attachments fire in the
 *	order they were made). Under @wqh.lock; the attachment it names
 *	stays alive until it has cleared it.
 * @here: the origin of a cancellation a process begins at this node
 *	(cancel, remote cancel, close, exit): written once, under
 *	@tree->lock, by the canceler that finds the node active
 *	(ctxfd_origin_here()); part of the node, so a cancel allocates
 *	nothing. Its pid reference is dropped with the node.
 */
struct ctxfd_node {
	/*
	 * What a cancel walk reads or writes for every node comes first,
	 * in the first two cachelines: a million-node cancel misses in
	 * the cache once or twice per node, not four times.
	 */
	struct list_head children;
	struct list_head sibling;
	wait_queue_head_t wqh;
	int err;
	atomic_t pending;
	struct ctxfd_node *parent;
	int cause_code;
	unsigned int nr_children;
	struct ctxfd_msg *cause_msg;
	const struct ctxfd_origin *origin;
	struct ctxfd_timer *timer;
	unsigned int nr_attached;
	u8 via;
	bool drained;
	u8 kind;
	bool no_cancel_on_close;
	struct list_head merge_links;
	/* The rest. */
	struct ctxfd_tree *tree;
	u64 id;
	refcount_t ref;
	u32 depth;
	ktime_t deadline;
	clockid_t clockid;
	unsigned int cancel_files;
	struct list_head attachments;
	struct ctxfd_value *value;
	struct ctxfd_user *user;
	unsigned int charge;
	struct ctxfd_merged *merge;
	struct ctxfd_report *report;
	struct ctxfd_attachment *fire_tail;
	struct ctxfd_origin here;
};

/* Module parameters (main.c). */
extern unsigned int ctxfd_max_depth;
extern unsigned int ctxfd_max_nodes_per_user;
extern unsigned int ctxfd_max_key_len;
extern unsigned int ctxfd_max_value_len;

/*
 * Allocations a user makes by creating contexts and attachments: charged
 * to its memory cgroup; reclaim is tried as hard as for any allocation,
 * but at the end they fail with ENOMEM rather than invoking the OOM
 * killer (which could pick another process of the group) or warning in
 * the kernel log.
 */
#define CTXFD_GFP	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

/*
 * Kernel memory one plain node costs, file included, rounded up: the unit
 * of the per-user charge (user.c) and of the default max_nodes_per_user.
 */
#define CTXFD_NODE_COST			512

/* Hard upper bounds of the tunables above. */
#define CTXFD_MAX_KEY_LEN_LIMIT		4096
#define CTXFD_MAX_VALUE_LEN_LIMIT	(1U << 20)

extern struct workqueue_struct *ctxfd_wq;

/* node.c */
int ctxfd_node_cache_init(void);
void ctxfd_node_cache_exit(void);
struct ctxfd_node *ctxfd_node_alloc(struct ctxfd_node *parent,
				    enum ctxfd_kind kind, unsigned int units);
void ctxfd_node_link(struct ctxfd_node *node);
void ctxfd_node_get(struct ctxfd_node *node);
void ctxfd_node_put(struct ctxfd_node *node);
void __ctxfd_cancel(struct ctxfd_node *top, const struct ctxfd_why *why);
void __ctxfd_cancel_via(struct ctxfd_node *top, const struct ctxfd_why *why,
			u8 via);
void ctxfd_cancel(struct ctxfd_node *node, const struct ctxfd_why *why);
void ctxfd_node_cancel_file_closed(struct ctxfd_node *node);
void ctxfd_node_why(const struct ctxfd_node *node, struct ctxfd_why *why);
bool ctxfd_node_finish_leaf(struct ctxfd_node *node,
			    const struct ctxfd_why *why);
void ctxfd_node_unlink_done(struct ctxfd_node *node);
void ctxfd_node_pend(struct ctxfd_node *node);
void ctxfd_node_unpend(struct ctxfd_node *node);

/* report.c */
struct ctxfd_report *ctxfd_node_report(struct ctxfd_node *node);
void ctxfd_report_install(struct ctxfd_node *node, struct ctxfd_report **spare);
void ctxfd_report_fire(struct ctxfd_node *node);
void ctxfd_report_add(struct ctxfd_node *node, unsigned int signalled,
		      unsigned int killed, unsigned int left);
void ctxfd_report_end(struct ctxfd_node *node);
bool ctxfd_report_read(struct ctxfd_node *node, struct ctxfd_info *info);

/**
 * ctxfd_node_err - the err of a node, or 0 while it is active
 * @node: the node
 *
 * Pairs with the release in ctxfd_publish(): a caller that sees a non-zero
 * err also sees the cause.
 */
static inline int ctxfd_node_err(const struct ctxfd_node *node)
{
	/* Pairs with smp_store_release() in ctxfd_publish(). */
	return smp_load_acquire(&node->err);
}

/**
 * ctxfd_node_drained - is the node drained?
 * @node: the node
 *
 * Read it before ctxfd_node_err(): drained is published after err, so a
 * caller that sees it set sees the node done too, never drained alone.
 */
static inline bool ctxfd_node_drained(const struct ctxfd_node *node)
{
	/* Pairs with smp_store_release() in ctxfd_publish(), _drain(). */
	return smp_load_acquire(&node->drained);
}

/* msg.c */
struct ctxfd_msg *ctxfd_msg_from_user(const struct ctxfd_cause *cause);
struct ctxfd_msg *ctxfd_msg_get(struct ctxfd_msg *msg);
void ctxfd_msg_put(struct ctxfd_msg *msg);
int ctxfd_cause_check(const struct ctxfd_cause *cause);

/* origin.c */
struct ctxfd_origin *ctxfd_origin_here(struct ctxfd_node *node,
				       unsigned int reason);
void ctxfd_origin_init_deadline(struct ctxfd_origin *o, u64 id);
void ctxfd_origin_stamp(struct ctxfd_origin *o);
void ctxfd_origin_release(struct ctxfd_origin *o);
pid_t ctxfd_origin_pid(const struct ctxfd_origin *o);

/* user.c */
struct ctxfd_user *ctxfd_user_charge(struct ctxfd_user *hint,
				     unsigned int units);
void ctxfd_user_uncharge(struct ctxfd_user *user, unsigned int units);
bool ctxfd_user_charge_more(struct ctxfd_user *user, unsigned int units);
void ctxfd_users_exit(void);
struct seq_file;
int ctxfd_users_show(struct seq_file *m, void *unused);

/* debugfs.c */
void ctxfd_debugfs_init(void);
void ctxfd_debugfs_exit(void);

/* deadline.c */
int ctxfd_deadline_check(const struct ctxfd_create *args);
int ctxfd_deadline_prepare(struct ctxfd_node *node,
			   const struct ctxfd_create *args);
ktime_t ctxfd_to_mono(ktime_t t, clockid_t clockid);
bool ctxfd_deadline_passed(const struct ctxfd_node *node);
void ctxfd_deadline_why(const struct ctxfd_timer *timer,
			struct ctxfd_why *why);
void ctxfd_deadline_start(struct ctxfd_node *node);
void ctxfd_deadline_stop(struct ctxfd_node *node);
void ctxfd_deadline_quiesce(struct ctxfd_node *node);
void ctxfd_deadline_free(struct ctxfd_node *node);

/* value.c */
int ctxfd_value_check(const struct ctxfd_create *args);
unsigned int ctxfd_value_weight(const struct ctxfd_create *args);
int ctxfd_value_prepare(struct ctxfd_node *node,
			const struct ctxfd_create *args);
void ctxfd_value_free(struct ctxfd_node *node);
long ctxfd_ioctl_lookup(struct ctxfd_node *node, void __user *uarg,
			unsigned int usize);

/**
 * struct ctxfd_newfd - a file descriptor being created
 * @fd: the reserved descriptor number.
 * @file: the file, not yet visible in the descriptor table.
 *
 * ctxfd_newfd_prepare() reserves the number and creates the file;
 * ctxfd_newfd_install() publishes it, past every point of failure, and
 * ctxfd_newfd_abort() undoes a prepared one.
 */
struct ctxfd_newfd {
	int fd;
	struct file *file;
};

/* attach.c */
void ctxfd_attach_fire(struct ctxfd_node *node);
long ctxfd_ioctl_attach(struct ctxfd_node *node, void __user *uarg,
			unsigned int usize);

/* struct ctxfd_member::flags. Under the set's lock. */
#define CTXFD_MEMBER_SPARED	0x01	/* the attached process, descendants-only */
#define CTXFD_MEMBER_GONE	0x02	/* forgotten (exited while armed) */
#define CTXFD_MEMBER_STOPPED	0x04	/* sent SIGSTOP by a teardown */
#define CTXFD_MEMBER_DENIED	0x08	/* refused our SIGSTOP */
#define CTXFD_MEMBER_KILLED	0x10	/* sent SIGKILL by a teardown */
#define CTXFD_MEMBER_EXITED	0x20	/* seen exiting during a teardown */

/* Process-side per-user charge: members per 512-byte unit (user.c). */
#define CTXFD_MEMBERS_PER_UNIT	8

/**
 * struct ctxfd_member - one process of an attachment's tree (members.c)
 * @hnode: in the member hash, keyed by @pid, while @set is tracked and
 *	the member not forgotten. RCU readers: the fork and exit probes.
 * @entry: in @set->list, in the order found: parents before children.
 * @pid: the process (thread group); holds a reference.
 * @set: the set; a member never outlives it.
 * @flags: CTXFD_MEMBER_*. Under @set->lock.
 * @rcu: members are freed through RCU: the probes find them locklessly.
 */
struct ctxfd_member {
	struct hlist_node hnode;
	struct list_head entry;
	struct pid *pid;
	struct ctxfd_members *set;
	unsigned int flags;
	struct rcu_head rcu;
};

/* struct ctxfd_members::state */
enum ctxfd_members_state {
	CTXFD_MEMBERS_TRACKING,	/* armed: members join and leave */
	CTXFD_MEMBERS_FIRING,	/* teardown: members join, never leave */
	CTXFD_MEMBERS_KILLING,	/* also: new children of killed members die */
	CTXFD_MEMBERS_CLOSED,	/* being freed: nothing changes */
};

/**
 * struct ctxfd_members - the processes an attachment tears down
 * @lock: protects @list, @nr, @units, @state, @lost and every member's
 *	flags; a spinlock, taken by the fork and exit probes.
 * @list: the members, oldest first.
 * @nr: members on @list.
 * @alive: members the exit probe has not seen exit (a hint: only
 *	tracked sets see exits).
 * @units: per-user units charged to @user for the members.
 * @state: enum ctxfd_members_state; only moves forward.
 * @tracked: the set follows forks (a descendants flag); immutable.
 * @lost: a member may be missing (no memory in a probe, the per-user cap,
 *	or no tracepoints): the teardown walks every process first.
 * @user: charged @units; the owning attachment holds a unit of it.
 * @memcg: the attacher's memory cgroup, charged for every member; holds
 *	a reference.
 * @empty: called under @lock when @alive drops to zero in a teardown
 *	state (ctxfd_members_on_empty()), with @empty_data.
 * @empty_data: its argument.
 * @rcu: freed through RCU after its members: probes reach it from them.
 *
 * Owned by one attachment. Members are added by the fork probe (any
 * task), the walk, and creation; removed only by the exit probe while
 * TRACKING, and all at once by ctxfd_members_destroy(). In the teardown
 * states the list only grows, so ctxfd_members_next() can iterate it
 * without holding the lock across the members it returns.
 */
struct ctxfd_members {
	spinlock_t lock;
	struct list_head list;
	unsigned int nr;
	unsigned int alive;
	unsigned int units;
	int state;
	bool tracked;
	bool lost;
	struct ctxfd_user *user;
	struct mem_cgroup *memcg;
	void (*empty)(void *data);
	void *empty_data;
	struct rcu_head rcu;
};

/* members.c */
int ctxfd_members_init(void);
void ctxfd_members_exit(void);
struct ctxfd_members *ctxfd_members_create(struct pid *leader, u64 flags,
					   struct ctxfd_user *user);
void ctxfd_members_destroy(struct ctxfd_members *set);
unsigned int ctxfd_members_walk(struct ctxfd_members *set);
void ctxfd_members_set_state(struct ctxfd_members *set, int state);
void ctxfd_members_on_empty(struct ctxfd_members *set, void (*fn)(void *),
			    void *data);
void ctxfd_members_kick(struct ctxfd_members *set);
struct ctxfd_member *ctxfd_members_next(struct ctxfd_members *set,
					struct ctxfd_member *pos, bool reverse);
void ctxfd_members_mark(struct ctxfd_member *m, unsigned int flags);
unsigned int ctxfd_members_count(struct ctxfd_members *set);

/* teardown.c */
struct cred;
bool ctxfd_task_untouchable(struct task_struct *t);
unsigned int ctxfd_teardown_signal(struct ctxfd_members *set,
				   const struct cred *cred, int sig);
unsigned int ctxfd_teardown_kill(struct ctxfd_members *set,
				 const struct cred *cred);
bool ctxfd_teardown_alive(struct ctxfd_members *set);
unsigned int ctxfd_teardown_count_left(struct ctxfd_members *set);

/**
 * ctxfd_task_gone - has the whole thread group exited?
 * @t: a task, under RCU
 *
 * pidfd_poll()'s test: a zombie leader whose other threads still run is
 * not gone.
 */
static inline bool ctxfd_task_gone(struct task_struct *t)
{
	return READ_ONCE(t->exit_state) && thread_group_empty(t);
}

/**
 * ctxfd_pid_exited - has the thread group of @pid exited?
 * @pid: a pid the caller holds a reference on
 */
static inline bool ctxfd_pid_exited(struct pid *pid)
{
	struct task_struct *task;
	bool exited;

	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_TGID);
	exited = !task || ctxfd_task_gone(task);
	rcu_read_unlock();
	return exited;
}

/**
 * struct ctxfd_merge_link - one parent of a merged node (merge.c)
 * @entry: where the link is, which says who owns it (below).
 * @parent: the parent; holds a reference (as a child holds its parent's)
 *	and one pending count on it; immutable.
 * @merged: the merged node; NO reference: the merged node owns its links,
 *	and a parent that keeps its merged nodes alive would leak every
 *	merge of a long-lived parent (.NET's linked token sources).
 *
 * The link lives in its merged node's struct ctxfd_merged. @entry is, at
 * every step, on exactly one list or on none (points to itself):
 *  1. none: ctxfd_ioctl_merge() builds it; it is not yet published;
 *  2. on @parent->merge_links, under @parent's tree lock: published; the
 *     parent is active;
 *  3. on @parent's tree's ->merge_work, then on a drainer's local work
 *     list: the parent finished (ctxfd_merge_parent_done(), under the
 *     parent's tree lock) and took a reference on @merged for it, which
 *     the drainer (ctxfd_merge_drain()) drops once done with the link;
 *  4. none again, for good: the drainer is done, or the parent finished
 *     when @merged was already being freed (no reference to take). The
 *     last write to @entry is a release, and the writer touches the link
 *     no more.
 * When @merged is freed nobody holds a reference to it, so no link is
 * in state 3: ctxfd_merge_release() takes each link still in state 2 off
 * its parent's list, under that parent's tree lock alone, and skips the
 * lock for a link it sees in state 4 (acquire). The parent references
 * are dropped by ctxfd_node_put()'s loop, not by recursion.
 */
struct ctxfd_merge_link {
	struct list_head entry;
	struct ctxfd_node *parent;
	struct ctxfd_node *merged;
};

/**
 * struct ctxfd_merged - the parents of a merged node (merge.c)
 * @next_put: in ctxfd_node_put()'s stack of freed merged nodes whose
 *	parent references are still to be dropped.
 * @mode: CTXFD_MERGE_ANY or CTXFD_MERGE_ALL; immutable.
 * @nr: number of @links, 1 .. CTXFD_MERGE_MAX_PARENTS; immutable.
 * @remaining: CTXFD_MERGE_ALL: parents not yet counted as done. Under the
 *	merged node's tree lock.
 * @put_pos: the next link whose parent ctxfd_node_put() drops.
 * @links: one per parent, in the order given; @links[0].parent is also
 *	the node's ->parent.
 *
 * Owned by its merged node, freed after it, by ctxfd_node_put().
 */
struct ctxfd_merged {
	struct ctxfd_merged *next_put;
	u32 mode;
	u32 nr;
	u32 remaining;
	u32 put_pos;
	struct ctxfd_merge_link links[];
};

/* merge.c */
long ctxfd_ioctl_merge(void __user *uarg, unsigned int usize);
long ctxfd_ioctl_parents(struct ctxfd_node *node, void __user *uarg,
			 unsigned int usize);
void ctxfd_merge_parent_done(struct ctxfd_node *node);
void ctxfd_tree_unlock(struct ctxfd_tree *tree);
void ctxfd_merge_release(struct ctxfd_node *node,
			 struct ctxfd_merged **stack);
struct ctxfd_node *ctxfd_merge_next_put(struct ctxfd_merged **stack);
void ctxfd_merge_show_fdinfo(struct seq_file *m, struct ctxfd_node *node);
u64 ctxfd_merge_info_flags(const struct ctxfd_node *node);

/* file.c */
extern const struct file_operations ctxfd_fops;
int ctxfd_newfd_prepare(struct ctxfd_newfd *nfd, struct ctxfd_node *node,
			bool cancel_capable, bool cloexec);
int ctxfd_newfd_install(struct ctxfd_newfd *nfd);
void ctxfd_newfd_abort(struct ctxfd_newfd *nfd);

/* ioctl.c */
long ctxfd_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
long ctxfd_dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* ustruct.c */
int ctxfd_copy_args(void *karg, size_t ksize, size_t ver0,
		    const void __user *uarg, unsigned int usize);
int ctxfd_copy_out(void __user *uarg, unsigned int usize, const void *karg,
		   size_t ksize);

#endif /* _CTXFD_INTERNAL_H */
