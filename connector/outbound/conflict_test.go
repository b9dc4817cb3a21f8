package outbound

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/dispatch"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// A second command with the same messageId but another text (same operator,
// same part count) is a conflict: it goes to the dead letter naming
// messageId, and nothing more is submitted. The first command sent again is
// a redelivery: its stored outcome is published again, nothing resubmitted.
func TestSameMessageIDWithOtherContentIsDeadLettered(t *testing.T) {
	r := newRig(t, rigOpts{})
	outcomes := natscontract.OutcomeSubjectFor("mno-a")
	r.publish(t, "c-1", "the first text")
	r.waitEvents(t, natscontract.EventsStream, outcomes, 1)

	r.publish(t, "c-1", "another text")
	dl := r.waitEvents(t, natscontract.EventsStream, natscontract.DeadLetterSubjectFor("mno-a"), 1)[0]
	if reason, _ := dl["reason"].(string); dl["field"] != "messageId" || !strings.Contains(reason, "content differs") {
		t.Fatalf("dead letter %v: want field messageId, a reason saying the content differs", dl)
	}
	if cmd, _ := dl["command"].(string); !strings.Contains(cmd, "another text") {
		t.Fatalf("dead letter carries %q, not the conflicting command", cmd)
	}

	r.publish(t, "c-1", "the first text")
	// Wait until the consumer has had all three commands and acked each
	// (the redelivery's outcome is published again, but the stream's
	// de-duplication drops it: the consumer's state is what tells).
	names := natscontract.DefaultNames()
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		c, err := r.js.Consumer(context.Background(), names.DispatchStream, natscontract.ConsumerName("mno-a"))
		if err != nil {
			return err
		}
		ci, err := c.Info(context.Background())
		if err != nil {
			return err
		}
		if ci.Delivered.Stream < 3 || ci.NumAckPending != 0 || ci.NumPending != 0 {
			return fmt.Errorf("consumer delivered up to %d, %d ack pending, %d pending", ci.Delivered.Stream, ci.NumAckPending, ci.NumPending)
		}
		return nil
	})
	if n := r.sim.Stats().Sum("mno-a", "acme", "submit_sm", ""); n != 1 {
		t.Fatalf("%d submit_sm, want the first command's only", n)
	}
	if n := len(r.events(t, natscontract.EventsStream, natscontract.DeadLetterSubjectFor("mno-a"))); n != 1 {
		t.Fatalf("%d dead letters, want the conflict's only", n)
	}
}

// The operator's maxParts reaches Build through the consumer's profile.
func TestTextOverTheOperatorsMaxPartsIsDeadLettered(t *testing.T) {
	r := newRig(t, rigOpts{op: Operator{Profile: dispatch.Profile{MaxParts: 2}}})
	r.publish(t, "long-1", strings.Repeat("three parts ", 30)) // 360 GSM 7-bit characters
	dl := r.waitEvents(t, natscontract.EventsStream, natscontract.DeadLetterSubjectFor("mno-a"), 1)[0]
	if reason, _ := dl["reason"].(string); dl["field"] != "text" || !strings.Contains(reason, "3 parts") || !strings.Contains(reason, "maxParts 2") {
		t.Fatalf("dead letter %v", dl)
	}
	if n := r.sim.Stats().Sum("mno-a", "acme", "submit_sm", ""); n != 0 {
		t.Fatalf("%d submit_sm for a text over the cap", n)
	}
}
