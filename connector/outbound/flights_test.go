package outbound

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A second claim of a message waits for the first to be released; of two
// waiters one gets it, then the other; a wait ends with its context.
func TestFlightsOneHolderPerMessage(t *testing.T) {
	var f flights
	ctx := context.Background()
	release, waited, err := f.claim(ctx, "m")
	if err != nil || waited {
		t.Fatalf("first claim: waited %v, %v", waited, err)
	}
	// Another message is not held up.
	other, _, err := f.claim(ctx, "n")
	if err != nil {
		t.Fatal(err)
	}
	other()

	got := make(chan func(), 2)
	for range 2 {
		go func() {
			r, waited, err := f.claim(ctx, "m")
			if err != nil || !waited {
				t.Errorf("waiter: waited %v, %v", waited, err)
			}
			got <- r
		}()
	}
	cctx, cancel := context.WithCancel(ctx)
	gave := make(chan error, 1)
	go func() { _, _, err := f.claim(cctx, "m"); gave <- err }()
	cancel()
	if err := <-gave; !errors.Is(err, context.Canceled) {
		t.Fatalf("a wait whose context ended: %v", err)
	}
	select {
	case <-got:
		t.Fatal("claimed while held")
	case <-time.After(50 * time.Millisecond):
	}
	release()
	second := <-got
	select {
	case <-got:
		t.Fatal("two holders at once")
	case <-time.After(50 * time.Millisecond):
	}
	second()
	(<-got)()
	if len(f.on) != 0 {
		t.Fatalf("%d messages still held", len(f.on))
	}
}
