// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input: every ioctl refuses malformed arguments with the errno the
 * uapi promises, and a refused call changes nothing: no fd appears, no
 * child is linked, nothing is canceled.
 *
 * The "ioc" fixture runs the checks that apply to every ioctl once per
 * ioctl (one variant each); the "bad" fixture holds the checks specific
 * to one ioctl.
 */
#include "kselftest_harness.h"
#include "ctxfd_test.h"

#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>

/* Largest size the ioctl number can encode (14 bits). */
#define IOC_SIZE_MAX	((1u << _IOC_SIZEBITS) - 1)

/* The four direction encodings, to try the wrong ones. */
static const unsigned int all_dirs[] = {
	_IOC_NONE, _IOC_WRITE, _IOC_READ, _IOC_READ | _IOC_WRITE,
};

static const char test_key[] = "k";
static const char test_val[] = "v";
static char lookup_buf[64];

/* An address with nothing mapped at it: a page mapped, then unmapped. */
static void *unmapped_page(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p, (size_t)pg);
	return p;
}

/*
 * A buffer of @size bytes whose first @mapped bytes are readable and
 * writable and whose rest lies on an unmapped page. Returns the start.
 */
static void *straddling_buf(size_t size, size_t mapped, void **base,
			    size_t *len)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p + pg, (size_t)pg);
	*base = p;
	*len = (size_t)pg;
	(void)size;
	return p + pg - mapped;
}

/* Which fd an ioctl is issued on. */
enum target { ON_DEV, ON_ROOT, ON_VALUE };

FIXTURE(ioc) {
	int dev;
	int root;	/* a root context */
	int value;	/* a values-only child of root binding "k" -> "v" */
	int target;	/* the fd the variant's ioctl goes to */
};

FIXTURE_VARIANT(ioc) {
	unsigned int nr;	/* _IOC_NR */
	unsigned int dir;	/* the right direction */
	unsigned int ver0;	/* ..._SIZE_VER0 */
	unsigned int ksize;	/* sizeof the current struct */
	enum target target;
	bool returns_fd;
	bool input;		/* the kernel reads the struct */
	__u64 flags_all;	/* known flags; ~0 if the struct has none */
	bool lookup;		/* needs a key filled in */
};

FIXTURE_VARIANT_ADD(ioc, new) {
	.nr = _IOC_NR(CTXFD_IOC_NEW), .dir = _IOC_WRITE,
	.ver0 = CTXFD_CREATE_SIZE_VER0, .ksize = sizeof(struct ctxfd_create),
	.target = ON_DEV, .returns_fd = true, .input = true,
	.flags_all = CTXFD_CREATE_FLAGS_ALL & ~CTXFD_CREATE_WITHOUT_CANCEL,
};

FIXTURE_VARIANT_ADD(ioc, create) {
	.nr = _IOC_NR(CTXFD_IOC_CREATE), .dir = _IOC_WRITE,
	.ver0 = CTXFD_CREATE_SIZE_VER0, .ksize = sizeof(struct ctxfd_create),
	.target = ON_ROOT, .returns_fd = true, .input = true,
	.flags_all = CTXFD_CREATE_FLAGS_ALL,
};

FIXTURE_VARIANT_ADD(ioc, cancel) {
	.nr = _IOC_NR(CTXFD_IOC_CANCEL), .dir = _IOC_WRITE,
	.ver0 = CTXFD_CANCEL_SIZE_VER0, .ksize = sizeof(struct ctxfd_cancel),
	.target = ON_ROOT, .input = true, .flags_all = CTXFD_CANCEL_FLAGS_ALL,
};

FIXTURE_VARIANT_ADD(ioc, watch) {
	.nr = _IOC_NR(CTXFD_IOC_WATCH), .dir = _IOC_WRITE,
	.ver0 = CTXFD_WATCH_SIZE_VER0, .ksize = sizeof(struct ctxfd_watch),
	.target = ON_ROOT, .returns_fd = true, .input = true,
	.flags_all = CTXFD_WATCH_FLAGS_ALL,
};

FIXTURE_VARIANT_ADD(ioc, info) {
	.nr = _IOC_NR(CTXFD_IOC_INFO), .dir = _IOC_READ,
	.ver0 = CTXFD_INFO_SIZE_VER0, .ksize = sizeof(struct ctxfd_info),
	.target = ON_ROOT, .input = false, .flags_all = ~0ULL,
};

FIXTURE_VARIANT_ADD(ioc, lookup) {
	.nr = _IOC_NR(CTXFD_IOC_LOOKUP), .dir = _IOC_READ | _IOC_WRITE,
	.ver0 = CTXFD_LOOKUP_SIZE_VER0, .ksize = sizeof(struct ctxfd_lookup),
	.target = ON_VALUE, .input = true, .flags_all = 0, .lookup = true,
};

FIXTURE_SETUP(ioc)
{
	self->dev = ctxfd_dev_or_skip();
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);
	self->value = t_child_value(self->root, test_key, test_val, 1);
	ASSERT_LE(0, self->value);
	switch (variant->target) {
	case ON_DEV:
		self->target = self->dev;
		break;
	case ON_ROOT:
		self->target = self->root;
		break;
	case ON_VALUE:
		self->target = self->value;
		break;
	}
}

FIXTURE_TEARDOWN(ioc)
{
	close(self->value);
	close(self->root);
	close(self->dev);
}

/* Fill a valid argument of the variant's ioctl into @buf (@size bytes). */
static void fill_valid(const FIXTURE_VARIANT(ioc) *v, void *buf, size_t size)
{
	memset(buf, 0, size);
	if (v->lookup) {
		struct ctxfd_lookup *l = buf;

		l->key = (uintptr_t)test_key;
		l->key_len = 1;
		l->value = (uintptr_t)lookup_buf;
		l->value_len = sizeof(lookup_buf);
	}
}

static unsigned long cmd_of(const FIXTURE_VARIANT(ioc) *v, unsigned int dir,
			    unsigned int size)
{
	return _IOC(dir, CTXFD_IOC_MAGIC, v->nr, size);
}

/* What a refused call must leave as it was. */
struct snap {
	int nfds;
	int root_children;
	int value_children;
	int root_err;
	int value_err;
	bool root_readable;
};

