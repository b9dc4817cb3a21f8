package throttle

// The SMSC's throttling answers: pause, halve, recover (AIMD).

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/meter"
)

func TestThrottledPausesHalvesAndRecovers(t *testing.T) {
	l, clk, g := fake(100, WithMargin(0.01))
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	l.Throttled()
	if r := l.Rate(); r != 49.5 {
		t.Fatalf("rate after throttle %v, want 49.5", r)
	}
	// More rejections of submit_sm already in flight: counted, no further cut.
	clk.Advance(300 * time.Millisecond)
	l.Throttled()
	l.Throttled()
	if s := l.Stats(); s.Rate != 49.5 || s.Throttled != 3 || s.Decreases != 1 {
		t.Fatalf("stats %+v", s)
	}
	// Nothing is sent during the 1 s pause.
	done := make(chan error, 1)
	go func() { done <- l.Wait(context.Background()) }()
	clk.WaitTimers(t, 1)
	clk.Advance(699 * time.Millisecond) // 999 ms after the throttle
	clk.WaitTimers(t, 1)
	select {
	case <-done:
		t.Fatal("granted during the pause")
	default:
	}
	clk.AdvanceToNext(0)
	recvWithin(t, done)
	if d := g.times()[1].Sub(t0); d != time.Second {
		t.Fatalf("first grant after the pause at +%v, want +1s", d)
	}
	// Additive recovery: +99/s per 5 s, i.e. +19.8 per second.
	clk.Advance(time.Second)
	if r := l.Rate(); math.Abs(r-(49.5+19.8)) > 1e-6 {
		t.Fatalf("rate 1 s into recovery %v", r)
	}
	clk.Advance(2 * time.Second)
	if r := l.Rate(); r != 99 {
		t.Fatalf("rate after recovery %v, want 99", r)
	}
	// Repeated overloads, each after the hold-off, go down to the floor.
	for range 10 {
		clk.Advance(1001 * time.Millisecond)
		l.Throttled()
	}
	if r := l.Rate(); r != 1 {
		t.Fatalf("rate floor %v, want 1", r)
	}
}

func TestThrottledSlowsPacing(t *testing.T) {
	l, clk, g := fake(100, WithPause(0), WithMargin(0.01))
	drive(t, l, clk, g, 2, 3, noExtra)
	l.Throttled() // 49.5/s at once, climbing 19.8/s per second
	ts := drive(t, l, clk, g, 2, 5, noExtra)
	for i, d := range gaps(ts) {
		if d < 19*time.Millisecond || d > 21*time.Millisecond {
			t.Fatalf("gap %d after throttle %v, want ~1/49.5 s", i, d)
		}
	}
}

// An operator that really allows 40/s while we are configured for 100: AIMD
// must settle to few rejections instead of hammering at 100/s.
func TestAIMDConvergesWhenTPSIsTooHigh(t *testing.T) {
	const configured, real, secs = 100, 40, 60
	l, clk, g := fake(configured)
	op := meter.NewWindow(meter.Sliding)
	var sent, rejected, lateSent, lateRejected int
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := t0.Add(secs * time.Second)
	worker := make(chan struct{})
	go func() {
		defer close(worker)
		for l.Wait(ctx) == nil {
			now := clk.Now()
			if !now.Before(stop) {
				return
			}
			over := op.Add(now) > real // the operator counts rejected arrivals too
			late := now.After(t0.Add(secs / 2 * time.Second))
			sent++
			if late {
				lateSent++
			}
			if over {
				rejected++
				if late {
					lateRejected++
				}
				l.Throttled()
			}
		}
	}()
	for {
		select {
		case <-worker:
			s := l.Stats()
			t.Logf("sent %d, rejected %d (last %ds: %d sent, %d rejected, %.1f/s accepted), decreases %d, grants %d",
				sent, rejected, secs/2, lateSent, lateRejected, float64(lateSent-lateRejected)/(secs/2), s.Decreases, g.len())
			if lateRejected*20 > lateSent {
				t.Errorf("%d of %d rejected in the second half: still hammering", lateRejected, lateSent)
			}
			if acc := float64(lateSent-lateRejected) / (secs / 2); acc < 0.3*real {
				t.Errorf("accepted %.1f/s, want at least %.0f/s", acc, 0.3*real)
			}
			return
		default:
		}
		if clk.pending() > 0 {
			clk.AdvanceToNext(0)
		} else {
			time.Sleep(20 * time.Microsecond)
		}
	}
}
