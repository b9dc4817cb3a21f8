package framework

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2" //nolint:revive
	. "github.com/onsi/gomega"    //nolint:revive
)

// Poll calls f every interval until it returns nil, and returns nil then; when
// timeout passes (or ctx ends) first, it returns f's last error. Like
// nats-server's checkFor, but returning the error instead of failing a test.
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

// CheckFor fails the current spec unless f returns nil within timeout, polling
// every interval; the failure shows f's last error. The counterpart of
// nats-server's checkFor(t, timeout, interval, f) in Ginkgo suites.
func CheckFor(timeout, interval time.Duration, f func() error) {
	GinkgoHelper()
	if err := Poll(context.Background(), timeout, interval, f); err != nil {
		Fail(err.Error())
	}
}

// Default polling for EventuallyNil and ConsistentlyNil.
const (
	DefaultEventuallyTimeout  = 30 * time.Second
	DefaultPollInterval       = 100 * time.Millisecond
	DefaultConsistentlyPeriod = 2 * time.Second
)

// EventuallyNil waits, with Gomega's Eventually and the defaults above, for f
// to return nil; the failure message shows f's last error.
func EventuallyNil(ctx context.Context, f func(context.Context) error) {
	GinkgoHelper()
	Eventually(ctx, f).WithTimeout(DefaultEventuallyTimeout).WithPolling(DefaultPollInterval).Should(Succeed())
}

// ConsistentlyNil checks, with Gomega's Consistently, that f keeps returning
// nil for DefaultConsistentlyPeriod (e.g. "no TPS breach while traffic flows").
func ConsistentlyNil(ctx context.Context, f func(context.Context) error) {
	GinkgoHelper()
	Consistently(ctx, f).WithTimeout(DefaultConsistentlyPeriod).WithPolling(DefaultPollInterval).Should(Succeed())
}
