package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

const wait = 2 * time.Second

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// start runs a simulator with one operator "op" on a random port, account
// test/test, and the given profile; mutate adjusts the config.
func start(t *testing.T, prof profile.Profile, mutate ...func(*Config)) (*Sim, string) {
	t.Helper()
	cfg := Config{Operators: []OperatorConfig{{
		ID: "op", Listen: "127.0.0.1:0", Profile: prof,
		Accounts: []AccountConfig{{SystemID: "test", Password: "test"}},
	}}}
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := New(cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	op, _ := s.Operator("op")
	return s, op.Addr()
}

func bound(t *testing.T, addr string, bt pdu.BindingType) *smpptest.Raw {
	t.Helper()
	c := smpptest.Dial(t, addr)
	if r := c.Bind(bt, "test", "test"); r.CommandStatus != data.ESME_ROK {
		t.Fatalf("bind: %s", wire.StatusName(r.CommandStatus))
	}
	return c
}

func status(p pdu.PDU) string { return wire.StatusName(p.GetHeader().CommandStatus) }

func TestBindOutcomes(t *testing.T) {
	_, addr := start(t, profile.Profile{}, func(c *Config) {
		c.Operators[0].Accounts = append(c.Operators[0].Accounts,
			AccountConfig{SystemID: "one", Password: "pw", MaxBinds: 1},
			AccountConfig{SystemID: "typed", Password: "pw", SystemType: "VMA"})
	})
	cases := []struct {
		name, sysID, pw string
		want            data.CommandStatusType
	}{
		{"good", "test", "test", data.ESME_ROK},
		{"bad password", "test", "nope", data.ESME_RINVPASWD},
		{"unknown system_id", "ghost", "test", data.ESME_RINVSYSID},
		{"system_type required", "typed", "pw", data.ESME_RINVSYSTYP},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := smpptest.Dial(t, addr).Bind(pdu.Transceiver, c.sysID, c.pw)
			if r.CommandStatus != c.want {
				t.Fatalf("got %s want %s", wire.StatusName(r.CommandStatus), wire.StatusName(c.want))
			}
			if c.want == data.ESME_ROK && r.SystemID != "smscsim" {
				t.Fatalf("system_id %q", r.SystemID)
			}
		})
	}
	t.Run("bind limit", func(t *testing.T) {
		first := smpptest.Dial(t, addr)
		if r := first.Bind(pdu.Transmitter, "one", "pw"); r.CommandStatus != data.ESME_ROK {
			t.Fatal(status(r))
		}
		if r := smpptest.Dial(t, addr).Bind(pdu.Transmitter, "one", "pw"); r.CommandStatus != data.ESME_RALYBND {
			t.Fatalf("second bind over the limit: %s", status(r))
		}
		first.Conn.Close()
		smpptest.Eventually(t, wait, 10*time.Millisecond, func() error {
			if r := smpptest.Dial(t, addr).Bind(pdu.Transmitter, "one", "pw"); r.CommandStatus != data.ESME_ROK {
				return fmt.Errorf("rebind after close: %s", status(r))
			}
			return nil
		})
	})
	t.Run("bind twice on one session", func(t *testing.T) {
		c := bound(t, addr, pdu.Transceiver)
		if r := c.Bind(pdu.Transceiver, "test", "test"); r.CommandStatus != data.ESME_RALYBND {
			t.Fatal(status(r))
		}
	})
}

func TestBindStateMachine(t *testing.T) {
	_, addr := start(t, profile.Profile{})
	t.Run("submit before bind", func(t *testing.T) {
		c := smpptest.Dial(t, addr)
		seq := c.Submit("447700900001", "hi", 1)
		r := c.Expect(data.SUBMIT_SM_RESP, wait)
		if r.GetHeader().CommandStatus != data.ESME_RINVBNDSTS || r.GetSequenceNumber() != seq {
			t.Fatalf("%s seq %d", status(r), r.GetSequenceNumber())
		}
	})
	t.Run("receiver cannot submit", func(t *testing.T) {
		c := bound(t, addr, pdu.Receiver)
		c.Submit("447700900001", "hi", 1)
		if r := c.Expect(data.SUBMIT_SM_RESP, wait); r.GetHeader().CommandStatus != data.ESME_RINVBNDSTS {
			t.Fatal(status(r))
		}
	})
	t.Run("enquire_link echoes the sequence number", func(t *testing.T) {
		c := smpptest.Dial(t, addr)
		seq := c.Send(pdu.NewEnquireLink())
		if r := c.Expect(data.ENQUIRE_LINK_RESP, wait); r.GetSequenceNumber() != seq || r.GetHeader().CommandStatus != 0 {
			t.Fatalf("seq %d status %s", r.GetSequenceNumber(), status(r))
		}
	})
	t.Run("unbind closes", func(t *testing.T) {
		c := bound(t, addr, pdu.Transceiver)
		c.Send(pdu.NewUnbind())
		c.Expect(data.UNBIND_RESP, wait)
		if _, err := c.Read(wait); err == nil {
			t.Fatal("connection still open after unbind")
		}
	})
	t.Run("deliver_sm from an ESME is refused", func(t *testing.T) {
		c := bound(t, addr, pdu.Transceiver)
		c.Send(pdu.NewDeliverSM())
		if r := c.Expect(data.GENERIC_NACK, wait); r.GetHeader().CommandStatus != data.ESME_RINVCMDID {
			t.Fatal(status(r))
		}
	})
}

