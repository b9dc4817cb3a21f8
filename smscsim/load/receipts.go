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
// often is tried first.
//
// A receipt may reach us before its submit_sm_resp (it comes on another bind,
// or the SMSC sends it first): it is held as an orphan, under its own id and
// the rendering the link uses, until the resp names its message. A receipt
// looks for its submit and, failing that, becomes an orphan while holding
// the locks of every shard it touches, and a resp looks for an orphan and,
// failing that, records its submit under its shard's lock: so whichever of
// the two comes second finds the first, even when both are read at once.
// At most maxOrphans receipts are held; beyond that they are counted without
// latency.
type tracker struct {
	shards   [trackerShards]trackerShard
	orphans  atomic.Int64
	modeHits [3]atomic.Uint64 // exact, decimal receipt id -> hex, hex receipt id -> decimal
}

const (
	trackerShards = 64
	maxOrphans    = 1 << 20
)

// orphan is a receipt waiting for its submit_sm_resp; it may be filed under
// two keys (its id as written and as the link renders resp ids), and taken
// once.
type orphan struct {
	at    int64 // receipt time
	taken atomic.Bool
	keys  [2]uint64
	n     int // keys used
}

type trackerShard struct {
	mu      sync.Mutex
	pending map[uint64]int64   // id key -> submit time
	orphans map[uint64]*orphan // id key -> receipt waiting for its resp
	_       [40]byte
}

func newTracker() *tracker {
	t := &tracker{}
	for i := range t.shards {
		t.shards[i].pending = make(map[uint64]int64, 1024)
		t.shards[i].orphans = map[uint64]*orphan{}
	}
	return t
}

// submitted records an accepted message submitted at t (ns). If its receipt
// came first, it returns the receipt latency and true.
func (tr *tracker) submitted(id []byte, t int64) (int64, bool) {
	k := idKey(id)
	s := &tr.shards[k%trackerShards]
	s.mu.Lock()
	if o, ok := s.orphans[k]; ok {
		delete(s.orphans, k)
		if o.taken.CompareAndSwap(false, true) {
			s.mu.Unlock()
			tr.orphans.Add(-1)
			tr.forget(o, k)
			return o.at - t, true
		}
	}
	s.pending[k] = t
	s.mu.Unlock()
	return 0, false
}

// forget removes an orphan taken under key from its other key.
func (tr *tracker) forget(o *orphan, taken uint64) {
	for _, k := range o.keys[:o.n] {
		if k == taken {
			continue
		}
		s := &tr.shards[k%trackerShards]
		s.mu.Lock()
		if s.orphans[k] == o {
			delete(s.orphans, k)
		}
		s.mu.Unlock()
	}
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

	// Lock every shard involved, in index order (no deadlock between two
	// receipts), so that no resp slips in between the look-up and the
	// filing of the orphan.
	var locked [3]int
	nl := 0
	for m := range keys {
		if !have[m] {
			continue
		}
		i := int(keys[m] % trackerShards)
		dup := false
		for _, j := range locked[:nl] {
			dup = dup || j == i
		}
		if !dup {
			locked[nl] = i
			nl++
		}
	}
	sortSmall(locked[:nl])
	for _, i := range locked[:nl] {
		tr.shards[i].mu.Lock()
	}
	unlock := func() {
		for _, i := range locked[:nl] {
			tr.shards[i].mu.Unlock()
		}
	}

	for _, m := range order {
		// Once receipts clearly carry the resp's id as it is, the other
		// readings are not tried: with decimal ids, the hex reading of an
		// early receipt's id (100 -> "64") is another message's id, whose
		// submit it would take. Exact is always tried, so a link that
		// renders ids differently is never locked out.
		if !have[m] || m != 0 && h[0] >= 50 && h[m]*4 < h[0] {
			continue
		}
		s := &tr.shards[keys[m]%trackerShards]
		if t, found := s.pending[keys[m]]; found {
			delete(s.pending, keys[m])
			unlock()
			tr.modeHits[m].Add(1)
			return t, true
		}
	}
	if tr.orphans.Load() < maxOrphans {
		if o, dup := tr.shards[keys[0]%trackerShards].orphans[keys[0]]; !dup || o.taken.Load() {
			// Filed under the id as written and, when the link renders
			// resp ids another way, under that rendering too.
			o := &orphan{at: now, keys: [2]uint64{keys[0]}, n: 1}
			if m := order[0]; m != 0 && have[m] && h[m] > 0 {
				o.keys[1], o.n = keys[m], 2
			}
			for _, k := range o.keys[:o.n] {
				tr.shards[k%trackerShards].orphans[k] = o
			}
			tr.orphans.Add(1)
		}
	}
	unlock()
	return 0, false
}

// sortSmall sorts up to three shard indexes.
func sortSmall(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
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
