// SPDX-License-Identifier: GPL-2.0
/*
 * ctxfd nodes: allocation, linking, cancellation of subtrees, and the
 * reference counting that frees them. See ctxfd.h for the locking and
 * lifetime rules.
 */
#include <linux/atomic.h>
#include <linux/err.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "ctxfd.h"
#include "trace.h"

static struct kmem_cache *ctxfd_node_cache;
static atomic64_t ctxfd_next_id = ATOMIC64_INIT(0);

/*
 * Nodes handled between two cond_resched() calls in long walks. Small
 * enough to keep scheduling latency low even under KASAN, large enough
 * that the check costs nothing.
 */
#define CTXFD_RESCHED_BATCH	256

static struct ctxfd_tree *ctxfd_tree_alloc(void)
{
	struct ctxfd_tree *tree;

	tree = kmalloc(sizeof(*tree), CTXFD_GFP);
	if (!tree)
		return NULL;
	mutex_init(&tree->lock);
	INIT_LIST_HEAD(&tree->merge_work);
	tree->walking = false;
	return tree;
}

static void ctxfd_tree_free(struct ctxfd_tree *tree)
{
	WARN_ON_ONCE(!list_empty(&tree->merge_work));
	mutex_destroy(&tree->lock);
	kfree(tree);
}

/*
 * Did @node start its tree (a root, a WithoutCancel or a merged node)?
 * Otherwise it follows its parent, in its parent's tree.
 */
static bool ctxfd_node_owns_tree(const struct ctxfd_node *node)
{
	return !node->parent || ctxfd_kind_own_tree(node->kind);
}

/**
 * ctxfd_node_alloc - allocate an active, unlinked node
 * @parent: the parent, or NULL for a root
 * @kind: enum ctxfd_kind
 * @units: what to charge the calling user (ctxfd_user_charge())
 *
 * Charges the node to the calling user and takes a reference on @parent.
 * The node is invisible until ctxfd_node_link(); the caller owns the one
 * reference it is returned with and drops it with ctxfd_node_put() on
 * failure.
 *
 * Return: the node, or ERR_PTR(-ELOOP) beyond the depth limit,
 * ERR_PTR(-ENOSPC) beyond the per-user limit, ERR_PTR(-ENOMEM).
 */
struct ctxfd_node *ctxfd_node_alloc(struct ctxfd_node *parent,
				    enum ctxfd_kind kind, unsigned int units)
{
	u32 depth = parent ? parent->depth + 1 : 0;
	struct ctxfd_user *user;
	struct ctxfd_node *node;
	struct ctxfd_tree *tree;

	if (depth > READ_ONCE(ctxfd_max_depth))
		return ERR_PTR(-ELOOP);

	user = ctxfd_user_charge(parent ? parent->user : NULL, units);
	if (IS_ERR(user))
		return ERR_CAST(user);

	node = kmem_cache_zalloc(ctxfd_node_cache, CTXFD_GFP);
	if (!node)
		goto nomem;

	/* A child shares its parent's tree: struct ctxfd_tree, lifetime. */
	if (!parent || ctxfd_kind_own_tree(kind)) {
		tree = ctxfd_tree_alloc();
		if (!tree) {
			kmem_cache_free(ctxfd_node_cache, node);
			goto nomem;
		}
	} else {
		tree = parent->tree;
	}

	node->tree = tree;
	if (parent) {
		ctxfd_node_get(parent);
		node->parent = parent;
		/* A descendant keeps its ancestors from being drained. */
		if (ctxfd_kind_pends_parent(kind))
			ctxfd_node_pend(parent);
	}
	INIT_LIST_HEAD(&node->children);
	INIT_LIST_HEAD(&node->sibling);
	INIT_LIST_HEAD(&node->attachments);
	INIT_LIST_HEAD(&node->merge_links);
	init_waitqueue_head(&node->wqh);
	refcount_set(&node->ref, 1);
	node->depth = depth;
	node->kind = kind;
	node->id = atomic64_inc_return(&ctxfd_next_id);
	node->deadline = KTIME_MAX;
	node->user = user;
	node->charge = units;
	return node;

nomem:
	ctxfd_user_uncharge(user, units);
	return ERR_PTR(-ENOMEM);
}

/**
 * ctxfd_node_get - take a reference on a node
 * @node: a node the caller already holds a reference on
 */
void ctxfd_node_get(struct ctxfd_node *node)
{
	refcount_inc(&node->ref);
}

/*
 * Done and nothing pending: publish "drained" (once). Caller holds the
 * wait queue lock and wakes EPOLLPRI pollers if this returns true.
 */
