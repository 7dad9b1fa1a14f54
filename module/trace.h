/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxfd tracepoints (events/ctxfd/ in tracefs): the life of a context -
 * created, canceled (why, where it began, how much of the tree went with
 * it), deadline fired, processes attached, teardown signal, kill and
 * done, released, drained. Documentation/admin-guide/tracing.rst has
 * bpftrace one-liners for them.
 *
 * Every event records plain numbers and fixed arrays, no __string(),
 * whose assignment macro changed between the kernels ctxfd supports:
 * nothing here needs a compat shim. Pids are global (init namespace)
 * numbers, as tracing sees the whole machine.
 *
 * Locks and lifetimes: an event copies everything it records while it
 * runs, and keeps no pointer. Each is called where its node is pinned
 * by the caller's reference: ctxfd_create and ctxfd_cancel under the
 * tree lock (a mutex), or, for a deadline's fast path (with
 * ctxfd_deadline_fire), in the timer's interrupt, where the node is
 * pinned because its destructor waits for the timer; ctxfd_drained
 * under the node's wait queue spinlock with interrupts off (so in that
 * interrupt too); ctxfd_release from ctxfd_node_destroy()
 * before anything is freed (the parent is pinned by the node), the
 * others from the attachment's work items, which hold a node reference
 * and the struct pid of the attached process until the attachment is
 * freed. The origin of ctxfd_cancel is pinned by the node where
 * the cancellation began (struct ctxfd_origin), which the canceler holds.
 *
 * Created once, with CREATE_TRACE_POINTS, in module/main.c.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM ctxfd

#if !defined(_CTXFD_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _CTXFD_TRACE_H

#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/tracepoint.h>

/* A node: its id and its parent's, for every event about one context. */
TRACE_EVENT(ctxfd_create,
	TP_PROTO(const struct ctxfd_node *node),
	TP_ARGS(node),
	TP_STRUCT__entry(
		__field(u64, id)
		__field(u64, parent_id)
		__field(u32, depth)
		__field(u8, kind)
		__field(s64, deadline_ns)
		__field(int, err)
	),
	TP_fast_assign(
		__entry->id = node->id;
		__entry->parent_id = node->parent ? node->parent->id : 0;
		__entry->depth = node->depth;
		__entry->kind = node->kind;
		__entry->deadline_ns = node->deadline == KTIME_MAX ? 0 :
				       ktime_to_ns(node->deadline);
		__entry->err = node->err;
	),
	TP_printk("id=%llu parent=%llu depth=%u kind=%u deadline_ns=%lld err=%d",
		  __entry->id, __entry->parent_id, __entry->depth,
		  __entry->kind, __entry->deadline_ns, __entry->err)
);

/*
 * A cancellation: @nodes contexts became done with it (the subtree of
 * @id that was still active, @id included).
 */
TRACE_EVENT(ctxfd_cancel,
	TP_PROTO(const struct ctxfd_node *node, const struct ctxfd_why *why,
		 unsigned int nodes),
	TP_ARGS(node, why, nodes),
	TP_STRUCT__entry(
		__field(u64, id)
		__field(u64, origin_id)
		__field(u32, reason)
		__field(int, err)
		__field(int, cause_code)
		__field(pid_t, origin_pid)
		__field(u32, nodes)
		__array(char, origin_comm, TASK_COMM_LEN)
	),
	TP_fast_assign(
		__entry->id = node->id;
		__entry->origin_id = why->origin ? why->origin->id : 0;
		__entry->reason = why->origin ? why->origin->reason : 0;
		__entry->err = why->err;
		__entry->cause_code = why->code ? why->code : why->err;
		__entry->origin_pid = why->origin ? pid_nr(why->origin->pid) : 0;
		__entry->nodes = nodes;
		if (why->origin)
			memcpy(__entry->origin_comm, why->origin->comm,
			       TASK_COMM_LEN);
		else
			memset(__entry->origin_comm, 0, TASK_COMM_LEN);
	),
	TP_printk("id=%llu reason=%u origin=%llu origin_pid=%d origin_comm=%s err=%d cause=%d nodes=%u",
		  __entry->id, __entry->reason, __entry->origin_id,
		  __entry->origin_pid, __entry->origin_comm, __entry->err,
		  __entry->cause_code, __entry->nodes)
);

