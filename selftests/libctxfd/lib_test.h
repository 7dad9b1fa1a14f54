/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the libctxfd selftests.
 *
 * LIBTEST(name) defines a kselftest TEST(name) that skips when the ctxfd
 * module is not loaded and, after the body, checks that the test left no
 * context descriptor open and (in the ASan build) leaked no memory.
 *
 * Timing: TCG, ASan and valgrind make everything 10-1000x slower than
 * native, so tests wait for things that must happen with generous but
 * finite timeouts (LIB_LONG), and use short ones (LIB_SHORT) only to check
 * that something does not happen.
 */
#ifndef LIB_TEST_H
#define LIB_TEST_H

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

#include <ctxfd.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

/* The harness gives every test 30 s; valgrind in TCG needs more. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 600

#define LIB_SHORT	(50 * CTX_MILLISECOND)	/* "does not happen" */
#define LIB_LONG	(60 * CTX_SECOND)	/* "must happen" */

/*
 * Go's testing.Short(): set by the valgrind group (CTX_TEST_SHORT=1),
 * where every thread and syscall costs a lot more, to run fewer
 * iterations of the loops that repeat one behaviour to catch races.
 */
static inline bool lib_short(void)
{
	const char *v = getenv("CTX_TEST_SHORT");

	return v && *v && strcmp(v, "0");
}

/* @n iterations, or a fifth of them (at least 1) in short mode. */
static inline int lib_iterations(int n)
{
	return lib_short() ? (n / 5 ? n / 5 : 1) : n;
}

/* Context descriptors a test may leave open on purpose (ctx_from_env). */
static int lib_fd_allowance;

static inline int64_t lib_now(void)
{
	return (int64_t)t_now_ns(CLOCK_MONOTONIC);
}

/* Open descriptors whose /proc/self/fd link is @what ("anon_inode:[ctxfd]"). */
static inline int lib_count_fds(const char *what)
{
	char path[300], link[128];
	struct dirent *de;
	int n = 0;
	DIR *d = opendir("/proc/self/fd");

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		ssize_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len < 0)
			continue;
		link[len] = '\0';
		if (!strcmp(link, what))
			n++;
	}
	closedir(d);
	return n;
}

static inline int lib_count_ctx_fds(void)
{
	return lib_count_fds("anon_inode:[ctxfd]");
}

/* Threads of this process. */
static inline int lib_thread_count(void)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir("/proc/self/task");

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * Descriptors registered in the library's AfterFunc epoll set, its own
 * wakeup eventfd not counted; 0 if there is no watcher (yet).
 */
static inline int lib_watch_count(void)
{
	char path[300], link[128], line[256];
	struct dirent *de;
	int n = 0;
	DIR *d = opendir("/proc/self/fd");

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		ssize_t len;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len < 0)
			continue;
		link[len] = '\0';
		if (strcmp(link, "anon_inode:[eventpoll]"))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%s", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "tfd:", 4))
				n++;
		fclose(f);
		n--;	/* the watcher's eventfd */
	}
	closedir(d);
	return n;
}

/* Kernel view of a context, through a watch-only fd of its own. */
static inline int lib_info(ctx_t *ctx, struct ctxfd_info *info)
{
	int fd = ctx_fd(ctx, 0);
	int ret;

	if (fd < 0)
		return -1;
	ret = t_info(fd, info);
	close(fd);
	return ret;
}

static inline int lib_nr_children(ctx_t *ctx)
{
	struct ctxfd_info info;

	return lib_info(ctx, &info) ? -1 : (int)info.nr_children;
}

/* Is the context done, without waiting (Go's select with default)? */
static inline bool lib_done_now(ctx_t *ctx)
{
	int fd = ctx_done_fd(ctx);

	return fd >= 0 && t_readable(fd, 0);
}

/* Wait at most @timeout for @ctx's done fd to poll readable. */
static inline bool lib_done_within(ctx_t *ctx, ctx_duration_t timeout)
{
	return ctx_wait(ctx, timeout) > 0;
}

/* ---- a one-shot event, like a Go channel that gets closed ------------- */

struct lib_event {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int count;
};

static inline void lib_event_init(struct lib_event *ev)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_init(&ev->lock, NULL);
	pthread_cond_init(&ev->cond, &attr);
	pthread_condattr_destroy(&attr);
	ev->count = 0;
}

