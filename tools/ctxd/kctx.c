// SPDX-License-Identifier: GPL-2.0
/*
 * The ctxfd calls ctxd makes, straight on the uapi (ctxd holds raw
 * descriptors and has no use for libctxfd's objects). Each returns what
 * the system call does, as a negative errno on failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "ctxd.h"

int kctx_dev(void)
{
	static int dev = -1;

	if (dev < 0)
		dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	return dev < 0 ? -errno : dev;
}

int kctx_info(int fd, struct ctxfd_info *info)
{
	memset(info, 0, sizeof(*info));
	return ioctl(fd, CTXFD_IOC_INFO, info) < 0 ? -errno : 0;
}

bool kctx_done(int fd)
{
	struct ctxfd_info info;

	return kctx_info(fd, &info) == 0 && (info.flags & CTXFD_INFO_DONE);
}

static void kctx_fill_cause(struct ctxfd_cause *cause, int code,
			    const char *msg)
{
	size_t len = msg ? strlen(msg) : 0;

	if (len > CTXFD_CAUSE_MSG_MAX)
		len = CTXFD_CAUSE_MSG_MAX;
	cause->code = code;
	cause->msg_len = (__u32)len;
	cause->msg = len ? (uintptr_t)msg : 0;
}

int kctx_cancel(int fd, int code, const char *msg)
{
	struct ctxfd_cancel args = { .flags = CTXFD_CANCEL_REMOTE };

	/*
	 * Every cancel ctxd makes relays what happened elsewhere (another
	 * host's cancel, its lease, etcd out of reach, the link ended): the
	 * context and its subtree report the reason "remote" (origin.c). A
	 * module older than that flag refuses it with EINVAL: then cancel
	 * without it (the reason reads "cancel").
	 */
	kctx_fill_cause(&args.cause, code, msg);
	if (ioctl(fd, CTXFD_IOC_CANCEL, &args) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	args.flags = 0;
	return ioctl(fd, CTXFD_IOC_CANCEL, &args) < 0 ? -errno : 0;
}

int kctx_root(int64_t timeout_ns, int code, const char *msg)
{
	struct ctxfd_create args = { 0 };
	int dev = kctx_dev(), fd;

	if (dev < 0)
		return dev;
	if (timeout_ns >= 0) {
		args.flags = CTXFD_CREATE_TIMEOUT;
		args.deadline_ns = timeout_ns;
		args.clockid = CLOCK_MONOTONIC;
		if (code || msg)
			kctx_fill_cause(&args.deadline_cause, code, msg);
	}
	fd = ioctl(dev, CTXFD_IOC_NEW, &args);
	return fd < 0 ? -errno : fd;
}

int kctx_value_child(int fd, const struct kctx_value *v)
{
	/*
	 * nil: value 0 and length 0; "": any other pointer and length 0
	 * (struct ctxfd_create). A kernel without "" refuses that with
	 * EINVAL: it gets nil, all it can bind.
	 */
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_VALUE,
		.key = (uintptr_t)v->key,
		.key_len = (__u32)v->key_len,
		.value = v->nil ? 0 : (uintptr_t)(v->val ? v->val : ""),
		.value_len = (__u32)v->val_len,
	};
	int ret = ioctl(fd, CTXFD_IOC_CREATE, &args);

	if (ret < 0 && errno == EINVAL && !v->nil && !v->val_len) {
		args.value = 0;
		ret = ioctl(fd, CTXFD_IOC_CREATE, &args);
	}
	return ret < 0 ? -errno : ret;
}

int kctx_child(int fd, uint64_t flags)
{
	struct ctxfd_create args = { .flags = flags };
	int ret = ioctl(fd, CTXFD_IOC_CREATE, &args);

	return ret < 0 ? -errno : ret;
}

int kctx_watch(int fd)
{
	struct ctxfd_watch args = { 0 };
	int ret = ioctl(fd, CTXFD_IOC_WATCH, &args);

	return ret < 0 ? -errno : ret;
}

int kctx_lookup(int fd, const char *key, size_t key_len, char **val,
		size_t *val_len, bool *nil)
{
	size_t cap = 256;
	char *buf = NULL;

	for (;;) {
		struct ctxfd_lookup args = { 0 };
		char *nbuf = realloc(buf, cap + 1);

		if (!nbuf) {
			free(buf);
			return -ENOMEM;
		}
		buf = nbuf;
		args.key = (uintptr_t)key;
		args.key_len = (__u32)key_len;
		args.value = (uintptr_t)buf;
		args.value_len = (__u32)cap;
		if (ioctl(fd, CTXFD_IOC_LOOKUP, &args) == 0) {
			buf[args.value_len] = '\0';
			*val = buf;
			*val_len = args.value_len;
			/*
			 * Neither flag: a kernel before "" (every empty
			 * binding is nil).
			 */
			*nil = (args.result_flags & CTXFD_LOOKUP_NIL) ||
			       (!args.value_len &&
				!(args.result_flags & CTXFD_LOOKUP_VALUE));
			return 0;
		}
		if (errno != ERANGE || args.value_len <= cap) {
			int ret = -errno;

			free(buf);
			return ret;
		}
		cap = args.value_len;
	}
}

int64_t kctx_remaining_ns(const struct ctxfd_info *info)
{
	struct timespec ts;
	int64_t now;

	clock_gettime(info->clockid == CLOCK_BOOTTIME ? CLOCK_BOOTTIME :
		      CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	return info->deadline_ns > now ? info->deadline_ns - now : 0;
}
