/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API drift, in one place.
 *
 * ctxfd is written against the newest kernel API it knows; this header
 * fills the gaps for older kernels (WireGuard's compat/compat.h is the
 * model). Supported: Linux 6.1 (Debian bookworm) to 6.12 (bookworm-
 * backports) and later.
 */
#ifndef _CTXFD_COMPAT_H
#define _CTXFD_COMPAT_H

#include <linux/hrtimer.h>
#include <linux/version.h>

/* hrtimer_setup() arrived in 6.13, replacing hrtimer_init() + .function. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
static inline void hrtimer_setup(struct hrtimer *timer,
				 enum hrtimer_restart (*function)(struct hrtimer *),
				 clockid_t clock_id, enum hrtimer_mode mode)
{
	hrtimer_init(timer, clock_id, mode);
	timer->function = function;
}
#endif

#endif /* _CTXFD_COMPAT_H */