static bool ctxfd_node_drain_locked(struct ctxfd_node *node)
{
	lockdep_assert_held(&node->wqh.lock);
	if (node->drained || !node->err || atomic_read(&node->pending))
		return false;
	/* After err: see ctxfd_node_drained(). */
	smp_store_release(&node->drained, true);
	trace_ctxfd_drained(node);
	return true;
}

/* ctxfd_node_drain_locked() from outside the lock, as the last unpend. */
static void ctxfd_node_drain(struct ctxfd_node *node)
{
	unsigned long flags;

	spin_lock_irqsave(&node->wqh.lock, flags);
	if (ctxfd_node_drain_locked(node))
		wake_up_locked_poll(&node->wqh, EPOLLPRI);
	spin_unlock_irqrestore(&node->wqh.lock, flags);
}

/**
 * ctxfd_node_pend - something now keeps @node from being drained
 * @node: the node; the caller holds a reference
 */
void ctxfd_node_pend(struct ctxfd_node *node)
{
	atomic_inc(&node->pending);
}

/**
 * ctxfd_node_unpend - what ctxfd_node_pend() counted is gone
 * @node: the node; the caller holds a reference
 *
 * The last one drains a done node.
 */
void ctxfd_node_unpend(struct ctxfd_node *node)
{
	if (atomic_dec_and_test(&node->pending) && ctxfd_node_err(node))
		ctxfd_node_drain(node);
}

/*
 * Publish @node done with @why, if nothing did before: the one place
 * where a node becomes done. Caller holds @node->wqh.lock, which decides
 * who is first (a cancel walk under the tree lock, or the deadline's
 * fast path in the timer's interrupt: ctxfd_node_finish_leaf()).
 *
 * Order matters: the cause and origin are stored before err, and err is
 * published under the wait queue lock before the wakeup, so whoever
 * reads a non-zero err (INFO, read, fdinfo) finds the fd already readable
 * and the cause already set, and no poller can miss the wakeup (see
 * eventfd_poll() for the argument). A node with nothing pending has no
 * live child, attachment or merged node (each one is counted), so there
 * is nothing left to wait for: it is drained at the same instant, in the
 * same wakeup.
 *
 * Return: false if @node was done already.
 */
static bool ctxfd_publish(struct ctxfd_node *node, const struct ctxfd_why *why,
			  u8 via)
{
	__poll_t events = EPOLLIN | EPOLLRDNORM;

	lockdep_assert_held(&node->wqh.lock);
	if (node->err)
		return false;

	/* Owned where it began, borrowed below (struct ctxfd_node, @via). */
	node->cause_code = why->code ? why->code : why->err;
	node->cause_msg = via == CTXFD_VIA_SELF ? ctxfd_msg_get(why->msg) :
		why->msg;
	node->origin = why->origin;
	node->via = via;

	/* Pairs with smp_load_acquire() in ctxfd_node_err(). */
	smp_store_release(&node->err, why->err);
	/*
	 * Pairs with the barrier of atomic_dec_and_test() in
	 * ctxfd_node_unpend(): whichever of err and the last unpend comes
	 * second sees the other and publishes "drained".
	 */
	smp_mb();
	if (ctxfd_node_drain_locked(node))
		events |= EPOLLPRI;
	wake_up_locked_poll(&node->wqh, events);
	return true;
}

/*
 * Mark one node done with @why and wake its pollers, then fire what
 * hangs on it; @via says how the cancellation reached it. Caller holds
 * the tree lock and has seen @node active; the deadline's fast path may
 * have finished it since (a leaf with nothing to fire), and then this
 * does nothing. Returns whether it finished @node.
 */
static bool ctxfd_finish(struct ctxfd_node *node, const struct ctxfd_why *why,
			 u8 via)
{
	bool first;

	lockdep_assert_held(&node->tree->lock);

	spin_lock_irq(&node->wqh.lock);
	first = ctxfd_publish(node, why, via);
	spin_unlock_irq(&node->wqh.lock);
	if (!first)
		return false;

	ctxfd_deadline_stop(node);
	ctxfd_attach_fire(node);
	/* Merged nodes are reached once the tree lock is released. */
	if (!list_empty(&node->merge_links))
		ctxfd_merge_parent_done(node);
	return true;
}

