# SPDX-License-Identifier: GPL-2.0
#
# make bench: ctxfd side by side with what users would use instead, in a
# VM (tools/bench/run; Documentation/bench.rst says how to read it).
#
#   make bench                   build what is needed, run every figure
#   make bench BENCH_FIGURES="1 3"   only some figures
#   make bench-build             only build build/bench/ctxfd-bench
#   make bench-compare BENCH_BASE=REV [BENCH_FIGURES="1 2 4"]
#                                what the working tree's module costs
#                                against commit REV's, in one VM boot
#                                (tools/bench/compare)
#
# The benchmark program is one C file per figure plus a shared harness
# (tools/bench/bench.c). Figure 8 uses libctxfd when lib/ is there.

BENCH_DIR := $(BUILD)/bench
BENCH_BIN := $(BENCH_DIR)/ctxfd-bench
BENCH_SRCS := $(sort $(wildcard tools/bench/*.c))
BENCH_HDRS := tools/bench/bench.h uapi/linux/ctxfd.h
BENCH_CFLAGS := $(CFLAGS) $(WARNINGS) -Werror -std=gnu11 $(UAPI_CFLAGS) -pthread
BENCH_LIBS := -pthread -lm
BENCH_DEPS :=

ifneq ($(wildcard lib/ctxfd.h),)
ifdef LIB_A
BENCH_CFLAGS += -DHAVE_LIBCTXFD -I$(TOP)/lib
BENCH_DEPS += $(LIB_A)
BENCH_LIBS := $(LIB_A) $(KMOD_LIBS) $(BENCH_LIBS)
endif
endif

.PHONY: bench bench-build bench-compare
bench-build: $(BENCH_BIN)

$(BENCH_BIN): $(BENCH_SRCS) $(BENCH_HDRS) $(BENCH_DEPS) tools/bench/bench.mk
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $(BENCH_SRCS) $(BENCH_LIBS)

bench: module $(BENCH_BIN)
	tools/bench/run $(BENCH_FIGURES)

bench-compare: module $(BENCH_BIN)
	@test -n "$(BENCH_BASE)" || \
		{ echo "make bench-compare: say BENCH_BASE=<commit>" >&2; exit 2; }
	tools/bench/compare $(BENCH_BASE) $(BENCH_FIGURES)

# results.py's choices, tested on made-up attempts (in the VM with the
# rest: build/selftests/bench/results_test).
selftests: $(BUILD)/selftests/bench/results_test
$(BUILD)/selftests/bench/results_test: selftests/bench/results_test.sh
	@mkdir -p $(dir $@)
	install -m 0755 $< $@
