// SPDX-License-Identifier: GPL-2.0
/*
 * ctxfd: Go's context package as file descriptors.
 *
 * Module entry points, tunables and the /dev/ctxfd control device, whose
 * only ioctl, CTXFD_IOC_NEW, hands out root contexts (the shape of
 * /dev/userfaultfd and USERFAULTFD_IOC_NEW).
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "ctxfd.h"

/* The one place the tracepoints of module/trace.h are defined. */
#define CREATE_TRACE_POINTS
#include "trace.h"

/*
 * A static minor from the "reserved for local use" range (243-254) of
 * Documentation/admin-guide/devices.txt, so that kmod's static-nodes can
 * create /dev/ctxfd at boot and the first open loads the module
 * (MODULE_ALIAS_MISCDEV + "devname:"). If another local driver took it,
 * we fall back to a dynamic minor and lose only autoloading.
 */
#define CTXFD_MINOR	246

static int ctxfd_param_set_depth(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, INT_MAX);
}

static int ctxfd_param_set_nodes(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, INT_MAX);
}

static int ctxfd_param_set_key(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, CTXFD_MAX_KEY_LEN_LIMIT);
}

static int ctxfd_param_set_value(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, CTXFD_MAX_VALUE_LEN_LIMIT);
}

#define CTXFD_PARAM_OPS(name)						\
	static const struct kernel_param_ops ctxfd_param_ops_##name = {	\
		.set = ctxfd_param_set_##name,				\
		.get = param_get_uint,					\
	}

CTXFD_PARAM_OPS(depth);
CTXFD_PARAM_OPS(nodes);
CTXFD_PARAM_OPS(key);
CTXFD_PARAM_OPS(value);

unsigned int ctxfd_max_depth = 1U << 18;
module_param_cb(max_depth, &ctxfd_param_ops_depth, &ctxfd_max_depth, 0644);
MODULE_PARM_DESC(max_depth,
		 "Deepest context (ancestors of a node); beyond: ELOOP (default 262144)");

/* 0 until init sizes it, like epoll's max_user_watches: 4% of RAM. */
unsigned int ctxfd_max_nodes_per_user;
module_param_cb(max_nodes_per_user, &ctxfd_param_ops_nodes,
		&ctxfd_max_nodes_per_user, 0644);
MODULE_PARM_DESC(max_nodes_per_user,
		 "Most 512-byte units (a context, an attachment, or a large value binding: one per 512 bytes) one user may own; beyond: ENOSPC (default: 4% of RAM / 512 bytes)");

unsigned int ctxfd_max_key_len = 256;
module_param_cb(max_key_len, &ctxfd_param_ops_key, &ctxfd_max_key_len, 0644);
MODULE_PARM_DESC(max_key_len,
		 "Longest value key in bytes, at most 4096; beyond: E2BIG (default 256)");

unsigned int ctxfd_max_value_len = 4096;
module_param_cb(max_value_len, &ctxfd_param_ops_value, &ctxfd_max_value_len,
		0644);
MODULE_PARM_DESC(max_value_len,
		 "Longest value in bytes, at most 1 MiB; beyond: E2BIG (default 4096)");

/*
 * Runs deadline expiries, attachment fire and exit work in process
 * context; per CPU, high priority for latency. CPU intensive: one item
 * may walk a subtree of a million nodes (rescheduling as it goes but
 * never sleeping), and concurrency management would otherwise hold every
 * other item queued on that CPU, other trees' deadlines included, until
 * it is over.
 */
struct workqueue_struct *ctxfd_wq;

static const struct file_operations ctxfd_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= ctxfd_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice ctxfd_misc = {
	.minor	= CTXFD_MINOR,
	.name	= "ctxfd",
	.fops	= &ctxfd_dev_fops,
	.mode	= 0666,
};

static int __init ctxfd_init(void)
{
	int ret;

	if (!ctxfd_max_nodes_per_user)
		ctxfd_max_nodes_per_user =
			max_t(u64, 1024, div_u64((u64)totalram_pages() *
						 PAGE_SIZE / 25,
						 CTXFD_NODE_COST));

	ctxfd_wq = alloc_workqueue("ctxfd",
				   WQ_PERCPU | WQ_HIGHPRI | WQ_CPU_INTENSIVE, 0);
	if (!ctxfd_wq)
		return -ENOMEM;

	ret = ctxfd_node_cache_init();
	if (ret)
		goto err_wq;
	ret = ctxfd_members_init();
	if (ret)
		goto err_nodes;

	ret = misc_register(&ctxfd_misc);
	if (ret == -EBUSY) {
		pr_warn("ctxfd: minor %d taken, using a dynamic one (no autoload)\n",
			CTXFD_MINOR);
		ctxfd_misc.minor = MISC_DYNAMIC_MINOR;
		ret = misc_register(&ctxfd_misc);
	}
	if (ret)
		goto err_members;
	ctxfd_debugfs_init();
	return 0;

err_members:
	ctxfd_members_exit();
err_nodes:
	ctxfd_node_cache_exit();
err_wq:
	destroy_workqueue(ctxfd_wq);
	return ret;
}

static void __exit ctxfd_exit(void)
{
	/*
	 * Open context files pin the module (.owner), so every node, timer
	 * and work item is gone by now; what may remain is RCU-deferred.
	 */
	misc_deregister(&ctxfd_misc);
	ctxfd_debugfs_exit();
	destroy_workqueue(ctxfd_wq);
	ctxfd_members_exit();
	ctxfd_users_exit();
	ctxfd_node_cache_exit();
}

module_init(ctxfd_init);
module_exit(ctxfd_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Go-style contexts (cancellation trees, deadlines, values) as file descriptors");
MODULE_AUTHOR("ctxfd developers");
MODULE_VERSION(CTXFD_VERSION);
MODULE_ALIAS_MISCDEV(CTXFD_MINOR);
MODULE_ALIAS("devname:ctxfd");
