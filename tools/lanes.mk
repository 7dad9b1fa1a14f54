# SPDX-License-Identifier: GPL-2.0
#
# Kernel lanes (issue 6): the whole selftest suite on other kernels, each
# through tools/check, so each ends with the summed totals and
# "N passed, N failed" and fails on any test failure or kernel report.
#
#   make debug-kernel      build (or find cached) the debug kernel:
#                          linux-source-6.1 + tools/debug-kernel/*.config
#   make check-debug       the suite on it, then rmmod and a kmemleak scan
#   make check-rt          the suite on Debian's PREEMPT_RT 6.1 kernel
#   make check KERNEL=6.12 the suite on bookworm-backports' 6.12 kernel
#   make check-newest      the suite on the newest Debian kernel
#                          (KERNEL=newest: trixie-backports' linux-image-amd64,
#                          7.3 when written), set up under build/ by
#                          tools/newest-kernel/build
#   make check-lanes       every lane (6.1, rt, 6.12, newest, debug), as CI does
#
# The packages each lane needs are installed by tools/deps.sh when run as
# root (tools/check calls it).

.PHONY: debug-kernel check-debug check-rt check-6.12 check-newest check-lanes

debug-kernel:
	tools/deps.sh debug
	tools/debug-kernel/build

# On the debug kernel (KASAN, lockdep, kmemleak: creating contexts is
# ~50 times slower than on 6.1 under TCG), the 100 000-node scale tests
# run with 5 000 nodes (scale_test took 267 s with 20 000), and so do
# the 100 000-wide and -deep trees of deadline_test and value_test (265 s
# and more at full size), the race loops with a tenth of their rounds
# (attach_race_test: 155 s at a fifth) and the stress programs at a
# twentieth, so that the lane fits CI's time; make check on the other
# kernels runs them in full (.ci/run sizes its lanes: see its header).
# .ci/run leaves the system-sized stress programs (million, workload) and
# the accounting ones (limits_test, members_test) out of this lane.
check-debug: debug-kernel
	CTXFD_SCALE_N=$${CTXFD_SCALE_N:-5000} \
	CTXFD_RACE_ROUNDS=$${CTXFD_RACE_ROUNDS:-10} \
	CTXFD_STRESS_SCALE=$${CTXFD_STRESS_SCALE:-0.05} \
	CTXFD_VM_WRAP=$(TOP)/tools/debug-kernel/kmemleak-wrap KERNEL=debug tools/check

check-rt:
	KERNEL=rt tools/check

check-6.12:
	KERNEL=6.12 tools/check

check-newest:
	KERNEL=newest tools/check

check-lanes:
	.ci/run
