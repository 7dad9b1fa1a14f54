// SPDX-License-Identifier: GPL-2.0
/*
 * Teardown reports: what a context's process attachments did once it was
 * done - how many of them fired and are still running, how many
 * processes got their signal, how many needed SIGKILL, how many were
 * still alive when a SIGKILL phase had done all it could, and how long it
 * all took, from the first fire until the last process exited.
 *
 * A node's report is made by its first attachment (an ATTACH that cannot
 * allocate one fails with ENOMEM before anything is set up), published
 * once under the tree lock with a release, read locklessly (acquire) and
 * updated under the node's wait queue lock, which INFO and fdinfo take
 * for a consistent snapshot. It is freed with the node.
 */
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include "ctxfd.h"

/**
 * ctxfd_node_report - a node's teardown report, or NULL before its first
 *	attachment
 * @node: the node
 */
struct ctxfd_report *ctxfd_node_report(struct ctxfd_node *node)
{
	/* Pairs with smp_store_release() in ctxfd_report_install(). */
	return smp_load_acquire(&node->report);
}

/**
 * ctxfd_report_install - give a node the report an attachment made
 * @node: the node; caller holds its tree lock
 * @spare: a zeroed report, or NULL; taken (set to NULL) if used
 */
void ctxfd_report_install(struct ctxfd_node *node, struct ctxfd_report **spare)
{
	lockdep_assert_held(&node->tree->lock);
	if (!node->report && *spare) {
		/* The zeroed report first: pairs with ctxfd_node_report(). */
		smp_store_release(&node->report, *spare);
		*spare = NULL;
	}
}

/**
 * ctxfd_report_fire - an attachment of @node fired
 * @node: the node, which has a report (it has an attachment)
 */
void ctxfd_report_fire(struct ctxfd_node *node)
{
	struct ctxfd_report *r = node->report;

	spin_lock_irq(&node->wqh.lock);
	if (!r->fired++)
		r->first_fire = ktime_get();
	r->running++;
	spin_unlock_irq(&node->wqh.lock);
}

/**
 * ctxfd_report_add - account what a teardown did
 * @node: the node
 * @signalled: processes sent the attachment's signal
 * @killed: processes sent SIGKILL
 * @left: processes alive after a SIGKILL phase
 */
void ctxfd_report_add(struct ctxfd_node *node, unsigned int signalled,
		      unsigned int killed, unsigned int left)
{
	struct ctxfd_report *r = node->report;

	spin_lock_irq(&node->wqh.lock);
	r->signalled += signalled;
	r->killed += killed;
	r->left += left;
	spin_unlock_irq(&node->wqh.lock);
}

/**
 * ctxfd_report_end - every process of a fired attachment has exited
 * @node: the node
 */
void ctxfd_report_end(struct ctxfd_node *node)
{
	struct ctxfd_report *r = node->report;

	spin_lock_irq(&node->wqh.lock);
	r->running--;
	r->last_end = ktime_get();
	spin_unlock_irq(&node->wqh.lock);
}

/**
 * ctxfd_report_read - a snapshot of a node's report, for INFO
 * @node: the node
 * @info: filled in (td_*); left zero without a report
 *
 * Return: true if the node has a report.
 */
bool ctxfd_report_read(struct ctxfd_node *node, struct ctxfd_info *info)
{
	struct ctxfd_report *r = ctxfd_node_report(node);
	ktime_t end;

	if (!r)
		return false;
	spin_lock_irq(&node->wqh.lock);
	info->td_fired = r->fired;
	info->td_running = r->running;
	info->td_signalled = r->signalled;
	info->td_killed = r->killed;
	info->td_left = r->left;
	if (r->fired) {
		end = r->running ? ktime_get() : r->last_end;
		info->td_duration_ns = ktime_to_ns(ktime_sub(end, r->first_fire));
	}
	spin_unlock_irq(&node->wqh.lock);
	return true;
}
