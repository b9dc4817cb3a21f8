package server

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
	"github.com/smpp-connector/smpp-connector/smscsim/smstext"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// Each test here proves a fault's effect from the client's side of the wire.

func addFault(t *testing.T, s *Sim, typ string, params any, m faults.Match) {
	t.Helper()
	if _, err := s.Faults.Add(spec(t, typ, params, m)); err != nil {
		t.Fatal(err)
	}
}

// submitMany sends n submit_sm back to back and counts the answers by status.
func submitMany(t *testing.T, c *smpptest.Raw, n int, regDlr byte) map[string]int {
	t.Helper()
	for i := 0; i < n; i++ {
		c.Submit("447700900123", "burst", regDlr)
	}
	got := map[string]int{}
	for seen := 0; seen < n; {
		p, err := c.Read(wait)
		if err != nil {
			t.Fatalf("after %d answers: %v", seen, err)
		}
		switch p.GetHeader().CommandID {
		case data.SUBMIT_SM_RESP:
			got[status(p)]++
			seen++
		case data.GENERIC_NACK:
			got["generic_nack "+status(p)]++
			seen++
		}
	}
	return got
}

func TestThrottleFaultAndMeterAgree(t *testing.T) {
	s, addr := start(t, profile.Profile{}, func(c *Config) { c.Operators[0].Accounts[0].TPS = 50 })
	addFault(t, s, "throttle", map[string]any{"tps": 50}, faults.Match{})
	c := bound(t, addr, pdu.Transceiver)
	got := submitMany(t, c, 100, 0)
	if got["ESME_ROK"] != 50 || got["ESME_RTHROTTLED"] != 50 {
		t.Fatalf("answers %v, want 50 accepted and 50 throttled", got)
	}
	r, _ := s.Meter.Report("op/test", time.Now())
	if r.Arrivals != 100 || r.Breaches != 50 || r.WorstSlidingWindow != 100 {
		t.Fatalf("meter %+v disagrees with the 100 the client sent", r)
	}
}

func TestThrottleGenericNackAndMsgQFull(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	addFault(t, s, "throttle", map[string]any{"tps": 5, "genericNack": true}, faults.Match{})
	got := submitMany(t, bound(t, addr, pdu.Transceiver), 10, 0)
	if got["ESME_ROK"] != 5 || got["generic_nack ESME_RTHROTTLED"] != 5 {
		t.Fatalf("%v", got)
	}
	s.Reset()
	addFault(t, s, "throttle", map[string]any{"tps": 5, "status": "ESME_RMSGQFUL"}, faults.Match{})
	got = submitMany(t, bound(t, addr, pdu.Transceiver), 10, 0)
	if got["ESME_ROK"] != 5 || got["ESME_RMSGQFUL"] != 5 {
		t.Fatalf("%v", got)
	}
}

func TestWindowFault(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	addFault(t, s, "window", map[string]any{"max": 2}, faults.Match{Command: "submit_sm"})
	addFault(t, s, "latency", map[string]any{"distribution": map[string]any{"kind": "fixed", "value": "300ms"}}, faults.Match{})
	got := submitMany(t, bound(t, addr, pdu.Transceiver), 5, 0)
	if got["ESME_ROK"] != 2 || got["ESME_RMSGQFUL"] != 3 {
		t.Fatalf("%v", got)
	}
}

func TestErrorFaultByDestinationPrefix(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	addFault(t, s, "error", map[string]any{"status": "ESME_RINVDSTADR"}, faults.Match{Command: "submit_sm", DestinationPrefix: "4477"})
	c := bound(t, addr, pdu.Transceiver)
	c.Submit("447700900123", "uk", 1)
	if r := c.Expect(data.SUBMIT_SM_RESP, wait); r.GetHeader().CommandStatus != data.ESME_RINVDSTADR {
		t.Fatal(status(r))
	}
	c.Submit("33600000000", "fr", 0)
	if r := c.Expect(data.SUBMIT_SM_RESP, wait); r.GetHeader().CommandStatus != 0 {
		t.Fatal(status(r))
	}
	// A rejected submit gets no receipt (and the second asked for none).
	c.ExpectQuiet(wait)
	if n := receiptsMade(s, ""); n != 0 {
		t.Fatalf("%d receipts made", n)
	}
}

func TestLatencyFault(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	addFault(t, s, "latency", map[string]any{"distribution": map[string]any{"kind": "fixed", "value": "150ms"}}, faults.Match{Command: "submit_sm"})
	c := bound(t, addr, pdu.Transceiver)
	t0 := time.Now()
	c.Submit("447700900123", "slow", 0)
	c.Expect(data.SUBMIT_SM_RESP, wait)
	if d := time.Since(t0); d < 150*time.Millisecond {
		t.Fatalf("answered after %v, before the 150ms latency", d)
	}
}

