// SPDX-License-Identifier: GPL-2.0
/*
 * Extensible ioctl structs: copying them in and out whatever the size the
 * caller was built with (Documentation/process/botching-up-ioctls.rst).
 * Inputs go through copy_struct_from_user() (openat2, clone3): unknown
 * trailing bytes must be zero. Outputs are truncated or zero-filled to
 * the caller's size. Every ioctl handler (ioctl.c, value.c, attach.c)
 * uses these two.
 */
#include <linux/uaccess.h>

#include "ctxfd.h"

/**
 * ctxfd_copy_args - copy an extensible input struct in
 * @karg: kernel copy
 * @ksize: its size
 * @ver0: the first published size; smaller is -EINVAL
 * @uarg: userspace struct
 * @usize: its size, from the ioctl number
 *
 * Return: 0, -EINVAL, -E2BIG for non-zero bytes the kernel does not know,
 * or -EFAULT.
 */
int ctxfd_copy_args(void *karg, size_t ksize, size_t ver0,
		    const void __user *uarg, unsigned int usize)
{
	if (usize < ver0)
		return -EINVAL;
	return copy_struct_from_user(karg, ksize, uarg, usize);
}

/**
 * ctxfd_copy_out - copy an extensible output struct out
 * @uarg: userspace struct
 * @usize: its size; bytes beyond @ksize are zeroed
 * @karg: kernel copy
 * @ksize: its size
 *
 * Return: 0 or -EFAULT.
 */
int ctxfd_copy_out(void __user *uarg, unsigned int usize, const void *karg,
		   size_t ksize)
{
	return copy_struct_to_user(uarg, usize, karg, ksize, NULL);
}
