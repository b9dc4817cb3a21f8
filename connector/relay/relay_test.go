package relay

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// The steps, each alone: select (the receipt rule), build (the event),
// delete (up to the first failure).

func TestReportedFollowsTheOperatorsRule(t *testing.T) {
	for _, c := range []struct {
		rule        string
		part, count int
		want        bool
	}{
		{"each", 2, 3, true}, {"", 2, 3, true}, {"first", 1, 3, true}, {"first", 2, 3, false},
		{"last", 3, 3, true}, {"last", 1, 3, false}, {"last", 1, 1, true}, {"first", 1, 1, true},
	} {
		if got := reported(c.rule, c.part, c.count); got != c.want {
			t.Errorf("reported(%q, %d of %d) = %v", c.rule, c.part, c.count, got)
		}
	}
}

func TestSelectOneEventPerPartTheRuleAndShadowLeftovers(t *testing.T) {
	r := New(nil, nil, nil, nil, Options{ReceiptParts: func(op string) string {
		return map[string]string{"mno-last": "last"}[op]
	}})
	evs := []store.Event{
		{ID: 1, Kind: store.EventReceipt, OperatorID: "mno-last", MessageID: "m", Part: 1, PartCount: 2}, // not reported: dropped
		{ID: 2, Kind: store.EventOutcome, OperatorID: "mno-last", MessageID: "m", Part: 1, PartCount: 2},
		{ID: 3, Kind: store.EventReceipt, OperatorID: "mno-last", MessageID: "m", Part: 2, PartCount: 2},
		{ID: 4, Kind: store.EventOutcome, OperatorID: "mno-a", MessageID: "n", Part: 1, PartCount: 1},
		{ID: 5, Kind: store.EventReceipt, OperatorID: "mno-a", MessageID: "n", Part: 1, PartCount: 1}, // after 4: next pass
		{ID: 6, Kind: store.EventOutcome, OperatorID: "mno-a", MessageID: "s", Part: 1, PartCount: 1, Shadow: true},
	}
	p := r.selectEvents(evs)
	if !slices.Equal(p.publish, []int{1, 2, 3}) || !slices.Equal(p.drop, []int{0, 5}) || p.shadowDropped != 1 {
		t.Fatalf("%+v", p)
	}
	shadow := New(nil, nil, nil, nil, Options{Shadow: true})
	if p := shadow.selectEvents(evs[5:]); !slices.Equal(p.publish, []int{0}) || len(p.drop) != 0 {
		t.Fatalf("a shadow relay relays the shadow events: %+v", p)
	}
}

func TestMessageIsTheEventConsumersRead(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.FixedZone("X", 3600))
	o := message(store.Event{Kind: store.EventOutcome, OperatorID: "mno-a", MessageID: "m", Part: 2, PartCount: 3,
		Status: "rejected", CommandStatus: 0x0B, Detail: "ESME_RINVDSTADR", At: at})
	b, _ := json.Marshal(o.Outcome)
	want := `{"messageId":"m","operatorId":"mno-a","partNumber":2,"partCount":3,"outcome":"rejected","commandStatus":11,"status":"ESME_RINVDSTADR","at":"2026-12-07T09:00:00Z"}`
	if string(b) != want {
		t.Errorf("outcome\n%s\nwant\n%s", b, want)
	}
	if o.ID() != "out:mno-a:m:2:rejected" {
		t.Errorf("outcome id %s", o.ID())
	}
	r := message(store.Event{Kind: store.EventReceipt, OperatorID: "mno-a", MessageID: "m", Part: 1, PartCount: 1,
		Status: "DELIVERED", SMSCMessageID: "42", Stat: "DELIVRD", Err: "000", PartsReceived: 1, At: at})
	b, _ = json.Marshal(r.Receipt)
	if s := string(b); !strings.Contains(s, `"smscMessageId":"42"`) || strings.Contains(s, "submittedAt") || strings.Contains(s, "doneAt") {
		t.Errorf("receipt %s: the SMSC id, and no zero times", s)
	}
	if r.ID() != "dlr:mno-a:m:1:DELIVERED" {
		t.Errorf("receipt id %s: ours, not the SMSC's", r.ID())
	}
}

// Every event JetStream stored is deleted, and every one dropped; a failed
// one stays (and its part's later events, which the select step held back).
func TestDoneIsWhatWasStoredOrDropped(t *testing.T) {
	evs := []store.Event{{ID: 10}, {ID: 11}, {ID: 12}, {ID: 13}, {ID: 14}}
	fail := errors.New("no stream")
	p := plan{publish: []int{0, 2, 3}, drop: []int{1}}
	done, err := p.done(evs, []error{nil, fail, nil})
	if !slices.Equal(done, []int64{10, 13, 11}) || !errors.Is(err, fail) {
		t.Fatalf("done %v, err %v", done, err)
	}
	done, err = p.done(evs, []error{nil, nil, nil})
	if len(done) != 4 || err != nil {
		t.Fatalf("done %v, err %v", done, err)
	}
}

func TestStatusIsStalledWhenTheOldestEventIsTooOld(t *testing.T) {
	r := New(nil, nil, metrics.New(), nil, Options{StallAfter: 30 * time.Second})
	r.observe(store.QueueStats{Pending: 7, Lag: 10 * time.Second})
	if s := r.Status(); s.Stalled || s.Pending != 7 || s.Lag != 10*time.Second {
		t.Fatalf("%+v", s)
	}
	r.observe(store.QueueStats{Pending: 9, Lag: 31 * time.Second})
	if s := r.Status(); !s.Stalled {
		t.Fatalf("%+v: want stalled", s)
	}
	r.observe(store.QueueStats{})
	if s := r.Status(); s.Stalled || s.Lag != 0 {
		t.Fatalf("%+v: an empty outbox", s)
	}
}
