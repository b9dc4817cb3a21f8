package events

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

// startJS runs a real (embedded) nats-server with the connector's streams.
func startJS(t *testing.T) jetstream.JetStream {
	t.Helper()
	_, js := testenv.ContractJetStream(t)
	return js
}

func lastOn(t *testing.T, js jetstream.JetStream, stream, subject string) (jetstream.RawStreamMsg, uint64) {
	t.Helper()
	s, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(context.Background(), subject)
	if err != nil {
		t.Fatalf("nothing on %s: %v", subject, err)
	}
	info, _ := s.Info(context.Background())
	return *m, info.State.Msgs
}

func TestReceiptsAreDeduplicated(t *testing.T) {
	js := startJS(t)
	p := New(js, natscontract.DefaultNames(), false, nil)
	r := Receipt{MessageID: "m1", OperatorID: "mno-a", SMSCMessageID: "42", Status: "DELIVERED", Stat: "DELIVRD", Err: "000", PartCount: 1, ReceivedAt: time.Now()}
	for i := 0; i < 3; i++ { // a relay that died after publishing, before deleting
		if errs := p.PublishAll(context.Background(), []Message{{Receipt: &r}}); errs[0] != nil {
			t.Fatal(errs[0])
		}
	}
	m, n := lastOn(t, js, natscontract.ReceiptStream, natscontract.ReceiptSubject)
	if n != 1 {
		t.Fatalf("%d receipt events, want 1", n)
	}
	var got Receipt
	if err := json.Unmarshal(m.Data, &got); err != nil || got.MessageID != "m1" || got.Status != "DELIVERED" {
		t.Fatalf("%s %v", m.Data, err)
	}
}

// An SMSC restarted and reused its message ids: the receipts of two
// messages carry the same SMSC id and status. Both are events (the dedupe
// id is the message's, not the SMSC's).
func TestReceiptsOfAReusedSMSCIDAreBothPublished(t *testing.T) {
	js := startJS(t)
	p := New(js, natscontract.DefaultNames(), false, nil)
	before := Receipt{MessageID: "m1", OperatorID: "mno-a", SMSCMessageID: "42", Status: "DELIVERED", Stat: "DELIVRD", PartCount: 1, ReceivedAt: time.Now()}
	after := before
	after.MessageID = "m2"
	for _, err := range p.PublishAll(context.Background(), []Message{{Receipt: &before}, {Receipt: &after}}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	m, n := lastOn(t, js, natscontract.ReceiptStream, natscontract.ReceiptSubject)
	if n != 2 || !bytes.Contains(m.Data, []byte(`"messageId":"m2"`)) {
		t.Fatalf("%d receipt events, the last %s; want 2, the last for m2", n, m.Data)
	}
}

func TestOutcomesAndDeadLetters(t *testing.T) {
	js := startJS(t)
	p := New(js, natscontract.DefaultNames(), false, nil)
	o := Outcome{MessageID: "m1", OperatorID: "mno-a", PartNumber: 1, PartCount: 1, Outcome: OutcomeRejected, CommandStatus: 0x0B, Status: "ESME_RINVDSTADR"}
	if errs := p.PublishAll(context.Background(), []Message{{Outcome: &o}}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	m, _ := lastOn(t, js, natscontract.EventsStream, natscontract.OutcomeSubjectFor("mno-a"))
	if !bytes.Contains(m.Data, []byte(`"outcome":"rejected"`)) {
		t.Fatalf("%s", m.Data)
	}
	if err := p.DeadLetter(context.Background(), DeadLetter{OperatorID: "mno-a", Reason: "not JSON", Command: "{"}); err != nil {
		t.Fatal(err)
	}
	m, _ = lastOn(t, js, natscontract.EventsStream, natscontract.DeadLetterSubjectFor("mno-a"))
	if !bytes.Contains(m.Data, []byte(`"reason":"not JSON"`)) {
		t.Fatalf("%s", m.Data)
	}
}

func TestShadowModePublishesNoReceiptOrOutcome(t *testing.T) {
	js := startJS(t)
	var cmp bytes.Buffer
	p := New(js, natscontract.DefaultNames(), true, &cmp)
	for _, err := range p.PublishAll(context.Background(), []Message{
		{Receipt: &Receipt{MessageID: "m1", OperatorID: "mno-a", SMSCMessageID: "1", Stat: "DELIVRD"}},
		{Outcome: &Outcome{MessageID: "m1", OperatorID: "mno-a", PartNumber: 1, Outcome: OutcomeAccepted}},
	}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	for stream, subject := range map[string]string{natscontract.ReceiptStream: natscontract.ReceiptSubject, natscontract.EventsStream: natscontract.OutcomeSubjectFor("mno-a")} {
		s, _ := js.Stream(context.Background(), stream)
		if _, err := s.GetLastMsgForSubject(context.Background(), subject); err == nil {
			t.Fatalf("shadow mode published on %s", subject)
		}
	}
	lines := bytes.Split(bytes.TrimSpace(cmp.Bytes()), []byte("\n"))
	if len(lines) != 2 || !bytes.Contains(lines[0], []byte(`"kind":"receipt"`)) || !bytes.Contains(lines[1], []byte(`"kind":"outcome"`)) {
		t.Fatalf("comparison log:\n%s", cmp.String())
	}
}

// A command that is not valid UTF-8 keeps its exact bytes in the dead
// letter (base64), beside a readable copy.
func TestDeadLetterKeepsTheBytesOfAnInvalidCommand(t *testing.T) {
	data := []byte("{\"text\":\"caf\xe9\"}")
	var d DeadLetter
	d.CommandText(data)
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back DeadLetter
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(back.CommandBase64)
	if err != nil || !bytes.Equal(raw, data) || !strings.Contains(back.Command, "caf\uFFFD") {
		t.Fatalf("%s: the bytes are not kept", b)
	}
	d = DeadLetter{}
	d.CommandText([]byte(`{"text":"café"}`))
	if d.CommandBase64 != "" || d.Command != `{"text":"café"}` {
		t.Fatalf("%+v: a valid command is kept as text only", d)
	}
}

// A receipt's intermediate states may alternate (ENROUTE, ACCEPTED,
// ENROUTE): each is an event, so their ids differ; a part's final receipt
// has one id whenever it is published.
func TestReceiptIDs(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	id := func(status dlr.Status, received time.Time) string {
		return Message{Receipt: &Receipt{OperatorID: "mno-a", MessageID: "m", PartNumber: 1, Status: status, ReceivedAt: received}}.ID()
	}
	if a, b := id(dlr.Enroute, at), id(dlr.Enroute, at.Add(time.Second)); a == b {
		t.Fatalf("two ENROUTE receipts share the id %s", a)
	}
	if a, b := id(dlr.Delivered, at), id(dlr.Delivered, at.Add(time.Second)); a != b || a != "dlr:mno-a:m:1:DELIVERED" {
		t.Fatalf("final receipt ids %s and %s", a, b)
	}
}
