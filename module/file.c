// SPDX-License-Identifier: GPL-2.0
/*
 * Context file descriptors: poll, read, fdinfo, release, and creation.
 *
 * A context file's ->private_data is its node, on which the file holds a
 * reference. A file opened FMODE_WRITE (O_RDWR) is cancel-capable; a
 * read-only one is watch-only. Anon-inode files cannot be reopened
 * through /proc, so a watch-only fd can never become cancel-capable.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "ctxfd.h"

static const char *const ctxfd_kind_names[] = {
	[CTXFD_KIND_CANCEL] = "cancel",
	[CTXFD_KIND_VALUE] = "value",
	[CTXFD_KIND_WITHOUT_CANCEL] = "without-cancel",
	[CTXFD_KIND_MERGE] = "merge",
};

static int ctxfd_release(struct inode *inode, struct file *file)
{
	struct ctxfd_node *node = file->private_data;

	if (file->f_mode & FMODE_WRITE)
		ctxfd_node_cancel_file_closed(node);
	ctxfd_node_put(node);
	return 0;
}

static __poll_t ctxfd_poll(struct file *file, poll_table *wait)
{
	struct ctxfd_node *node = file->private_data;
	__poll_t mask;

	poll_wait(file, &node->wqh, wait);

	/*
	 * Safe against lost wakeups for the reason eventfd_poll() gives:
	 * err is published under wqh.lock, which poll_wait() takes when it
	 * queues us, and the wakeup is issued under that same lock.
	 */
	/* Drained (nothing started under it is left) first: it implies done. */
	mask = ctxfd_node_drained(node) ? EPOLLPRI : 0;
	if (ctxfd_node_err(node))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

/*
 * read(2) and friends: the event record once done. An active context
 * blocks the reader, unless the file is O_NONBLOCK or the caller asked
 * not to wait for this one call (preadv2(RWF_NOWAIT), io_uring), which
 * lets a library check a shared descriptor without changing its flags.
 */
static ssize_t ctxfd_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct ctxfd_node *node = iocb->ki_filp->private_data;
	struct ctxfd_event event = {};
	int err, ret;

	if (iov_iter_count(to) < sizeof(event))
		return -EINVAL;

	err = ctxfd_node_err(node);
	if (!err) {
		if ((iocb->ki_filp->f_flags & O_NONBLOCK) ||
		    (iocb->ki_flags & IOCB_NOWAIT))
			return -EAGAIN;
		ret = wait_event_interruptible(node->wqh,
					       (err = ctxfd_node_err(node)));
		if (ret)
			return ret;
	}

	event.id = node->id;
	event.err = err;
	event.cause_code = node->cause_code;
	if (copy_to_iter(&event, sizeof(event), to) != sizeof(event))
		return -EFAULT;
	return sizeof(event);
}

static const char *ctxfd_clock_name(clockid_t clockid)
{
	return clockid == CLOCK_BOOTTIME ? "boottime" : "monotonic";
}

/*
 * Print a cause message so that it stays on one line and decodes back
 * unambiguously: the backslash and every byte that is not printable ASCII
 * become \ooo (octal), like mountinfo's escaping.
 */
static void ctxfd_seq_escape(struct seq_file *m, const char *s, u32 len)
{
	u32 i;

	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c == '\\' || c < 0x20 || c >= 0x7f)
			seq_printf(m, "\\%03o", c);
		else
			seq_putc(m, c);
	}
}

static const char *const ctxfd_reason_names[CTXFD_REASON_MAX + 1] = {
	[CTXFD_REASON_CANCEL] = "cancel",
	[CTXFD_REASON_DEADLINE] = "deadline",
	[CTXFD_REASON_CLOSE] = "close",
	[CTXFD_REASON_EXIT] = "exit",
	[CTXFD_REASON_REMOTE] = "remote",
};

static const char *const ctxfd_via_names[] = {
	[CTXFD_VIA_SELF] = "self",
	[CTXFD_VIA_ANCESTOR] = "ancestor",
	[CTXFD_VIA_PARENT] = "parent",
};

/*
 * Provenance of a done node: published by its err, immutable. The pid is
 * the reader's view (fdinfo is read in the reader's context).
 */
static void ctxfd_show_origin(struct seq_file *m, struct ctxfd_node *node)
{
	const struct ctxfd_origin *o = node->origin;

	seq_printf(m, "ctxfd-reason:\t%s\n", ctxfd_reason_names[o->reason] ?: "unknown");
	seq_printf(m, "ctxfd-origin:\t%llu %s\n", o->id,
		   ctxfd_via_names[node->via]);
	seq_printf(m, "ctxfd-origin-pid:\t%d\n", ctxfd_origin_pid(o));
	seq_puts(m, "ctxfd-origin-comm:\t");
	ctxfd_seq_escape(m, o->comm, strnlen(o->comm, sizeof(o->comm)));
	seq_putc(m, '\n');
	seq_printf(m, "ctxfd-done-time:\t%llu\n", o->time_ns);
}

