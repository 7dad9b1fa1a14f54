// SPDX-License-Identifier: GPL-2.0

package ctxfd_test

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ctxfd"
)

func mustCancel(t *testing.T, parent context.Context) (*ctxfd.Context, context.CancelFunc) {
	t.Helper()
	c, cancel, err := ctxfd.WithCancel(parent)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); c.Close() })
	return c, cancel
}

// waitDone fails the test if ctx is not done within a generous bound.
func waitDone(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(20 * time.Second):
		t.Fatalf("%v: not done after 20 s", ctx)
	}
}

func TestBackgroundIsNeverDone(t *testing.T) {
	bg := ctxfd.Background()
	if bg.Done() != nil || bg.Err() != nil || bg.Cause() != nil || bg.Value(ctxfd.Key("k")) != nil {
		t.Fatal("Background is not inert")
	}
	if _, ok := bg.Deadline(); ok {
		t.Fatal("Background has a deadline")
	}
	if bg.ID() != 0 || bg.CanCancel() || bg.String() != "ctxfd.Background" {
		t.Fatal("Background has a kernel object")
	}
}

func TestCancelReachesTheSubtreeBeforeItReturns(t *testing.T) {
	need(t)
	root, cancel := mustCancel(t, ctxfd.Background())
	a, _ := mustCancel(t, root)
	b, cb, err := ctxfd.WithTimeout(a, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer cb()
	v, err := ctxfd.WithValue(b, "k", "v")
	if err != nil {
		t.Fatal(err)
	}
	all := []*ctxfd.Context{root, a, b, v}
	for _, c := range all {
		if c.Err() != nil {
			t.Fatalf("%v: active context has Err %v", c, c.Err())
		}
		c.Done() // watch from now on
	}
	cancel()
	for _, c := range all {
		// Err asks the kernel: right at once, Done closed with it.
		if err := c.Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("%v: Err %v", c, err)
		}
		select {
		case <-c.Done():
		default:
			t.Fatalf("%v: Err is set but Done is open", c)
		}
		if c.Cause() != context.Canceled {
			t.Fatalf("%v: Cause %v without a cause", c, c.Cause())
		}
	}
}

func TestCancelingAChildLeavesItsParentAlone(t *testing.T) {
	need(t)
	p, _ := mustCancel(t, ctxfd.Background())
	a, ca := mustCancel(t, p)
	b, _ := mustCancel(t, p)
	ca()
	if a.Err() == nil || p.Err() != nil || b.Err() != nil {
		t.Fatal("a child's cancel went up or sideways")
	}
}

var errShutdown = errors.New("shutting down")

