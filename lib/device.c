// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * /dev/ctxfd: roots (children of Background) come from CTXFD_IOC_NEW on
 * the control device, opened once per process and kept (O_CLOEXEC).
 *
 * If the device is missing, the module is not loaded. A caller allowed to
 * load modules (CAP_SYS_MODULE) gets it loaded through libkmod: by name
 * from the running kernel's module tree, or from the file named by the
 * CTXFD_MODULE environment variable (ignored in secure-execution mode, as
 * for setuid programs); otherwise the call fails with -ENODEV and
 * ctx_last_error() says what to run ("sudo modprobe ctxfd").
 *
 * When loading fails (ours, or the kernel's own attempt on the first open
 * of a static /dev/ctxfd node), the message says why, in the form "the
 * ctxfd module could not be loaded: REASON; ADVICE". A kernel that takes
 * only signed modules (Secure Boot lockdown, module.sig_enforce) refuses
 * an unsigned module, or one signed with a key it does not trust, with
 * EKEYREJECTED (or EPERM under lockdown): REASON then names the policy
 * and the module's signer, and ADVICE points to ctxfd-secure-boot(7)
 * (Documentation/admin-guide/secure-boot.rst).
 */
#include <fcntl.h>
#include <libkmod.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "internal.h"

static pthread_mutex_t ctx_dev_lock = PTHREAD_MUTEX_INITIALIZER;
static int ctx_dev_fd = -1;

static void ctx__dev_atfork_prepare(void)
{
	pthread_mutex_lock(&ctx_dev_lock);
}

static void ctx__dev_atfork_release(void)
{
	pthread_mutex_unlock(&ctx_dev_lock);
}

static void ctx__dev_init(void)
{
	pthread_atfork(ctx__dev_atfork_prepare, ctx__dev_atfork_release,
		       ctx__dev_atfork_release);
}

static bool ctx__can_load_modules(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return data[CAP_TO_INDEX(CAP_SYS_MODULE)].effective &
	       CAP_TO_MASK(CAP_SYS_MODULE);
}

struct ctx_kmod_log {
	char text[160];
};

static void ctx__kmod_log(void *data, int priority, const char *file,
			  int line, const char *fn, const char *format,
			  va_list args)
{
	struct ctx_kmod_log *log = data;
	size_t n;

	if (log->text[0])
		return;		/* keep the first message: the cause */
	vsnprintf(log->text, sizeof(log->text), format, args);
	n = strlen(log->text);
	while (n && log->text[n - 1] == '\n')
		log->text[--n] = '\0';
}

/* The manual page on signing the module, for signature failures. */
#define CTX_SIG_DOC "ctxfd-secure-boot(7)"

/* ctxfd.ko as modprobe finds it: installed?, and signed by whom. */
struct ctx_mod_info {
	bool found;
	bool is_signed;
	char signer[40];
};

static void ctx__mod_info(struct kmod_module *mod, struct ctx_mod_info *info)
{
	struct kmod_list *list = NULL, *l;

	if (!kmod_module_get_path(mod))
		return;		/* built in, or an alias without a file */
	info->found = true;
	info->is_signed = false;
	info->signer[0] = '\0';
	if (kmod_module_get_info(mod, &list) < 0)
		return;
	kmod_list_foreach(l, list) {
		const char *key = kmod_module_info_get_key(l);
		const char *value = kmod_module_info_get_value(l);

		if (!strcmp(key, "sig_id") || !strcmp(key, "signer"))
			info->is_signed = true;
		if (!strcmp(key, "signer") && value)
			snprintf(info->signer, sizeof(info->signer), "%s", value);
	}
	kmod_module_info_free_list(list);
}

/* What modprobe would load, without loading it (any user may look). */
static void ctx__lookup_info(struct ctx_mod_info *info)
{
	struct kmod_list *list = NULL, *l;
	struct kmod_ctx *kctx = kmod_new(NULL, NULL);

	if (!kctx)
		return;
	kmod_set_log_priority(kctx, 0);
	if (!kmod_module_new_from_lookup(kctx, "ctxfd", &list)) {
		kmod_list_foreach(l, list) {
			struct kmod_module *m = kmod_module_get_module(l);

			if (!info->found)
				ctx__mod_info(m, info);
			kmod_module_unref(m);
		}
		kmod_module_unref_list(list);
	}
	kmod_unref(kctx);
}

static bool ctx__read_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, (int)n, f) != NULL;
	fclose(f);
	return ok;
}

