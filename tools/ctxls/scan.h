/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxls and ctxtree: who holds which context, read from /proc.
 *
 *   scan.c     walks /proc/PID/fd, parses /proc/PID/fdinfo of every
 *              context descriptor (the ctxfd-* lines, module/file.c) and
 *              formats what both commands print
 *   ctxls.c    one line per descriptor, like lsof(8)
 *   ctxtree.c  the tree of contexts with their holders, like pstree(1)
 *
 * An unprivileged user sees what /proc lets them see: the descriptors of
 * their own processes (ptrace access mode), nothing of the others'.
 */
#ifndef CTXLS_SCAN_H
#define CTXLS_SCAN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* One context descriptor held by one process. */
struct holder {
	pid_t pid;
	int fd;
	char comm[64];
	/* from its fdinfo */
	uint64_t id, parent;
	unsigned int depth;
	char kind[16];		/* cancel, value, without-cancel */
	bool done, drained;
	bool cancel;		/* cancel-capable (ctxfd-rights: cancel) */
	int err, cause;
	char cause_msg[512];	/* escaped as fdinfo has it */
	char reason[16];	/* ctxfd-reason, "" while active */
	uint64_t origin_id;
	char origin_via[16];
	pid_t origin_pid;
	char origin_comm[64];
	bool has_deadline;
	int64_t deadline_ns;
	bool boottime;
	unsigned int children, attached, pending;
	char teardown[128];	/* ctxfd-teardown, "" before it fired */
};

struct scan {
	struct holder *h;
	size_t n, cap;
	unsigned int denied;	/* processes whose fds we may not read */
};

/* Scan /proc; only @pids (@npids of them) unless @npids is 0. */
int scan_proc(struct scan *s, const pid_t *pids, size_t npids);
void scan_free(struct scan *s);

/* "active", "done" or "drained". */
const char *holder_state(const struct holder *h);
/* Deadline left, "-" without one, "expired" once past: into @buf. */
const char *holder_deadline_left(const struct holder *h, char *buf,
				 size_t len);
/* "reason by PID (COMM)[, via ancestor ID]: cause" for a done one. */
const char *holder_cause(const struct holder *h, char *buf, size_t len);

/* Parse "-p PID" style pid lists, shared by both commands. */
pid_t parse_pid(const char *prog, const char *s);

#endif /* CTXLS_SCAN_H */
