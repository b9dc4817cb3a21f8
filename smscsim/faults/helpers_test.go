package faults

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeEnv records what runners do to the simulator. It is a fake of our own
// Env interface: the server is not under test here.
type fakeEnv struct {
	ops []string

	mu       sync.Mutex
	calls    []string
	changed  chan struct{} // closed (and replaced) on every call recorded
	mos      []MO
	failDown map[string]bool // SetListenerDown(op, true) fails for these
	moFail   map[string]bool // InjectMO fails for these
}

func newFakeEnv(ops ...string) *fakeEnv {
	return &fakeEnv{ops: ops, failDown: map[string]bool{}, moFail: map[string]bool{}, changed: make(chan struct{})}
}

func (e *fakeEnv) record(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.recordLocked(s)
}

func (e *fakeEnv) recordLocked(s string) {
	e.calls = append(e.calls, s)
	close(e.changed)
	e.changed = make(chan struct{})
}

func (e *fakeEnv) SetListenerDown(op string, down bool) error {
	if down {
		e.mu.Lock()
		fail := e.failDown[op]
		e.mu.Unlock()
		if fail {
			e.record("down-failed " + op)
			return errors.New("unknown operator")
		}
		e.record("down " + op)
		return nil
	}
	e.record("up " + op)
	return nil
}

func (e *fakeEnv) Disconnect(m Match) int {
	e.record(fmt.Sprintf("disconnect op=%s account=%s", m.Operator, m.Account))
	return 1
}

func (e *fakeEnv) InjectMO(op string, mo MO) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.moFail[op] {
		e.recordLocked("mo-failed " + op)
		return errors.New("no receiver bound")
	}
	e.recordLocked("mo " + op)
	e.mos = append(e.mos, mo)
	return nil
}

func (e *fakeEnv) Operators() []string { return e.ops }

func (e *fakeEnv) RestartMessageIDs(first uint64) { e.record(fmt.Sprintf("ids from %d", first)) }

func (e *fakeEnv) Calls() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.calls)
}

// waitCalls waits until at least n calls were recorded, woken by each call
// rather than polling.
func (e *fakeEnv) waitCalls(t *testing.T, n int) []string {
	t.Helper()
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for {
		e.mu.Lock()
		c, changed := slices.Clone(e.calls), e.changed
		e.mu.Unlock()
		if len(c) >= n {
			return c
		}
		select {
		case <-changed:
		case <-timeout.C:
			t.Fatalf("waited for %d env calls, got %v", n, e.Calls())
		}
	}
}

// add adds a fault and fails the test on error.
func add(t *testing.T, r *Registry, s Spec) *Instance {
	t.Helper()
	in, err := r.Add(s)
	if err != nil {
		t.Fatalf("Add(%s %s): %v", s.Type, s.Params, err)
	}
	return in
}

// spec is a shorthand for a Spec with params.
func spec(typ, params string) Spec {
	return Spec{Type: typ, Params: json.RawMessage(params)}
}

// request runs the request hooks for ev and returns the action.
func request(r *Registry, ev Event) Action {
	var act Action
	r.OnRequest(&ev, &act)
	return act
}

// bind runs the bind hooks for ev and returns the action.
func bind(r *Registry, ev Event) Action {
	var act Action
	r.OnBind(&ev, &act)
	return act
}

// receipt runs the receipt hooks with a normal starting action.
func receipt(r *Registry, ev ReceiptEvent) ReceiptAction {
	act := ReceiptAction{Copies: 1, Stat: "DELIVRD", Err: "000"}
	r.OnReceipt(&ev, &act)
	return act
}

// waitDone waits for the instance's runner to return by itself.
func waitDone(t *testing.T, in *Instance) {
	t.Helper()
	select {
	case <-in.done:
	case <-time.After(5 * time.Second):
		t.Fatalf("runner of %s did not finish", in.Spec.Name)
	}
}

// stillRunning reports whether the runner has not returned yet.
func stillRunning(in *Instance) bool {
	select {
	case <-in.done:
		return false
	default:
		return true
	}
}
