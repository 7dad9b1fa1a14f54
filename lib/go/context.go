// SPDX-License-Identifier: LGPL-2.1-or-later

package ctxfd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Key is the type of the keys of kernel values: byte strings that every
// process holding the context can look up, whatever its language. Values
// are strings (any bytes). Keys of other types live in Go's own contexts:
// a *Context passes them to the Go context it was derived from.
type Key string

// Context is a kernel context as a context.Context. It holds one file
// descriptor on the kernel context (cancel-capable for the contexts
// WithCancel, WithTimeout etc. make, watch-only otherwise), plus, once
// Done is called, a private watch-only descriptor that the runtime's
// poller waits on, so that no descriptor shared with anybody else ever
// has its flags changed.
//
// Err, Cause, Deadline and Value read the kernel's state: a context
// canceled by another process, or by an ancestor in any process, is seen
// as soon as the cancel returns there.
//
// The descriptors are closed by Close, or by the garbage collector like an
// os.File's. Closing the last cancel-capable descriptor of a context
// cancels it in the kernel (its "defer cancel()"). A child keeps its
// parent *Context alive.
type Context struct {
	st        *state
	neverDone bool
	kparent   *Context        // the kernel parent, kept alive with its fd
	goParent  context.Context // asked for keys the kernel does not have
	dlOnce    sync.Once
	deadline  time.Time
	hasDl     bool
}

// state is what the goroutines of a Context share. It holds no pointer to
// the Context, so that a Context nobody references can be collected: its
// finalizer closes the descriptors, and the goroutines end.
type state struct {
	file      *os.File // the context's descriptor (owned)
	canCancel bool
	watchOnce sync.Once
	stop      chan struct{} // closed by close(): the goroutines end

	mu     sync.Mutex
	done   chan struct{} // closed when err is set
	err    error         // nil while active (as far as we know)
	cause  error
	wfile  *os.File // the poller's private descriptor, if any
	closed bool
	sent   *sentCause // the cause a cancel of ours recorded
}

type sentCause struct {
	code int32
	msg  string
	err  error
}

// kernelKey finds the nearest *Context through Go contexts derived from it.
type kernelKey struct{}

var background = &Context{neverDone: true}

// Background returns the never-done context with no kernel object (Go's
// context.Background()): contexts derived from it are new kernel roots.
func Background() *Context { return background }

func newState(fd int, canCancel bool) *state {
	return &state{
		file:      os.NewFile(uintptr(fd), "ctxfd"),
		canCancel: canCancel,
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
}

// adopt wraps a new fd; the finalizer closes it when c is unreachable.
func adopt(fd int, canCancel, neverDone bool, kparent *Context, goParent context.Context) *Context {
	c := &Context{st: newState(fd, canCancel), neverDone: neverDone, kparent: kparent, goParent: goParent}
	runtime.SetFinalizer(c, func(c *Context) { c.st.close(false) })
	return c
}

// control runs f on the descriptor, which stays open meanwhile.
func (s *state) control(f func(fd int) error) error {
	rc, err := s.file.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return &OpError{Op: "use of a closed context", Err: err}
	}
	return ferr
}

func (s *state) info() (Info, error) {
	var info Info
	err := s.control(func(fd int) (err error) {
		info, err = kinfo(fd)
		return err
	})
	return info, err
}

// markDone records the final state from a done Info; the first wins.
func (s *state) markDone(info *Info) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	if info.Err == syscall.ETIMEDOUT {
		s.err = context.DeadlineExceeded
	} else {
		s.err = context.Canceled
	}
	s.cause = s.err
	if info.explicitCause() {
		s.cause = &CauseError{Code: info.CauseCode, Message: info.CauseMessage}
	}
	close(s.done)
}

func (s *state) final() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// refresh asks the kernel and records a done state; returns err.
func (s *state) refresh() error {
	if err := s.final(); err != nil {
		return err
	}
	info, err := s.info()
	if err != nil {
		return nil // closed while active: no state to report
	}
	if info.Done {
		s.markDone(&info)
	}
	return s.final()
}

