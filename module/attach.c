// SPDX-License-Identifier: GPL-2.0
/*
 * Process attachments: signal processes when a context is done.
 *
 * CTXFD_IOC_ATTACH ties a process (by pid + pidfd) to a context. Its
 * member set (members.c) is made at attach time: the process and, with a
 * descendants flag, everything forked below it from then on. When the
 * context is done, a work item sends the chosen signal to the members,
 * children before parents, and after the grace period a second one
 * freezes the members and SIGKILLs them (teardown.c). A SIGKILL
 * attachment freezes and kills at once.
 *
 * Permission is kill(2)'s, checked at attach time with the caller's
 * credentials and again for every signal with the credentials saved at
 * attach time and the target's current ones (teardown.c). kthreads and
 * init cannot be attached; the init of the caller's pid namespace only
 * with CTXFD_ATTACH_DESCENDANTS_ONLY, which spares it.
 *
 * Lifetime: an attachment holds a reference on its node (so a node whose
 * fds are all closed still tears its processes down when an ancestor is
 * canceled), on the struct pid, on the saved credentials and on the
 * module, and owns its member set. It waits on the process's pidfd wait
 * queue and ends when the thread group has exited. Who owns it, step by
 * step (see also ctxfd.h):
 *
 *  1. ctxfd_ioctl_attach() until it is published under the tree lock;
 *  2. armed (on the node's list): the tree lock; whoever takes it off the
 *     list under that lock owns it from then on;
 *  3. the fire path (ctxfd_attach_fire(), then fire_work and kill_work),
 *     once queued or chained behind another (below): nobody else touches
 *     it, not even the ioctl that queued it for a done context; it
 *     frees it;
 *  4. or the exit path (exit_work), when the process exited while armed;
 *     it frees it.
 *
 * The exit work is queued at most once: whoever queues it takes the wait
 * entry off the pidfd queue first, under that queue's lock. The fire path
 * takes the entry off and waits for the exit work before it frees.
 *
 * Order: a node's attachments fire one after the other, in the order
 * they were made. __ctxfd_attach_start() queues an attachment's fire_work
 * only if none of the node's is still to signal; otherwise it chains it
 * (@fire_next) behind the last of them (node->fire_tail), whose
 * fire_work queues it once its own signals are sent. That holds for
 * the node's armed attachments when it becomes done, and for one made
 * on a node already done. Users rely on it: "SIGTERM, then SIGCONT"
 * attached to one stopped process must not become SIGCONT then SIGTERM,
 * or a process that stops again when continued (a background job
 * rereading the terminal) would stop with SIGTERM pending, never to act
 * on it. Work items on two CPUs (or two kworkers of one, the queue being
 * CPU_INTENSIVE) would run in any order.
 */
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "ctxfd.h"
#include "trace.h"

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
 * @members: the processes to tear down; owned.
 * @exit_wait: on @pid->wait_pidfd until the thread group exits.
 * @exit_work: detaches on exit, in process context.
 * @fire_work: sends @signal, in process context.
 * @fire_next: the node's next attachment to fire, once this one has
 *	signalled; NULL (from kzalloc) for the last. Under
 *	@node->wqh.lock.
 * @kill_work: freezes and kills after the grace period.
 * @signal: immutable.
 * @grace_ns: nanoseconds between @signal and SIGKILL, 0 for none;
 *	immutable.
 * @kill_at: when the grace period ends (CLOCK_MONOTONIC). A time, not
 *	jiffies: jiffies can lag the clock by a tick or more (the CPU that
 *	updates them is late), and a grace period counted in them ended up
 *	to a tick early. Owned by the fire path.
 * @poll: next look at the processes during the grace period, or while
 *	waiting for them to exit (jiffies). Owned by the fire path.
 * @phase: enum ctxfd_attach_phase. Owned by the fire path.
 * @flags: CTXFD_ATTACH_*; immutable.
 */
struct ctxfd_attachment {
	struct list_head entry;
	int state;
	struct ctxfd_node *node;
	struct pid *pid;
	const struct cred *cred;
	struct ctxfd_user *user;
	struct ctxfd_members *members;
	struct wait_queue_entry exit_wait;
	struct work_struct exit_work;
	struct work_struct fire_work;
	struct ctxfd_attachment *fire_next;
	struct delayed_work kill_work;
	int signal;
	u64 grace_ns;
	ktime_t kill_at;
	unsigned long poll;
	int phase;
	u64 flags;
};

