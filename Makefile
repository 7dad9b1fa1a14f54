# SPDX-License-Identifier: GPL-2.0
#
# ctxfd: build everything, test it in a VM, run the demo.
#
#   make                 module (against Debian's headers), library,
#                        selftests and tools; no root, no VM
#   make check           everything above, then docs-check and the
#                        selftests in a VM
#   make docs-check      the documentation builds clean (docutils, groff)
#   make demo            the main job: build, then a demo in a VM
#   make check-debug     the selftests on a debug kernel (KASAN, lockdep...)
#   make check-rt        the selftests on Debian's PREEMPT_RT kernel
#   make check-newest    the selftests on the newest Debian kernel
#   make KERNEL=6.12 ... pick another kernel (tools/vm/kernel.sh)
#   make KDIR=/path ...  build the module against other headers
#   make deb             the Debian packages (build/deb/), then lintian
#   make check-packages  install them in VMs (6.1, 6.12), use, purge
#   make install-dkms    the module's sources for DKMS (/usr/src), and
#                        as root without DESTDIR: dkms add + install
#   make install         library, headers, ctxrun, man pages (DESTDIR, PREFIX)
#   make uninstall       remove them; make [un]install-module: the module
#
# Outputs go to build/ (ignored by git). Each part adds its rules in its
# own .mk file below.

KERNEL ?= 6.1
export KERNEL

BUILD := build
TOP := $(CURDIR)

# The one version number of ctxfd: module, library, packages and tools
# (see Documentation/admin-guide/install.rst, "Versions"; tools/version).
VERSION := $(shell cat $(TOP)/VERSION)

# The kernel to build for: resolved once per make invocation.
ifeq ($(origin KDIR),undefined)
KENV := $(shell tools/vm/kernel.sh $(KERNEL) 2>/dev/null)
KVER := $(patsubst KVER=%,%,$(filter KVER=%,$(KENV)))
KDIR := $(patsubst KDIR=%,%,$(filter KDIR=%,$(KENV)))
# A kernel whose headers need a newer toolchain than the host's (the
# newest Debian kernel) has them in a chroot of its release: the module is
# built in there (tools/newest-kernel/in-chroot), KDIR seen from inside.
KCHROOT := $(patsubst CHROOT=%,%,$(filter CHROOT=%,$(KENV)))
else
KVER ?= $(shell $(MAKE) -s -C $(KDIR) kernelrelease 2>/dev/null)
endif

CC ?= gcc
CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2 \
	    -Wstrict-prototypes -Wmissing-prototypes
UAPI_CFLAGS := -I$(TOP)/uapi

.PHONY: all module selftests lib tools check demo clean help deps install-module \
	docs-check uninstall uninstall-module
all: module lib selftests tools

help:
	@sed -n '3,17p' Makefile | sed 's/^# \{0,1\}//'

deps:
	tools/deps.sh $(DEPS)