func TestMalformedInput(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	t.Run("unknown command_id gets generic_nack and the session lives", func(t *testing.T) {
		c := bound(t, addr, pdu.Transceiver)
		c.Write(wire.HeaderOnly(0x00000666, 0, 77))
		r := c.Expect(data.GENERIC_NACK, wait)
		if r.GetHeader().CommandStatus != data.ESME_RINVCMDID || r.GetSequenceNumber() != 77 {
			t.Fatalf("%s seq %d", status(r), r.GetSequenceNumber())
		}
		c.Send(pdu.NewEnquireLink())
		c.Expect(data.ENQUIRE_LINK_RESP, wait)
	})
	t.Run("body shorter than its fields", func(t *testing.T) {
		c := bound(t, addr, pdu.Transceiver)
		b := append(wire.HeaderOnly(data.SUBMIT_SM, 0, 78), 0, 0)
		b[3] = byte(len(b))
		c.Write(b)
		if r := c.Expect(data.GENERIC_NACK, wait); r.GetHeader().CommandStatus != data.ESME_RINVCMDLEN {
			t.Fatal(status(r))
		}
	})
	t.Run("command_length out of range closes after generic_nack", func(t *testing.T) {
		c := bound(t, addr, pdu.Transceiver)
		b := wire.HeaderOnly(data.SUBMIT_SM, 0, 79)
		b[0], b[1], b[2], b[3] = 0x7f, 0xff, 0xff, 0xff
		c.Write(b)
		if r := c.Expect(data.GENERIC_NACK, wait); r.GetHeader().CommandStatus != data.ESME_RINVCMDLEN {
			t.Fatal(status(r))
		}
		if _, err := c.Read(wait); err == nil {
			t.Fatal("still open")
		}
	})
	recs := s.Recorder.Query(recorder.Filter{Command: "0x00000666"})
	if len(recs) != 1 || recs[0].Error == "" {
		t.Fatalf("malformed PDU not recorded with its reason: %+v", recs)
	}
}

func TestSubmitAndReceiptOnTransceiver(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	c := bound(t, addr, pdu.Transceiver)
	seq := c.Submit("447700900123", "Hello receipt", 1)
	resp := c.Expect(data.SUBMIT_SM_RESP, wait).(*pdu.SubmitSMResp)
	if resp.GetSequenceNumber() != seq || resp.CommandStatus != 0 || resp.MessageID == "" {
		t.Fatalf("%+v", resp)
	}
	d := c.Expect(data.DELIVER_SM, wait).(*pdu.DeliverSM)
	c.AckDeliver(d, data.ESME_ROK)
	txt, _ := d.Message.GetMessageData()
	if d.EsmClass != 0x04 || !strings.HasPrefix(string(txt), "id:"+resp.MessageID+" ") || !strings.Contains(string(txt), "stat:DELIVRD") ||
		!strings.HasSuffix(string(txt), "text:Hello receipt") {
		t.Fatalf("receipt %q esm 0x%02x", txt, d.EsmClass)
	}
	if d.SourceAddr.Address() != "447700900123" || d.DestAddr.Address() != "TEST" {
		t.Fatalf("receipt addresses %s -> %s", d.SourceAddr.Address(), d.DestAddr.Address())
	}
	if v := tlvString(d, pdu.TagReceiptedMessageID); v != resp.MessageID {
		t.Fatalf("receipted_message_id %q", v)
	}
	recs := s.Recorder.Query(recorder.Filter{Command: "submit_sm"})
	if len(recs) != 1 || recs[0].Text != "Hello receipt" || recs[0].MessageID != resp.MessageID || recs[0].Status != "ESME_ROK" {
		t.Fatalf("%+v", recs)
	}
	smpptest.Eventually(t, wait, 10*time.Millisecond, func() error {
		if n := s.Stats().Sum("op", "test", "receipt_resp", "ESME_ROK"); n != 1 {
			return fmt.Errorf("receipt_resp counted %d", n)
		}
		return nil
	})
}

