// SPDX-License-Identifier: GPL-2.0
/*
 * Per-user accounting: every node is charged to the real uid of the task
 * that created it and the max_nodes_per_user module parameter caps the
 * count (epoll's max_user_watches is the precedent). The count is in
 * units of CTXFD_NODE_COST bytes of kernel memory: a plain context or an
 * attachment is one unit, a context carrying a value binding one more per
 * CTXFD_NODE_COST bytes its binding takes (ctxfd_value_weight()), so the
 * cap bounds the memory one user pins, whatever the contexts carry.
 * Memory itself is charged to the creator's memory cgroup by the
 * allocations.
 *
 * The common path is a lockless RCU lookup and one atomic increment, so
 * independent trees, even of the same user, never contend on a lock; the
 * global lock is taken only when a user's first node is created or its
 * last one freed.
 */
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/hashtable.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "ctxfd.h"

#define CTXFD_USERS_BITS	6

/* ctxfd_users_lock protects insertion into and removal from ctxfd_users. */
static DEFINE_SPINLOCK(ctxfd_users_lock);
static DEFINE_HASHTABLE(ctxfd_users, CTXFD_USERS_BITS);

static struct ctxfd_user *ctxfd_user_find(kuid_t uid)
{
	struct ctxfd_user *user;

	hash_for_each_possible_rcu(ctxfd_users, user, hnode, __kuid_val(uid))
		if (uid_eq(user->uid, uid) && atomic_inc_not_zero(&user->units))
			return user;
	return NULL;
}

/**
 * ctxfd_user_charge - charge an object to the current user
 * @hint: an entry the caller holds a unit of (the parent's), or NULL
 * @units: its weight, at least 1
 *
 * A child is mostly made by its parent's user: then the parent's entry,
 * which cannot go away under it, is charged directly, without the
 * lookup.
 *
 * Return: the user's accounting entry, ERR_PTR(-ENOSPC) if the user's
 * charges would exceed max_nodes_per_user, or ERR_PTR(-ENOMEM).
 */
struct ctxfd_user *ctxfd_user_charge(struct ctxfd_user *hint,
				     unsigned int units)
{
	kuid_t uid = current_uid();
	struct ctxfd_user *user, *fresh;

	if (hint && uid_eq(hint->uid, uid))
		return ctxfd_user_charge_more(hint, units) ? hint :
			ERR_PTR(-ENOSPC);

	rcu_read_lock();
	user = ctxfd_user_find(uid);
	rcu_read_unlock();

	if (!user) {
		fresh = kzalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
		if (!fresh)
			return ERR_PTR(-ENOMEM);
		spin_lock(&ctxfd_users_lock);
		user = ctxfd_user_find(uid);
		if (!user) {
			fresh->uid = uid;
			atomic_set(&fresh->units, 1);
			hash_add_rcu(ctxfd_users, &fresh->hnode, __kuid_val(uid));
			user = fresh;
			fresh = NULL;
		}
		spin_unlock(&ctxfd_users_lock);
		kfree(fresh);
	}
	/* The lookup or the insertion took the first unit. */
	if (units > 1)
		atomic_add(units - 1, &user->units);

	/*
	 * Racing creators may both see the count above the limit and both
	 * fail where one could have succeeded; the cap is never exceeded.
	 */
	if ((unsigned int)atomic_read(&user->units) >
	    READ_ONCE(ctxfd_max_nodes_per_user)) {
		ctxfd_user_uncharge(user, units);
		return ERR_PTR(-ENOSPC);
	}
	return user;
}

/**
 * ctxfd_user_charge_more - charge more units to a user already charged
 * @user: an entry the caller holds a unit of
 * @units: how many more
 *
 * Never sleeps or allocates: the fork probe (members.c) calls it with
 * preemption off.
 *
 * Return: false, and nothing charged, beyond max_nodes_per_user.
 */
bool ctxfd_user_charge_more(struct ctxfd_user *user, unsigned int units)
{
	if ((unsigned int)atomic_add_return(units, &user->units) >
	    READ_ONCE(ctxfd_max_nodes_per_user)) {
		atomic_sub(units, &user->units);
		return false;
	}
	return true;
}

/**
 * ctxfd_user_uncharge - give back what ctxfd_user_charge() took
 * @user: the entry it returned
 * @units: the weight it was given
 */
void ctxfd_user_uncharge(struct ctxfd_user *user, unsigned int units)
{
	/* Leaves at least the last unit: only its holder frees the entry. */
	if (units > 1)
		atomic_sub(units - 1, &user->units);
	if (atomic_dec_and_lock(&user->units, &ctxfd_users_lock)) {
		hash_del_rcu(&user->hnode);
		spin_unlock(&ctxfd_users_lock);
		kfree_rcu(user, rcu);
	}
}

/**
 * ctxfd_users_show - print "<uid> <units>" for every user with objects
 * @m: the seq_file of debugfs's ctxfd/users
 * @unused: unused
 *
 * Return: 0.
 */
int ctxfd_users_show(struct seq_file *m, void *unused)
{
	struct ctxfd_user *user;
	int bkt;

	rcu_read_lock();
	hash_for_each_rcu(ctxfd_users, bkt, user, hnode) {
		int units = atomic_read(&user->units);

		if (units)
			seq_printf(m, "%u %d\n", __kuid_val(user->uid), units);
	}
	rcu_read_unlock();
	return 0;
}

/**
 * ctxfd_users_exit - module exit: wait for entries freed through RCU
 *
 * Every node is gone by then (open files pin the module), so the table
 * is empty.
 */
void ctxfd_users_exit(void)
{
	int bkt;
	struct ctxfd_user *user;

	hash_for_each(ctxfd_users, bkt, user, hnode)
		WARN(1, "ctxfd: uid %u still has %d units\n",
		     __kuid_val(user->uid), atomic_read(&user->units));
	rcu_barrier();
}