func TestBlackholeFault(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	c := bound(t, addr, pdu.Transceiver)
	addFault(t, s, "blackhole", map[string]any{}, faults.Match{})
	c.Submit("447700900123", "void", 1)
	c.Send(pdu.NewEnquireLink())
	// Both were read and swallowed before the fault goes.
	smpptest.Eventually(t, wait, time.Millisecond, func() error {
		if n := s.Stats().Sum("op", "test", "", "none"); n != 2 {
			return fmt.Errorf("%d requests swallowed, want 2", n)
		}
		return nil
	})
	if err := s.Faults.Remove("blackhole"); err != nil {
		t.Fatal(err)
	}
	// TCP stayed open all along, and the barrier's enquire_link_resp is the
	// first thing on the wire: the submit and enquire_link before it were
	// swallowed, not answered late.
	c.ExpectQuiet(wait)
	// Binds too: a new bind gets no bind_resp (the enquire_link after it,
	// which the fault does not match, is answered and nothing else).
	addFault(t, s, "blackhole", map[string]any{}, faults.Match{Command: "bind"})
	n := smpptest.Dial(t, addr)
	n.Send(pdu.NewBindRequest(pdu.Transceiver))
	n.ExpectQuiet(wait)
}

func TestDisconnectAfterPDUs(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	addFault(t, s, "disconnect", map[string]any{"afterPdus": 3}, faults.Match{})
	c := bound(t, addr, pdu.Transceiver) // the bind is request 1
	c.Send(pdu.NewEnquireLink())
	c.Expect(data.ENQUIRE_LINK_RESP, wait)
	c.Send(pdu.NewEnquireLink())
	if p, err := c.Read(wait); err == nil {
		t.Fatalf("third request answered with %s instead of a disconnect", wire.CommandName(p.GetHeader().CommandID))
	}
}

func TestRefuseBindStatusAndTCP(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	addFault(t, s, "refuse_bind", map[string]any{"status": "ESME_RINVPASWD"}, faults.Match{})
	if r := smpptest.Dial(t, addr).Bind(pdu.Transceiver, "test", "test"); r.CommandStatus != data.ESME_RINVPASWD {
		t.Fatal(status(r))
	}
	s.Reset()
	if _, err := s.Faults.Add(faults.Spec{Name: "tcp", Type: "refuse_bind", Params: []byte(`{"tcp":true}`)}); err != nil {
		t.Fatal(err)
	}
	// The runner closes the listener just after Add returns.
	smpptest.Eventually(t, wait, 10*time.Millisecond, func() error {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return errors.New("TCP connect accepted while refuse_bind tcp is active")
		}
		return nil
	})
	_ = s.Faults.Remove("tcp")
	bound(t, addr, pdu.Transceiver)
}

func TestOutageDropsBindsAndComesBack(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	c := bound(t, addr, pdu.Transceiver)
	addFault(t, s, "outage", map[string]any{"duration": "1s"}, faults.Match{Operator: "op"})
	if _, err := c.Read(wait); err == nil {
		t.Fatal("bind survived the outage")
	}
	// The listener is closed before binds are dropped.
	if cc, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		cc.Close()
		t.Fatal("listener accepted during the outage")
	}
	waitListening(t, addr)
	bound(t, addr, pdu.Transceiver)
}

func TestReceiptDelayFault(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	addFault(t, s, "receipt_delay", map[string]any{"distribution": map[string]any{"kind": "fixed", "value": "200ms"}}, faults.Match{})
	c := bound(t, addr, pdu.Transceiver)
	t0 := time.Now()
	c.Submit("447700900123", "later", 1)
	c.Expect(data.SUBMIT_SM_RESP, wait)
	c.Expect(data.DELIVER_SM, wait)
	if d := time.Since(t0); d < 200*time.Millisecond {
		t.Fatalf("receipt after %v, before its 200ms delay", d)
	}
}