static void snap_take(FIXTURE_DATA(ioc) *self, struct snap *s)
{
	s->nfds = t_nr_fds();
	s->root_children = t_nr_children(self->root);
	s->value_children = t_nr_children(self->value);
	s->root_err = t_err(self->root);
	s->value_err = t_err(self->value);
	s->root_readable = t_readable(self->root, 0);
}

/*
 * Issue the variant's ioctl on @fd as @dir/@size with @arg; it must fail
 * with @want and change nothing.
 */
static void expect_refused(struct __test_metadata *_metadata,
			   FIXTURE_DATA(ioc) *self,
			   const FIXTURE_VARIANT(ioc) *v, int fd,
			   unsigned int dir, unsigned int size, void *arg,
			   int want)
{
	struct snap before, after;
	int ret, err;

	snap_take(self, &before);
	errno = 0;
	ret = ioctl(fd, cmd_of(v, dir, size), arg);
	err = errno;
	if (ret >= 0 && v->returns_fd)
		close(ret);
	snap_take(self, &after);

	EXPECT_EQ(-1, ret) TH_LOG("nr %#x dir %u size %u: succeeded", v->nr,
				  dir, size);
	EXPECT_EQ(want, err) TH_LOG("nr %#x dir %u size %u: errno %d (%s)",
				    v->nr, dir, size, err, strerror(err));
	EXPECT_EQ(before.nfds, after.nfds) TH_LOG("an fd appeared or vanished");
	EXPECT_EQ(before.root_children, after.root_children);
	EXPECT_EQ(before.value_children, after.value_children);
	EXPECT_EQ(before.root_err, after.root_err);
	EXPECT_EQ(before.value_err, after.value_err);
	EXPECT_EQ(before.root_readable, after.root_readable);
}

/* Issue the variant's ioctl with @size and a valid @arg: it must work. */
static void expect_works(struct __test_metadata *_metadata,
			 const FIXTURE_VARIANT(ioc) *v, int fd,
			 unsigned int size, void *arg)
{
	int ret;

	errno = 0;
	ret = ioctl(fd, cmd_of(v, v->dir, size), arg);
	EXPECT_LE(0, ret) TH_LOG("nr %#x size %u: errno %d (%s)", v->nr, size,
				 errno, strerror(errno));
	if (ret >= 0 && v->returns_fd) {
		struct ctxfd_info info;

		EXPECT_EQ(0, t_info(ret, &info));
		EXPECT_NE(0, info.id);
		close(ret);
	} else if (ret >= 0) {
		EXPECT_EQ(0, ret);
	}
}

TEST_F(ioc, unknown_flag_bits_are_einval)
{
	__u64 buf[64];
	int bit, tried = 0;

	if (variant->flags_all == ~0ULL)
		CTXFD_SKIP("this struct has no flags field (pure output)");
	for (bit = 0; bit < 64; bit++) {
		if (variant->flags_all & (1ULL << bit))
			continue;
		fill_valid(variant, buf, sizeof(buf));
		buf[0] = 1ULL << bit;
		expect_refused(_metadata, self, variant, self->target,
			       variant->dir, variant->ksize, buf, EINVAL);
		tried++;
	}
	/* Unknown bits on top of every known one. */
	fill_valid(variant, buf, sizeof(buf));
	buf[0] = ~variant->flags_all;
	expect_refused(_metadata, self, variant, self->target, variant->dir,
		       variant->ksize, buf, EINVAL);
	TH_LOG("%d unknown flag bits refused", tried);
}

TEST_F(ioc, unmapped_pointer_is_efault)
{
	void *bad = unmapped_page();

	ASSERT_NE(NULL, bad);
	expect_refused(_metadata, self, variant, self->target, variant->dir,
		       variant->ksize, bad, EFAULT);
	expect_refused(_metadata, self, variant, self->target, variant->dir,
		       variant->ver0, bad, EFAULT);
}

TEST_F(ioc, null_pointer_is_efault)
{
	expect_refused(_metadata, self, variant, self->target, variant->dir,
		       variant->ksize, NULL, EFAULT);
}

TEST_F(ioc, kernel_pointer_is_efault)
{
	expect_refused(_metadata, self, variant, self->target, variant->dir,
		       variant->ksize, (void *)0xffffffff81000000UL, EFAULT);
}

/*
 * The variant's ioctl with @size bytes at an address where only the
 * first @mapped are mapped: the call must fail with EFAULT, whole.
 */
static void expect_straddle_refused(struct __test_metadata *_metadata,
				    FIXTURE_DATA(ioc) *self,
				    const FIXTURE_VARIANT(ioc) *v,
				    unsigned int size, size_t mapped)
{
	__u64 valid[64];
	void *base, *p;
	size_t len;

	p = straddling_buf(size, mapped, &base, &len);
	ASSERT_NE(NULL, p);
	fill_valid(v, valid, sizeof(valid));
	memcpy(p, valid, mapped);
	expect_refused(_metadata, self, v, self->target, v->dir, size, p,
		       EFAULT);
	munmap(base, len);
}

TEST_F(ioc, struct_straddling_an_unmapped_page_is_efault)
{
	expect_straddle_refused(_metadata, self, variant, variant->ver0,
				variant->ver0 / 2);
}

/*
 * The kernel's own size is read word by word: a fault on the last word
 * must still refuse the whole call.
 */
TEST_F(ioc, full_size_struct_with_its_last_word_unmapped_is_efault)
{
	expect_straddle_refused(_metadata, self, variant, variant->ksize,
				variant->ksize - 8);
}

/* A struct at any address works, not only at an 8-byte aligned one. */
TEST_F(ioc, unaligned_struct_works)
{
	__u64 valid[64], buf[65];
	size_t off;

	fill_valid(variant, valid, sizeof(valid));
	for (off = 1; off < 8; off += 3) {
		memcpy((char *)buf + off, valid, variant->ksize);
		expect_works(_metadata, variant, self->target, variant->ksize,
			     (char *)buf + off);
	}
}

TEST_F(ioc, struct_smaller_than_ver0_is_einval)
{
	unsigned int sizes[] = { 0, 1, variant->ver0 / 2, variant->ver0 - 8,
				 variant->ver0 - 1 };
	__u64 buf[64];
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill_valid(variant, buf, sizeof(buf));
		expect_refused(_metadata, self, variant, self->target,
			       variant->dir, sizes[i], buf, EINVAL);
	}
}

