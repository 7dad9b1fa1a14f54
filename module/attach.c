// SPDX-License-Identifier: GPL-2.0
/*
 * Process-tree teardown: signal attached processes when a context is done.
 *
 * CTXFD_IOC_ATTACH ties a process (by pid + pidfd) to a context. When the
 * context is done, a work item sends the chosen signal to the process
 * and, if asked, to every descendant; after the grace period a second
 * work item sends SIGKILL to whatever is left, walking the tree again
 * until a walk finds nothing alive that is not already dying, so forks
 * racing with the teardown leave no survivor.
 *
 * Security: the caller must be allowed to signal the process when it
 * attaches, and every signal is checked again when it is sent, against
 * the attacher's credentials saved at attach time and the target's
 * current ones, with kill(2)'s rules: matching real/effective and
 * real/saved uids (through kill_pid_usb_asyncio(), which also asks the
 * LSMs), or CAP_KILL in the target's user namespace. kthreads and init
 * are never signalled. We hold struct pid references, never numbers, so
 * a reused pid is never hit.
 *
 * Lifetime: an attachment holds a reference on its node (so a node whose
 * fds are all closed still tears its processes down when an ancestor is
 * canceled), on the struct pid, on the saved credentials and on the
 * module. It waits on the process's pidfd wait queue and ends when the
 * process exits. Exactly one of the fire path and the exit path owns an
 * attachment: whichever takes it off the node's list, under the tree lock.
 */
#include <linux/cred.h>
#include <linux/capability.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ctxfd.h"

/* The longest grace period accepted: a day. */
#define CTXFD_GRACE_MAX_NS	(86400ULL * NSEC_PER_SEC)

/* SIGKILL walks after which a teardown gives up on stragglers. */
#define CTXFD_KILL_ROUNDS	64

enum ctxfd_attach_state {
	CTXFD_ATTACH_ARMED,	/* on the node's list */
	CTXFD_ATTACH_FIRING,	/* taken by the fire path */
	CTXFD_ATTACH_DETACHED,	/* taken by the exit path */
};

/**
 * struct ctxfd_attachment - a process to signal when a node is done
 * @entry: in @node->attachments while armed. Under the tree lock.
 * @state: enum ctxfd_attach_state. Under the tree lock.
 * @node: the context; holds a reference.
 * @pid: the process (thread group); holds a reference.
 * @cred: the attacher's credentials at attach time; holds a reference.
 * @user: who is charged for the attachment.
 * @exit_wait: on @pid->wait_pidfd; woken when the process exits.
 * @exit_work: detaches on exit, in process context.
 * @fire_work: sends @signal, in process context.
 * @kill_work: sends SIGKILL after the grace period.
 * @signal: immutable.
 * @grace: jiffies between @signal and SIGKILL, 0 for none; immutable.
 * @flags: CTXFD_ATTACH_*; immutable.
 */
struct ctxfd_attachment {
	struct list_head entry;
	int state;
	struct ctxfd_node *node;
	struct pid *pid;
	const struct cred *cred;
	struct ctxfd_user *user;
	struct wait_queue_entry exit_wait;
	struct work_struct exit_work;
	struct work_struct fire_work;
	struct delayed_work kill_work;
	int signal;
	unsigned long grace;
	u64 flags;
};

/* kill(2)'s uid rule (kill_ok_by_cred() without the capability). */
static bool ctxfd_uid_may_signal(const struct cred *cred,
				 const struct cred *tcred)
{
	return uid_eq(cred->euid, tcred->suid) ||
	       uid_eq(cred->euid, tcred->uid) ||
	       uid_eq(cred->uid, tcred->suid) ||
	       uid_eq(cred->uid, tcred->uid);
}

/* Processes ctxfd never signals. */
static bool ctxfd_untouchable(struct task_struct *t)
{
	return (t->flags & PF_KTHREAD) || is_global_init(t);
}

/*
 * Send @sig to the thread group of @t as @cred would with kill(2), or
 * just check that it may when @sig is 0. Caller holds rcu_read_lock()
 * and runs with @cred as its current credentials (the CAP_KILL check
 * reads current_cred()).
 *
 * Return: 0, -EPERM, or -ESRCH.
 */
