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
 *                       and the active -> done transition.
 *  node->wqh.lock       the wait queue, and publication of ->err: done is
 *                       published under it, then pollers are woken with
 *                       wake_up_locked_poll() (eventfd's pattern).
 *  ctxfd_users_lock     insertion and removal in the per-user hash table.
 *
 * Order: tree->lock, then node->wqh.lock. Lookups of immutable fields
 * (->parent, ->value, ->depth, ->id) take no lock.
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
 */
#ifndef _CTXFD_INTERNAL_H
#define _CTXFD_INTERNAL_H

#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <uapi/linux/ctxfd.h>

#include "compat.h"

/**
 * struct ctxfd_tree - lock domain of one cancellation tree
 * @lock: see "Locking" above.
 * @ref: one reference per node of the tree; freed with the last node.
 */
struct ctxfd_tree {
	struct mutex lock;
	refcount_t ref;
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
 * @timer: hrtimer on the deadline's clock, absolute, soft mode.
 * @work: finishes the cancel in process context: the timer callback does
 *	O(1) work only (it queues @work), since the subtree may be huge and
 *	the cancel takes the tree mutex.
 * @node: the owner; the timer holds no reference: the node's destructor
 *	cancels @timer and @work synchronously before the free.
 * @cause_code: code recorded when the deadline fires (0: none).
 * @cause_msg: message recorded when the deadline fires, or NULL.
 */
struct ctxfd_timer {
	struct hrtimer timer;
	struct work_struct work;
	struct ctxfd_node *node;
	int cause_code;
	struct ctxfd_msg *cause_msg;
};

/**
 * struct ctxfd_user - per-user accounting of nodes
 * @node: entry in the hash table, under ctxfd_users_lock / RCU.
 * @uid: the user, in the initial user namespace.
 * @nodes: live nodes charged to the user; the entry lives while this is
 *	non-zero, and is freed through RCU when it drops to zero.
 * @rcu: for kfree_rcu().
 */
struct ctxfd_user {
	struct hlist_node node;
	kuid_t uid;
	atomic_t nodes;
	struct rcu_head rcu;
};

/* struct ctxfd_node::kind */
enum ctxfd_kind {
	CTXFD_KIND_CANCEL,		/* WithCancel / WithDeadline / root */
	CTXFD_KIND_VALUE,		/* WithValue: watch-only, follows parent */
	CTXFD_KIND_WITHOUT_CANCEL,	/* WithoutCancel: never done */
};

/**
 * struct ctxfd_node - one context
 * @tree: lock domain; immutable; holds a tree reference.
 * @parent: immutable; holds a reference on the parent; NULL for a root.
 *	Kept after the node is done and unlinked, for value lookups and the
 *	parent id (Go keeps it too).
 * @children: active children linked under this node (weak links).
 *	Under @tree->lock. Only active nodes are ever linked.
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
 *	once, with @tree->lock and @wqh.lock held, after @cause_code and
 *	@cause_msg; read locklessly with smp_load_acquire().
 * @cause_code: written before @err, then immutable.
 * @cause_msg: written before @err, then immutable; holds a reference.
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
 *	only. Under @tree->lock.
 * @nr_attached: number of entries on @attachments. Under @tree->lock.
 * @user: who is charged for the node.
 * @charge: units charged to @user (user.c); immutable.
 */
struct ctxfd_node {
	struct ctxfd_tree *tree;
	struct ctxfd_node *parent;
	struct list_head children;
	struct list_head sibling;
	wait_queue_head_t wqh;
	refcount_t ref;
	u32 depth;
	u8 kind;
	bool no_cancel_on_close;
	u64 id;
	int err;
	int cause_code;
	struct ctxfd_msg *cause_msg;
	unsigned int nr_children;
	unsigned int cancel_files;
	ktime_t deadline;
	clockid_t clockid;
	struct ctxfd_timer *timer;
	struct ctxfd_value *value;
	struct list_head attachments;
	unsigned int nr_attached;
	struct ctxfd_user *user;
	unsigned int charge;
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
 * Margin below its memory cgroup's limit a creator must have for a new
 * file (file.c): twice what the VFS may charge for one (a page).
 */
#define CTXFD_FILE_HEADROOM	(2 * PAGE_SIZE)

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
void __ctxfd_cancel(struct ctxfd_node *node, int err, int code,
		    struct ctxfd_msg *msg);
void ctxfd_cancel(struct ctxfd_node *node, int err, int code,
		  struct ctxfd_msg *msg);
void ctxfd_node_cancel_file_closed(struct ctxfd_node *node);

/**
 * ctxfd_node_err - the err of a node, or 0 while it is active
 * @node: the node
 *
 * Pairs with the release in ctxfd_finish(): a caller that sees a non-zero
 * err also sees the cause.
 */
static inline int ctxfd_node_err(const struct ctxfd_node *node)
{
	/* Pairs with smp_store_release() in ctxfd_finish(). */
	return smp_load_acquire(&node->err);
}

/* msg.c */
struct ctxfd_msg *ctxfd_msg_from_user(const struct ctxfd_cause *cause);
struct ctxfd_msg *ctxfd_msg_get(struct ctxfd_msg *msg);
void ctxfd_msg_put(struct ctxfd_msg *msg);
int ctxfd_cause_check(const struct ctxfd_cause *cause);

/* user.c */
struct ctxfd_user *ctxfd_user_charge(unsigned int units);
void ctxfd_user_uncharge(struct ctxfd_user *user, unsigned int units);
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
bool ctxfd_deadline_passed(const struct ctxfd_node *node);
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

/**
 * struct ctxfd_pidset - the processes of one teardown
 * @list: members in the order they were found (parents before children),
 *	each holding a struct pid reference.
 * @slots: open-addressing hash of the same pointers, at most half full.
 * @nr: number of members.
 * @cap: room in @list.
 * @bits: log2 of the number of @slots.
 *
 * Owned by one attachment's fire path; no lock.
 */
struct ctxfd_pidset {
	struct pid **list;
	struct pid **slots;
	unsigned int nr;
	unsigned int cap;
	unsigned int bits;
};

/* teardown.c */
struct cred;
bool ctxfd_task_untouchable(struct task_struct *t);
void ctxfd_pidset_free(struct ctxfd_pidset *set);
int ctxfd_tree_collect(struct pid *leader_pid, u64 flags,
		       struct ctxfd_pidset *set);
unsigned int ctxfd_tree_signal(struct ctxfd_pidset *set,
			       const struct cred *cred, int sig,
			       bool skip_dying);
void ctxfd_tree_kill(struct pid *leader_pid, u64 flags,
		     const struct cred *cred, struct ctxfd_pidset *set);
bool ctxfd_tree_alive(struct ctxfd_pidset *set);

/* file.c */
extern const struct file_operations ctxfd_fops;
int ctxfd_newfd_prepare(struct ctxfd_newfd *nfd, struct ctxfd_node *node,
			bool cancel_capable, bool cloexec);
int ctxfd_newfd_install(struct ctxfd_newfd *nfd);
void ctxfd_newfd_abort(struct ctxfd_newfd *nfd);

/* ioctl.c */
long ctxfd_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
long ctxfd_dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
int ctxfd_copy_args(void *karg, size_t ksize, size_t ver0,
		    const void __user *uarg, unsigned int usize);
int ctxfd_copy_out(void __user *uarg, unsigned int usize, const void *karg,
		   size_t ksize);

#endif /* _CTXFD_INTERNAL_H */
