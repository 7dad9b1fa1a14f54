// SPDX-License-Identifier: GPL-2.0

package ctxfd_test

import (
	"context"
	"errors"
	"fmt"
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
