/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API drift, in one place.
 *
 * ctxfd is written against the newest kernel API it knows; this header
 * fills the gaps for older kernels (WireGuard's compat/compat.h is the
 * model). Supported: Linux 6.1 (Debian bookworm) to 6.12 (bookworm-
 * backports) and later.
 */
#ifndef _CTXFD_COMPAT_H
#define _CTXFD_COMPAT_H

#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/magic.h>
#include <linux/string.h>
#include <linux/version.h>

/*
 * hrtimer_setup() arrived in 6.13, replacing hrtimer_init() + .function.
 *
 * checkpatch warns about LINUX_VERSION_CODE (and about the order of the
 * comparison, taking both sides for constants): an out-of-tree module
 * built for several kernels has no other way to tell them apart, and this
 * header is the one place that does it.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
static inline void hrtimer_setup(struct hrtimer *timer,
				 enum hrtimer_restart (*function)(struct hrtimer *),
				 clockid_t clock_id, enum hrtimer_mode mode)
{
	hrtimer_init(timer, clock_id, mode);
	timer->function = function;
}
#endif

/*
 * The struct pid a pidfd refers to, as an opaque pointer, or NULL if
 * @file does not look like a pidfd. pidfd_pid() is not exported to
 * modules; this mirrors it for the two shapes pidfds have had:
 *  - 6.9+ with pidfs: the inode of a pidfs file, i_private;
 *  - before: an anon-inode file named "[pidfd]", private_data.
 * Callers only compare the result with a struct pid they hold a
 * reference on; they never dereference it.
 */
#ifndef PID_FS_MAGIC
#define PID_FS_MAGIC	0x50494446
#endif

static inline const void *ctxfd_compat_pidfd_pid(struct file *file)
{
	struct inode *inode = file_inode(file);

	if (inode->i_sb->s_magic == PID_FS_MAGIC)
		return inode->i_private;
	if (inode->i_sb->s_magic == ANON_INODE_FS_MAGIC &&
	    !strcmp(file->f_path.dentry->d_name.name, "[pidfd]"))
		return file->private_data;
	return NULL;
}

#endif /* _CTXFD_COMPAT_H */
