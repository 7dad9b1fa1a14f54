/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxrun's parts, shared by its files:
 *
 *   ctxrun.c     main(): options and operands, the contexts, starting
 *                COMMAND, the wait loop, the exit status
 *   parse.c      DURATION and SIGNAL as timeout(1) reads them; names
 *   signals.c    what each signal ctxrun receives means: from the
 *                terminal, for ctxrun, for COMMAND; job control
 *   teardown.c   the phases of a teardown: context done, --grace, SIGNAL,
 *                -k SIGKILL
 *   remote.c     --join and --export: contexts across machines through
 *                ctxd(8) (remote.h)
 *
 * ctxrun is single-threaded: everything below is owned by main()'s loop.
 */
#ifndef CTXRUN_H
#define CTXRUN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/types.h>

#include <ctxfd.h>

#define EXIT_TIMEDOUT		124
#define EXIT_CANCELED		125	/* ctxrun itself failed */
#define EXIT_CANNOT_INVOKE	126
#define EXIT_ENOENT		127

/* A duration too long to ever end: "inf", or beyond about 31 years. */
#define DURATION_FOREVER	INT64_MAX

/* ---- parse.c ------------------------------------------------------------ */

bool parse_duration(const char *s, ctx_duration_t *out);
int parse_signal(const char *s);
const char *sig_name(int sig);
const char *fmt_duration(ctx_duration_t d);

/* ---- messages (ctxrun.c) ------------------------------------------------ */

extern const char *prog;	/* argv[0] without its directories */
extern int verbose;		/* -v: timeout(1)'s lines; -vv: ctxrun's too */

void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define info(level, ...) do { if (verbose >= (level)) say(__VA_ARGS__); } while (0)

/* ---- the run ------------------------------------------------------------ */

/*
 * The contexts (see ctxrun.c for why each exists):
 *   outer    child of the inherited context; ctxrun cancels it
 *   ctx      child of outer with the -t deadline; COMMAND's CTXFD
 *   sig      sends SIGNAL (and SIGCONT) to the tree when done
 *   kill     sends SIGKILL to the tree when done; only ctxrun holds it
 *   cont     sends SIGCONT to ctxrun itself at the deadline or on an
 *            inherited cancel (a stopped ctxrun resumes); outside outer,
 *            so that ctxrun's own attachment never keeps outer undrained
 */
struct run {
	/* Set up by main() before COMMAND starts; then read-only. */
	const char *command;		/* COMMAND's argv[0], for messages */
	pid_t child;			/* COMMAND */
	int sig;			/* -s SIGNAL; 0: send nothing */
	ctx_duration_t kill_after;	/* -k; 0: none */
	ctx_duration_t grace;		/* --grace; 0: none */
	bool pid1;			/* ctxrun is the init of a pid namespace */
	ctx_t *outer, *ctx, *sigctx, *killctx, *contctx;
	ctx_cancel_t *outer_cancel, *sig_cancel, *kill_cancel, *cont_cancel;

	/* The teardown (teardown.c). */
	bool started;			/* the context was done or canceled */
	int tsig;			/* what the signal phase sends */
	int64_t signal_at;		/* CLOCK_MONOTONIC ns; 0: none due */
	bool signalled;			/* the signal phase is over */
	int64_t kill_at;		/* CLOCK_MONOTONIC ns; 0: none due */
	bool killed;			/* SIGKILL went out */
	/* Contexts that sent a received signal (signal_tree), for -v. */
	ctx_t *passed[8];
	int nr_passed;

	/* What happened, for the exit status. */
	bool timed_out;			/* deadline (or SIGALRM) before COMMAND ended */
	int got_sig;			/* the signal that canceled, if any */
	bool command_done;		/* COMMAND reaped */
	bool command_stopped;		/* as its last wait report said */
	bool stop_asked;		/* a stop signal came to ctxrun too */
	int status;			/* its wait status */
};

int64_t now_ns(void);

/* teardown.c */
void teardown_start(struct run *r, int sig, int cause_code, const char *why);
void teardown_signal(struct run *r);
void teardown_kill(struct run *r);
void teardown_hurry(struct run *r);
void teardown_pass_on(struct run *r, int sig);
void teardown_timers(struct run *r);
int teardown_poll_timeout(const struct run *r);
void teardown_drain(struct run *r);

/* signals.c */
bool signals_setup(sigset_t *handled);
void signals_restore_for_command(void);
void signals_note(struct run *r, const struct signalfd_siginfo *si);
void signals_handle(struct run *r, const struct signalfd_siginfo *si);
void signals_command_stopped(struct run *r, int stopsig);

#endif /* CTXRUN_H */
