# SPDX-License-Identifier: GPL-2.0
#
# Selftests: every selftests/<group>/<name>_test.c is one kselftest-harness
# program, built as build/selftests/<group>/<name>_test. Shared helpers
# live in selftests/common/.
#
# kselftest_harness.h and kselftest.h come from Debian's linux-source-6.1
# package, extracted here at build time, never vendored.

KSFT_TARBALL ?= $(firstword $(wildcard /usr/src/linux-source-6.1.tar.xz))
KSFT_DIR := $(BUILD)/kselftest
KSFT_HDR := $(KSFT_DIR)/kselftest_harness.h

SELFTEST_SRCS := $(sort $(wildcard selftests/*/*_test.c))
SELFTEST_BINS := $(patsubst selftests/%.c,$(BUILD)/selftests/%,$(SELFTEST_SRCS))
SELFTEST_HDRS := $(wildcard selftests/common/*.h) uapi/linux/ctxfd.h
SELFTEST_CFLAGS := $(CFLAGS) $(WARNINGS) -Wno-missing-prototypes -Wno-sign-compare -Werror \
	$(UAPI_CFLAGS) -I$(TOP)/$(KSFT_DIR) -I$(TOP)/selftests/common -pthread
SELFTEST_LDLIBS := -pthread -lrt -lm

selftests: $(SELFTEST_BINS)

$(KSFT_HDR):
	@if [ -z "$(KSFT_TARBALL)" ]; then \
		echo "kselftest_harness.h comes from Debian's kernel source: apt-get install -y linux-source-6.1" >&2; \
		exit 2; fi
	@mkdir -p $(KSFT_DIR)
	@echo "  EXTRACT kselftest harness from $(KSFT_TARBALL)"
	@tar -xJf $(KSFT_TARBALL) -C $(KSFT_DIR) --strip-components=4 \
		--wildcards 'linux-source-6.1/tools/testing/selftests/kselftest*.h'
	@touch $@

$(BUILD)/selftests/%: selftests/%.c $(SELFTEST_HDRS) $(KSFT_HDR) $(SELFTEST_EXTRA_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(SELFTEST_CFLAGS) -o $@ $< $(SELFTEST_EXTRA_LIBS) $(SELFTEST_LDLIBS)

# version_test compares the header's LIBCTXFD_VERSION_* it was built with
# against VERSION: a new version must rebuild it.
$(BUILD)/selftests/packaging/version_test: lib/ctxfd.h VERSION
