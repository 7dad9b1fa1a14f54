// SPDX-License-Identifier: GPL-2.0

// Command grace is a worker that shuts down cleanly when its context is
// done.
//
// Under ctxrun --grace, the deadline (or Ctrl-C, or SIGTERM to ctxrun)
// first makes the file descriptor in $CTXFD readable; SIGTERM comes only
// after the grace period. The worker turns the fd into a Go context
// (os.NewFile puts it on the runtime's poller), finishes the job in hand,
// saves its state and exits on its own:
//
//	ctxrun --grace 10s 1h ./grace
//
// Without a CTXFD (not under ctxrun), it works until it is killed.
package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
	"time"
)

// fromEnv returns a context canceled once the context in $CTXFD is done,
// and a function that then says why: context.DeadlineExceeded or
// context.Canceled, and the cause code.
func fromEnv() (context.Context, func() (error, int32), error) {
	var why error = context.Canceled
	var cause int32

	s := os.Getenv("CTXFD")
	if s == "" {
		return context.Background(), func() (error, int32) { return why, cause }, nil
	}
	fd, err := strconv.Atoi(s)
	if err != nil {
		return nil, nil, fmt.Errorf("CTXFD=%q: %w", s, err)
	}
	// Non-blocking: reads wait in the runtime's poller, not in a thread.
	if err := syscall.SetNonblock(fd, true); err != nil {
		return nil, nil, fmt.Errorf("CTXFD: %w", err)
	}
	f := os.NewFile(uintptr(fd), "ctxfd")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// struct ctxfd_event: __u64 id; __s32 err; __s32 cause_code
		// (in the machine's byte order: little-endian on x86-64, arm64).
		var ev [16]byte
		if _, err := io.ReadFull(f, ev[:]); err == nil {
			if syscall.Errno(binary.LittleEndian.Uint32(ev[8:])) == syscall.ETIMEDOUT {
				why = context.DeadlineExceeded
			}
			cause = int32(binary.LittleEndian.Uint32(ev[12:]))
		}
		cancel() // after why and cause: ctx.Done() orders them
	}()
	return ctx, func() (error, int32) { return why, cause }, nil
}

// job is a unit of work, never to be cut in half.
func job(n int) {
	time.Sleep(200 * time.Millisecond)
	fmt.Printf("job %d done\n", n)
}

func main() {
	ctx, why, err := fromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "grace:", err)
		os.Exit(1)
	}
	for n := 1; ctx.Err() == nil; n++ {
		job(n)
	}
	err, cause := why()
	fmt.Printf("%v (cause %d): saving state\n", err, cause)
	time.Sleep(time.Second) // flush, close, save...
	fmt.Println("clean shutdown")
}