TEST_F(ioc, larger_struct_with_nonzero_tail_is_e2big)
{
	static __u64 buf[(IOC_SIZE_MAX + 1) / 8];
	unsigned int sizes[] = { variant->ksize + 1, variant->ksize + 8,
				 4096, IOC_SIZE_MAX };
	size_t i;

	if (!variant->input)
		CTXFD_SKIP("a pure output struct: the kernel ignores its input");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned int size = sizes[i];

		/* Non-zero byte first right after the known struct, then last. */
		fill_valid(variant, buf, sizeof(buf));
		((char *)buf)[variant->ksize] = 1;
		expect_refused(_metadata, self, variant, self->target,
			       variant->dir, size, buf, E2BIG);
		fill_valid(variant, buf, sizeof(buf));
		((char *)buf)[size - 1] = (char)0x80;
		expect_refused(_metadata, self, variant, self->target,
			       variant->dir, size, buf, E2BIG);
	}
}

TEST_F(ioc, larger_struct_with_zero_tail_works)
{
	static __u64 buf[(IOC_SIZE_MAX + 1) / 8];
	unsigned int sizes[] = { variant->ksize + 1, variant->ksize + 8,
				 4096, IOC_SIZE_MAX };
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill_valid(variant, buf, sizeof(buf));
		expect_works(_metadata, variant, self->target, sizes[i], buf);
	}
}

TEST_F(ioc, ver0_size_works)
{
	__u64 buf[64];

	fill_valid(variant, buf, sizeof(buf));
	expect_works(_metadata, variant, self->target, variant->ver0, buf);
}

TEST_F(ioc, wrong_direction_is_enotty)
{
	__u64 buf[64];
	size_t i;

	for (i = 0; i < sizeof(all_dirs) / sizeof(all_dirs[0]); i++) {
		if (all_dirs[i] == variant->dir)
			continue;
		fill_valid(variant, buf, sizeof(buf));
		expect_refused(_metadata, self, variant, self->target,
			       all_dirs[i], variant->ksize, buf, ENOTTY);
	}
}

TEST_F(ioc, foreign_fds_are_enotty)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	int pipes[2], socks[2];
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int memfd = memfd_create("ctxfd-foreign", MFD_CLOEXEC);
	int fds[6];
	__u64 buf[64];
	size_t i;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, pipe2(pipes, O_CLOEXEC));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, socks));
	ASSERT_LE(0, null);
	ASSERT_LE(0, memfd);
	fds[0] = efd;
	fds[1] = pipes[0];
	fds[2] = pipes[1];
	fds[3] = socks[0];
	fds[4] = null;
	fds[5] = memfd;
	for (i = 0; i < 6; i++) {
		fill_valid(variant, buf, sizeof(buf));
		expect_refused(_metadata, self, variant, fds[i], variant->dir,
			       variant->ksize, buf, ENOTTY);
	}
	close(efd);
	close(pipes[0]);
	close(pipes[1]);
	close(socks[0]);
	close(socks[1]);
	close(null);
	close(memfd);
}

/* NEW belongs to /dev/ctxfd, everything else to context fds. */
TEST_F(ioc, wrong_kind_of_ctxfd_is_enotty)
{
	__u64 buf[64];
	int watch = t_watch(self->root, 0);
	size_t i;

	ASSERT_LE(0, watch);
	if (variant->target == ON_DEV) {
		int fds[] = { self->root, self->value, watch };

		for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
			fill_valid(variant, buf, sizeof(buf));
			expect_refused(_metadata, self, variant, fds[i],
				       variant->dir, variant->ksize, buf,
				       ENOTTY);
		}
	} else {
		fill_valid(variant, buf, sizeof(buf));
		expect_refused(_metadata, self, variant, self->dev,
			       variant->dir, variant->ksize, buf, ENOTTY);
	}
	close(watch);
}

TEST_F(ioc, closed_fd_is_ebadf)
{
	__u64 buf[64];
	int fd = t_new(self->dev, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));
	fill_valid(variant, buf, sizeof(buf));
	expect_refused(_metadata, self, variant, fd, variant->dir,
		       variant->ksize, buf, EBADF);
	/* And a number that was never open. */
	expect_refused(_metadata, self, variant, 1 << 20, variant->dir,
		       variant->ksize, buf, EBADF);
	expect_refused(_metadata, self, variant, -1, variant->dir,
		       variant->ksize, buf, EBADF);
}

/* ---------------------------------------------------------------------- */

FIXTURE(bad) {
	int dev;
	int root;
	int child;	/* a cancelable child of root */
};

FIXTURE_SETUP(bad)
{
	self->dev = ctxfd_dev_or_skip();
	self->root = t_new(self->dev, 0);
	ASSERT_LE(0, self->root);
	self->child = t_child(self->root, 0);
	ASSERT_LE(0, self->child);
}

FIXTURE_TEARDOWN(bad)
{
	close(self->child);
	close(self->root);
	close(self->dev);
}

/*
 * A create request must fail with @want, on @fd with @cmd, leaving no fd
 * behind and no child under @fd (when @fd is a context).
 */
static void create_refused(struct __test_metadata *_metadata, int fd,
			   unsigned long cmd, const struct ctxfd_create *args,
			   int want)
{
	int nfds = t_nr_fds();
	int kids = t_nr_children(fd);
	int ret, err;

	errno = 0;
	ret = ioctl(fd, cmd, args);
	err = errno;
	if (ret >= 0)
		close(ret);
	EXPECT_EQ(-1, ret) TH_LOG("flags %#llx: created fd %d",
				  (unsigned long long)args->flags, ret);
	EXPECT_EQ(want, err) TH_LOG("flags %#llx: errno %d (%s)",
				    (unsigned long long)args->flags, err,
				    strerror(err));
	EXPECT_EQ(nfds, t_nr_fds());
	EXPECT_EQ(kids, t_nr_children(fd));
}

/* Refused both as a root (NEW on the device) and as a child (CREATE). */
static void both_refused(struct __test_metadata *_metadata,
			 FIXTURE_DATA(bad) *self,
			 const struct ctxfd_create *args, int want)
{
	create_refused(_metadata, self->dev, CTXFD_IOC_NEW, args, want);
	create_refused(_metadata, self->root, CTXFD_IOC_CREATE, args, want);
	EXPECT_EQ(0, t_err(self->root));
	EXPECT_EQ(1, t_nr_children(self->root));
}