// Receipts of a transmitter's submits go to the receiver bind of the account,
// never down the transmitter. Several receipts, so that a transmitter taking
// its share of the queue would show.
func TestReceiptsGoToReceiverNotTransmitter(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	tx := bound(t, addr, pdu.Transmitter)
	rx := bound(t, addr, pdu.Receiver)
	const n = 5
	ids := map[string]bool{}
	for i := 0; i < n; i++ {
		tx.Submit("447700900123", "split binds", 1)
		ids[tx.Expect(data.SUBMIT_SM_RESP, wait).(*pdu.SubmitSMResp).MessageID] = true
	}
	for i := 0; i < n; i++ {
		d := rx.Expect(data.DELIVER_SM, wait).(*pdu.DeliverSM)
		rx.AckDeliver(d, data.ESME_ROK)
		if v := tlvString(d, pdu.TagReceiptedMessageID); !ids[v] {
			t.Fatalf("receipt for %q, not one of %v", v, ids)
		}
		delete(ids, tlvString(d, pdu.TagReceiptedMessageID))
	}
	// Every receipt there will be was made (settle) and reached the receiver:
	// the transmitter must have had none queued for it.
	settle(tx)
	if got := receiptsMade(s, ""); got != n {
		t.Fatalf("%d receipts made, want %d", got, n)
	}
	tx.ExpectQuiet(wait)
}

func TestNoReceiptWithoutRegisteredDelivery(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	c := bound(t, addr, pdu.Transceiver)
	c.Submit("447700900123", "no receipt", 0)
	c.Expect(data.SUBMIT_SM_RESP, wait)
	c.ExpectQuiet(wait)
	if n := receiptsMade(s, ""); n != 0 {
		t.Fatalf("registered_delivery 0: %d receipts made", n)
	}
	c.Submit("447700900123", "failure only", 2)
	c.Expect(data.SUBMIT_SM_RESP, wait)
	c.ExpectQuiet(wait)
	if n := receiptsMade(s, ""); n != 0 {
		t.Fatalf("registered_delivery 2 (failure only) on a delivered message: %d receipts made", n)
	}
}

// With only a transmitter bound the receipt waits in the account's queue (not
// down the transmitter, not dropped) and goes out once a receiver binds.
func TestReceiptHeldUntilReceiverBinds(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	tx := bound(t, addr, pdu.Transmitter)
	tx.Submit("447700900123", "later", 1)
	tx.Expect(data.SUBMIT_SM_RESP, wait)
	tx.ExpectQuiet(wait)
	if n := queued(t, s); n != 1 {
		t.Fatalf("%d receipts queued with no receiver bound, want 1", n)
	}
	rx := bound(t, addr, pdu.Receiver)
	rx.AckDeliver(rx.Expect(data.DELIVER_SM, wait), data.ESME_ROK)
	settle(rx)
	if n := queued(t, s); n != 0 {
		t.Fatalf("%d receipts still queued after the receiver took it", n)
	}
	tx.ExpectQuiet(wait)
}

func TestUnackedReceiptRequeuedAfterDisconnect(t *testing.T) {
	_, addr := start(t, profile.Profile{})
	c := bound(t, addr, pdu.Transceiver)
	c.Submit("447700900123", "keep me", 1)
	c.Expect(data.SUBMIT_SM_RESP, wait)
	first := c.Expect(data.DELIVER_SM, wait).(*pdu.DeliverSM)
	c.Conn.Close() // never answered
	again := bound(t, addr, pdu.Receiver).Expect(data.DELIVER_SM, wait).(*pdu.DeliverSM)
	a, _ := first.Message.GetMessageData()
	b, _ := again.Message.GetMessageData()
	if string(a) != string(b) {
		t.Fatalf("redelivered %q, first %q", b, a)
	}
}

