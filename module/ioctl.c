// SPDX-License-Identifier: GPL-2.0
/*
 * ioctls on context fds and on /dev/ctxfd.
 *
 * Every struct is extensible by size (the size is the one encoded in the
 * ioctl number): inputs and outputs go through the helpers of ustruct.c.
 * Dispatch is on the ioctl number and direction, so one handler serves
 * every size.
 */
#include <linux/err.h>
#include <linux/uaccess.h>

#include "ctxfd.h"

/*
 * An ioctl number without its size field: one case label serves every
 * size of an extensible struct, while type, number and direction must
 * still match exactly.
 */
#define CTXFD_IOC_BASE(cmd)	((cmd) & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT))

static int ctxfd_create_check(const struct ctxfd_create *args, bool root)
{
	u64 flags = args->flags;
	bool cancelable;
	int ret;

	if (flags & ~CTXFD_CREATE_FLAGS_ALL)
		return -EINVAL;
	if (args->__reserved0)
		return -EINVAL;
	if ((flags & CTXFD_CREATE_VALUE) &&
	    (flags & CTXFD_CREATE_WITHOUT_CANCEL))
		return -EINVAL;
	if (root && (flags & CTXFD_CREATE_WITHOUT_CANCEL))
		return -EINVAL;

	/* Deadlines and cancel-on-close only make sense with a cancel fd. */
	cancelable = !(flags & (CTXFD_CREATE_VALUE |
				CTXFD_CREATE_WITHOUT_CANCEL));
	if (!cancelable && (flags & (CTXFD_CREATE_NO_CANCEL_ON_CLOSE |
				     CTXFD_CREATE_DEADLINE |
				     CTXFD_CREATE_TIMEOUT)))
		return -EINVAL;

	ret = ctxfd_deadline_check(args);
	if (ret)
		return ret;
	return ctxfd_value_check(args);
}

static enum ctxfd_kind ctxfd_create_kind(const struct ctxfd_create *args)
{
	if (args->flags & CTXFD_CREATE_VALUE)
		return CTXFD_KIND_VALUE;
	if (args->flags & CTXFD_CREATE_WITHOUT_CANCEL)
		return CTXFD_KIND_WITHOUT_CANCEL;
	return CTXFD_KIND_CANCEL;
}

/*
 * Create a context under @parent (NULL: a root). Everything that can fail
 * happens before the node is linked; once linked, only fd_install() is
 * left, so no partially created context is ever visible.
 */
