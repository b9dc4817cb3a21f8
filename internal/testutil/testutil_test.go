package testutil

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	n := 0
	if err := Poll(context.Background(), time.Second, time.Millisecond, func() error {
		if n++; n < 3 {
			return errors.New("not yet")
		}
		return nil
	}); err != nil || n != 3 {
		t.Errorf("Poll: %v after %d calls", err, n)
	}
	t0 := time.Now()
	err := Poll(context.Background(), 50*time.Millisecond, 10*time.Millisecond, func() error { return errors.New("never") })
	if err == nil || !strings.Contains(err.Error(), "never") {
		t.Errorf("Poll timeout: %v", err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("Poll took %s for a 50ms timeout", d)
	}
}

func TestPollStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Poll(ctx, time.Hour, time.Millisecond, func() error { return errors.New("never") })
	if err == nil || !strings.Contains(err.Error(), "never") {
		t.Errorf("Poll with a cancelled context: %v", err)
	}
}

// recordingTB records WaitFor's failure instead of ending the test.
type recordingTB struct{ failed string }

func (*recordingTB) Helper()                             {}
func (r *recordingTB) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestWaitForNamesTheLastFailure(t *testing.T) {
	var r recordingTB
	WaitFor(&r, 30*time.Millisecond, 5*time.Millisecond, func() error { return errors.New("queue not empty") })
	if !strings.Contains(r.failed, "queue not empty") {
		t.Errorf("failure %q does not name the last error", r.failed)
	}
	r = recordingTB{}
	WaitFor(&r, time.Second, time.Millisecond, func() error { return nil })
	if r.failed != "" {
		t.Errorf("failed although f succeeded: %s", r.failed)
	}
}

func TestLogBufferIsSafeForConcurrentWriters(t *testing.T) {
	var l LogBuffer
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 100 {
				fmt.Fprintf(&l, "w%d-%d\n", i, j)
			}
		})
	}
	if err := l.WaitFor("w3-99\n", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if n := strings.Count(l.String(), "\n"); n != 400 {
		t.Errorf("%d lines, want 400", n)
	}
	if !l.Contains("w0-0\n") {
		t.Errorf("first line missing:\n%s", l.String())
	}
	err := l.WaitFor("never written", 20*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "w2-50") {
		t.Errorf("WaitFor's error should show what was written: %v", err)
	}
}
