/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ctxfd: Go-style contexts (cancellation trees, deadlines, values) as
 * file descriptors.
 *
 * Open /dev/ctxfd and issue CTXFD_IOC_NEW to get a root context. Every other
 * ioctl below is issued on a context fd. See
 * Documentation/userspace-api/ctxfd.rst for the whole story.
 *
 * Conventions (Documentation/process/botching-up-ioctls.rst):
 *  - every struct is made of fixed-width fields, padded to 64 bits;
 *  - pointers travel as __u64;
 *  - every unknown flag and every reserved field must be zero (EINVAL);
 *  - structs are extensible: the size is encoded in the ioctl number, the
 *    kernel accepts any size from the first published one (..._SIZE_VER0)
 *    upwards; bytes it does not know must be zero (E2BIG otherwise), and
 *    output structs are truncated or zero-filled to the caller's size.
 *
 * This header is self-contained: C programs need no other header for it.
 */
#ifndef _UAPI_LINUX_CTXFD_H
#define _UAPI_LINUX_CTXFD_H

#include <linux/types.h>
#include <linux/ioctl.h>

/** CTXFD_DEVICE - path of the control device. */
#define CTXFD_DEVICE		"/dev/ctxfd"

/** CTXFD_IOC_MAGIC - ioctl type byte ("C7", free in ioctl-number.rst). */
#define CTXFD_IOC_MAGIC		0xC7

/**
 * CTXFD_CAUSE_MSG_MAX - longest cause message in bytes, without the NUL.
 *
 * A cause message is a byte string without NUL bytes. Longer ones are
 * refused with E2BIG.
 */
#define CTXFD_CAUSE_MSG_MAX	127

/*
 * Flags for struct ctxfd_create::flags.
 *
 * The kind of context is chosen by at most one of CTXFD_CREATE_VALUE and
 * CTXFD_CREATE_WITHOUT_CANCEL; with neither, the new context is a
 * cancelable one (Go's WithCancel, WithDeadline, WithTimeout) and the
 * returned fd is cancel-capable.
 */
/** CTXFD_CREATE_NO_CLOEXEC - the returned fd survives execve(). */
#define CTXFD_CREATE_NO_CLOEXEC		(1ULL << 0)
/**
 * CTXFD_CREATE_NO_CANCEL_ON_CLOSE - closing the last cancel-capable fd
 * does not cancel the context. By default it does: the kernel's
 * "defer cancel()".
 */
#define CTXFD_CREATE_NO_CANCEL_ON_CLOSE	(1ULL << 1)
/**
 * CTXFD_CREATE_DEADLINE - @deadline_ns is an absolute time on @clockid
 * (CLOCK_MONOTONIC or CLOCK_BOOTTIME).
 */
#define CTXFD_CREATE_DEADLINE		(1ULL << 2)
/**
 * CTXFD_CREATE_TIMEOUT - @deadline_ns is relative to now on @clockid.
 * Exclusive with CTXFD_CREATE_DEADLINE.
 */
#define CTXFD_CREATE_TIMEOUT		(1ULL << 3)
/**
 * CTXFD_CREATE_VALUE - Go's WithValue: the new context carries the
 * binding @key -> @value, follows its parent's cancellation exactly, and
 * the returned fd is watch-only (it has no cancel-capable fd).
 */
#define CTXFD_CREATE_VALUE		(1ULL << 4)
/**
 * CTXFD_CREATE_WITHOUT_CANCEL - Go's WithoutCancel: the new context keeps
 * its parent's values but is never done and has no deadline. The returned
 * fd is watch-only. Only valid on CTXFD_IOC_CREATE.
 */
#define CTXFD_CREATE_WITHOUT_CANCEL	(1ULL << 5)

#define CTXFD_CREATE_FLAGS_ALL	(CTXFD_CREATE_NO_CLOEXEC | \
				 CTXFD_CREATE_NO_CANCEL_ON_CLOSE | \
				 CTXFD_CREATE_DEADLINE | \
				 CTXFD_CREATE_TIMEOUT | \
				 CTXFD_CREATE_VALUE | \
				 CTXFD_CREATE_WITHOUT_CANCEL)

