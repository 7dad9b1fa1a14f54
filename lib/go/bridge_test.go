// SPDX-License-Identifier: GPL-2.0

package ctxfd_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"ctxfd"
	"golang.org/x/sys/unix"
)

func TestDeriveIsCanceledWithTheGoContext(t *testing.T) {
	need(t)
	goCtx, goCancel := context.WithCancel(context.Background())
	k, cancel, err := ctxfd.Derive(goCtx)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	// Another kernel context below it, as another process would hold.
	f, _ := k.Export()
	other, _ := ctxfd.FromFile(f)
	defer other.Close()
	goCancel()
	waitDone(t, k)
	waitDone(t, other)
	if k.Err() != context.Canceled || other.Err() != context.Canceled {
		t.Fatal(k.Err(), other.Err())
	}
}

func TestDeriveCarriesTheGoDeadline(t *testing.T) {
	need(t)
	goCtx, goCancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer goCancel()
	gd, _ := goCtx.Deadline()
	k, cancel, err := ctxfd.Derive(goCtx)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	kd, ok := k.Deadline()
	if !ok || kd.Sub(gd) > 50*time.Millisecond || gd.Sub(kd) > time.Millisecond {
		t.Fatalf("kernel deadline %v, Go's %v", kd, gd)
	}
	f, _ := k.Export()
	other, _ := ctxfd.FromFile(f)
	defer other.Close()
	waitDone(t, other)
	// The kernel's timer fired it: DeadlineExceeded, in every process.
	if other.Err() != context.DeadlineExceeded {
		t.Fatal(other.Err())
	}
}

func TestAGoChildOfAKernelContextStaysInTheKernelTree(t *testing.T) {
	need(t)
	k, cancel := mustCancel(t, ctxfd.Background())
	goChild := context.WithValue(k, goKey{}, 1) // only a value: no bridge needed
	c, cc, err := ctxfd.WithCancel(goChild)
	if err != nil {
		t.Fatal(err)
	}
	defer cc()
	ci, _ := c.Info()
	if ci.ParentID != k.ID() {
		t.Fatalf("parent id %d, want %d", ci.ParentID, k.ID())
	}
	if c.Value(goKey{}) != 1 {
		t.Fatal("the Go value is lost")
	}
	cancel()
	if c.Err() != context.Canceled { // the kernel did it, no goroutine
		t.Fatal(c.Err())
	}
	if !errors.Is(ctxfd.Cause(goChild), context.Canceled) {
		t.Fatal(ctxfd.Cause(goChild))
	}
}

func TestAGoCancelBetweenKernelContextsIsBridged(t *testing.T) {
	need(t)
	k, _ := mustCancel(t, ctxfd.Background())
	goChild, goCancel := context.WithCancel(k)
	c, cc, err := ctxfd.WithCancel(goChild)
	if err != nil {
		t.Fatal(err)
	}
	defer cc()
	goCancel()
	waitDone(t, c)
	if c.Err() != context.Canceled || k.Err() != nil {
		t.Fatal(c.Err(), k.Err())
	}
}

func TestFromEnvInAChildProcess(t *testing.T) {
	need(t)
	k, _, _ := ctxfd.WithTimeout(ctxfd.Background(), time.Minute)
	v, _ := ctxfd.WithValue(k, "job", "build")
	cmd := ctxfd.Command(v, os.Args[0])
	cmd.Env = append(os.Environ(), "CTXFD_GO_HELPER=show")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err, string(out))
	}
	want := []string{strconv.FormatUint(v.ID(), 10), "build", "false", "true", "true"}
	if got := strings.Fields(string(out)); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("child saw %q, want %q", got, want)
	}
}

func TestFromEnvWithoutVariableIsBackground(t *testing.T) {
	cmd := helperCmd("show")
	cmd.Env = append(cmd.Env, "CTXFD=")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "0 <nil> false false") {
		t.Fatalf("%v %q", err, out)
	}
}

func TestFromEnvRefusesABadVariable(t *testing.T) {
	for _, val := range []string{"abc", "-1", "99"} {
		cmd := helperCmd("show")
		cmd.Env = append(cmd.Env, "CTXFD="+val)
		out, _ := cmd.CombinedOutput()
		if !strings.HasPrefix(string(out), "error: ctxfd: CTXFD=") {
			t.Errorf("CTXFD=%s: %q", val, out)
		}
	}
}

// An inherited descriptor is shared with the parent: waiting on it must
// not set O_NONBLOCK on the open file the parent uses too.
func TestWaitingNeverChangesASharedDescriptor(t *testing.T) {
	need(t)
	k, cancel := mustCancel(t, ctxfd.Background())
	f, _ := k.Export()
	sf := dupFile(t, f) // the same open file as f
	defer sf.Close()
	before := flagsOf(t, sf)
	shared, err := ctxfd.FromFile(f) // adopted as inherited ones are
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	shared.Done()
	time.Sleep(10 * time.Millisecond)
	cancel()
	waitDone(t, shared)
	if after := flagsOf(t, sf); after != before || after&unix.O_NONBLOCK != 0 {
		t.Fatalf("flags %#x before, %#x after", before, after)
	}

	// A child process waits on a descriptor it shares with us.
	k2, cancel2 := mustCancel(t, ctxfd.Background())
	f2, _ := k2.Export()
	defer f2.Close()
	before = flagsOf(t, f2)
	cmd := helperCmd("wait")
	cmd.ExtraFiles = []*os.File{f2}
	cmd.Env = append(cmd.Env, "CTXFD=3")
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // it is waiting by now, most likely
	cancel2()
	if err := cmd.Wait(); err != nil || out.String() != "context canceled|context canceled\n" {
		t.Fatalf("child: %v %q", err, out.String())
	}
	if after := flagsOf(t, f2); after != before {
		t.Fatalf("the child changed the shared flags: %#x before, %#x after", before, after)
	}
}

func dupFile(t *testing.T, f *os.File) *os.File {
	t.Helper()
	rc, _ := f.SyscallConn()
	var nfd int
	var derr error
	rc.Control(func(fd uintptr) { nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) })
	if derr != nil {
		t.Fatal(derr)
	}
	return os.NewFile(uintptr(nfd), "dup")
}

func flagsOf(t *testing.T, f *os.File) int {
	t.Helper()
	rc, _ := f.SyscallConn()
	var fl int
	var ferr error
	rc.Control(func(fd uintptr) { fl, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0) })
	if ferr != nil {
		t.Fatal(ferr)
	}
	return fl
}
