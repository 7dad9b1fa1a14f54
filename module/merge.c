// SPDX-License-Identifier: GPL-2.0
/*
 * Merged contexts: contexts with several parents (CTXFD_IOC_MERGE).
 *
 * A merged context is done when the first of its parents is done
 * (CTXFD_MERGE_ANY, like JavaScript's AbortSignal.any()), or when the last
 * one is (CTXFD_MERGE_ALL), with that parent's err, cause and origin. Its
 * parents may belong to any trees, so the merged node is the root of a
 * tree - a lock domain - of its own; its ->parent is its first parent,
 * which value lookups follow.
 *
 * Each parent holds a merge link to it on its ->merge_links, under the
 * parent's tree lock. The link belongs to the merged node and pins the
 * parent (as a child pins its parent), while the parent's list is a weak
 * link, like ->children: a merged node that nobody observes any more is
 * freed and detached from every parent, however long they live.
 *
 * Reaching a merged node never nests two tree locks:
 *  1. finishing a parent, under its tree lock, takes a reference on each
 *     merged node of its links and moves the links to the tree's
 *     ->merge_work (ctxfd_merge_parent_done());
 *  2. the code that took the tree lock releases it with
 *     ctxfd_tree_unlock(), which takes the queued links along to a list
 *     of its own;
 *  3. with no lock held, each link is applied under the merged node's
 *     tree lock alone (ctxfd_merge_drain()): ANY cancels the merged node
 *     and its subtree, ALL counts the parent down and cancels at zero.
 *     That cancel queues the links of the merged subtree on the merged
 *     tree, which step 2 appends to the same list: a chain of 10 000
 *     merges of merges is a loop, not a recursion.
 * All of it runs in the thread that began the cancellation (the CANCEL
 * ioctl, the deadline work, the close of the last cancel fd), so the
 * cancel call returns only once every merged context it made done is
 * done, with its subtree, and every poller woken. A parent seen done by
 * another process may precede its merged nodes by that much: they are
 * done by the time the cancel that finished the parent returns.
 *
 * Link ownership, step by step, is in ctxfd.h (struct ctxfd_merge_link).
 */
#include <linux/bitops.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ctxfd.h"

/* Links applied between two cond_resched() calls. */
#define CTXFD_MERGE_BATCH	256

static_assert(CTXFD_MERGE_MAX_PARENTS <= 64);	/* a u64 mask of parents */

/*
 * Take @link off the list it is on, for good (ctxfd.h: state 4). The
 * final store is a release and the caller touches the link no more:
 * ctxfd_merge_release() may then skip the parent's tree lock.
 */
static void ctxfd_merge_link_off(struct ctxfd_merge_link *link)
{
	__list_del_entry(&link->entry);
	link->entry.prev = &link->entry;
	/* Pairs with smp_load_acquire() in ctxfd_merge_link_on(). */
	smp_store_release(&link->entry.next, &link->entry);
}

static bool ctxfd_merge_link_on(struct ctxfd_merge_link *link)
{
	/* Pairs with smp_store_release() in ctxfd_merge_link_off(). */
	return smp_load_acquire(&link->entry.next) != &link->entry;
}

/**
 * ctxfd_merge_parent_done - a parent finished: queue its merge links
 * @node: the parent, just done; caller holds its tree lock
 *
 * A link whose merged node is being freed (no reference left to take)
 * is dropped here; its destructor finds it off the list.
 */
void ctxfd_merge_parent_done(struct ctxfd_node *node)
{
	struct ctxfd_tree *tree = node->tree;
	struct ctxfd_merge_link *link, *tmp;

	lockdep_assert_held(&tree->lock);
	list_for_each_entry_safe(link, tmp, &node->merge_links, entry) {
		if (refcount_inc_not_zero(&link->merged->ref))
			list_move_tail(&link->entry, &tree->merge_work);
		else
			ctxfd_merge_link_off(link);
	}
}

/* Parent @parent is done: what it means for @merged. */
static void ctxfd_merge_apply(struct ctxfd_node *merged,
			      struct ctxfd_node *parent)
{
	struct ctxfd_merged *m = merged->merge;
	struct ctxfd_why why;

