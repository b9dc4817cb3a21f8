package load

import (
	"math/bits"
	"time"
)

// hist is a log-linear latency histogram in the spirit of HdrHistogram: values
// below 128 ns are exact, above that each power of two is split into 128
// buckets, so a quantile is off by less than 0.8%. Recording never allocates.
// It is owned by one goroutine; merge after that goroutine is done.
type hist struct {
	counts [histBuckets]uint64
	n      uint64
	max    int64
}

const (
	histSubBits = 7
	histSub     = 1 << histSubBits
	histMaxExp  = 48 - histSubBits - 1 // values up to 2^48 ns (~78 h)
	histBuckets = (histMaxExp + 2) * histSub
)

func histIndex(v int64) int {
	if v < histSub {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	e := bits.Len64(uint64(v)) - histSubBits - 1
	if e > histMaxExp {
		return histBuckets - 1
	}
	return (e+1)*histSub + int(uint64(v)>>e) - histSub
}

// histValue returns the middle of bucket i's range.
func histValue(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	e := i/histSub - 1
	m := int64(i%histSub + histSub)
	lo := m << e
	hi := (m+1)<<e - 1
	return lo + (hi-lo)/2
}

func (h *hist) record(d int64) {
	if d < 0 {
		d = 0
	}
	h.counts[histIndex(d)]++
	h.n++
	if d > h.max {
		h.max = d
	}
}

func (h *hist) merge(o *hist) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	if o.max > h.max {
		h.max = o.max
	}
}

// quantile returns the value at quantile q (0..1), never above the maximum seen.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	if rank < 1 {
		rank = 1
	}
	if rank > h.n {
		rank = h.n
	}
	var cum uint64
	for i, c := range h.counts {
		cum += c
		if cum >= rank {
			v := histValue(i)
			if v > h.max {
				v = h.max
			}
			return time.Duration(v)
		}
	}
	return time.Duration(h.max)
}
