// Package testutil holds small, domain-free helpers that the tests of the
// connector, the simulator and the scenario suites share: one way to poll for
// a condition, and one goroutine-safe buffer for the logs a test reads back.
// Nothing here knows SMPP, NATS or the connector; production code imports none
// of it.
package testutil

import (
	"context"
	"fmt"
	"time"
)

// Poll calls f at once and then every interval until it returns nil, and
// returns nil then; when timeout passes (or ctx ends) first, it returns an
// error wrapping f's last error, so that the failure says what was still
// wrong. Like nats-server's checkFor, but returning the error instead of
// failing a test.
func Poll(ctx context.Context, timeout, interval time.Duration, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	start := time.Now()
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("still failing after %s: %w", time.Since(start).Round(time.Millisecond), err)
		case <-t.C:
		}
	}
}

// TB is the part of testing.TB that WaitFor needs; Ginkgo's GinkgoT()
// satisfies it too.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// WaitFor is Poll that fails the test (Fatalf, naming f's last error) when f
// has not returned nil within timeout.
func WaitFor(t TB, timeout, interval time.Duration, f func() error) {
	t.Helper()
	if err := Poll(context.Background(), timeout, interval, f); err != nil {
		t.Fatalf("not true within %v: %v", timeout, err)
	}
}
