// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the library costs, measured where it runs (the test VM):
 *
 *   ctx_err()           on an active context (one non-blocking read())
 *                       and on a done one (a cached load), against a
 *                       non-blocking read() of an empty eventfd;
 *   ctx_wait(ctx, 0)    the same done-check through ctx_wait();
 *   poll(done fd, 0)    the done fd in a zero-timeout poll();
 *   create + cancel     ctx_with_cancel() of a child, ctx_cancel(), and
 *                       the releases, against the raw ioctls (CREATE,
 *                       CANCEL, close) and against eventfd() + close().
 *
 * Each figure is the median of RUNS rounds; a round times every operation
 * for a short slice, back to back, so that a noisy host (TCG shares its
 * CPUs) disturbs both sides of a ratio alike; ratios are taken per round,
 * then their median is reported.
 *
 *   bench [RUNS [SLICE_MS]]   (default 31 rounds of 20 ms slices)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/ctxfd.h>
#include <ctxfd.h>

#define MAX_RUNS 256

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum what {
	EVENTFD_READ, ERR_ACTIVE, ERR_DONE, WAIT0, POLL0,
	CREATE_CANCEL, RAW_CREATE_CANCEL, EVENTFD_CREATE, NR_WHAT
};

static const char *const names[NR_WHAT] = {
	"eventfd read (EAGAIN)",
	"ctx_err(), active",
	"ctx_err(), done",
	"ctx_wait(ctx, 0), active",
	"poll(ctx_done_fd(), 0), active",
	"ctx_with_cancel+cancel+release",
	"raw CREATE+CANCEL+close",
	"eventfd()+close()",
};

static ctx_t *active, *done;
static int efd, raw_parent;

/* ns per operation of @w over about @slice ns. */
static double measure(enum what w, double slice)
{
	double t0 = now(), t;
	long n = 0;

	do {
		for (int i = 0; i < 100; i++) {
			uint64_t v;

			switch (w) {
			case EVENTFD_READ:
				if (read(efd, &v, sizeof(v)) >= 0 || errno != EAGAIN)
					abort();
				break;
			case ERR_ACTIVE:
				if (ctx_err(active))
					abort();
				break;
			case ERR_DONE:
				if (!ctx_err(done))
					abort();
				break;
			case WAIT0:
				if (ctx_wait(active, 0))
					abort();
				break;
			case POLL0: {
				struct pollfd p = { ctx_done_fd(active), POLLIN, 0 };

				if (poll(&p, 1, 0))
					abort();
				break;
			}
			case CREATE_CANCEL: {
				ctx_cancel_t *cancel;
				ctx_t *c;

				if (ctx_with_cancel(active, &c, &cancel))
					abort();
				ctx_cancel(cancel);
				ctx_cancel_release(cancel);
				ctx_release(c);
				break;
			}
			case RAW_CREATE_CANCEL: {
				struct ctxfd_create a = { 0 };
				struct ctxfd_cancel c = { 0 };
				int fd = ioctl(raw_parent, CTXFD_IOC_CREATE, &a);

				if (fd < 0 || ioctl(fd, CTXFD_IOC_CANCEL, &c))
					abort();
				close(fd);
				break;
			}
			case EVENTFD_CREATE:
				close(eventfd(0, EFD_CLOEXEC));
				break;
			default:
				abort();
			}
		}
		n += 100;
		t = now();
	} while (t - t0 < slice);
	return (t - t0) / n;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 31;
	double slice = (argc > 2 ? atof(argv[2]) : 20) * 1e6;
	double v[NR_WHAT][MAX_RUNS], r_err[MAX_RUNS], r_wait[MAX_RUNS];
	double r_poll[MAX_RUNS], r_create[MAX_RUNS];
	ctx_cancel_t *c1, *c2;
	int run, w;

	if (runs < 1 || runs > MAX_RUNS)
		runs = 31;
	if (slice < 1e6)
		slice = 20e6;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ctx_with_cancel(ctx_background(), &active, &c1) ||
	    ctx_with_cancel(ctx_background(), &done, &c2)) {
		fprintf(stderr, "%s\n", ctx_last_error());
		return 1;
	}
	ctx_cancel(c2);
	raw_parent = ctx_cancel_fd(c1, 0);
	for (w = 0; w < NR_WHAT; w++)	/* warm up */
		measure(w, slice);
	for (run = 0; run < runs; run++) {
		for (w = 0; w < NR_WHAT; w++)
			v[w][run] = measure(w, slice);
		r_err[run] = v[ERR_ACTIVE][run] / v[EVENTFD_READ][run];
		r_wait[run] = v[WAIT0][run] / v[EVENTFD_READ][run];
		r_poll[run] = v[POLL0][run] / v[EVENTFD_READ][run];
		r_create[run] = v[CREATE_CANCEL][run] / v[RAW_CREATE_CANCEL][run];
	}
	printf("%-34s %12s\n", "operation (median of runs)", "ns/op");
	for (w = 0; w < NR_WHAT; w++)
		printf("%-34s %12.1f\n", names[w], median(v[w], runs));
	printf("ratio ctx_err()/eventfd read        %12.3f\n", median(r_err, runs));
	printf("ratio ctx_wait(,0)/eventfd read     %12.3f\n", median(r_wait, runs));
	printf("ratio poll(done fd,0)/eventfd read  %12.3f\n", median(r_poll, runs));
	printf("ratio library/raw create+cancel     %12.3f\n", median(r_create, runs));

	close(raw_parent);
	close(efd);
	ctx_cancel_release(c2);
	ctx_release(done);
	ctx_cancel_release(c1);
	ctx_release(active);
	return 0;
}