func TestCancelCauseIsTheErrorGiven(t *testing.T) {
	need(t)
	c, cancel, err := ctxfd.WithCancelCause(ctxfd.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	child, _ := mustCancel(t, c)
	cancel(errShutdown)
	cancel(errors.New("second cancel changes nothing"))
	if c.Err() != context.Canceled {
		t.Fatal(c.Err())
	}
	for _, x := range []*ctxfd.Context{c, child} {
		if !errors.Is(x.Cause(), errShutdown) || !errors.Is(ctxfd.Cause(x), errShutdown) {
			t.Fatalf("%v: cause %v, want %v", x, x.Cause(), errShutdown)
		}
	}
	// Seen as the kernel recorded it: the default code and the message.
	info, _ := child.Info()
	if info.CauseCode != ctxfd.CauseCodeDefault || info.CauseMessage != "shutting down" {
		t.Fatalf("kernel cause %d %q", info.CauseCode, info.CauseMessage)
	}
}

func TestCauseWithACodeCrossesProcesses(t *testing.T) {
	need(t)
	c, _ := mustCancel(t, ctxfd.Background())
	f, err := c.ExportCancel()
	if err != nil {
		t.Fatal(err)
	}
	cmd := helperCmd("cancel", "3", "from another process")
	cmd.ExtraFiles = []*os.File{f}
	out, err := cmd.CombinedOutput()
	f.Close()
	if err != nil {
		t.Fatalf("helper: %v %s", err, out)
	}
	waitDone(t, c)
	want := &ctxfd.CauseError{Code: 77, Message: "from another process"}
	if !errors.Is(c.Cause(), want) || c.Cause().Error() != "from another process" {
		t.Fatalf("cause %#v", c.Cause())
	}
	if c.Err() != context.Canceled {
		t.Fatal(c.Err())
	}
}

func TestLongCauseMessageIsShortenedAndStillCancels(t *testing.T) {
	need(t)
	c, cancel, err := ctxfd.WithCancelCause(ctxfd.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cancel(errors.New(strings.Repeat("é", 100) + "\x00tail"))
	if c.Err() == nil {
		t.Fatal("not canceled")
	}
	info, _ := c.Info()
	if info.CauseMessage != strings.Repeat("é", 63) {
		t.Fatalf("message %q", info.CauseMessage)
	}
}

func TestTimeoutEndsWithDeadlineExceeded(t *testing.T) {
	need(t)
	start := time.Now()
	c, cancel, err := ctxfd.WithTimeoutCause(ctxfd.Background(), 50*time.Millisecond,
		&ctxfd.CauseError{Code: 9, Message: "too slow"})
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	d, ok := c.Deadline()
	if !ok || d.Before(start.Add(50*time.Millisecond)) || d.After(time.Now().Add(50*time.Millisecond)) {
		t.Fatalf("deadline %v (ok %v), started %v", d, ok, start)
	}
	waitDone(t, c)
	if time.Now().Before(d) {
		t.Fatal("done before the deadline")
	}
	if !errors.Is(c.Err(), context.DeadlineExceeded) {
		t.Fatal(c.Err())
	}
	if !errors.Is(c.Cause(), &ctxfd.CauseError{Code: 9, Message: "too slow"}) {
		t.Fatalf("cause %v", c.Cause())
	}
}

func TestDeadlineIsTheEarliestOfTheAncestors(t *testing.T) {
	need(t)
	p, cp, _ := ctxfd.WithTimeout(ctxfd.Background(), 10*time.Second)
	defer cp()
	late, cl, _ := ctxfd.WithDeadline(p, time.Now().Add(time.Hour))
	defer cl()
	early, ce, _ := ctxfd.WithTimeout(p, time.Second)
	defer ce()
	pd, _ := p.Deadline()
	ld, _ := late.Deadline()
	ed, _ := early.Deadline()
	if d := ld.Sub(pd); d < -time.Millisecond || d > time.Millisecond {
		t.Fatalf("late child's deadline %v, parent's %v", ld, pd)
	}
	if !ed.Before(pd) {
		t.Fatal("early child's deadline is not its own")
	}
	past, cpast, _ := ctxfd.WithDeadline(ctxfd.Background(), time.Now().Add(-time.Second))
	defer cpast()
	if past.Err() != context.DeadlineExceeded {
		t.Fatal("a past deadline is not born done")
	}
}

func TestValuesNearestWinsAndNilShadows(t *testing.T) {
	need(t)
	root, cancel := mustCancel(t, ctxfd.Background())
	a, _ := ctxfd.WithValue(root, "user", "alice")
	b, _ := ctxfd.WithValue(a, "trace", []byte{0, 1, 'x'})
	c, _ := ctxfd.WithValue(b, "user", "bob")
	d, err := ctxfd.WithValue(c, "user", nil)
	if err != nil {
		t.Fatal(err)
	}
	big, _ := ctxfd.WithValue(d, "big", strings.Repeat("x", 3000))
	for _, tc := range []struct {
		ctx  context.Context
		key  ctxfd.Key
		want any
	}{
		{a, "user", "alice"}, {b, "trace", "\x00\x01x"}, {c, "user", "bob"},
		{d, "user", nil}, {d, "trace", "\x00\x01x"}, {root, "user", nil},
		{big, "big", strings.Repeat("x", 3000)},
	} {
		if got := tc.ctx.Value(tc.key); got != tc.want {
			t.Errorf("%v.Value(%q) = %#v, want %#v", tc.ctx, tc.key, got, tc.want)
		}
	}
	if a.Value("user") != nil {
		t.Error("a plain string key reached the kernel (only Key does)")
	}
	if a.CanCancel() {
		t.Error("a value context can cancel")
	}
	cancel()
	if d.Err() != context.Canceled {
		t.Error("a value context is not done with its parent")
	}
	if _, err := ctxfd.WithValue(root, "", "v"); err == nil {
		t.Error("empty key accepted")
	}
	if _, err := ctxfd.WithValue(root, "k", 5); err == nil {
		t.Error("an int value accepted")
	}
	if _, err := ctxfd.WithValue(root, "k", strings.Repeat("v", 2<<20)); !errors.Is(err, syscall.E2BIG) {
		t.Errorf("a 2 MiB value: %v", err)
	}
}

type goKey struct{}

func TestGoKeysGoToTheGoParent(t *testing.T) {
	need(t)
	goCtx := context.WithValue(context.Background(), goKey{}, "go value")
	goCtx = context.WithValue(goCtx, ctxfd.Key("job"), "from go")
	c, cancel, err := ctxfd.Derive(goCtx)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	v, _ := ctxfd.WithValue(c, "job", "from the kernel")
	if c.Value(goKey{}) != "go value" || v.Value(goKey{}) != "go value" {
		t.Fatal("Go keys are lost")
	}
	if c.Value(ctxfd.Key("job")) != "from go" || v.Value(ctxfd.Key("job")) != "from the kernel" {
		t.Fatal("kernel bindings do not come first")
	}
}

func TestWithoutCancelKeepsValuesButIsNeverDone(t *testing.T) {
	need(t)
	p, cancel := mustCancel(t, ctxfd.Background())
	v, _ := ctxfd.WithValue(p, "k", "v")
	w, err := ctxfd.WithoutCancel(v)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if w.Done() != nil || w.Err() != nil || w.Value(ctxfd.Key("k")) != "v" {
		t.Fatal("WithoutCancel followed its parent or lost its values")
	}
	if _, ok := w.Deadline(); ok {
		t.Fatal("WithoutCancel has a deadline")
	}
	child, cc, _ := ctxfd.WithCancel(w)
	if child.Err() != nil {
		t.Fatal("a child of WithoutCancel is born done")
	}
	cc()
}

func TestCloseOfTheLastCancelDescriptorCancels(t *testing.T) {
	need(t)
	c, _, err := ctxfd.WithCancel(ctxfd.Background())
	if err != nil {
		t.Fatal(err)
	}
	f, _ := c.Export()
	watch, err := ctxfd.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	c.Close()
	if watch.Err() != context.Canceled || c.Err() != context.Canceled {
		t.Fatalf("after Close: %v, %v", watch.Err(), c.Err())
	}
	if c.Close() != nil {
		t.Fatal("Close is not idempotent")
	}
}

func TestGarbageCollectorClosesAndTheKernelCancels(t *testing.T) {
	need(t)
	f := func() *ctxfd.Context {
		c, _, err := ctxfd.WithCancel(ctxfd.Background())
		if err != nil {
			t.Fatal(err)
		}
		c.Done() // a watcher goroutine must not keep it alive
		w, _ := c.Export()
		watch, _ := ctxfd.FromFile(w)
		return watch
	}()
	defer f.Close()
	for i := 0; i < 100 && f.Err() == nil; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if f.Err() != context.Canceled {
		t.Fatal("an unreachable context was not canceled")
	}
}

func TestAChildKeepsItsParentAlive(t *testing.T) {
	need(t)
	child, cancel, err := ctxfd.WithCancel(func() *ctxfd.Context {
		p, _, _ := ctxfd.WithTimeout(ctxfd.Background(), time.Minute)
		return p
	}())
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	for i := 0; i < 5; i++ {
		runtime.GC()
	}
	if child.Err() != nil {
		t.Fatal("the parent was collected and canceled")
	}
}

func TestWatcherGoroutinesEndWhenDone(t *testing.T) {
	need(t)
	before := runtime.NumGoroutine()
	root, cancel := mustCancel(t, ctxfd.Background())
	var kids []*ctxfd.Context
	for i := 0; i < 50; i++ {
		k, _, err := ctxfd.WithCancel(root)
		if err != nil {
			t.Fatal(err)
		}
		k.Done()
		kids = append(kids, k)
	}
	cancel()
	for _, k := range kids {
		waitDone(t, k)
		k.Close()
	}
	root.Close()
	for i := 0; i < 200 && runtime.NumGoroutine() > before; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines before, %d after", before, n)
	}
}

// Many contexts watched at once, canceled by one ancestor, from many
// goroutines: every Done closes, every Err agrees.
func TestManyWatchersRaceWithCancel(t *testing.T) {
	need(t)
	for round := 0; round < 20; round++ {
		root, cancel, err := ctxfd.WithCancel(ctxfd.Background())
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k, ck, err := ctxfd.WithCancel(root)
				if err != nil {
					errs <- err
					return
				}
				defer k.Close()
				defer ck()
				select {
				case <-k.Done():
					if k.Err() != context.Canceled {
						errs <- errors.New("Done closed with Err " + k.Err().Error())
					}
				case <-time.After(20 * time.Second):
					errs <- errors.New("not done")
				}
			}()
		}
		time.Sleep(time.Millisecond)
		cancel()
		wg.Wait()
		root.Close()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
}

func TestNilParentPanicsLikeGo(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	ctxfd.WithCancel(nil) //nolint:staticcheck
}

// Go tells "" from nil. A kernel that can bind "" must read it back as "";
// one that predates that refuses it with a clear error rather than
// binding nil.
func TestEmptyValueIsNotNilOrIsRefusedClearly(t *testing.T) {
	need(t)
	v, err := ctxfd.WithValue(ctxfd.Background(), "k", "")
	if err != nil {
		if !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "empty value") {
			t.Fatal(err)
		}
		return
	}
	defer v.Close()
	if got := v.Value(ctxfd.Key("k")); got != "" {
		t.Fatalf("Value = %#v, want \"\"", got)
	}
}
