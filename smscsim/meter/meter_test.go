package meter

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestSlidingWindowCountsAnyOneSecondSpan(t *testing.T) {
	w := NewWindow(Sliding)
	// 5 arrivals at 0.9s, 5 at 1.1s: fixed windows see 5 and 5, sliding sees 10.
	for i := 0; i < 5; i++ {
		w.Add(t0.Add(900 * time.Millisecond))
	}
	var n int
	for i := 0; i < 5; i++ {
		n = w.Add(t0.Add(1100 * time.Millisecond))
	}
	if n != 10 {
		t.Fatalf("sliding count %d, want 10", n)
	}
	if c := w.Count(t0.Add(1950 * time.Millisecond)); c != 5 {
		t.Fatalf("after the first burst expired: %d, want 5", c)
	}
	if c := w.Count(t0.Add(3 * time.Second)); c != 0 {
		t.Fatalf("after all expired: %d", c)
	}
}

func TestFixedWindowResetsOnTheSecond(t *testing.T) {
	w := NewWindow(Fixed)
	for i := 0; i < 5; i++ {
		w.Add(t0.Add(900 * time.Millisecond))
	}
	if n := w.Add(t0.Add(1100 * time.Millisecond)); n != 1 {
		t.Fatalf("fixed count after boundary %d, want 1", n)
	}
}

func TestWindowGrowsPastInitialCapacity(t *testing.T) {
	w := NewWindow(Sliding)
	for i := 0; i < 1000; i++ {
		w.Add(t0.Add(time.Duration(i) * time.Microsecond))
	}
	if c := w.Count(t0.Add(time.Millisecond)); c != 1000 {
		t.Fatalf("count %d", c)
	}
}

func TestMeterCountsBreachesLikeTheOperator(t *testing.T) {
	m := New(Sliding)
	m.SetLimit("acme", 10)
	// 10 per second evenly: no breach.
	for i := 0; i < 30; i++ {
		m.Arrive("acme", t0.Add(time.Duration(i)*100*time.Millisecond))
	}
	r, _ := m.Report("acme", t0.Add(3*time.Second))
	if r.Breaches != 0 || r.WorstSlidingWindow != 10 || r.Arrivals != 30 {
		t.Fatalf("even pacing: %+v", r)
	}
	// A burst of 15 within 100ms: 5 arrivals over the limit in one second.
	for i := 0; i < 15; i++ {
		m.Arrive("acme", t0.Add(10*time.Second+time.Duration(i)*time.Millisecond))
	}
	r, _ = m.Report("acme", t0.Add(11*time.Second))
	if r.SlidingBreaches != 5 || r.FixedWindowsOver != 1 || r.WorstSlidingWindow != 15 || r.WorstFixedWindow != 15 {
		t.Fatalf("burst: %+v", r)
	}
	if r.Breaches != r.SlidingBreaches {
		t.Fatalf("sliding meter should report sliding breaches: %+v", r)
	}
}

func TestFixedMeterMissesBurstAcrossBoundary(t *testing.T) {
	// The classic disagreement: 10 at 0.95s and 10 at 1.05s is within a fixed
	// limit of 10 but 20 in a sliding second.
	f, s := New(Fixed), New(Sliding)
	for _, m := range []*Meter{f, s} {
		m.SetLimit("a", 10)
		for i := 0; i < 10; i++ {
			m.Arrive("a", t0.Add(950*time.Millisecond))
			m.Arrive("a", t0.Add(1050*time.Millisecond))
		}
	}
	rf, _ := f.Report("a", t0.Add(2*time.Second))
	rs, _ := s.Report("a", t0.Add(2*time.Second))
	if rf.Breaches != 0 || rs.Breaches != 10 {
		t.Fatalf("fixed %+v sliding %+v", rf, rs)
	}
}

func TestResetKeepsLimits(t *testing.T) {
	m := New(Sliding)
	m.SetLimit("a", 1)
	m.Arrive("a", t0)
	m.Arrive("a", t0)
	m.Reset()
	r, _ := m.Report("a", t0)
	if r.Arrivals != 0 || r.Breaches != 0 || r.Limit != 1 {
		t.Fatalf("%+v", r)
	}
}

func BenchmarkMeterArrive(b *testing.B) {
	m := New(Sliding)
	m.SetLimit("a", 50000)
	now := time.Now()
	for i := 0; i < b.N; i++ {
		m.Arrive("a", now.Add(time.Duration(i)*20*time.Microsecond))
	}
}
