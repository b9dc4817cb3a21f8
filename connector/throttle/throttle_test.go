package throttle

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/meter"
)

// withGrantHook records every grant time as the limiter stamps it.
func withGrantHook(f func(time.Time)) Option { return func(c *config) { c.onGrant = f } }

// withLag sets the lateness a waiter may make up, whatever the margin.
func withLag(d time.Duration) Option { return func(c *config) { c.lagNS = int64(d) } }

// withRingCap lowers the exact-window bound so tests can reach the sub-window split.
func withRingCap(n int) Option { return func(c *config) { c.ringCap = n } }

type grants struct {
	mu sync.Mutex
	ts []time.Time
}

func (g *grants) add(t time.Time) { g.mu.Lock(); g.ts = append(g.ts, t); g.mu.Unlock() }
func (g *grants) len() int        { g.mu.Lock(); defer g.mu.Unlock(); return len(g.ts) }
func (g *grants) times() []time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]time.Time(nil), g.ts...)
}

// fake returns a limiter on a fake clock that records its grants.
func fake(tps int, opts ...Option) (*Limiter, *fakeClock, *grants) {
	clk, g := newFakeClock(), &grants{}
	l := New(tps, append([]Option{WithClock(clk), withGrantHook(g.add)}, opts...)...)
	return l, clk, g
}

// drive runs workers goroutines calling Wait in a loop and moves the fake
// clock to each sleeping head's slot plus extra() until total more grants
// have been made. It returns the grant times of this run.
func drive(t *testing.T, l *Limiter, clk *fakeClock, g *grants, workers, total int, extra func() time.Duration) []time.Time {
	t.Helper()
	from := g.len()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l.Wait(ctx) == nil {
			}
		}()
	}
	for g.len()-from < total {
		waitFor(t, "a sleeping head or enough grants", func() bool { return clk.pending() > 0 || g.len()-from >= total })
		if g.len()-from >= total {
			break
		}
		clk.AdvanceToNext(extra())
	}
	cancel()
	wg.Wait()
	return g.times()[from:]
}

func noExtra() time.Duration { return 0 }

func gaps(ts []time.Time) []time.Duration {
	var out []time.Duration
	for i := 1; i < len(ts); i++ {
		out = append(out, ts[i].Sub(ts[i-1]))
	}
	return out
}

// audit runs grant times through the simulator's meter, the operator's view.
func audit(ts []time.Time, limit int, mode meter.Mode) meter.Report {
	m := meter.New(mode)
	m.SetLimit("op", limit)
	for _, t := range ts {
		m.Arrive("op", t)
	}
	r, _ := m.Report("op", ts[len(ts)-1])
	return r
}

func TestMarginKeepsUtilisationAbove97Percent(t *testing.T) {
	for _, tps := range []int{1, 2, 10, 100, 1000, 5000} {
		r := New(tps).Rate()
		if want := 0.98 * float64(tps); math.Abs(r-want) > 1e-9 {
			t.Errorf("tps %d: rate %v, want %v", tps, r, want)
		}
		if r < 0.97*float64(tps) || r >= float64(tps) {
			t.Errorf("tps %d: rate %v outside [97%%, 100%%)", tps, r)
		}
	}
	if r := New(100, WithMargin(0)).Rate(); r != 100 {
		t.Errorf("margin 0: rate %v", r)
	}
}

func TestSlotsAreEvenlySpaced(t *testing.T) {
	for _, workers := range []int{1, 4} {
		l, clk, g := fake(100)
		ts := drive(t, l, clk, g, workers, 50, noExtra)
		iv := time.Duration(math.Ceil(1e9 / 98.0))
		if !ts[0].Equal(t0) {
			t.Fatalf("first grant at %v, want at once", ts[0].Sub(t0))
		}
		for i, d := range gaps(ts) {
			if d != iv {
				t.Fatalf("workers %d: gap %d is %v, want %v", workers, i, d, iv)
			}
		}
	}
}

