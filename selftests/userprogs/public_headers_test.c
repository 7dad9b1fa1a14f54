// SPDX-License-Identifier: GPL-2.0
/*
 * The public headers work in every program that includes them: <ctxfd.h>
 * and <linux/ctxfd.h> under strict and GNU C99, C11 and C17, C++98
 * (<ctxfd.h> only) to C++20, with gcc, g++ and clang.
 *
 * selftests/userprogs/userprogs.mk builds selftests/userprogs/user_program.c
 * once per compiler and standard, with -Wall -Wextra -Werror -pedantic,
 * on the host: a header that does not compile cleanly fails the build
 * (compiling in the VM would take minutes under TCG). Here each program
 * runs against the library and the module: a C++ or strict C99 caller
 * gets the same contexts, causes and errors as the library's own code.
 */
#define _GNU_SOURCE
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "ctxfd_test.h"

/* build/selftests/userprogs/bin, next to this program. */
static const char *bin_dir(void)
{
	static char dir[4096 + 8];
	char exe[4096];
	ssize_t n;
	char *slash;

	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	snprintf(dir, sizeof(dir), "%s/bin", exe);
	return dir;
}

FIXTURE(hdr) {
	char path[4200];
};

/* The variants of userprogs.mk: COMPILER-STD, and whether it must exist. */
FIXTURE_VARIANT(hdr) {
	const char *name;
	bool optional;		/* the compiler may not be installed */
};

#define HDR_VARIANT(id, name_, optional_)				\
	FIXTURE_VARIANT_ADD(hdr, id) {					\
		.name = name_, .optional = optional_,			\
	}

HDR_VARIANT(gcc_c99, "gcc-c99", false);
HDR_VARIANT(gcc_c11, "gcc-c11", false);
HDR_VARIANT(gcc_gnu17, "gcc-gnu17", false);
HDR_VARIANT(gxx_cxx98, "g++-c++98", false);
HDR_VARIANT(gxx_cxx11, "g++-c++11", false);
HDR_VARIANT(gxx_gnuxx20, "g++-gnu++20", false);
HDR_VARIANT(clang_c99, "clang-c99", true);
HDR_VARIANT(clangxx_cxx17, "clang++-c++17", true);

FIXTURE_SETUP(hdr)
{
	int dev = ctxfd_dev_or_skip();

	close(dev);
	ASSERT_NE(NULL, bin_dir());
	snprintf(self->path, sizeof(self->path), "%s/%s", bin_dir(),
		 variant->name);
	if (access(self->path, X_OK) && variant->optional)
		SKIP(return, "%s: not built (compiler not installed)",
		     variant->name);
}

FIXTURE_TEARDOWN(hdr)
{
}

TEST_F(hdr, program_built_against_public_headers_runs)
{
	char out[512] = "";
	size_t len = 0;
	FILE *f;
	int status;

	ASSERT_EQ(0, access(self->path, X_OK)) {
		TH_LOG("%s was not built: run make", self->path);
	}
	f = popen(self->path, "r");
	ASSERT_NE(NULL, f);
	while (len + 1 < sizeof(out) && fgets(out + len, sizeof(out) - len, f))
		len += strlen(out + len);
	status = pclose(f);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) {
		TH_LOG("%s said: %s", variant->name, out);
	}
	EXPECT_STREQ("context canceled: 42 canceled by the user program\n", out);
}

TEST_HARNESS_MAIN
