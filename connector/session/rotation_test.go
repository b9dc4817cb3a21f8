package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// Credential rotation is make-before-break: the working session stays up and
// keeps sending until a bind with the new credential has succeeded.

func startSimAccount(t *testing.T, acc server.AccountConfig) (*server.Sim, *server.Operator, string) {
	t.Helper()
	sim := runSim(t, server.OperatorConfig{ID: "op", Listen: "127.0.0.1:0", Accounts: []server.AccountConfig{acc}})
	op, _ := sim.Operator("op")
	return sim, op, op.Addr()
}

// traffic keeps submits flowing through p until stop; every submit's fate is
// counted.
type traffic struct {
	sent, failed atomic.Int32
	errs         sync.Map
	stop         chan struct{}
	ctx          context.Context // ended by end: submits still waiting give up
	cancel       context.CancelFunc
	wg           sync.WaitGroup
}

func startTraffic(t *testing.T, p *Pool, workers int) *traffic {
	tr := &traffic{stop: make(chan struct{})}
	tr.ctx, tr.cancel = context.WithCancel(context.Background())
	for i := 0; i < workers; i++ {
		tr.wg.Add(1)
		go func() {
			defer tr.wg.Done()
			for {
				select {
				case <-tr.stop:
					return
				default:
				}
				r, err := p.Submit(tr.ctx, newSubmit(t, "rotation"))
				if errors.Is(err, ErrNotSent) && tr.ctx.Err() != nil {
					return // the test is over: never sent
				}
				if err != nil || !r.OK() {
					tr.failed.Add(1)
					tr.errs.Store(fmt.Sprintf("%+v %v", r, err), true)
				} else {
					tr.sent.Add(1)
				}
			}
		}()
	}
	t.Cleanup(tr.end)
	return tr
}

var endOnce sync.Map

func (tr *traffic) end() {
	if _, done := endOnce.LoadOrStore(tr, true); !done {
		close(tr.stop)
		tr.cancel()
	}
	tr.wg.Wait()
}

// flows waits for n more successful submits: the pool is sending.
func (tr *traffic) flows(t *testing.T, n int32) {
	t.Helper()
	from := tr.sent.Load()
	smpptest.Eventually(t, 5*time.Second, time.Millisecond, func() error {
		if got := tr.sent.Load() - from; got < n {
			return fmt.Errorf("%d submits succeeded, want %d (failed %d)", got, n, tr.failed.Load())
		}
		return nil
	})
}

// check ends the traffic: no submit failed, and the SMSC saw exactly the
// submits we counted as sent (nothing lost, nothing sent twice).
func (tr *traffic) check(t *testing.T, sim *server.Sim) {
	t.Helper()
	tr.end()
	if n := tr.failed.Load(); n != 0 {
		tr.errs.Range(func(k, _ any) bool { t.Log(k); return true })
		t.Fatalf("%d submits failed during the rotation (%d sent)", n, tr.sent.Load())
	}
	if got, want := len(sim.Recorder.Query(recorder.Filter{Command: "submit_sm"})), int(tr.sent.Load()); got != want {
		t.Fatalf("the SMSC saw %d submit_sm, we sent %d", got, want)
	}
}

func readyPool(t *testing.T, cfg Config, n int, c *creds) *Pool {
	t.Helper()
	p := NewPool(cfg, n, c.get)
	p.Start()
	t.Cleanup(p.Close)
	smpptest.Eventually(t, 3*time.Second, 10*time.Millisecond, func() error {
		for _, b := range p.Binds() {
			if st, _ := b.State(); st != StateBound {
				return fmt.Errorf("%s %s", b.Name(), st)
			}
		}
		return nil
	})
	return p
}

func renew(t *testing.T, p *Pool) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.Renew(ctx)
}

func TestRotationToAWrongPasswordKeepsTheWorkingSession(t *testing.T) {
	sim, _, addr := startSimAccount(t, server.AccountConfig{SystemID: "acme", Password: "secret1"})
	c := good()
	p := readyPool(t, fastConfig(addr), 1, c)
	tr := startTraffic(t, p, 4)
	tr.flows(t, 10)

	c.set(Auth{SystemID: "acme", Password: "wrongpw", Version: "2"})
	err := renew(t, p)
	if !errors.Is(err, ErrCredentialRefused) {
		t.Fatalf("renew with a refused password: %v, want ErrCredentialRefused", err)
	}
	// The old session never left: traffic goes on, the refusal is known.
	tr.flows(t, 20)
	b := p.Binds()[0]
	if st, err := b.State(); st != StateBound {
		t.Fatalf("bind %s (%v) after a refused rotation, want bound", st, err)
	}
	if v := p.RefusedVersion(); v != "2" {
		t.Fatalf("refused version %q, want 2", v)
	}
	tr.check(t, sim)
	if n := len(sim.Recorder.Query(recorder.Filter{Command: "unbind"})); n != 0 {
		t.Fatalf("%d unbind: the working session was dropped", n)
	}

	// The next version works: the refusal is over.
	c.set(Auth{SystemID: "acme", Password: "secret1", Version: "3"})
	if err := renew(t, p); err != nil {
		t.Fatal(err)
	}
	if v := p.RefusedVersion(); v != "" {
		t.Fatalf("refused version %q after a working rotation", v)
	}
}

