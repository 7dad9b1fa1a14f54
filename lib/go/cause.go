// SPDX-License-Identifier: LGPL-2.1-or-later

package ctxfd

import (
	"context"
	"errors"
	"fmt"
)

// CauseError is a cancellation cause as the kernel records it: an integer
// code and a message (at most 127 bytes). Causes from other processes, and
// deadline causes, read back as *CauseError. Cancel with one to choose the
// code; any other error is recorded with CauseCodeDefault and its text.
type CauseError struct {
	Code    int32
	Message string
}

func (e *CauseError) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("cause %d", e.Code)
}

// Is reports whether target is a *CauseError with the same code and
// message (causes cross processes by value).
func (e *CauseError) Is(target error) bool {
	t, ok := target.(*CauseError)
	return ok && t.Code == e.Code && t.Message == e.Message
}

// encodeCause gives the kernel's code and message for a Go cause; (0, "")
// is a cancel without cause.
func encodeCause(cause error) (int32, string) {
	var ce *CauseError
	switch {
	case cause == nil, cause == context.Canceled:
		return 0, ""
	case errors.As(cause, &ce) && cause == error(ce) && ce.Code != 0:
		return ce.Code, clipMessage(ce.Message)
	}
	return CauseCodeDefault, clipMessage(cause.Error())
}

// Cause returns the cause of ctx: for a *Context the kernel's (see
// (*Context).Cause); for another Go context, context.Cause where the Go
// version has it (1.20 and later) and Err otherwise, or, if ctx was
// canceled by a kernel context it derives from, that context's cause.
func Cause(ctx context.Context) error {
	if c, ok := ctx.(*Context); ok {
		return c.Cause()
	}
	err := ctx.Err()
	cause := goCause(ctx)
	if err != nil && (cause == nil || cause == err) {
		if k := kernelOf(ctx); k != nil && k.Err() == err {
			return k.Cause()
		}
		return err
	}
	return cause
}

// CancelCauseFunc cancels a context with a cause (Go 1.20's
// context.CancelCauseFunc, which it converts to). A nil cause, or
// context.Canceled, cancels without one. A message longer than the kernel
// takes is shortened, never refused: cancel always cancels.
type CancelCauseFunc func(cause error)
