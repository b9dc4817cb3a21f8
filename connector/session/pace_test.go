package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"

	"github.com/smpp-connector/smpp-connector/connector/throttle"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/meter"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// countingPacer grants at once and counts its grants; with hold set, a Wait
// blocks until its context ends (and is counted in waiting meanwhile).
type countingPacer struct {
	hold    bool
	grants  atomic.Int64
	waiting atomic.Int64
}

func (p *countingPacer) Wait(ctx context.Context) error {
	if p.hold {
		p.waiting.Add(1)
		defer p.waiting.Add(-1)
		<-ctx.Done()
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p.grants.Add(1)
	return nil
}

// Submits waiting while no bind is up take no TPS grant: they take it once a
// bind is up again, one each (issue #12: a grant held across a rebind went
// out with every other one the moment the bind was back).
func TestNoTPSGrantWhileNoBindIsUp(t *testing.T) {
	sim, addr := startSim(t, profile.Profile{})
	pacer := &countingPacer{}
	cfg := fastConfig(addr)
	cfg.Pacer = pacer
	p := NewPool(cfg, 2, good().get)
	p.Start()
	t.Cleanup(p.Close)
	if err := p.WaitReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{}) // until removed
	outage, err := sim.Faults.Add(faults.Spec{Type: "outage", Params: b})
	if err != nil {
		t.Fatal(err)
	}
	smpptest.Eventually(t, 5*time.Second, 5*time.Millisecond, func() error {
		if p.Ready() {
			return errors.New("a bind is still up")
		}
		return nil
	})
	const n = 20
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r, err := p.Submit(context.Background(), newSubmit(t, "after the outage")); err != nil || !r.OK() {
				t.Errorf("%+v %v", r, err)
				return
			}
			ok.Add(1)
		}()
	}
	// The binds try again, and are refused, while the submits wait.
	failures := func() (n uint64) {
		for _, b := range p.Binds() {
			n += b.Stats.BindFailures.Load()
		}
		return n
	}
	from := failures()
	smpptest.Eventually(t, 10*time.Second, 5*time.Millisecond, func() error {
		if f := failures(); f < from+4 {
			return fmt.Errorf("%d bind attempts refused since the submits started", f-from)
		}
		return nil
	})
	if g := pacer.grants.Load(); g != 0 {
		t.Fatalf("%d TPS grants taken while no bind was up", g)
	}
	if err := sim.Faults.Remove(outage.Spec.Name); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if ok.Load() != n || pacer.grants.Load() != n {
		t.Fatalf("%d of %d submits accepted, %d grants", ok.Load(), n, pacer.grants.Load())
	}
	if s := sim.Stats().Sum("op", "acme", "submit_sm", "ESME_ROK"); s != n {
		t.Fatalf("%d submit_sm accepted by the SMSC for %d submits", s, n)
	}
}

// A submit waiting for its grant when its bind drops gives up the wait: it
// is reported not sent (the pool sends it elsewhere, with a new grant),
// nothing reached the SMSC, and its place in the window is free.
func TestSubmitWaitingForItsGrantWhenTheBindDropsIsNotSent(t *testing.T) {
	sim, addr := startSim(t, profile.Profile{})
	pacer := &countingPacer{hold: true}
	cfg := fastConfig(addr)
	cfg.Pacer = pacer
	b := NewBind(cfg, "op-1", good().get)
	b.Start()
	t.Cleanup(b.Close)
	waitState(t, b, StateBound)
	done := make(chan error, 1)
	go func() {
		_, err := b.Submit(context.Background(), newSubmit(t, "never granted"))
		done <- err
	}()
	smpptest.Eventually(t, 5*time.Second, 5*time.Millisecond, func() error {
		if pacer.waiting.Load() != 1 {
			return errors.New("the submit is not waiting for its grant yet")
		}
		return nil
	})
	fault(t, sim, "disconnect", map[string]any{"at": "0s"}, faults.Match{})
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotSent) {
			t.Fatalf("submit waiting for its grant when the bind dropped: %v, want ErrNotSent", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the submit still waits for its grant 10 s after its bind dropped")
	}
	if n := b.Outstanding(); n != 0 {
		t.Fatalf("%d places of the window still taken", n)
	}
	if n := sim.Stats().Sum("op", "acme", "submit_sm", ""); n != 0 {
		t.Fatalf("%d submit_sm reached the SMSC", n)
	}
}