/* What kill_work does next (struct ctxfd_attachment::phase). */
enum ctxfd_attach_phase {
	CTXFD_ATTACH_GRACE,	/* signalled: SIGKILL at the end of the grace */
	CTXFD_ATTACH_WAIT,	/* done signalling: wait for every exit */
};

/*
 * Queue the exit work, once: take the wait entry off the pidfd queue.
 * Caller holds @att->pid->wait_pidfd.lock.
 */
static void __ctxfd_attach_exited(struct ctxfd_attachment *att)
{
	if (!list_empty(&att->exit_wait.entry)) {
		list_del_init(&att->exit_wait.entry);
		queue_work(ctxfd_wq, &att->exit_work);
	}
}

/* Take the wait entry off the pidfd queue, if it is still there. */
static void ctxfd_attach_unwait(struct ctxfd_attachment *att)
{
	wait_queue_head_t *wqh = &att->pid->wait_pidfd;
	unsigned long flags;

	spin_lock_irqsave(&wqh->lock, flags);
	list_del_init(&att->exit_wait.entry);
	spin_unlock_irqrestore(&wqh->lock, flags);
}

/*
 * The pidfd wait queue is woken for other reasons too (ptrace stops,
 * reparenting of a zombie): act only on the exit of the whole group.
 * Called with the queue's lock held.
 */
static int ctxfd_attach_wake(struct wait_queue_entry *wait, unsigned int mode,
			     int sync, void *key)
{
	struct ctxfd_attachment *att = container_of(wait,
						    struct ctxfd_attachment,
						    exit_wait);

	if (ctxfd_pid_exited(att->pid))
		__ctxfd_attach_exited(att);
	return 0;
}

static void ctxfd_attach_free(struct ctxfd_attachment *att)
{
	struct ctxfd_node *node = att->node;

	ctxfd_members_destroy(att->members);
	put_pid(att->pid);
	put_cred(att->cred);
	ctxfd_user_uncharge(att->user, 1);
	kfree(att);
	/* Last: the node may be drained now. */
	ctxfd_node_unpend(node);
	ctxfd_node_put(node);
	module_put(THIS_MODULE);
}

/*
 * The fire path is done with @att: its processes have all exited. Stop
 * the kicks and the exit path, account the teardown, then free.
 */
static void ctxfd_attach_release(struct ctxfd_attachment *att)
{
	trace_ctxfd_teardown_done(att->node, pid_nr(att->pid));
	ctxfd_members_on_empty(att->members, NULL, NULL);
	ctxfd_attach_unwait(att);
	cancel_work_sync(&att->exit_work);
	/* We run in kill_work: drop a kick queued meanwhile. */
	cancel_delayed_work(&att->kill_work);
	ctxfd_report_end(att->node);
	ctxfd_attach_free(att);
}

/*
 * While an attachment waits for its processes (a grace period, or their
 * exits), it looks again now and then (10 ms, doubling up to a second),
 * and is kicked at once when the exit probe sees its last member exit
 * (members.c) or the attached process's pidfd reports its exit.
 */
#define CTXFD_GRACE_POLL_MIN	msecs_to_jiffies(10)
#define CTXFD_GRACE_POLL_MAX	HZ

/* Kick from the member set: its last live member exited. Atomic context. */
static void ctxfd_attach_kick(void *data)
{
	struct ctxfd_attachment *att = data;

	mod_delayed_work(ctxfd_wq, &att->kill_work, 0);
}

/*
 * Look again in a while (at most at @until, jiffies); true if queued,
 * false if every member has exited already.
 */
static bool ctxfd_attach_wait(struct ctxfd_attachment *att,
			      unsigned long until)
{
	unsigned long now = jiffies, wait;

	if (!ctxfd_teardown_alive(att->members))
		return false;
	wait = min_t(unsigned long, att->poll, CTXFD_GRACE_POLL_MAX);
	if (time_before(until, now + wait))
		wait = time_after(until, now) ? until - now : 0;
	att->poll = min(att->poll * 2, (unsigned long)CTXFD_GRACE_POLL_MAX);
	queue_delayed_work(ctxfd_wq, &att->kill_work, wait);
	return true;
}

