// SPDX-License-Identifier: GPL-2.0

package ctxfd_test

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"

	"ctxfd"
)

// The test binary is also the child process of the tests that need one:
// CTXFD_GO_HELPER names what it does.
func TestMain(m *testing.M) {
	if h := os.Getenv("CTXFD_GO_HELPER"); h != "" {
		os.Exit(helper(h, os.Args[1:]))
	}
	os.Exit(m.Run())
}

func helper(name string, args []string) int {
	switch name {
	case "show": // print what FromEnv finds
		c, err := ctxfd.FromEnv()
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		_, hasDl := c.Deadline()
		fmt.Println(c.ID(), c.Value(ctxfd.Key("job")), c.CanCancel(), hasDl, os.Getenv("CTXFD") == "")
		return 0
	case "cancel": // cancel the context in fd args[0] with a cause
		fd, _ := strconv.Atoi(args[0])
		_, cancel, err := ctxfd.FromCancelFile(os.NewFile(uintptr(fd), "inherited"))
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		time.Sleep(20 * time.Millisecond)
		cancel(&ctxfd.CauseError{Code: 77, Message: args[1]})
		return 0
	case "term": // say when SIGTERM comes, and stay
		ch := make(chan os.Signal, 4)
		signal.Notify(ch, syscall.SIGTERM)
		fmt.Println("ready")
		for range ch {
			fmt.Println("got TERM")
		}
		return 0
	case "wait": // wait for the context of CTXFD, print its err and cause
		c, err := ctxfd.FromEnv()
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		<-c.Done()
		fmt.Printf("%v|%v\n", c.Err(), c.Cause())
		return 0
	}
	return 2
}

// A helper child running the test binary.
func helperCmd(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CTXFD_GO_HELPER="+name)
	return cmd
}

func need(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(ctxfdDevice); err != nil {
		t.Skip("ctxfd.ko not loaded:", err)
	}
}

const ctxfdDevice = "/dev/ctxfd"