	lockdep_assert_held(&merged->tree->lock);
	if (merged->err)
		return;
	if (m->mode == CTXFD_MERGE_ALL && --m->remaining)
		return;
	ctxfd_node_why(parent, &why);
	__ctxfd_cancel_via(merged, &why, CTXFD_VIA_PARENT);
}

/*
 * Apply every link of @work, and those the cancels made here queue,
 * in order. Holds no lock on entry or exit, and one tree lock at a time.
 */
static void ctxfd_merge_drain(struct list_head *work)
{
	unsigned int batch = 0;

	while (!list_empty(work)) {
		struct ctxfd_merge_link *link;
		struct ctxfd_node *merged;
		struct ctxfd_tree *tree;

		link = list_first_entry(work, struct ctxfd_merge_link, entry);
		merged = link->merged;
		tree = merged->tree;

		mutex_lock(&tree->lock);
		ctxfd_merge_apply(merged, link->parent);
		list_splice_tail_init(&tree->merge_work, work);
		mutex_unlock(&tree->lock);

		/* The last touch of the link, then the reference it came with. */
		ctxfd_merge_link_off(link);
		ctxfd_node_put(merged);
		if (++batch == CTXFD_MERGE_BATCH) {
			batch = 0;
			cond_resched();
		}
	}
}

/**
 * ctxfd_tree_unlock - release a tree lock, then reach the merged nodes
 *	that what was done under it made done
 * @tree: the tree; caller holds its lock, and no other
 *
 * Every path that may finish a node under a tree lock releases it with
 * this, so that the cancel that began there has reached every merged
 * node downstream before it returns. Sleeps.
 */
void ctxfd_tree_unlock(struct ctxfd_tree *tree)
{
	LIST_HEAD(work);

	lockdep_assert_held(&tree->lock);
	if (likely(list_empty(&tree->merge_work))) {
		mutex_unlock(&tree->lock);
		return;
	}
	list_splice_init(&tree->merge_work, &work);
	mutex_unlock(&tree->lock);
	ctxfd_merge_drain(&work);
}

/**
 * ctxfd_merge_release - detach a merged node being freed from its parents
 * @node: the merged node (->merge set); its last reference is gone
 * @stack: where the parent references go, for ctxfd_node_put() to drop
 *
 * Takes each parent's tree lock in turn, never two, and only for links
 * still on a parent's list.
 */
void ctxfd_merge_release(struct ctxfd_node *node, struct ctxfd_merged **stack)
{
	struct ctxfd_merged *m = node->merge;
	u32 i;

	for (i = 0; i < m->nr; i++) {
		struct ctxfd_merge_link *link = &m->links[i];
		struct ctxfd_tree *tree = link->parent->tree;

		if (!ctxfd_merge_link_on(link))
			continue;
		mutex_lock(&tree->lock);
		if (!list_empty(&link->entry))
			ctxfd_merge_link_off(link);
		mutex_unlock(&tree->lock);
	}
	node->merge = NULL;
	m->next_put = *stack;
	*stack = m;
}

/**
 * ctxfd_merge_next_put - the next parent reference of a freed merged node
 * @stack: the stack ctxfd_merge_release() pushed on
 *
 * Destroys one link: gives back its pending count and hands its parent
 * reference to the caller, which drops it. Frees a merged node's links
 * with the last one.
 *
 * Return: the parent to put, or NULL once the stack is empty.
 */
struct ctxfd_node *ctxfd_merge_next_put(struct ctxfd_merged **stack)
{
	struct ctxfd_merged *m = *stack;
	struct ctxfd_node *parent;

	if (!m)
		return NULL;
	parent = m->links[m->put_pos++].parent;
	if (m->put_pos == m->nr) {
		*stack = m->next_put;
		kfree(m);
	}
	ctxfd_node_unpend(parent);
	return parent;
}

/* The context behind @fd, with a reference, or ERR_PTR(-EBADF). */
static struct ctxfd_node *ctxfd_merge_get_parent(int fd)
{
	struct ctxfd_node *node;
	struct file *file;

