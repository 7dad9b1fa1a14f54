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

/* Load ctxfd.ko; returns 0 or a negative errno, with a reason in @log. */
static int ctx__load_module(struct ctx_kmod_log *log)
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
	if (ret && !log->text[0])
		snprintf(log->text, sizeof(log->text), "%s",
			 ret == -ENOENT ? "module ctxfd not found" :
			 strerrordesc_np(-ret) ? strerrordesc_np(-ret) : "error");
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
	int fd, ret;

	fd = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno != ENOENT && errno != ENODEV && errno != ENXIO)
		return ctx__fail_errno("%s: cannot open %s", what, CTXFD_DEVICE);

	if (!ctx__can_load_modules())
		return ctx__fail(ENODEV,
				 "%s: %s is missing: the ctxfd kernel module is not loaded; run `sudo modprobe ctxfd`",
				 what, CTXFD_DEVICE);
	ret = ctx__load_module(&log);
	if (ret < 0)
		return ctx__fail(ENODEV,
				 "%s: %s is missing and loading the ctxfd kernel module failed (%s); install it and run `sudo modprobe ctxfd`",
				 what, CTXFD_DEVICE, log.text);
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
