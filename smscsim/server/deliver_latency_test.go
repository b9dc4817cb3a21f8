package server

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// The simulator times each deliver_sm from its sending to the ESME's
// deliver_sm_resp: an ESME that holds a receipt for a while shows at least
// that while in the figure. A deliver_sm never answered (the connection
// dropped) is not counted; its resend is, from the resend.
func TestDeliverSMToRespLatencyIsRecorded(t *testing.T) {
	const hold = 60 * time.Millisecond
	s, addr := start(t, profile.Profile{})
	c := bound(t, addr, pdu.Transceiver)
	c.Submit("447700900123", "dropped", 1)
	c.Expect(data.SUBMIT_SM_RESP, wait)
	c.Expect(data.DELIVER_SM, wait)
	c.Conn.Close() // never answered: requeued for the next bind
	r := bound(t, addr, pdu.Receiver)
	d := r.Expect(data.DELIVER_SM, wait)
	time.Sleep(hold)
	r.AckDeliver(d, data.ESME_ROK)
	smpptest.Eventually(t, wait, 10*time.Millisecond, func() error {
		if n := s.DeliverResp.Summary().Count; n != 1 {
			return fmt.Errorf("%d deliver_sm_resp timed, want 1", n)
		}
		return nil
	})
	if got := s.DeliverResp.Summary(); got.P50 < hold || got.Max != got.P50 {
		t.Fatalf("one deliver_sm answered after %v: %+v", hold, got)
	}
	var snap struct {
		DeliverResp struct{ Count int } `json:"deliverResp"`
	}
	if b, err := json.Marshal(s.Snapshot()); err != nil || json.Unmarshal(b, &snap) != nil || snap.DeliverResp.Count != 1 {
		t.Fatalf("snapshot: %s %v", b, err)
	}
	s.Reset()
	if n := s.DeliverResp.Summary().Count; n != 0 {
		t.Fatalf("%d after reset", n)
	}
}
