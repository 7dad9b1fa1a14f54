# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The headlines of kernel reports that fail a VM run (an extended regular
# expression), for tools/vm/run, which fails on them, and
# tools/vm/kernel-report, which shows the first one. Sourced.
kernel_problems='BUG:|WARNING:|KASAN|UBSAN|kernel BUG at|Oops|general protection fault|'
kernel_problems+='Kernel panic|INFO: possible|INFO: trying to register|DEBUG_LOCKS_WARN_ON|'
kernel_problems+='inconsistent lock state|rcu: INFO:|rcu_.* self-detected stall|'
kernel_problems+='detected stall|blocked for more than|soft lockup|hard LOCKUP|'
kernel_problems+='ODEBUG:|list_add corruption|list_del corruption|refcount_t:|'
kernel_problems+='unreferenced object'