	if (fd < 0)
		return ERR_PTR(-EBADF);
	file = fget(fd);
	if (!file)
		return ERR_PTR(-EBADF);
	if (file->f_op != &ctxfd_fops) {
		fput(file);
		return ERR_PTR(-EBADF);
	}
	node = file->private_data;
	ctxfd_node_get(node);
	fput(file);
	return node;
}

/* Drop what a merged state that never made it into a node holds. */
static void ctxfd_merged_free(struct ctxfd_merged *m, u32 resolved)
{
	u32 i;

	for (i = 0; i < resolved; i++)
		ctxfd_node_put(m->links[i].parent);
	kfree(m);
}

/*
 * The parents of a request, one link each, with references; duplicates
 * (the same fd, or two fds on one context) refused.
 */
static struct ctxfd_merged *ctxfd_merged_get(const struct ctxfd_merge *args)
{
	s32 fds[CTXFD_MERGE_MAX_PARENTS];
	u32 nr = args->nr_parents, i, j;
	struct ctxfd_merged *m;

	if (copy_from_user(fds, u64_to_user_ptr(args->parents),
			   nr * sizeof(fds[0])))
		return ERR_PTR(-EFAULT);
	for (i = 1; i < nr; i++)
		for (j = 0; j < i; j++)
			if (fds[i] == fds[j])
				return ERR_PTR(-EINVAL);

	m = kzalloc(struct_size(m, links, nr), CTXFD_GFP);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->mode = args->mode;
	m->nr = nr;
	m->remaining = nr;
	for (i = 0; i < nr; i++) {
		struct ctxfd_node *parent = ctxfd_merge_get_parent(fds[i]);

		if (IS_ERR(parent)) {
			ctxfd_merged_free(m, i);
			return ERR_CAST(parent);
		}
		INIT_LIST_HEAD(&m->links[i].entry);
		m->links[i].parent = parent;
		for (j = 0; j < i; j++) {
			if (m->links[j].parent == parent) {
				ctxfd_merged_free(m, i + 1);
				return ERR_PTR(-EINVAL);
			}
		}
	}
	return m;
}

/*
 * The deadline a merged node inherits: the earliest of its parents'
 * (ANY), or the latest and none if any parent has none (ALL). Parents'
 * deadlines are immutable; the node has no timer for it, since the
 * parents' timers (or their ancestors') make the parents done by then.
 */
static void ctxfd_merge_deadline(struct ctxfd_node *node)
{
	struct ctxfd_merged *m = node->merge;
	bool latest = m->mode == CTXFD_MERGE_ALL;
	ktime_t best = KTIME_MAX, best_mono = 0;
	clockid_t clockid = CLOCK_MONOTONIC;
	u32 i;

	for (i = 0; i < m->nr; i++) {
		const struct ctxfd_node *p = m->links[i].parent;
		ktime_t mono;

		if (p->deadline == KTIME_MAX) {
			if (latest) {
				best = KTIME_MAX;
				break;
			}
			continue;
		}
		mono = ctxfd_to_mono(p->deadline, p->clockid);
		if (best == KTIME_MAX ||
		    (latest ? mono > best_mono : mono < best_mono)) {
			best = p->deadline;
			best_mono = mono;
			clockid = p->clockid;
		}
	}
	node->deadline = best;
	node->clockid = best == KTIME_MAX ? 0 : clockid;
}

/*
 * Of the done parents in @mask, the one whose cancellation began first
 * (or last, @latest), by origin time; ties go to the earlier (later) in
 * the array.
 */
static struct ctxfd_node *ctxfd_merge_pick(struct ctxfd_merged *m, u64 mask,
					   bool latest)
{
	struct ctxfd_node *best = NULL;
	u64 best_time = 0;
	u32 i;

	for (i = 0; i < m->nr; i++) {
		struct ctxfd_node *p = m->links[i].parent;
		u64 t;

		if (!(mask & BIT_ULL(i)) || !ctxfd_node_err(p))
			continue;
		t = p->origin->time_ns;
		if (!best || (latest ? t >= best_time : t < best_time)) {
			best = p;
			best_time = t;
		}
	}
	return best;
}

/*
 * Publish the links of a new, linked merged node on its parents, one
 * tree lock at a time, and apply what holds already: parents done before
 * (or while) the node was linked to them. A parent that finishes once
 * its link is published reaches the node through ctxfd_merge_drain(),
 * maybe before this returns: the node is complete by then.
 */