func TestDataSMQueryCancelReplace(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	c := bound(t, addr, pdu.Transceiver)

	ds := pdu.NewDataSM().(*pdu.DataSM)
	_ = ds.DestAddr.SetAddress("447700900123")
	ds.RegisteredDelivery = 0
	c.Send(ds)
	if r := c.Expect(data.DATA_SM_RESP, wait).(*pdu.DataSMResp); r.CommandStatus != 0 || r.MessageID == "" {
		t.Fatalf("data_sm_resp %+v", r)
	}

	// Hold receipts back so the message stays en route for cancel and replace.
	if _, err := s.Faults.Add(receiptDelay(t, "1h")); err != nil {
		t.Fatal(err)
	}
	c.Submit("447700900123", "to cancel", 1)
	id := c.Expect(data.SUBMIT_SM_RESP, wait).(*pdu.SubmitSMResp).MessageID

	q := pdu.NewQuerySM().(*pdu.QuerySM)
	q.MessageID = id
	c.Send(q)
	qr := c.Expect(data.QUERY_SM_RESP, wait).(*pdu.QuerySMResp)
	if qr.CommandStatus != 0 || qr.MessageState != 1 || qr.MessageID != id {
		t.Fatalf("query en route: %+v", qr)
	}

	rp := pdu.NewReplaceSM().(*pdu.ReplaceSM)
	rp.MessageID = id
	_ = rp.Message.SetMessageWithEncoding("replaced", data.GSM7BIT)
	c.Send(rp)
	if r := c.Expect(data.REPLACE_SM_RESP, wait); r.GetHeader().CommandStatus != 0 {
		t.Fatalf("replace: %s", status(r))
	}

	cn := pdu.NewCancelSM().(*pdu.CancelSM)
	cn.MessageID = id
	c.Send(cn)
	if r := c.Expect(data.CANCEL_SM_RESP, wait); r.GetHeader().CommandStatus != 0 {
		t.Fatalf("cancel: %s", status(r))
	}
	c.Send(cn)
	if r := c.Expect(data.CANCEL_SM_RESP, wait); r.GetHeader().CommandStatus != data.ESME_RCANCELFAIL {
		t.Fatalf("second cancel: %s", status(r))
	}
	c.Send(q)
	if qr := c.Expect(data.QUERY_SM_RESP, wait).(*pdu.QuerySMResp); qr.MessageState != 4 || qr.FinalDate == "" {
		t.Fatalf("query after cancel: %+v", qr)
	}
	q.MessageID = "nope"
	c.Send(q)
	if r := c.Expect(data.QUERY_SM_RESP, wait); r.GetHeader().CommandStatus != data.ESME_RQUERYFAIL {
		t.Fatalf("query unknown: %s", status(r))
	}
}

func TestCredentialRotationOverlap(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	op, _ := s.Operator("op")
	if err := op.SetPasswords("test", []string{"test", "new"}); err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"test", "new"} {
		if r := smpptest.Dial(t, addr).Bind(pdu.Transceiver, "test", pw); r.CommandStatus != 0 {
			t.Fatalf("overlap %s: %s", pw, status(r))
		}
	}
	retired := func() (old, current int) {
		for _, si := range s.Sessions() {
			if si.Account != "test" {
				continue
			}
			if si.PasswordRetired {
				old++
			} else {
				current++
			}
		}
		return old, current
	}
	if old, current := retired(); old != 0 || current != 2 {
		t.Fatalf("during the overlap: %d sessions on a retired password, %d on a current one; want 0 and 2", old, current)
	}
	_ = op.SetPasswords("test", []string{"new"})
	if r := smpptest.Dial(t, addr).Bind(pdu.Transceiver, "test", "test"); r.CommandStatus != data.ESME_RINVPASWD {
		t.Fatalf("old password after overlap: %s", status(r))
	}
	// The session bound with the old password stays up, as on a real SMSC,
	// and says so: an ESME that rotated properly has none left.
	if old, current := retired(); old != 1 || current != 1 {
		t.Fatalf("after the overlap: %d sessions on a retired password, %d on a current one; want 1 and 1", old, current)
	}
	if err := op.SetPasswords("test", []string{"waytoolongpw"}); err == nil {
		t.Fatal("accepted a 12-character SMPP password")
	}
}

func TestSMSCInitiatedEnquireLinkAndIdleTimeout(t *testing.T) {
	_, addr := start(t, profile.Profile{EnquireLinkInterval: profile.Duration{D: 50 * time.Millisecond}})
	c := bound(t, addr, pdu.Transceiver)
	el, err := c.Read(wait)
	if err != nil || el.GetHeader().CommandID != data.ENQUIRE_LINK {
		t.Fatalf("want enquire_link from the SMSC: %v %v", el, err)
	}

	_, addr = start(t, profile.Profile{IdleTimeout: profile.Duration{D: 100 * time.Millisecond}})
	c = bound(t, addr, pdu.Transceiver)
	c.Expect(data.UNBIND, wait)
	if _, err := c.Read(wait); err == nil {
		t.Fatal("idle session not closed")
	}
}