TEST_F(bad, create_reserved0_nonzero_is_einval)
{
	struct ctxfd_create args = { .__reserved0 = 1 };

	both_refused(_metadata, self, &args, EINVAL);
	args.__reserved0 = 0x80000000u;
	both_refused(_metadata, self, &args, EINVAL);
}

TEST_F(bad, new_without_cancel_is_einval)
{
	struct ctxfd_create args = { .flags = CTXFD_CREATE_WITHOUT_CANCEL };

	create_refused(_metadata, self->dev, CTXFD_IOC_NEW, &args, EINVAL);
}

TEST_F(bad, create_value_with_without_cancel_is_einval)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_VALUE | CTXFD_CREATE_WITHOUT_CANCEL,
		.key = (uintptr_t)test_key, .key_len = 1,
	};

	both_refused(_metadata, self, &args, EINVAL);
}

TEST_F(bad, create_deadline_with_timeout_is_einval)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_DEADLINE | CTXFD_CREATE_TIMEOUT,
		.deadline_ns = 1000000000LL * 3600,
		.clockid = CLOCK_MONOTONIC,
	};

	both_refused(_metadata, self, &args, EINVAL);
}

TEST_F(bad, create_no_cancel_on_close_with_value_is_einval)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_NO_CANCEL_ON_CLOSE | CTXFD_CREATE_VALUE,
		.key = (uintptr_t)test_key, .key_len = 1,
	};

	both_refused(_metadata, self, &args, EINVAL);
}

TEST_F(bad, create_no_cancel_on_close_with_without_cancel_is_einval)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_NO_CANCEL_ON_CLOSE |
			 CTXFD_CREATE_WITHOUT_CANCEL,
	};

	create_refused(_metadata, self->root, CTXFD_IOC_CREATE, &args, EINVAL);
}

TEST_F(bad, create_deadline_with_value_is_einval)
{
	__u64 kinds[] = { CTXFD_CREATE_DEADLINE, CTXFD_CREATE_TIMEOUT };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct ctxfd_create args = {
			.flags = kinds[i] | CTXFD_CREATE_VALUE,
			.deadline_ns = 1000000000LL * 3600,
			.clockid = CLOCK_MONOTONIC,
			.key = (uintptr_t)test_key, .key_len = 1,
		};

		both_refused(_metadata, self, &args, EINVAL);
	}
}

TEST_F(bad, create_deadline_with_without_cancel_is_einval)
{
	__u64 kinds[] = { CTXFD_CREATE_DEADLINE, CTXFD_CREATE_TIMEOUT };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct ctxfd_create args = {
			.flags = kinds[i] | CTXFD_CREATE_WITHOUT_CANCEL,
			.deadline_ns = 1000000000LL * 3600,
			.clockid = CLOCK_MONOTONIC,
		};

		create_refused(_metadata, self->root, CTXFD_IOC_CREATE, &args,
			       EINVAL);
	}
}

TEST_F(bad, deadline_fields_without_deadline_flag_are_einval)
{
	static const char msg[] = "late";
	struct ctxfd_create base = {};
	struct ctxfd_create args;

	args = base;
	args.deadline_ns = 1;
	both_refused(_metadata, self, &args, EINVAL);
	args = base;
	args.clockid = CLOCK_MONOTONIC;
	both_refused(_metadata, self, &args, EINVAL);
	args = base;
	args.deadline_cause.code = 3;
	both_refused(_metadata, self, &args, EINVAL);
	args = base;
	args.deadline_cause.msg_len = 4;
	args.deadline_cause.msg = (uintptr_t)msg;
	both_refused(_metadata, self, &args, EINVAL);
	args = base;
	args.deadline_cause.msg = (uintptr_t)msg;
	both_refused(_metadata, self, &args, EINVAL);
	/* Also with a values-only child, which can have no deadline. */
	args = base;
	args.flags = CTXFD_CREATE_VALUE;
	args.key = (uintptr_t)test_key;
	args.key_len = 1;
	args.deadline_ns = 1;
	both_refused(_metadata, self, &args, EINVAL);
}

TEST_F(bad, deadline_clock_other_than_monotonic_or_boottime_is_einval)
{
	unsigned int clocks[] = {
		CLOCK_REALTIME, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
		CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
		CLOCK_MONOTONIC_COARSE, CLOCK_REALTIME_ALARM,
		CLOCK_BOOTTIME_ALARM, CLOCK_TAI, 12, 0x7fffffff, 0xffffffff,
	};
	__u64 kinds[] = { CTXFD_CREATE_DEADLINE, CTXFD_CREATE_TIMEOUT };
	size_t i, k;

	for (k = 0; k < 2; k++) {
		for (i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
			struct ctxfd_create args = {
				.flags = kinds[k],
				.deadline_ns = 1000000000LL * 3600,
				.clockid = clocks[i],
			};

			both_refused(_metadata, self, &args, EINVAL);
		}
	}
}

TEST_F(bad, negative_deadline_is_einval)
{
	__s64 bad_ns[] = { -1, -1000000000LL, INT64_MIN };
	__u64 kinds[] = { CTXFD_CREATE_DEADLINE, CTXFD_CREATE_TIMEOUT };
	unsigned int clocks[] = { CLOCK_MONOTONIC, CLOCK_BOOTTIME };
	size_t i, k, c;

	for (k = 0; k < 2; k++)
		for (c = 0; c < 2; c++)
			for (i = 0; i < 3; i++) {
				struct ctxfd_create args = {
					.flags = kinds[k],
					.deadline_ns = bad_ns[i],
					.clockid = clocks[c],
				};

				both_refused(_metadata, self, &args, EINVAL);
			}
}

TEST_F(bad, relative_timeout_that_overflows_is_einval)
{
	__s64 now = (__s64)t_now_ns(CLOCK_BOOTTIME);
	__s64 bad_ns[] = { INT64_MAX, INT64_MAX - 1, INT64_MAX - now / 2 };
	unsigned int clocks[] = { CLOCK_MONOTONIC, CLOCK_BOOTTIME };
	size_t i, c;

	for (c = 0; c < 2; c++)
		for (i = 0; i < 3; i++) {
			struct ctxfd_create args = {
				.flags = CTXFD_CREATE_TIMEOUT,
				.deadline_ns = bad_ns[i],
				.clockid = clocks[c],
			};

			both_refused(_metadata, self, &args, EINVAL);
		}
}

