// SPDX-License-Identifier: GPL-2.0
/*
 * Cause messages: short, immutable, shared byte strings (Go's Cause).
 */
#include <linux/err.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "ctxfd.h"

/**
 * ctxfd_cause_check - validate a cause given by userspace
 * @cause: the cause, already copied in
 *
 * Return: 0, -E2BIG for a message longer than %CTXFD_CAUSE_MSG_MAX, or
 * -EINVAL for a message pointer without a length.
 */
int ctxfd_cause_check(const struct ctxfd_cause *cause)
{
	if (cause->msg_len > CTXFD_CAUSE_MSG_MAX)
		return -E2BIG;
	if (!cause->msg_len && cause->msg)
		return -EINVAL;
	return 0;
}

/**
 * ctxfd_msg_from_user - copy a cause message in
 * @cause: a cause that passed ctxfd_cause_check()
 *
 * Return: a message with one reference, NULL if @cause has none,
 * ERR_PTR(-EFAULT) for a bad pointer, ERR_PTR(-EINVAL) for a message
 * holding a NUL byte, or ERR_PTR(-ENOMEM).
 */
struct ctxfd_msg *ctxfd_msg_from_user(const struct ctxfd_cause *cause)
{
	u32 len = cause->msg_len;
	struct ctxfd_msg *msg;

	if (!len)
		return NULL;

	msg = kmalloc(struct_size(msg, text, len + 1), CTXFD_GFP);
	if (!msg)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(msg->text, u64_to_user_ptr(cause->msg), len)) {
		kfree(msg);
		return ERR_PTR(-EFAULT);
	}
	if (memchr(msg->text, '\0', len)) {
		kfree(msg);
		return ERR_PTR(-EINVAL);
	}
	msg->text[len] = '\0';
	msg->len = len;
	refcount_set(&msg->ref, 1);
	return msg;
}

/**
 * ctxfd_msg_get - take a reference on a message
 * @msg: the message, or NULL
 *
 * Return: @msg.
 */
struct ctxfd_msg *ctxfd_msg_get(struct ctxfd_msg *msg)
{
	if (msg)
		refcount_inc(&msg->ref);
	return msg;
}

/**
 * ctxfd_msg_put - drop a reference on a message
 * @msg: the message, or NULL
 */
void ctxfd_msg_put(struct ctxfd_msg *msg)
{
	if (msg && refcount_dec_and_test(&msg->ref))
		kfree(msg);
}