func TestReceiptOutcomesFault(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	addFault(t, s, "receipt_outcomes", map[string]any{"weights": map[string]int{"UNDELIV": 1}}, faults.Match{})
	c := bound(t, addr, pdu.Transceiver)
	c.Submit("447700900123", "fail", 1)
	id := c.Expect(data.SUBMIT_SM_RESP, wait).(*pdu.SubmitSMResp).MessageID
	d := c.Expect(data.DELIVER_SM, wait).(*pdu.DeliverSM)
	if txt := receiptText(d); !strings.Contains(txt, "stat:UNDELIV") || !strings.Contains(txt, "err:001") || !strings.Contains(txt, "dlvrd:000") {
		t.Fatalf("%q", txt)
	}
	if ms := d.OptionalParameters[pdu.TagMessageStateOption]; ms.Data[0] != 5 {
		t.Fatalf("message_state %v", ms.Data)
	}
	q := pdu.NewQuerySM().(*pdu.QuerySM)
	q.MessageID = id
	c.Send(q)
	if r := c.Expect(data.QUERY_SM_RESP, wait).(*pdu.QuerySMResp); r.MessageState != 5 {
		t.Fatalf("query_sm state %d", r.MessageState)
	}
	// registered_delivery 2 asks for failure receipts only: this one is sent.
	c.Submit("447700900123", "fail", 2)
	c.Expect(data.SUBMIT_SM_RESP, wait)
	c.Expect(data.DELIVER_SM, wait)
}