static void ctxfd_merge_attach(struct ctxfd_node *node)
{
	struct ctxfd_merged *m = node->merge;
	bool all = m->mode == CTXFD_MERGE_ALL;
	struct ctxfd_node *by = NULL;
	unsigned int ndone;
	u64 done = 0;
	u32 i;

	/* Born done if the mode's condition holds already: link nothing. */
	for (i = 0; i < m->nr; i++)
		if (ctxfd_node_err(m->links[i].parent))
			done |= BIT_ULL(i);
	ndone = hweight64(done);
	if ((all ? ndone == m->nr : ndone) || ctxfd_node_err(node))
		goto settle;

	for (i = 0; i < m->nr; i++) {
		struct ctxfd_merge_link *link = &m->links[i];
		struct ctxfd_node *parent = link->parent;

		if (done & BIT_ULL(i))
			continue;
		mutex_lock(&parent->tree->lock);
		/* Against the deadline's fast path: ctxfd_node_finish_leaf(). */
		spin_lock_irq(&parent->wqh.lock);
		if (parent->err)
			done |= BIT_ULL(i);
		else
			list_add_tail(&link->entry, &parent->merge_links);
		spin_unlock_irq(&parent->wqh.lock);
		mutex_unlock(&parent->tree->lock);
	}

settle:
	mutex_lock(&node->tree->lock);
	if (done && !node->err) {
		if (!all) {
			by = ctxfd_merge_pick(m, done, false);
		} else {
			m->remaining -= hweight64(done);
			if (!m->remaining)
				by = ctxfd_merge_pick(m, ~0ULL, true);
		}
	}
	if (by) {
		struct ctxfd_why why;

		ctxfd_node_why(by, &why);
		__ctxfd_cancel_via(node, &why, CTXFD_VIA_PARENT);
	}
	ctxfd_tree_unlock(node->tree);
}

/**
 * ctxfd_ioctl_merge - CTXFD_IOC_MERGE, on /dev/ctxfd or a context fd
 * @uarg: struct ctxfd_merge in userspace
 * @usize: its size
 *
 * Everything that can fail happens before the node is linked, as for
 * CTXFD_IOC_CREATE; the node is charged one unit, plus one per
 * CTXFD_NODE_COST bytes its links take beyond the first.
 *
 * Return: the new cancel-capable fd; -EINVAL, -E2BIG, -EBADF, -EFAULT
 * for bad input; -ELOOP, -ENOSPC, -EMFILE, -ENOMEM at a limit.
 */