/**
 * struct ctxfd_cause - a cancellation cause given by userspace (input)
 * @code: an integer chosen by the canceler; 0 means "no explicit cause",
 *	in which case the cause code equals the context's err.
 * @msg_len: length of @msg in bytes, at most %CTXFD_CAUSE_MSG_MAX;
 *	0 if there is no message (then @msg must be 0).
 * @msg: pointer to @msg_len bytes, no NUL bytes among them.
 *
 * Go's context.Cause(): the kernel records the cause of the first cancel
 * and hands it down to every descendant canceled with it.
 */
struct ctxfd_cause {
	__s32 code;
	__u32 msg_len;
	__u64 msg;
};

/**
 * struct ctxfd_create - argument of CTXFD_IOC_NEW and CTXFD_IOC_CREATE
 * @flags: CTXFD_CREATE_* flags.
 * @deadline_ns: with CTXFD_CREATE_DEADLINE, an absolute time in
 *	nanoseconds on @clockid; with CTXFD_CREATE_TIMEOUT, a duration in
 *	nanoseconds from now. Never negative. Must be 0 otherwise.
 * @clockid: CLOCK_MONOTONIC (1) or CLOCK_BOOTTIME (7) with a deadline or
 *	timeout; 0 otherwise.
 * @__reserved0: must be zero.
 * @deadline_cause: the cause recorded when the deadline fires (Go's
 *	WithDeadlineCause). All zero without a deadline.
 * @key: pointer to the key of the value binding (CTXFD_CREATE_VALUE).
 * @value: pointer to the value of the binding. With @value_len 0, a
 *	value of 0 binds nil (Go's nil: "no value", which shadows older
 *	bindings of @key) and any other value binds the empty value ""
 *	(the pointer is not read). Kernels before the empty value refuse a
 *	non-zero @value with @value_len 0 (EINVAL).
 * @key_len: 1 .. the max_key_len module parameter (E2BIG above).
 * @value_len: 0 .. the max_value_len module parameter (E2BIG above).
 *
 * On success the ioctl returns a new file descriptor: cancel-capable for
 * a cancelable context, watch-only otherwise. It is O_CLOEXEC unless
 * CTXFD_CREATE_NO_CLOEXEC is given.
 */
struct ctxfd_create {
	__u64 flags;
	__s64 deadline_ns;
	__u32 clockid;
	__u32 __reserved0;
	struct ctxfd_cause deadline_cause;
	__u64 key;
	__u64 value;
	__u32 key_len;
	__u32 value_len;
};

#define CTXFD_CREATE_SIZE_VER0	64

/**
 * CTXFD_CANCEL_REMOTE - the cancel relays one made elsewhere (ctxd(8),
 * another host): the context reports %CTXFD_REASON_REMOTE instead of
 * %CTXFD_REASON_CANCEL. A label the canceler chooses; it grants nothing.
 */
#define CTXFD_CANCEL_REMOTE	(1ULL << 0)
#define CTXFD_CANCEL_FLAGS_ALL	CTXFD_CANCEL_REMOTE

/**
 * struct ctxfd_cancel - argument of CTXFD_IOC_CANCEL
 * @flags: CTXFD_CANCEL_* flags.
 * @cause: optional cause; all zero for a plain cancel (Go's cancel()).
 *
 * Cancels the context and, before the ioctl returns, its whole subtree:
 * every descendant is done and every poller woken. The first cancel
 * wins; canceling a done context succeeds and changes nothing. Needs a
 * cancel-capable fd (EPERM otherwise).
 */
struct ctxfd_cancel {
	__u64 flags;
	struct ctxfd_cause cause;
};

#define CTXFD_CANCEL_SIZE_VER0	24

/** CTXFD_WATCH_NO_CLOEXEC - the returned fd survives execve(). */
#define CTXFD_WATCH_NO_CLOEXEC	(1ULL << 0)
#define CTXFD_WATCH_FLAGS_ALL	CTXFD_WATCH_NO_CLOEXEC

/**
 * struct ctxfd_watch - argument of CTXFD_IOC_WATCH
 * @flags: CTXFD_WATCH_* flags.
 *
 * Returns a new watch-only fd on the same context. A watch-only fd polls,
 * reads, reports info, looks up values and creates children, but cannot
 * cancel. There is no way back from a watch-only fd to a cancel-capable
 * one.
 */