static long ctxfd_ioctl_create(struct ctxfd_node *parent, void __user *uarg,
			       unsigned int usize)
{
	struct ctxfd_create args;
	struct ctxfd_newfd nfd;
	struct ctxfd_node *node;
	enum ctxfd_kind kind;
	long ret;

	ret = ctxfd_copy_args(&args, sizeof(args), CTXFD_CREATE_SIZE_VER0,
			      uarg, usize);
	if (ret)
		return ret;
	ret = ctxfd_create_check(&args, !parent);
	if (ret)
		return ret;

	kind = ctxfd_create_kind(&args);
	node = ctxfd_node_alloc(parent, kind, 1 + ctxfd_value_weight(&args));
	if (IS_ERR(node))
		return PTR_ERR(node);
	node->no_cancel_on_close =
		!!(args.flags & CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
	/* The file made below; nobody else sees the node before the link. */
	node->cancel_files = kind == CTXFD_KIND_CANCEL;

	ret = ctxfd_deadline_prepare(node, &args);
	if (!ret)
		ret = ctxfd_value_prepare(node, &args);
	if (!ret)
		ret = ctxfd_newfd_prepare(&nfd, node, kind == CTXFD_KIND_CANCEL,
					  !(args.flags & CTXFD_CREATE_NO_CLOEXEC));
	if (ret) {
		ctxfd_node_put(node);
		return ret;
	}

	ctxfd_node_link(node);
	return ctxfd_newfd_install(&nfd);
}

static long ctxfd_ioctl_cancel(struct file *file, void __user *uarg,
			       unsigned int usize)
{
	struct ctxfd_node *node = file->private_data;
	struct ctxfd_cancel args;
	struct ctxfd_msg *msg;
	long ret;

	if (!(file->f_mode & FMODE_WRITE))
		return -EPERM;

	ret = ctxfd_copy_args(&args, sizeof(args), CTXFD_CANCEL_SIZE_VER0,
			      uarg, usize);
	if (ret)
		return ret;
	if (args.flags & ~CTXFD_CANCEL_FLAGS_ALL)
		return -EINVAL;
	ret = ctxfd_cause_check(&args.cause);
	if (ret)
		return ret;

	msg = ctxfd_msg_from_user(&args.cause);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	/*
	 * The first cancel wins: a later one records nothing. The origin is
	 * recorded in the node, under the tree lock, by the one canceler
	 * that finds it active there.
	 */
	if (!ctxfd_node_err(node)) {
		struct ctxfd_why why = {
			.err = ECANCELED,
			.code = args.cause.code,
			.msg = msg,
		};

		mutex_lock(&node->tree->lock);
		if (!ctxfd_node_err(node)) {
			why.origin = ctxfd_origin_here(node,
						       (args.flags & CTXFD_CANCEL_REMOTE) ?
						       CTXFD_REASON_REMOTE :
						       CTXFD_REASON_CANCEL);
			__ctxfd_cancel(node, &why);
		}
		ctxfd_tree_unlock(node->tree);
	}
	ctxfd_msg_put(msg);
	return 0;
}

static long ctxfd_ioctl_watch(struct file *file, void __user *uarg,
			      unsigned int usize)
{
	struct ctxfd_node *node = file->private_data;
	struct ctxfd_watch args;
	struct ctxfd_newfd nfd;
	long ret;

	ret = ctxfd_copy_args(&args, sizeof(args), CTXFD_WATCH_SIZE_VER0,
			      uarg, usize);
	if (ret)
		return ret;
	if (args.flags & ~CTXFD_WATCH_FLAGS_ALL)
		return -EINVAL;

	ctxfd_node_get(node);
	ret = ctxfd_newfd_prepare(&nfd, node, false,
				  !(args.flags & CTXFD_WATCH_NO_CLOEXEC));
	if (ret) {
		ctxfd_node_put(node);
		return ret;
	}
	return ctxfd_newfd_install(&nfd);
}

static long ctxfd_ioctl_info(struct file *file, void __user *uarg,
			     unsigned int usize)
{
	struct ctxfd_node *node = file->private_data;
	struct ctxfd_info info = {};
	bool drained;
	int err;

	if (usize < CTXFD_INFO_SIZE_VER0)
		return -EINVAL;

	/* Drained, then err, which publishes the cause (ctxfd_publish()). */
	drained = ctxfd_node_drained(node);
	err = ctxfd_node_err(node);

	info.mask = CTXFD_INFO_ID | CTXFD_INFO_STATE | CTXFD_INFO_CAUSE |
		    CTXFD_INFO_DEADLINE | CTXFD_INFO_ATTACH | CTXFD_INFO_ORIGIN |
		    CTXFD_INFO_TEARDOWN | CTXFD_INFO_DRAIN;
	info.id = node->id;
	info.parent_id = node->parent ? node->parent->id : 0;
	info.depth = node->depth;
	info.err = err;
	info.nr_children = READ_ONCE(node->nr_children);
	info.nr_attached = READ_ONCE(node->nr_attached);

	if (err)
		info.flags |= CTXFD_INFO_DONE;
	if (drained)
		info.flags |= CTXFD_INFO_DRAINED;
	info.nr_pending = atomic_read(&node->pending);
	ctxfd_report_read(node, &info);
	if (file->f_mode & FMODE_WRITE)
		info.flags |= CTXFD_INFO_CAN_CANCEL;
	if (node->no_cancel_on_close)
		info.flags |= CTXFD_INFO_NO_CANCEL_ON_CLOSE;
	if (node->kind == CTXFD_KIND_VALUE)
		info.flags |= CTXFD_INFO_VALUE;
	if (node->kind == CTXFD_KIND_WITHOUT_CANCEL)
		info.flags |= CTXFD_INFO_WITHOUT_CANCEL;
	if (node->timer)
		info.flags |= CTXFD_INFO_OWN_TIMER;
	info.flags |= ctxfd_merge_info_flags(node);
	if (node->deadline != KTIME_MAX) {
		info.flags |= CTXFD_INFO_HAS_DEADLINE;
		info.deadline_ns = ktime_to_ns(node->deadline);
		info.clockid = node->clockid;
	}

	if (err) {
		const struct ctxfd_origin *o = node->origin;

		info.cause_code = node->cause_code;
		if (node->cause_msg) {
			info.cause_msg_len = node->cause_msg->len;
			memcpy(info.cause_msg, node->cause_msg->text,
			       node->cause_msg->len + 1);
		}
		info.reason = o->reason;
		info.origin_via = node->via;
		info.origin_id = o->id;
		info.origin_pid = ctxfd_origin_pid(o);
		info.done_time_ns = o->time_ns;
		memcpy(info.origin_comm, o->comm, sizeof(info.origin_comm));
	}

	return ctxfd_copy_out(uarg, usize, &info, sizeof(info));
}

/**
 * ctxfd_ioctl - unlocked_ioctl of context files
 * @file: the context file
 * @cmd: the ioctl number, whose size field gives the struct size
 * @arg: pointer to the struct in userspace
 *
 * Return: per ioctl; -ENOTTY for anything unknown.
 */
long ctxfd_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	unsigned int usize = _IOC_SIZE(cmd);

	switch (CTXFD_IOC_BASE(cmd)) {
	case CTXFD_IOC_BASE(CTXFD_IOC_CREATE):
		return ctxfd_ioctl_create(file->private_data, uarg, usize);
	case CTXFD_IOC_BASE(CTXFD_IOC_CANCEL):
		return ctxfd_ioctl_cancel(file, uarg, usize);
	case CTXFD_IOC_BASE(CTXFD_IOC_WATCH):
		return ctxfd_ioctl_watch(file, uarg, usize);
	case CTXFD_IOC_BASE(CTXFD_IOC_INFO):
		return ctxfd_ioctl_info(file, uarg, usize);
	case CTXFD_IOC_BASE(CTXFD_IOC_LOOKUP):
		return ctxfd_ioctl_lookup(file->private_data, uarg, usize);
	case CTXFD_IOC_BASE(CTXFD_IOC_ATTACH):
		return ctxfd_ioctl_attach(file->private_data, uarg, usize);
	case CTXFD_IOC_BASE(CTXFD_IOC_MERGE):
		return ctxfd_ioctl_merge(uarg, usize);
	case CTXFD_IOC_BASE(CTXFD_IOC_PARENTS):
		return ctxfd_ioctl_parents(file->private_data, uarg, usize);
	default:
		return -ENOTTY;
	}
}

/**
 * ctxfd_dev_ioctl - unlocked_ioctl of /dev/ctxfd
 * @file: the control device
 * @cmd: CTXFD_IOC_NEW or CTXFD_IOC_MERGE
 * @arg: pointer to struct ctxfd_create or struct ctxfd_merge in userspace
 *
 * Return: a new context fd, or a negative errno; -ENOTTY for anything
 * else.
 */
long ctxfd_dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	switch (CTXFD_IOC_BASE(cmd)) {
	case CTXFD_IOC_BASE(CTXFD_IOC_NEW):
		return ctxfd_ioctl_create(NULL, (void __user *)arg, _IOC_SIZE(cmd));
	case CTXFD_IOC_BASE(CTXFD_IOC_MERGE):
		return ctxfd_ioctl_merge((void __user *)arg, _IOC_SIZE(cmd));
	default:
		return -ENOTTY;
	}
}
