// SPDX-License-Identifier: GPL-2.0

package ctxfd_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ctxfd"
)

func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndex(s, ") ")
	return i >= 0 && s[i+2] != 'Z'
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if !alive(pid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d survived its context", pid)
}

// readPid waits for a shell to write a background job's pid.
func readPid(t *testing.T, path string) int {
	t.Helper()
	for i := 0; i < 2000; i++ {
		b, _ := os.ReadFile(path)
		if s := strings.TrimSpace(string(b)); s != "" {
			pid, err := strconv.Atoi(s)
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no pid written")
	return 0
}

func TestCommandTreeIsTornDownOnCancel(t *testing.T) {
	need(t)
	k, cancel := mustCancel(t, ctxfd.Background())
	pidfile := filepath.Join(t.TempDir(), "pid")
	cmd := ctxfd.Command(k, "sh", "-c", "sleep 30 & echo $! > "+pidfile+"; wait")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	grandchild := readPid(t, pidfile)
	cancel()
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &ee) {
		t.Fatalf("Wait: %v", err)
	}
	if ws := ee.Sys().(syscall.WaitStatus); ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v", ws)
	}
	waitGone(t, grandchild)
}

func TestCommandUnderAGoTimeout(t *testing.T) {
	need(t)
	goCtx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := ctxfd.Command(goCtx, "sleep", "30").Run()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run: %v", err)
	}
	if time.Since(start) > 20*time.Second {
		t.Fatal("the child outlived its deadline")
	}
}

func TestCommandUnderACanceledGoContext(t *testing.T) {
	need(t)
	goCtx, cancel := context.WithCancel(context.Background())
	pidfile := filepath.Join(t.TempDir(), "pid")
	cmd := ctxfd.Command(goCtx, "sh", "-c", "sleep 30 & echo $! > "+pidfile+"; wait")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	grandchild := readPid(t, pidfile)
	cancel()
	if err := cmd.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait: %v", err)
	}
	waitGone(t, grandchild)
}

// procStatus is the state and signal masks of a process, for failures.
func procStatus(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return err.Error()
	}
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "State") || strings.HasPrefix(l, "Sig") || strings.HasPrefix(l, "Shd") {
			keep = append(keep, strings.Join(strings.Fields(l), " "))
		}
	}
	return strings.Join(keep, ", ")
}

func TestCommandSignalThenGrace(t *testing.T) {
	need(t)
	k, cancel := mustCancel(t, ctxfd.Background())
	// A child that answers SIGTERM at once (a shell's trap would wait for
	// its current command) and stays: only the grace's SIGKILL ends it.
	cmd := ctxfd.Command(k, os.Args[0])
	cmd.Env = append(os.Environ(), "CTXFD_GO_HELPER=term")
	cmd.Signal, cmd.Grace = syscall.SIGTERM, 1500*time.Millisecond
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	if l := <-lines; l != "ready" {
		t.Fatalf("first line %q", l)
	}
	cancel()
	got, seen := false, ""
	timer := time.After(1200 * time.Millisecond) // within the grace period
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				break wait
			}
			if l == "got TERM" {
				got = true
				break wait
			}
		case <-timer:
			seen = procStatus(cmd.Process.Pid)
			break wait
		}
	}
	for range lines {
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("Wait: %v", err)
	}
	if !got {
		t.Fatalf("no SIGTERM seen within the grace period; the shell then: %s", seen)
	}
}

func TestCommandSucceedsWhileTheContextLives(t *testing.T) {
	need(t)
	k, _ := mustCancel(t, ctxfd.Background())
	out, err := ctxfd.Command(k, "sh", "-c", `echo "ctxfd=$CTXFD"`).Output()
	if err != nil || !strings.HasPrefix(string(out), "ctxfd=") || len(out) < 8 {
		t.Fatalf("%v %q", err, out)
	}
	out, err = ctxfd.Command(k, "sh", "-c", "echo out; echo err >&2; exit 3").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || string(out) != "out\nerr\n" {
		t.Fatalf("%v %q", err, out)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatal("a plain failure blamed on the context")
	}
}

func TestCommandRefusesBadOptions(t *testing.T) {
	need(t)
	k, _ := mustCancel(t, ctxfd.Background())
	cmd := ctxfd.Command(k, "true")
	cmd.Grace = time.Second // with SIGKILL
	if cmd.Run() == nil {
		t.Fatal("a grace after SIGKILL was accepted")
	}
	cmd = ctxfd.Command(k, "true")
	cmd.Signal = 99
	if cmd.Run() == nil {
		t.Fatal("signal 99 was accepted")
	}
	if err := ctxfd.Command(k, "/nonexistent/program").Run(); err == nil {
		t.Fatal("a missing program started")
	}
}

func TestCommandUnderBackgroundGetsANeverDoneContext(t *testing.T) {
	need(t)
	cmd := ctxfd.Command(context.Background(), os.Args[0])
	cmd.Env = append(os.Environ(), "CTXFD_GO_HELPER=show")
	out, err := cmd.Output()
	f := strings.Fields(string(out))
	if err != nil || len(f) != 5 || f[0] == "0" || f[3] != "false" {
		t.Fatalf("%v %q", err, out)
	}
}