struct ctxfd_watch {
	__u64 flags;
};

#define CTXFD_WATCH_SIZE_VER0	8

/* Bits of struct ctxfd_info::mask: which fields the kernel filled in. */
#define CTXFD_INFO_ID		(1ULL << 0)	/* @id, @parent_id, @depth */
#define CTXFD_INFO_STATE	(1ULL << 1)	/* @flags, @err, @nr_children */
#define CTXFD_INFO_CAUSE	(1ULL << 2)	/* @cause_code, @cause_msg* */
#define CTXFD_INFO_DEADLINE	(1ULL << 3)	/* @deadline_ns, @clockid */
#define CTXFD_INFO_ATTACH	(1ULL << 4)	/* @nr_attached */
#define CTXFD_INFO_ORIGIN	(1ULL << 5)	/* @reason .. @origin_comm */
#define CTXFD_INFO_TEARDOWN	(1ULL << 6)	/* @td_* */
#define CTXFD_INFO_DRAIN	(1ULL << 7)	/* CTXFD_INFO_DRAINED, @nr_pending */

/* Bits of struct ctxfd_info::flags. */
/** CTXFD_INFO_DONE - the context is done (final). */
#define CTXFD_INFO_DONE			(1ULL << 0)
/** CTXFD_INFO_CAN_CANCEL - the fd this INFO was asked on can cancel. */
#define CTXFD_INFO_CAN_CANCEL		(1ULL << 1)
/** CTXFD_INFO_NO_CANCEL_ON_CLOSE - created with that flag. */
#define CTXFD_INFO_NO_CANCEL_ON_CLOSE	(1ULL << 2)
/** CTXFD_INFO_VALUE - a values-only context (carries a binding). */
#define CTXFD_INFO_VALUE		(1ULL << 3)
/** CTXFD_INFO_WITHOUT_CANCEL - a WithoutCancel context. */
#define CTXFD_INFO_WITHOUT_CANCEL	(1ULL << 4)
/** CTXFD_INFO_HAS_DEADLINE - @deadline_ns and @clockid are valid. */
#define CTXFD_INFO_HAS_DEADLINE		(1ULL << 5)
/** CTXFD_INFO_OWN_TIMER - this context runs a timer of its own. */
#define CTXFD_INFO_OWN_TIMER		(1ULL << 6)
/**
 * CTXFD_INFO_DRAINED - done, every descendant context released by every
 * process, and every process attached to the context exited: nothing
 * started under it is left. Final. The fd then also polls %EPOLLPRI.
 */
#define CTXFD_INFO_DRAINED		(1ULL << 7)
/**
 * CTXFD_INFO_MERGE_ANY - a merged context (%CTXFD_IOC_MERGE) in mode
 * %CTXFD_MERGE_ANY; %CTXFD_IOC_PARENTS lists its parents.
 */
#define CTXFD_INFO_MERGE_ANY		(1ULL << 8)
/** CTXFD_INFO_MERGE_ALL - a merged context in mode %CTXFD_MERGE_ALL. */
#define CTXFD_INFO_MERGE_ALL		(1ULL << 9)

/*
 * Why a context is done (struct ctxfd_info::reason): what happened where
 * the cancellation began, @origin_id. 0 while active.
 */
/** CTXFD_REASON_CANCEL - CTXFD_IOC_CANCEL on a cancel-capable fd. */
#define CTXFD_REASON_CANCEL	1
/** CTXFD_REASON_DEADLINE - the deadline passed. */
#define CTXFD_REASON_DEADLINE	2
/** CTXFD_REASON_CLOSE - the last cancel-capable fd was closed. */
#define CTXFD_REASON_CLOSE	3
/**
 * CTXFD_REASON_EXIT - the last cancel-capable fd was closed by the exit
 * of the process that held it (its owner died).
 */
#define CTXFD_REASON_EXIT	4
/** CTXFD_REASON_REMOTE - CTXFD_IOC_CANCEL with %CTXFD_CANCEL_REMOTE. */
#define CTXFD_REASON_REMOTE	5
#define CTXFD_REASON_MAX	5