func TestNoBurstAfterIdle(t *testing.T) {
	// After 5 s idle a token bucket sized for a second would hand out TPS
	// slots at once. Here grant k after the idle period comes no earlier than
	// k intervals less the lag (10.2 ms at 2%): at 100 TPS one slot early,
	// then even spacing; at 1000 TPS at most 10 ms worth of slots early.
	for _, tps := range []int{100, 1000} {
		l, clk, g := fake(tps)
		drive(t, l, clk, g, 2, 5, noExtra)
		clk.Advance(5 * time.Second) // nobody waits: no credit may build up
		idleEnd := clk.Now()
		ts := drive(t, l, clk, g, 4, 3*tps/10, noExtra)
		iv := time.Duration(math.Ceil(1e9 / (0.98 * float64(tps))))
		lag := time.Duration(l.cfg.lag())
		if !ts[0].Equal(idleEnd) {
			t.Fatalf("%d TPS: first grant after idle at +%v", tps, ts[0].Sub(idleEnd))
		}
		for k, at := range ts {
			if min := time.Duration(k)*iv - lag; at.Sub(idleEnd) < min {
				t.Fatalf("%d TPS: grant %d after idle at +%v, before +%v: a catch-up burst", tps, k, at.Sub(idleEnd), min)
			}
		}
		if tps == 100 {
			for i, d := range gaps(ts) {
				if want := map[bool]time.Duration{true: iv - lag, false: iv}[i == 0]; d != want {
					t.Fatalf("gap %d after idle is %v, want %v", i, d, want)
				}
			}
		}
	}
}

func TestNoCatchUpAfterStalledWake(t *testing.T) {
	// The head wakes 250 ms late (GC, descheduled process): it makes up at most
	// the lag (10.2 ms at 2%), never the 24 slots it missed.
	l, clk, g := fake(100)
	step := 0
	ts := drive(t, l, clk, g, 3, 40, func() time.Duration {
		step++
		if step == 10 {
			return 250 * time.Millisecond
		}
		return 0
	})
	iv := time.Duration(math.Ceil(1e9 / 98.0))
	lag := time.Duration(l.cfg.lag())
	if lag != 10204081 {
		t.Fatalf("lag %v at 2%% margin", lag)
	}
	short := 0
	for i, d := range gaps(ts) {
		switch d {
		case iv:
		case iv - lag:
			short++
		default:
			if d < iv {
				t.Fatalf("gap %d is %v: burst after the stall", i, d)
			}
		}
	}
	if s := l.Stats(); s.Slip != 250*time.Millisecond-lag {
		t.Fatalf("slip %v, want the stall less the lag", s.Slip)
	}
	if short != 1 {
		t.Fatalf("%d gaps of iv-lag, want exactly the one after the stall (%v)", short, gaps(ts))
	}
}

func TestSlidingWindowHardLimitUnderJitter(t *testing.T) {
	// Margin 0 with a 2 ms lag (more than the margin's budget, which is 0)
	// and heads that wake late: a little (made up, so grant k+TPS can land
	// less than 1 s after grant k) or now and then a lot. Pacing alone puts
	// TPS+1 grants in some second; the ring must not.
	cases := []struct {
		name    string
		tps     int
		ringCap int
	}{
		{"exact ring", 50, maxRing},
		{"split into sub-windows", 20, 8}, // 3 windows of 333 ms, 6 grants each
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, clk, g := fake(c.tps, WithMargin(0), withLag(2*time.Millisecond), withRingCap(c.ringCap))
			rng := rand.New(rand.NewPCG(1, 2))
			iv := int64(time.Second) / int64(c.tps)
			ts := drive(t, l, clk, g, 8, 40*c.tps, func() time.Duration {
				if rng.IntN(100) == 0 {
					return time.Duration(rng.Int64N(3 * iv))
				}
				return time.Duration(rng.Int64N(int64(2 * time.Millisecond)))
			})
			for _, mode := range []meter.Mode{meter.Sliding, meter.Fixed} {
				if r := audit(ts, c.tps, mode); r.Breaches != 0 || r.WorstSlidingWindow > c.tps {
					t.Fatalf("%s meter: %+v", mode, r)
				}
			}
		})
	}
}

