package session

import (
	"context"
	"errors"
	"fmt"

	"github.com/linxGnu/gosmpp/pdu"
)

// Pool spreads submits over an operator's binds: each submit goes to the
// bound bind with the fewest outstanding requests, and waits while none is
// bound. The binds take the TPS grant (Config.Pacer, shared by them), so a
// submit waiting for a bind holds none.
type Pool struct {
	binds []*Bind
	epoch epoch // epoch.go
}

// NewPool makes n binds with the same configuration.
func NewPool(cfg Config, n int, creds func(context.Context) (Auth, error)) *Pool {
	p := &Pool{}
	for i := 0; i < max(n, 1); i++ {
		p.binds = append(p.binds, NewBind(cfg, fmt.Sprintf("%s-%d", cfg.Operator, i+1), creds))
	}
	p.track()
	return p
}

// Start brings every bind up.
func (p *Pool) Start() {
	for _, b := range p.binds {
		b.Start()
	}
}

// Binds returns the pool's binds (for health and metrics).
func (p *Pool) Binds() []*Bind { return p.binds }

// SetWindow changes every bind's window (Bind.SetWindow).
func (p *Pool) SetWindow(n int) {
	for _, b := range p.binds {
		b.SetWindow(n)
	}
}

// Kick makes every bind waiting on backoff or credentials retry now.
func (p *Pool) Kick() {
	for _, b := range p.binds {
		b.Kick()
	}
}

// Renew renews the binds one after the other with the credential the source
// gives now, each make-before-break (Bind.RenewWait), so a rotation never
// takes the operator's capacity to zero. A refused credential
// (ErrCredentialRefused) stops the renewal: the other binds keep the
// credential that works.
func (p *Pool) Renew(ctx context.Context) error {
	var errs []error
	for _, b := range p.binds {
		if err := b.RenewWait(ctx); err != nil {
			if ctx.Err() != nil || errors.Is(err, ErrCredentialRefused) {
				return fmt.Errorf("bind %s: %w", b.name, err)
			}
			errs = append(errs, fmt.Errorf("bind %s: %w", b.name, err))
		}
	}
	return errors.Join(errs...)
}

// RefusedVersion is a credential version the SMSC refused for good on one of
// the pool's binds ("" when none): the binds carry on with the previous one,
// or wait for a new one.
func (p *Pool) RefusedVersion() string {
	for _, b := range p.binds {
		if v := b.RefusedVersion(); v != "" {
			return v
		}
	}
	return ""
}

// WaitReady returns once at least one bind is up (nil), or with ctx's error.
func (p *Pool) WaitReady(ctx context.Context) error {
	for {
		b, _, waits := p.pick()
		if b != nil {
			return nil
		}
		if err := waitAny(ctx, waits); err != nil {
			return err
		}
	}
}

// Ready reports whether at least one bind is up.
func (p *Pool) Ready() bool {
	for _, b := range p.binds {
		if st, _ := b.State(); st == StateBound {
			return true
		}
	}
	return false
}

// pick returns the bound bind with the most free window, or a channel that
// fires when any bind changes state.
func (p *Pool) pick() (*Bind, uint64, []<-chan struct{}) {
	var best *Bind
	var bestGen uint64
	var waits []<-chan struct{}
	for _, b := range p.binds {
		st, gen := b.stateGen()
		if st == StateBound && (best == nil || b.Outstanding() < best.Outstanding()) {
			best, bestGen = b, gen
		}
		waits = append(waits, b.Changed())
	}
	return best, bestGen, waits
}

// Submit sends sm on a bound bind and waits for the resp (see Bind.Submit).
// A bind lost before the PDU was written is retried on another bind.
func (p *Pool) Submit(ctx context.Context, sm *pdu.SubmitSM) (Result, error) {
	for {
		b, gen, waits := p.pick()
		if b == nil {
			if err := waitAny(ctx, waits); err != nil {
				return Result{}, fmt.Errorf("%w: no bind up: %v", ErrNotSent, err)
			}
			continue
		}
		r, err := b.Submit(ctx, sm)
		if err != nil && errors.Is(err, ErrNotSent) && ctx.Err() == nil {
			if st, g := b.stateGen(); st != StateBound || g != gen {
				// The bind went down, changed state and came back, or a
				// renewal swapped its session, since pick saw it bound:
				// nothing was sent, try again.
				continue
			}
		}
		return r, err
	}
}

func waitAny(ctx context.Context, chs []<-chan struct{}) error {
	// Few binds per operator: a goroutine per channel is fine and simple.
	fired := make(chan struct{}, len(chs))
	stop := make(chan struct{})
	defer close(stop)
	for _, c := range chs {
		go func() {
			select {
			case <-c:
				fired <- struct{}{}
			case <-stop:
			}
		}()
	}
	select {
	case <-fired:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close drains and unbinds every bind.
func (p *Pool) Close() {
	for _, b := range p.binds {
		b.Close()
	}
}
