// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A pipeline of three processes sharing one context tree
 * (lib/examples/pipeline.c): stage 1 hands the request context to stage 2
 * through CTXFD, stage 2 hands a child of its own to stage 3 over
 * SCM_RIGHTS.
 */
#include "lib_test.h"

static void run_pipeline(struct __test_metadata *_metadata, char *arg,
			 const char *want)
{
	static char got[4096];
	char *argv[] = { arg, NULL };
	int status;

	status = lib_run_example("pipeline", arg ? argv : NULL, NULL, got,
				 sizeof(got), 120);
	ASSERT_NE(-1, status) TH_LOG("pipeline did not finish:\n%s", got);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("wait status %#x", status);
	EXPECT_STREQ(want, got);
}

/* Canceling the middle stage's child context reaches stage 3 only. */
LIBTEST(PipelineCancelMiddleReachesOnlyDownstream)
{
	run_pipeline(_metadata, NULL,
		     "stage 3: request-id=42\n"
		     "stage 3: context canceled (stage 2 stopped its part)\n"
		     "stage 2: own context: context canceled; upstream context: active\n"
		     "stage 1: context active\n");
}

/* Canceling the request at stage 1 reaches every stage, cause included. */
LIBTEST(PipelineCancelUpstreamReachesAll)
{
	run_pipeline(_metadata, "--cancel-upstream",
		     "stage 3: request-id=42\n"
		     "stage 3: context canceled (stopped by stage 1)\n"
		     "stage 2: upstream context: context canceled (stopped by stage 1)\n"
		     "stage 1: canceled the pipeline\n");
}

TEST_HARNESS_MAIN
