package segment

import (
	"container/list"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Defaults used when NewReassembler is given a non-positive bound.
const (
	DefaultMaxPending = 1024
	DefaultMaxAge     = 5 * time.Minute
)

type reasmKey struct {
	source, dest string
	ref          uint16
	total        int
}

type reasmFragment struct {
	dataCoding byte
	octets     []byte
}

type pending struct {
	key     reasmKey
	created time.Time
	parts   map[int]reasmFragment
	elem    *list.Element
}

// ReassemblerStats counts what a Reassembler has dropped or ignored.
type ReassemblerStats struct {
	Pending    int    // incomplete messages held now
	Completed  uint64 // segmented messages reassembled
	Evicted    uint64 // incomplete messages dropped to stay within maxPending
	Expired    uint64 // incomplete messages dropped for being older than maxAge
	Duplicates uint64 // parts whose sequence number had already arrived (ignored)
}

// Reassembler collects the parts of segmented messages, from any
// interleaving of messages and senders, and returns each message when its
// last part arrives. Messages are keyed by (source, dest, ref, total). It
// holds at most maxPending incomplete messages (the oldest is evicted to make
// room) and drops incomplete messages older than maxAge. It is safe for
// concurrent use.
type Reassembler struct {
	mu         sync.Mutex
	maxPending int
	maxAge     time.Duration
	byKey      map[reasmKey]*pending
	order      *list.List // of *pending, oldest first
	stats      ReassemblerStats
}

// NewReassembler returns a Reassembler holding at most maxPending incomplete
// messages, each for at most maxAge from its first part. Non-positive values
// select DefaultMaxPending and DefaultMaxAge.
func NewReassembler(maxPending int, maxAge time.Duration) *Reassembler {
	if maxPending <= 0 {
		maxPending = DefaultMaxPending
	}
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	return &Reassembler{
		maxPending: maxPending,
		maxAge:     maxAge,
		byKey:      make(map[reasmKey]*pending),
		order:      list.New(),
	}
}

// Add takes one part received at now from source to dest. When the part
// completes a message (or is not segmented at all) it returns the decoded
// text (Decode with dc0 "gsm7") and complete true. A part repeating a
// sequence number already held is ignored. Errors name the malformed part
// or the undecodable message, which is then dropped.
func (r *Reassembler) Add(now time.Time, source, dest string, p Part) (text string, complete bool, err error) {
	ref, total, seq, ok, err := Concat(p)
	if err != nil {
		return "", false, err
	}
	_, data, err := splitUDH(p)
	if err != nil {
		return "", false, err
	}
	if !ok || total == 1 {
		if ok {
			r.mu.Lock()
			r.stats.Completed++
			r.mu.Unlock()
		}
		text, err := Decode(p.DataCoding, data, "gsm7")
		if err != nil {
			return "", false, err
		}
		return text, true, nil
	}

	r.mu.Lock()
	r.expire(now)
	key := reasmKey{source: source, dest: dest, ref: ref, total: total}
	m := r.byKey[key]
	if m == nil {
		for len(r.byKey) >= r.maxPending {
			r.remove(r.order.Front().Value.(*pending))
			r.stats.Evicted++
		}
		m = &pending{key: key, created: now, parts: make(map[int]reasmFragment, total)}
		m.elem = r.order.PushBack(m)
		r.byKey[key] = m
	}
	if _, dup := m.parts[seq]; dup {
		r.stats.Duplicates++
		r.mu.Unlock()
		return "", false, nil
	}
	m.parts[seq] = reasmFragment{dataCoding: p.DataCoding, octets: append([]byte(nil), data...)}
	if len(m.parts) < total {
		r.mu.Unlock()
		return "", false, nil
	}
	r.remove(m)
	r.stats.Completed++
	r.mu.Unlock()

	text, err = joinParts(m.parts, total)
	if err != nil {
		return "", false, fmt.Errorf("message ref %d from %q to %q: %w", ref, source, dest, err)
	}
	return text, true, nil
}

// joinParts decodes the parts 1..total (see Join).
func joinParts(parts map[int]reasmFragment, total int) (string, error) {
	frags := make([]Fragment, total)
	for i := 1; i <= total; i++ {
		frags[i-1] = Fragment{DataCoding: parts[i].dataCoding, Octets: parts[i].octets}
	}
	return Join(frags, "gsm7")
}

// Fragment is one part of a segmented message: its data_coding and its text
// octets, the UDH removed (Payload).
type Fragment struct {
	DataCoding byte
	Octets     []byte
}

// Join decodes the parts of a message, in order. Parts sharing one
// data_coding are decoded as one octet string, so an escape or surrogate
// pair that an SMSC split across parts still decodes. dc0 is what the
// operator's data_coding 0 means, as for Decode: an SMSC whose default
// alphabet is Latin-1 sends its MOs as data_coding 0 in Latin-1.
func Join(parts []Fragment, dc0 string) (string, error) {
	if len(parts) == 0 {
		return "", nil
	}
	same := true
	for _, p := range parts[1:] {
		same = same && p.DataCoding == parts[0].DataCoding
	}
	if same {
		var all []byte
		for _, p := range parts {
			all = append(all, p.Octets...)
		}
		return Decode(parts[0].DataCoding, all, dc0)
	}
	var sb strings.Builder
	for i, p := range parts {
		s, err := Decode(p.DataCoding, p.Octets, dc0)
		if err != nil {
			return "", fmt.Errorf("part %d/%d: %w", i+1, len(parts), err)
		}
		sb.WriteString(s)
	}
	return sb.String(), nil
}

// Payload returns a part's text octets: short_message (or message_payload)
// without its UDH.
func Payload(p Part) ([]byte, error) {
	_, data, err := splitUDH(p)
	return data, err
}

// expire drops incomplete messages older than maxAge. Messages are kept in
// arrival order, so it stops at the first young one.
func (r *Reassembler) expire(now time.Time) {
	for e := r.order.Front(); e != nil; e = r.order.Front() {
		m := e.Value.(*pending)
		if now.Sub(m.created) <= r.maxAge {
			return
		}
		r.remove(m)
		r.stats.Expired++
	}
}

func (r *Reassembler) remove(m *pending) {
	r.order.Remove(m.elem)
	delete(r.byKey, m.key)
}

// Expire drops incomplete messages older than maxAge at now and returns how
// many it dropped; Add does the same on each call.
func (r *Reassembler) Expire(now time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	before := r.stats.Expired
	r.expire(now)
	return int(r.stats.Expired - before)
}

// Stats returns the counters and the number of incomplete messages held.
func (r *Reassembler) Stats() ReassemblerStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Pending = len(r.byKey)
	return s
}
