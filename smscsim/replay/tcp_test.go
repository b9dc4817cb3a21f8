package replay

import (
	"net/netip"
	"testing"
	"time"
)

// Out-of-order, retransmitted and partly overlapping segments come out as
// the sender's bytes once each; a hole that never fills is skipped and
// counted; a new SYN on the same 4-tuple is a new connection.
func TestReassemble(t *testing.T) {
	a, b := netip.MustParseAddrPort("127.0.0.1:40000"), netip.MustParseAddrPort("127.0.0.2:2775")
	t0 := time.Unix(1, 0)
	seg := func(seq uint32, p string, flags ...string) Segment {
		s := Segment{Time: t0, Src: a, Dst: b, Seq: seq, Payload: []byte(p), ACK: true}
		for _, f := range flags {
			s.SYN, s.ACK = s.SYN || f == "S", s.ACK && f != "S"
		}
		return s
	}
	isn := uint32(0xFFFFFFFD) // the stream wraps after two bytes
	flows := Reassemble([]Segment{
		seg(isn, "", "S"),
		seg(isn+1+3, "def"),  // early
		seg(isn+1, "abc"),    // fills the hole
		seg(isn+1, "abcd"),   // retransmission, one new byte... already had
		seg(isn+1+5, "fghi"), // overlaps by one
		seg(isn+1+20, "xyz"), // after a hole never filled
		seg(7, "", "S"),      // a new connection
		seg(8, "new"),
	})
	if len(flows) != 2 {
		t.Fatalf("%d flows, want 2", len(flows))
	}
	got := ""
	for _, c := range flows[0].Chunks {
		got += string(c.Data)
	}
	if got != "abcdefghixyz" || flows[0].Gaps != 1 {
		t.Fatalf("stream %q gaps %d, want abcdefghixyz and 1", got, flows[0].Gaps)
	}
	if flows[1].Conn == flows[0].Conn || string(flows[1].Chunks[0].Data) != "new" {
		t.Fatalf("second connection: %+v", flows[1])
	}
}
