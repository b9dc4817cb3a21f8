package load

import (
	"strconv"
	"sync"
	"sync/atomic"
)

// tracker matches receipts to submits by message id, across binds (an SMSC
// may deliver a receipt on any bind of the account).
//
// Ids are keyed by a 64-bit hash of a canonical form (lower case, leading
// zeros dropped) so "00000000FF", "ff" and "FF" are one id and nothing is
// allocated per message. When the SMSC formats the receipt id differently
// from the submit_sm_resp id (hex in one, decimal in the other, common in the
// field), the other rendering is tried too; the rendering that matches most
// often is tried first. Receipts that match nothing are counted without
// latency; they are kept for a while as orphans in case the submit_sm_resp is
// still being read on another bind.
type tracker struct {
	shards   [trackerShards]trackerShard
	orphans  atomic.Int64
	modeHits [3]atomic.Uint64 // exact, decimal receipt id -> hex, hex receipt id -> decimal
}

const (
	trackerShards = 64
	maxOrphans    = 1 << 20
)

type trackerShard struct {
	mu      sync.Mutex
	pending map[uint64]int64 // id key -> submit time
	orphans map[uint64]int64 // id key -> receipt time
	_       [40]byte
}

func newTracker() *tracker {
	t := &tracker{}
	for i := range t.shards {
		t.shards[i].pending = make(map[uint64]int64, 1024)
		t.shards[i].orphans = map[uint64]int64{}
	}
	return t
}

// submitted records an accepted message submitted at t (ns). If its receipt
// came first, it returns the receipt latency and true.
func (tr *tracker) submitted(id []byte, t int64) (int64, bool) {
	k := idKey(id)
	s := &tr.shards[k%trackerShards]
	s.mu.Lock()
	if len(s.orphans) > 0 {
		if rt, ok := s.orphans[k]; ok {
			delete(s.orphans, k)
			s.mu.Unlock()
			tr.orphans.Add(-1)
			return rt - t, true
		}
	}
	s.pending[k] = t
	s.mu.Unlock()
	return 0, false
}

// receipt looks up the submit time of receipt id received at now (ns).
func (tr *tracker) receipt(id []byte, now int64) (submitAt int64, ok bool) {
	if len(id) == 0 {
		return 0, false
	}
	var keys [3]uint64
	var have [3]bool
	keys[0], have[0] = idKey(id), true
	var buf [24]byte
	if len(id) <= 19 && isDigits(string(id)) { // no allocation: the conversion does not escape
		if v, err := strconv.ParseUint(string(id), 10, 64); err == nil {
			keys[1], have[1] = idKey(strconv.AppendUint(buf[:0], v, 16)), true
		}
	}
	if len(id) <= 16 && isHex(id) {
		if v, err := strconv.ParseUint(string(id), 16, 64); err == nil {
			keys[2], have[2] = idKey(strconv.AppendUint(buf[:0], v, 10)), true
		}
	}
	// Try the rendering that has matched most often first.
	order := [3]int{0, 1, 2}
	h := [3]uint64{tr.modeHits[0].Load(), tr.modeHits[1].Load(), tr.modeHits[2].Load()}
	for i := 1; i < 3; i++ {
		for j := i; j > 0 && h[order[j]] > h[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	for _, m := range order {
		if !have[m] {
			continue
		}
		s := &tr.shards[keys[m]%trackerShards]
		s.mu.Lock()
		t, found := s.pending[keys[m]]
		if found {
			delete(s.pending, keys[m])
		}
		s.mu.Unlock()
		if found {
			tr.modeHits[m].Add(1)
			return t, true
		}
	}
	if tr.orphans.Load() < maxOrphans {
		s := &tr.shards[keys[0]%trackerShards]
		s.mu.Lock()
		if _, dup := s.orphans[keys[0]]; !dup {
			s.orphans[keys[0]] = now
			tr.orphans.Add(1)
		}
		s.mu.Unlock()
	}
	return 0, false
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return len(b) > 0
}

// idKey hashes the canonical form of a message id (FNV-1a, ASCII lower case,
// leading zeros dropped).
func idKey(id []byte) uint64 {
	for len(id) > 1 && id[0] == '0' {
		id = id[1:]
	}
	h := uint64(14695981039346656037)
	for _, c := range id {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
