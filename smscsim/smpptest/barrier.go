package smpptest

import (
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// Barrier sends an enquire_link and reads until its enquire_link_resp,
// returning every other PDU that arrived first (enquire_links from the server
// are answered and left out: they are keepalive, not an outcome). The server
// reads one connection's requests in order and writes its answers in order, so
// whatever it had queued on this connection before it read the enquire_link
// is on the wire before the resp: the resp is the "flush" after which an
// absence means something (as nats-server's tests flush before checking that
// nothing arrived), where a silence of some duration means nothing on a slow
// machine.
func (r *Raw) Barrier(d time.Duration) []pdu.PDU {
	r.t.Helper()
	seq := r.Send(pdu.NewEnquireLink())
	deadline := time.Now().Add(d)
	var before []pdu.PDU
	for {
		left := time.Until(deadline)
		if left <= 0 {
			r.t.Fatalf("no enquire_link_resp %d within %v (barrier)", seq, d)
		}
		p, err := r.Read(left)
		if err != nil {
			r.t.Fatalf("waiting for enquire_link_resp %d (barrier): %v", seq, err)
		}
		h := p.GetHeader()
		switch {
		case h.CommandID == data.ENQUIRE_LINK_RESP && h.SequenceNumber == seq:
			return before
		case h.CommandID == data.ENQUIRE_LINK:
			r.Write(wire.HeaderOnly(data.ENQUIRE_LINK_RESP, 0, h.SequenceNumber))
		default:
			before = append(before, p)
		}
	}
}

// ExpectQuiet fails the test if the server sent anything on this connection
// before the answer to a Barrier: nothing was queued for it up to now.
func (r *Raw) ExpectQuiet(d time.Duration) {
	r.t.Helper()
	if got := r.Barrier(d); len(got) != 0 {
		names := make([]string, len(got))
		for i, p := range got {
			names[i] = wire.CommandName(p.GetHeader().CommandID) + " " + wire.StatusName(p.GetHeader().CommandStatus)
		}
		r.t.Fatalf("expected nothing before the barrier's enquire_link_resp, got %v", names)
	}
}