/* How the cancellation reached the context (struct ctxfd_info::origin_via). */
/** CTXFD_VIA_SELF - it began at this very context. */
#define CTXFD_VIA_SELF		0
/** CTXFD_VIA_ANCESTOR - the context was done with an ancestor, @origin_id. */
#define CTXFD_VIA_ANCESTOR	1
/** CTXFD_VIA_PARENT - it came through one of the context's merge parents. */
#define CTXFD_VIA_PARENT	2

/** CTXFD_COMM_LEN - size of a process name, NUL included (TASK_COMM_LEN). */
#define CTXFD_COMM_LEN		16

/**
 * struct ctxfd_info - output of CTXFD_IOC_INFO
 * @mask: CTXFD_INFO_ID etc.: which groups of fields were filled in.
 * @id: system-wide unique id of the context, never reused.
 * @parent_id: id of the parent, 0 for a root; of the first parent of a
 *	merged context (CTXFD_IOC_PARENTS lists them all).
 * @flags: CTXFD_INFO_DONE etc.
 * @depth: number of ancestors (0 for a root).
 * @err: 0 while active; ECANCELED or ETIMEDOUT once done.
 * @cause_code: the cause code once done (equals @err with no explicit
 *	cause), 0 while active.
 * @nr_children: number of active children linked under this context. A
 *	child whose own deadline fired leaves the count a tick after it
 *	polls done.
 * @deadline_ns: the effective deadline (the earliest on the ancestor
 *	chain) on @clockid, if CTXFD_INFO_HAS_DEADLINE.
 * @clockid: the clock of @deadline_ns.
 * @cause_msg_len: length of @cause_msg, without the NUL.
 * @cause_msg: the cause message, NUL-terminated.
 * @nr_attached: processes attached (CTXFD_IOC_ATTACH) and not yet
 *	signalled or exited.
 * @__reserved: zero.
 * @reason: why the context is done, CTXFD_REASON_*; 0 while active.
 * @origin_via: how the cancellation reached it, CTXFD_VIA_*.
 * @origin_id: the context where the cancellation began (this one, an
 *	ancestor, or a merge parent's ancestor...).
 * @origin_pid: the process that began it, in the caller's pid namespace;
 *	0 for a deadline, or when that process is not visible from there.
 * @nr_pending: what keeps a done context from being drained: descendant
 *	contexts not yet released, plus attachments whose processes have
 *	not all exited. 0 once drained.
 * @done_time_ns: when the cancellation began, CLOCK_BOOTTIME.
 * @origin_comm: the name of that process then (NUL-terminated; empty
 *	without a process).
 * @td_fired: attachments of this context that have fired.
 * @td_running: of those, how many still have processes alive.
 * @td_signalled: processes they sent their signal to.
 * @td_killed: processes they had to send SIGKILL to.
 * @td_left: processes of theirs still alive (for a finished teardown:
 *	alive when it gave up, e.g. processes the attacher may not kill).
 * @__reserved2: zero.
 * @td_duration_ns: from the first fire until the last of their processes
 *	exited (until now while some are running).
 *
 * Purely an output: the kernel ignores what the buffer holds on entry.
 * Fields after @__reserved arrived with %CTXFD_INFO_SIZE_VER1; the bits
 * of @mask say which groups this kernel filled in.
 */
struct ctxfd_info {
	__u64 mask;
	__u64 id;
	__u64 parent_id;
	__u64 flags;
	__u32 depth;
	__s32 err;
	__s32 cause_code;
	__u32 nr_children;
	__s64 deadline_ns;
	__u32 clockid;
	__u32 cause_msg_len;
	char cause_msg[CTXFD_CAUSE_MSG_MAX + 1];
	__u32 nr_attached;
	__u32 __reserved;
	__u32 reason;
	__u32 origin_via;
	__u64 origin_id;
	__s32 origin_pid;
	__u32 nr_pending;
	__u64 done_time_ns;
	char origin_comm[CTXFD_COMM_LEN];
	__u32 td_fired;
	__u32 td_running;
	__u32 td_signalled;
	__u32 td_killed;
	__u32 td_left;
	__u32 __reserved2;
	__u64 td_duration_ns;
};

#define CTXFD_INFO_SIZE_VER0	200
#define CTXFD_INFO_SIZE_VER1	280

