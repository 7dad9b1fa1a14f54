// SPDX-License-Identifier: GPL-2.0
/*
 * Module lifetime: open context fds (and /dev/ctxfd itself) pin the
 * module, the last close releases it at once, the module unloads cleanly
 * right after heavy use and loads again, and the first open of a static
 * /dev/ctxfd node (as created at boot from `kmod static-nodes`) loads the
 * module through its char-major-10-246 / devname:ctxfd aliases.
 *
 * Root only. Every test puts the system back as it found it: ctxfd
 * loaded from the build tree, /dev/ctxfd as devtmpfs made it (0666), the
 * module indexes of /lib/modules/$(uname -r) and kernel.modprobe as they
 * were. The test program repeats that restore when it exits, in case a
 * test was killed by its timeout before its teardown could run.
 *
 * The autoload test installs the module under /lib/modules/$(uname -r)/
 * extra/ and runs depmod (see depmod() for how, in the VM).
 *
 * The module file is found from /proc/self/exe:
 *   <repo>/build/selftests/ctxfd/device_load_test
 *   -> <repo>/build/kmod/$(uname -r)/ctxfd.ko
 * or taken from $CTXFD_KO.
 */
#include "kselftest_harness.h"
#include "ctxfd_test.h"

#include <pthread.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>

#define MODNAME		"ctxfd"
#define SYS_MODULE	"/sys/module/" MODNAME
#define MODPROBE_SYSCTL	"/proc/sys/kernel/modprobe"
/* State the autoload test leaves for the restore, at fixed places. */
#define BACKUP_DIR	"/run/ctxfd-selftest-device-load"
#define SHIM_NAME	"ctxfd-selftest-modprobe"

static char ko_path[2 * PATH_MAX];
static char moddir[256];	/* /lib/modules/$(uname -r) */
static pid_t harness_pid;

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static bool module_loaded(void)
{
	return exists(SYS_MODULE);
}

/* delete_module(2) the way rmmod(8) calls it. */
static int unload(void)
{
	return (int)syscall(SYS_delete_module, MODNAME, O_NONBLOCK);
}

/* Run a shell command; its exit status, or -1. */
static int run(const char *fmt, ...)
{
	char cmd[2 * PATH_MAX];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fflush(stderr);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int load(void)
{
	return run("insmod '%s'", ko_path);
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out, ret = 0;
	ssize_t n;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			ret = -1;
			break;
		}
	if (n < 0)
		ret = -1;
	close(in);
	if (close(out))
		ret = -1;
	return ret;
}

static int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ssize_t len = (ssize_t)strlen(text);
	int ret;

	if (fd < 0)
		return -1;
	ret = write(fd, text, (size_t)len) == len ? 0 : -1;
	if (close(fd))
		ret = -1;
	return ret;
}

