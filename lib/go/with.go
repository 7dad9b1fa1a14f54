// SPDX-License-Identifier: LGPL-2.1-or-later

package ctxfd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"syscall"
	"time"
)

// Every constructor takes any context.Context as its parent:
//
//   - a *Context (or a Go context derived from one whose only additions are
//     values): the new context is its kernel child, canceled by the kernel
//     with it, in every process;
//   - Background() or context.Background(): a new kernel root;
//   - any other Go context (a request's, an errgroup's): a kernel context
//     under the nearest kernel ancestor (or a new root), with the Go
//     context's deadline, canceled by a goroutine when the Go context is
//     done, with its cause where the Go version has causes (Derive).
//
// Unlike Go's, they return an error: a kernel object can fail to be made
// (no module loaded, descriptor or per-user limits). The cancel functions
// never fail; a second call does nothing.

// kernelOf returns the nearest *Context of ctx (ctx itself, or the one a
// Go context was derived from), or nil.
func kernelOf(ctx context.Context) *Context {
	if c, ok := ctx.(*Context); ok {
		if c.st == nil {
			return nil
		}
		return c
	}
	if c, ok := ctx.Value(kernelKey{}).(*Context); ok {
		return c
	}
	return nil
}

// goParentOf is the Go context a new context asks for the keys the kernel
// does not have: parent itself, or for a kernel child of k, k's.
func goParentOf(parent context.Context, k *Context, direct bool) context.Context {
	if direct {
		return k.goParent
	}
	if parent == context.Background() || parent == context.TODO() || parent == context.Context(background) {
		return nil
	}
	return parent
}

// spec is a request for a cancelable context.
type spec struct {
	timeout      time.Duration // from the call
	hasTimeout   bool
	deadlineCode int32
	deadlineMsg  string
}

// newCancelable makes a cancel-capable kernel context under parent.
func newCancelable(parent context.Context, sp spec) (*Context, error) {
	if parent == nil {
		panic("ctxfd: cannot create context from nil parent")
	}
	// Deadlines go to the kernel as absolute CLOCK_MONOTONIC times (the
	// clock of Go's monotonic readings), taken now: however long the
	// ioctl takes to come, the kernel's deadline is the one asked for.
	now := nowOn(clockMono)
	k := kernelOf(parent)
	args := createArgs{}
	if sp.hasTimeout {
		args.hasDeadline = true
		args.deadlineNs = addNs(now, sp.timeout)
		args.deadlineCode, args.deadlineMsg = sp.deadlineCode, sp.deadlineMsg
	}
	direct := k != nil && context.Context(k) == parent
	bridge := false
	fromGo := false
	if !direct && goParentOf(parent, k, false) != nil {
		if d, ok := parent.Deadline(); ok {
			if abs := addNs(now, time.Until(d)); !args.hasDeadline || abs < args.deadlineNs {
				// The Go context's deadline comes first: it is the
				// kernel's now, with the Go context's err (and no
				// cause of ours).
				args.hasDeadline, args.deadlineNs = true, abs
				args.deadlineCode, args.deadlineMsg = 0, ""
				fromGo = true
			}
		}
		if done := parent.Done(); done != nil && (k == nil || done != k.Done()) {
			bridge = true
		}
	}
	fd, err := createUnder(k, &args)
	if err != nil {
		return nil, err
	}
	c := adopt(fd, true, false, k, goParentOf(parent, k, direct))
	if bridge {
		go c.st.bridge(parent, fromGo)
	}
	return c, nil
}

// addNs is now + d in nanoseconds, saturating instead of overflowing.
func addNs(now int64, d time.Duration) int64 {
	if d > 0 && now > math.MaxInt64-int64(d) {
		return math.MaxInt64
	}
	return now + int64(d)
}

// createUnder is kcreate under k's descriptor, or a root if k is nil.
func createUnder(k *Context, args *createArgs) (int, error) {
	if k == nil {
		return kcreate(-1, args)
	}
	var fd int
	err := k.st.control(func(pfd int) (err error) {
		fd, err = kcreate(pfd, args)
		return err
	})
	return fd, err
}

// bridge cancels the kernel context when the Go context parent is done.
func (s *state) bridge(parent context.Context, sameDeadline bool) {
	s.ensureWatch()
	select {
	case <-s.done:
		return
	case <-s.stop:
		return
	case <-parent.Done():
	}
	if sameDeadline && parent.Err() == context.DeadlineExceeded {
		// The kernel fires the same deadline, with DeadlineExceeded
		// (a cancel from here could only say Canceled): give its timer
		// the moment it may still need.
		t := time.NewTimer(time.Second)
		defer t.Stop()
		select {
		case <-s.done:
			return
		case <-s.stop:
			return
		case <-t.C:
		}
	}
	s.cancelCause(goCause(parent))
}