/**
 * struct ctxfd_lookup - argument of CTXFD_IOC_LOOKUP (Go's ctx.Value)
 * @flags: must be zero.
 * @key: pointer to the key.
 * @value: pointer to a buffer of @value_len bytes for the value; 0 if
 *	@value_len is 0 (EINVAL otherwise).
 * @key_len: length of the key, 1 .. max_key_len.
 * @value_len: in: size of the @value buffer; out: length of the value.
 * @owner_id: out: id of the context that holds the binding found.
 * @result_flags: out: CTXFD_LOOKUP_NIL or CTXFD_LOOKUP_VALUE, saying
 *	which the binding found is; ignored on input.
 * @__reserved: must be zero.
 *
 * Walks from the context towards the root and returns the nearest binding
 * of @key: 0 and the value, ENOENT if there is none. A nil binding (see
 * struct ctxfd_create) is found like any other, with @value_len 0 and
 * CTXFD_LOOKUP_NIL: it shadows older bindings, and to Go's ctx.Value()
 * it means "no value". An empty value "" has @value_len 0 and
 * CTXFD_LOOKUP_VALUE. If the buffer is too small, ERANGE and @value_len
 * says how much is needed (@result_flags and @owner_id are filled too).
 *
 * Callers of the first size (%CTXFD_LOOKUP_SIZE_VER0, 40 bytes) get no
 * @result_flags and cannot tell nil from "". A kernel that predates
 * @result_flags zero-fills it for larger callers: neither flag set means
 * that every empty binding is nil (such kernels cannot bind "").
 */
struct ctxfd_lookup {
	__u64 flags;
	__u64 key;
	__u64 value;
	__u32 key_len;
	__u32 value_len;
	__u64 owner_id;
	__u32 result_flags;
	__u32 __reserved;
};

#define CTXFD_LOOKUP_SIZE_VER0	40
#define CTXFD_LOOKUP_SIZE_VER1	48	/* @result_flags */

/* Bits of struct ctxfd_lookup::result_flags: exactly one is set. */
/** CTXFD_LOOKUP_NIL - the binding found is nil (Go's nil). */
#define CTXFD_LOOKUP_NIL	(1U << 0)
/** CTXFD_LOOKUP_VALUE - the binding found has a value, maybe "". */
#define CTXFD_LOOKUP_VALUE	(1U << 1)

/** CTXFD_ATTACH_DESCENDANTS - also signal every descendant process. */
#define CTXFD_ATTACH_DESCENDANTS	(1ULL << 0)
/**
 * CTXFD_ATTACH_DESCENDANTS_ONLY - signal the descendants but spare the
 * process itself (a subreaper supervising its tree, like ctxrun).
 */
#define CTXFD_ATTACH_DESCENDANTS_ONLY	(1ULL << 1)
#define CTXFD_ATTACH_FLAGS_ALL		(CTXFD_ATTACH_DESCENDANTS | \
					 CTXFD_ATTACH_DESCENDANTS_ONLY)

/** CTXFD_ATTACH_GRACE_MAX_NS - the longest grace period: one day. */
#define CTXFD_ATTACH_GRACE_MAX_NS	(86400ULL * 1000000000ULL)

/**
 * struct ctxfd_attach - argument of CTXFD_IOC_ATTACH
 * @flags: CTXFD_ATTACH_* flags.
 * @pidfd: a pidfd of the process to attach (pidfd_open(2)).
 * @signal: the signal sent when the context is done, 1 .. SIGRTMAX (64).
 * @grace_ns: if non-zero, SIGKILL follows after this many nanoseconds to
 *	whatever is still alive; at most %CTXFD_ATTACH_GRACE_MAX_NS, and 0
 *	with SIGKILL.
 * @pid: the process's pid in the caller's pid namespace. The kernel looks
 *	it up and requires @pidfd to refer to that very process, so a pid
 *	reused before the call is refused (ESRCH), and keeps a reference to
 *	the process, never the number.
 * @__reserved: must be zero.
 *
 * The caller must be allowed to send @signal to the process, now and
 * again when the context is done: kill(2)'s rules, checked against the
 * caller's credentials saved at attach time. Signals arrive as from
 * kill(2) by the attacher (SI_USER, si_uid the attacher's uid; si_pid
 * is the kernel worker that delivered them, 0 if not visible). When the
 * context is done, the processes of the teardown are collected at once;
 * with a descendants flag, SIGKILL first stops the whole tree with
 * SIGSTOP, so nothing forks or slips away meanwhile. Watch-only fds may
 * attach: attaching cancels nothing.
 */
