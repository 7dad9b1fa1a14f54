// SPDX-License-Identifier: GPL-2.0
/*
 * Values: Go's WithValue and ctx.Value.
 *
 * A node carries at most one immutable key -> value binding. A lookup
 * walks ->parent pointers from the node to the root, which are immutable
 * and pinned by the references every child holds on its parent, so it
 * needs no lock and no recursion, however deep the chain.
 */
#include <linux/err.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "ctxfd.h"

/* Nodes visited between two cond_resched() calls in a lookup. */
#define CTXFD_LOOKUP_BATCH	1024

/**
 * ctxfd_value_check - validate the value fields of a create request
 * @args: the request
 *
 * With @value_len 0, @value 0 binds nil and any other @value binds the
 * empty value "" (older kernels refused the latter, so no valid request
 * changed meaning when "" arrived).
 *
 * Return: 0, -EINVAL for value fields without CTXFD_CREATE_VALUE or an
 * empty key, -E2BIG beyond the max_key_len or max_value_len module
 * parameters.
 */
int ctxfd_value_check(const struct ctxfd_create *args)
{
	if (!(args->flags & CTXFD_CREATE_VALUE))
		return (args->key || args->value || args->key_len ||
			args->value_len) ? -EINVAL : 0;
	if (!args->key_len)
		return -EINVAL;
	if (args->key_len > READ_ONCE(ctxfd_max_key_len) ||
	    args->value_len > READ_ONCE(ctxfd_max_value_len))
		return -E2BIG;
	return 0;
}

/* Bytes of the object that holds a create request's binding. */
static size_t ctxfd_value_size(const struct ctxfd_create *args)
{
	struct ctxfd_value *value;

	return struct_size(value, data, (size_t)args->key_len + args->value_len);
}

/**
 * ctxfd_value_weight - extra per-user charge of a create request's binding
 * @args: the create request, checked by ctxfd_value_check()
 *
 * A binding smaller than CTXFD_NODE_COST rides free on its node's unit;
 * a larger one counts one unit per CTXFD_NODE_COST bytes of the slab
 * object that holds it, so a user at max_nodes_per_user pins about the
 * same memory whatever its contexts carry (a maximal 256-byte key and
 * 4 KiB value sit in an 8 KiB object: 16 more units).
 *
 * Return: the number of units, 0 without a binding.
 */
unsigned int ctxfd_value_weight(const struct ctxfd_create *args)
{
	if (!(args->flags & CTXFD_CREATE_VALUE))
		return 0;
	return kmalloc_size_roundup(ctxfd_value_size(args)) / CTXFD_NODE_COST;
}

/**
 * ctxfd_value_prepare - copy a new node's binding in
 * @node: the node, not yet linked
 * @args: the create request, checked by ctxfd_value_check()
 *
 * Return: 0, -EFAULT or -ENOMEM.
 */
int ctxfd_value_prepare(struct ctxfd_node *node,
			const struct ctxfd_create *args)
{
	struct ctxfd_value *value;

	if (!(args->flags & CTXFD_CREATE_VALUE))
		return 0;

	value = kmalloc(ctxfd_value_size(args), CTXFD_GFP);
	if (!value)
		return -ENOMEM;
	value->key_len = args->key_len;
	value->value_len = args->value_len;
	value->nil = !args->value_len && !args->value;
	if (copy_from_user(value->data, u64_to_user_ptr(args->key),
			   args->key_len) ||
	    copy_from_user(value->data + args->key_len,
			   u64_to_user_ptr(args->value), args->value_len)) {
		kfree(value);
		return -EFAULT;
	}
	node->value = value;
	return 0;
}

/**
 * ctxfd_value_free - free a node's binding
 * @node: the node being destroyed
 */
void ctxfd_value_free(struct ctxfd_node *node)
{
	kfree(node->value);
}

static bool ctxfd_value_matches(const struct ctxfd_value *value,
				const u8 *key, u32 key_len)
{
	return value && value->key_len == key_len &&
	       !memcmp(value->data, key, key_len);
}

/* Nearest node from @node to the root that binds @key, or NULL. */
static struct ctxfd_node *ctxfd_value_find(struct ctxfd_node *node,
					   const u8 *key, u32 key_len)
{
	unsigned int batch = 0;

	for (; node; node = node->parent) {
		if (ctxfd_value_matches(node->value, key, key_len))
			return node;
		if (++batch == CTXFD_LOOKUP_BATCH) {
			batch = 0;
			cond_resched();
		}
	}
	return NULL;
}

/**
 * ctxfd_ioctl_lookup - CTXFD_IOC_LOOKUP
 * @node: the context looked up from
 * @uarg: struct ctxfd_lookup in userspace
 * @usize: its size
 *
 * @result_flags is an output: whatever the caller left in it is ignored
 * (a struct reused from an earlier lookup works as it is).
 *
 * Return: 0 with the value, its owner and whether it is nil copied out,
 * -ENOENT if no ancestor binds the key, -ERANGE (with the needed length
 * copied out) if the buffer is too small, -EINVAL, -E2BIG or -EFAULT for
 * bad input.
 */
long ctxfd_ioctl_lookup(struct ctxfd_node *node, void __user *uarg,
			unsigned int usize)
{
	struct ctxfd_lookup args;
	struct ctxfd_node *owner;
	const struct ctxfd_value *value;
	u8 *key;
	long ret;

	ret = ctxfd_copy_args(&args, sizeof(args), CTXFD_LOOKUP_SIZE_VER0,
			      uarg, usize);
	if (ret)
		return ret;
	if (args.flags || args.__reserved || !args.key_len ||
	    (!args.value_len && args.value))
		return -EINVAL;
	if (args.key_len > READ_ONCE(ctxfd_max_key_len))
		return -E2BIG;

	key = memdup_user(u64_to_user_ptr(args.key), args.key_len);
	if (IS_ERR(key))
		return PTR_ERR(key);

	owner = ctxfd_value_find(node, key, args.key_len);
	kfree(key);
	if (!owner)
		return -ENOENT;

	value = owner->value;
	ret = 0;
	if (value->value_len > args.value_len)
		ret = -ERANGE;
	else if (copy_to_user(u64_to_user_ptr(args.value),
			      value->data + value->key_len, value->value_len))
		return -EFAULT;
	args.value_len = value->value_len;
	args.owner_id = owner->id;
	args.result_flags = value->nil ? CTXFD_LOOKUP_NIL : CTXFD_LOOKUP_VALUE;
	if (ctxfd_copy_out(uarg, usize, &args, sizeof(args)))
		return -EFAULT;
	return ret;
}