func (c *Context) cancelFunc() context.CancelFunc {
	st := c.st
	return func() { st.cancel(0, "", nil) }
}

// WithCancel is Go's context.WithCancel with a kernel context.
func WithCancel(parent context.Context) (*Context, context.CancelFunc, error) {
	c, err := newCancelable(parent, spec{})
	if err != nil {
		return nil, func() {}, err
	}
	return c, c.cancelFunc(), nil
}

// Derive returns a kernel context canceled when the Go context parent is
// done (with its cause, on Go 1.20 and later), and carrying its deadline:
// hand it to child processes (Command, Export) so that a Go request's
// cancellation reaches them. It is WithCancel under another name.
func Derive(parent context.Context) (*Context, context.CancelFunc, error) {
	return WithCancel(parent)
}

// WithCancelCause is Go's context.WithCancelCause with a kernel context.
func WithCancelCause(parent context.Context) (*Context, CancelCauseFunc, error) {
	c, err := newCancelable(parent, spec{})
	if err != nil {
		return nil, func(error) {}, err
	}
	st := c.st
	return c, func(cause error) { st.cancelCause(cause) }, nil
}

// WithTimeout is Go's context.WithTimeout with a kernel context: the
// kernel's timer cancels it with DeadlineExceeded, in every process,
// whether this one still runs or not.
func WithTimeout(parent context.Context, timeout time.Duration) (*Context, context.CancelFunc, error) {
	return WithTimeoutCause(parent, timeout, nil)
}

// WithTimeoutCause is Go's context.WithTimeoutCause with a kernel context.
func WithTimeoutCause(parent context.Context, timeout time.Duration, cause error) (*Context, context.CancelFunc, error) {
	sp := spec{timeout: timeout, hasTimeout: true}
	if cause != nil {
		sp.deadlineCode, sp.deadlineMsg = encodeCause(cause)
	}
	c, err := newCancelable(parent, sp)
	if err != nil {
		return nil, func() {}, err
	}
	return c, c.cancelFunc(), nil
}

// WithDeadline is Go's context.WithDeadline with a kernel context.
func WithDeadline(parent context.Context, d time.Time) (*Context, context.CancelFunc, error) {
	return WithTimeoutCause(parent, time.Until(d), nil)
}

// WithDeadlineCause is Go's context.WithDeadlineCause with a kernel context.
func WithDeadlineCause(parent context.Context, d time.Time, cause error) (*Context, context.CancelFunc, error) {
	return WithTimeoutCause(parent, time.Until(d), cause)
}

// WithValue is Go's context.WithValue with a kernel binding, which every
// process holding the context (or a descendant) sees. val is a string, a
// []byte, or nil (Go's nil: it hides older bindings of key). The context
// is done exactly when parent is, and cannot cancel.
func WithValue(parent context.Context, key Key, val any) (*Context, error) {
	if parent == nil {
		panic("ctxfd: cannot create context from nil parent")
	}
	if key == "" {
		return nil, errors.New("ctxfd: empty key")
	}
	args := createArgs{value: true, key: string(key)}
	switch v := val.(type) {
	case nil:
	case string:
		args.val = &v
	case []byte:
		s := string(v)
		args.val = &s
	default:
		return nil, fmt.Errorf("ctxfd: a kernel value is a string or []byte, not %T", val)
	}
	k := kernelOf(parent)
	direct := k != nil && context.Context(k) == parent
	under := k
	var bridge *Context
	if !direct && parent.Done() != nil && (k == nil || parent.Done() != k.Done()) {
		// The Go parent can be canceled on its own: put a kernel context
		// that follows it underneath.
		b, err := newCancelable(parent, spec{})
		if err != nil {
			return nil, err
		}
		under, bridge = b, b
	}
	fd, err := createUnder(under, &args)
	if err != nil {
		if bridge != nil {
			bridge.Close()
		}
		if errors.Is(err, syscall.EINVAL) && args.val != nil && *args.val == "" {
			err = fmt.Errorf("%w (this ctxfd module cannot bind the empty value, only nil: it predates the distinction)", err)
		}
		return nil, err
	}
	never := under == nil || under.neverDone
	return adopt(fd, false, never, under, goParentOf(parent, k, direct)), nil
}

// WithoutCancel is Go's context.WithoutCancel (Go 1.21) with a kernel
// context: it keeps parent's values but is never done and has no
// deadline.
func WithoutCancel(parent context.Context) (*Context, error) {
	if parent == nil {
		panic("ctxfd: cannot create context from nil parent")
	}
	k := kernelOf(parent)
	var fd int
	var err error
	if k == nil {
		fd, err = kbackground(false)
	} else {
		fd, err = createUnder(k, &createArgs{withoutCancel: true})
	}
	if err != nil {
		return nil, err
	}
	direct := k != nil && context.Context(k) == parent
	return adopt(fd, false, true, k, goParentOf(parent, k, direct)), nil
}