TEST_F(bad, deadline_cause_message_too_long_is_e2big)
{
	char msg[CTXFD_CAUSE_MSG_MAX + 2];
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_TIMEOUT,
		.deadline_ns = 1000000000LL * 3600,
		.clockid = CLOCK_MONOTONIC,
		.deadline_cause = {
			.code = 1,
			.msg_len = CTXFD_CAUSE_MSG_MAX + 1,
			.msg = (uintptr_t)msg,
		},
	};

	memset(msg, 'x', sizeof(msg));
	both_refused(_metadata, self, &args, E2BIG);
	args.deadline_cause.msg_len = 0xffffffffu;
	both_refused(_metadata, self, &args, E2BIG);
}

TEST_F(bad, deadline_cause_message_with_nul_is_einval)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_TIMEOUT,
		.deadline_ns = 1000000000LL * 3600,
		.clockid = CLOCK_MONOTONIC,
		.deadline_cause = {
			.code = 1,
			.msg_len = 3,
			.msg = (uintptr_t)"a\0b",
		},
	};

	both_refused(_metadata, self, &args, EINVAL);
}

TEST_F(bad, deadline_cause_pointer_without_length_is_einval)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_TIMEOUT,
		.deadline_ns = 1000000000LL * 3600,
		.clockid = CLOCK_MONOTONIC,
		.deadline_cause = { .msg = (uintptr_t)"late" },
	};

	both_refused(_metadata, self, &args, EINVAL);
}

TEST_F(bad, deadline_cause_length_with_null_pointer_is_efault)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_TIMEOUT,
		.deadline_ns = 1000000000LL * 3600,
		.clockid = CLOCK_MONOTONIC,
		.deadline_cause = { .msg_len = 4 },
	};

	both_refused(_metadata, self, &args, EFAULT);
}

TEST_F(bad, deadline_cause_unmapped_pointer_is_efault)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_DEADLINE,
		.deadline_ns = (__s64)t_now_ns(CLOCK_MONOTONIC) +
			       1000000000LL * 3600,
		.clockid = CLOCK_MONOTONIC,
		.deadline_cause = { .msg_len = 4 },
	};

	args.deadline_cause.msg = (uintptr_t)unmapped_page();
	ASSERT_NE(0, args.deadline_cause.msg);
	both_refused(_metadata, self, &args, EFAULT);
}

/*
 * The same malformed deadline cause, under a parent whose deadline is
 * earlier: the child needs no timer of its own, but its request is no
 * less malformed, and "bad input gets a clear errno".
 */
TEST_F(bad, deadline_cause_with_nul_is_einval_under_earlier_parent_deadline)
{
	int parent = t_child_timeout(self->root, 1000000000LL * 3600);
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_TIMEOUT,
		.deadline_ns = 1000000000LL * 7200,
		.clockid = CLOCK_MONOTONIC,
		.deadline_cause = {
			.code = 1,
			.msg_len = 3,
			.msg = (uintptr_t)"a\0b",
		},
	};

	ASSERT_LE(0, parent);
	create_refused(_metadata, parent, CTXFD_IOC_CREATE, &args, EINVAL);
	close(parent);
}

TEST_F(bad, deadline_cause_unmapped_pointer_is_efault_under_earlier_parent_deadline)
{
	int parent = t_child_timeout(self->root, 1000000000LL * 3600);
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_TIMEOUT,
		.deadline_ns = 1000000000LL * 7200,
		.clockid = CLOCK_MONOTONIC,
		.deadline_cause = { .code = 1, .msg_len = 4 },
	};

	ASSERT_LE(0, parent);
	args.deadline_cause.msg = (uintptr_t)unmapped_page();
	ASSERT_NE(0, args.deadline_cause.msg);
	create_refused(_metadata, parent, CTXFD_IOC_CREATE, &args, EFAULT);
	close(parent);
}

TEST_F(bad, value_fields_without_value_flag_are_einval)
{
	struct ctxfd_create base = {};
	struct ctxfd_create args;

	args = base;
	args.key = (uintptr_t)test_key;
	both_refused(_metadata, self, &args, EINVAL);
	args = base;
	args.key_len = 1;
	both_refused(_metadata, self, &args, EINVAL);
	args = base;
	args.value = (uintptr_t)test_val;
	both_refused(_metadata, self, &args, EINVAL);
	args = base;
	args.value_len = 1;
	both_refused(_metadata, self, &args, EINVAL);
}

TEST_F(bad, value_with_key_len_zero_is_einval)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_VALUE,
		.key = (uintptr_t)test_key,
		.value = (uintptr_t)test_val, .value_len = 1,
	};

	both_refused(_metadata, self, &args, EINVAL);
	args.key = 0;
	both_refused(_metadata, self, &args, EINVAL);
}

TEST_F(bad, value_key_longer_than_max_key_len_is_e2big)
{
	long long max = t_param_get("max_key_len");
	struct ctxfd_create args = { .flags = CTXFD_CREATE_VALUE };
	char *key;
	int fd;

	if (max < 1)
		max = 256;
	key = malloc((size_t)max + 2);
	ASSERT_NE(NULL, key);
	memset(key, 'k', (size_t)max + 2);
	args.key = (uintptr_t)key;
	args.key_len = (__u32)max + 1;
	both_refused(_metadata, self, &args, E2BIG);
	args.key_len = 0xffffffffu;
	both_refused(_metadata, self, &args, E2BIG);
	/* The limit itself is fine. */
	args.key_len = (__u32)max;
	fd = ioctl(self->root, CTXFD_IOC_CREATE, &args);
	EXPECT_LE(0, fd) TH_LOG("key of max_key_len %lld: %s", max,
				strerror(errno));
	if (fd >= 0)
		close(fd);
	TH_LOG("max_key_len %lld", max);
	free(key);
}

TEST_F(bad, value_longer_than_max_value_len_is_e2big)
{
	long long max = t_param_get("max_value_len");
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_VALUE,
		.key = (uintptr_t)test_key, .key_len = 1,
	};
	char *val;
	int fd;

	if (max < 0)
		max = 4096;
	val = malloc((size_t)max + 2);
	ASSERT_NE(NULL, val);
	memset(val, 'v', (size_t)max + 2);
	args.value = (uintptr_t)val;
	args.value_len = (__u32)max + 1;
	both_refused(_metadata, self, &args, E2BIG);
	args.value_len = 0xffffffffu;
	both_refused(_metadata, self, &args, E2BIG);
	if (max > 0) {
		args.value_len = (__u32)max;
		fd = ioctl(self->root, CTXFD_IOC_CREATE, &args);
		EXPECT_LE(0, fd) TH_LOG("value of max_value_len %lld: %s", max,
					strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	TH_LOG("max_value_len %lld", max);
	free(val);
}

TEST_F(bad, value_key_unmapped_or_null_pointer_is_efault)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_VALUE,
		.key_len = 1,
		.value = (uintptr_t)test_val, .value_len = 1,
	};

	both_refused(_metadata, self, &args, EFAULT);
	args.key = (uintptr_t)unmapped_page();
	ASSERT_NE(0, args.key);
	both_refused(_metadata, self, &args, EFAULT);
}