static void ctxfd_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct ctxfd_node *node = file->private_data;
	/* Drained before err: it implies done (ctxfd_node_drained()). */
	bool drained = ctxfd_node_drained(node);
	int err = ctxfd_node_err(node);
	unsigned int nr_children = READ_ONCE(node->nr_children);
	struct ctxfd_msg *msg = err ? node->cause_msg : NULL;
	struct ctxfd_info td = {};

	/* Everything below is immutable or already published by @err. */
	seq_printf(m, "ctxfd-id:\t%llu\n", node->id);
	seq_printf(m, "ctxfd-parent:\t%llu\n",
		   node->parent ? node->parent->id : 0);
	seq_printf(m, "ctxfd-depth:\t%u\n", node->depth);
	seq_printf(m, "ctxfd-kind:\t%s\n", ctxfd_kind_names[node->kind]);
	seq_printf(m, "ctxfd-state:\t%s\n", err ? "done" : "active");
	seq_printf(m, "ctxfd-err:\t%d\n", err);
	seq_printf(m, "ctxfd-cause:\t%d\n", err ? node->cause_code : 0);
	if (msg) {
		seq_puts(m, "ctxfd-cause-msg:\t");
		ctxfd_seq_escape(m, msg->text, msg->len);
		seq_putc(m, '\n');
	}
	if (err)
		ctxfd_show_origin(m, node);
	if (node->deadline == KTIME_MAX)
		seq_puts(m, "ctxfd-deadline:\tnone\n");
	else
		seq_printf(m, "ctxfd-deadline:\t%lld %s%s\n",
			   ktime_to_ns(node->deadline),
			   ctxfd_clock_name(node->clockid),
			   node->timer ? " own" : " inherited");
	seq_printf(m, "ctxfd-rights:\t%s\n",
		   (file->f_mode & FMODE_WRITE) ? "cancel" : "watch");
	seq_printf(m, "ctxfd-cancel-on-close:\t%s\n",
		   ctxfd_kind_cancelable(node->kind) && !node->no_cancel_on_close ?
		   "yes" : "no");
	seq_printf(m, "ctxfd-children:\t%u\n", nr_children);
	seq_printf(m, "ctxfd-attached:\t%u\n", READ_ONCE(node->nr_attached));
	ctxfd_merge_show_fdinfo(m, node);
	seq_printf(m, "ctxfd-pending:\t%d\n", atomic_read(&node->pending));
	seq_printf(m, "ctxfd-drained:\t%s\n", drained ? "yes" : "no");
	if (ctxfd_report_read(node, &td) && td.td_fired)
		seq_printf(m, "ctxfd-teardown:\tfired %u running %u signalled %u killed %u left %u ns %llu\n",
			   td.td_fired, td.td_running, td.td_signalled,
			   td.td_killed, td.td_left, td.td_duration_ns);
}

const struct file_operations ctxfd_fops = {
	.owner		= THIS_MODULE,
	.release	= ctxfd_release,
	.poll		= ctxfd_poll,
	.read_iter	= ctxfd_read_iter,
	.unlocked_ioctl	= ctxfd_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.show_fdinfo	= ctxfd_show_fdinfo,
	.llseek		= noop_llseek,
};

/**
 * ctxfd_newfd_prepare - reserve a descriptor and create a context file
 * @nfd: filled in on success
 * @node: the node; on success the file owns one reference the caller
 *	gave it, on failure the caller keeps it
 * @cancel_capable: open the file O_RDWR (cancel-capable), else O_RDONLY;
 *	only for a new node, not yet linked, which counts the file itself
 *	(ctxfd_ioctl_create())
 * @cloexec: reserve the descriptor O_CLOEXEC
 *
 * Return: 0, or a negative errno (-EMFILE at RLIMIT_NOFILE, -ENFILE,
 * -ENOMEM).
 */
int ctxfd_newfd_prepare(struct ctxfd_newfd *nfd, struct ctxfd_node *node,
			bool cancel_capable, bool cloexec)
{
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(cloexec ? O_CLOEXEC : 0);
	if (fd < 0)
		return fd;

	/*
	 * The file itself is the VFS's, charged to the memory cgroup like
	 * every anon-inode file (eventfd, timerfd): at the group's limit
	 * that charge behaves as it does for them. Our own allocations fail
	 * with ENOMEM instead (CTXFD_GFP).
	 */
	file = anon_inode_getfile("[ctxfd]", &ctxfd_fops, node,
				  cancel_capable ? O_RDWR : O_RDONLY);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	/* read_iter() honours IOCB_NOWAIT (eventfd does the same). */
	file->f_mode |= FMODE_NOWAIT;

	nfd->fd = fd;
	nfd->file = file;
	return 0;
}

/**
 * ctxfd_newfd_install - publish a prepared descriptor
 * @nfd: from ctxfd_newfd_prepare()
 *
 * Return: the descriptor number.
 */
int ctxfd_newfd_install(struct ctxfd_newfd *nfd)
{
	fd_install(nfd->fd, nfd->file);
	return nfd->fd;
}

/**
 * ctxfd_newfd_abort - undo ctxfd_newfd_prepare()
 * @nfd: from ctxfd_newfd_prepare()
 *
 * The file owns the node reference by now, so only fput() may drop it.
 */
void ctxfd_newfd_abort(struct ctxfd_newfd *nfd)
{
	put_unused_fd(nfd->fd);
	fput(nfd->file);
}
