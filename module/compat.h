/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API drift, in one place.
 *
 * ctxfd is written against the newest kernel API (Linux 7.3, Debian's
 * trixie-backports kernel, is the newest it is tested on: make check
 * KERNEL=newest); this header alone maps that API onto older kernels, down
 * to Linux 6.1 (Debian bookworm). WireGuard's compat/compat.h is the
 * model: one shim per API change, each naming the release and the
 * upstream commit that made the change, so that a shim goes away with the
 * last supported kernel that needs it. Nothing else in module/ tests
 * kernel versions.
 *
 * checkpatch warns about LINUX_VERSION_CODE (and about the order of the
 * comparisons, taking both sides for constants): an out-of-tree module
 * built for several kernels has no other way to tell them apart, and this
 * header is the one place that does it.
 *
 * Changes that need no shim, noted so nobody adds one:
 *  - override_creds()/revert_creds(): since 6.14 (a51a1d6bcaa3 "cred:
 *    remove old {override,revert}_creds() helpers", 95c54bc81791 "cred:
 *    return old creds from revert_creds_light()") override_creds() takes
 *    no reference and revert_creds() drops none and returns the overriding
 *    creds; before, the pair took and dropped one. ctxfd's
 *    "old = override_creds(cred); ... revert_creds(old);" balances either
 *    way, as it holds its own reference on cred throughout. The
 *    scoped_with_creds() guard of 6.19 is not used: 6.1 has no cleanup.h
 *    to build it on.
 *  - no_llseek is gone since 6.12 (cb787f4ac0c2 "[tree-wide] finally
 *    take no_llseek out"): ctxfd uses noop_llseek, which every supported
 *    kernel has.
 */
#ifndef _CTXFD_COMPAT_H
#define _CTXFD_COMPAT_H

#include <linux/dcache.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/magic.h>
#include <linux/pid.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/workqueue.h>

/*
 * hrtimer_setup(): Linux 6.13, 908a1d775422 ("hrtimers: Introduce
 * hrtimer_setup() to replace hrtimer_init()"); hrtimer_init() is gone
 * since. Before, a timer was initialized, then given its function.
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
 * copy_struct_to_user(): Linux 6.13, 424a55a4a908 ("uaccess: add
 * copy_struct_to_user helper"), the output twin of copy_struct_from_user():
 * copies min(usize, ksize) bytes, zeroes the rest of a larger user struct,
 * and tells whether non-zero bytes did not fit into a smaller one.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
static inline __must_check int copy_struct_to_user(void __user *dst,
						   size_t usize,
						   const void *src,
						   size_t ksize,
						   bool *ignored_trailing)
{
	size_t n = min(usize, ksize);

	if (ignored_trailing)
		*ignored_trailing = ksize > usize &&
				    memchr_inv(src + n, 0, ksize - n);
	if (usize > ksize && clear_user(dst + n, usize - n))
		return -EFAULT;
	return copy_to_user(dst, src, n) ? -EFAULT : 0;
}
#endif

/*
 * WQ_PERCPU: Linux 6.17, 930c2ea566af ("workqueue: Add new WQ_PERCPU
 * flag"), ahead of making unbound the default; 7.3's alloc_workqueue()
 * warns (a WARNING in the kernel log) when a workqueue names neither
 * WQ_PERCPU nor WQ_UNBOUND. Before 6.17, no flag meant per-CPU: 0.
 *
 * WQ_PERCPU is an enum constant, so #ifndef cannot see it, and stable
 * kernels have it too (6.12.97 and later): <linux/workqueue.h>, included
 * above, has been read by now, and on such a kernel this macro only
 * shadows the constant, for the same meaning.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 17, 0)
#define WQ_PERCPU 0
#endif

/*
 * ctxfd_compat_pidfd_pid - the struct pid a pidfd refers to
 * @file: any file
 *
 * The kernel's pidfd_pid() and pidfd_get_pid() are not exported to
 * modules on any supported kernel (checked in the Module.symvers of
 * Debian's 6.1.0-57, 6.12.95+deb12 and 7.3.4+deb13: no pidfd_* nor pidfs_*
 * symbol at all), so this mirrors pidfd_pid() for the shape pidfds have
 * on the kernel it is built for:
 *  - since Linux 6.9, cb12fd8e0dab ("pidfd: add pidfs") and 9d9539db8638
 *    ("pidfs: remove config option"): an inode of the pidfs pseudo
 *    filesystem (every one of which is a pidfd's), the struct pid in
 *    i_private;
 *  - before: an anonymous-inode file named "[pidfd]", the struct pid in
 *    private_data.
 * An O_PATH file reopened from a pidfd (its f_op is empty_fops, so
 * pidfd_pid() refuses it) never gets here: callers take the file with
 * fget(), which does not return O_PATH files.
 *
 * Return: the struct pid, as an opaque pointer, or NULL if @file is not a
 * pidfd. Callers only compare it with a struct pid they hold a reference
 * on; they never dereference it.
 */
#ifndef PID_FS_MAGIC
#define PID_FS_MAGIC	0x50494446
#endif

static inline const void *ctxfd_compat_pidfd_pid(struct file *file)
{
	struct inode *inode = file_inode(file);

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	if (inode->i_sb->s_magic == PID_FS_MAGIC)
		return inode->i_private;
#else
	if (inode->i_sb->s_magic == ANON_INODE_FS_MAGIC &&
	    !strcmp(file->f_path.dentry->d_name.name, "[pidfd]"))
		return file->private_data;
#endif
	return NULL;
}

/*
 * The sched_process_exit tracepoint passes group_dead (the last thread of
 * the group is exiting) since Linux 6.16, "exit: move and extend
 * sched_process_exit() tracepoint"; before, it took the task alone. The
 * probe (members.c) is written for the new prototype; on older kernels
 * CTXFD_COMPAT_EXIT_PROBE() wraps it in one of the old shape that works
 * group_dead out the way do_exit() did just before the tracepoint
 * (signal->live has already dropped to zero for the last thread).
 * members.c checks the result against <trace/events/sched.h> at build
 * time, so a wrong guess here fails the build instead of a probe call.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 16, 0)
#define CTXFD_COMPAT_EXIT_PROBE(name, fn)				\
static void name(void *data, struct task_struct *p, bool group_dead)	\
{									\
	fn(data, p, group_dead);					\
}
#else
#define CTXFD_COMPAT_EXIT_PROBE(name, fn)				\
static void name(void *data, struct task_struct *p)			\
{									\
	fn(data, p, !atomic_read(&p->signal->live));			\
}
#endif

#endif /* _CTXFD_COMPAT_H */