static int ctxfd_signal_task(const struct cred *cred, struct task_struct *t,
			     int sig)
{
	const struct cred *tcred = __task_cred(t);
	sigval_t none = { .sival_ptr = NULL };

	if (ctxfd_untouchable(t))
		return -EPERM;
	if (ctxfd_uid_may_signal(cred, tcred))
		return kill_pid_usb_asyncio(sig, 0, none, task_tgid(t), cred);
	if (ns_capable_noaudit(tcred->user_ns, CAP_KILL))
		return sig ? send_sig_info(sig, SEND_SIG_PRIV, t) : 0;
	return -EPERM;
}

/* Is @p below @leader's thread group? Caller holds rcu_read_lock(). */
static bool ctxfd_is_descendant(struct task_struct *p,
				struct task_struct *leader)
{
	while (p->pid && !is_global_init(p)) {
		p = rcu_dereference(p->real_parent);
		if (same_thread_group(p, leader))
			return true;
	}
	return false;
}

/* Has the thread group exited (pidfd_poll()'s test)? */
static bool ctxfd_pid_exited(struct pid *pid)
{
	struct task_struct *task;
	bool exited;

	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_TGID);
	exited = !task || (READ_ONCE(task->exit_state) &&
			   thread_group_empty(task));
	rcu_read_unlock();
	return exited;
}

static bool ctxfd_dying(struct task_struct *p)
{
	return p->exit_state ||
	       (READ_ONCE(p->signal->flags) & SIGNAL_GROUP_EXIT);
}

/*
 * One walk: signal the attached process (unless DESCENDANTS_ONLY) and,
 * if asked, every descendant. Processes already dying are skipped when
 * @sig is SIGKILL. The task list is RCU-protected and new tasks are added
 * at its tail, so a walk also meets children forked while it runs.
 *
 * Return: how many processes were signalled.
 */
static unsigned int ctxfd_attach_walk(struct ctxfd_attachment *att, int sig)
{
	bool tree = att->flags & (CTXFD_ATTACH_DESCENDANTS |
				  CTXFD_ATTACH_DESCENDANTS_ONLY);
	const struct cred *old;
	struct task_struct *leader, *p;
	unsigned int n = 0;

	old = override_creds(att->cred);
	rcu_read_lock();
	leader = pid_task(att->pid, PIDTYPE_TGID);
	if (!leader)
		goto out;
	if (!(att->flags & CTXFD_ATTACH_DESCENDANTS_ONLY) &&
	    !(sig == SIGKILL && ctxfd_dying(leader)) &&
	    !ctxfd_signal_task(att->cred, leader, sig))
		n++;
	if (!tree)
		goto out;
	for_each_process(p) {
		if (p == leader || p->exit_state ||
		    (sig == SIGKILL && ctxfd_dying(p)) ||
		    !ctxfd_is_descendant(p, leader))
			continue;
		if (!ctxfd_signal_task(att->cred, p, sig))
			n++;
	}
out:
	rcu_read_unlock();
	revert_creds(old);
	return n;
}

/* SIGKILL walks until one finds nothing alive and not already dying. */
static void ctxfd_attach_kill_all(struct ctxfd_attachment *att)
{
	int round;

	for (round = 0; round < CTXFD_KILL_ROUNDS; round++) {
		if (!ctxfd_attach_walk(att, SIGKILL))
			return;
		msleep(1);
	}
	pr_warn_ratelimited("ctxfd: context %llu: processes still forking after %d SIGKILL rounds\n",
			    att->node->id, CTXFD_KILL_ROUNDS);
}

static void ctxfd_attach_free(struct ctxfd_attachment *att)
{
	put_pid(att->pid);
	put_cred(att->cred);
	ctxfd_node_put(att->node);
	ctxfd_user_uncharge(att->user);
	kfree(att);
	module_put(THIS_MODULE);
}

