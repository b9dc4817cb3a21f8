package meter

import (
	"sort"
	"sync"
	"time"
)

// Meter audits TPS per account: it counts every arrival and remembers how
// often, and by how much, the account went over its contracted limit.
type Meter struct {
	mode Mode
	mu   sync.Mutex
	accs map[string]*account
}

type account struct {
	limit            int
	arrivals         uint64
	win              *Window
	fixed            *Window // always kept, for the per-second report
	worstSliding     int
	worstFixed       int
	fixedOver        uint64 // seconds whose count went over the limit
	slidingBreaches  uint64 // arrivals that made a sliding second exceed the limit
	lastFixedCounted int64
	first, last      time.Time
}

// New returns a meter using mode for breach counting.
func New(mode Mode) *Meter {
	return &Meter{mode: mode, accs: map[string]*account{}}
}

// SetLimit sets an account's contracted TPS (0: no limit, nothing is a breach).
func (m *Meter) SetLimit(key string, tps int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.get(key).limit = tps
}

func (m *Meter) get(key string) *account {
	a := m.accs[key]
	if a == nil {
		a = &account{win: NewWindow(Sliding), fixed: NewWindow(Fixed), lastFixedCounted: -1}
		m.accs[key] = a
	}
	return a
}

// Arrive records one message arrival for key at now.
func (m *Meter) Arrive(key string, now time.Time) {
	m.mu.Lock()
	a := m.get(key)
	a.arrivals++
	if a.first.IsZero() {
		a.first = now
	}
	a.last = now
	s := a.win.Add(now)
	if s > a.worstSliding {
		a.worstSliding = s
	}
	if a.limit > 0 && s > a.limit {
		a.slidingBreaches++
	}
	f := a.fixed.Add(now)
	if f > a.worstFixed {
		a.worstFixed = f
	}
	if sec := now.Unix(); a.limit > 0 && f > a.limit && a.lastFixedCounted != sec {
		a.fixedOver++
		a.lastFixedCounted = sec
	}
	m.mu.Unlock()
}

// Report is one account's audit.
type Report struct {
	Account  string `json:"account"`
	Limit    int    `json:"limit"`
	Mode     Mode   `json:"mode"`
	Arrivals uint64 `json:"arrivals"`
	// Breaches is what the operator would count under its windowing rule:
	// seconds over the limit (fixed) or arrivals over the limit (sliding).
	Breaches           uint64    `json:"breaches"`
	FixedWindowsOver   uint64    `json:"fixedWindowsOver"`
	SlidingBreaches    uint64    `json:"slidingBreaches"`
	WorstFixedWindow   int       `json:"worstFixedWindow"`
	WorstSlidingWindow int       `json:"worstSlidingWindow"`
	CurrentTPS         int       `json:"currentTps"`
	First              time.Time `json:"first,omitzero"`
	Last               time.Time `json:"last,omitzero"`
}

// Reports returns every account's audit, sorted by account.
func (m *Meter) Reports(now time.Time) []Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Report, 0, len(m.accs))
	for k, a := range m.accs {
		r := Report{
			Account: k, Limit: a.limit, Mode: m.mode, Arrivals: a.arrivals,
			FixedWindowsOver: a.fixedOver, SlidingBreaches: a.slidingBreaches,
			WorstFixedWindow: a.worstFixed, WorstSlidingWindow: a.worstSliding,
			CurrentTPS: a.win.Count(now), First: a.first, Last: a.last,
		}
		r.Breaches = r.SlidingBreaches
		if m.mode == Fixed {
			r.Breaches = r.FixedWindowsOver
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Account < out[j].Account })
	return out
}

// Report returns one account's audit.
func (m *Meter) Report(key string, now time.Time) (Report, bool) {
	for _, r := range m.Reports(now) {
		if r.Account == key {
			return r, true
		}
	}
	return Report{}, false
}

// Reset forgets all counts but keeps the limits.
func (m *Meter) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, a := range m.accs {
		m.accs[k] = &account{limit: a.limit, win: NewWindow(Sliding), fixed: NewWindow(Fixed), lastFixedCounted: -1}
	}
}
