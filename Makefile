# SPDX-License-Identifier: GPL-2.0
#
# ctxfd: build everything, test it in a VM, run the demo.
#
#   make                 module (against Debian's headers), library,
#                        selftests and tools; no root, no VM
#   make check           everything above, then the selftests in a VM
#   make demo            the main job: build, then a demo in a VM
#   make check-debug     the selftests on a debug kernel (KASAN, lockdep...)
#   make check-rt        the selftests on Debian's PREEMPT_RT kernel
#   make KERNEL=6.12 ... pick another kernel (tools/vm/kernel.sh)
#   make KDIR=/path ...  build the module against other headers
#
# Outputs go to build/ (ignored by git). Each part adds its rules in its
# own .mk file below.

KERNEL ?= 6.1
export KERNEL

BUILD := build
TOP := $(CURDIR)

# The kernel to build for: resolved once per make invocation.
ifeq ($(origin KDIR),undefined)
KENV := $(shell tools/vm/kernel.sh $(KERNEL) 2>/dev/null)
KVER := $(patsubst KVER=%,%,$(filter KVER=%,$(KENV)))
KDIR := $(patsubst KDIR=%,%,$(filter KDIR=%,$(KENV)))
else
KVER ?= $(shell $(MAKE) -s -C $(KDIR) kernelrelease 2>/dev/null)
endif

CC ?= gcc
CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2 \
	    -Wstrict-prototypes -Wmissing-prototypes
UAPI_CFLAGS := -I$(TOP)/uapi

.PHONY: all module selftests lib tools check demo clean help deps install-module
all: module lib selftests tools

help:
	@sed -n '3,15p' Makefile | sed 's/^# \{0,1\}//'

deps:
	tools/deps.sh $(DEPS)

# ---- the kernel module ----------------------------------------------------
KMOD_DIR := $(BUILD)/kmod/$(KVER)
KMOD_SRCS := Kbuild $(wildcard module/*.c module/*.h) uapi/linux/ctxfd.h

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
	$(MAKE) -C $(KDIR) M=$(TOP)/$(KMOD_DIR) modules

# Install the module for KVER (extra/), its udev rule, and refresh the
# module index so that the first open of /dev/ctxfd loads it.
install-module: module
	install -D -m 644 $(KMOD_DIR)/ctxfd.ko \
		$(DESTDIR)/lib/modules/$(KVER)/extra/ctxfd.ko
	install -D -m 644 tools/udev/60-ctxfd.rules \
		$(DESTDIR)/lib/udev/rules.d/60-ctxfd.rules
	if [ -z "$(DESTDIR)" ]; then depmod -a $(KVER); fi

include selftests/selftests.mk
-include lib/lib.mk
-include tools/tools.mk
-include tools/ctxd/ctxd.mk
include tools/lanes.mk
include tools/demo/demo.mk
-include tools/bench/bench.mk

# ---- VM lanes -------------------------------------------------------------
check:
	tools/check

demo:
	tools/demo/run

clean:
	rm -rf $(BUILD)