// Any TPS+1 grants span more than 1/(1-m) s, however much the pacing makes
// up after late wake-ups (here up to 100 ms): so arrivals that trail their
// grants by anything up to m/(1-m) s (20.4 ms at 2%: scheduling, the
// writer, TCP, the SMSC's reader) never put TPS+1 in one of the operator's
// sliding seconds. Before, the hard bound was the second itself, and what
// the pacing made up after a late wake-up left no room for any delay.
func TestJitterBudgetHoldsWhateverIsMadeUp(t *testing.T) {
	for _, tps := range []int{50, 500} {
		t.Run(fmt.Sprintf("%dtps", tps), func(t *testing.T) {
			l, clk, g := fake(tps, withLag(100*time.Millisecond))
			rng := rand.New(rand.NewPCG(3, 4))
			iv := int64(time.Second) / int64(tps)
			ts := drive(t, l, clk, g, 8, 6*tps, func() time.Duration {
				if rng.IntN(20) == 0 {
					return time.Duration(rng.Int64N(min(5*iv, int64(100*time.Millisecond))))
				}
				return 0
			})
			window := time.Duration(math.Ceil(1e9 / 0.98))
			for k := tps; k < len(ts); k++ {
				if d := ts[k].Sub(ts[k-tps]); d <= window {
					t.Fatalf("grants %d and %d are %v apart: %d grants within %v", k-tps, k, d, tps+1, window)
				}
			}
			budget := int64(window - time.Second)
			arrivals := make([]time.Time, len(ts))
			for i, at := range ts {
				arrivals[i] = at.Add(time.Duration(rng.Int64N(budget)))
			}
			sort.Slice(arrivals, func(i, j int) bool { return arrivals[i].Before(arrivals[j]) })
			if r := audit(arrivals, tps, meter.Sliding); r.Breaches != 0 || r.WorstSlidingWindow > tps {
				t.Fatalf("arrivals up to %v behind their grants: %+v", time.Duration(budget), r)
			}
			if s := l.Stats(); s.Slip != 0 {
				t.Fatalf("slip %v: the late wake-ups were not all made up, the test proves less than it says", s.Slip)
			}
		})
	}
}

func TestRingForBoundsMemoryAndRate(t *testing.T) {
	for _, tps := range []int{1, 10, maxRing, maxRing + 1, 1_000_000, 1_000_000_000} {
		n, w := ringFor(tps, maxRing, int64(time.Second))
		k := (tps + maxRing - 1) / maxRing
		if n > maxRing || n < 1 {
			t.Errorf("tps %d: ring %d", tps, n)
		}
		if int64(k)*w < int64(time.Second) {
			t.Errorf("tps %d: %d windows of %v do not cover a second", tps, k, time.Duration(w))
		}
		if k*n > tps || float64(k*n) < 0.999*float64(tps) {
			t.Errorf("tps %d: %d windows of %d grants", tps, k, n)
		}
	}
}

func TestSlidingWindowRealClockConcurrent(t *testing.T) {
	const tps, run = 200, 1500 * time.Millisecond
	g := &grants{}
	l := New(tps, withGrantHook(g.add))
	ctx, cancel := context.WithTimeout(context.Background(), run)
	defer cancel()
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l.Wait(ctx) == nil {
			}
		}()
	}
	wg.Wait()
	ts := g.times()
	if r := audit(ts, tps, meter.Sliding); r.Breaches != 0 {
		t.Fatalf("meter: %+v", r)
	}
	// A sanity floor that the run carried traffic, not a utilisation bar
	// (BenchmarkPacingAgainstSimulator measures that).
	if min := 0.5 * tps * run.Seconds(); float64(len(ts)) < min {
		t.Fatalf("%d grants in %v, want >= %.0f", len(ts), run, min)
	}
	t.Logf("%d grants in %v at %d TPS (%.1f%%)", len(ts), run, tps, 100*float64(len(ts))/(tps*run.Seconds()))
}

