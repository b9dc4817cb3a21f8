package replay

import (
	"net/netip"
	"sort"
	"time"
)

// Chunk is in-order stream data with the time of the segment that brought it.
type Chunk struct {
	Time time.Time
	Data []byte
}

// Flow is one direction of one TCP connection, reassembled.
type Flow struct {
	Src, Dst netip.AddrPort
	Start    time.Time // first segment seen
	SYN      bool      // the flow opened with a SYN
	Chunks   []Chunk
	// Closed is when a FIN or RST was seen (zero if never).
	Closed time.Time
	// Gaps counts holes in the sequence space (bytes never captured).
	Gaps int
	// Conn numbers the connection from 1; both directions share it.
	Conn int

	isn     uint32
	next    uint32 // next expected sequence number
	started bool
	pending []Segment // arrived ahead of next, kept until the hole fills
}

type flowKey struct{ src, dst netip.AddrPort }

// pairKey names a connection whatever the direction.
func pairKey(a, b netip.AddrPort) flowKey {
	if a.Compare(b) > 0 {
		a, b = b, a
	}
	return flowKey{a, b}
}

// Reassemble groups segments by direction and connection and returns each
// direction's bytes in sequence order: retransmitted bytes are dropped,
// segments that arrive early are held until the hole before them fills, and
// a hole that never fills is skipped (counted in Gaps). A client's SYN on a
// 4-tuple starts a new connection (a retransmitted SYN does not). Flows come
// in the order of their first segment.
func Reassemble(segs []Segment) []*Flow {
	live := map[flowKey]*Flow{}
	conn := map[flowKey]int{}
	nconn := 0
	var all []*Flow
	for _, s := range segs {
		k, rk, pk := flowKey{s.Src, s.Dst}, flowKey{s.Dst, s.Src}, pairKey(s.Src, s.Dst)
		_, known := conn[pk]
		if s.SYN && !s.ACK {
			if f := live[k]; f == nil || !f.SYN || f.isn != s.Seq {
				for _, old := range []flowKey{k, rk} {
					if f := live[old]; f != nil {
						f.flush()
						delete(live, old)
					}
				}
				known = false
			}
		}
		if !known {
			nconn++ // a new connection, or one captured mid-way
			conn[pk] = nconn
		}
		f := live[k]
		if f == nil {
			f = &Flow{Src: s.Src, Dst: s.Dst, Start: s.Time, Conn: conn[pk]}
			live[k] = f
			all = append(all, f)
		}
		f.add(s)
	}
	for _, f := range all {
		f.flush()
	}
	return all
}

func (f *Flow) add(s Segment) {
	if !f.started {
		f.started = true
		f.isn, f.next = s.Seq, s.Seq
		if s.SYN {
			f.next++ // the SYN takes one sequence number
			f.SYN = true
		}
	}
	if (s.FIN || s.RST) && f.Closed.IsZero() {
		f.Closed = s.Time
	}
	if len(s.Payload) == 0 {
		return
	}
	f.pending = append(f.pending, s)
	f.drain(false)
}

// drain moves pending segments that start at or before next into the
// stream; with force it also jumps over a hole to the lowest pending one.
// Sequence numbers are compared as offsets from next, so wrap-around works.
func (f *Flow) drain(force bool) {
	for len(f.pending) > 0 {
		sort.SliceStable(f.pending, func(i, j int) bool {
			return int32(f.pending[i].Seq-f.next) < int32(f.pending[j].Seq-f.next)
		})
		s := f.pending[0]
		off := int32(s.Seq - f.next)
		if off > 0 {
			if !force {
				return
			}
			f.Gaps++
			f.next = s.Seq
			off = 0
		}
		f.pending = f.pending[1:]
		skip := int64(-off)
		if skip >= int64(len(s.Payload)) {
			continue // a retransmission of bytes already taken
		}
		data := s.Payload[skip:]
		f.Chunks = append(f.Chunks, Chunk{Time: s.Time, Data: data})
		f.next += uint32(len(data))
	}
}

func (f *Flow) flush() { f.drain(true) }