struct ctxfd_attach {
	__u64 flags;
	__s32 pidfd;
	__u32 signal;
	__u64 grace_ns;
	__s32 pid;
	__u32 __reserved;
};

#define CTXFD_ATTACH_SIZE_VER0	32

/**
 * CTXFD_MERGE_ANY - merge mode: the merged context is done as soon as one
 * parent is done, with that parent's err and cause (the first parent
 * whose cancellation reaches it wins). Its effective deadline is the
 * earliest of its parents'.
 */
#define CTXFD_MERGE_ANY		1
/**
 * CTXFD_MERGE_ALL - merge mode: the merged context is done when every
 * parent is done, with the err and cause of the last one. Its effective
 * deadline is the latest of its parents', and it has none if any parent
 * has none.
 */
#define CTXFD_MERGE_ALL		2

/**
 * CTXFD_MERGE_MAX_PARENTS - the most parents a merged context may have.
 */
#define CTXFD_MERGE_MAX_PARENTS	64

/* The flags CTXFD_IOC_MERGE takes: the CTXFD_CREATE_* flags below. */
#define CTXFD_MERGE_FLAGS_ALL	(CTXFD_CREATE_NO_CLOEXEC | \
				 CTXFD_CREATE_NO_CANCEL_ON_CLOSE | \
				 CTXFD_CREATE_DEADLINE | \
				 CTXFD_CREATE_TIMEOUT)

/**
 * struct ctxfd_merge - argument of CTXFD_IOC_MERGE
 * @flags: %CTXFD_CREATE_NO_CLOEXEC, %CTXFD_CREATE_NO_CANCEL_ON_CLOSE,
 *	%CTXFD_CREATE_DEADLINE or %CTXFD_CREATE_TIMEOUT, with the meaning
 *	they have for CTXFD_IOC_CREATE; nothing else.
 * @parents: pointer to an array of @nr_parents context fds (__s32), each
 *	on a different context. Watch-only fds are enough; the contexts may
 *	belong to any trees and processes.
 * @nr_parents: 1 .. %CTXFD_MERGE_MAX_PARENTS (E2BIG above).
 * @mode: %CTXFD_MERGE_ANY or %CTXFD_MERGE_ALL.
 * @deadline_ns: an own deadline or timeout, as in struct ctxfd_create;
 *	the effective deadline is the earlier of it and the one the mode
 *	derives from the parents.
 * @clockid: as in struct ctxfd_create.
 * @__reserved0: must be zero.
 * @deadline_cause: as in struct ctxfd_create.
 *
 * Creates a context with several parents and returns its cancel-capable
 * fd. It is cancelable (and canceled when its last cancel-capable fd is
 * closed, unless %CTXFD_CREATE_NO_CANCEL_ON_CLOSE), may have children,
 * a deadline, attachments, and children carrying values; value lookups
 * from it follow its first parent, @parents[0], which is also the
 * @parent_id INFO reports. It is born done if the mode's condition holds
 * already: then with the cause of the parent done first (ANY) or last
 * (ALL), by INFO's @done_time_ns. Otherwise the cancel call that makes
 * it done has made it done, and its subtree, and woken every poller,
 * before it returns, although it lives in another tree; it reports
 * %CTXFD_VIA_PARENT and the origin of the parent's cancellation. Once
 * released (no fd, no child, no attachment left), it is detached from
 * every parent.
 *
 * Issued on /dev/ctxfd or on any context fd (so that a process given
 * context fds but no access to /dev/ctxfd can merge them); that fd is
 * not a parent unless it is listed. Errors: EINVAL for no parents, an
 * unknown mode or flag, a non-zero reserved field, the same fd or the
 * same context twice; E2BIG for too many parents; EBADF for an entry
 * that is not an open context fd; EFAULT for an unreadable array; and
 * those of CTXFD_IOC_CREATE.
 */