/*
 * A set that tracking could not keep complete (members.c) is completed by
 * a walk over every process, charged to the attacher's memory cgroup.
 */
static void ctxfd_attach_complete(struct ctxfd_attachment *att)
{
	if (READ_ONCE(att->members->lost))
		ctxfd_members_walk(att->members);
}

/* Freeze and kill what is left; account it in the report. */
static void ctxfd_attach_kill(struct ctxfd_attachment *att)
{
	unsigned int killed, left;

	ctxfd_attach_complete(att);
	killed = ctxfd_teardown_kill(att->members, att->cred);
	left = ctxfd_teardown_count_left(att->members);
	trace_ctxfd_teardown_kill(att->node, pid_nr(att->pid), killed, left);
	ctxfd_report_add(att->node, 0, killed, left);
}

/*
 * kill_work: from the moment fire_work queues it, it alone runs the
 * teardown and ends the attachment. A work item never runs on two CPUs
 * at once, so the fields the fire path owns (@phase, @poll, @kill_at)
 * need no lock, and a kick (from the exit probe or the exit work) only
 * makes it run again, never alongside itself: ending the attachment from
 * anywhere else while a kick had it running would free it twice.
 */
static void ctxfd_attach_kill_work(struct work_struct *work)
{
	struct ctxfd_attachment *att = container_of(to_delayed_work(work),
						    struct ctxfd_attachment,
						    kill_work);

	/* Kicked when the last member exits; set again on every run. */
	ctxfd_members_on_empty(att->members, ctxfd_attach_kick, att);
	if (att->phase == CTXFD_ATTACH_GRACE) {
		/*
		 * Until the grace period ends, or nobody is left to kill.
		 * Woken before its end by the clock (jiffies lagging), it
		 * waits again for what is left, plus a tick.
		 */
		s64 left = ktime_to_ns(ktime_sub(att->kill_at, ktime_get()));

		if (left > 0 &&
		    ctxfd_attach_wait(att, jiffies + nsecs_to_jiffies(left) + 1))
			return;
		if (ctxfd_teardown_alive(att->members))
			ctxfd_attach_kill(att);
		/* Then wait for every exit. */
		att->phase = CTXFD_ATTACH_WAIT;
		att->poll = CTXFD_GRACE_POLL_MIN;
	}
	if (!ctxfd_attach_wait(att, jiffies + CTXFD_GRACE_POLL_MAX))
		ctxfd_attach_release(att);
}

/*
 * @att's signals are out: the node's next attachment may fire. Until
 * then, the node's fire_tail may be @att, which keeps @att alive: only
 * kill_work, queued after this, frees it.
 */
static void ctxfd_attach_pass_on(struct ctxfd_attachment *att)
{
	struct ctxfd_node *node = att->node;
	struct ctxfd_attachment *next;

	spin_lock_irq(&node->wqh.lock);
	next = att->fire_next;
	if (node->fire_tail == att)
		node->fire_tail = NULL;
	spin_unlock_irq(&node->wqh.lock);
	if (next)
		queue_work(ctxfd_wq, &next->fire_work);
}

/*
 * Signal (or kill), start the node's next attachment, then hand this one
 * over to kill_work.
 */
