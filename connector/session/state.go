package session

import "context"

// State returns the bind's state and the last error.
func (b *Bind) State() (State, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state, b.lastErr
}

// stateGen returns the state with its generation (setStateLocked), read
// together.
func (b *Bind) stateGen() (State, uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state, b.gen.Load()
}

// testHookRenewClosing, set by tests, runs when a break-before-make renewal
// has marked the bind closing, before it drains.
var testHookRenewClosing func()

func (b *Bind) setState(s State, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.setStateLocked(s, err)
}

func (b *Bind) setStateLocked(s State, err error) {
	// Every change is a new generation: a submit refused as not sent by a
	// bind the pool saw bound is retried if the bind went through any
	// change since (Pool.Submit), even one back to bound.
	b.gen.Add(1)
	if b.state == StateBound && s != StateBound {
		b.bound = make(chan struct{})
	}
	if s == StateBound && b.state != StateBound {
		close(b.bound)
	}
	b.notifyBound(s) // epoch.go
	b.state, b.lastErr = s, err
	close(b.changed)
	b.changed = make(chan struct{})
	b.endLive()
	b.live, b.endLive = context.WithCancel(context.Background())
}