/**
 * ctxfd_node_finish_leaf - finish a node that needs no tree walk
 * @node: the node; its own deadline timer is expiring (any context,
 *	hard interrupt included)
 * @why: ETIMEDOUT, the deadline's cause and origin
 *
 * A node with no active child, no attachment and no merge link needs
 * nothing but its own pollers woken, and that is done here, at once, as
 * timerfd does: no kworker hop. Whoever adds a child, an attachment or a
 * merge link checks err and adds under the same @node->wqh.lock (see
 * ctxfd_node_link(), ctxfd_attach(), ctxfd_merge_attach()), so either
 * they see @node done, or this sees what they added and declines. A
 * merged node always takes the slow path, and so does any node while a
 * cancel walk is under way in its tree (struct ctxfd_tree, @walking):
 * the walk unlinks a node's last child before it finishes the node, and
 * finishing it here in between would give it a cause other than the one
 * its descendants were just given.
 *
 * The node stays on its parent's children list; ctxfd_deadline_work()
 * unlinks it under the tree lock. Until then a walk that reaches it
 * finds it done and only unlinks it.
 *
 * Return: true if @node was finished here; false if it was done already
 * or needs the walk (the caller's work item then does it).
 */
bool ctxfd_node_finish_leaf(struct ctxfd_node *node,
			    const struct ctxfd_why *why)
{
	unsigned long flags;
	bool done = false;

	spin_lock_irqsave(&node->wqh.lock, flags);
	if (node->kind != CTXFD_KIND_MERGE &&
	    !READ_ONCE(node->nr_children) && !READ_ONCE(node->nr_attached) &&
	    list_empty(&node->merge_links)) {
		/* Pairs with smp_wmb() in __ctxfd_cancel_via(). */
		smp_rmb();
		if (!READ_ONCE(node->tree->walking))
			done = ctxfd_publish(node, why, CTXFD_VIA_SELF);
	}
	spin_unlock_irqrestore(&node->wqh.lock, flags);
	return done;
}

/**
 * ctxfd_node_why - what a done node is done with
 * @node: a done node
 * @why: filled in; borrows @node's references
 *
 * A child born under it, done, or a merged node done by it, gets the same.
 */
void ctxfd_node_why(const struct ctxfd_node *node, struct ctxfd_why *why)
{
	why->err = node->err;
	why->code = node->cause_code;
	why->msg = node->cause_msg;
	why->origin = node->origin;
}

/*
 * Remove @node from its parent's children; returns the parent.
 *
 * The final store to ->sibling is a release, and this function touches
 * @node no more after it: ctxfd_node_destroy() may then see the node
 * unlinked with an acquire and free it without taking the tree lock.
 */
static struct ctxfd_node *ctxfd_unlink(struct ctxfd_node *node)
{
	struct ctxfd_node *parent = node->parent;

	lockdep_assert_held(&node->tree->lock);
	__list_del_entry(&node->sibling);
	node->sibling.prev = &node->sibling;
	/* Pairs with smp_load_acquire() in ctxfd_node_linked(). */
	smp_store_release(&node->sibling.next, &node->sibling);
	WRITE_ONCE(parent->nr_children, parent->nr_children - 1);
	return parent;
}

/*
 * Is @node on its parent's children list? A node is linked once, at
 * creation, and once unlinked never again; if this says no, nobody is
 * touching ->sibling any more.
 */
static bool ctxfd_node_linked(struct ctxfd_node *node)
{
	/* Pairs with smp_store_release() in ctxfd_unlink(). */
	return smp_load_acquire(&node->sibling.next) != &node->sibling;
}

/**
 * ctxfd_node_unlink_done - take a done node off its parent's children
 * @node: a node ctxfd_node_finish_leaf() finished; one a walk finished
 *	is unlinked already, and then this does nothing
 *
 * Takes the tree lock.
 */
void ctxfd_node_unlink_done(struct ctxfd_node *node)
{
	if (!ctxfd_node_linked(node))
		return;
	mutex_lock(&node->tree->lock);
	if (!list_empty(&node->sibling))
		ctxfd_unlink(node);
	mutex_unlock(&node->tree->lock);
}

/**
 * __ctxfd_cancel_via - cancel a node and its whole subtree
 * @top: the node to cancel
 * @why: err (ECANCELED or ETIMEDOUT), cause and origin; every canceled
 *	node takes references on the message and the origin
 * @via: how the cancellation reached @top (CTXFD_VIA_*); its descendants
 *	report CTXFD_VIA_ANCESTOR
 *
 * Caller holds @top->tree->lock. Does nothing if @top is already done:
 * the first cancel wins.
 *
 * The walk is iterative and post-order: a node is finished only once all
 * of its children are finished and unlinked, so at every instant a done
 * node has no active descendant, and no stack or memory is needed however
 * deep or wide the subtree is. Every node of the subtree ends up done and
 * unlinked, and @top is unlinked from its parent. The tree mutex may be
 * held across cond_resched(); nothing here runs with interrupts off for
 * more than one node. Merged nodes downstream are reached when the lock
 * is released with ctxfd_tree_unlock().
 */
