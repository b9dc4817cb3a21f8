package outbound_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/internal/pipelinetest"
	"github.com/smpp-connector/smpp-connector/connector/outbound"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
)

// latency has the simulator answer every submit_sm after d.
func latency(t *testing.T, r *pipelinetest.Rig, d time.Duration) {
	t.Helper()
	params := fmt.Sprintf(`{"distribution":{"kind":"fixed","value":%q}}`, d.String())
	if _, err := r.Sim.Faults.Add(faults.Spec{Type: "latency", Params: []byte(params), Match: faults.Match{Command: "submit_sm"}}); err != nil {
		t.Fatal(err)
	}
}

// A slow SMSC (an answer taking more than twice the ack wait, still within
// the response timeout) never lets the command be redelivered while its
// submit waits: the heartbeats keep the delivery alive.
func TestSlowAnswerKeepsTheDeliveryAlive(t *testing.T) {
	r := newRig(t, pipelinetest.Options{Outbound: outbound.Operator{AckWait: time.Second}})
	latency(t, r, 2500*time.Millisecond)
	seq := r.Publish(t, "slow-answer", "answered late")
	// Barrier: the command is acked, after the answer came.
	info := r.WaitHandled(t, seq)
	if info.Delivered.Consumer != 1 || info.NumRedelivered != 0 {
		t.Fatalf("%d deliveries (%d redelivered) of one command", info.Delivered.Consumer, info.NumRedelivered)
	}
	if n := r.Submits(); n != 1 {
		t.Fatalf("%d submit_sm for one part", n)
	}
}
