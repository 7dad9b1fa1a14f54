# SPDX-License-Identifier: LGPL-2.1-or-later
#
# libctxfd: the library, its examples, its selftests (plain, ASan and
# valgrind) and its installation. Included by the top Makefile.
#
#   make lib             build/lib/libctxfd.so{,.1,.1.0.0}, libctxfd.a, .pc
#   make examples        build/lib/examples/*
#   make selftests       also build/selftests/libctxfd{,-asan,-valgrind}/*
#   make install         DESTDIR, PREFIX (/usr/local), LIBDIR, INCLUDEDIR,
#                        MANDIR, PKGCONFIGDIR
#   make uninstall       removes what make install installed (same variables)
#   make bench-lib       the ctx_err()/create+cancel benchmark, in the VM

# ctxfd's version (VERSION, read by the top Makefile): the file name
# libctxfd.so.X.Y.Z and the soname libctxfd.so.X. lib/ctxfd.h's
# LIBCTXFD_VERSION_* must agree: tools/version checks it before the build.
LIB_VERSION := $(VERSION)
LIB_SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
LIB_DIR := $(BUILD)/lib
LIB_SO := $(LIB_DIR)/libctxfd.so.$(LIB_VERSION)
LIB_SONAME := libctxfd.so.$(LIB_SOMAJOR)
LIB_A := $(LIB_DIR)/libctxfd.a
LIB_PC := $(LIB_DIR)/libctxfd.pc