# ---- the kernel module ----------------------------------------------------
KMOD_DIR := $(BUILD)/kmod/$(KVER)
KMOD_SRCS := Kbuild VERSION $(wildcard module/*.c module/*.h) uapi/linux/ctxfd.h

module: $(KMOD_DIR)/ctxfd.ko

# Kbuild writes its objects next to the sources, so the sources are copied
# (timestamps kept) into a directory per kernel: builds for several
# kernels never clobber each other, and the tree stays clean.
$(KMOD_DIR)/ctxfd.ko: $(KMOD_SRCS)
	@if [ -z "$(KVER)" ] || [ ! -d "$(KDIR)" ]; then \
		tools/vm/kernel.sh $(KERNEL) >/dev/null; \
		echo "no kernel headers for KERNEL=$(KERNEL) (KDIR=$(KDIR))" >&2; \
		exit 2; fi
	@mkdir -p $(KMOD_DIR)
	@for f in $(KMOD_SRCS); do mkdir -p $(KMOD_DIR)/$$(dirname $$f); \
		cp -p $$f $(KMOD_DIR)/$$f; done
ifeq ($(KCHROOT),)
	$(MAKE) -C $(KDIR) M=$(TOP)/$(KMOD_DIR) modules
else
	tools/newest-kernel/in-chroot $(KCHROOT) \
		$(MAKE) -C $(KDIR:$(KCHROOT)%=%) M=$(TOP)/$(KMOD_DIR) modules
endif

# Install the module for KVER (extra/), its udev rule, and refresh the
# module index so that the first open of /dev/ctxfd loads it.
install-module: module install-udev
	install -D -m 644 $(KMOD_DIR)/ctxfd.ko \
		$(DESTDIR)/lib/modules/$(KVER)/extra/ctxfd.ko
	if [ -z "$(DESTDIR)" ]; then depmod -a $(KVER); fi

.PHONY: install-udev man-admin install-man-admin
install-udev:
	install -D -m 644 tools/udev/60-ctxfd.rules \
		$(DESTDIR)/lib/udev/rules.d/60-ctxfd.rules

# ctxfd-secure-boot(7), from its RST (rst2man: python3-docutils): the page
# libctxfd's "could not be loaded" messages point to.
MAN_ADMIN := $(BUILD)/man/man7/ctxfd-secure-boot.7
man-admin: $(MAN_ADMIN)
$(MAN_ADMIN): Documentation/admin-guide/secure-boot.rst
	@mkdir -p $(dir $@)
	rst2man --no-generator --no-datestamp $< > $@.tmp
	mv $@.tmp $@

install-man-admin: $(MAN_ADMIN)
	install -D -m 644 $(MAN_ADMIN) $(DESTDIR)$(MANDIR)/man7/ctxfd-secure-boot.7

# DKMS (dkms.conf): the module's sources, as Kbuild builds them, in
# /usr/src/ctxfd-$(VERSION); then, on this machine (no DESTDIR, as root),
# DKMS builds and installs the module for the running kernel and, as
# AUTOINSTALL is set, for every kernel installed later. The Debian package
# ctxfd-dkms installs the same tree (debian/rules).
DKMS_SRC := /usr/src/ctxfd-$(VERSION)

.PHONY: install-dkms-source install-dkms uninstall-dkms
install-dkms-source:
	@for f in $(KMOD_SRCS); do \
		install -D -m 644 $$f $(DESTDIR)$(DKMS_SRC)/$$f || exit; done
	sed 's/#MODULE_VERSION#/$(VERSION)/' dkms.conf > $(DESTDIR)$(DKMS_SRC)/dkms.conf

install-dkms: install-dkms-source install-udev
	if [ -z "$(DESTDIR)" ]; then \
		dkms add ctxfd/$(VERSION) && dkms install ctxfd/$(VERSION); fi

uninstall-dkms:
	-dkms remove ctxfd/$(VERSION) --all
	rm -rf $(DKMS_SRC) /lib/udev/rules.d/60-ctxfd.rules

uninstall-module:
	rm -f $(DESTDIR)/lib/modules/$(KVER)/extra/ctxfd.ko \
		$(DESTDIR)/lib/udev/rules.d/60-ctxfd.rules
	if [ -z "$(DESTDIR)" ]; then depmod -a $(KVER); fi

include selftests/selftests.mk
-include lib/lib.mk
-include lib/python/python.mk
-include lib/go/go.mk
-include tools/tools.mk
-include selftests/userprogs/userprogs.mk
-include tools/ctxd/ctxd.mk
include tools/lanes.mk
include tools/deb/deb.mk
include tools/demo/demo.mk
-include tools/bench/bench.mk

# ---- VM lanes -------------------------------------------------------------
check:
	tools/check

# On the host: no kernel is needed to check documents (tools/check runs it
# before the VM too).
docs-check:
	tools/docs-check

demo:
	tools/demo/run

clean:
	rm -rf $(BUILD)
