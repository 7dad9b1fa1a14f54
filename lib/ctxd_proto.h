/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The local protocol between libctxfd (lib/join.c) and ctxd (tools/ctxd),
 * over a unix socket of type SOCK_SEQPACKET: one message per datagram,
 * descriptors in SCM_RIGHTS. Private to the two; not installed.
 *
 * A message is struct ctxd_msg followed by @nr_strings NUL-terminated
 * strings, at most CTXD_MSG_MAX bytes in all.
 *
 *   EXPORT  strings: NAME, then the value keys to carry (any number);
 *           descriptors: a watch-only fd of the context, and with
 *           CTXD_EXPORT_CANCEL a cancel-capable one as well.
 *           The export lasts as long as the connection.
 *   JOIN    strings: NAME, and with CTXD_JOIN_CANCEL an etcd user and
 *           password (both empty for none). One request per connection.
 *   REPLY   @status 0 or -errno; strings: a message (empty on success);
 *           for JOIN on success, one descriptor: the joined context,
 *           cancel-capable with CTXD_JOIN_CANCEL, watch-only otherwise.
 */
#ifndef CTXD_PROTO_H
#define CTXD_PROTO_H

#include <stdint.h>

/** CTXD_SOCKET_DEFAULT - where ctxd listens unless told otherwise. */
#define CTXD_SOCKET_DEFAULT	"/run/ctxd/ctxd.sock"
/** CTXD_SOCKET_ENV - the variable that overrides it for libctxfd. */
#define CTXD_SOCKET_ENV		"CTXD_SOCKET"
/** CTXD_USER_ENV - "user:password" for the cancel right of ctx_join(). */
#define CTXD_USER_ENV		"CTXD_USER"

#define CTXD_MSG_MAGIC		0x44545843u	/* "CXTD" */
#define CTXD_MSG_VERSION	1
#define CTXD_MSG_MAX		65536

#define CTXD_OP_EXPORT		1
#define CTXD_OP_JOIN		2
#define CTXD_OP_REPLY		3

#define CTXD_EXPORT_CANCEL	0x1	/* the export carries the cancel right */
#define CTXD_JOIN_CANCEL	0x1	/* the joiner asks for the cancel right */

/* Export names: this long at most, [A-Za-z0-9._-] segments joined by '/'. */
#define CTXD_NAME_MAX		200

struct ctxd_msg {
	uint32_t magic;
	uint16_t version;
	uint16_t op;
	uint32_t flags;
	int32_t status;
	uint32_t nr_strings;
	uint32_t reserved;
};

/*
 * Is @name a valid export name? Segments of [A-Za-z0-9._-], not "." or
 * "..", joined by single '/', 1 .. CTXD_NAME_MAX bytes.
 */
static inline int ctxd_name_valid(const char *name)
{
	const char *p, *seg = name;
	unsigned long len = 0;

	if (!name || !*name)
		return 0;
	for (p = name; ; p++, len++) {
		if (*p == '/' || !*p) {
			long n = p - seg;

			if (n == 0 || (n == 1 && seg[0] == '.') ||
			    (n == 2 && seg[0] == '.' && seg[1] == '.'))
				return 0;
			if (!*p)
				break;
			seg = p + 1;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		      *p == '-'))
			return 0;
	}
	return len <= CTXD_NAME_MAX;
}

#endif /* CTXD_PROTO_H */
