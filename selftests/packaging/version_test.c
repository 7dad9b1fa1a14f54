// SPDX-License-Identifier: GPL-2.0
/*
 * One version number: everything that carries ctxfd's version says what
 * the file VERSION says (tools/version explains where each copy comes
 * from). A user compares them: modinfo against the package, the soname
 * against the -dev package, ctxrun --version in a bug report.
 *
 * Checks the tree this program was built in, found from /proc/self/exe
 * (<top>/build/selftests/packaging/version_test): the module loaded in
 * the VM and the ctxfd.ko built for the running kernel, the library's
 * file name and soname, libctxfd.pc, <ctxfd.h>, ctxrun --version,
 * debian/changelog and debian/control. make check-packages checks the installed packages the
 * same way (tools/deb/vm-check).
 */
#include "kselftest_harness.h"
#include "ctxfd_test.h"

#include <sys/utsname.h>

#include "../../lib/ctxfd.h"	/* LIBCTXFD_VERSION_*, as a user sees them */

static char top[4096];
static char version[64];
static int major;

/* <top> from /proc/self/exe, and VERSION's contents. */
static bool find_top(void)
{
	char path[4096 + 16];
	ssize_t n = readlink("/proc/self/exe", top, sizeof(top) - 1);
	int i;

	if (n <= 0)
		return false;
	top[n] = '\0';
	for (i = 0; i < 4; i++) {	/* .../build/selftests/packaging/x */
		char *slash = strrchr(top, '/');

		if (!slash)
			return false;
		*slash = '\0';
	}
	snprintf(path, sizeof(path), "%s/VERSION", top);
	if (t_read_file(path, version, sizeof(version)) <= 0)
		return false;
	version[strcspn(version, "\n")] = '\0';
	major = atoi(version);
	return true;
}

/* The first line a command prints, without its newline. */
static bool run_line(char *buf, size_t size, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	FILE *p;
	bool ok;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "re");
	if (!p)
		return false;
	ok = fgets(buf, (int)size, p) != NULL;
	pclose(p);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

/* The value after @key in a file's first line starting with @key. */
static bool file_field(const char *rel, const char *key, char *buf, size_t size)
{
	char path[8192], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, strlen(key)))
			continue;
		snprintf(buf, size, "%s", line + strlen(key));
		buf[strcspn(buf, "\n")] = '\0';
		found = true;
	}
	fclose(f);
	return found;
}

FIXTURE(version) {
	int unused;
};

FIXTURE_SETUP(version)
{
	if (!find_top())
		CTXFD_SKIP("cannot find the source tree from /proc/self/exe");
}

FIXTURE_TEARDOWN(version)
{
}

TEST_F(version, VersionFileIsXYZ)
{
	unsigned int a, b, c;
	char end;

	EXPECT_EQ(3, sscanf(version, "%u.%u.%u%c", &a, &b, &c, &end))
		TH_LOG("VERSION says '%s'", version);
}

TEST_F(version, HeaderMacrosMatch)
{
	char hdr[64];

	snprintf(hdr, sizeof(hdr), "%d.%d.%d", LIBCTXFD_VERSION_MAJOR,
		 LIBCTXFD_VERSION_MINOR, LIBCTXFD_VERSION_PATCH);
	EXPECT_STREQ(version, hdr);
}

TEST_F(version, LoadedModuleMatches)
{
	char buf[64] = "";

	if (t_read_file("/sys/module/ctxfd/version", buf, sizeof(buf)) <= 0)
		CTXFD_SKIP("ctxfd is not loaded (or has no version)");
	buf[strcspn(buf, "\n")] = '\0';
	EXPECT_STREQ(version, buf);
}

TEST_F(version, BuiltModuleMatches)
{
	char path[4400], buf[128] = "";
	struct utsname u;

	ASSERT_EQ(0, uname(&u));
	snprintf(path, sizeof(path), "%s/build/kmod/%s/ctxfd.ko", top, u.release);
	if (access(path, R_OK))
		CTXFD_SKIP("no module built for %s", u.release);
	ASSERT_TRUE(run_line(buf, sizeof(buf), "modinfo -F version '%s'", path));
	EXPECT_STREQ(version, buf) TH_LOG("%s", path);
}

TEST_F(version, LibraryFileAndSonameMatch)
{
	char path[4200], target[256], want[128], soname[128] = "";
	ssize_t n;

	snprintf(path, sizeof(path), "%s/build/lib/libctxfd.so.%d", top, major);
	n = readlink(path, target, sizeof(target) - 1);
	ASSERT_LT(0, n) TH_LOG("%s: %s", path, strerror(errno));
	target[n] = '\0';
	snprintf(want, sizeof(want), "libctxfd.so.%s", version);
	EXPECT_STREQ(want, target);

	ASSERT_TRUE(run_line(soname, sizeof(soname),
			     "readelf -d '%s' | sed -n 's/.*Library soname: \\[\\(.*\\)\\]/\\1/p'",
			     path));
	snprintf(want, sizeof(want), "libctxfd.so.%d", major);
	EXPECT_STREQ(want, soname);
}

TEST_F(version, PkgConfigMatches)
{
	char buf[128];

	ASSERT_TRUE(file_field("build/lib/libctxfd.pc", "Version: ", buf, sizeof(buf)));
	EXPECT_STREQ(version, buf);
}

TEST_F(version, CtxrunVersionMatches)
{
	char buf[128] = "", want[128];

	ASSERT_TRUE(run_line(buf, sizeof(buf), "'%s/build/tools/ctxrun' --version", top));
	snprintf(want, sizeof(want), "ctxrun (ctxfd) %s", version);
	EXPECT_STREQ(want, buf);
}

TEST_F(version, DebianChangelogMatches)
{
	char buf[256], want[128];

	ASSERT_TRUE(file_field("debian/changelog", "ctxfd (", buf, sizeof(buf)));
	snprintf(want, sizeof(want), "%s)", version);
	EXPECT_EQ(0, strncmp(buf, want, strlen(want))) TH_LOG("changelog: ctxfd (%s", buf);
}

TEST_F(version, DebianLibraryPackageFollowsSoname)
{
	char key[64], buf[128];

	/* "Package: libctxfdX" and nothing after it: libctxfd-dev is not it. */
	snprintf(key, sizeof(key), "Package: libctxfd%d", major);
	EXPECT_TRUE(file_field("debian/control", key, buf, sizeof(buf)) && !buf[0])
		TH_LOG("debian/control has no package libctxfd%d (soname libctxfd.so.%d)",
		       major, major);
}

TEST_F(version, DkmsConfTakesTheBuildsVersion)
{
	char buf[128];

	ASSERT_TRUE(file_field("dkms.conf", "PACKAGE_VERSION=", buf, sizeof(buf)));
	/* Filled in from VERSION by make install-dkms-source / dh_dkms -V. */
	EXPECT_STREQ("\"#MODULE_VERSION#\"", buf);
}

TEST_HARNESS_MAIN
