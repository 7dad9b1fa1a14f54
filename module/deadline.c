// SPDX-License-Identifier: GPL-2.0
/*
 * Deadlines: Go's WithDeadline and WithTimeout.
 *
 * A node's effective deadline is the earliest on its ancestor chain. It
 * needs a timer of its own only when its own deadline is not later than
 * the one it inherits (Go: "if cur.Before(d) { return WithCancel(parent) }");
 * otherwise the ancestor's timer cancels it with the rest of the subtree.
 *
 * The hrtimer callback does O(1) work. A node with nothing under it (no
 * child, attachment or merge link) it finishes itself, waking its
 * pollers as timerfd's callback does (ctxfd_node_finish_leaf()); for any
 * other it queues a work item, which takes the tree mutex and cancels the
 * subtree in process context, however big it is. The work runs in both
 * cases: after the fast path, the same timer expires once more a tick
 * later and queues it, to take the node off its parent's list.
 * Like timerfd's, the timer expires in hard interrupt context; PREEMPT_RT
 * moves it to softirq context by itself. The timer holds no reference on
 * the node: the node's destructor cancels the timer, then the work,
 * synchronously before freeing anything (the timer first, since it
 * queues the work).
 */
#include <linux/err.h>
#include <linux/slab.h>
#include <linux/time.h>
#include <linux/timekeeping.h>

#include "ctxfd.h"
#include "trace.h"

static ktime_t ctxfd_clock_now(clockid_t clockid)
{
	return clockid == CLOCK_BOOTTIME ? ktime_get_boottime() : ktime_get();
}

/**
 * ctxfd_to_mono - a deadline as a CLOCK_MONOTONIC time
 * @t: the deadline
 * @clockid: its clock, CLOCK_MONOTONIC or CLOCK_BOOTTIME
 *
 * Return: @t at the current offset between the two clocks, so that
 * deadlines on different clocks compare.
 */
ktime_t ctxfd_to_mono(ktime_t t, clockid_t clockid)
{
	if (clockid == CLOCK_BOOTTIME)
		return ktime_sub(t, ktime_mono_to_any(0, TK_OFFS_BOOT));
	return t;
}

/**
 * ctxfd_deadline_why - what a node's own deadline cancels it with
 * @timer: the node's timer
 * @why: filled in; borrows the timer's references
 */
void ctxfd_deadline_why(const struct ctxfd_timer *timer,
			struct ctxfd_why *why)
{
	why->err = ETIMEDOUT;
	why->code = timer->cause_code;
	why->msg = timer->cause_msg;
	why->origin = &timer->origin;
}

static enum hrtimer_restart ctxfd_deadline_fire(struct hrtimer *hrtimer)
{
	struct ctxfd_timer *timer = container_of(hrtimer, struct ctxfd_timer,
						 timer);
	struct ctxfd_node *node = timer->node;
	struct ctxfd_why why;

	/*
	 * Done already: canceled before its deadline (a walk unlinks what
	 * it finishes, or the work does), or this is the second expiry, a
	 * tick after the fast path below finished the node. Either way all
	 * that is left is for the work to take the node off its parent's
	 * list, in process context.
	 */
	if (ctxfd_node_err(node))
		goto work;

	/*
	 * The fast path, for a node with nothing under it: done and its
	 * pollers woken right here. Unlocked peeks first, so that a node
	 * that needs the walk skips the lock; the node decides under its
	 * wait queue lock.
	 */
	ctxfd_origin_stamp(&timer->origin);
	if (!READ_ONCE(node->nr_children) && !READ_ONCE(node->nr_attached)) {
		ctxfd_deadline_why(timer, &why);
		if (ctxfd_node_finish_leaf(node, &why)) {
			trace_ctxfd_deadline_fire(node);
			trace_ctxfd_cancel(node, &why, 1);
			/*
			 * The unlink waits a tick, on this same timer: a
			 * kworker woken now would run before the pollers
			 * just woken (it has the higher priority), and a
			 * timer-wheel timer (a delayed work) would make an
			 * idle CPU reprogram its tick here, on the path to
			 * the wakeup. Most such nodes are closed before the
			 * tick; their destructor cancels the timer.
			 */
			hrtimer_forward_now(hrtimer, TICK_NSEC);
			return HRTIMER_RESTART;
		}
	}
work:
	queue_work(ctxfd_wq, &timer->work);
	return HRTIMER_NORESTART;
}

static void ctxfd_deadline_work(struct work_struct *work)
{
	struct ctxfd_timer *timer = container_of(work, struct ctxfd_timer, work);
	struct ctxfd_node *node = timer->node;
	struct ctxfd_why why;

	/*
	 * Pin the node: the cancel may drop its last references (a merged
	 * context it frees held them), and then its destructor runs here,
	 * at the put below, where it knows not to wait for this very work
	 * (ctxfd_deadline_quiesce()). No reference left: the destructor is
	 * running elsewhere and waits for us.
	 */
	if (!refcount_inc_not_zero(&node->ref))
		return;
	if (ctxfd_node_err(node)) {
		/*
		 * Done already: by the fast path, which left the node on its
		 * parent's list for us to take it off, or canceled meanwhile
		 * (a walk unlinks what it finishes).
		 */
		ctxfd_node_unlink_done(node);
	} else {
		trace_ctxfd_deadline_fire(node);
		ctxfd_deadline_why(timer, &why);
		ctxfd_cancel(node, &why);
	}
	ctxfd_node_put(node);
}

