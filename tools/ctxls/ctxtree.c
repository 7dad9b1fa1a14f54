// SPDX-License-Identifier: GPL-2.0
/*
 * ctxtree: the tree of ctxfd contexts with the processes that hold them,
 * like pstree(1). Contexts nobody visible holds appear where the tree
 * needs them (a parent whose descriptors are all closed), marked so.
 * See ctxtree(1).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"

static const char *prog = "ctxtree";

/* A context: the first holder seen describes it. */
struct node {
	uint64_t id, parent;
	const struct holder *h;	/* NULL: known only as someone's parent */
};

static struct node *nodes;
static size_t nnodes;
static struct scan s;

static struct node *find(uint64_t id)
{
	size_t i;

	for (i = 0; i < nnodes; i++)
		if (nodes[i].id == id)
			return &nodes[i];
	return NULL;
}

static void add_node(uint64_t id, uint64_t parent, const struct holder *h)
{
	struct node *n = find(id);

	if (n) {
		if (!n->h && h) {
			n->h = h;
			n->parent = parent;
		}
		return;
	}
	nodes = realloc(nodes, (nnodes + 1) * sizeof(*nodes));
	if (!nodes) {
		perror(prog);
		exit(1);
	}
	nodes[nnodes++] = (struct node){ .id = id, .parent = parent, .h = h };
}

static int by_id(const void *a, const void *b)
{
	const struct node *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* @prefix: what goes before the children's branches. */
static void print(const struct node *n, const char *prefix, bool last,
		  bool top)
{
	char left[32], cause[1024], sub[4096];
	size_t i, nkids = 0, k = 0;

	printf("%s%s%llu", prefix, top ? "" : last ? "`-- " : "|-- ",
	       (unsigned long long)n->id);
	if (n->h) {
		const struct holder *h = n->h;

		printf(" [%s %s", h->kind, holder_state(h));
		if (h->has_deadline)
			printf(", deadline %s",
			       holder_deadline_left(h, left, sizeof(left)));
		if (h->attached)
			printf(", %u attached", h->attached);
		if (h->teardown[0])
			printf(", teardown: %s", h->teardown);
		printf("]");
		if (h->done)
			printf(" %s", holder_cause(h, cause, sizeof(cause)));
	} else {
		printf(" [not held by any process shown]");
	}
	printf("\n");
	snprintf(sub, sizeof(sub), "%s%s", prefix,
		 top ? "" : last ? "    " : "|   ");
	for (i = 0; i < s.n; i++)
		if (s.h[i].id == n->id)
			nkids++;
	for (i = 0; i < nnodes; i++)
		if (nodes[i].parent == n->id && nodes[i].id != n->id)
			nkids++;
	/* Holders first, then child contexts. */
	for (i = 0; i < s.n; i++) {
		const struct holder *h = &s.h[i];

		if (h->id != n->id)
			continue;
		k++;
		printf("%s%s%s %d fd %d (%s)\n", sub, k == nkids ? "`-- " : "|-- ",
		       h->comm, (int)h->pid, h->fd,
		       h->cancel ? "cancel" : "watch");
	}
	for (i = 0; i < nnodes; i++) {
		if (nodes[i].parent != n->id || nodes[i].id == n->id)
			continue;
		k++;
		print(&nodes[i], sub, k == nkids, false);
	}
}

static void __attribute__((noreturn)) usage(int status)
{
	fprintf(status ? stderr : stdout,
		"Usage: %s [-p PID]...\n"
		"Show the tree of ctxfd contexts and the processes holding them.\n"
		"\n"
		"  -p, --pid=PID   only contexts this process holds, with their\n"
		"                  ancestors (repeatable)\n"
		"  -h, --help      show this help\n", prog);
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	pid_t *pids = NULL;
	size_t npids = 0, i;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			pids = realloc(pids, (npids + 1) * sizeof(*pids));
			if (!pids) {
				perror(prog);
				return 1;
			}
			pids[npids++] = parse_pid(prog, optarg);
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
	for (i = 0; i < s.n; i++)
		add_node(s.h[i].id, s.h[i].parent, &s.h[i]);
	/* Parents nobody shown holds: known by id only. */
	for (i = 0; i < nnodes; i++)
		if (nodes[i].parent && !find(nodes[i].parent))
			add_node(nodes[i].parent, 0, NULL);
	if (nnodes)
		qsort(nodes, nnodes, sizeof(*nodes), by_id);
	for (i = 0; i < nnodes; i++)
		if (!nodes[i].parent || (!nodes[i].h && !nodes[i].parent))
			print(&nodes[i], "", true, true);
	if (s.denied && !npids)
		fprintf(stderr, "%s: %u processes not shown (not yours: run as root to see them)\n",
			prog, s.denied);
	free(nodes);
	scan_free(&s);
	free(pids);
	return 0;
}