void __ctxfd_cancel_via(struct ctxfd_node *top, const struct ctxfd_why *why,
			u8 via)
{
	struct ctxfd_node *node = top;
	unsigned int batch = 0, nodes = 0;

	lockdep_assert_held(&top->tree->lock);
	/* The deadline's fast path may have finished it: it unlinks it. */
	if (ctxfd_node_err(top))
		return;

	WRITE_ONCE(top->tree->walking, true);
	/*
	 * Before the first unlink: a fast path that sees a child count the
	 * walk lowered sees the flag too (smp_rmb() in
	 * ctxfd_node_finish_leaf()).
	 */
	smp_wmb();
	for (;;) {
		struct ctxfd_node *child;

		child = list_first_entry_or_null(&node->children,
						 struct ctxfd_node, sibling);
		if (child) {
			node = child;
			continue;
		}
		if (ctxfd_finish(node, why, node == top ? via :
				 CTXFD_VIA_ANCESTOR))
			nodes++;
		if (node == top)
			break;
		node = ctxfd_unlink(node);
		if (++batch == CTXFD_RESCHED_BATCH) {
			batch = 0;
			cond_resched();
		}
	}
	/* Every node of the subtree is done: the fast path declines now. */
	WRITE_ONCE(top->tree->walking, false);
	if (!list_empty(&top->sibling))
		ctxfd_unlink(top);
	if (nodes)
		trace_ctxfd_cancel(top, why, nodes);
}

/**
 * __ctxfd_cancel - cancel a node and its whole subtree, where it began
 * @top: the node to cancel; caller holds its tree lock
 * @why: err, cause and origin
 */
void __ctxfd_cancel(struct ctxfd_node *top, const struct ctxfd_why *why)
{
	__ctxfd_cancel_via(top, why, CTXFD_VIA_SELF);
}

/**
 * ctxfd_cancel - cancel a node and its subtree, taking the tree lock
 * @node: the node
 * @why: err, cause and origin
 *
 * Returns once every node of the subtree, and every merged node it makes
 * done, is done and every poller woken.
 */
void ctxfd_cancel(struct ctxfd_node *node, const struct ctxfd_why *why)
{
	mutex_lock(&node->tree->lock);
	__ctxfd_cancel(node, why);
	ctxfd_tree_unlock(node->tree);
}

/**
 * ctxfd_node_link - make a new node part of its tree
 * @node: a node from ctxfd_node_alloc(), fully prepared
 *
 * A child of a done parent is born done with the parent's err and cause;
 * a node whose own deadline already passed is born done with ETIMEDOUT;
 * otherwise a cancelable or values-only child is linked under its parent
 * and its timer, if any, started. Cannot fail.
 */
void ctxfd_node_link(struct ctxfd_node *node)
{
	struct ctxfd_node *parent = node->parent;
	/*
	 * WithoutCancel and merged nodes start a tree of their own: no parent
	 * link (a merged node follows its parents through merge links).
	 */
	bool follows = !ctxfd_node_owns_tree(node);
	struct ctxfd_why why;

	mutex_lock(&node->tree->lock);
	/*
	 * Checked and linked under the parent's wait queue lock, against
	 * ctxfd_node_finish_leaf(): a child never joins a done parent.
	 */
	if (follows)
		spin_lock_irq(&parent->wqh.lock);
	if (follows && parent->err) {
		spin_unlock_irq(&parent->wqh.lock);
		ctxfd_node_why(parent, &why);
		ctxfd_finish(node, &why, CTXFD_VIA_ANCESTOR);
	} else if (ctxfd_deadline_passed(node)) {
		if (follows)
			spin_unlock_irq(&parent->wqh.lock);
		/* The timer never starts: its origin is this one's. */
		ctxfd_origin_stamp(&node->timer->origin);
		ctxfd_deadline_why(node->timer, &why);
		ctxfd_finish(node, &why, CTXFD_VIA_SELF);
		trace_ctxfd_cancel(node, &why, 1);
	} else {
		if (follows) {
			list_add_tail(&node->sibling, &parent->children);
			WRITE_ONCE(parent->nr_children, parent->nr_children + 1);
			spin_unlock_irq(&parent->wqh.lock);
		}
		ctxfd_deadline_start(node);
	}
	trace_ctxfd_create(node);
	ctxfd_tree_unlock(node->tree);
}

