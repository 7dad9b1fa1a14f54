/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the ctxfd selftests: thin wrappers around the raw
 * ioctls that behave like system calls (-1 and errno on failure), so
 * tests read as ASSERT_EQ(-1, t_cancel(fd, 0, NULL)); ASSERT_EQ(EPERM, errno).
 *
 * Include after kselftest_harness.h.
 */
#ifndef CTXFD_TEST_H
#define CTXFD_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/ctxfd.h>

#ifndef KSFT_SKIP
#define KSFT_SKIP 4
#endif

/*
 * Skip the current test, from a test body or a fixture setup. The 6.1
 * harness runs the body even after SKIP() in a setup, so leave the test's
 * child process the way the harness reads as "skipped" (exit 255).
 */
#define CTXFD_SKIP(fmt, ...) SKIP(_exit(255), fmt, ##__VA_ARGS__)

/* Open /dev/ctxfd, or skip the test if the module is not there. */
#define ctxfd_dev_or_skip() ({						\
	int __dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);		\
	if (__dev < 0 && (errno == ENOENT || errno == ENXIO ||		\
			  errno == ENODEV))				\
		CTXFD_SKIP("%s missing: ctxfd.ko not loaded",		\
			   CTXFD_DEVICE);				\
	ASSERT_LE(0, __dev);						\
	__dev;								\
})

/* Skip unless running as root (tests that load modules, set limits). */
#define ctxfd_require_root() do {					\
	if (geteuid() != 0)						\
		CTXFD_SKIP("needs root");				\
} while (0)

static inline int t_ioctl_create(int fd, unsigned long cmd,
				 const struct ctxfd_create *args)
{
	return ioctl(fd, cmd, args);
}

/* A root context with @flags; returns the fd or -1. */
static inline int t_new(int dev, __u64 flags)
{
	struct ctxfd_create args = { .flags = flags };

	return ioctl(dev, CTXFD_IOC_NEW, &args);
}

/* A child of @fd with @flags; returns the fd or -1. */
static inline int t_child(int fd, __u64 flags)
{
	struct ctxfd_create args = { .flags = flags };

	return ioctl(fd, CTXFD_IOC_CREATE, &args);
}

/* A child with a relative timeout of @ns on CLOCK_MONOTONIC. */
static inline int t_child_timeout(int fd, __s64 ns)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_TIMEOUT,
		.deadline_ns = ns,
		.clockid = CLOCK_MONOTONIC,
	};

	return ioctl(fd, CTXFD_IOC_CREATE, &args);
}

/* A values-only child binding @key to @val (@vlen bytes). */
static inline int t_child_value(int fd, const char *key, const void *val,
				__u32 vlen)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_VALUE,
		.key = (uintptr_t)key,
		.key_len = (__u32)strlen(key),
		.value = (uintptr_t)val,
		.value_len = vlen,
	};

	return ioctl(fd, CTXFD_IOC_CREATE, &args);
}

/* Cancel @fd with cause @code and message @msg (NULL: none). */
static inline int t_cancel(int fd, int code, const char *msg)
{
	struct ctxfd_cancel args = {
		.cause = {
			.code = code,
			.msg_len = msg ? (__u32)strlen(msg) : 0,
			.msg = (uintptr_t)msg,
		},
	};

	return ioctl(fd, CTXFD_IOC_CANCEL, &args);
}

/* A watch-only fd on the same context. */
static inline int t_watch(int fd, __u64 flags)
{
	struct ctxfd_watch args = { .flags = flags };

	return ioctl(fd, CTXFD_IOC_WATCH, &args);
}

static inline int t_info(int fd, struct ctxfd_info *info)
{
	memset(info, 0xa5, sizeof(*info));
	return ioctl(fd, CTXFD_IOC_INFO, info);
}

/* The context's err (0 while active), or -1 if INFO fails. */
static inline int t_err(int fd)
{
	struct ctxfd_info info;

	return t_info(fd, &info) ? -1 : info.err;
}

static inline __u64 t_id(int fd)
{
	struct ctxfd_info info;

	return t_info(fd, &info) ? 0 : info.id;
}

static inline int t_nr_children(int fd)
{
	struct ctxfd_info info;

	return t_info(fd, &info) ? -1 : (int)info.nr_children;
}

/* Look @key up from @fd into @buf; returns 0/-1, value length in *len. */
static inline int t_lookup(int fd, const char *key, void *buf, __u32 *len)
{
	struct ctxfd_lookup args = {
		.key = (uintptr_t)key,
		.key_len = (__u32)strlen(key),
		.value = *len ? (uintptr_t)buf : 0,
		.value_len = *len,
	};
	int ret = ioctl(fd, CTXFD_IOC_LOOKUP, &args);

	*len = args.value_len;
	return ret;
}

/* poll() for readability, waiting at most @timeout_ms. */
static inline bool t_readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & POLLIN);
}

static inline bool t_cloexec(int fd)
{
	return fcntl(fd, F_GETFD) & FD_CLOEXEC;
}

static inline __u64 t_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* Raise RLIMIT_NOFILE to at least @n, or return false. */
static inline bool t_raise_nofile(rlim_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return false;
	if (rl.rlim_cur >= n)
		return true;
	if (rl.rlim_max < n)
		rl.rlim_max = n;
	rl.rlim_cur = n;
	return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

/* Deterministic PRNG (xorshift64*) for reproducible random orders. */
static inline __u64 t_rand(__u64 *state)
{
	__u64 x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static inline void t_shuffle(int *a, size_t n, __u64 seed)
{
	__u64 st = seed ? seed : 1;
	size_t i;

	for (i = n - 1; i > 0; i--) {
		size_t j = t_rand(&st) % (i + 1);
		int tmp = a[i];

		a[i] = a[j];
		a[j] = tmp;
	}
}

#endif /* CTXFD_TEST_H */
