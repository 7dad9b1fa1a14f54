// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Go's ExampleWithValue: how a value can be passed to the context and
 * also how to retrieve it if it exists.
 *
 * Go keys are values of a private type; C keys are strings, so give them
 * a prefix of your own to keep them apart from other packages' keys.
 */
#include <stdio.h>
#include <string.h>

#include <ctxfd.h>

#define KEY_PREFIX "example.favContextKey:"

static void f(ctx_t *ctx, const char *k)
{
	char key[64], v[64];
	ssize_t n;

	snprintf(key, sizeof(key), KEY_PREFIX "%s", k);
	n = ctx_value(ctx, key, v, sizeof(v) - 1);
	if (n > 0 && n < (ssize_t)sizeof(v)) {
		v[n] = '\0';
		printf("found value: %s\n", v);
		return;
	}
	printf("key not found: %s\n", k);
}

int main(void)
{
	ctx_t *ctx;

	if (ctx_with_value(ctx_background(), KEY_PREFIX "language", "Go", 2,
			   &ctx)) {
		fprintf(stderr, "%s\n", ctx_last_error());
		return 1;
	}
	f(ctx, "language");
	f(ctx, "color");
	ctx_release(ctx);
	return 0;
}

/* Output:
 * found value: Go
 * key not found: color
 */
