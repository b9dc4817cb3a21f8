package framework

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2" //nolint:revive
	. "github.com/onsi/gomega"    //nolint:revive

	"github.com/smpp-connector/smpp-connector/internal/testutil"
)

// CheckFor fails the current spec unless f returns nil within timeout, polling
// every interval (testutil.Poll); the failure shows f's last error. The counterpart of
// nats-server's checkFor(t, timeout, interval, f) in Ginkgo suites.
func CheckFor(timeout, interval time.Duration, f func() error) {
	GinkgoHelper()
	if err := testutil.Poll(context.Background(), timeout, interval, f); err != nil {
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