static void ctxfd_attach_fire_work(struct work_struct *work)
{
	struct ctxfd_attachment *att = container_of(work,
						    struct ctxfd_attachment,
						    fire_work);
	unsigned int n;

	/* From now on members stay in the set when they exit. */
	ctxfd_members_set_state(att->members, CTXFD_MEMBERS_FIRING);
	ctxfd_report_fire(att->node);
	att->phase = CTXFD_ATTACH_WAIT;
	if (att->signal == SIGKILL) {
		ctxfd_attach_kill(att);
	} else {
		ctxfd_attach_complete(att);
		n = ctxfd_teardown_signal(att->members, att->cred, att->signal);
		trace_ctxfd_teardown_signal(att->node, pid_nr(att->pid),
					    att->signal, n);
		ctxfd_report_add(att->node, n, 0, 0);
		if (att->grace_ns) {
			att->phase = CTXFD_ATTACH_GRACE;
			att->kill_at = ktime_add_ns(ktime_get(), att->grace_ns);
		}
	}
	att->poll = CTXFD_GRACE_POLL_MIN;
	ctxfd_attach_pass_on(att);
	/* Last: kill_work may end the attachment at once. */
	queue_delayed_work(ctxfd_wq, &att->kill_work, 0);
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

	/*
	 * Otherwise the fire path owns it, and waits for us (release) before
	 * it frees it: tell it that the attached process is gone, in case
	 * the exit probe could not (a set that is not tracked). The wait
	 * entry is off the queue already: whoever queued us took it.
	 */
	if (mine)
		ctxfd_attach_free(att);
	else
		ctxfd_members_kick(att->members);
}

/*
 * Start the teardown of @att, after the node's attachments that have not
 * signalled yet. Caller holds the tree lock and @att->node->wqh.lock, and
 * touches @att no more: once queued, or once the node's fire_tail can
 * queue it, the fire work may free it.
 */
static void __ctxfd_attach_start(struct ctxfd_attachment *att)
{
	struct ctxfd_node *node = att->node;
	struct ctxfd_attachment *tail = node->fire_tail;

	lockdep_assert_held(&node->wqh.lock);
	att->state = CTXFD_ATTACH_FIRING;
	node->fire_tail = att;
	if (tail)
		tail->fire_next = att;
	else
		queue_work(ctxfd_wq, &att->fire_work);
}

/**
 * ctxfd_attach_fire - the node is done: start tearing its processes down
 * @node: the node; caller holds its tree lock
 *
 * Queues the teardowns; the processes are signalled from work items, in
 * attach order (see the top of the file). Their members are known
 * already (members.c): a supervisor whose exit is what canceled the
 * context does not take its children along when exit_notify() reparents
 * them before the work runs.
 */
void ctxfd_attach_fire(struct ctxfd_node *node)
{
	struct ctxfd_attachment *att, *tmp;

	lockdep_assert_held(&node->tree->lock);
	/* Counts @node->attachments, in the node's hot cachelines. */
	if (!node->nr_attached)
		return;
	spin_lock_irq(&node->wqh.lock);
	list_for_each_entry_safe(att, tmp, &node->attachments, entry) {
		list_del_init(&att->entry);
		__ctxfd_attach_start(att);
	}
	spin_unlock_irq(&node->wqh.lock);
	WRITE_ONCE(node->nr_attached, 0);
}

/* Resolve args->pid in the caller's namespace; check args->pidfd. */
static struct pid *ctxfd_attach_get_pid(const struct ctxfd_attach *args)
{
	const void *fpid;
	struct file *file;
	struct pid *pid;