TRACE_EVENT(ctxfd_deadline_fire,
	TP_PROTO(const struct ctxfd_node *node),
	TP_ARGS(node),
	TP_STRUCT__entry(
		__field(u64, id)
		__field(s64, deadline_ns)
		__field(int, clockid)
	),
	TP_fast_assign(
		__entry->id = node->id;
		__entry->deadline_ns = ktime_to_ns(node->deadline);
		__entry->clockid = node->clockid;
	),
	TP_printk("id=%llu deadline_ns=%lld clockid=%d", __entry->id,
		  __entry->deadline_ns, __entry->clockid)
);

TRACE_EVENT(ctxfd_attach,
	TP_PROTO(const struct ctxfd_node *node, pid_t pid, int sig, u64 flags,
		 u64 grace_ns),
	TP_ARGS(node, pid, sig, flags, grace_ns),
	TP_STRUCT__entry(
		__field(u64, id)
		__field(u64, flags)
		__field(u64, grace_ns)
		__field(pid_t, pid)
		__field(int, sig)
	),
	TP_fast_assign(
		__entry->id = node->id;
		__entry->flags = flags;
		__entry->grace_ns = grace_ns;
		__entry->pid = pid;
		__entry->sig = sig;
	),
	TP_printk("id=%llu pid=%d sig=%d flags=%#llx grace_ns=%llu",
		  __entry->id, __entry->pid, __entry->sig, __entry->flags,
		  __entry->grace_ns)
);

/* An attachment sent its signal to @count processes. */
TRACE_EVENT(ctxfd_teardown_signal,
	TP_PROTO(const struct ctxfd_node *node, pid_t pid, int sig,
		 unsigned int count),
	TP_ARGS(node, pid, sig, count),
	TP_STRUCT__entry(
		__field(u64, id)
		__field(pid_t, pid)
		__field(int, sig)
		__field(u32, count)
	),
	TP_fast_assign(
		__entry->id = node->id;
		__entry->pid = pid;
		__entry->sig = sig;
		__entry->count = count;
	),
	TP_printk("id=%llu pid=%d sig=%d count=%u", __entry->id,
		  __entry->pid, __entry->sig, __entry->count)
);

/* An attachment sent SIGKILL to @count processes; @left survived it. */
TRACE_EVENT(ctxfd_teardown_kill,
	TP_PROTO(const struct ctxfd_node *node, pid_t pid, unsigned int count,
		 unsigned int left),
	TP_ARGS(node, pid, count, left),
	TP_STRUCT__entry(
		__field(u64, id)
		__field(pid_t, pid)
		__field(u32, count)
		__field(u32, left)
	),
	TP_fast_assign(
		__entry->id = node->id;
		__entry->pid = pid;
		__entry->count = count;
		__entry->left = left;
	),
	TP_printk("id=%llu pid=%d count=%u left=%u", __entry->id,
		  __entry->pid, __entry->count, __entry->left)
);

/* Every process of an attachment's teardown has exited. */
TRACE_EVENT(ctxfd_teardown_done,
	TP_PROTO(const struct ctxfd_node *node, pid_t pid),
	TP_ARGS(node, pid),
	TP_STRUCT__entry(
		__field(u64, id)
		__field(pid_t, pid)
	),
	TP_fast_assign(
		__entry->id = node->id;
		__entry->pid = pid;
	),
	TP_printk("id=%llu pid=%d", __entry->id, __entry->pid)
);

/* The last reference to a context is gone: it is freed. */
TRACE_EVENT(ctxfd_release,
	TP_PROTO(const struct ctxfd_node *node),
	TP_ARGS(node),
	TP_STRUCT__entry(
		__field(u64, id)
		__field(u64, parent_id)
		__field(int, err)
	),
	TP_fast_assign(
		__entry->id = node->id;
		__entry->parent_id = node->parent ? node->parent->id : 0;
		__entry->err = node->err;
	),
	TP_printk("id=%llu parent=%llu err=%d", __entry->id,
		  __entry->parent_id, __entry->err)
);

TRACE_EVENT(ctxfd_drained,
	TP_PROTO(const struct ctxfd_node *node),
	TP_ARGS(node),
	TP_STRUCT__entry(
		__field(u64, id)
	),
	TP_fast_assign(
		__entry->id = node->id;
	),
	TP_printk("id=%llu", __entry->id)
);

#endif /* _CTXFD_TRACE_H */

/* Out of tree: Kbuild puts the directory above module/ on the path. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH module
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
