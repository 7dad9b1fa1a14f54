/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A program as a user writes it, built by selftests/userprogs/userprogs.mk
 * with every C and C++ standard and compiler listed there, with -Wall
 * -Wextra -Werror -pedantic: the build is the test of the headers, the run
 * (by public_headers_test) that the result calls the library correctly.
 *
 * It includes nothing but the public headers (so it must not need
 * anything else), uses the API, and prints what it saw.
 */
#include <ctxfd.h>
#include <ctxfd.h>		/* the include guard */
#ifndef CTXFD_TEST_NO_UAPI
#include <linux/ctxfd.h>	/* usable alone, and beside <ctxfd.h> */
#endif

#include <stdio.h>
#include <string.h>

int main(void)
{
	ctx_t *ctx = 0;
	ctx_cancel_t *cancel = 0;
	char msg[CTX_CAUSE_MSG_MAX + 1];
	int code = 0, ret;

	ret = ctx_with_cancel_cause(ctx_background(), &ctx, &cancel);
	if (ret < 0) {
		printf("no context: %s\n", ctx_last_error());
		return ret == -ENOENT || ret == -ENODEV ? 4 : 1;
	}
	if (ctx_cancel_cause(cancel, 42, "canceled by the user program") < 0)
		return 1;
	ret = ctx_cause(ctx, &code, msg, sizeof(msg));
	ctx_cancel_release(cancel);
	ctx_release(ctx);
#ifndef CTXFD_TEST_NO_UAPI
	if (sizeof(struct ctxfd_event) != 16 || CTXFD_IOC_ATTACH == 0)
		return 1;
#endif
	printf("%s: %d %s\n", ctx_strerror(ret), code, msg);
	return ret == CTX_CANCELED && code == 42 && CTX_SECOND > 0 &&
	       !strcmp(msg, "canceled by the user program") ? 0 : 1;
}
