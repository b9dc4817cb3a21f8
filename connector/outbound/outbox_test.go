package outbound_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/internal/pipelinetest"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/internal/testutil"
)

// An outcome that cannot be published when it is stored (the events stream
// is gone: NATS refuses it) is not lost with the command's ack: it waits in
// the outbox and is published, once, when the stream is back.
func TestOutcomeOfAnAckedCommandIsPublishedWhenNATSIsBack(t *testing.T) {
	r := newRig(t, pipelinetest.Options{})
	ctx := context.Background()
	if err := r.JS.DeleteStream(ctx, natscontract.EventsStream); err != nil {
		t.Fatal(err)
	}
	r.WaitHandled(t, r.Publish(t, "nats-down-1", "outcome while NATS refuses"))
	testutil.WaitFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if s := r.Relay.Status(); s.LastError == "" {
			return fmt.Errorf("the relay has not failed to publish yet")
		}
		return nil
	})
	if err := natscontract.EnsureStreams(ctx, r.JS, natscontract.DefaultNames()); err != nil {
		t.Fatal(err)
	}
	out := r.WaitEvents(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor("mno-a"), 1)
	if out[0]["messageId"] != "nats-down-1" || out[0]["outcome"] != "accepted" {
		t.Fatalf("%v", out[0])
	}
}