func TestSeveralOperatorsOneProcess(t *testing.T) {
	s, _ := start(t, profile.Profile{}, func(c *Config) {
		c.Operators = append(c.Operators, OperatorConfig{ID: "op2", Listen: "127.0.0.1:0",
			Profile:  profile.Profile{MessageID: profile.IDFormat{Format: profile.IDUUID}},
			Accounts: []AccountConfig{{SystemID: "other", Password: "pw"}}})
	})
	op2, _ := s.Operator("op2")
	c := smpptest.Dial(t, op2.Addr())
	if r := c.Bind(pdu.Transceiver, "test", "test"); r.CommandStatus != data.ESME_RINVSYSID {
		t.Fatalf("op2 accepted op's account: %s", status(r))
	}
	if r := c.Bind(pdu.Transceiver, "other", "pw"); r.CommandStatus != 0 {
		t.Fatal(status(r))
	}
	c.Submit("33600000000", "bonjour", 0)
	id := c.Expect(data.SUBMIT_SM_RESP, wait).(*pdu.SubmitSMResp).MessageID
	if len(id) != 36 {
		t.Fatalf("op2 should give uuid ids, got %q", id)
	}
	if n := len(s.Recorder.Query(recorder.Filter{Operator: "op2", Command: "submit_sm"})); n != 1 {
		t.Fatalf("recorded %d for op2", n)
	}
}

func TestConfigValidationNamesOperatorAndField(t *testing.T) {
	cases := map[string]string{
		"operators: []":                                                 "at least one operator",
		"operators: [{id: a, listen: nope}]":                            `operator "a": listen`,
		"operators: [{id: a, listen: ':1'}]":                            `operator "a": accounts`,
		"operators: [{id: a, listen: ':1', accounts: [{systemId: x}]}]": `account "x": password`,
		"operators: [{id: a, listen: ':1', profile: {messageId: {format: octal}}, accounts: [{systemId: x, password: y}]}]": `operator "a": profile.messageId`,
		"operators: [{id: a, listen: ':1', bogus: 1}]": "bogus",
		"meterWindow: weekly":                          "meterWindow",
	}
	for in, want := range cases {
		_, err := ParseConfig([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want it to mention %q", in, err, want)
		}
	}
}

func TestDemoConfigIsValid(t *testing.T) {
	c, err := LoadConfig("../../deploy/smscsim-demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Operators) != 2 || c.Operators[0].Listen != "127.0.0.1:2775" {
		t.Fatalf("%+v", c.Operators)
	}
	d := DemoConfig()
	if err := d.Validate(); err != nil || d.Operators[0].Listen != "127.0.0.1:2775" || d.Operators[0].Accounts[0].Password != "test" {
		t.Fatalf("built-in demo config: %v %+v", err, d)
	}
}

// A full receipt backlog makes the SMSC refuse new submits that want a receipt
// (ESME_RMSGQFUL) instead of accepting them and dropping their receipts.
func TestReceiptBacklogRefusesInsteadOfDropping(t *testing.T) {
	s, addr := start(t, profile.Profile{}, func(c *Config) { c.Operators[0].ReceiptQueue = 10 })
	tx := bound(t, addr, pdu.Transmitter)
	got := submitMany(t, tx, 12, 1)
	if got["ESME_ROK"] != 9 || got["ESME_RMSGQFUL"] != 3 {
		t.Fatalf("answers %v: want 9 accepted (90%% of the queue) then ESME_RMSGQFUL", got)
	}
	if got := submitMany(t, tx, 1, 0); got["ESME_ROK"] != 1 {
		t.Fatalf("a submit without receipt is still accepted: %v", got)
	}
	settle(tx)
	if n, q := receiptsMade(s, ""), queued(t, s); n != 9 || q != 9 {
		t.Fatalf("%d receipts made and %d queued, want 9 and 9", n, q)
	}
	rx := bound(t, addr, pdu.Receiver)
	for i := 0; i < 9; i++ {
		rx.AckDeliver(rx.Expect(data.DELIVER_SM, wait), 0)
	}
	rx.ExpectQuiet(wait)
	if q := queued(t, s); q != 0 {
		t.Fatalf("%d receipts left in the queue", q)
	}
	if n := s.Stats().Sum("op", "", "deliver_sm", "queue_full"); n != 0 {
		t.Fatalf("%d receipts dropped", n)
	}
}