LIB_SRCS := $(sort $(wildcard lib/*.c))
LIB_HDRS := $(wildcard lib/*.h) uapi/linux/ctxfd.h
LIB_OBJS := $(patsubst lib/%.c,$(LIB_DIR)/obj/%.o,$(LIB_SRCS))
LIB_ASAN_OBJS := $(patsubst lib/%.c,$(LIB_DIR)/asan/obj/%.o,$(LIB_SRCS))
LIB_ASAN_A := $(LIB_DIR)/asan/libctxfd.a

KMOD_CFLAGS := $(shell pkg-config --cflags libkmod 2>/dev/null)
KMOD_LIBS := $(or $(shell pkg-config --libs libkmod 2>/dev/null),-lkmod)

LIB_CFLAGS := $(CFLAGS) $(WARNINGS) -Werror -std=gnu11 -D_GNU_SOURCE \
	-fPIC -fvisibility=hidden -pthread $(UAPI_CFLAGS) -I$(TOP)/lib $(KMOD_CFLAGS)
ASAN_FLAGS := -fsanitize=address -fno-omit-frame-pointer -g
LIB_LDFLAGS := -shared -Wl,-soname,$(LIB_SONAME) \
	-Wl,--version-script=lib/libctxfd.map -Wl,-z,defs -Wl,-z,nodelete \
	-Wl,--as-needed

.PHONY: lib examples install install-lib uninstall uninstall-lib bench-lib

lib: $(LIB_SO) $(LIB_DIR)/$(LIB_SONAME) $(LIB_DIR)/libctxfd.so $(LIB_A) $(LIB_PC)

# Every copy of the version agrees with VERSION (tools/version check).
$(LIB_DIR)/version.ok: VERSION lib/ctxfd.h $(wildcard debian/changelog debian/control) tools/version
	@tools/version check
	@mkdir -p $(dir $@) && touch $@

$(LIB_DIR)/obj/%.o: lib/%.c $(LIB_HDRS) | $(LIB_DIR)/version.ok
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(LIB_CFLAGS) -c -o $@ $<

$(LIB_DIR)/asan/obj/%.o: lib/%.c $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) $(ASAN_FLAGS) -c -o $@ $<

$(LIB_SO): $(LIB_OBJS) lib/libctxfd.map
	$(CC) $(CFLAGS) $(LDFLAGS) $(LIB_LDFLAGS) -o $@ $(LIB_OBJS) $(KMOD_LIBS) -pthread

$(LIB_DIR)/$(LIB_SONAME): $(LIB_SO)
	ln -sf $(notdir $<) $@

$(LIB_DIR)/libctxfd.so: $(LIB_DIR)/$(LIB_SONAME)
	ln -sf $(notdir $<) $@

$(LIB_A): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIB_ASAN_A): $(LIB_ASAN_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# make-pc PREFIX LIBDIR INCLUDEDIR OUTPUT
define make-pc
sed -e 's|@PREFIX@|$(1)|' -e 's|@LIBDIR@|$(2)|' -e 's|@INCLUDEDIR@|$(3)|' \
	-e 's|@VERSION@|$(LIB_VERSION)|' lib/libctxfd.pc.in > $(4)
endef

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

$(LIB_PC): lib/libctxfd.pc.in VERSION
	@mkdir -p $(dir $@)
	$(call make-pc,$(PREFIX),$(LIBDIR),$(INCLUDEDIR),$@)

# ---- examples ------------------------------------------------------------
# Programs written the way a user would: #include <ctxfd.h>, -lctxfd. The
# selftests run them and check their output; the ASan build is used by the
# ASan selftests.
LIB_EX_SRCS := $(sort $(wildcard lib/examples/*.c))
LIB_EX_BINS := $(patsubst lib/examples/%.c,$(LIB_DIR)/examples/%,$(LIB_EX_SRCS))
LIB_EX_ASAN_BINS := $(patsubst lib/examples/%.c,$(LIB_DIR)/asan/examples/%,$(LIB_EX_SRCS))
LIB_EX_CFLAGS := $(CFLAGS) $(WARNINGS) -Werror -std=gnu11 -D_GNU_SOURCE \
	-pthread -I$(TOP)/lib $(UAPI_CFLAGS)

examples: $(LIB_EX_BINS)

$(LIB_DIR)/examples/%: lib/examples/%.c lib/ctxfd.h $(LIB_SO) $(LIB_DIR)/libctxfd.so
	@mkdir -p $(dir $@)
	$(CC) $(LIB_EX_CFLAGS) -o $@ $< -L$(LIB_DIR) -lctxfd \
		-Wl,-rpath,'$$ORIGIN/..' -pthread

$(LIB_DIR)/asan/examples/%: lib/examples/%.c lib/ctxfd.h $(LIB_ASAN_A)
	@mkdir -p $(dir $@)
	$(CC) $(LIB_EX_CFLAGS) $(ASAN_FLAGS) -o $@ $< $(LIB_ASAN_A) \
		$(KMOD_LIBS) -pthread

# ---- selftests ---------------------------------------------------------
# selftests/libctxfd/*_test.c are built three ways: against the shared
# library (group libctxfd), with ASan against an ASan build of the
# library (group libctxfd-asan), and run under valgrind by
# selftests/libctxfd-valgrind/valgrind.c, built once per program
# (group libctxfd-valgrind, same names).
LIB_TEST_SRCS := $(sort $(wildcard selftests/libctxfd/*_test.c))
LIB_TEST_NAMES := $(notdir $(basename $(LIB_TEST_SRCS)))
LIB_TEST_HDRS := $(wildcard selftests/libctxfd/*.h) $(SELFTEST_HDRS) lib/ctxfd.h
LIB_ASAN_TESTS := $(addprefix $(BUILD)/selftests/libctxfd-asan/,$(LIB_TEST_NAMES))
LIB_VG_DIR := $(BUILD)/selftests/libctxfd-valgrind
# Not under valgrind: programs whose library code allocates nothing and
# that ASan covers, where valgrind would only add time to the 6.1 lane
# (observe_test: 33 s under valgrind in TCG, 5 s under ASan); and the
# programs whose time goes to threads and child processes (AfterFunc
# watchers, examples, pipelines, module loading), which ASan and its leak
# checker cover in the same lane at a fraction of valgrind's time (the
# valgrind group took about 6 minutes of the 6.1 lane with them).
# merge_test times its parents' deadlines, which valgrind's slowdown
# reorders.
LIB_VG_SKIP := observe_test afterfunc_test go_afterfunc_test examples_test \
	pipeline_test modload_test merge_test
LIB_VG_TESTS := $(addprefix $(LIB_VG_DIR)/,$(filter-out $(LIB_VG_SKIP),$(LIB_TEST_NAMES)))
LIB_TEST_CFLAGS = $(SELFTEST_CFLAGS) -std=gnu11 -D_GNU_SOURCE -I$(TOP)/lib \
	-I$(TOP)/selftests/libctxfd

selftests: $(LIB_ASAN_TESTS) $(LIB_VG_TESTS) $(LIB_EX_BINS) $(LIB_EX_ASAN_BINS) \
	lib-vg-stale

$(BUILD)/selftests/libctxfd/%: selftests/libctxfd/%.c $(LIB_TEST_HDRS) $(KSFT_HDR) \
		$(LIB_SO) $(LIB_DIR)/libctxfd.so
	@mkdir -p $(dir $@)
	$(CC) $(LIB_TEST_CFLAGS) \
		-DCTX_EXAMPLES_DIR='"$(TOP)/$(LIB_DIR)/examples"' \
		-DCTX_EXAMPLES_SRC='"$(TOP)/lib/examples"' \
		-o $@ $< -L$(LIB_DIR) -lctxfd -Wl,-rpath,'$$ORIGIN/../../lib' \
		$(SELFTEST_LDLIBS)

$(BUILD)/selftests/libctxfd-asan/%: selftests/libctxfd/%.c $(LIB_TEST_HDRS) \
		$(KSFT_HDR) $(LIB_ASAN_A)
	@mkdir -p $(dir $@)
	$(CC) $(LIB_TEST_CFLAGS) $(ASAN_FLAGS) \
		-DCTX_EXAMPLES_DIR='"$(TOP)/$(LIB_DIR)/asan/examples"' \
		-DCTX_EXAMPLES_SRC='"$(TOP)/lib/examples"' \
		-o $@ $< $(LIB_ASAN_A) $(KMOD_LIBS) $(SELFTEST_LDLIBS)

$(LIB_VG_DIR)/%_test: selftests/libctxfd-valgrind/valgrind.c $(SELFTEST_HDRS) \
		$(KSFT_HDR) selftests/libctxfd-valgrind/libctxfd.supp
	@mkdir -p $(dir $@)
	$(CC) $(SELFTEST_CFLAGS) -std=gnu11 -D_GNU_SOURCE \
		-DVG_PROGRAM=$*_test -DCTX_TOP='"$(TOP)"' \
		-DCTX_TESTS_DIR='"$(TOP)/$(BUILD)/selftests/libctxfd"' \
		-o $@ $< $(SELFTEST_LDLIBS)

# The one program that ran them all, before: tools/run-tests would run it
# too in build trees that have it.
.PHONY: lib-vg-stale
lib-vg-stale:
	@rm -f $(LIB_VG_DIR)/valgrind_test $(LIB_VG_DIR)/tests.h \
		$(addprefix $(LIB_VG_DIR)/,$(LIB_VG_SKIP))

# ---- benchmark -----------------------------------------------------------
bench-lib: examples
	tools/vm/run -- $(LIB_DIR)/examples/bench

# ---- install -------------------------------------------------------------
LIB_MAN3 := $(wildcard Documentation/man/man3/*.3)
LIB_MAN7 := $(wildcard Documentation/man/man7/*.7)

install: install-lib
uninstall: uninstall-lib

install-lib: lib
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/linux \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man3 \
		$(DESTDIR)$(MANDIR)/man7
	install -m 0755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(LIB_SO)) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libctxfd.so
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 0644 lib/ctxfd.h $(DESTDIR)$(INCLUDEDIR)/ctxfd.h
	install -m 0644 uapi/linux/ctxfd.h $(DESTDIR)$(INCLUDEDIR)/linux/ctxfd.h
	$(call make-pc,$(PREFIX),$(LIBDIR),$(INCLUDEDIR),$(DESTDIR)$(PKGCONFIGDIR)/libctxfd.pc)
	$(if $(LIB_MAN3),install -m 0644 $(LIB_MAN3) $(DESTDIR)$(MANDIR)/man3/)
	$(if $(LIB_MAN7),install -m 0644 $(LIB_MAN7) $(DESTDIR)$(MANDIR)/man7/)

# Exactly what install-lib installs; directories only if they are left empty.
uninstall-lib:
	rm -f $(DESTDIR)$(LIBDIR)/$(notdir $(LIB_SO)) \
		$(DESTDIR)$(LIBDIR)/$(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libctxfd.so \
		$(DESTDIR)$(LIBDIR)/$(notdir $(LIB_A)) \
		$(DESTDIR)$(INCLUDEDIR)/ctxfd.h $(DESTDIR)$(INCLUDEDIR)/linux/ctxfd.h \
		$(DESTDIR)$(PKGCONFIGDIR)/libctxfd.pc \
		$(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(LIB_MAN3))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(LIB_MAN7)))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/linux 2>/dev/null
