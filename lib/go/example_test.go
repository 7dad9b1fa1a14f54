// SPDX-License-Identifier: GPL-2.0

package ctxfd_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"ctxfd"
)

// A kernel timeout over a child process tree: the kernel kills the tree
// when the deadline passes, even if this program has died by then.
func ExampleCommand() {
	ctx, cancel, err := ctxfd.WithTimeout(ctxfd.Background(), 100*time.Millisecond)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cancel()

	err = ctxfd.Command(ctx, "sh", "-c", "sleep 30 | cat").Run()
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output: true
}

// A cause that crosses processes: whoever sees the context sees why.
func ExampleWithCancelCause() {
	ctx, cancel, err := ctxfd.WithCancelCause(ctxfd.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	cancel(&ctxfd.CauseError{Code: 2, Message: "config reloaded"})
	<-ctx.Done()
	fmt.Println(ctx.Err(), "|", ctxfd.Cause(ctx))
	// Output: context canceled | config reloaded
}

// The handler of lib/go/README.md: a request's context reaches a pipeline
// of child processes; when the client hangs up, or 10 s have passed, the
// kernel kills both trees.
func Example_handler() {
	handler := func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel, err := ctxfd.WithTimeout(r.Context(), 10*time.Second)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer ctx.Close()
		defer cancel()

		gen := ctxfd.Command(ctx, "sh", "-c", "seq 1000000; sleep 60")
		grep := ctxfd.Command(ctx, "grep", "7$")
		grep.Stdin, _ = gen.StdoutPipe()
		grep.Stdout = w
		gen.Start()
		grep.Start()
		gen.Wait()
		if err := grep.Wait(); errors.Is(err, context.Canceled) {
			log.Printf("client gone: %v", err) // signal: killed (context canceled)
		}
	}
	http.HandleFunc("/", handler)
}
