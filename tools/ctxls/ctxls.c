// SPDX-License-Identifier: GPL-2.0
/*
 * ctxls: list the ctxfd contexts processes hold, like lsof(8): one line
 * per descriptor - process, fd, context id, right, state, deadline left,
 * parent id, cause. See ctxls(1).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"

static const char *prog = "ctxls";

static void __attribute__((noreturn)) usage(int status)
{
	fprintf(status ? stderr : stdout,
		"Usage: %s [-H] [-p PID]...\n"
		"List the ctxfd contexts held by processes (from /proc/PID/fdinfo).\n"
		"\n"
		"  -p, --pid=PID      only this process (repeatable)\n"
		"  -H, --no-headings  print no header line\n"
		"  -h, --help         show this help\n", prog);
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "no-headings", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	pid_t *pids = NULL;
	size_t npids = 0, i;
	bool header = true;
	struct scan s;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "p:Hh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			pids = realloc(pids, (npids + 1) * sizeof(*pids));
			if (!pids) {
				perror(prog);
				return 1;
			}
			pids[npids++] = parse_pid(prog, optarg);
			break;
		case 'H':
			header = false;
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog,
			argv[optind]);
		usage(2);
	}
	ret = scan_proc(&s, pids, npids);
	if (ret < 0) {
		fprintf(stderr, "%s: cannot read /proc: %s\n", prog,
			strerror(-ret));
		return 1;
	}
	if (header)
		printf("%-7s %-15s %4s %8s %-6s %-7s %-10s %8s %s\n", "PID",
		       "COMMAND", "FD", "ID", "RIGHT", "STATE", "DEADLINE",
		       "PARENT", "CAUSE");
	for (i = 0; i < s.n; i++) {
		const struct holder *h = &s.h[i];
		char left[32], cause[1024];

		printf("%-7d %-15s %4d %8llu %-6s %-7s %-10s %8llu %s\n",
		       (int)h->pid, h->comm, h->fd, (unsigned long long)h->id,
		       h->cancel ? "cancel" : "watch", holder_state(h),
		       holder_deadline_left(h, left, sizeof(left)),
		       (unsigned long long)h->parent,
		       holder_cause(h, cause, sizeof(cause)));
	}
	if (s.denied && !npids)
		fprintf(stderr, "%s: %u processes not shown (not yours: run as root to see them)\n",
			prog, s.denied);
	scan_free(&s);
	free(pids);
	return 0;
}
