// SPDX-License-Identifier: LGPL-2.1-or-later

package ctxfd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// Cmd is an exec.Cmd run under a context: the child gets a watch-only
// descriptor on it (CTXFD, so FromEnv, libctxfd, Python's ctxfd and a
// nested ctxrun find it), and when the context is done the kernel sends
// Signal to the child and, unless SpareDescendants, to every process
// below it, then SIGKILL after Grace to whatever is left. The kernel does
// this whether this process is still running or not.
//
// Use Start, Run, Wait, Output and CombinedOutput of Cmd (not of the
// embedded exec.Cmd, which would start the child without the context).
// Processes that left the child's tree (double-forked daemons) escape
// unless the child is a subreaper such as ctxrun.
type Cmd struct {
	*exec.Cmd

	// Signal is sent when the context is done; SIGKILL if zero (as
	// exec.CommandContext does).
	Signal syscall.Signal
	// Grace, if not zero, is how long after Signal the kernel sends
	// SIGKILL (at most a day; not with Signal SIGKILL).
	Grace time.Duration
	// SpareDescendants signals the child only, not its descendants.
	SpareDescendants bool

	ctx     context.Context
	kctx    *Context // the context the child runs under
	release func()   // ends a kctx made by Start
}

// Command returns a Cmd that runs name with args under ctx. ctx may be a
// *Context or any Go context (an HTTP request's): a Go context is bridged
// with Derive when the command starts, so its cancellation tears down
// the child's tree.
func Command(ctx context.Context, name string, args ...string) *Cmd {
	if ctx == nil {
		panic("ctxfd: nil Context")
	}
	return &Cmd{Cmd: exec.Command(name, args...), ctx: ctx}
}

// Start starts the command under the context and attaches its tree to it.
func (c *Cmd) Start() error {
	if c.Process != nil {
		return errors.New("exec: already started")
	}
	sig := c.Signal
	if sig == 0 {
		sig = syscall.SIGKILL
	}
	if sig < 1 || sig > 64 {
		return fmt.Errorf("ctxfd: bad signal %d", sig)
	}
	if c.Grace < 0 || c.Grace > graceMaxNano || (c.Grace != 0 && sig == syscall.SIGKILL) {
		return fmt.Errorf("ctxfd: grace %v: between 0 and a day, and only after a signal other than SIGKILL", c.Grace)
	}
	k, ok := c.ctx.(*Context)
	if c.ctx == context.Background() || c.ctx == context.TODO() {
		k, ok = background, true
	}
	if !ok {
		d, cancel, err := Derive(c.ctx)
		if err != nil {
			return err
		}
		k = d
		c.release = func() { cancel(); d.Close() }
	}
	c.kctx = k
	f, err := k.ExportEnv(c.Cmd)
	if err != nil {
		c.done()
		return err
	}
	err = c.Cmd.Start()
	f.Close()
	c.ExtraFiles = c.ExtraFiles[:len(c.ExtraFiles)-1]
	if err != nil {
		c.done()
		return err
	}
	if k.st == nil {
		return nil // Background: never done, nothing to tear down
	}
	var flags uint64
	if !c.SpareDescendants {
		flags = attachDescendants
	}
	err = k.st.control(func(fd int) error {
		return kattach(fd, c.Process.Pid, sig, int64(c.Grace), flags)
	})
	if err != nil && !errors.Is(err, syscall.ESRCH) {
		c.Process.Kill()
		c.Cmd.Wait()
		c.done()
		return err
	}
	return nil
}

func (c *Cmd) done() {
	if c.release != nil {
		c.release()
		c.release = nil
	}
}

// Wait waits for the command as exec.Cmd.Wait does. If the context is
// done and the command failed, the error is a *ContextExitError: the
// command ended because its context did.
func (c *Cmd) Wait() error {
	err := c.Cmd.Wait()
	if c.kctx != nil && err != nil {
		if cerr := c.kctx.Err(); cerr != nil {
			err = &ContextExitError{Err: cerr, Cause: c.kctx.Cause(), ExitErr: err}
		}
	}
	c.done()
	return err
}

// Run starts the command and waits for it.
func (c *Cmd) Run() error {
	if err := c.Start(); err != nil {
		return err
	}
	return c.Wait()
}

// Output runs the command and returns its standard output (see
// exec.Cmd.Output; standard error is kept in the *exec.ExitError).
func (c *Cmd) Output() ([]byte, error) {
	if c.Stdout != nil {
		return nil, errors.New("exec: Stdout already set")
	}
	var stdout, stderr bytes.Buffer
	c.Stdout = &stdout
	captureErr := c.Stderr == nil
	if captureErr {
		c.Stderr = &stderr
	}
	err := c.Run()
	if captureErr && err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			ee.Stderr = stderr.Bytes()
		}
	}
	return stdout.Bytes(), err
}

// CombinedOutput runs the command and returns its standard output and
// standard error together.
func (c *Cmd) CombinedOutput() ([]byte, error) {
	if c.Stdout != nil || c.Stderr != nil {
		return nil, errors.New("exec: Stdout or Stderr already set")
	}
	var b bytes.Buffer
	c.Stdout, c.Stderr = &b, &b
	err := c.Run()
	return b.Bytes(), err
}

// ContextExitError is returned by Cmd.Wait when the command failed after
// its context was done. errors.Is(err, context.Canceled) (or
// DeadlineExceeded) holds, and errors.As finds the *exec.ExitError.
type ContextExitError struct {
	Err     error // context.Canceled or context.DeadlineExceeded
	Cause   error // the context's cause
	ExitErr error // what exec.Cmd.Wait returned
}

func (e *ContextExitError) Error() string {
	msg := e.ExitErr.Error() + " (" + e.Err.Error()
	if e.Cause != nil && e.Cause != e.Err {
		msg += ": " + e.Cause.Error()
	}
	return msg + ")"
}

// Is makes errors.Is(err, context.Canceled/DeadlineExceeded) work.
func (e *ContextExitError) Is(target error) bool { return target == e.Err }

// Unwrap returns the exec error, for errors.As(err, **exec.ExitError).
func (e *ContextExitError) Unwrap() error { return e.ExitErr }