/* The fire path is done with @att: stop the exit path, then free. */
static void ctxfd_attach_release(struct ctxfd_attachment *att)
{
	remove_wait_queue(&att->pid->wait_pidfd, &att->exit_wait);
	cancel_work_sync(&att->exit_work);
	ctxfd_attach_free(att);
}

static void ctxfd_attach_kill_work(struct work_struct *work)
{
	struct ctxfd_attachment *att = container_of(to_delayed_work(work),
						    struct ctxfd_attachment,
						    kill_work);

	ctxfd_attach_kill_all(att);
	ctxfd_attach_release(att);
}

static void ctxfd_attach_fire_work(struct work_struct *work)
{
	struct ctxfd_attachment *att = container_of(work,
						    struct ctxfd_attachment,
						    fire_work);

	if (att->signal == SIGKILL) {
		ctxfd_attach_kill_all(att);
	} else {
		ctxfd_attach_walk(att, att->signal);
		if (att->grace) {
			queue_delayed_work(ctxfd_wq, &att->kill_work,
					   att->grace);
			return;
		}
	}
	ctxfd_attach_release(att);
}

static void ctxfd_attach_exit_work(struct work_struct *work)
{
	struct ctxfd_attachment *att = container_of(work,
						    struct ctxfd_attachment,
						    exit_work);
	struct ctxfd_node *node = att->node;
	bool mine = false;

	mutex_lock(&node->tree->lock);
	if (att->state == CTXFD_ATTACH_ARMED) {
		list_del_init(&att->entry);
		WRITE_ONCE(node->nr_attached, node->nr_attached - 1);
		att->state = CTXFD_ATTACH_DETACHED;
		mine = true;
	}
	mutex_unlock(&node->tree->lock);

	/* Otherwise the fire path owns it, and waits for us to return. */
	if (mine) {
		remove_wait_queue(&att->pid->wait_pidfd, &att->exit_wait);
		ctxfd_attach_free(att);
	}
}

/* Called under pid->wait_pidfd's lock when the thread group has exited. */
static int ctxfd_attach_wake(struct wait_queue_entry *wait, unsigned int mode,
			     int sync, void *key)
{
	struct ctxfd_attachment *att = container_of(wait,
						    struct ctxfd_attachment,
						    exit_wait);

	queue_work(ctxfd_wq, &att->exit_work);
	return 0;
}

/**
 * ctxfd_attach_fire - the node is done: start tearing its processes down
 * @node: the node; caller holds its tree lock
 *
 * O(attachments) and non-blocking: the signals go out from work items.
 */
void ctxfd_attach_fire(struct ctxfd_node *node)
{
	struct ctxfd_attachment *att, *tmp;

	lockdep_assert_held(&node->tree->lock);
	list_for_each_entry_safe(att, tmp, &node->attachments, entry) {
		list_del_init(&att->entry);
		att->state = CTXFD_ATTACH_FIRING;
		queue_work(ctxfd_wq, &att->fire_work);
	}
	WRITE_ONCE(node->nr_attached, 0);
}

/*
 * The struct pid @file refers to if it looks like a pidfd, else NULL.
 * Only ever compared with a pointer we hold, never dereferenced: no
 * helper to resolve a pidfd is exported to modules.
 */
static const void *ctxfd_pidfd_pid(struct file *file)
{
	return ctxfd_compat_pidfd_pid(file);
}

/* Resolve args->pid in the caller's namespace; check args->pidfd. */
static struct pid *ctxfd_attach_get_pid(const struct ctxfd_attach *args)
{
	struct file *file;
	struct pid *pid;
	const void *fpid;

	file = fget(args->pidfd);
	if (!file)
		return ERR_PTR(-EBADF);
	fpid = ctxfd_pidfd_pid(file);
	if (!fpid) {
		fput(file);
		return ERR_PTR(-EBADF);
	}
	pid = find_get_pid(args->pid);
	fput(file);
	if (!pid)
		return ERR_PTR(-ESRCH);
	if (fpid != pid) {
		put_pid(pid);
		return ERR_PTR(-ESRCH);
	}
	return pid;
}

