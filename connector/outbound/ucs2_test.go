package outbound_test

import (
	"strings"
	"testing"

	"github.com/smpp-connector/smpp-connector/connector/dispatch"
	"github.com/smpp-connector/smpp-connector/connector/internal/pipelinetest"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/outbound"
)

// An operator with encoding.ucs2: false: a text that needs UCS2 is
// dead-lettered with the reason and acked (never redelivered, never sent as
// UCS2); a text in its alphabet after it goes out.
func TestTextNeedingUCS2IsDeadLetteredWhenTheOperatorHasNone(t *testing.T) {
	r := newRig(t, pipelinetest.Options{Outbound: outbound.Operator{Profile: dispatch.Profile{NoUCS2: true}}})
	seq := r.Publish(t, "cjk-1", "Hi 你好")
	dl := r.WaitEvents(t, natscontract.EventsStream, natscontract.DeadLetterSubjectFor(pipelinetest.Operator), 1)[0]
	reason, _ := dl["reason"].(string)
	if dl["field"] != "text" || !strings.Contains(reason, "text needs UCS2") ||
		!strings.Contains(reason, "operator mno-a has encoding.ucs2: false") {
		t.Fatalf("dead letter %v: want field text and the reason", dl)
	}
	info := r.WaitHandled(t, seq) // acked: the ack floor covers it
	if info.NumAckPending != 0 || info.NumRedelivered != 0 {
		t.Fatalf("consumer: %d awaiting ack, %d redelivered; want the dead-lettered command acked once", info.NumAckPending, info.NumRedelivered)
	}
	if n := r.Submits(); n != 0 {
		t.Fatalf("%d submit_sm for a text the operator cannot take", n)
	}
	r.WaitHandled(t, r.Publish(t, "gsm-1", "Hello"))
	if n := r.Submits(); n != 1 {
		t.Fatalf("%d submit_sm, want the GSM 7-bit text's", n)
	}
}