static void find_paths(void)
{
	const char *env = getenv("CTXFD_KO");
	char exe[PATH_MAX];
	struct utsname u;
	ssize_t n;
	char *p;

	uname(&u);
	snprintf(moddir, sizeof(moddir), "/lib/modules/%s", u.release);
	if (env && *env) {
		snprintf(ko_path, sizeof(ko_path), "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	/* <repo>/build/selftests/ctxfd/device_load_test -> <repo>/build */
	p = strstr(exe, "/selftests/ctxfd/");
	if (!p)
		return;
	*p = '\0';
	snprintf(ko_path, sizeof(ko_path), "%s/kmod/%s/" MODNAME ".ko", exe,
		 u.release);
}

/*
 * Put everything back: kernel.modprobe, the module indexes and the copy
 * of the module under extra/, then ctxfd loaded from the build tree with
 * the /dev/ctxfd node devtmpfs makes. Returns 0 if the end state is
 * right. Safe to call any number of times.
 */
static int restore_all(void)
{
	char path[2 * PATH_MAX], buf[2 * PATH_MAX];
	struct stat st;
	int ret = 0;

	if (exists(BACKUP_DIR)) {
		DIR *d;
		struct dirent *e;

		/* kernel.modprobe and the shim. */
		snprintf(path, sizeof(path), "%s/modprobe", BACKUP_DIR);
		if (t_read_file(path, buf, sizeof(buf)) > 0)
			write_file(MODPROBE_SYSCTL, buf, 0644);
		unlink("/proc/1/root/" SHIM_NAME);
		unlink(path);

		/* Our copy of the module, unless one was installed before. */
		snprintf(path, sizeof(path), "%s/created-ko", BACKUP_DIR);
		if (exists(path)) {
			snprintf(buf, sizeof(buf), "%s/extra/" MODNAME ".ko",
				 moddir);
			unlink(buf);
			unlink(path);
		}
		snprintf(path, sizeof(path), "%s/created-extra", BACKUP_DIR);
		if (exists(path)) {
			snprintf(buf, sizeof(buf), "%s/extra", moddir);
			rmdir(buf);
			unlink(path);
		}
		snprintf(path, sizeof(path), "%s/depmod.d/selftest.conf",
			 BACKUP_DIR);
		unlink(path);
		snprintf(path, sizeof(path), "%s/depmod.d", BACKUP_DIR);
		rmdir(path);
		/*
		 * The static node we made: remove it and unload the module,
		 * so that loading it below lets devtmpfs make the node.
		 */
		snprintf(path, sizeof(path), "%s/created-node", BACKUP_DIR);
		if (exists(path)) {
			unlink(CTXFD_DEVICE);
			if (module_loaded())
				unload();
			unlink(path);
		}
		/* The module indexes, as depmod left them before. */
		d = opendir(BACKUP_DIR);
		while (d && (e = readdir(d))) {
			if (strncmp(e->d_name, "modules.", 8))
				continue;
			snprintf(path, sizeof(path), "%s/%s", BACKUP_DIR,
				 e->d_name);
			snprintf(buf, sizeof(buf), "%s/%s", moddir, e->d_name);
			if (copy_file(path, buf, 0644))
				ret = -1;
			else
				unlink(path);
		}
		if (d)
			closedir(d);
		/* Leftovers of a backup that was killed half-way. */
		d = opendir(BACKUP_DIR);
		while (d && (e = readdir(d))) {
			if (e->d_name[0] != '.' || !strstr(e->d_name, ".part"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", BACKUP_DIR,
				 e->d_name);
			unlink(path);
		}
		if (d)
			closedir(d);
		if (!ret && rmdir(BACKUP_DIR))
			ret = -1;
	}

	/*
	 * A node that is not the one devtmpfs made (wrong mode): reload
	 * the module so that devtmpfs makes it afresh.
	 */
	if (stat(CTXFD_DEVICE, &st) == 0 && (st.st_mode & 07777) != 0666 &&
	    module_loaded() && unload() == 0)
		unlink(CTXFD_DEVICE);
	if (!module_loaded() && load() != 0)
		ret = -1;
	if (!exists(CTXFD_DEVICE) &&
	    mknod(CTXFD_DEVICE, S_IFCHR | 0666, makedev(10, 246)))
		ret = -1;
	if (stat(CTXFD_DEVICE, &st) || (st.st_mode & 07777) != 0666)
		if (chmod(CTXFD_DEVICE, 0666))
			ret = -1;
	return ret;
}

static void __attribute__((constructor)) at_start(void)
{
	harness_pid = getpid();
	find_paths();
}

static void __attribute__((destructor)) at_exit_restore(void)
{
	if (getpid() == harness_pid && geteuid() == 0 && ko_path[0])
		restore_all();
}

FIXTURE(load) {
	int unused;
};

FIXTURE_SETUP(load)
{
	ctxfd_require_root();
	if (!ko_path[0] || !exists(ko_path))
		CTXFD_SKIP("no module file at %.900s (set CTXFD_KO)", ko_path);
	if (!module_loaded()) {
		TH_LOG("ctxfd not loaded: loading %s", ko_path);
		ASSERT_EQ(0, load());
	}
	if (!exists(CTXFD_DEVICE))
		CTXFD_SKIP("%s missing", CTXFD_DEVICE);
}

FIXTURE_TEARDOWN(load)
{
	EXPECT_EQ(0, restore_all());
	EXPECT_TRUE(module_loaded());
	EXPECT_TRUE(exists(CTXFD_DEVICE));
}

static int refcnt(void)
{
	char buf[32];

	if (t_read_file(SYS_MODULE "/refcnt", buf, sizeof(buf)) <= 0)
		return -1;
	return atoi(buf);
}

/*
 * Unloading must fail while @fd is open, with the errno delete_module(2)
 * documents for a module in use (EWOULDBLOCK, which rmmod(8) reports as
 * "in use"), and leave the module working.
 */
static void expect_unload_refused(struct __test_metadata *_metadata, int fd)
{
	errno = 0;
	EXPECT_EQ(-1, unload());
	EXPECT_EQ(EWOULDBLOCK, errno) TH_LOG("delete_module: %s",
					     strerror(errno));
	EXPECT_TRUE(module_loaded());
	EXPECT_NE(0, run("rmmod " MODNAME " 2>/dev/null"));
	EXPECT_TRUE(module_loaded());
	EXPECT_LT(0, refcnt());
	/* The fd still works. */
	EXPECT_LE(0, t_err(fd));
}

TEST_F(load, rmmod_fails_while_a_context_fd_is_open)
{
	int dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	int root, child;

	ASSERT_LE(0, dev);
	root = t_new(dev, 0);
	ASSERT_LE(0, root);
	ASSERT_EQ(0, close(dev));
	EXPECT_EQ(1, refcnt());
	expect_unload_refused(_metadata, root);
	/* Still a working context: it can make and cancel children. */
	child = t_child(root, 0);
	ASSERT_LE(0, child);
	EXPECT_EQ(0, t_cancel(root, 0, NULL));
	EXPECT_EQ(ECANCELED, t_err(child));
	close(child);
	close(root);
	EXPECT_EQ(0, refcnt());
}

TEST_F(load, rmmod_fails_while_a_done_watch_only_fd_is_open)
{
	int dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	int root, watch;

	ASSERT_LE(0, dev);
	root = t_new(dev, 0);
	ASSERT_LE(0, root);
	watch = t_watch(root, 0);
	ASSERT_LE(0, watch);
	close(dev);
	close(root);	/* cancels it: the watch fd sees a done context */
	EXPECT_EQ(ECANCELED, t_err(watch));
	expect_unload_refused(_metadata, watch);
	close(watch);
	EXPECT_EQ(0, refcnt());
}

TEST_F(load, rmmod_fails_while_only_the_device_is_open)
{
	int dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, dev);
	errno = 0;
	EXPECT_EQ(-1, unload());
	EXPECT_EQ(EWOULDBLOCK, errno);
	EXPECT_TRUE(module_loaded());
	close(dev);
}

/* Keeps a read() blocked on a context until that context is canceled. */
struct reader {
	int fd;
	pid_t tid;
};

static void *blocked_reader(void *arg)
{
	struct reader *r = arg;
	struct ctxfd_event ev;

	__atomic_store_n(&r->tid, t_gettid(), __ATOMIC_RELEASE);
	return (void *)(intptr_t)read(r->fd, &ev, sizeof(ev));
}

TEST_F(load, rmmod_right_after_last_close_succeeds_and_insmod_works)
{
	struct ctxfd_create wc = { .flags = CTXFD_CREATE_WITHOUT_CANCEL };
	struct epoll_event ev = { .events = EPOLLIN };
	int dev, root, fds[16], n = 0, i, epfd, quick, fresh;
	struct stat st;
	struct reader rd = {};
	pthread_t reader;
	void *ret;
	__u64 start;

	/* Use every kind of object, timers and wait queues included. */
	dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	root = t_new(dev, 0);
	ASSERT_LE(0, root);
	fds[n++] = t_child(root, 0);
	fds[n++] = t_child_timeout(root, 3600LL * 1000000000LL);
	fds[n++] = t_child_value(root, "key", "value", 5);
	fds[n++] = ioctl(root, CTXFD_IOC_CREATE, &wc);
	fds[n++] = t_watch(root, 0);
	fds[n++] = t_child(fds[0], CTXFD_CREATE_NO_CANCEL_ON_CLOSE);
	fds[n++] = t_child(fds[5], 0);
	fds[n++] = t_child_timeout(fds[3], 3600LL * 1000000000LL);
	for (i = 0; i < n; i++)
		ASSERT_LE(0, fds[i]) TH_LOG("object %d: %s", i, strerror(errno));
	/* A deadline that fires, and one closed before it could. */
	quick = t_child_timeout(root, 1000000);
	ASSERT_LE(0, quick);
	ASSERT_TRUE(t_readable(quick, 5000));
	close(quick);
	quick = t_child_timeout(root, 2000000);
	ASSERT_LE(0, quick);
	close(quick);
	/* An epoll watching a context, and a reader blocked in read(). */
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, epfd);
	ASSERT_EQ(0, epoll_ctl(epfd, EPOLL_CTL_ADD, fds[4], &ev));
	rd.fd = fds[6];
	ASSERT_EQ(0, pthread_create(&reader, NULL, blocked_reader, &rd));
	while (!__atomic_load_n(&rd.tid, __ATOMIC_ACQUIRE))
		sched_yield();
	ASSERT_TRUE(t_wait_blocked(rd.tid, 5000));
	ASSERT_EQ(0, t_cancel(root, 1, "unload"));
	ASSERT_EQ(0, pthread_join(reader, &ret));
	EXPECT_EQ((intptr_t)sizeof(struct ctxfd_event), (intptr_t)ret);
	EXPECT_EQ(1, epoll_wait(epfd, &ev, 1, 0));

	/* The last close, then unload at once. */
	close(epfd);
	for (i = n - 1; i >= 0; i--)
		close(fds[i]);
	close(root);
	close(dev);
	EXPECT_EQ(0, refcnt());
	start = t_now_ns(CLOCK_MONOTONIC);
	ASSERT_EQ(0, unload()) TH_LOG("delete_module after the last close: %s",
				      strerror(errno));
	TH_LOG("unloaded in %.1f ms",
	       (double)(t_now_ns(CLOCK_MONOTONIC) - start) / 1e6);
	EXPECT_FALSE(module_loaded());
	errno = 0;
	fresh = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	EXPECT_EQ(-1, fresh) TH_LOG("/dev/ctxfd still opens without the module");
	if (fresh >= 0)
		close(fresh);

	/* And it loads again, with a fresh 0666 node. */
	ASSERT_EQ(0, load());
	ASSERT_TRUE(module_loaded());
	ASSERT_EQ(0, stat(CTXFD_DEVICE, &st));
	EXPECT_EQ(0666, st.st_mode & 07777);
	dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	root = t_new(dev, 0);
	EXPECT_LE(0, root);
	EXPECT_EQ(0, t_err(root));
	close(root);
	close(dev);
}

/* ---- autoload ------------------------------------------------------------ */

/* Back up the module indexes and kernel.modprobe into BACKUP_DIR. */
static int backup(void)
{
	char path[2 * PATH_MAX], dst[2 * PATH_MAX], buf[PATH_MAX];
	struct dirent *e;
	DIR *d;

	if (mkdir(BACKUP_DIR, 0700) && errno != EEXIST)
		return -1;
	d = opendir(moddir);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "modules.", 8))
			continue;
		/* Copy, then rename: a killed backup leaves no torn copy. */
		snprintf(path, sizeof(path), "%s/%s", moddir, e->d_name);
		snprintf(dst, sizeof(dst), "%s/.%s.part", BACKUP_DIR, e->d_name);
		if (copy_file(path, dst, 0600)) {
			closedir(d);
			return -1;
		}
		snprintf(path, sizeof(path), "%s/%s", BACKUP_DIR, e->d_name);
		if (rename(dst, path)) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	if (t_read_file(MODPROBE_SYSCTL, buf, sizeof(buf)) <= 0)
		return -1;
	snprintf(path, sizeof(path), "%s/modprobe", BACKUP_DIR);
	return write_file(path, buf, 0600);
}