func TestReceiptDropDuplicateEarly(t *testing.T) {
	t.Run("drop", func(t *testing.T) {
		s, addr := start(t, profile.Profile{})
		addFault(t, s, "receipt_drop", map[string]any{}, faults.Match{})
		c := bound(t, addr, pdu.Transceiver)
		c.Submit("447700900123", "lost", 1)
		c.Expect(data.SUBMIT_SM_RESP, wait)
		c.ExpectQuiet(wait)
		if made, dropped := receiptsMade(s, ""), s.Stats().Sum("op", "test", "receipt", "dropped_by_fault"); made != 0 || dropped != 1 {
			t.Fatalf("%d receipts made, %d dropped by the fault; want 0 and 1", made, dropped)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		s, addr := start(t, profile.Profile{})
		addFault(t, s, "receipt_duplicate", map[string]any{"copies": 3}, faults.Match{})
		c := bound(t, addr, pdu.Transceiver)
		c.Submit("447700900123", "thrice", 1)
		id := c.Expect(data.SUBMIT_SM_RESP, wait).(*pdu.SubmitSMResp).MessageID
		for i := 0; i < 3; i++ {
			d := c.Expect(data.DELIVER_SM, wait).(*pdu.DeliverSM)
			c.AckDeliver(d, 0)
			if got := tlvString(d, pdu.TagReceiptedMessageID); got != id {
				t.Fatalf("copy %d is for %q", i, got)
			}
		}
		// All copies were made before the barrier; a fourth would be counted.
		c.ExpectQuiet(wait)
		if n := receiptsMade(s, ""); n != 3 {
			t.Fatalf("%d copies made, want 3", n)
		}
	})
	t.Run("early on transceiver", func(t *testing.T) {
		s, addr := start(t, profile.Profile{})
		addFault(t, s, "receipt_early", map[string]any{}, faults.Match{})
		c := bound(t, addr, pdu.Transceiver)
		c.Submit("447700900123", "early", 1)
		first, err := c.Read(wait)
		if err != nil || first.GetHeader().CommandID != data.DELIVER_SM {
			t.Fatalf("first PDU %v (%v), want the receipt before the resp", first, err)
		}
		c.Expect(data.SUBMIT_SM_RESP, wait)
	})
	t.Run("early across binds", func(t *testing.T) {
		s, addr := start(t, profile.Profile{})
		addFault(t, s, "receipt_early", map[string]any{}, faults.Match{})
		tx, rx := bound(t, addr, pdu.Transmitter), bound(t, addr, pdu.Receiver)
		t0 := time.Now()
		tx.Submit("447700900123", "early", 1)
		rx.Expect(data.DELIVER_SM, wait)
		tx.Expect(data.SUBMIT_SM_RESP, wait)
		// The resp is held back so the receipt on the other bind wins the race.
		if d := time.Since(t0); d < earlyLead {
			t.Fatalf("resp after %v, not held back by %v", d, earlyLead)
		}
	})
}

func TestMOFaultSegmentsAndReassembles(t *testing.T) {
	long := strings.Repeat("Ünïcödé MO ✓ ", 20) // needs UCS2, 3 parts
	for _, seg := range []string{"udh8", "udh16", "sar", "payload"} {
		t.Run(seg, func(t *testing.T) {
			s, addr := start(t, profile.Profile{})
			rx := bound(t, addr, pdu.Receiver)
			addFault(t, s, "mo", map[string]any{"rate": 50, "count": 1, "text": long, "encoding": "ucs2", "segmentation": seg,
				"source": "447700900999", "destination": "ACME"}, faults.Match{})
			var parts []smstext.Part
			for {
				d := rx.Expect(data.DELIVER_SM, wait).(*pdu.DeliverSM)
				rx.AckDeliver(d, 0)
				part := partOf(d)
				_, total, _, ok, err := smstext.Concat(part)
				if err != nil {
					t.Fatal(err)
				}
				if parts = append(parts, part); ok && len(parts) < total {
					continue
				}
				txt, err := smstext.Reassemble(parts, "")
				if err != nil {
					t.Fatal(err)
				}
				if txt != long {
					t.Fatalf("reassembled %q", txt)
				}
				return
			}
		})
	}
}

// partOf turns a parsed deliver_sm back into the octets on the wire: gosmpp
// strips the UDH from the text, so it is put back.
func partOf(d *pdu.DeliverSM) smstext.Part {
	msg, _ := d.Message.GetMessageData()
	if udh := d.Message.UDH(); len(udh) > 0 {
		if b, err := udh.MarshalBinary(); err == nil {
			msg = append(b, msg...)
		}
	}
	p := smstext.Part{EsmClass: d.EsmClass, Message: msg}
	if enc := d.Message.Encoding(); enc != nil {
		p.DataCoding = enc.DataCoding()
	}
	for _, tag := range []uint16{smstext.TagSarMsgRefNum, smstext.TagSarTotalSegments, smstext.TagSarSegmentSeqnum, smstext.TagMessagePayload} {
		if f, ok := d.OptionalParameters[pdu.Tag(tag)]; ok {
			p.TLVs = append(p.TLVs, smstext.TLV{Tag: tag, Value: f.Data})
		}
	}
	return p
}

func TestMalformedFault(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	c := bound(t, addr, pdu.Transceiver)
	addFault(t, s, "malformed", map[string]any{"kind": "huge_length"}, faults.Match{Command: "submit_sm"})
	c.Submit("447700900123", "x", 0)
	c.Conn.SetReadDeadline(time.Now().Add(wait))
	if _, err := wire.ReadFrame(c.Conn, 0); !errors.Is(err, wire.ErrLengthOutOfRange) {
		t.Fatalf("client read %v, want a broken command_length", err)
	}
}

// An operator whose default alphabet is Latin-1 sends its handsets' MOs as
// data_coding 0 holding Latin-1 octets (é is 0xE9, not the GSM septet 0x05).
func TestMOInOperatorsDefaultAlphabet(t *testing.T) {
	s, addr := start(t, profile.Profile{DataCoding0: "latin1"})
	rx := bound(t, addr, pdu.Receiver)
	addFault(t, s, "mo", map[string]any{"rate": 50, "count": 1, "text": "café ¿ñ", "source": "447700900999", "destination": "ACME"}, faults.Match{})
	d := rx.Expect(data.DELIVER_SM, wait).(*pdu.DeliverSM)
	rx.AckDeliver(d, 0)
	p := partOf(d)
	if want := []byte{'c', 'a', 'f', 0xE9, ' ', 0xBF, 0xF1}; p.DataCoding != 0 || !bytes.Equal(p.Message, want) {
		t.Fatalf("data_coding %d, octets % X; want 0 and % X", p.DataCoding, p.Message, want)
	}
}

// After a restart the SMSC gives the ids it gave before: the bind is dropped,
// and the first message after it gets the first message's id again.
func TestRestartReusesMessageIDs(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	c := bound(t, addr, pdu.Transceiver)
	c.Submit("447700900123", "before", 0)
	first := c.Expect(data.SUBMIT_SM_RESP, wait).(*pdu.SubmitSMResp).MessageID
	c.Submit("447700900123", "before too", 0)
	if second := c.Expect(data.SUBMIT_SM_RESP, wait).(*pdu.SubmitSMResp).MessageID; second == first {
		t.Fatalf("two messages got id %s before the restart", first)
	}
	addFault(t, s, "restart", map[string]any{"duration": "200ms"}, faults.Match{Operator: "op"})
	if _, err := c.Read(wait); err == nil {
		t.Fatal("bind survived the restart")
	}
	var again *smpptest.Raw
	waitListening(t, addr)
	again = bound(t, addr, pdu.Transceiver)
	again.Submit("447700900123", "after", 0)
	if got := again.Expect(data.SUBMIT_SM_RESP, wait).(*pdu.SubmitSMResp).MessageID; got != first {
		t.Fatalf("first id after the restart = %s, want the first id given before it (%s)", got, first)
	}
}

// waitListening waits until addr accepts connections again.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	smpptest.Eventually(t, 3*time.Second, 20*time.Millisecond, func() error {
		cc, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		cc.Close()
		return nil
	})
}
