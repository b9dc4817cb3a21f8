// Package meter counts message arrivals the way a mobile operator does when it
// enforces or audits a TPS contract: per account, in 1 s windows that are either
// fixed (aligned to the wall-clock second) or sliding (any 1 s span).
package meter

import (
	"fmt"
	"time"
)

// Mode is the windowing rule.
type Mode string

// Windowing rules.
const (
	Fixed   Mode = "fixed"
	Sliding Mode = "sliding"
)

// ParseMode accepts "", "fixed" or "sliding" ("" means sliding, the stricter).
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "", Sliding:
		return Sliding, nil
	case Fixed:
		return Fixed, nil
	}
	return "", fmt.Errorf("window %q is not one of fixed, sliding", s)
}

// Window counts arrivals in the last second. It is not safe for concurrent use.
type Window struct {
	mode Mode
	// sliding: arrival times within the last second, oldest first (a ring).
	ts         []int64
	head, size int
	// fixed: the current second and its count.
	sec   int64
	count int
}

// NewWindow returns an empty window.
func NewWindow(mode Mode) *Window { return &Window{mode: mode} }

// Count returns how many arrivals the window holds at now, without adding one.
func (w *Window) Count(now time.Time) int {
	n := now.UnixNano()
	if w.mode == Fixed {
		if n/int64(time.Second) != w.sec {
			return 0
		}
		return w.count
	}
	w.expire(n)
	return w.size
}

// Add records an arrival at now and returns the count including it.
func (w *Window) Add(now time.Time) int {
	n := now.UnixNano()
	if w.mode == Fixed {
		if s := n / int64(time.Second); s != w.sec {
			w.sec, w.count = s, 0
		}
		w.count++
		return w.count
	}
	w.expire(n)
	if w.size == len(w.ts) {
		w.grow()
	}
	w.ts[(w.head+w.size)%len(w.ts)] = n
	w.size++
	return w.size
}

func (w *Window) expire(n int64) {
	limit := n - int64(time.Second)
	for w.size > 0 && w.ts[w.head] <= limit {
		w.head = (w.head + 1) % len(w.ts)
		w.size--
	}
}

func (w *Window) grow() {
	nl := 2 * len(w.ts)
	if nl == 0 {
		nl = 64
	}
	next := make([]int64, nl)
	for i := 0; i < w.size; i++ {
		next[i] = w.ts[(w.head+i)%len(w.ts)]
	}
	w.ts, w.head = next, 0
}