func TestRotationToARightPasswordMovesTrafficWithoutLoss(t *testing.T) {
	sim, op, addr := startSimAccount(t, server.AccountConfig{SystemID: "acme", Password: "secret1"})
	c := good()
	p := readyPool(t, fastConfig(addr), 1, c)
	tr := startTraffic(t, p, 4)
	tr.flows(t, 10)

	_ = op.SetPasswords("acme", []string{"secret1", "secret2"}) // the MNO's overlap
	c.set(Auth{SystemID: "acme", Password: "secret2", Version: "2"})
	if err := renew(t, p); err != nil {
		t.Fatal(err)
	}
	_ = op.SetPasswords("acme", []string{"secret2"})
	tr.flows(t, 20)
	tr.check(t, sim)

	// Make before break: the new bind was up before the old one unbound.
	// The old session unbinds once drained, after the switch.
	var binds, unbinds []recorder.Record
	smpptest.Eventually(t, 5*time.Second, 10*time.Millisecond, func() error {
		binds = sim.Recorder.Query(recorder.Filter{Command: "bind_transceiver"})
		unbinds = sim.Recorder.Query(recorder.Filter{Command: "unbind"})
		if len(unbinds) == 0 {
			return errors.New("the old session has not unbound")
		}
		return nil
	})
	if len(binds) != 2 || len(unbinds) != 1 {
		t.Fatalf("%d binds and %d unbinds, want 2 and 1", len(binds), len(unbinds))
	}
	if binds[1].Seq > unbinds[0].Seq {
		t.Fatalf("the old session unbound (seq %d) before the new one bound (seq %d): break before make", unbinds[0].Seq, binds[1].Seq)
	}
	// Traffic moved: after the new bind the new session carried the
	// traffic, and the old one nothing after its unbind. (A submit admitted
	// on the old session just before the switch may still be written there
	// after a few on the new one: the old session drains it before it
	// unbinds, so it is answered, not lost.)
	var onNew, onOld int
	for _, r := range sim.Recorder.Query(recorder.Filter{Command: "submit_sm", AfterSeq: binds[1].Seq}) {
		switch r.SessionID {
		case binds[1].SessionID:
			onNew++
		default:
			onOld++
			if r.Seq > unbinds[0].Seq {
				t.Fatalf("submit_sm on the old session (seq %d) after its unbind (seq %d)", r.Seq, unbinds[0].Seq)
			}
		}
	}
	if onNew == 0 || onOld > onNew {
		t.Fatalf("after the new bind: %d submits on the new session, %d on the old", onNew, onOld)
	}
}

func TestRotationWithABindLimitOfOne(t *testing.T) {
	sim, op, addr := startSimAccount(t, server.AccountConfig{SystemID: "acme", Password: "secret1", MaxBinds: 1})
	c := good()
	p := readyPool(t, fastConfig(addr), 1, c)
	tr := startTraffic(t, p, 4)
	tr.flows(t, 10)

	// A right password: the second bind is refused (ESME_RALYBND), so the
	// bind is renewed break-before-make; submits wait, none fails.
	_ = op.SetPasswords("acme", []string{"secret1", "secret2"})
	c.set(Auth{SystemID: "acme", Password: "secret2", Version: "2"})
	if err := renew(t, p); err != nil {
		t.Fatal(err)
	}
	_ = op.SetPasswords("acme", []string{"secret2"})
	tr.flows(t, 10)

	// A wrong password: refused after the old session is gone, so the bind
	// goes back to the previous credential at once.
	c.set(Auth{SystemID: "acme", Password: "wrongpw", Version: "3"})
	if err := renew(t, p); !errors.Is(err, ErrCredentialRefused) {
		t.Fatalf("renew with a refused password: %v, want ErrCredentialRefused", err)
	}
	tr.flows(t, 20)
	if v := p.RefusedVersion(); v != "3" {
		t.Fatalf("refused version %q, want 3", v)
	}
	tr.check(t, sim)
}
