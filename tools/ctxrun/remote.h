/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxrun --join NAME and --export NAME: contexts across machines, through
 * the local ctxd(8). Two calls for ctxrun's main(): where the parent
 * context comes from, and publishing the context COMMAND runs under.
 */
#ifndef CTXRUN_REMOTE_H
#define CTXRUN_REMOTE_H

#include <stdbool.h>

#include <ctxfd.h>

/*
 * --join NAME: the remote context NAME as the parent, instead of the
 * inherited one. Returns 0, or prints why and returns -1.
 */
int ctxrun_join_parent(const char *name, ctx_t **parent, bool verbose);

/*
 * --export NAME: publish @ctx (cancelable through @cancel) until ctxrun
 * exits. Returns 0, or prints why and returns -1.
 */
int ctxrun_export(const char *name, ctx_t *ctx, ctx_cancel_t *cancel,
		  bool verbose);

#endif /* CTXRUN_REMOTE_H */