TEST_F(bad, value_unmapped_or_null_pointer_is_efault)
{
	struct ctxfd_create args = {
		.flags = CTXFD_CREATE_VALUE,
		.key = (uintptr_t)test_key, .key_len = 1,
		.value_len = 1,
	};

	both_refused(_metadata, self, &args, EFAULT);
	args.value = (uintptr_t)unmapped_page();
	ASSERT_NE(0, args.value);
	both_refused(_metadata, self, &args, EFAULT);
}

/* ---- CANCEL ------------------------------------------------------------ */

/* A cancel of @fd must fail with @want and leave root and child active. */
static void cancel_refused(struct __test_metadata *_metadata,
			   FIXTURE_DATA(bad) *self, int fd,
			   const struct ctxfd_cancel *args, int want)
{
	int ret, err;

	errno = 0;
	ret = ioctl(fd, CTXFD_IOC_CANCEL, args);
	err = errno;
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(want, err) TH_LOG("errno %d (%s)", err, strerror(err));
	EXPECT_EQ(0, t_err(self->root));
	EXPECT_EQ(0, t_err(self->child));
	EXPECT_FALSE(t_readable(self->root, 0));
	EXPECT_FALSE(t_readable(self->child, 0));
	EXPECT_EQ(1, t_nr_children(self->root));
}

TEST_F(bad, cancel_message_longer_than_max_is_e2big)
{
	char msg[CTXFD_CAUSE_MSG_MAX + 2];
	struct ctxfd_cancel args = {
		.cause = { .code = 1, .msg = (uintptr_t)msg },
	};

	memset(msg, 'm', sizeof(msg));
	args.cause.msg_len = CTXFD_CAUSE_MSG_MAX + 1;
	cancel_refused(_metadata, self, self->root, &args, E2BIG);
	cancel_refused(_metadata, self, self->child, &args, E2BIG);
	args.cause.msg_len = 0xffffffffu;
	cancel_refused(_metadata, self, self->root, &args, E2BIG);
}

