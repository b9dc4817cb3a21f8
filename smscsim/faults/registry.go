package faults

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Instance is an active fault: its spec, the built fault and its own seeded
// random source, so that a run with the same seed and traffic repeats.
type Instance struct {
	Spec  Spec
	Fault Fault
	Added time.Time

	mu     sync.Mutex
	rng    *rand.Rand
	cancel context.CancelFunc
	done   chan struct{}
	hits   atomic.Uint64
}

// Rand returns a float in [0,1) from the instance's seeded source.
func (in *Instance) Rand() float64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.rng.Float64()
}

// NormFloat returns a standard normal value from the instance's seeded source.
func (in *Instance) NormFloat() float64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.rng.NormFloat64()
}

// Hit counts an action taken by the fault (reported in listings).
func (in *Instance) Hit() { in.hits.Add(1) }

// Hits is how many times the fault acted.
func (in *Instance) Hits() uint64 { return in.hits.Load() }

// fires decides, by the instance's probability, whether it acts this time.
func (in *Instance) fires() bool {
	p := in.Spec.Probability
	return p == 0 || p >= 1 || in.Rand() < p
}

// Registry holds the active faults. Reads are lock-free (a snapshot pointer),
// so an empty registry costs the PDU path one atomic load.
type Registry struct {
	seed uint64
	env  Env

	mu   sync.Mutex
	list atomic.Pointer[[]*Instance]
}

// NewRegistry returns an empty registry. seed makes every fault's randomness
// repeatable; env is handed to runners.
func NewRegistry(seed uint64, env Env) *Registry {
	r := &Registry{seed: seed, env: env}
	r.list.Store(&[]*Instance{})
	return r
}

// Reseed changes the seed of faults added from now on (a scenario with its own
// seed); faults already active keep their random sources.
func (r *Registry) Reseed(seed uint64) {
	r.mu.Lock()
	r.seed = seed
	r.mu.Unlock()
}

// Seed is the seed new faults are given.
func (r *Registry) Seed() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seed
}

// ErrExists and ErrNotFound are returned by Add and Remove.
var (
	ErrExists   = errors.New("fault already exists")
	ErrNotFound = errors.New("fault not found")
)

// Add validates and activates a fault.
func (r *Registry) Add(s Spec) (*Instance, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if s.Name == "" {
		s.Name = s.Type
	}
	f, err := types[s.Type].New(s.Params)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Type, err)
	}
	h := fnv.New64a()
	h.Write([]byte(s.Name))

	r.mu.Lock()
	defer r.mu.Unlock()
	in := &Instance{Spec: s, Fault: f, Added: time.Now(), rng: rand.New(rand.NewPCG(r.seed, h.Sum64()))}
	cur := *r.list.Load()
	for _, x := range cur {
		if x.Spec.Name == s.Name {
			return nil, fmt.Errorf("name %q: %w", s.Name, ErrExists)
		}
	}
	next := append(append([]*Instance(nil), cur...), in)
	r.list.Store(&next)
	if run, ok := f.(Runner); ok && r.env != nil {
		ctx, cancel := context.WithCancel(context.Background())
		in.cancel, in.done = cancel, make(chan struct{})
		go func() {
			defer close(in.done)
			run.Run(ctx, in, r.env)
		}()
	}
	return in, nil
}

// Remove deactivates a fault by name and waits for its runner to stop.
func (r *Registry) Remove(name string) error {
	r.mu.Lock()
	cur := *r.list.Load()
	var gone *Instance
	next := make([]*Instance, 0, len(cur))
	for _, x := range cur {
		if x.Spec.Name == name {
			gone = x
			continue
		}
		next = append(next, x)
	}
	if gone == nil {
		r.mu.Unlock()
		return fmt.Errorf("%q: %w", name, ErrNotFound)
	}
	r.list.Store(&next)
	r.mu.Unlock()
	gone.stop()
	return nil
}

// Reset removes every fault.
func (r *Registry) Reset() {
	r.mu.Lock()
	cur := *r.list.Load()
	r.list.Store(&[]*Instance{})
	r.mu.Unlock()
	for _, x := range cur {
		x.stop()
	}
}

func (in *Instance) stop() {
	if in.cancel != nil {
		in.cancel()
		<-in.done
	}
}

// List returns the active faults in the order they were added.
func (r *Registry) List() []*Instance { return *r.list.Load() }

// Get returns one fault by name.
func (r *Registry) Get(name string) (*Instance, bool) {
	for _, x := range r.List() {
		if x.Spec.Name == name {
			return x, true
		}
	}
	return nil, false
}

// Empty reports whether no fault is active (the fast path).
func (r *Registry) Empty() bool { return len(*r.list.Load()) == 0 }

// OnBind runs the bind hooks of matching faults.
func (r *Registry) OnBind(ev *Event, act *Action) {
	for _, in := range *r.list.Load() {
		if h, ok := in.Fault.(BindHook); ok && in.Spec.Match.Matches(ev) && in.fires() {
			h.OnBind(in, ev, act)
		}
	}
}

// OnRequest runs the request hooks of matching faults.
func (r *Registry) OnRequest(ev *Event, act *Action) {
	for _, in := range *r.list.Load() {
		if h, ok := in.Fault.(RequestHook); ok && in.Spec.Match.Matches(ev) && in.fires() {
			h.OnRequest(in, ev, act)
		}
	}
}

// OnReceipt runs the receipt hooks of matching faults.
func (r *Registry) OnReceipt(ev *ReceiptEvent, act *ReceiptAction) {
	for _, in := range *r.list.Load() {
		h, ok := in.Fault.(ReceiptHook)
		if !ok {
			continue
		}
		m := &in.Spec.Match
		if !m.MatchesSession(ev.Operator, ev.Account) || (m.DestinationPrefix != "" && !hasPrefix(ev.Dest, m.DestinationPrefix)) {
			continue
		}
		if in.fires() {
			h.OnReceipt(in, ev, act)
		}
	}
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// Running reports whether the fault's runner is still going (false for faults
// without a runner, and for a timed outage that has ended).
func (in *Instance) Running() bool {
	if in.done == nil {
		return false
	}
	select {
	case <-in.done:
		return false
	default:
		return true
	}
}