static inline void lib_event_destroy(struct lib_event *ev)
{
	pthread_cond_destroy(&ev->cond);
	pthread_mutex_destroy(&ev->lock);
}

static inline void lib_event_post(struct lib_event *ev)
{
	pthread_mutex_lock(&ev->lock);
	ev->count++;
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->lock);
}

static inline int lib_event_count(struct lib_event *ev)
{
	int n;

	pthread_mutex_lock(&ev->lock);
	n = ev->count;
	pthread_mutex_unlock(&ev->lock);
	return n;
}

/* Wait until the event has been posted @n times; false on timeout. */
static inline bool lib_event_wait_n(struct lib_event *ev, int n,
				    ctx_duration_t timeout)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout / CTX_SECOND;
	ts.tv_nsec += timeout % CTX_SECOND;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&ev->lock);
	while (ev->count < n)
		if (pthread_cond_timedwait(&ev->cond, &ev->lock, &ts) == ETIMEDOUT)
			break;
	ok = ev->count >= n;
	pthread_mutex_unlock(&ev->lock);
	return ok;
}

static inline bool lib_event_wait(struct lib_event *ev, ctx_duration_t timeout)
{
	return lib_event_wait_n(ev, 1, timeout);
}

/* An AfterFunc function that posts the lib_event it is given. */
static inline void lib_post_fn(void *arg)
{
	lib_event_post(arg);
}

/* ---- running example programs -------------------------------------------- */

#ifdef CTX_EXAMPLES_DIR
/*
 * Run lib/examples/@name with @argv (NULL-terminated, without argv[0])
 * and @envp (NULL: ours), collect its stdout into @out (NUL-terminated)
 * and return its wait status, or -1 if it could not run or took longer
 * than @timeout seconds (then it is killed).
 */
static inline int lib_run_example(const char *name, char *const argv[],
				  char *const envp[], char *out, size_t len,
				  int timeout)
{
	char path[512];
	char *args[16];
	int pipefd[2], status, i;
	size_t used = 0;
	int64_t end;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", CTX_EXAMPLES_DIR, name);
	args[0] = path;
	for (i = 0; argv && argv[i] && i < 14; i++)
		args[i + 1] = argv[i];
	args[i + 1] = NULL;
	if (pipe2(pipefd, O_CLOEXEC))
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		if (envp)
			execve(path, args, envp);
		else
			execv(path, args);
		_exit(127);
	}
	close(pipefd[1]);
	end = lib_now() + (int64_t)timeout * CTX_SECOND;
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		int64_t left = end - lib_now();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)(left / CTX_MILLISECOND)) <= 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			close(pipefd[0]);
			out[used] = '\0';
			return -1;
		}
		n = read(pipefd[0], out + used, len - 1 - used);
		if (n <= 0)
			break;
		used += (size_t)n;
		if (used == len - 1)
			break;
	}
	close(pipefd[0]);
	out[used] = '\0';
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}
#endif

/* ---- the test wrapper ------------------------------------------------------ */

static inline void lib_test_begin(struct __test_metadata *_metadata)
{
	if (access(CTXFD_DEVICE, F_OK))
		CTXFD_SKIP("%s missing: ctxfd.ko not loaded", CTXFD_DEVICE);
}

/*
 * Every context the test made must be closed by now. Descriptors retired
 * by the AfterFunc watcher are closed by that thread a moment later, so
 * allow it some time.
 */
static inline void lib_test_end(struct __test_metadata *_metadata)
{
	int64_t end = lib_now() + 10 * CTX_SECOND;
	int n;

	while ((n = lib_count_ctx_fds()) > lib_fd_allowance &&
	       lib_now() < end)
		usleep(10000);
	if (n > lib_fd_allowance) {
		TH_LOG("%d context descriptor(s) left open", n - lib_fd_allowance);
		_metadata->passed = 0;
	}
#ifdef __SANITIZE_ADDRESS__
	if (__lsan_do_recoverable_leak_check()) {
		TH_LOG("LeakSanitizer found leaks");
		_metadata->passed = 0;
	}
#endif
}

#define LIBTEST(name)							\
	static void name##_body(struct __test_metadata *_metadata);	\
	TEST(name)							\
	{								\
		lib_test_begin(_metadata);				\
		name##_body(_metadata);					\
		lib_test_end(_metadata);				\
	}								\
	static void name##_body(struct __test_metadata *_metadata)

#endif /* LIB_TEST_H */