struct ctxfd_merge {
	__u64 flags;
	__u64 parents;
	__u32 nr_parents;
	__u32 mode;
	__s64 deadline_ns;
	__u32 clockid;
	__u32 __reserved0;
	struct ctxfd_cause deadline_cause;
};

#define CTXFD_MERGE_SIZE_VER0	56

/**
 * struct ctxfd_parents - argument of CTXFD_IOC_PARENTS
 * @flags: must be zero.
 * @ids: pointer to an array of @nr_ids __u64 for the parents' ids, in the
 *	order they were given; 0 if @nr_ids is 0.
 * @nr_ids: in: the size of the @ids array; out: the number of parents
 *	(the one parent of an ordinary context, none for a root).
 * @mode: out: %CTXFD_MERGE_ANY or %CTXFD_MERGE_ALL for a merged context,
 *	0 otherwise.
 * @nr_done: out: how many of the parents are done now.
 * @__reserved: must be zero.
 *
 * The companion of CTXFD_IOC_INFO for merged contexts: INFO keeps its
 * fixed size, and reports the first parent only. ERANGE, with @nr_ids
 * set to the number needed, when the array is too small.
 */
struct ctxfd_parents {
	__u64 flags;
	__u64 ids;
	__u32 nr_ids;
	__u32 mode;
	__u32 nr_done;
	__u32 __reserved;
};

#define CTXFD_PARENTS_SIZE_VER0	32

/**
 * struct ctxfd_event - the record read() returns once the context is done
 * @id: id of the context.
 * @err: ECANCELED or ETIMEDOUT.
 * @cause_code: the cause code (equals @err with no explicit cause).
 *
 * read() blocks until the context is done (EAGAIN with O_NONBLOCK) and
 * then returns this record, every time: done is final. A buffer smaller
 * than the record gets EINVAL.
 */
struct ctxfd_event {
	__u64 id;
	__s32 err;
	__s32 cause_code;
};

/**
 * CTXFD_IOC_NEW - on /dev/ctxfd: create a root context.
 *
 * Takes struct ctxfd_create (CTXFD_CREATE_WITHOUT_CANCEL is refused) and
 * returns a new fd. A root made with CTXFD_CREATE_VALUE is never done
 * (Go's WithValue(Background(), ...)).
 */
#define CTXFD_IOC_NEW		_IOW(CTXFD_IOC_MAGIC, 0x01, struct ctxfd_create)
/** CTXFD_IOC_CREATE - create a child of this context; returns a new fd. */
#define CTXFD_IOC_CREATE	_IOW(CTXFD_IOC_MAGIC, 0x02, struct ctxfd_create)
/** CTXFD_IOC_CANCEL - cancel this context and its subtree. */
#define CTXFD_IOC_CANCEL	_IOW(CTXFD_IOC_MAGIC, 0x03, struct ctxfd_cancel)
/** CTXFD_IOC_WATCH - derive a watch-only fd; returns a new fd. */
#define CTXFD_IOC_WATCH		_IOW(CTXFD_IOC_MAGIC, 0x04, struct ctxfd_watch)
/** CTXFD_IOC_INFO - report the state of this context. */
#define CTXFD_IOC_INFO		_IOR(CTXFD_IOC_MAGIC, 0x05, struct ctxfd_info)
/** CTXFD_IOC_LOOKUP - look a key up along the ancestor chain. */
#define CTXFD_IOC_LOOKUP	_IOWR(CTXFD_IOC_MAGIC, 0x06, struct ctxfd_lookup)
/** CTXFD_IOC_ATTACH - signal a process (tree) when this context is done. */
#define CTXFD_IOC_ATTACH	_IOW(CTXFD_IOC_MAGIC, 0x07, struct ctxfd_attach)
/**
 * CTXFD_IOC_MERGE - on /dev/ctxfd or a context fd: create a context with
 * several parents; returns its fd.
 */
#define CTXFD_IOC_MERGE		_IOW(CTXFD_IOC_MAGIC, 0x08, struct ctxfd_merge)
/** CTXFD_IOC_PARENTS - list the parents of this context. */
#define CTXFD_IOC_PARENTS	_IOWR(CTXFD_IOC_MAGIC, 0x09, struct ctxfd_parents)

#endif /* _UAPI_LINUX_CTXFD_H */