	file = fget(args->pidfd);
	if (!file)
		return ERR_PTR(-EBADF);
	/* Only compared, never dereferenced: see compat.h. */
	fpid = ctxfd_compat_pidfd_pid(file);
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

/*
 * May the caller attach the process: alive, not init/kthread, killable?
 * The init of the caller's pid namespace may be attached with
 * CTXFD_ATTACH_DESCENDANTS_ONLY, which never signals it: a container's
 * init (ctxrun as PID 1) tears down the rest of its namespace that way.
 */
static int ctxfd_attach_check(struct pid *pid, u64 flags)
{
	struct task_struct *task;
	int ret = 0;

	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_TGID);
	if (!task || ctxfd_task_gone(task))
		ret = -ESRCH;
	else if (ctxfd_task_untouchable(task) ||
		 (task == task_active_pid_ns(current)->child_reaper &&
		  !(flags & CTXFD_ATTACH_DESCENDANTS_ONLY)))
		ret = -EPERM;
	rcu_read_unlock();
	if (ret)
		return ret;
	/* kill(pid, 0): the kernel's permission check, LSMs included. */
	return kill_pid(pid, 0, 0);
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
 * (or it is init or a kthread, or the init of the caller's pid namespace
 * without CTXFD_ATTACH_DESCENDANTS_ONLY); -ENOSPC at the per-user limit;
 * -ENOMEM.
 */
long ctxfd_ioctl_attach(struct ctxfd_node *node, void __user *uarg,
			unsigned int usize)
{
	struct ctxfd_report *report = NULL;
	struct ctxfd_attachment *att;
	struct ctxfd_attach args;
	struct ctxfd_user *user;
	wait_queue_head_t *wqh;
	struct pid *pid;
	long ret;

	ret = ctxfd_copy_args(&args, sizeof(args), CTXFD_ATTACH_SIZE_VER0,
			      uarg, usize);
	if (ret)
		return ret;
	if ((args.flags & ~CTXFD_ATTACH_FLAGS_ALL) || args.__reserved ||
	    args.signal < 1 || !valid_signal(args.signal) || args.pid <= 0 ||
	    args.grace_ns > CTXFD_ATTACH_GRACE_MAX_NS ||
	    (args.signal == SIGKILL && args.grace_ns))
		return -EINVAL;

	pid = ctxfd_attach_get_pid(&args);
	if (IS_ERR(pid))
		return PTR_ERR(pid);
	ret = ctxfd_attach_check(pid, args.flags);
	if (ret)
		goto err_pid;

	/* The node's teardown report, made by its first attachment. */
	if (!ctxfd_node_report(node)) {
		report = kzalloc(sizeof(*report), CTXFD_GFP);
		if (!report) {
			ret = -ENOMEM;
			goto err_pid;
		}
	}
	user = ctxfd_user_charge(NULL, 1);
	if (IS_ERR(user)) {
		ret = PTR_ERR(user);
		goto err_pid;
	}
	att = kzalloc(sizeof(*att), CTXFD_GFP);
	if (!att) {
		ret = -ENOMEM;
		goto err_user;
	}
	att->members = ctxfd_members_create(pid, args.flags, user);
	if (IS_ERR(att->members)) {
		ret = PTR_ERR(att->members);
		goto err_att;
	}

	INIT_LIST_HEAD(&att->entry);
	att->pid = pid;
	att->cred = get_current_cred();
	att->user = user;
	att->signal = args.signal;
	att->grace_ns = args.grace_ns;
	att->flags = args.flags;
	INIT_WORK(&att->exit_work, ctxfd_attach_exit_work);
	INIT_WORK(&att->fire_work, ctxfd_attach_fire_work);
	INIT_DELAYED_WORK(&att->kill_work, ctxfd_attach_kill_work);
	init_waitqueue_func_entry(&att->exit_wait, ctxfd_attach_wake);
	ctxfd_node_get(node);
	ctxfd_node_pend(node);
	att->node = node;
	__module_get(THIS_MODULE);

	/*
	 * Everything below happens under the tree lock, which the exit path
	 * takes first: neither it nor the fire path can see the attachment
	 * half set up.
	 */
	wqh = &pid->wait_pidfd;
	mutex_lock(&node->tree->lock);
	ctxfd_report_install(node, &report);
	trace_ctxfd_attach(node, pid_nr(pid), args.signal, args.flags,
			   args.grace_ns);
	add_wait_queue(wqh, &att->exit_wait);
	/* Exited before we queued ourselves: nobody will wake us. */
	spin_lock_irq(&wqh->lock);
	if (ctxfd_pid_exited(pid))
		__ctxfd_attach_exited(att);
	spin_unlock_irq(&wqh->lock);
	/* Against the deadline's fast path: ctxfd_node_finish_leaf(). */
	spin_lock_irq(&node->wqh.lock);
	if (node->err) {
		/*
		 * The fire work owns @att from here on and may free it (and
		 * drop @pid) before we return: touch neither again.
		 */
		__ctxfd_attach_start(att);
		spin_unlock_irq(&node->wqh.lock);
	} else {
		att->state = CTXFD_ATTACH_ARMED;
		list_add_tail(&att->entry, &node->attachments);
		WRITE_ONCE(node->nr_attached, node->nr_attached + 1);
		spin_unlock_irq(&node->wqh.lock);
	}
	mutex_unlock(&node->tree->lock);
	kfree(report);
	return 0;

err_att:
	kfree(att);
err_user:
	ctxfd_user_uncharge(user, 1);
err_pid:
	put_pid(pid);
	kfree(report);
	return ret;
}
