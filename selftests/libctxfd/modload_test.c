// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * When /dev/ctxfd is missing, libctxfd loads the module if the caller may
 * (CAP_SYS_MODULE), through libkmod, and otherwise fails with -ENODEV and
 * a ctx_last_error() message that says what to run.
 *
 * Root only. Each test unloads ctxfd first (skipping if something still
 * uses it) and loads it back from the build tree afterwards, whatever
 * happened: build/kmod/$(uname -r)/ctxfd.ko, found from /proc/self/exe
 * (<repo>/build/selftests/<group>/modload_test).
 */
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "lib_test.h"

#define SYS_MODULE "/sys/module/ctxfd"

static char ko[4096];

static bool find_ko(void)
{
	char exe[2048];
	struct utsname u;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int i;

	if (n <= 0 || uname(&u))
		return false;
	exe[n] = '\0';
	for (i = 0; i < 3; i++) {	/* up to <repo>/build */
		char *slash = strrchr(exe, '/');

		if (!slash)
			return false;
		*slash = '\0';
	}
	snprintf(ko, sizeof(ko), "%s/kmod/%s/ctxfd.ko", exe, u.release);
	return access(ko, R_OK) == 0;
}

static bool loaded(void)
{
	return access(SYS_MODULE, F_OK) == 0;
}

static int load(void)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = (int)syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return ret < 0 && errno == EEXIST ? 0 : ret;
}

/* Is ctxfd installed where modprobe and libkmod look by name? */
static bool installed(void)
{
	char path[512], line[1024];
	struct utsname u;
	bool found = false;
	FILE *f;

	if (uname(&u))
		return false;
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep", u.release);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "/ctxfd.ko") != NULL;
	fclose(f);
	return found;
}

static void drop_cap_sys_module(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	syscall(SYS_capget, &hdr, data);
	data[CAP_TO_INDEX(CAP_SYS_MODULE)].effective &= ~CAP_TO_MASK(CAP_SYS_MODULE);
	syscall(SYS_capset, &hdr, data);
}

FIXTURE(unloaded) {
	int unused;
};

FIXTURE_SETUP(unloaded)
{
	ctxfd_require_root();
	if (!find_ko())
		CTXFD_SKIP("no module in the build tree to load back");
	unsetenv("CTXFD_MODULE");
	/*
	 * Attachments fired by earlier programs hold the module until their
	 * processes are gone or their grace periods over: give them 30 s.
	 */
	for (int tries = 300; loaded() && tries > 0 &&
	     syscall(SYS_delete_module, "ctxfd", O_NONBLOCK) &&
	     (errno == EBUSY || errno == EAGAIN || errno == EWOULDBLOCK); tries--)
		usleep(100000);
	if (loaded() && syscall(SYS_delete_module, "ctxfd", O_NONBLOCK)) {
		if (errno == EBUSY || errno == EAGAIN || errno == EWOULDBLOCK)
			CTXFD_SKIP("ctxfd is still in use after 30 s: cannot unload it");
		ASSERT_EQ(0, errno) TH_LOG("delete_module: %s", strerror(errno));
	}
	ASSERT_FALSE(loaded());
	ASSERT_NE(0, access(CTXFD_DEVICE, F_OK));
}

FIXTURE_TEARDOWN(unloaded)
{
	/* Put the module back for whatever runs next. */
	if (!loaded() && load())
		TH_LOG("cannot load %s back: %s", ko, strerror(errno));
	lib_test_end(_metadata);
}

TEST_F(unloaded, UnprivilegedCallerIsToldWhatToRun)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		ctx_cancel_t *cancel;
		ctx_t *c;
		int ret, bad = 0;

		drop_cap_sys_module();
		ret = ctx_with_cancel(ctx_background(), &c, &cancel);
		if (ret != -ENODEV)
			bad |= 1;
		if (!strstr(ctx_last_error(), "sudo modprobe ctxfd"))
			bad |= 2;
		if (!strstr(ctx_last_error(), "not loaded"))
			bad |= 4;
		if (loaded())
			bad |= 8;
		if (bad)
			fprintf(stderr, "# %d: \"%s\"\n", ret, ctx_last_error());
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(unloaded, PrivilegedCallerLoadsTheModule)
{
	ctx_cancel_t *cancel;
	ctx_t *c;

	setenv("CTXFD_MODULE", ko, 1);
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel))
		TH_LOG("%s", ctx_last_error());
	EXPECT_TRUE(loaded());
	EXPECT_EQ(0, ctx_err(c));
	ctx_cancel(cancel);
	EXPECT_EQ(CTX_CANCELED, ctx_err(c));
	ctx_cancel_release(cancel);
	ctx_release(c);
}

TEST_F(unloaded, ModuleThatCannotBeFoundIsExplained)
{
	ctx_t *c;
	int ret;

	ret = ctx_with_value(ctx_background(), "k", "v", 1, &c);
	if (installed()) {
		/* modprobe-able: loaded by name. */
		ASSERT_EQ(0, ret) TH_LOG("%s", ctx_last_error());
		EXPECT_TRUE(loaded());
		ctx_release(c);
		return;
	}
	EXPECT_EQ(-ENODEV, ret);
	EXPECT_EQ(NULL, c);
	EXPECT_NE(NULL, strstr(ctx_last_error(), "not found"))
		TH_LOG("%s", ctx_last_error());
	EXPECT_NE(NULL, strstr(ctx_last_error(), "modprobe ctxfd"));
	EXPECT_FALSE(loaded());
}

TEST_F(unloaded, FailureIsNotRemembered)
{
	ctx_cancel_t *cancel;
	ctx_t *c;

	setenv("CTXFD_MODULE", "/nonexistent/ctxfd.ko", 1);
	EXPECT_EQ(-ENODEV, ctx_with_cancel(ctx_background(), &c, &cancel));
	setenv("CTXFD_MODULE", ko, 1);
	ASSERT_EQ(0, ctx_with_cancel(ctx_background(), &c, &cancel))
		TH_LOG("%s", ctx_last_error());
	ctx_cancel_release(cancel);
	ctx_release(c);
}

TEST_HARNESS_MAIN
