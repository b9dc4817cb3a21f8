package replay

import (
	"fmt"
	"sort"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// Msg is one PDU of a recorded session, told apart by direction.
type Msg struct {
	Time     time.Time
	Conn     int
	FromSMSC bool
	Header   pdu.Header
	PDU      pdu.PDU // nil when the body could not be decoded
	slot     int     // a submit_sm's index in Behaviour.Submits
}

// Conn is one TCP connection of the capture, with what the extraction saw.
type Conn struct {
	ID         int
	SMSC, ESME string // addresses
	Opened     time.Time
	// ClosedBySMSC is when the SMSC side sent FIN/RST first (zero otherwise).
	ClosedBySMSC time.Time
	Problems     []string // stream errors, capture holes
}

// Session is a capture cut into PDUs: every connection's messages in time
// order (connections interleaved as they happened).
type Session struct {
	Msgs  []Msg
	Conns []Conn
}

// FromFlows decodes the reassembled flows. smscPort, when not zero, names the
// SMSC side; otherwise it is the side that answers binds and submits (or, in a
// connection where neither shows, the side that received the SYN). Flows
// without SMPP bytes (another protocol on the capture) are left out.
func FromFlows(flows []*Flow, smscPort uint16) (*Session, error) {
	byConn := map[int][]*Flow{}
	var order []int
	for _, f := range flows {
		if _, ok := byConn[f.Conn]; !ok {
			order = append(order, f.Conn)
		}
		byConn[f.Conn] = append(byConn[f.Conn], f)
	}
	s := &Session{}
	for _, id := range order {
		fs := byConn[id]
		type dir struct {
			f      *Flow
			frames []Frame
			err    error
			score  int // > 0: looks like the SMSC side
		}
		var dirs []*dir
		for _, f := range fs {
			d := &dir{f: f}
			var sp Splitter
			for _, c := range f.Chunks {
				d.frames = append(d.frames, sp.Write(c.Time, c.Data)...)
			}
			d.err = sp.Err()
			for _, fr := range d.frames {
				d.score += smscScore(pdu.ParseHeader([16]byte(fr.Raw[:16])).CommandID)
			}
			dirs = append(dirs, d)
		}
		if len(dirs) == 0 || (len(dirs[0].frames) == 0 && (len(dirs) < 2 || len(dirs[1].frames) == 0)) {
			continue
		}
		smsc := pickSMSC(smscPort, len(dirs), func(i int) (uint16, int, bool) {
			return dirs[i].f.Src.Port(), dirs[i].score, dirs[i].f.SYN
		})
		if smsc < 0 {
			continue // the SMSC's port is not in this connection
		}
		c := Conn{ID: id, Opened: dirs[0].f.Start, SMSC: dirs[smsc].f.Src.String(), ESME: dirs[smsc].f.Dst.String()}
		if cl := dirs[smsc].f.Closed; !cl.IsZero() {
			other := time.Time{}
			if len(dirs) == 2 {
				other = dirs[1-smsc].f.Closed
			}
			if other.IsZero() || cl.Before(other) {
				c.ClosedBySMSC = cl
			}
		}
		for i, d := range dirs {
			if d.err != nil {
				c.Problems = append(c.Problems, fmt.Sprintf("%s -> %s: %v", d.f.Src, d.f.Dst, d.err))
			}
			if d.f.Gaps > 0 {
				c.Problems = append(c.Problems, fmt.Sprintf("%s -> %s: %d hole(s) in the capture", d.f.Src, d.f.Dst, d.f.Gaps))
			}
			for _, fr := range d.frames {
				s.Msgs = append(s.Msgs, decodeMsg(fr, id, i == smsc))
			}
		}
		s.Conns = append(s.Conns, c)
	}
	sort.SliceStable(s.Msgs, func(i, j int) bool { return s.Msgs[i].Time.Before(s.Msgs[j].Time) })
	if len(s.Msgs) == 0 {
		return nil, fmt.Errorf("no SMPP PDUs found in the capture (TLS sessions cannot be decoded; is -smsc-port right?)")
	}
	return s, nil
}

// smscScore says which side a command comes from: positive for what an SMSC
// sends (bind and submit responses), negative for what an ESME sends.
func smscScore(id data.CommandIDType) int {
	switch id {
	case data.BIND_TRANSCEIVER_RESP, data.BIND_TRANSMITTER_RESP, data.BIND_RECEIVER_RESP,
		data.SUBMIT_SM_RESP, data.SUBMIT_MULTI_RESP, data.QUERY_SM_RESP:
		return 1
	case data.BIND_TRANSCEIVER, data.BIND_TRANSMITTER, data.BIND_RECEIVER,
		data.SUBMIT_SM, data.SUBMIT_MULTI, data.QUERY_SM, data.DELIVER_SM_RESP:
		return -1
	}
	return 0
}

func decodeMsg(fr Frame, conn int, fromSMSC bool) Msg {
	m := Msg{Time: fr.Time, Conn: conn, FromSMSC: fromSMSC, Header: pdu.ParseHeader([16]byte(fr.Raw[:16]))}
	if p, err := wire.Decode(wire.Frame{Header: m.Header, Raw: fr.Raw}); err == nil {
		m.PDU = p
	}
	return m
}

// pickSMSC returns the index of the SMSC's direction among n (1 or 2), or -1:
// the given port; else the side that answers binds and submits (the higher
// score); else the side facing one that sends binds and submits; else, the
// first flow having opened with the client's SYN, the other one.
func pickSMSC(port uint16, n int, dir func(int) (srcPort uint16, score int, syn bool)) int {
	if port != 0 {
		for i := range n {
			if p, _, _ := dir(i); p == port {
				return i
			}
		}
		return -1
	}
	best, bestScore := -1, 0
	for i := range n {
		if _, sc, _ := dir(i); sc > bestScore {
			best, bestScore = i, sc
		}
	}
	if best >= 0 || n < 2 {
		return best
	}
	_, s0, syn0 := dir(0)
	_, s1, _ := dir(1)
	switch {
	case s0 < 0 && s1 >= 0:
		return 1
	case s1 < 0 && s0 >= 0:
		return 0
	case syn0:
		return 1
	}
	return -1
}