TEST_F(bad, cancel_message_with_nul_byte_is_einval)
{
	static const struct { const char *s; __u32 len; } msgs[] = {
		{ "\0abc", 4 }, { "ab\0c", 4 }, { "abc\0", 4 }, { "\0", 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		struct ctxfd_cancel args = {
			.cause = {
				.code = 1,
				.msg_len = msgs[i].len,
				.msg = (uintptr_t)msgs[i].s,
			},
		};

		cancel_refused(_metadata, self, self->root, &args, EINVAL);
	}
}

TEST_F(bad, cancel_message_pointer_with_length_zero_is_einval)
{
	struct ctxfd_cancel args = {
		.cause = { .code = 1, .msg = (uintptr_t)"why" },
	};

	cancel_refused(_metadata, self, self->root, &args, EINVAL);
}

TEST_F(bad, cancel_message_length_with_null_pointer_is_efault)
{
	struct ctxfd_cancel args = {
		.cause = { .code = 1, .msg_len = 3 },
	};

	cancel_refused(_metadata, self, self->root, &args, EFAULT);
}

TEST_F(bad, cancel_message_unmapped_pointer_is_efault)
{
	struct ctxfd_cancel args = {
		.cause = { .code = 1, .msg_len = 3 },
	};
	size_t len;
	void *base;
	char *p;

	args.cause.msg = (uintptr_t)unmapped_page();
	ASSERT_NE(0, args.cause.msg);
	cancel_refused(_metadata, self, self->root, &args, EFAULT);

	/* A message whose last bytes lie on an unmapped page. */
	p = straddling_buf(8, 2, &base, &len);
	ASSERT_NE(NULL, p);
	p[0] = 'a';
	p[1] = 'b';
	args.cause.msg = (uintptr_t)p;
	args.cause.msg_len = 8;
	cancel_refused(_metadata, self, self->root, &args, EFAULT);
	munmap(base, len);
}

TEST_F(bad, failed_cancels_do_not_use_up_the_first_cancel)
{
	struct ctxfd_cancel bad_args = {
		.cause = { .code = 1, .msg_len = 3, .msg = (uintptr_t)"a\0b" },
	};
	struct ctxfd_info info;

	cancel_refused(_metadata, self, self->root, &bad_args, EINVAL);
	bad_args.cause.msg = 0;
	cancel_refused(_metadata, self, self->root, &bad_args, EFAULT);
	ASSERT_EQ(0, t_cancel(self->root, 5, "good"));
	ASSERT_EQ(0, t_info(self->root, &info));
	EXPECT_EQ(ECANCELED, info.err);
	EXPECT_EQ(5, info.cause_code);
	EXPECT_STREQ("good", info.cause_msg);
	ASSERT_EQ(0, t_info(self->child, &info));
	EXPECT_EQ(5, info.cause_code);
	EXPECT_STREQ("good", info.cause_msg);
}

TEST_F(bad, cancel_on_watch_only_fd_is_eperm_and_changes_nothing)
{
	struct ctxfd_cancel args = { .cause = { .code = 9 } };
	int watch = t_watch(self->root, 0);
	int cwatch = t_watch(self->child, 0);
	int w2;

	ASSERT_LE(0, watch);
	ASSERT_LE(0, cwatch);
	cancel_refused(_metadata, self, watch, &args, EPERM);
	cancel_refused(_metadata, self, cwatch, &args, EPERM);
	/* A watch fd derived from a watch fd cannot cancel either. */
	w2 = t_watch(watch, 0);
	ASSERT_LE(0, w2);
	cancel_refused(_metadata, self, w2, &args, EPERM);
	close(w2);
	EXPECT_FALSE(t_readable(watch, 0));
	close(cwatch);
	close(watch);
}

TEST_F(bad, cancel_on_value_or_without_cancel_fd_is_eperm)
{
	struct ctxfd_cancel args = {};
	struct ctxfd_create wc = { .flags = CTXFD_CREATE_WITHOUT_CANCEL };
	int value = t_child_value(self->root, test_key, test_val, 1);
	int without = ioctl(self->root, CTXFD_IOC_CREATE, &wc);

	ASSERT_LE(0, value);
	ASSERT_LE(0, without);
	errno = 0;
	EXPECT_EQ(-1, ioctl(value, CTXFD_IOC_CANCEL, &args));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(0, t_err(value));
	errno = 0;
	EXPECT_EQ(-1, ioctl(without, CTXFD_IOC_CANCEL, &args));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(0, t_err(without));
	EXPECT_EQ(0, t_err(self->root));
	close(without);
	close(value);
}

/* ---- LOOKUP ------------------------------------------------------------ */

static void lookup_refused(struct __test_metadata *_metadata, int fd,
			   struct ctxfd_lookup *args, int want)
{
	int ret, err;

	errno = 0;
	ret = ioctl(fd, CTXFD_IOC_LOOKUP, args);
	err = errno;
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(want, err) TH_LOG("errno %d (%s)", err, strerror(err));
}

TEST_F(bad, lookup_with_flags_is_einval)
{
	int value = t_child_value(self->root, test_key, test_val, 1);
	char buf[8];
	int bit;

	ASSERT_LE(0, value);
	for (bit = 0; bit < 64; bit++) {
		struct ctxfd_lookup args = {
			.flags = 1ULL << bit,
			.key = (uintptr_t)test_key, .key_len = 1,
			.value = (uintptr_t)buf, .value_len = sizeof(buf),
		};

		lookup_refused(_metadata, value, &args, EINVAL);
	}
	close(value);
}

TEST_F(bad, lookup_with_reserved_field_is_einval)
{
	int value = t_child_value(self->root, test_key, test_val, 1);
	char buf[8];
	int bit;

	ASSERT_LE(0, value);
	for (bit = 0; bit < 32; bit++) {
		struct ctxfd_lookup args = {
			.key = (uintptr_t)test_key, .key_len = 1,
			.value = (uintptr_t)buf, .value_len = sizeof(buf),
			.__reserved = 1U << bit,
		};

		lookup_refused(_metadata, value, &args, EINVAL);
		EXPECT_EQ(0, args.result_flags);	/* nothing written */
	}
	close(value);
}

TEST_F(bad, lookup_with_key_len_zero_is_einval)
{
	int value = t_child_value(self->root, test_key, test_val, 1);
	char buf[8];
	struct ctxfd_lookup args = {
		.key = (uintptr_t)test_key,
		.value = (uintptr_t)buf, .value_len = sizeof(buf),
	};

	ASSERT_LE(0, value);
	lookup_refused(_metadata, value, &args, EINVAL);
	args.key = 0;
	lookup_refused(_metadata, value, &args, EINVAL);
	close(value);
}

TEST_F(bad, lookup_key_longer_than_max_key_len_is_e2big)
{
	long long max = t_param_get("max_key_len");
	int value = t_child_value(self->root, test_key, test_val, 1);
	struct ctxfd_lookup args = {};
	char buf[8];
	char *key;

	ASSERT_LE(0, value);
	if (max < 1)
		max = 256;
	key = malloc((size_t)max + 1);
	ASSERT_NE(NULL, key);
	memset(key, 'k', (size_t)max + 1);
	args.key = (uintptr_t)key;
	args.key_len = (__u32)max + 1;
	args.value = (uintptr_t)buf;
	args.value_len = sizeof(buf);
	lookup_refused(_metadata, value, &args, E2BIG);
	args.key_len = 0xffffffffu;
	lookup_refused(_metadata, value, &args, E2BIG);
	/* At the limit: a well-formed miss. */
	args.key_len = (__u32)max;
	args.value_len = sizeof(buf);
	lookup_refused(_metadata, value, &args, ENOENT);
	free(key);
	close(value);
}

TEST_F(bad, lookup_key_null_or_unmapped_pointer_is_efault)
{
	int value = t_child_value(self->root, test_key, test_val, 1);
	char buf[8];
	struct ctxfd_lookup args = {
		.key_len = 1,
		.value = (uintptr_t)buf, .value_len = sizeof(buf),
	};

	ASSERT_LE(0, value);
	lookup_refused(_metadata, value, &args, EFAULT);
	args.key = (uintptr_t)unmapped_page();
	lookup_refused(_metadata, value, &args, EFAULT);
	close(value);
}

TEST_F(bad, lookup_value_buffer_unmapped_is_efault)
{
	int value = t_child_value(self->root, test_key, test_val, 1);
	struct ctxfd_lookup args = {
		.key = (uintptr_t)test_key, .key_len = 1,
		.value_len = 8,
	};

	ASSERT_LE(0, value);
	args.value = (uintptr_t)unmapped_page();
	lookup_refused(_metadata, value, &args, EFAULT);
	args.value = 0;
	lookup_refused(_metadata, value, &args, EFAULT);
	close(value);
}

/* ---- unknown ioctl numbers ----------------------------------------------- */

static void unknown_cmds_refused(struct __test_metadata *_metadata, int fd)
{
	/* Every number but NEW..PARENTS (0x01..0x09). */
	unsigned int nrs[] = { 0x00, 0x0a, 0x10, 0x40, 0x7f, 0x80, 0xff };
	unsigned int sizes[] = { 0, 8, 64, 192 };
	__u64 buf[64] = {};
	size_t n, d, s;

	for (n = 0; n < sizeof(nrs) / sizeof(nrs[0]); n++)
		for (d = 0; d < 4; d++)
			for (s = 0; s < 4; s++) {
				unsigned long cmd = _IOC(all_dirs[d],
							 CTXFD_IOC_MAGIC,
							 nrs[n], sizes[s]);

				errno = 0;
				EXPECT_EQ(-1, ioctl(fd, cmd, buf));
				EXPECT_EQ(ENOTTY, errno)
					TH_LOG("cmd %#lx", cmd);
			}
	/* The right numbers and sizes under another type byte. */
	for (n = 1; n <= 6; n++) {
		unsigned long cmd = _IOC(_IOC_WRITE, 0xC6, n,
					 sizeof(struct ctxfd_create));

		errno = 0;
		EXPECT_EQ(-1, ioctl(fd, cmd, buf));
		EXPECT_EQ(ENOTTY, errno) TH_LOG("cmd %#lx", cmd);
	}
}

TEST_F(bad, unknown_ioctl_number_on_context_fd_is_enotty)
{
	int nfds = t_nr_fds();

	unknown_cmds_refused(_metadata, self->root);
	EXPECT_EQ(0, t_err(self->root));
	EXPECT_EQ(1, t_nr_children(self->root));
	EXPECT_EQ(nfds, t_nr_fds());
}

TEST_F(bad, unknown_ioctl_number_on_device_is_enotty)
{
	int nfds = t_nr_fds();

	unknown_cmds_refused(_metadata, self->dev);
	EXPECT_EQ(nfds, t_nr_fds());
}

/* ---- RLIMIT_NOFILE --------------------------------------------------- */

/*
 * Lower RLIMIT_NOFILE to the lowest free descriptor, so that the next
 * fd-creating call finds none. Returns the old limit in *old.
 */
static int exhaust_fds(struct rlimit *old)
{
	int lowest = fcntl(0, F_DUPFD_CLOEXEC, 0);
	struct rlimit rl;

	if (lowest < 0)
		return -1;
	close(lowest);
	if (getrlimit(RLIMIT_NOFILE, old))
		return -1;
	rl = *old;
	rl.rlim_cur = (rlim_t)lowest;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

/* With no fd to spare, t_nr_fds() cannot work: count before and after. */
static void create_emfile(struct __test_metadata *_metadata, int fd,
			  unsigned long cmd, const struct ctxfd_create *args)
{
	int kids = t_nr_children(fd);
	int ret, err;

	errno = 0;
	ret = ioctl(fd, cmd, args);
	err = errno;
	if (ret >= 0)
		close(ret);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EMFILE, err) TH_LOG("flags %#llx: errno %d (%s)",
				      (unsigned long long)args->flags, err,
				      strerror(err));
	EXPECT_EQ(kids, t_nr_children(fd));
}

TEST_F(bad, create_at_rlimit_nofile_is_emfile_and_links_nothing)
{
	struct ctxfd_create timed = {
		.flags = CTXFD_CREATE_TIMEOUT,
		.deadline_ns = 1000000000LL * 3600,
		.clockid = CLOCK_MONOTONIC,
		.deadline_cause = { .code = 3, .msg_len = 4,
				    .msg = (uintptr_t)"late" },
	};
	struct ctxfd_create value = {
		.flags = CTXFD_CREATE_VALUE,
		.key = (uintptr_t)test_key, .key_len = 1,
		.value = (uintptr_t)test_val, .value_len = 1,
	};
	struct ctxfd_create without = { .flags = CTXFD_CREATE_WITHOUT_CANCEL };
	struct ctxfd_create plain = {};
	int nfds = t_nr_fds();
	struct rlimit old;
	int fd;

	ASSERT_EQ(0, exhaust_fds(&old));
	create_emfile(_metadata, self->root, CTXFD_IOC_CREATE, &plain);
	create_emfile(_metadata, self->root, CTXFD_IOC_CREATE, &timed);
	create_emfile(_metadata, self->root, CTXFD_IOC_CREATE, &value);
	create_emfile(_metadata, self->root, CTXFD_IOC_CREATE, &without);
	create_emfile(_metadata, self->dev, CTXFD_IOC_NEW, &plain);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	EXPECT_EQ(nfds, t_nr_fds());
	EXPECT_EQ(0, t_err(self->root));
	EXPECT_EQ(1, t_nr_children(self->root));
	/* And creation works again once an fd is available. */
	fd = t_child(self->root, 0);
	EXPECT_LE(0, fd);
	EXPECT_EQ(2, t_nr_children(self->root));
	close(fd);
}

TEST_F(bad, watch_at_rlimit_nofile_is_emfile)
{
	struct ctxfd_watch args = {};
	struct rlimit old;
	int nfds, ret, err;

	nfds = t_nr_fds();
	ASSERT_EQ(0, exhaust_fds(&old));
	errno = 0;
	ret = ioctl(self->root, CTXFD_IOC_WATCH, &args);
	err = errno;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	if (ret >= 0)
		close(ret);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EMFILE, err);
	EXPECT_EQ(nfds, t_nr_fds());
	EXPECT_EQ(0, t_err(self->root));
}

