// SPDX-License-Identifier: GPL-2.0
/*
 * Extensible ioctl structs: copying them in and out whatever the size the
 * caller was built with (Documentation/process/botching-up-ioctls.rst).
 * Inputs go through copy_struct_from_user() (openat2, clone3): unknown
 * trailing bytes must be zero. Outputs are truncated or zero-filled to
 * the caller's size. Every ioctl handler (ioctl.c, value.c, attach.c)
 * uses these two.
 */
#include <linux/align.h>
#include <linux/uaccess.h>

#include "ctxfd.h"

/*
 * The biggest input struct today (struct ctxfd_create); all are multiples
 * of 8 bytes. A bigger one would take the general path.
 */
#define CTXFD_ARGS_WORDS_MAX	64

/*
 * The common case, a caller built against the same header as the module:
 * read the struct a word at a time in one user access window, as
 * get_sigset_argpack() (fs/select.c) does for pselect6's argument. For a
 * struct this small that beats copy_from_user()'s string copy, whose
 * start-up costs more than the few loads on hardware, and much more
 * under an emulator: figure 1 in Documentation/bench.rst.
 */
static int ctxfd_copy_words(void *karg, const void __user *uarg, size_t size)
{
	const u64 __user *u = uarg;
	u64 *k = karg;
	size_t i;

	if (!user_read_access_begin(uarg, size))
		return -EFAULT;
	for (i = 0; i < size / sizeof(u64); i++)
		unsafe_get_user(k[i], &u[i], efault);
	user_read_access_end();
	return 0;

efault:
	user_read_access_end();
	return -EFAULT;
}

/**
 * ctxfd_copy_args - copy an extensible input struct in
 * @karg: kernel copy
 * @ksize: its size
 * @ver0: the first published size; smaller is -EINVAL
 * @uarg: userspace struct
 * @usize: its size, from the ioctl number
 *
 * A caller of the same size is read word by word (ctxfd_copy_words()),
 * any other through copy_struct_from_user(); the result is the same.
 *
 * Return: 0, -EINVAL, -E2BIG for non-zero bytes the kernel does not know,
 * or -EFAULT.
 */
int ctxfd_copy_args(void *karg, size_t ksize, size_t ver0,
		    const void __user *uarg, unsigned int usize)
{
	if (usize < ver0)
		return -EINVAL;
	if (usize == ksize && ksize <= CTXFD_ARGS_WORDS_MAX &&
	    IS_ALIGNED(ksize, sizeof(u64)) &&
	    IS_ALIGNED((unsigned long)uarg, sizeof(u64)))
		return ctxfd_copy_words(karg, uarg, ksize);
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
