// SPDX-License-Identifier: GPL-2.0
/*
 * The /proc walk and the fdinfo parser shared by ctxls and ctxtree (see
 * scan.h).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scan.h"

#define CTXFD_LINK	"anon_inode:[ctxfd]"

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
}

/* Apply one "key:\tvalue" line of a context's fdinfo. */
static void parse_line(struct holder *h, const char *key, const char *val)
{
	if (!strcmp(key, "ctxfd-id"))
		h->id = strtoull(val, NULL, 10);
	else if (!strcmp(key, "ctxfd-parent"))
		h->parent = strtoull(val, NULL, 10);
	else if (!strcmp(key, "ctxfd-depth"))
		h->depth = (unsigned int)strtoul(val, NULL, 10);
	else if (!strcmp(key, "ctxfd-kind"))
		copy(h->kind, sizeof(h->kind), val);
	else if (!strcmp(key, "ctxfd-state"))
		h->done = !strcmp(val, "done");
	else if (!strcmp(key, "ctxfd-err"))
		h->err = atoi(val);
	else if (!strcmp(key, "ctxfd-cause"))
		h->cause = atoi(val);
	else if (!strcmp(key, "ctxfd-cause-msg"))
		copy(h->cause_msg, sizeof(h->cause_msg), val);
	else if (!strcmp(key, "ctxfd-reason"))
		copy(h->reason, sizeof(h->reason), val);
	else if (!strcmp(key, "ctxfd-origin")) {
		char via[16] = "";

		if (sscanf(val, "%" SCNu64 " %15s", &h->origin_id, via) >= 1)
			copy(h->origin_via, sizeof(h->origin_via), via);
	} else if (!strcmp(key, "ctxfd-origin-pid"))
		h->origin_pid = atoi(val);
	else if (!strcmp(key, "ctxfd-origin-comm"))
		copy(h->origin_comm, sizeof(h->origin_comm), val);
	else if (!strcmp(key, "ctxfd-deadline")) {
		char clk[16] = "";

		h->has_deadline = strcmp(val, "none") &&
			sscanf(val, "%" SCNd64 " %15s", &h->deadline_ns, clk) == 2;
		h->boottime = !strcmp(clk, "boottime");
	} else if (!strcmp(key, "ctxfd-rights"))
		h->cancel = !strcmp(val, "cancel");
	else if (!strcmp(key, "ctxfd-children"))
		h->children = (unsigned int)strtoul(val, NULL, 10);
	else if (!strcmp(key, "ctxfd-attached"))
		h->attached = (unsigned int)strtoul(val, NULL, 10);
	else if (!strcmp(key, "ctxfd-pending"))
		h->pending = (unsigned int)strtoul(val, NULL, 10);
	else if (!strcmp(key, "ctxfd-drained"))
		h->drained = !strcmp(val, "yes");
	else if (!strcmp(key, "ctxfd-teardown"))
		copy(h->teardown, sizeof(h->teardown), val);
}

/* Read the fdinfo of @pid's @fd into @h; false if it is gone. */
static bool read_fdinfo(pid_t pid, int fd, struct holder *h)
{
	char path[64], line[1024];
	bool any = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *val;

		if (!colon)
			continue;
		*colon = '\0';
		val = colon + 1;
		while (*val == '\t' || *val == ' ')
			val++;
		val[strcspn(val, "\n")] = '\0';
		if (!strncmp(line, "ctxfd-", 6)) {
			parse_line(h, line, val);
			any = true;
		}
	}
	fclose(f);
	return any && h->id;
}

static void read_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	buf[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static int add(struct scan *s, const struct holder *h)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct holder *n = realloc(s->h, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->h = n;
		s->cap = cap;
	}
	s->h[s->n++] = *h;
	return 0;
}

/* Every context descriptor of @pid. */
static int scan_pid(struct scan *s, pid_t pid)
{
	char path[64], link[64], comm[64];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d) {
		if (errno == EACCES || errno == EPERM)
			s->denied++;
		return 0;
	}
	read_comm(pid, comm, sizeof(comm));
	while ((de = readdir(d)) && !ret) {
		struct holder h;
		char fdpath[384];
		ssize_t n;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(fdpath, sizeof(fdpath), "%s/%s", path, de->d_name);
		n = readlink(fdpath, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, CTXFD_LINK))
			continue;
		memset(&h, 0, sizeof(h));
		h.pid = pid;
		h.fd = atoi(de->d_name);
		copy(h.comm, sizeof(h.comm), comm);
		if (read_fdinfo(pid, h.fd, &h))
			ret = add(s, &h);
	}
	closedir(d);
	return ret;
}

static int by_pid_fd(const void *a, const void *b)
{
	const struct holder *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->fd < y->fd ? -1 : x->fd > y->fd;
}

int scan_proc(struct scan *s, const pid_t *pids, size_t npids)
{
	struct dirent *de;
	size_t i;
	DIR *d;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	if (npids) {
		for (i = 0; i < npids && !ret; i++)
			ret = scan_pid(s, pids[i]);
	} else {
		d = opendir("/proc");
		if (!d)
			return -errno;
		while ((de = readdir(d)) && !ret)
			if (isdigit((unsigned char)de->d_name[0]))
				ret = scan_pid(s, (pid_t)atoi(de->d_name));
		closedir(d);
	}
	if (s->n)
		qsort(s->h, s->n, sizeof(s->h[0]), by_pid_fd);
	return ret;
}

void scan_free(struct scan *s)
{
	free(s->h);
	memset(s, 0, sizeof(*s));
}

const char *holder_state(const struct holder *h)
{
	return h->drained ? "drained" : h->done ? "done" : "active";
}

const char *holder_deadline_left(const struct holder *h, char *buf,
				 size_t len)
{
	struct timespec ts;
	int64_t now, left;

	if (!h->has_deadline)
		return "-";
	clock_gettime(h->boottime ? CLOCK_BOOTTIME : CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	left = h->deadline_ns - now;
	if (left <= 0)
		return "expired";
	snprintf(buf, len, "%.3fs", (double)left / 1e9);
	return buf;
}

const char *holder_cause(const struct holder *h, char *buf, size_t len)
{
	char who[128] = "", via[64] = "", what[600];

	if (!h->done)
		return "-";
	if (h->origin_pid)
		snprintf(who, sizeof(who), " by %d (%s)", (int)h->origin_pid,
			 h->origin_comm);
	if (!strcmp(h->origin_via, "ancestor") ||
	    !strcmp(h->origin_via, "parent"))
		snprintf(via, sizeof(via), " at %s %" PRIu64, h->origin_via,
			 h->origin_id);
	if (h->cause_msg[0])
		snprintf(what, sizeof(what), "%s", h->cause_msg);
	else if (h->cause != h->err)
		snprintf(what, sizeof(what), "code %d", h->cause);
	else
		snprintf(what, sizeof(what), "%s", h->err == ETIMEDOUT ?
			 "context deadline exceeded" : "context canceled");
	snprintf(buf, len, "%s%s%s: %s", h->reason[0] ? h->reason : "?", who,
		 via, what);
	return buf;
}

pid_t parse_pid(const char *prog, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v <= 0 || v > 0x3fffffff) {
		fprintf(stderr, "%s: invalid pid '%s'\n", prog, s);
		exit(2);
	}
	return (pid_t)v;
}