static int mark(const char *name)
{
	char path[2 * PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", BACKUP_DIR, name);
	return write_file(path, "1\n", 0600);
}

/*
 * The kernel runs kernel.modprobe (request_module()) in the root of
 * init's fs_struct, i.e. where PID 1 lives. When this test runs in a
 * chroot (the selftest VM runs commands in a chroot of the host's root,
 * its PID 1 staying in the initramfs), that path may not exist there:
 * then point kernel.modprobe to a shim in PID 1's root that runs our
 * modprobe inside our root. Returns 0 (with *shimmed set if a shim was
 * needed) or -1.
 */
static int make_modprobe_reachable(bool *shimmed, char *why, size_t whylen)
{
	char modprobe[PATH_MAX], path[2 * PATH_MAX], script[4 * PATH_MAX];
	struct stat ours, init;
	char *nl;

	*shimmed = false;
	if (t_read_file(MODPROBE_SYSCTL, modprobe, sizeof(modprobe)) <= 0)
		return -1;
	nl = strchr(modprobe, '\n');
	if (nl)
		*nl = '\0';
	if (stat("/", &ours) || stat("/proc/1/root/", &init))
		return -1;
	snprintf(path, sizeof(path), "/proc/1/root%s", modprobe);
	if ((ours.st_dev == init.st_dev && ours.st_ino == init.st_ino) ||
	    access(path, X_OK) == 0)
		return 0;
	if (access("/proc/1/root/bin/sh", X_OK)) {
		snprintf(why, whylen, "%s is missing from PID 1's root, which has no /bin/sh for a shim",
			 modprobe);
		return -1;
	}
	snprintf(script, sizeof(script),
		 "#!/bin/sh\n"
		 "# ctxfd selftest: run modprobe in the root of pid %d\n"
		 "exec chroot /proc/%d/root %s \"$@\"\n",
		 (int)getpid(), (int)getpid(), modprobe);
	if (write_file("/proc/1/root/" SHIM_NAME, script, 0755))
		return -1;
	if (write_file(MODPROBE_SYSCTL, "/" SHIM_NAME "\n", 0644))
		return -1;
	snprintf(why, whylen, "%s is not in PID 1's root: kernel.modprobe points to a chroot shim for this test",
		 modprobe);
	*shimmed = true;
	return 0;
}

/*
 * Rebuild the module indexes with the new module in them: depmod -a.
 *
 * Under TCG, depmod -a over the ~4000 modules of a distribution kernel
 * takes 3 to 6 minutes. Inside the selftest VM (CTXFD_VM set), whose
 * root is a throw-away overlay, depmod -a is told to search extra/ only
 * (a depmod.d "exclude kernel"): the entries it writes for ctxfd are the
 * same, the other modules are missing from the indexes until the
 * teardown puts the saved ones back, which takes a fraction of a second.
 * CTXFD_DEPMOD_FULL=1 forces the full run.
 */
static int depmod(char *how, size_t len)
{
	char dir[PATH_MAX], conf[PATH_MAX + 32];

	if (!getenv("CTXFD_VM") || getenv("CTXFD_DEPMOD_FULL")) {
		snprintf(how, len, "depmod -a");
		return run("depmod -a");
	}
	snprintf(dir, sizeof(dir), "%s/depmod.d", BACKUP_DIR);
	snprintf(conf, sizeof(conf), "%s/selftest.conf", dir);
	if ((mkdir(dir, 0700) && errno != EEXIST) ||
	    write_file(conf, "search extra built-in\nexclude kernel\n", 0600))
		return -1;
	snprintf(how, len, "depmod -a -C %.200s (extra/ only)", dir);
	return run("depmod -a -C '%s'", dir);
}

/* The node `kmod static-nodes` lists for ctxfd. */
struct static_node {
	char type;
	char path[256];
	unsigned int mode, major, minor;
};

static int find_static_node(struct static_node *sn)
{
	FILE *f = popen("kmod static-nodes --format=tmpfiles", "r");
	char line[512];
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char type[8];

		if (sscanf(line, "%7s %255s %o %*s %*s %*s %u:%u", type,
			   sn->path, &sn->mode, &sn->major, &sn->minor) != 5)
			continue;
		if (strcmp(sn->path, CTXFD_DEVICE))
			continue;
		sn->type = type[0];
		found = 0;
	}
	pclose(f);
	return found;
}

