package outbound_test

import (
	"context"
	"strings"
	"testing"

	"github.com/smpp-connector/smpp-connector/connector/internal/pipelinetest"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/outbound"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// A part a dead process left pending (its row prepared, no outcome, not
// handed back: its submit_sm may have reached the SMSC) follows the
// operator's afterCrash policy when its command comes back; a part handed
// back unsent is always submitted. The dead process is played by preparing
// the row before the command is published.
func TestPartsLeftByADeadProcessFollowThePolicy(t *testing.T) {
	for _, c := range []struct {
		name       string
		policy     outbound.AfterCrash
		handedBack bool
		outcome    string
		submits    uint64
	}{
		{"default: reported unknown, not sent again", "", false, "unknown", 0},
		{"resend: sent again", outbound.AfterCrashResend, false, "accepted", 1},
		{"handed back unsent: sent", "", true, "accepted", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, pipelinetest.Options{Outbound: outbound.Operator{AfterCrash: c.policy}})
			ctx := context.Background()
			// No fingerprint: the row is not checked against the command's content.
			if _, err := r.Store.PrepareParts(ctx, store.MessageRef{OperatorID: pipelinetest.Operator, MessageID: "left-1", PartCount: 1},
				[]store.PartRef{{Number: 1}}); err != nil {
				t.Fatal(err)
			}
			if c.handedBack {
				if err := r.Store.HandBack(ctx, pipelinetest.Operator, "left-1", []int{1}); err != nil {
					t.Fatal(err)
				}
			}
			seq := r.Publish(t, "left-1", "maybe sent before the crash")
			out := r.WaitEvents(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor(pipelinetest.Operator), 1)[0]
			if out["outcome"] != c.outcome {
				t.Fatalf("outcome %v, want %s", out, c.outcome)
			}
			if c.outcome == "unknown" && !strings.HasPrefix(out["status"].(string), "after_crash") {
				t.Fatalf("unknown without its reason: %v", out)
			}
			// Barrier: the command is acked; a submit would have come before.
			r.WaitHandled(t, seq)
			if n := r.Submits(); n != c.submits {
				t.Fatalf("%d submit_sm, want %d", n, c.submits)
			}
		})
	}
}