// ensureWatch starts the goroutine that closes done when the kernel
// context is done, on a private descriptor: CTXFD_IOC_WATCH makes a new
// open file, so setting O_NONBLOCK on it (which the runtime's poller
// needs) changes nobody else's descriptor.
func (s *state) ensureWatch() {
	s.watchOnce.Do(func() {
		if s.refresh() != nil {
			return
		}
		var wfd int
		err := s.control(func(fd int) (err error) {
			wfd, err = kwatch(fd, false)
			return err
		})
		if err == nil {
			if err = unix.SetNonblock(wfd, true); err != nil {
				unix.Close(wfd)
			}
		}
		if err != nil {
			// No descriptor for the poller (EMFILE...): block a thread.
			go s.waitBlocking()
			return
		}
		f := os.NewFile(uintptr(wfd), "ctxfd-watch")
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			f.Close()
			return
		}
		s.wfile = f
		s.mu.Unlock()
		go s.watch(f)
	})
}

func (s *state) watch(f *os.File) {
	defer f.Close()
	var ev [eventSize]byte
	if _, err := f.Read(ev[:]); err != nil {
		if !errors.Is(err, os.ErrClosed) {
			s.waitBlocking()
		}
		return
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	var info Info
	var ierr error
	if rc.Control(func(fd uintptr) { info, ierr = kinfo(int(fd)) }) == nil && ierr == nil && info.Done {
		s.markDone(&info)
	}
}

// waitBlocking is the fallback: poll(2) in a thread of its own, waking up
// now and then to see whether the context was closed.
func (s *state) waitBlocking() {
	for {
		select {
		case <-s.stop:
			return
		default:
		}
		var ready bool
		err := s.control(func(fd int) error {
			p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, err := unix.Poll(p, 1000)
			ready = n > 0
			if err == unix.EINTR {
				err = nil
			}
			return err
		})
		if err != nil {
			return
		}
		if ready {
			s.refresh()
			return
		}
	}
}

// cancel cancels the kernel context with a cause (orig: the Go error it
// came from, returned by Cause in this process if this cancel won).
func (s *state) cancel(code int32, msg string, orig error) error {
	// Recorded first: the watcher may see the context done (and Cause be
	// asked) before the ioctl returns. Cause uses it only if the kernel
	// recorded this very code and message, i.e. if this cancel won.
	if orig != nil && code != 0 {
		s.mu.Lock()
		if s.sent == nil {
			s.sent = &sentCause{code: code, msg: msg, err: orig}
		}
		s.mu.Unlock()
	}
	err := s.control(func(fd int) error { return kcancel(fd, code, msg) })
	if err != nil {
		return err
	}
	info, err := s.info()
	if err != nil {
		return err
	}
	s.markDone(&info)
	return nil
}

func (s *state) cancelCause(cause error) {
	code, msg := encodeCause(cause)
	s.cancel(code, msg, cause)
}

// close closes the descriptors, keeping the final state if there is one
// (with snapshot: read after the close, which may have canceled).
func (s *state) close(snapshot bool) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	wfile := s.wfile
	close(s.stop)
	s.mu.Unlock()
	var w int = -1
	if snapshot && s.final() == nil {
		s.control(func(fd int) (err error) {
			w, err = kwatch(fd, false)
			return err
		})
	}
	err := s.file.Close()
	if wfile != nil {
		wfile.Close()
	}
	if w >= 0 {
		if info, ierr := kinfo(w); ierr == nil && info.Done {
			s.markDone(&info)
		}
		unix.Close(w)
	}
	return err
}

// ---- context.Context ----------------------------------------------------

// Done returns a channel closed when the kernel context is done; nil for
// a context that is never done (Background, WithoutCancel), as in Go.
func (c *Context) Done() <-chan struct{} {
	if c.st == nil || c.neverDone {
		return nil
	}
	c.st.ensureWatch()
	return c.st.done
}

// Err returns nil while the context is active, then context.Canceled or
// context.DeadlineExceeded. It asks the kernel, so it is right at once
// after a cancel in any process; once non-nil, Done is closed.
func (c *Context) Err() error {
	if c.st == nil || c.neverDone {
		return nil
	}
	return c.st.refresh()
}

