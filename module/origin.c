// SPDX-License-Identifier: GPL-2.0
/*
 * Provenance: how, where, by whom and when a cancellation began.
 *
 * Every done context knows why it is done: the reason (CTXFD_REASON_*),
 * the context where the cancellation began, the process that began it
 * (a struct pid, shown in the reader's pid namespace, and its comm) and
 * the CLOCK_BOOTTIME time. All of it lives in one struct ctxfd_origin,
 * immutable once published, inside the object where the cancellation
 * begins: the node a process cancels (struct ctxfd_node, @here), or the
 * timer of a deadline (struct ctxfd_timer, @origin). A million-node
 * cancel has one origin, like its cause message: the other nodes it
 * reaches point at it and keep its owner alive (struct ctxfd_node,
 * @via). So a cancellation allocates nothing and cannot fail for want
 * of memory, and an origin is freed with its owner.
 */
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "ctxfd.h"

/**
 * ctxfd_origin_here - record that a process begins a cancellation at
 *	@node
 * @node: the node; caller holds its tree lock and has seen it active
 * @reason: CTXFD_REASON_CANCEL, _REMOTE, _CLOSE or _EXIT
 *
 * Fills @node->here with the current task's thread group, its comm and
 * the time. Written once in @node's life: whoever sees @node active
 * under the tree lock goes on to make it done before releasing the lock
 * (the deadline's fast path may do so first, in which case @node->here
 * stays unused, and is released with @node all the same).
 *
 * Return: @node->here, for struct ctxfd_why.
 */
struct ctxfd_origin *ctxfd_origin_here(struct ctxfd_node *node,
				       unsigned int reason)
{
	struct ctxfd_origin *o = &node->here;

	lockdep_assert_held(&node->tree->lock);
	/* Written once: a second record would change a published one. */
	if (WARN_ON_ONCE(o->pid))
		return o;
	if (WARN_ON_ONCE(reason > CTXFD_REASON_MAX))
		reason = CTXFD_REASON_CANCEL;
	o->reason = reason;
	o->id = node->id;
	o->time_ns = ktime_get_boottime_ns();
	o->pid = get_pid(task_tgid(current));
	get_task_comm(o->comm, current->group_leader);
	return o;
}

/**
 * ctxfd_origin_init_deadline - prepare the origin of a deadline
 * @o: the timer's origin, not yet seen by anyone
 * @id: the node that owns the timer
 *
 * A deadline is begun by a timer: no process. ctxfd_origin_stamp() sets
 * the time when it fires.
 */
void ctxfd_origin_init_deadline(struct ctxfd_origin *o, u64 id)
{
	o->reason = CTXFD_REASON_DEADLINE;
	o->id = id;
	o->pid = NULL;
	o->comm[0] = '\0';
	o->time_ns = 0;
}

/**
 * ctxfd_origin_stamp - set the time of a deadline's origin as it fires
 * @o: the origin; nobody else sees it yet (a timer fires once, and a
 *	node born with its deadline passed never starts its timer)
 */
void ctxfd_origin_stamp(struct ctxfd_origin *o)
{
	o->time_ns = ktime_get_boottime_ns();
}

/**
 * ctxfd_origin_release - drop what an origin holds, with its owner
 * @o: the origin
 */
void ctxfd_origin_release(struct ctxfd_origin *o)
{
	put_pid(o->pid);
	o->pid = NULL;
}

/**
 * ctxfd_origin_pid - the process that began a cancellation, as seen by
 *	the current task
 * @o: the origin
 *
 * Return: its pid in the current task's pid namespace, 0 if there is none
 * (a deadline) or it is not visible from there.
 */
pid_t ctxfd_origin_pid(const struct ctxfd_origin *o)
{
	return o->pid ? pid_nr_ns(o->pid, task_active_pid_ns(current)) : 0;
}
