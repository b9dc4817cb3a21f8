package server

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp"
	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// gosmppClient is what a typical Go ESME looks like: gosmpp's transceiver with
// auto-rebind. It collects what it receives.
type gosmppClient struct {
	mu       sync.Mutex
	resps    map[int32]*pdu.SubmitSMResp
	receipts []*pdu.DeliverSM
	mo       []*pdu.DeliverSM
	rebinds  int
	sess     *gosmpp.Session
}

func newGosmppClient(t *testing.T, addr string) *gosmppClient {
	t.Helper()
	c := &gosmppClient{resps: map[int32]*pdu.SubmitSMResp{}}
	auth := gosmpp.Auth{SMSC: addr, SystemID: "test", Password: "test"}
	sess, err := gosmpp.NewSession(gosmpp.TRXConnector(gosmpp.NonTLSDialer, auth), gosmpp.Settings{
		ReadTimeout:  5 * time.Second,
		WriteTimeout: time.Second,
		OnPDU: func(p pdu.PDU, _ bool) {
			c.mu.Lock()
			defer c.mu.Unlock()
			switch v := p.(type) {
			case *pdu.SubmitSMResp:
				c.resps[v.SequenceNumber] = v
			case *pdu.DeliverSM:
				if v.EsmClass&0x3C == 0x04 {
					c.receipts = append(c.receipts, v)
				} else {
					c.mo = append(c.mo, v)
				}
			}
		},
		OnRebind: func() { c.mu.Lock(); c.rebinds++; c.mu.Unlock() },
	}, 100*time.Millisecond)
	if err != nil {
		t.Fatalf("gosmpp bind: %v", err)
	}
	c.sess = sess
	t.Cleanup(func() { sess.Close() })
	return c
}

func (c *gosmppClient) submit(t *testing.T, text string) int32 {
	t.Helper()
	sm := smpptest.NewSubmit(t, "ACME", "447700900123", text, 1)
	if err := c.sess.Transceiver().Submit(sm); err != nil {
		t.Fatal(err)
	}
	return sm.SequenceNumber
}

func (c *gosmppClient) snapshot() (int, int, int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.resps), len(c.receipts), len(c.mo), c.rebinds
}

func TestGosmppRoundTrip(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	c := newGosmppClient(t, addr)
	var seqs []int32
	for i := 0; i < 20; i++ {
		seqs = append(seqs, c.submit(t, fmt.Sprintf("msg %d", i)))
	}
	smpptest.Eventually(t, 5*time.Second, 20*time.Millisecond, func() error {
		if r, d, _, _ := c.snapshot(); r != 20 || d != 20 {
			return fmt.Errorf("%d resps %d receipts", r, d)
		}
		return nil
	})
	c.mu.Lock()
	ids := map[string]bool{}
	for _, seq := range seqs {
		r := c.resps[seq]
		if r == nil || r.CommandStatus != data.ESME_ROK {
			t.Fatalf("seq %d: %+v", seq, r)
		}
		ids[r.MessageID] = true
	}
	for _, d := range c.receipts {
		if id := tlvString(d, pdu.TagReceiptedMessageID); !ids[id] {
			t.Fatalf("receipt for unknown id %q", id)
		}
	}
	c.mu.Unlock()

	if err := s.InjectMO("op", faults.MO{Source: "447700900999", Dest: "ACME", Text: "reply STOP"}); err != nil {
		t.Fatal(err)
	}
	smpptest.Eventually(t, 5*time.Second, 20*time.Millisecond, func() error {
		if _, _, m, _ := c.snapshot(); m != 1 {
			return fmt.Errorf("%d MO", m)
		}
		return nil
	})
	c.mu.Lock()
	txt, _ := c.mo[0].Message.GetMessage()
	c.mu.Unlock()
	if txt != "reply STOP" {
		t.Fatalf("MO text %q", txt)
	}
}

func TestGosmppRebindsAfterInjectedDisconnect(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	c := newGosmppClient(t, addr)
	c.submit(t, "before")
	smpptest.Eventually(t, 5*time.Second, 20*time.Millisecond, func() error {
		if r, _, _, _ := c.snapshot(); r != 1 {
			return fmt.Errorf("%d resps", r)
		}
		return nil
	})
	addFault(t, s, "disconnect", map[string]any{"at": "10ms"}, faults.Match{Operator: "op"})
	smpptest.Eventually(t, 5*time.Second, 20*time.Millisecond, func() error {
		if _, _, _, rb := c.snapshot(); rb < 1 {
			return fmt.Errorf("no rebind yet")
		}
		return nil
	})
	c.submit(t, "after")
	smpptest.Eventually(t, 5*time.Second, 20*time.Millisecond, func() error {
		if r, _, _, _ := c.snapshot(); r != 2 {
			return fmt.Errorf("%d resps", r)
		}
		return nil
	})
	binds := 0
	for _, r := range s.Recorder.Query(recorderFilter("bind_transceiver")) {
		if strings.HasPrefix(r.Status, "ESME_ROK") {
			binds++
		}
	}
	if binds != 2 {
		t.Fatalf("%d successful binds recorded, want 2", binds)
	}
}
