package faults

import (
	"sort"
	"sync/atomic"
)

// What a script does once every entry has been used (response_script,
// receipt_script): a recorded session is finite, the ESME playing against it
// may send more.
const (
	ThenRepeatLast = "repeat_last" // the last entry again, for ever (default)
	ThenCycle      = "cycle"       // start again from the first entry
	ThenPass       = "pass"        // stop acting: the simulator answers as without the fault
)

// sequence hands out entry indexes in order, each entry count times. It is
// shared by the script faults; the position is one counter for the fault
// instance, so the n-th matching event across all sessions gets entry n,
// as the recording numbered them.
type sequence struct {
	ends  []uint64 // ends[i] is the position after entry i's last use
	then  string
	count atomic.Uint64
}

// newSequence builds a sequence; counts of 0 mean 1.
func newSequence(counts []uint64, then string) *sequence {
	s := &sequence{then: then}
	var n uint64
	for _, c := range counts {
		n += max(c, 1)
		s.ends = append(s.ends, n)
	}
	return s
}

// next returns the entry for the next event, or ok=false when the script
// has ended and then is pass (or it is empty).
func (s *sequence) next() (int, bool) {
	if len(s.ends) == 0 {
		return 0, false
	}
	pos := s.count.Add(1) - 1
	total := s.ends[len(s.ends)-1]
	if pos >= total {
		switch s.then {
		case ThenCycle:
			pos %= total
		case ThenPass:
			return 0, false
		default:
			return len(s.ends) - 1, true
		}
	}
	return sort.Search(len(s.ends), func(i int) bool { return s.ends[i] > pos }), true
}

// checkThen validates the then parameter.
func checkThen(v string) error {
	switch v {
	case "", ThenRepeatLast, ThenCycle, ThenPass:
		return nil
	}
	return paramErr("then", "want repeat_last, cycle or pass, got %q", v)
}

// maxScript bounds a script's entries (a scenario file is at most 1 MiB).
const maxScript = 200000
