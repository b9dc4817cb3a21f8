package outbound

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/dispatch"
)

// What a command holds while Handle works on it: its delivery, kept alive,
// and between its prepare and its last answer a sending token.

// keepAlive keeps JetStream from redelivering the command to another
// goroutine while this one waits for the limiter, a bind or a response: a
// second delivery would submit the same pending part twice. Call the
// function it returns when done with the command.
func (w *Consumer) keepAlive(msg jetstream.Msg) (stop func()) {
	beat := make(chan struct{})
	go func() {
		t := time.NewTicker(w.op.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-beat:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	return func() { close(beat) }
}

// startSending waits for a sending token (Operator.Sending) before the
// command's prepare; the function it returns gives the token back, once
// (called when the last part is answered, and deferred). A stop while it
// waits hands the command back to JetStream, nothing stored.
func (w *Consumer) startSending(ctx context.Context, msg jetstream.Msg, cmd dispatch.Command) (answered func(), ok bool) {
	select {
	case w.sending <- struct{}{}:
	case <-ctx.Done():
		w.retry(ctx, msg, cmd.MessageID, fmt.Errorf("waiting to send: %w", context.Cause(ctx)))
		return nil, false
	}
	var once sync.Once
	return func() { once.Do(func() { <-w.sending }) }, true
}