/**
 * ctxfd_node_cancel_file_closed - the kernel's "defer cancel()"
 * @node: the node whose cancel-capable file is being released
 *
 * When the last cancel-capable file goes away, the context is canceled
 * unless it was created with CTXFD_CREATE_NO_CANCEL_ON_CLOSE.
 *
 * If that file holds the node's only reference, nobody can observe the
 * node again (children, attachments and other files all hold references,
 * and only a file can make new ones): it is only unlinked, the common
 * "create, work, close" case pays no wakeup, and the free that follows
 * needs no lock.
 */
void ctxfd_node_cancel_file_closed(struct ctxfd_node *node)
{
	struct ctxfd_why why = { .err = ECANCELED };

	mutex_lock(&node->tree->lock);
	if (--node->cancel_files == 0 && !node->no_cancel_on_close) {
		if (refcount_read(&node->ref) > 1 && !ctxfd_node_err(node)) {
			/* Closed by its holder, or by its holder's exit. */
			why.origin = ctxfd_origin_here(node,
						       (current->flags & PF_EXITING) ?
						       CTXFD_REASON_EXIT :
						       CTXFD_REASON_CLOSE);
			__ctxfd_cancel(node, &why);
		} else if (!list_empty(&node->sibling)) {
			ctxfd_unlink(node);
		}
	}
	ctxfd_tree_unlock(node->tree);
}

/*
 * Free a node whose last reference is gone. Its timer work may still be
 * running and a cancel walk may still reach it through the parent's
 * children list, so: quiesce the timer first (both take the tree lock
 * we must not hold), then unlink under the tree lock if it is still
 * linked, then free. A merged node is detached from its parents, whose
 * references go on @stack for ctxfd_node_put().
 */
static void ctxfd_node_destroy(struct ctxfd_node *node,
			       struct ctxfd_merged **stack)
{
	struct ctxfd_tree *tree = node->tree;

	/* Children, attachments and merge links hold references: none. */
	WARN_ON_ONCE(!list_empty(&node->children) ||
		     !list_empty(&node->attachments) ||
		     !list_empty(&node->merge_links));

	trace_ctxfd_release(node);
	/* What most nodes never had (a timer, merge links) costs no call. */
	if (node->timer)
		ctxfd_deadline_quiesce(node);
	if (node->merge)
		ctxfd_merge_release(node, stack);

	/* Mostly unlinked already (canceled): then there is no lock to take. */
	if (ctxfd_node_linked(node)) {
		mutex_lock(&tree->lock);
		if (!list_empty(&node->sibling))
			ctxfd_unlink(node);
		mutex_unlock(&tree->lock);
	}

	/* Its parent may be drained now; the parent's reference is ours. */
	if (node->parent && ctxfd_kind_pends_parent(node->kind))
		ctxfd_node_unpend(node->parent);
	if (node->timer)
		ctxfd_deadline_free(node);
	ctxfd_value_free(node);
	kfree(node->report);
	if (node->via == CTXFD_VIA_SELF)
		ctxfd_msg_put(node->cause_msg);
	ctxfd_origin_release(&node->here);
	ctxfd_user_uncharge(node->user, node->charge);
	/* The owner of the tree is the last of its nodes to go. */
	if (ctxfd_node_owns_tree(node))
		ctxfd_tree_free(tree);
	kmem_cache_free(ctxfd_node_cache, node);
}

/**
 * ctxfd_node_put - drop a reference, freeing what nobody can observe
 * @node: the node, or NULL
 *
 * Dropping a node drops its reference on its parent; a whole chain is
 * freed in this loop, never by recursion. A freed merged node's other
 * parents wait on a stack that the same loop empties. Sleeps; must not
 * be called with a tree lock held.
 */
void ctxfd_node_put(struct ctxfd_node *node)
{
	struct ctxfd_merged *stack = NULL;
	unsigned int batch = 0;

	might_sleep();
	do {
		while (node && refcount_dec_and_test(&node->ref)) {
			struct ctxfd_node *parent = node->parent;

			ctxfd_node_destroy(node, &stack);
			node = parent;
			if (++batch == CTXFD_RESCHED_BATCH) {
				batch = 0;
				cond_resched();
			}
		}
	} while ((node = ctxfd_merge_next_put(&stack)));
}

int ctxfd_node_cache_init(void)
{
	ctxfd_node_cache = KMEM_CACHE(ctxfd_node, SLAB_ACCOUNT);
	return ctxfd_node_cache ? 0 : -ENOMEM;
}

void ctxfd_node_cache_exit(void)
{
	kmem_cache_destroy(ctxfd_node_cache);
}
