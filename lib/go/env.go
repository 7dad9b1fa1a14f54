// SPDX-License-Identifier: LGPL-2.1-or-later

package ctxfd

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

var (
	envMu  sync.Mutex
	envCtx *Context
)

// FromEnv returns the context this process was started under: the
// descriptor named by the CTXFD environment variable (set by ctxrun,
// libctxfd's ctx_export_env, Python's ctxfd.export_env, or ExportEnv), or
// Background if CTXFD is unset or empty. The first call adopts the
// descriptor, makes it close-on-exec and unsets CTXFD, so that children
// do not mistake a reused number for a context; later calls return the
// same *Context. The descriptor's flags are otherwise left alone (it is
// shared with the parent).
func FromEnv() (*Context, error) {
	envMu.Lock()
	defer envMu.Unlock()
	if envCtx != nil {
		return envCtx, nil
	}
	val := os.Getenv(envName)
	if val == "" {
		return Background(), nil
	}
	fd, err := strconv.Atoi(val)
	if err != nil || fd < 0 {
		return nil, fmt.Errorf("ctxfd: %s=%q is not a descriptor number", envName, val)
	}
	info, err := kinfo(fd)
	if err != nil {
		return nil, fmt.Errorf("ctxfd: %s=%d: descriptor %d is not a ctxfd context: %w", envName, fd, fd, err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
		return nil, &OpError{Op: "F_SETFD", Err: err}
	}
	os.Unsetenv(envName)
	envCtx = adoptInfo(fd, &info)
	return envCtx, nil
}

func adoptInfo(fd int, info *Info) *Context {
	never := info.Kind == "without-cancel" || (info.Kind == "value" && info.ParentID == 0)
	return adopt(fd, info.CanCancel, never, nil, nil)
}

// FromFile adopts a context descriptor (received over a unix socket,
// inherited...): on success the *Context owns f and closes it.
func FromFile(f *os.File) (*Context, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var fd int
	var info Info
	var ierr error
	if err := rc.Control(func(pfd uintptr) {
		// A descriptor of our own: f may be nonblocking and pollable,
		// and its *os.File has a finalizer of its own.
		if info, ierr = kinfo(int(pfd)); ierr == nil {
			fd, ierr = unix.FcntlInt(pfd, unix.F_DUPFD_CLOEXEC, 0)
		}
	}); err != nil {
		return nil, err
	}
	if ierr != nil {
		return nil, fmt.Errorf("ctxfd: %s is not a ctxfd context: %w", f.Name(), ierr)
	}
	f.Close()
	return adoptInfo(fd, &info), nil
}

// ExportEnv prepares cmd to run under c: a new watch-only descriptor on
// c in cmd.ExtraFiles, named by CTXFD in cmd.Env (os.Environ() if
// cmd.Env is nil; an inherited CTXFD is replaced). It returns the
// descriptor, to close once cmd has started. Set cmd.Env and
// cmd.ExtraFiles before, not after, calling it.
func (c *Context) ExportEnv(cmd *exec.Cmd) (*os.File, error) {
	f, err := c.Export()
	if err != nil {
		return nil, err
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	kept := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, envName+"=") {
			kept = append(kept, kv)
		}
	}
	cmd.Env = append(kept, fmt.Sprintf("%s=%d", envName, 2+len(cmd.ExtraFiles)))
	return f, nil
}

// FromCancelFile adopts a cancel-capable context descriptor (from
// ExportCancel in another process, or libctxfd's ctx_cancel_fd) and
// returns the context and a function that cancels it. EPERM for a
// watch-only descriptor. On success the *Context owns f.
func FromCancelFile(f *os.File) (*Context, CancelCauseFunc, error) {
	c, err := FromFile(f)
	if err != nil {
		return nil, func(error) {}, err
	}
	if !c.CanCancel() {
		c.Close()
		return nil, func(error) {}, &OpError{Op: "FromCancelFile", Err: unix.EPERM}
	}
	st := c.st
	return c, func(cause error) { st.cancelCause(cause) }, nil
}

// ExportCancel returns a new descriptor carrying the right to cancel c
// (close-on-exec, owned by the caller), for a process that must be able
// to cancel: FromCancelFile adopts it there. EPERM for a context that
// cannot cancel.
func (c *Context) ExportCancel() (*os.File, error) {
	if !c.CanCancel() {
		return nil, &OpError{Op: "ExportCancel", Err: unix.EPERM}
	}
	var fd int
	err := c.st.control(func(pfd int) (err error) {
		fd, err = unix.FcntlInt(uintptr(pfd), unix.F_DUPFD_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "ctxfd-cancel"), nil
}
