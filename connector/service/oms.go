package service

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/oms"
)

// followOMS applies the configurations operator-management-service gives
// (oms.Client.Poll) until ctx ends, and every period offers the one in
// force again: one the fleet refused (Vault down for a new operator's
// credential, say) is retried, not left until the next version. An answer
// the client itself refuses (invalid) shows as refused, the running
// configuration carrying on.
func followOMS(ctx context.Context, c *oms.Client, every time.Duration, rl *reloader, m *metrics.Metrics) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = c.Poll(ctx, every, func(r oms.Result) { rl.offer(ctx, r.File) })
	}()
	defer wg.Wait()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		st := c.Status()
		exportSource(m, st.Reachable && st.LastErrorReason == "", st.LastSuccess, st.FromDisk)
		if st.LastErrorReason == oms.ReasonInvalid {
			rl.refuse("oms "+st.LastError, errors.New(st.LastError))
		} else if cur, ok := c.Current(); ok {
			rl.offer(ctx, cur.File)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// exportSource sets the gauges of the operators configuration's source.
func exportSource(m *metrics.Metrics, up bool, lastSuccess time.Time, fromDisk bool) {
	m.ConfigSourceUp.Set(b2f(up))
	if !lastSuccess.IsZero() {
		m.ConfigSourceLastSuccess.Set(float64(lastSuccess.UnixNano()) / 1e9)
	}
	m.ConfigFromLastGood.Set(b2f(fromDisk))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
