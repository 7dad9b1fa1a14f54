// SPDX-License-Identifier: GPL-2.0
/*
 * DURATION and SIGNAL as timeout(1) reads them, and signal names as it
 * prints them.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctxrun.h"

/*
 * A floating point number as strtod(3) reads it in the C locale ("1.5",
 * ".5", "1e3", "inf", hexadecimal too), an optional suffix s, m, h or d.
 * 0 means none; DURATION_FOREVER for "inf" and anything beyond ~31
 * years; a positive duration below a nanosecond, or one that underflows
 * (1e-5000), is 1 ns: it still expires. False if invalid: negative, NaN,
 * no number, another suffix, or more after it.
 */
bool parse_duration(const char *s, ctx_duration_t *out)
{
	double d, mult = 1, ns;
	char *end;

	errno = 0;
	d = strtod(s, &end);
	if (end == s || !(d >= 0))
		return false;
	if (errno == ERANGE && d < 1) {
		*out = 1;	/* underflow: tiny, not zero */
		goto suffix;
	}
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	default:
		return false;
	}
	ns = d * mult * 1e9;
	if (ns >= 1e18)
		*out = DURATION_FOREVER;
	else if (d > 0 && ns < 1)
		*out = 1;
	else
		*out = (ctx_duration_t)ns;
suffix:
	if (*end && (!strchr("smhd", *end) || end[1]))
		return false;
	return true;
}

/* Names glibc's sigabbrev_np() does not know, and timeout(1)'s EXIT. */
static const struct {
	const char *name;
	int sig;
} sig_aliases[] = {
	{ "EXIT", 0 },
	{ "IOT", SIGABRT },
	{ "CLD", SIGCHLD },
	{ "POLL", SIGIO },
};

/* Has @sig a name (so timeout(1) takes it)? 0 (EXIT) does; 32, 33 not. */
static bool sig_valid(int sig)
{
	return (sig >= 0 && sig < SIGRTMIN && (sig == 0 || sigabbrev_np(sig))) ||
	       (sig >= SIGRTMIN && sig <= SIGRTMAX);
}

/* "RTMIN", "RTMIN+N", "RTMAX", "RTMAX-N" (after SIG); -1 if not one. */
static int parse_rt(const char *name)
{
	bool min = !strncasecmp(name, "RTMIN", 5);
	char *end;
	long n;

	if (!min && strncasecmp(name, "RTMAX", 5))
		return -1;
	errno = 0;
	n = strtol(name + 5, &end, 10);
	if (errno || *end)
		return -1;
	if (min && n >= 0 && n <= SIGRTMAX - SIGRTMIN)
		return SIGRTMIN + (int)n;
	if (!min && n <= 0 && n >= SIGRTMIN - SIGRTMAX)
		return SIGRTMAX + (int)n;
	return -1;
}

/*
 * A signal as timeout(1) takes it: a number (an exit status 128+N, or
 * 256+N from ksh, means N, as for kill(1)), or a name in any case, with
 * or without SIG: HUP, SIGHUP, hup, RTMIN+N, RTMAX-N, and EXIT for 0
 * ("send nothing"). -1 if invalid.
 */
int parse_signal(const char *s)
{
	const char *name = s;
	char *end;
	size_t i;
	long n;
	int sig;

	if (isdigit((unsigned char)*s)) {
		errno = 0;
		n = strtol(s, &end, 10);
		if (errno || *end || n > INT_MAX)
			return -1;
		sig = (int)n;
		sig &= sig >= 0xff ? 0xff : 0x7f;
		return sig_valid(sig) ? sig : -1;
	}
	if (!strncasecmp(name, "SIG", 3))
		name += 3;
	sig = parse_rt(name);
	if (sig >= 0)
		return sig;
	for (sig = 1; sig < SIGRTMIN; sig++) {
		const char *abbrev = sigabbrev_np(sig);

		if (abbrev && !strcasecmp(abbrev, name))
			return sig;
	}
	for (i = 0; i < sizeof(sig_aliases) / sizeof(sig_aliases[0]); i++)
		if (!strcasecmp(sig_aliases[i].name, name))
			return sig_aliases[i].sig;
	return -1;
}

/*
 * @sig's name as timeout(1) prints it: TERM, KILL, EXIT for 0, RTMIN+N
 * in the lower half of the real-time signals, RTMAX-N in the upper.
 */
const char *sig_name(int sig)
{
	static char buf[2][32];
	static int which;
	char *b = buf[which++ & 1];
	int mid = SIGRTMIN + (SIGRTMAX - SIGRTMIN) / 2;

	if (sig == 0)
		return "EXIT";
	if (sig > 0 && sig < SIGRTMIN && sigabbrev_np(sig))
		snprintf(b, sizeof(buf[0]), "%s", sigabbrev_np(sig));
	else if (sig == SIGRTMIN)
		snprintf(b, sizeof(buf[0]), "RTMIN");
	else if (sig > SIGRTMIN && sig <= mid)
		snprintf(b, sizeof(buf[0]), "RTMIN+%d", sig - SIGRTMIN);
	else if (sig == SIGRTMAX)
		snprintf(b, sizeof(buf[0]), "RTMAX");
	else if (sig > mid && sig < SIGRTMAX)
		snprintf(b, sizeof(buf[0]), "RTMAX-%d", SIGRTMAX - sig);
	else
		snprintf(b, sizeof(buf[0]), "%d", sig);
	return b;
}

/* "1.5s", "inf", for messages. */
const char *fmt_duration(ctx_duration_t d)
{
	static char buf[2][32];
	static int which;
	char *b = buf[which++ & 1];

	if (d == DURATION_FOREVER)
		return "inf";
	snprintf(b, sizeof(buf[0]), "%gs", (double)d / 1e9);
	return b;
}
