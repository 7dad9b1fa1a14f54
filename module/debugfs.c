// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs: /sys/kernel/debug/ctxfd/users lists, one line per user with
 * live objects, "<uid> <count>": the contexts and process attachments
 * charged to that user (the count max_nodes_per_user caps). Tests use it
 * to check that every failed or finished operation gives back what it
 * took. It reads the per-user table and costs nothing elsewhere.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "ctxfd.h"

static struct dentry *ctxfd_debugfs_dir;

static int ctxfd_users_open(struct inode *inode, struct file *file)
{
	return single_open(file, ctxfd_users_show, NULL);
}

static const struct file_operations ctxfd_users_fops = {
	.owner		= THIS_MODULE,
	.open		= ctxfd_users_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.release	= single_release,
};

/**
 * ctxfd_debugfs_init - create /sys/kernel/debug/ctxfd/
 *
 * Failure is not fatal (debugfs may be absent); nothing to report.
 */
void ctxfd_debugfs_init(void)
{
	ctxfd_debugfs_dir = debugfs_create_dir("ctxfd", NULL);
	debugfs_create_file("users", 0400, ctxfd_debugfs_dir, NULL,
			    &ctxfd_users_fops);
}

/**
 * ctxfd_debugfs_exit - remove /sys/kernel/debug/ctxfd/
 */
void ctxfd_debugfs_exit(void)
{
	debugfs_remove(ctxfd_debugfs_dir);
}
