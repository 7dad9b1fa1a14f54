// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Error strings: Go's error texts for the two context errors, and the
 * per-thread description of the last failure (ctx_last_error()).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CTX_LAST_ERROR_MAX 512	/* room for a path and a reason */

static __thread char ctx_last_error_buf[CTX_LAST_ERROR_MAX];

const char *ctx_strerror(int err)
{
	const char *s;

	if (err == INT_MIN)
		return "unknown error";
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "no error";
	case CTX_CANCELED:
		return "context canceled";
	case CTX_DEADLINE_EXCEEDED:
		return "context deadline exceeded";
	}
	s = strerrordesc_np(err);
	return s ? s : "unknown error";
}

const char *ctx_last_error(void)
{
	return ctx_last_error_buf;
}

/* CTXFD_DEBUG=1 in the environment prints every failure to stderr. */
static void ctx__debug_print(void)
{
	static int debug = -1;

	if (debug < 0) {
		const char *v = getenv("CTXFD_DEBUG");

		debug = v && *v && strcmp(v, "0") != 0;
	}
	if (debug)
		fprintf(stderr, "libctxfd: %s\n", ctx_last_error_buf);
}

int ctx__fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx_last_error_buf, sizeof(ctx_last_error_buf), fmt, ap);
	va_end(ap);
	ctx__debug_print();
	return -err;
}

void ctx__note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx_last_error_buf, sizeof(ctx_last_error_buf), fmt, ap);
	va_end(ap);
	ctx__debug_print();
}

int ctx__fail_errno(const char *fmt, ...)
{
	int err = errno ? errno : EIO;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx_last_error_buf, sizeof(ctx_last_error_buf), fmt, ap);
	va_end(ap);
	n = strlen(ctx_last_error_buf);
	snprintf(ctx_last_error_buf + n, sizeof(ctx_last_error_buf) - n,
		 ": %s", strerrordesc_np(err) ? strerrordesc_np(err) :
		 "unknown error");
	ctx__debug_print();
	errno = err;
	return -err;
}