/*
 * The policy under which the running kernel loads only modules signed
 * with a key it trusts, or NULL: module.sig_enforce (EKEYREJECTED),
 * lockdown (EPERM), or Secure Boot (which Debian's kernels turn into
 * lockdown). Any user may read all three.
 */
static const char *ctx__sig_policy(void)
{
	char buf[128];
	FILE *f;

	if (ctx__read_line("/sys/module/module/parameters/sig_enforce",
			   buf, sizeof(buf)) && buf[0] == 'Y')
		return "module.sig_enforce";
	if (ctx__read_line("/sys/kernel/security/lockdown", buf, sizeof(buf)) &&
	    !strstr(buf, "[none]"))
		return "kernel lockdown";
	/* 4 bytes of attributes, then 1 if Secure Boot is on. */
	f = fopen("/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c", "re");
	if (f) {
		unsigned char v[5];
		bool on = fread(v, 1, sizeof(v), f) == sizeof(v) && v[4] == 1;

		fclose(f);
		if (on)
			return "Secure Boot";
	}
	return NULL;
}

/*
 * Fail with "the ctxfd module could not be loaded: REASON; ADVICE".
 * @err: the load's negative errno, or 0 if it was the kernel's attempt
 * (first open of the node), whose error we cannot see; @detail: libkmod's
 * message or NULL.
 */
static int ctx__fail_load(const char *what, int err, const char *detail,
			  const struct ctx_mod_info *info)
{
	const char *policy = ctx__sig_policy();
	const char *desc = err ? strerrordesc_np(-err) : NULL;
	struct utsname u;
	char why[200];
	bool sig = err == -EKEYREJECTED || err == -ENOKEY ||
		   err == -EKEYEXPIRED || err == -EKEYREVOKED ||
		   (policy && info->found && (err == -EPERM || !err));

	if (sig) {
		if (!policy)
			snprintf(why, sizeof(why),
				 "the kernel does not accept its signature");
		else if (!info->found || !info->is_signed)
			snprintf(why, sizeof(why),
				 "%s: the kernel loads only signed modules; ctxfd.ko is not signed",
				 policy);
		else
			snprintf(why, sizeof(why),
				 "%s: the kernel loads only signed modules; ctxfd.ko is signed by '%s'%s",
				 policy, info->signer[0] ? info->signer : "?",
				 err ? ", a key it does not trust" :
				 ": is that key enrolled?");
		return ctx__fail(ENODEV,
				 "%s: the ctxfd module could not be loaded: %s (%s); see %s",
				 what, desc ? desc : "the kernel refused it", why,
				 CTX_SIG_DOC);
	}
	if (err == -ENOENT || !info->found) {
		if (uname(&u))
			snprintf(u.release, sizeof(u.release), "?");
		return ctx__fail(ENODEV,
				 "%s: the ctxfd module could not be loaded: module ctxfd not found for kernel %s%s%s%s; install it (package ctxfd-dkms) and run `sudo modprobe ctxfd`",
				 what, u.release, detail && *detail ? " (" : "",
				 detail && *detail ? detail : "",
				 detail && *detail ? ")" : "");
	}
	if (!err && access("/sys/module/ctxfd", F_OK) == 0)
		return ctx__fail(ENODEV,
				 "%s: the ctxfd module is loaded, but %s is not its device (see /sys/class/misc/ctxfd/dev)",
				 what, CTXFD_DEVICE);
	return ctx__fail(ENODEV,
			 "%s: the ctxfd module could not be loaded: %s; run `sudo modprobe ctxfd` and see the kernel log (dmesg)",
			 what, detail && *detail ? detail :
			 desc ? desc : "the kernel's request to load it failed");
}

/*
 * Load ctxfd.ko; returns 0 or a negative errno, with libkmod's reason in
 * @log and what was tried in @info.
 */
