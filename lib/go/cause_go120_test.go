// SPDX-License-Identifier: GPL-2.0

//go:build go1.20

package ctxfd_test

import (
	"context"
	"errors"
	"testing"

	"ctxfd"
)

var errClientGone = errors.New("client gone")

// Go 1.20 has causes: Derive hands the Go context's cause to the kernel,
// where every process sees its text, and this process the very error.
func TestDeriveCarriesTheGoCause(t *testing.T) {
	need(t)
	goCtx, goCancel := context.WithCancelCause(context.Background())
	k, cancel, err := ctxfd.Derive(goCtx)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	f, _ := k.Export()
	other, _ := ctxfd.FromFile(f)
	defer other.Close()
	goCancel(errClientGone)
	waitDone(t, other)
	if !errors.Is(other.Cause(), &ctxfd.CauseError{Code: ctxfd.CauseCodeDefault, Message: "client gone"}) {
		t.Fatalf("kernel cause %v", other.Cause())
	}
	waitDone(t, k)
	if k.Cause() != errClientGone || ctxfd.Cause(k) != errClientGone {
		t.Fatalf("cause %v", k.Cause())
	}
}

// A CancelCauseFunc converts to Go's type.
func TestCancelCauseFuncIsGos(t *testing.T) {
	need(t)
	c, cancel, err := ctxfd.WithCancelCause(ctxfd.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var f context.CancelCauseFunc = context.CancelCauseFunc(cancel)
	f(errClientGone)
	if !errors.Is(ctxfd.Cause(c), errClientGone) {
		t.Fatal(ctxfd.Cause(c))
	}
	// A Go child canceled by the kernel context: ctxfd.Cause finds why.
	goChild, stop := context.WithCancel(c)
	defer stop()
	<-goChild.Done()
	if !errors.Is(ctxfd.Cause(goChild), errClientGone) {
		t.Fatalf("Go child's cause %v", ctxfd.Cause(goChild))
	}
}
