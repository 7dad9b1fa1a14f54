// SPDX-License-Identifier: GPL-2.0
/*
 * ctxrun --join NAME / --export NAME (see remote.h and ctxrun(1)).
 *
 * --join: the parent of ctxrun's context is the context exported as NAME
 * on any host (ctx_join(3)), watch-only: a remote cancel, the remote
 * deadline (exit status 124, as for -t), the exporter's death and the
 * loss of etcd all tear COMMAND's tree down. An inherited CTXFD is then
 * ignored: a context has one parent.
 *
 * --export: the context COMMAND runs under (with its -t deadline) is
 * published as NAME (ctx_export(3)) with the cancel right, for joiners
 * that etcd lets write the record; the export ends with ctxrun.
 */
#include <stdio.h>
#include <stdlib.h>

#include "remote.h"

int ctxrun_join_parent(const char *name, ctx_t **parent, bool verbose)
{
	if (ctx_join(name, 0, parent, NULL) < 0) {
		fprintf(stderr, "ctxrun: cannot join %s: %s\n", name,
			ctx_last_error());
		return -1;
	}
	if (verbose)
		fprintf(stderr, "ctxrun: joined %s\n", name);
	return 0;
}

int ctxrun_export(const char *name, ctx_t *ctx, ctx_cancel_t *cancel,
		  bool verbose)
{
	ctx_export_t *exp;

	if (ctx_export(ctx, cancel, name, NULL, &exp) < 0) {
		fprintf(stderr, "ctxrun: cannot export %s: %s\n", name,
			ctx_last_error());
		return -1;
	}
	/* Kept until exit: the export ends with ctxrun's socket. */
	(void)exp;
	if (verbose)
		fprintf(stderr, "ctxrun: exported as %s\n", name);
	return 0;
}
