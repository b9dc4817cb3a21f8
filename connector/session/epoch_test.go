package session

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// The pool's id epoch begins at its first bind and again each time a bind
// comes up after all were down (the SMSC may have restarted); a bind that
// drops while another stays up begins none. Every response on the epoch's
// sessions comes after its start.
func TestPoolEpochBeginsWhenABindComesUpAfterAllWereDown(t *testing.T) {
	sim, addr := startSim(t, profile.Profile{})
	p := NewPool(fastConfig(addr), 2, good().get)
	if !p.Epoch().IsZero() {
		t.Fatalf("epoch before any bind: %s", p.Epoch())
	}
	started := time.Now()
	p.Start()
	t.Cleanup(p.Close)
	for _, b := range p.Binds() {
		waitState(t, b, StateBound)
	}
	e1 := p.Epoch()
	if e1.Before(started) {
		t.Fatalf("first epoch %s, before the pool started (%s)", e1, started)
	}
	if r, err := p.Submit(context.Background(), newSubmit(t, "first")); err != nil || !r.OK() {
		t.Fatalf("%+v %v", r, err)
	}

	// One bind goes, the other stays bound: the same SMSC, the same ids.
	p.Binds()[1].Close()
	waitState(t, p.Binds()[1], StateClosed)
	if e := p.Epoch(); !e.Equal(e1) {
		t.Fatalf("epoch moved to %s with a bind still up", e)
	}

	// Every bind drops: the first one back begins a new epoch.
	cut := time.Now()
	b := p.Binds()[0]
	sim.Disconnect(faults.Match{})
	smpptest.Eventually(t, 5*time.Second, 10*time.Millisecond, func() error {
		if n := b.Stats.Binds.Load(); n != 2 {
			return fmt.Errorf("%d binds", n)
		}
		return nil
	})
	waitState(t, b, StateBound)
	if e := p.Epoch(); !e.After(cut) {
		t.Fatalf("epoch %s after every bind dropped at %s, want later", e, cut)
	}
}