/**
 * ctxfd_deadline_check - validate the deadline fields of a create request
 * @args: the request
 *
 * Return: 0 or -EINVAL for an unknown clock, a negative time, fields
 * without a deadline flag, or a bad cause (see ctxfd_cause_check()).
 */
int ctxfd_deadline_check(const struct ctxfd_create *args)
{
	static const struct ctxfd_cause no_cause;

	if (!(args->flags & (CTXFD_CREATE_DEADLINE | CTXFD_CREATE_TIMEOUT))) {
		if (args->deadline_ns || args->clockid ||
		    memcmp(&args->deadline_cause, &no_cause, sizeof(no_cause)))
			return -EINVAL;
		return 0;
	}
	if ((args->flags & CTXFD_CREATE_DEADLINE) &&
	    (args->flags & CTXFD_CREATE_TIMEOUT))
		return -EINVAL;
	if (args->clockid != CLOCK_MONOTONIC && args->clockid != CLOCK_BOOTTIME)
		return -EINVAL;
	if (args->deadline_ns < 0)
		return -EINVAL;
	return ctxfd_cause_check(&args->deadline_cause);
}

/**
 * ctxfd_deadline_prepare - set a new node's effective deadline
 * @node: the node, not yet linked
 * @args: the create request, checked by ctxfd_deadline_check()
 *
 * Inherits the parent's effective deadline (WithoutCancel nodes inherit
 * none) and, if the node's own deadline is not later, allocates its timer
 * and copies the deadline cause.
 *
 * Return: 0, -EINVAL for a timeout that overflows, -EFAULT or -EINVAL
 * for a bad cause message, -ENOMEM.
 */
int ctxfd_deadline_prepare(struct ctxfd_node *node,
			   const struct ctxfd_create *args)
{
	struct ctxfd_node *parent = node->parent;
	clockid_t clockid = args->clockid;
	struct ctxfd_timer *timer;
	struct ctxfd_msg *msg;
	ktime_t own;

	/* A merged node's inherited deadline comes from merge.c. */
	if (parent && !ctxfd_kind_own_tree(node->kind)) {
		node->deadline = parent->deadline;
		node->clockid = parent->clockid;
	}

	if (!(args->flags & (CTXFD_CREATE_DEADLINE | CTXFD_CREATE_TIMEOUT)))
		return 0;

	own = ns_to_ktime(args->deadline_ns);
	if (args->flags & CTXFD_CREATE_TIMEOUT) {
		ktime_t now = ctxfd_clock_now(clockid);

		if (own > KTIME_MAX - now)
			return -EINVAL;
		own = ktime_add(now, own);
	}

	/*
	 * Copy (and so validate) the cause first: whether a request is
	 * refused must not depend on the deadline the parent happens to have.
	 */
	msg = ctxfd_msg_from_user(&args->deadline_cause);
	if (IS_ERR(msg))
		return PTR_ERR(msg);

	if (node->deadline != KTIME_MAX &&
	    ctxfd_to_mono(node->deadline, node->clockid) <
	    ctxfd_to_mono(own, clockid)) {
		ctxfd_msg_put(msg);
		return 0;
	}

	timer = kzalloc(sizeof(*timer), CTXFD_GFP);
	if (!timer) {
		ctxfd_msg_put(msg);
		return -ENOMEM;
	}
	ctxfd_origin_init_deadline(&timer->origin, node->id);
	hrtimer_setup(&timer->timer, ctxfd_deadline_fire, clockid,
		      HRTIMER_MODE_ABS);
	INIT_WORK(&timer->work, ctxfd_deadline_work);
	timer->node = node;
	timer->cause_code = args->deadline_cause.code;
	timer->cause_msg = msg;

	node->timer = timer;
	node->deadline = own;
	node->clockid = clockid;
	return 0;
}

/**
 * ctxfd_deadline_passed - has the node's own deadline passed already?
 * @node: the node
 */
bool ctxfd_deadline_passed(const struct ctxfd_node *node)
{
	return node->timer &&
	       ktime_compare(ctxfd_clock_now(node->clockid), node->deadline) >= 0;
}

/**
 * ctxfd_deadline_start - arm the node's own timer, if it has one
 * @node: a node being linked; caller holds the tree lock
 */
void ctxfd_deadline_start(struct ctxfd_node *node)
{
	if (node->timer)
		hrtimer_start(&node->timer->timer, node->deadline,
			      HRTIMER_MODE_ABS);
}

/**
 * ctxfd_deadline_stop - the node is done: its timer is no longer needed
 * @node: the node; caller holds the tree lock
 *
 * Does not wait: a callback already running queues its work, which finds
 * the node done and does nothing but unlink it, if it is still linked.
 */
void ctxfd_deadline_stop(struct ctxfd_node *node)
{
	if (node->timer)
		hrtimer_try_to_cancel(&node->timer->timer);
}

/**
 * ctxfd_deadline_quiesce - wait until the timer and its work are idle
 * @node: a node being destroyed, that has a timer; caller must not hold
 *	the tree lock, which the work takes
 */
void ctxfd_deadline_quiesce(struct ctxfd_node *node)
{
	hrtimer_cancel(&node->timer->timer);
	/* Not from the work's own last put: it is finishing. */
	if (current_work() != &node->timer->work)
		cancel_work_sync(&node->timer->work);
}

/**
 * ctxfd_deadline_free - free the timer of a quiesced, unlinked node
 * @node: the node, that has a timer
 */
void ctxfd_deadline_free(struct ctxfd_node *node)
{
	ctxfd_msg_put(node->timer->cause_msg);
	kfree(node->timer);
}