/* May the caller attach the process: alive, not init/kthread, killable? */
static int ctxfd_attach_check(struct pid *pid)
{
	struct task_struct *task;
	int ret;

	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_TGID);
	if (!task)
		ret = -ESRCH;
	else if (ctxfd_untouchable(task) ||
		 task == task_active_pid_ns(current)->child_reaper)
		ret = -EPERM;
	else
		ret = ctxfd_signal_task(current_cred(), task, 0);
	rcu_read_unlock();
	return ret;
}

/**
 * ctxfd_ioctl_attach - CTXFD_IOC_ATTACH
 * @node: the context
 * @uarg: struct ctxfd_attach in userspace
 * @usize: its size
 *
 * Return: 0; -EINVAL for bad flags, signal, grace or reserved fields;
 * -EBADF if @pidfd is not a pidfd; -ESRCH if the process is gone or the
 * pidfd refers to another one; -EPERM if the caller may not signal it
 * (or it is init or a kthread); -ENOSPC at the per-user limit; -ENOMEM.
 */
long ctxfd_ioctl_attach(struct ctxfd_node *node, void __user *uarg,
			unsigned int usize)
{
	struct ctxfd_attachment *att;
	struct ctxfd_attach args;
	struct ctxfd_user *user;
	struct pid *pid;
	long ret;

	ret = ctxfd_copy_args(&args, sizeof(args), CTXFD_ATTACH_SIZE_VER0,
			      uarg, usize);
	if (ret)
		return ret;
	if ((args.flags & ~CTXFD_ATTACH_FLAGS_ALL) || args.__reserved ||
	    args.signal < 1 || args.signal > _NSIG - 1 || args.pid <= 0 ||
	    args.grace_ns > CTXFD_GRACE_MAX_NS ||
	    (args.signal == SIGKILL && args.grace_ns))
		return -EINVAL;

	pid = ctxfd_attach_get_pid(&args);
	if (IS_ERR(pid))
		return PTR_ERR(pid);
	ret = ctxfd_attach_check(pid);
	if (ret)
		goto err_pid;

	user = ctxfd_user_charge();
	if (IS_ERR(user)) {
		ret = PTR_ERR(user);
		goto err_pid;
	}
	att = kzalloc(sizeof(*att), GFP_KERNEL_ACCOUNT);
	if (!att) {
		ret = -ENOMEM;
		goto err_user;
	}

	INIT_LIST_HEAD(&att->entry);
	att->pid = pid;
	att->cred = get_current_cred();
	att->user = user;
	att->signal = args.signal;
	att->grace = args.grace_ns ? nsecs_to_jiffies(args.grace_ns) + 1 : 0;
	att->flags = args.flags;
	INIT_WORK(&att->exit_work, ctxfd_attach_exit_work);
	INIT_WORK(&att->fire_work, ctxfd_attach_fire_work);
	INIT_DELAYED_WORK(&att->kill_work, ctxfd_attach_kill_work);
	init_waitqueue_func_entry(&att->exit_wait, ctxfd_attach_wake);
	ctxfd_node_get(node);
	att->node = node;
	__module_get(THIS_MODULE);

	/*
	 * Everything below happens under the tree lock, which the exit path
	 * takes first: neither it nor the fire path can see the attachment
	 * half set up, and it is certainly alive for the exit check.
	 */
	mutex_lock(&node->tree->lock);
	add_wait_queue(&pid->wait_pidfd, &att->exit_wait);
	if (ctxfd_node_err(node)) {
		att->state = CTXFD_ATTACH_FIRING;
		queue_work(ctxfd_wq, &att->fire_work);
	} else {
		att->state = CTXFD_ATTACH_ARMED;
		list_add_tail(&att->entry, &node->attachments);
		WRITE_ONCE(node->nr_attached, node->nr_attached + 1);
	}
	/* Exited before we queued ourselves: nobody will wake us. */
	if (ctxfd_pid_exited(pid))
		queue_work(ctxfd_wq, &att->exit_work);
	mutex_unlock(&node->tree->lock);
	return 0;

err_user:
	ctxfd_user_uncharge(user);
err_pid:
	put_pid(pid);
	return ret;
}
