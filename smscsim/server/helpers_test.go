package server

import (
	"encoding/json"
	"fmt"
	"github.com/linxGnu/gosmpp/pdu"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"testing"

	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
)

func spec(t testing.TB, typ string, params any, m faults.Match) faults.Spec {
	t.Helper()
	b, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	return faults.Spec{Type: typ, Params: b, Match: m}
}

func receiptDelay(t testing.TB, d string) faults.Spec {
	return spec(t, "receipt_delay", map[string]any{"distribution": map[string]any{"kind": "fixed", "value": d}}, faults.Match{})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return v
}

// tlvString reads a C-string TLV of a parsed PDU.
func tlvString(d *pdu.DeliverSM, tag pdu.Tag) string {
	f := d.OptionalParameters[tag]
	return f.String()
}

func recorderFilter(cmd string) recorder.Filter { return recorder.Filter{Command: cmd} }

// settle is the barrier before asserting that something did not happen: once
// c's enquire_link is answered, every request c sent before has been handled to
// the end (one reader handles a connection's requests one after another, and a
// submit's receipts are planned and queued before the next request is read),
// so the counters and queues say all they will ever say about those requests,
// and whatever the server queued on c is among the PDUs returned.
func settle(c *smpptest.Raw) []pdu.PDU { return c.Barrier(wait) }

// receiptsMade counts the receipts the operator "op" produced for account
// test with the given stat ("" for any, drops by fault excluded).
func receiptsMade(s *Sim, stat string) uint64 {
	n := s.Stats().Sum("op", "test", "receipt", stat)
	if stat == "" {
		n -= s.Stats().Sum("op", "test", "receipt", "dropped_by_fault")
	}
	return n
}

// queued is how many deliver_sm wait for a receiver of account test.
func queued(t *testing.T, s *Sim) int {
	t.Helper()
	op, ok := s.Operator("op")
	if !ok {
		t.Fatal("no operator op")
	}
	return op.QueueDepth()["test"]
}