TEST_F_TIMEOUT(load, first_open_of_static_node_autoloads_module, 900)
{
	char dst[2 * PATH_MAX], buf[4096], why[2 * PATH_MAX] = "", how[256];
	struct static_node sn = {};
	struct stat st;
	bool shimmed;
	int dev, root;
	__u64 start;

	/* Install the module where depmod and modprobe look for it. */
	ASSERT_EQ(0, backup());
	snprintf(dst, sizeof(dst), "%s/extra", moddir);
	if (!exists(dst)) {
		ASSERT_EQ(0, mark("created-extra"));
		ASSERT_EQ(0, mkdir(dst, 0755));
	}
	snprintf(dst, sizeof(dst), "%s/extra/" MODNAME ".ko", moddir);
	if (!exists(dst)) {
		ASSERT_EQ(0, mark("created-ko"));
	}
	ASSERT_EQ(0, copy_file(ko_path, dst, 0644));
	start = t_now_ns(CLOCK_MONOTONIC);
	ASSERT_EQ(0, depmod(how, sizeof(how)));
	TH_LOG("%s: %.1f s", how,
	       (double)(t_now_ns(CLOCK_MONOTONIC) - start) / 1e9);
	snprintf(dst, sizeof(dst), "%s/modules.devname", moddir);
	ASSERT_LT(0, t_read_file(dst, buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, MODNAME " " MODNAME " c10:246"))
		TH_LOG("modules.devname:\n%s", buf);

	/* Unload; the boot-time static node takes the device's place. */
	ASSERT_EQ(0, unload()) TH_LOG("%s", strerror(errno));
	ASSERT_FALSE(module_loaded());
	ASSERT_EQ(0, find_static_node(&sn))
		TH_LOG("kmod static-nodes lists no %s", CTXFD_DEVICE);
	EXPECT_EQ('c', sn.type);
	EXPECT_EQ(10, sn.major);
	EXPECT_EQ(246, sn.minor);
	unlink(CTXFD_DEVICE);
	ASSERT_EQ(0, mark("created-node"));
	ASSERT_EQ(0, mknod(sn.path, S_IFCHR | (sn.mode & 07777),
			   makedev(sn.major, sn.minor)));
	ASSERT_FALSE(module_loaded());

	ASSERT_EQ(0, make_modprobe_reachable(&shimmed, why, sizeof(why)))
		TH_LOG("%s", why[0] ? why : "cannot set up kernel.modprobe");
	if (shimmed)
		TH_LOG("%s", why);

	/* The first open loads the module. */
	start = t_now_ns(CLOCK_MONOTONIC);
	dev = open(CTXFD_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev) TH_LOG("open %s: %s", CTXFD_DEVICE, strerror(errno));
	TH_LOG("first open with autoload: %.0f ms",
	       (double)(t_now_ns(CLOCK_MONOTONIC) - start) / 1e6);
	EXPECT_TRUE(module_loaded());
	EXPECT_LT(0, t_read_file(SYS_MODULE "/initstate", buf, sizeof(buf)));
	EXPECT_STREQ("live\n", buf);
	root = t_new(dev, 0);
	ASSERT_LE(0, root) TH_LOG("NEW after autoload: %s", strerror(errno));
	EXPECT_EQ(0, t_err(root));
	EXPECT_EQ(0, t_cancel(root, 0, NULL));
	close(root);
	close(dev);
	/* devtmpfs keeps the existing node: its mode is the static one. */
	if (stat(CTXFD_DEVICE, &st) == 0)
		TH_LOG("%s after autoload: mode %#o (static-nodes said %#o)",
		       CTXFD_DEVICE, st.st_mode & 07777, sn.mode);
}

TEST_HARNESS_MAIN
