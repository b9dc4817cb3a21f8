package outbound

import (
	"context"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/dispatch"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// Single flight per part. JetStream delivers a command again when its ack
// wait passes without a heartbeat: the heartbeats of a delivery still at
// work may not have reached NATS (NATS restarted, a partition). Two
// deliveries of one command working at once would both submit its pending
// parts (afterCrash resend), or the second would report unknown a part the
// first is getting accepted (afterCrash unknown). Two guards keep one
// handler per part:
//
//   - In this process, flights: a delivery of a message another delivery is
//     working on waits (its own heartbeats keep it) until that one is done,
//     then goes on from the stored states: the parts done are skipped (their
//     events are in the outbox), not sent; a part still pending is one the first delivery handed
//     back (sent now) or could not record (judged by the policy).
//   - Across replicas, the settle: only the operator's owner consumes (the
//     lease), and an old owner stops starting submits when it sees it lost
//     the lease (lease.PreviousOwnerLag), but it waits for the answers to
//     what it sent up to its binds' response timeout. Its commands may come
//     back here meanwhile if its heartbeats cannot reach NATS either. So for
//     Operator.PreviousOwnerSettle after Run starts, a part found pending
//     that this delivery neither created nor took back is not judged yet:
//     the command is handed back (the parts this delivery holds marked so)
//     and comes back once the settle is over, when the old owner's answer is
//     stored or will not come from a live process. Nothing is written for it
//     on the first delivery's path.

// flights are the messages being worked on in this process, by message id
// (a Consumer serves one operator). A term's consumer returns only once its
// handlers have, so two consumers of one operator never overlap in a process.
type flights struct {
	mu sync.Mutex
	on map[string]chan struct{} // closed when the delivery holding it is done
}

// claim waits until no other delivery works on the message, then holds it
// until release is called; it fails only when ctx ends first.
func (f *flights) claim(ctx context.Context, messageID string) (release func(), waited bool, err error) {
	for {
		f.mu.Lock()
		if f.on == nil {
			f.on = map[string]chan struct{}{}
		}
		busy, ok := f.on[messageID]
		if !ok {
			done := make(chan struct{})
			f.on[messageID] = done
			f.mu.Unlock()
			return func() {
				f.mu.Lock()
				delete(f.on, messageID)
				f.mu.Unlock()
				close(done)
			}, waited, nil
		}
		f.mu.Unlock()
		waited = true
		select {
		case <-busy:
			// Another waiter may claim it first: look again.
		case <-ctx.Done():
			return nil, waited, ctx.Err()
		}
	}
}

// fly holds the command's message for this delivery, after waiting for
// another delivery of it in this process to be done. ok false: the consumer
// stopped meanwhile and the command was handed back.
func (w *Consumer) fly(ctx context.Context, msg jetstream.Msg, cmd dispatch.Command) (release func(), ok bool) {
	release, waited, err := w.flights.claim(ctx, cmd.MessageID)
	if err != nil {
		w.retry(ctx, msg, cmd.MessageID, err)
		return nil, false
	}
	if waited {
		w.log.Info("a delivery of the command was in flight here: went on once it was done", "message_id", cmd.MessageID)
	}
	return release, true
}

// settling returns how long the parts another process left pending may
// still be on their way there (0: judge them now), when some are found.
func (w *Consumer) settling(states []store.PartState, taken map[int]bool) time.Duration {
	if w.op.PreviousOwnerSettle <= 0 {
		return 0
	}
	left := time.Until(w.started.Add(w.op.PreviousOwnerSettle))
	if left <= 0 {
		return 0
	}
	for _, st := range states {
		if st.Status == store.Pending && !st.Created && !taken[st.Part] {
			return left
		}
	}
	return 0
}

// postpone hands the command back until the previous owner's settle is
// over, the parts this delivery holds marked handed back (the others stay
// as they are, to be judged then).
func (w *Consumer) postpone(ctx context.Context, msg jetstream.Msg, cmd dispatch.Command, states []store.PartState, taken map[int]bool, wait time.Duration) {
	var back []int
	for _, st := range states {
		if st.Status == store.Pending && (st.Created || taken[st.Part]) {
			back = append(back, st.Part)
		}
	}
	if err := w.d.Store.HandBack(context.WithoutCancel(ctx), w.op.ID, cmd.MessageID, back); err != nil {
		w.log.Warn("handing back unsent parts failed; the next delivery reports them unknown", "message_id", cmd.MessageID, "err", err)
	}
	w.d.Metrics.Commands.WithLabelValues(w.op.ID, "retry").Inc()
	w.log.Info("parts left pending by the previous owner may still be on their way there: judged once its answers are in",
		"message_id", cmd.MessageID, "retry_in", wait)
	if err := msg.NakWithDelay(wait + 100*time.Millisecond); err != nil {
		w.log.Warn("nak failed; the command comes back after the ack wait", "message_id", cmd.MessageID, "err", err)
	}
}
