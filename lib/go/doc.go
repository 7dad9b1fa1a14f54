// SPDX-License-Identifier: LGPL-2.1-or-later

// Package ctxfd gives Go programs kernel contexts: Go's context package,
// with each context a kernel object behind a file descriptor (the ctxfd
// module), so that cancellation, deadlines and values cross fork, exec
// and unix sockets, reach processes written in any language, and can tear
// down whole process trees.
//
// A *Context implements context.Context and works wherever one is
// expected. The constructors mirror Go's (WithCancel, WithTimeout,
// WithValue...), take any context.Context as parent and return an error
// besides. Bridges:
//
//   - FromEnv: the context this process was started under (CTXFD).
//   - Derive: a kernel context canceled when a Go context is done, so a
//     request's context reaches child processes.
//   - Command: an exec.Cmd whose process tree the kernel tears down when
//     the context is done.
//
// The package uses only the standard library and golang.org/x/sys/unix,
// and no cgo.
package ctxfd