/* INFO is pure output: whatever a larger buffer holds, the tail is zeroed. */
TEST_F(bad, info_larger_struct_tail_is_zero_filled)
{
	static unsigned char buf[(IOC_SIZE_MAX + 1)];
	unsigned int sizes[] = { sizeof(struct ctxfd_info) + 1, 4096,
				 IOC_SIZE_MAX };
	size_t i, j;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned long cmd = _IOC(_IOC_READ, CTXFD_IOC_MAGIC,
					 _IOC_NR(CTXFD_IOC_INFO), sizes[i]);
		struct ctxfd_info *info = (void *)buf;
		size_t nonzero = 0;

		memset(buf, 0xa5, sizeof(buf));
		ASSERT_EQ(0, ioctl(self->root, cmd, buf))
			TH_LOG("size %u: %s", sizes[i], strerror(errno));
		EXPECT_EQ(t_id(self->root), info->id);
		for (j = sizeof(*info); j < sizes[i]; j++)
			nonzero += buf[j] != 0;
		EXPECT_EQ(0, nonzero) TH_LOG("size %u", sizes[i]);
		/* Past the caller's size, nothing was written. */
		if (sizes[i] < sizeof(buf))
			EXPECT_EQ(0xa5, buf[sizes[i]]);
	}
}

/* A failed child creation never cancels or otherwise touches the parent. */
TEST_F(bad, failed_creates_leave_parent_cancelable_with_its_own_cause)
{
	struct ctxfd_create args = { .__reserved0 = 1 };
	struct ctxfd_info info;
	int i;

	for (i = 0; i < 100; i++)
		create_refused(_metadata, self->child, CTXFD_IOC_CREATE, &args,
			       EINVAL);
	EXPECT_EQ(0, t_nr_children(self->child));
	ASSERT_EQ(0, t_cancel(self->root, 11, "parent"));
	ASSERT_EQ(0, t_info(self->child, &info));
	EXPECT_EQ(11, info.cause_code);
	EXPECT_STREQ("parent", info.cause_msg);
}

TEST_HARNESS_MAIN