func TestCancelledWaiterTakesNoSlot(t *testing.T) {
	l, clk, g := fake(10)
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A becomes the head and sleeps; B and C queue behind it.
	ctxA, cancelA := context.WithCancel(context.Background())
	ctxC, cancelC := context.WithCancel(context.Background())
	errA, errB, errC := make(chan error, 1), make(chan error, 1), make(chan error, 1)
	go func() { errA <- l.Wait(ctxA) }()
	clk.WaitTimers(t, 1)
	go func() { errB <- l.Wait(context.Background()) }()
	go func() { errC <- l.Wait(ctxC) }()
	time.Sleep(20 * time.Millisecond) // let B and C queue (C behind B)

	cancelC() // queued, not head
	if err := recvWithin(t, errC); !errors.Is(err, context.Canceled) {
		t.Fatalf("C: %v", err)
	}
	cancelA() // head, sleeping on its timer
	if err := recvWithin(t, errA); !errors.Is(err, context.Canceled) {
		t.Fatalf("A: %v", err)
	}
	// B inherits A's slot: 1/9.8 s after the first grant, not two slots later.
	clk.WaitTimers(t, 1)
	clk.AdvanceToNext(0)
	if err := recvWithin(t, errB); err != nil {
		t.Fatalf("B: %v", err)
	}
	ts := g.times()
	if want := time.Duration(math.Ceil(1e9 / 9.8)); len(ts) != 2 || ts[1].Sub(ts[0]) != want {
		t.Fatalf("grants %v, want 2 with B at +%v", ts, want)
	}
	if s := l.Stats(); s.Grants != 2 || s.Cancelled != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func recvWithin(t *testing.T, c <-chan error) error {
	t.Helper()
	select {
	case err := <-c:
		return err
	case <-time.After(2 * time.Second):
		t.Fatal("Wait did not return promptly")
		return nil
	}
}

func TestDoneContextIsNeverGranted(t *testing.T) {
	l, _, g := fake(1000)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 3 {
		if err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	}
	ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if g.len() != 0 || l.Stats().Cancelled != 4 {
		t.Fatalf("granted %d, stats %+v", g.len(), l.Stats())
	}
}

// The AIMD tests keep a 1% margin: round figures.

func TestSetTPS(t *testing.T) {
	t.Run("faster wakes the sleeping head", func(t *testing.T) {
		l, clk, g := fake(10, WithMargin(0.01))
		drive(t, l, clk, g, 1, 1, noExtra)
		done := make(chan error, 1)
		go func() { done <- l.Wait(context.Background()) }()
		clk.WaitTimers(t, 1)
		l.SetTPS(100)
		// The head recomputes: its slot moves from +101 ms to +10.1 ms.
		waitFor(t, "the head to re-arm", func() bool {
			clk.mu.Lock()
			defer clk.mu.Unlock()
			return len(clk.timers) == 1 && clk.timers[0].at.Sub(t0) < 20*time.Millisecond
		})
		clk.AdvanceToNext(0)
		recvWithin(t, done)
		if d := g.times()[1].Sub(t0); d != time.Duration(math.Ceil(1e9/99.0)) {
			t.Fatalf("second grant at +%v", d)
		}
		if l.TPS() != 100 || l.Rate() != 99 {
			t.Fatalf("tps %d rate %v", l.TPS(), l.Rate())
		}
	})
	t.Run("slower keeps the window history", func(t *testing.T) {
		l, clk, g := fake(100)
		before := drive(t, l, clk, g, 2, 30, noExtra)
		l.SetTPS(10)
		after := drive(t, l, clk, g, 2, 5, noExtra)
		// 10 grants already sit in the last second: the next one waits for
		// the 10th-last to be more than a second old.
		if min := before[len(before)-10].Add(time.Second); !after[0].After(min) {
			t.Fatalf("first grant at 10 TPS at %v, before %v", after[0], min)
		}
		// The 100 TPS part breaches 10 TPS 20 times; the rest must add none.
		if r := audit(append(before, after...), 10, meter.Sliding); r.SlidingBreaches != 20 {
			t.Fatalf("%+v", r)
		}
		if r := audit(after, 10, meter.Sliding); r.Breaches != 0 {
			t.Fatalf("%+v", r)
		}
	})
}

func TestUnlimited(t *testing.T) {
	l, clk, g := fake(0)
	for range 1000 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if g.len() != 1000 || clk.pending() != 0 || l.Rate() != 0 {
		t.Fatalf("grants %d timers %d rate %v", g.len(), clk.pending(), l.Rate())
	}
	l.Throttled() // still pauses
	done := make(chan error, 1)
	go func() { done <- l.Wait(context.Background()) }()
	clk.WaitTimers(t, 1)
	clk.AdvanceToNext(0)
	recvWithin(t, done)
	if d := g.times()[1000].Sub(t0); d != time.Second {
		t.Fatalf("after throttle: +%v", d)
	}
}

func TestStatsAndWaitObserver(t *testing.T) {
	var observed atomic.Int64
	var total atomic.Int64
	l, clk, g := fake(10, WithWaitObserver(func(d time.Duration) { observed.Add(1); total.Add(int64(d)) }))
	drive(t, l, clk, g, 1, 5, noExtra)
	s := l.Stats()
	// The first grant is immediate; the next four each slept 1/9.8 s.
	iv := time.Duration(math.Ceil(1e9 / 9.8))
	if s.Grants != 5 || s.Waits != 4 || s.WaitTime != 4*iv || s.TPS != 10 || s.Rate != 9.8 {
		t.Fatalf("stats %+v", s)
	}
	if observed.Load() != 5 || time.Duration(total.Load()) != 4*iv {
		t.Fatalf("observer saw %d waits, %v", observed.Load(), time.Duration(total.Load()))
	}
}

func TestOptionsRejectNonsense(t *testing.T) {
	for name, f := range map[string]func(){
		"margin":   func() { WithMargin(0.5) },
		"pause":    func() { WithPause(-1) },
		"decrease": func() { WithDecrease(1) },
		"recovery": func() { WithRecovery(0) },
		"minRate":  func() { WithMinRate(0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func BenchmarkWaitUncontended(b *testing.B) {
	l := New(1_000_000_000) // never has to sleep: measures the bookkeeping
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWaitParallel(b *testing.B) {
	l := New(1_000_000_000)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
