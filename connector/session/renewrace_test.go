package session

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

// A submit that comes while a break-before-make renewal has just marked the
// bind closing waits for the new session and is sent there. The bind was
// once marked closing in one critical section and taken out of the bound
// state in the next: a submit in between was refused "not sent: session
// closed" by a bind still bound with the same generation, which the pool
// took for final (20 submits failed in TestRotationWithABindLimitOfOne
// under load in CI). The hook holds the renewal at that point.
func TestRenewalNeverShowsAClosingBoundBind(t *testing.T) {
	_, op, addr := startSimAccount(t, server.AccountConfig{SystemID: "acme", Password: "secret1", MaxBinds: 1})
	c := good()
	p := readyPool(t, fastConfig(addr), 1, c)

	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	let := func() { once.Do(func() { close(release) }) }
	testHookRenewClosing = func() {
		close(held)
		<-release
	}
	// Registered after readyPool's: runs before the pool's Close, which
	// waits for the held renewal.
	t.Cleanup(func() { let(); testHookRenewClosing = nil })

	_ = op.SetPasswords("acme", []string{"secret1", "secret2"})
	c.set(Auth{SystemID: "acme", Password: "secret2", Version: "2"})
	renewed := make(chan error, 1)
	go func() { renewed <- renew(t, p) }()
	select {
	case <-held:
	case <-time.After(5 * time.Second):
		t.Fatal("the renewal never went break-before-make")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sent := make(chan error, 1)
	go func() {
		_, err := p.Submit(ctx, newSubmit(t, "during the renewal"))
		sent <- err
	}()
	// The submit must wait for the new session, not fail on the old one.
	select {
	case err := <-sent:
		t.Fatalf("submit returned while the renewal was held: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	let()
	if err := <-sent; err != nil {
		t.Fatalf("submit during a break-before-make renewal: %v", err)
	}
	if err := <-renewed; err != nil {
		t.Fatalf("renew: %v", err)
	}
}