static int ctx__load_module(struct ctx_kmod_log *log, struct ctx_mod_info *info)
{
	const char *path = secure_getenv("CTXFD_MODULE");
	struct kmod_module *mod = NULL;
	struct kmod_ctx *kctx;
	int ret;

	kctx = kmod_new(NULL, NULL);
	if (!kctx) {
		snprintf(log->text, sizeof(log->text), "libkmod: kmod_new failed");
		return -ENOMEM;
	}
	kmod_set_log_fn(kctx, ctx__kmod_log, log);
	if (path && *path) {
		ret = kmod_module_new_from_path(kctx, path, &mod);
		if (!ret) {
			ctx__mod_info(mod, info);
			ret = kmod_module_insert_module(mod, 0, NULL);
			if (ret == -EEXIST)
				ret = 0;
		}
	} else {
		struct kmod_list *list = NULL, *l;

		ret = kmod_module_new_from_lookup(kctx, "ctxfd", &list);
		if (!ret && !list)
			ret = -ENOENT;
		kmod_list_foreach(l, list) {
			struct kmod_module *m = kmod_module_get_module(l);

			ctx__mod_info(m, info);
			ret = kmod_module_probe_insert_module(m, 0, NULL, NULL,
							      NULL, NULL);
			kmod_module_unref(m);
			if (ret == -EEXIST)
				ret = 0;
			if (!ret)
				break;
		}
		kmod_module_unref_list(list);
	}
	kmod_module_unref(mod);
	kmod_unref(kctx);
	return ret < 0 ? ret : 0;
}

/* Without devtmpfs (or udev), create the node the module registered. */
static void ctx__mknod_from_sysfs(void)
{
	unsigned int major, minor;
	FILE *f = fopen("/sys/class/misc/ctxfd/dev", "re");

	if (!f)
		return;
	if (fscanf(f, "%u:%u", &major, &minor) == 2)
		mknod(CTXFD_DEVICE, S_IFCHR | 0666, makedev(major, minor));
	fclose(f);
}

static int ctx__dev_open(const char *what)
{
	struct ctx_kmod_log log = { "" };
	struct ctx_mod_info info = { false };
	const char *policy;
	int fd, ret;

	fd = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno != ENOENT && errno != ENODEV && errno != ENXIO)
		return ctx__fail_errno("%s: cannot open %s", what, CTXFD_DEVICE);

	if (!ctx__can_load_modules()) {
		int open_err = errno;

		/*
		 * ENODEV/ENXIO: the node exists (made at boot from
		 * modules.devname) and opening it made the kernel try to
		 * load the module, in vain; ENOENT: nobody tried yet.
		 */
		ctx__lookup_info(&info);
		if (open_err != ENOENT)
			return ctx__fail_load(what, 0, NULL, &info);
		policy = ctx__sig_policy();
		if (policy && info.found && !info.is_signed)
			return ctx__fail(ENODEV,
					 "%s: %s is missing: the ctxfd kernel module is not loaded, and could not be (%s: the kernel loads only signed modules; ctxfd.ko is not signed); see %s",
					 what, CTXFD_DEVICE, policy, CTX_SIG_DOC);
		return ctx__fail(ENODEV,
				 "%s: %s is missing: the ctxfd kernel module is not loaded; run `sudo modprobe ctxfd`",
				 what, CTXFD_DEVICE);
	}
	ret = ctx__load_module(&log, &info);
	if (ret < 0)
		return ctx__fail_load(what, ret, log.text, &info);
	fd = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		ctx__mknod_from_sysfs();
		fd = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	}
	if (fd < 0)
		return ctx__fail_errno("%s: loaded the ctxfd module but cannot open %s",
				       what, CTXFD_DEVICE);
	return fd;
}

/* The control device fd, opening it (and loading the module) once. */
static int ctx__dev_get(const char *what)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int fd;

	pthread_once(&once, ctx__dev_init);
	pthread_mutex_lock(&ctx_dev_lock);
	if (ctx_dev_fd < 0)
		ctx_dev_fd = ctx__dev_open(what);
	fd = ctx_dev_fd;
	if (fd < 0)
		ctx_dev_fd = -1;	/* try again next time */
	pthread_mutex_unlock(&ctx_dev_lock);
	return fd;
}

/*
 * The cached descriptor is not /dev/ctxfd any more (the program closed
 * it behind our back): forget it, without closing what is not ours.
 */
static void ctx__dev_forget(int fd)
{
	pthread_mutex_lock(&ctx_dev_lock);
	if (ctx_dev_fd == fd)
		ctx_dev_fd = -1;
	pthread_mutex_unlock(&ctx_dev_lock);
}

int ctx__new_root(struct ctxfd_create *args, const char *what)
{
	int tries;

	for (tries = 0; tries < 2; tries++) {
		int dev = ctx__dev_get(what);
		int fd;

		if (dev < 0)
			return dev;
		fd = ioctl(dev, CTXFD_IOC_NEW, args);
		if (fd >= 0)
			return fd;
		if (errno != EBADF && errno != ENOTTY)
			break;
		ctx__dev_forget(dev);
	}
	return ctx__fail_errno("%s: CTXFD_IOC_NEW", what);
}
