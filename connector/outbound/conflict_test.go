package outbound_test

import (
	"strings"
	"testing"

	"github.com/smpp-connector/smpp-connector/connector/dispatch"
	"github.com/smpp-connector/smpp-connector/connector/internal/pipelinetest"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/outbound"
)

// A second command with the same messageId but another text (same operator,
// same part count) is a conflict: it goes to the dead letter naming
// messageId, and nothing more is submitted. The first command sent again is
// a redelivery: its stored outcome is published again, nothing resubmitted.
func TestSameMessageIDWithOtherContentIsDeadLettered(t *testing.T) {
	r := newRig(t, pipelinetest.Options{})
	outcomes := natscontract.OutcomeSubjectFor("mno-a")
	r.Publish(t, "c-1", "the first text")
	r.WaitEvents(t, natscontract.EventsStream, outcomes, 1)

	r.Publish(t, "c-1", "another text")
	dl := r.WaitEvents(t, natscontract.EventsStream, natscontract.DeadLetterSubjectFor("mno-a"), 1)[0]
	if reason, _ := dl["reason"].(string); dl["field"] != "messageId" || !strings.Contains(reason, "content differs") {
		t.Fatalf("dead letter %v: want field messageId, a reason saying the content differs", dl)
	}
	if cmd, _ := dl["command"].(string); !strings.Contains(cmd, "another text") {
		t.Fatalf("dead letter carries %q, not the conflicting command", cmd)
	}

	// The redelivery's outcome is published again but the stream's
	// de-duplication drops it: the consumer acking it is what tells that it
	// was handled.
	r.WaitHandled(t, r.Publish(t, "c-1", "the first text"))
	if n := r.Submits(); n != 1 {
		t.Fatalf("%d submit_sm, want the first command's only", n)
	}
	if n := len(r.Events(t, natscontract.EventsStream, natscontract.DeadLetterSubjectFor("mno-a"))); n != 1 {
		t.Fatalf("%d dead letters, want the conflict's only", n)
	}
}

// The operator's maxParts reaches Build through the consumer's profile.
func TestTextOverTheOperatorsMaxPartsIsDeadLettered(t *testing.T) {
	r := newRig(t, pipelinetest.Options{Outbound: outbound.Operator{Profile: dispatch.Profile{MaxParts: 2}}})
	seq := r.Publish(t, "long-1", strings.Repeat("three parts ", 30)) // 360 GSM 7-bit characters
	dl := r.WaitEvents(t, natscontract.EventsStream, natscontract.DeadLetterSubjectFor("mno-a"), 1)[0]
	if reason, _ := dl["reason"].(string); dl["field"] != "text" || !strings.Contains(reason, "3 parts") || !strings.Contains(reason, "maxParts 2") {
		t.Fatalf("dead letter %v", dl)
	}
	r.WaitHandled(t, seq)
	if n := r.Submits(); n != 0 {
		t.Fatalf("%d submit_sm for a text over the cap", n)
	}
}
