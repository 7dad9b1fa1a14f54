// SPDX-License-Identifier: GPL-2.0
/*
 * Provenance: how, where, by whom and when a cancellation began.
 *
 * Every done context knows why it is done: the reason (CTXFD_REASON_*),
 * the context where the cancellation began, the process that began it
 * (a struct pid, shown in the reader's pid namespace, and its comm) and
 * the CLOCK_BOOTTIME time. All of it lives in one immutable, shared
 * struct ctxfd_origin made where the cancellation begins (so a
 * million-node cancel makes one, like its cause message). The context
 * where it began holds a reference; every other context done by it says
 * how the cancellation reached it (->via: an ancestor, or a merge parent)
 * and borrows the origin from that one, which it keeps alive (struct
 * ctxfd_node, @via): no atomic per node on the cancel walk.
 *
 * Making an origin can fail for want of memory; a cancel never does: it
 * then uses a static origin of the same reason that names no process.
 */
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "ctxfd.h"

/* Fallbacks when an origin cannot be allocated: no process, no time. */
static struct ctxfd_origin ctxfd_origin_static[CTXFD_REASON_MAX + 1];

/**
 * ctxfd_origin_new - record the beginning of a cancellation
 * @reason: CTXFD_REASON_*
 * @id: the context where it begins
 * @gfp: CTXFD_GFP, or GFP_ATOMIC in atomic context
 *
 * The current task is the process that began it, unless @reason is
 * CTXFD_REASON_DEADLINE (a timer: no process).
 *
 * Return: an origin with one reference; never NULL.
 */
struct ctxfd_origin *ctxfd_origin_new(unsigned int reason, u64 id, gfp_t gfp)
{
	struct ctxfd_origin *o = kmalloc(sizeof(*o), gfp);

	if (WARN_ON_ONCE(reason > CTXFD_REASON_MAX))
		reason = CTXFD_REASON_CANCEL;
	if (!o)
		return &ctxfd_origin_static[reason];
	refcount_set(&o->ref, 1);
	o->reason = reason;
	o->id = id;
	o->time_ns = ktime_get_boottime_ns();
	if (reason == CTXFD_REASON_DEADLINE) {
		o->pid = NULL;
		o->comm[0] = '\0';
	} else {
		o->pid = get_pid(task_tgid(current));
		get_task_comm(o->comm, current->group_leader);
	}
	return o;
}

/**
 * ctxfd_origin_stamp - set the time of an origin made ahead of its use
 * @o: an origin nobody else sees yet (a deadline's, made with its timer)
 */
void ctxfd_origin_stamp(struct ctxfd_origin *o)
{
	if (!ctxfd_origin_is_static(o))
		o->time_ns = ktime_get_boottime_ns();
}

/**
 * ctxfd_origin_get - take a reference
 * @o: an origin, or NULL
 *
 * Return: @o.
 */
struct ctxfd_origin *ctxfd_origin_get(struct ctxfd_origin *o)
{
	if (o && !ctxfd_origin_is_static(o))
		refcount_inc(&o->ref);
	return o;
}

/**
 * ctxfd_origin_put - drop a reference
 * @o: an origin, or NULL
 */
void ctxfd_origin_put(struct ctxfd_origin *o)
{
	if (o && !ctxfd_origin_is_static(o) && refcount_dec_and_test(&o->ref)) {
		put_pid(o->pid);
		kfree(o);
	}
}

/**
 * ctxfd_origin_is_static - is @o a fallback that holds no reference?
 * @o: an origin
 */
bool ctxfd_origin_is_static(const struct ctxfd_origin *o)
{
	return o >= ctxfd_origin_static &&
	       o < ctxfd_origin_static + ARRAY_SIZE(ctxfd_origin_static);
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

/**
 * ctxfd_origins_init - set up the static fallback origins
 */
void ctxfd_origins_init(void)
{
	unsigned int r;

	for (r = 0; r <= CTXFD_REASON_MAX; r++)
		ctxfd_origin_static[r].reason = r;
}