long ctxfd_ioctl_merge(void __user *uarg, unsigned int usize)
{
	struct ctxfd_create create = {};
	struct ctxfd_merge args;
	struct ctxfd_newfd nfd;
	struct ctxfd_merged *m;
	struct ctxfd_node *node;
	unsigned int units;
	long ret;
	u32 i;

	ret = ctxfd_copy_args(&args, sizeof(args), CTXFD_MERGE_SIZE_VER0,
			      uarg, usize);
	if (ret)
		return ret;
	if ((args.flags & ~CTXFD_MERGE_FLAGS_ALL) || args.__reserved0 ||
	    (args.mode != CTXFD_MERGE_ANY && args.mode != CTXFD_MERGE_ALL) ||
	    !args.nr_parents)
		return -EINVAL;
	if (args.nr_parents > CTXFD_MERGE_MAX_PARENTS)
		return -E2BIG;
	create.flags = args.flags;
	create.deadline_ns = args.deadline_ns;
	create.clockid = args.clockid;
	create.deadline_cause = args.deadline_cause;
	ret = ctxfd_deadline_check(&create);
	if (ret)
		return ret;

	m = ctxfd_merged_get(&args);
	if (IS_ERR(m))
		return PTR_ERR(m);

	units = 1 + kmalloc_size_roundup(struct_size(m, links, m->nr)) /
		    CTXFD_NODE_COST;
	node = ctxfd_node_alloc(m->links[0].parent, CTXFD_KIND_MERGE, units);
	if (IS_ERR(node)) {
		ctxfd_merged_free(m, m->nr);
		return PTR_ERR(node);
	}
	/* From here on the node owns the links: ctxfd_node_put() frees. */
	node->merge = m;
	for (i = 0; i < m->nr; i++) {
		m->links[i].merged = node;
		ctxfd_node_pend(m->links[i].parent);
	}
	node->no_cancel_on_close =
		!!(args.flags & CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
	node->cancel_files = 1;
	ctxfd_merge_deadline(node);

	ret = ctxfd_deadline_prepare(node, &create);
	if (!ret)
		ret = ctxfd_newfd_prepare(&nfd, node, true,
					  !(args.flags & CTXFD_CREATE_NO_CLOEXEC));
	if (ret) {
		ctxfd_node_put(node);
		return ret;
	}

	ctxfd_node_link(node);
	ctxfd_merge_attach(node);
	return ctxfd_newfd_install(&nfd);
}

/**
 * ctxfd_ioctl_parents - CTXFD_IOC_PARENTS
 * @node: the context
 * @uarg: struct ctxfd_parents in userspace
 * @usize: its size
 *
 * Parents are pinned by the node and their ids immutable; whether they
 * are done is a snapshot.
 *
 * Return: 0; -ERANGE (with the number needed copied out) if the array is
 * too small; -EINVAL or -EFAULT for bad input.
 */
long ctxfd_ioctl_parents(struct ctxfd_node *node, void __user *uarg,
			 unsigned int usize)
{
	struct ctxfd_merged *m = node->merge;
	u64 __user *ids;
	struct ctxfd_parents args;
	u32 nr, i;
	long ret;

	ret = ctxfd_copy_args(&args, sizeof(args), CTXFD_PARENTS_SIZE_VER0,
			      uarg, usize);
	if (ret)
		return ret;
	if (args.flags || args.__reserved || (!args.nr_ids && args.ids))
		return -EINVAL;

	nr = m ? m->nr : !!node->parent;
	ids = u64_to_user_ptr(args.ids);
	args.nr_done = 0;
	for (i = 0; i < nr; i++) {
		struct ctxfd_node *p = m ? m->links[i].parent : node->parent;

		if (ctxfd_node_err(p))
			args.nr_done++;
		if (nr <= args.nr_ids && put_user(p->id, ids + i))
			return -EFAULT;
	}
	ret = nr > args.nr_ids ? -ERANGE : 0;
	args.nr_ids = nr;
	args.mode = m ? m->mode : 0;
	if (ctxfd_copy_out(uarg, usize, &args, sizeof(args)))
		return -EFAULT;
	return ret;
}

/**
 * ctxfd_merge_info_flags - CTXFD_INFO_MERGE_* of a node
 * @node: the node
 *
 * Return: the flag of its merge mode, 0 for a node that is not merged.
 */
u64 ctxfd_merge_info_flags(const struct ctxfd_node *node)
{
	if (!node->merge)
		return 0;
	return node->merge->mode == CTXFD_MERGE_ALL ? CTXFD_INFO_MERGE_ALL :
						      CTXFD_INFO_MERGE_ANY;
}

/**
 * ctxfd_merge_show_fdinfo - the merge lines of a context's fdinfo
 * @m: the seq_file
 * @node: the node
 *
 * "ctxfd-merge" (any or all), "ctxfd-parents" (their ids, in order) and
 * "ctxfd-parents-done" (how many are done now), for merged nodes only.
 */
void ctxfd_merge_show_fdinfo(struct seq_file *m, struct ctxfd_node *node)
{
	struct ctxfd_merged *mg = node->merge;
	u32 i, done = 0;

	if (!mg)
		return;
	seq_printf(m, "ctxfd-merge:\t%s\n",
		   mg->mode == CTXFD_MERGE_ALL ? "all" : "any");
	seq_puts(m, "ctxfd-parents:\t");
	for (i = 0; i < mg->nr; i++) {
		struct ctxfd_node *p = mg->links[i].parent;

		seq_printf(m, i ? " %llu" : "%llu", p->id);
		if (ctxfd_node_err(p))
			done++;
	}
	seq_printf(m, "\nctxfd-parents-done:\t%u\n", done);
}