// Cause is Go's context.Cause(ctx): nil while active; once done, the cause
// given to the first cancel, or Err() if none was given. A cause given by
// this process (a CancelCauseFunc, or the Go context of Derive) is
// returned as the very error given, so errors.Is works on it; causes from
// elsewhere are *CauseError.
func (c *Context) Cause() error {
	if c.Err() == nil {
		return nil
	}
	c.st.mu.Lock()
	cause := c.st.cause
	c.st.mu.Unlock()
	ce, ok := cause.(*CauseError)
	if !ok {
		return cause
	}
	for p := c; p != nil && p.st != nil; p = p.kparent {
		p.st.mu.Lock()
		s := p.st.sent
		p.st.mu.Unlock()
		if s != nil && s.code == ce.Code && s.msg == ce.Message {
			return s.err
		}
	}
	return cause
}

// Deadline returns the kernel's effective deadline: the earliest along
// the ancestors, in any process.
func (c *Context) Deadline() (time.Time, bool) {
	if c.st == nil || c.neverDone {
		return time.Time{}, false
	}
	c.dlOnce.Do(func() {
		info, err := c.st.info()
		if err != nil || !info.HasDeadline {
			return
		}
		left := info.DeadlineNs - nowOn(info.Clockid)
		c.deadline, c.hasDl = time.Now().Add(time.Duration(left)), true
	})
	return c.deadline, c.hasDl
}

// Value returns, for a Key, the value (a string) of the nearest kernel
// binding of key among the context and its ancestors, nil for a nil
// binding; keys the kernel does not have, and keys of other types, are
// looked up in the Go context this one was derived from, if any.
func (c *Context) Value(key any) any {
	switch k := key.(type) {
	case kernelKey:
		if c.st == nil {
			return nil
		}
		return c
	case Key:
		if c.st != nil {
			var val string
			var found, isNil bool
			err := c.st.control(func(fd int) (err error) {
				val, found, isNil, err = klookup(fd, string(k))
				return err
			})
			if err == nil && found {
				if isNil {
					return nil
				}
				return val
			}
		}
	}
	if c.goParent != nil {
		return c.goParent.Value(key)
	}
	return nil
}

// String describes the context, for debugging.
func (c *Context) String() string {
	if c.st == nil {
		return "ctxfd.Background"
	}
	info, err := c.st.info()
	if err != nil {
		if e := c.st.final(); e != nil {
			return "ctxfd.Context(closed, " + e.Error() + ")"
		}
		return "ctxfd.Context(closed)"
	}
	state := "active"
	if info.Done {
		state = c.Err().Error()
	}
	return fmt.Sprintf("ctxfd.Context(id=%d, %s, %s)", info.ID, info.Kind, state)
}

// ---- beyond Go ------------------------------------------------------------

// Close closes the context's descriptors. If one was the last
// cancel-capable descriptor of the kernel context, the kernel cancels it.
// A context done before or by the close keeps answering Err and Cause.
// Close is idempotent.
func (c *Context) Close() error {
	if c.st == nil {
		return nil
	}
	runtime.SetFinalizer(c, nil)
	return c.st.close(true)
}

// Info returns what the kernel reports about the context.
func (c *Context) Info() (Info, error) {
	if c.st == nil {
		return Info{}, errors.New("ctxfd: Background has no kernel context")
	}
	return c.st.info()
}

// ID returns the kernel's id of the context (unique, never reused), 0 for
// Background or a closed context.
func (c *Context) ID() uint64 {
	info, err := c.Info()
	if err != nil {
		return 0
	}
	return info.ID
}

// CanCancel reports whether the context's descriptor is cancel-capable.
func (c *Context) CanCancel() bool { return c.st != nil && c.st.canCancel }

// Export returns a new watch-only descriptor on the context, close-on-exec,
// owned by the caller: for exec.Cmd.ExtraFiles or SCM_RIGHTS. A
// descriptor on a new root that is never done stands for Background.
func (c *Context) Export() (*os.File, error) {
	var fd int
	var err error
	if c.st == nil {
		fd, err = kbackground(false)
	} else {
		err = c.st.control(func(pfd int) (err error) {
			fd, err = kwatch(pfd, false)
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "ctxfd"), nil
}