// BenchmarkPacedPool measures what the operator's SMSC sees of its TPS (the
// simulator's meter: sliding 1 s) with a saturated backlog sent through a
// pool of two binds, window 10, by 40 submitters (the operator's term: binds
// x window x 2), sharing one throttle.Limiter. "grant-then-bind" is the
// order before issue #12 (the MT path waited for its grant, then asked the
// pool for a bind); "bind-then-grant" is Config.Pacer. "disconnects" drops
// every bind each 2 s.
//
//	go test -run '^$' -bench PacedPool -benchtime 1x ./connector/session/
func BenchmarkPacedPool(b *testing.B) {
	for _, tps := range []int{500, 1000} {
		for _, fault := range []string{"steady", "disconnects"} {
			for _, order := range []string{"grant-then-bind", "bind-then-grant"} {
				b.Run(fmt.Sprintf("%dtps/%s/%s", tps, fault, order), func(b *testing.B) {
					var util, worst, breaches float64
					for range b.N {
						rep := pacedRun(b, tps, fault == "disconnects", order == "bind-then-grant", 10*time.Second)
						util += 100 * float64(rep.Arrivals) / (float64(tps) * rep.Last.Sub(rep.First).Seconds())
						worst = max(worst, float64(rep.WorstSlidingWindow))
						breaches += float64(rep.Breaches)
					}
					b.ReportMetric(util/float64(b.N), "%contract")
					b.ReportMetric(worst, "worst-sliding-s")
					b.ReportMetric(breaches/float64(b.N), "breaches")
				})
			}
		}
	}
}

// pacedRun sends a saturated backlog for d and returns the meter's report.
func pacedRun(tb testing.TB, tps int, disconnects, paced bool, d time.Duration) meter.Report {
	sim := runSim(tb, server.OperatorConfig{ID: "op", Listen: "127.0.0.1:0",
		Accounts: []server.AccountConfig{{SystemID: "acme", Password: "secret1", TPS: tps}}})
	op, _ := sim.Operator("op")
	lim := throttle.New(tps)
	cfg := fastConfig(op.Addr())
	// The default rebind backoff (1 s, jittered): submits wait for a bind a
	// while, as they do after a real disconnect.
	cfg.Window, cfg.ResponseTimeout, cfg.BackoffInitial = 10, 5*time.Second, time.Second
	if paced {
		cfg.Pacer = lim
	}
	p := NewPool(cfg, 2, good().get)
	p.Start()
	defer p.Close()
	if err := p.WaitReady(context.Background()); err != nil {
		tb.Fatal(err)
	}
	if disconnects {
		fault(tb, sim, "disconnect", map[string]any{"every": "2s"}, faults.Match{})
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if !paced && lim.Wait(ctx) != nil {
					return
				}
				r, err := p.Submit(ctx, newSubmit(tb, "backlog"))
				if err == nil && (r.Status == data.ESME_RTHROTTLED || r.Status == data.ESME_RMSGQFUL) {
					lim.Throttled()
				}
			}
		}()
	}
	wg.Wait()
	rep, ok := sim.Meter.Report("op/acme", time.Now())
	if !ok {
		tb.Fatal("no meter report")
	}
	tb.Logf("%d TPS, disconnects %v, bind-then-grant %v: %d arrivals in %v, worst sliding second %d, %d breaches; limiter %+v",
		tps, disconnects, paced, rep.Arrivals, rep.Last.Sub(rep.First).Round(time.Millisecond), rep.WorstSlidingWindow, rep.Breaches, lim.Stats())
	return rep
}
