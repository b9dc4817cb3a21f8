package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// These tests run the session against the real simulator.

// runSim starts the simulator with ops (listening on free ports) until the
// test ends.
func runSim(t testing.TB, ops ...server.OperatorConfig) *server.Sim {
	t.Helper()
	sim, err := server.New(server.Config{Operators: ops}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim
}

// startSim runs one operator, "op", with the account acme/secret1.
func startSim(t *testing.T, prof profile.Profile) (*server.Sim, string) {
	t.Helper()
	sim := runSim(t, server.OperatorConfig{ID: "op", Listen: "127.0.0.1:0", Profile: prof,
		Accounts: []server.AccountConfig{{SystemID: "acme", Password: "secret1"}}})
	op, _ := sim.Operator("op")
	return sim, op.Addr()
}

func fault(t testing.TB, sim *server.Sim, typ string, params any, m faults.Match) {
	t.Helper()
	b, _ := json.Marshal(params)
	if _, err := sim.Faults.Add(faults.Spec{Type: typ, Params: b, Match: m}); err != nil {
		t.Fatal(err)
	}
}

// creds is a credential source whose answer the test can change.
type creds struct {
	mu    sync.Mutex
	auth  Auth
	calls atomic.Int64 // how often the bind asked: one per loop turn
}

func (c *creds) get(context.Context) (Auth, error) {
	c.calls.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.auth, nil
}

func (c *creds) set(a Auth) { c.mu.Lock(); c.auth = a; c.mu.Unlock() }

func good() *creds { return &creds{auth: Auth{SystemID: "acme", Password: "secret1", Version: "1"}} }

func fastConfig(addr string) Config {
	return Config{Operator: "op", Addr: addr, Window: 5, ResponseTimeout: time.Second, BindTimeout: 300 * time.Millisecond,
		DialTimeout: 300 * time.Millisecond, BackoffInitial: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		CredentialRecheck: 50 * time.Millisecond, EnquireLink: 2 * time.Second,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func waitState(t *testing.T, b *Bind, want State) error {
	t.Helper()
	var last error
	smpptest.Eventually(t, 5*time.Second, 10*time.Millisecond, func() error {
		st, err := b.State()
		last = err
		if st != want {
			return fmt.Errorf("state %s (%v), want %s", st, err, want)
		}
		return nil
	})
	return last
}

func newSubmit(t testing.TB, text string) *pdu.SubmitSM {
	return smpptest.NewSubmit(t, "ACME", "447700900123", text, 1)
}

func TestSubmitAndReceiptAnsweredAfterHandler(t *testing.T) {
	sim, addr := startSim(t, profile.Profile{})
	release := make(chan struct{})
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	var got atomic.Pointer[pdu.DeliverSM]
	cfg := fastConfig(addr)
	cfg.Deliver = DeliverFunc(func(d *pdu.DeliverSM, _ time.Time) data.CommandStatusType {
		got.Store(d)
		<-release // the receipt is being stored
		return data.ESME_ROK
	})
	b := NewBind(cfg, "b1", good().get)
	b.Start()
	t.Cleanup(b.Close)
	t.Cleanup(free) // runs first: a failed test does not leave Close waiting on the handler
	waitState(t, b, StateBound)

	r, err := b.Submit(context.Background(), newSubmit(t, "hello"))
	if err != nil || !r.OK() || r.MessageID == "" {
		t.Fatalf("%+v %v", r, err)
	}
	smpptest.Eventually(t, 2*time.Second, 10*time.Millisecond, func() error {
		if got.Load() == nil {
			return errors.New("no receipt handed to the handler")
		}
		return nil
	})
	// Barrier: a submit_sm (asking no receipt) written after the receipt
	// arrived, on the same connection. The simulator reads a connection in
	// order and counts a deliver_sm_resp as it reads it, so once this submit
	// is answered a resp written before it has been counted.
	if r, err := b.Submit(context.Background(), smpptest.NewSubmit(t, "ACME", "447700900123", "barrier", 0)); err != nil || !r.OK() {
		t.Fatalf("barrier submit: %+v %v", r, err)
	}
	if n := sim.Stats().Sum("op", "acme", "receipt_resp", ""); n != 0 {
		t.Fatalf("deliver_sm_resp sent before the handler returned (%d)", n)
	}
	free()
	smpptest.Eventually(t, 2*time.Second, 10*time.Millisecond, func() error {
		if n := sim.Stats().Sum("op", "acme", "receipt_resp", "ESME_ROK"); n != 1 {
			return fmt.Errorf("%d deliver_sm_resp", n)
		}
		return nil
	})
}

func TestBindTimeoutOnSilentSMSC(t *testing.T) {
	sim, addr := startSim(t, profile.Profile{})
	fault(t, sim, "blackhole", map[string]any{}, faults.Match{Command: "bind"})
	b := NewBind(fastConfig(addr), "b1", good().get)
	b.Start()
	t.Cleanup(b.Close)
	smpptest.Eventually(t, 3*time.Second, 10*time.Millisecond, func() error {
		st, err := b.State()
		if st != StateBackoff || err == nil || !strings.Contains(err.Error(), "no answer within 300ms") {
			return fmt.Errorf("state %s err %v", st, err)
		}
		return nil
	})
	_ = sim.Faults.Remove("blackhole")
	waitState(t, b, StateBound)
}

func TestWrongPasswordIsNotRetriedUntilCredentialsChange(t *testing.T) {
	sim, addr := startSim(t, profile.Profile{})
	var logs bytes.Buffer
	cfg := fastConfig(addr)
	cfg.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	c := &creds{auth: Auth{SystemID: "acme", Password: "wrongpw", Version: "1"}}
	b := NewBind(cfg, "b1", c.get)
	b.Start()
	t.Cleanup(b.Close)
	if err := waitState(t, b, StateAuthFailed); err == nil || !strings.Contains(err.Error(), "ESME_RINVPASWD") {
		t.Fatalf("auth_failed error %v", err)
	}
	// Barrier: the bind loop asks for the credentials once per recheck
	// period; ten more asks are ten decisions not to bind, each taken after
	// the previous attempt (if any) was answered and recorded.
	asked := c.calls.Load()
	smpptest.Eventually(t, 5*time.Second, 10*time.Millisecond, func() error {
		if n := c.calls.Load() - asked; n < 10 {
			return fmt.Errorf("credentials asked %d times since the refusal", n)
		}
		return nil
	})
	attempts := len(sim.Recorder.Query(recorder.Filter{Command: "bind_transceiver"}))
	if attempts != 1 {
		t.Fatalf("%d bind attempts with a refused password, want 1", attempts)
	}
	if strings.Contains(logs.String(), "wrongpw") {
		t.Fatalf("password in the logs:\n%s", logs.String())
	}
	c.set(Auth{SystemID: "acme", Password: "secret1", Version: "2"})
	b.Kick()
	waitState(t, b, StateBound)
}

func TestRebindBacksOffOnRefusedTCP(t *testing.T) {
	sim, addr := startSim(t, profile.Profile{})
	if _, err := sim.Faults.Add(faults.Spec{Name: "tcp", Type: "refuse_bind", Params: []byte(`{"tcp":true}`)}); err != nil {
		t.Fatal(err)
	}
	smpptest.Eventually(t, 2*time.Second, 10*time.Millisecond, func() error {
		if op, _ := sim.Operator("op"); !op.Down() {
			return errors.New("listener still up")
		}
		return nil
	})
	b := NewBind(fastConfig(addr), "b1", good().get)
	start := time.Now()
	b.Start()
	t.Cleanup(b.Close)
	// Count attempts rather than sleep and count: 9 refused attempts wait 8
	// backoffs of 20ms doubling to a 200ms cap, jittered to no less than
	// half: at least 10+20+40+80+100*4 = 550ms. A fixed 20ms interval would
	// take at most 8*20ms plus the dials. A slow machine only adds time.
	smpptest.Eventually(t, 10*time.Second, time.Millisecond, func() error {
		if n := b.Stats.BindFailures.Load(); n < 9 {
			return fmt.Errorf("%d bind attempts", n)
		}
		return nil
	})
	if d := time.Since(start); d < 550*time.Millisecond {
		t.Fatalf("9 bind attempts in %v: not backing off", d)
	}
	_ = sim.Faults.Remove("tcp")
	waitState(t, b, StateBound)
}

func TestWindowAppliesBackpressureInsteadOfDropping(t *testing.T) {
	sim, addr := startSim(t, profile.Profile{})
	// The SMSC rejects anything beyond 3 outstanding: a breach would show.
	fault(t, sim, "window", map[string]any{"max": 3}, faults.Match{Command: "submit_sm"})
	fault(t, sim, "latency", map[string]any{"distribution": map[string]any{"kind": "fixed", "value": "100ms"}}, faults.Match{Command: "submit_sm"})
	cfg := fastConfig(addr)
	cfg.Window = 3
	b := NewBind(cfg, "b1", good().get)
	b.Start()
	t.Cleanup(b.Close)
	waitState(t, b, StateBound)
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r, err := b.Submit(context.Background(), newSubmit(t, "w")); err == nil && r.OK() {
				ok.Add(1)
			} else {
				t.Errorf("%+v %v", r, err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 12 {
		t.Fatalf("%d of 12 accepted", ok.Load())
	}
}

func TestResponseTimeoutIsUnknownAndGenericNackIsMatched(t *testing.T) {
	sim, addr := startSim(t, profile.Profile{})
	cfg := fastConfig(addr)
	cfg.ResponseTimeout = 200 * time.Millisecond
	b := NewBind(cfg, "b1", good().get)
	b.Start()
	t.Cleanup(b.Close)
	waitState(t, b, StateBound)

	fault(t, sim, "blackhole", map[string]any{}, faults.Match{Command: "submit_sm"})
	_, err := b.Submit(context.Background(), newSubmit(t, "lost"))
	if !errors.Is(err, ErrUnknown) {
		t.Fatalf("want ErrUnknown, got %v", err)
	}
	sim.Reset()
	fault(t, sim, "throttle", map[string]any{"tps": 1, "genericNack": true}, faults.Match{})
	b.Submit(context.Background(), newSubmit(t, "first"))
	r, err := b.Submit(context.Background(), newSubmit(t, "nacked"))
	if err != nil || !r.GenericNack || r.Status != data.ESME_RTHROTTLED {
		t.Fatalf("generic_nack not matched: %+v %v", r, err)
	}
}

func TestRebindAfterDisconnectAndAnswersSMSCEnquireLink(t *testing.T) {
	sim, addr := startSim(t, profile.Profile{EnquireLinkInterval: profile.Duration{D: 50 * time.Millisecond}})
	b := NewBind(fastConfig(addr), "b1", good().get)
	b.Start()
	t.Cleanup(b.Close)
	waitState(t, b, StateBound)
	smpptest.Eventually(t, 2*time.Second, 10*time.Millisecond, func() error {
		if n := sim.Stats().Sum("op", "acme", "enquire_link_resp", "ESME_ROK"); n < 2 {
			return fmt.Errorf("%d enquire_link_resp", n)
		}
		return nil
	})
	sim.Disconnect(faults.Match{})
	smpptest.Eventually(t, 3*time.Second, 10*time.Millisecond, func() error {
		if b.Stats.Binds.Load() != 2 {
			return fmt.Errorf("%d binds", b.Stats.Binds.Load())
		}
		return nil
	})
	waitState(t, b, StateBound)
	if r, err := b.Submit(context.Background(), newSubmit(t, "after")); err != nil || !r.OK() {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestRotationPickedUpOnRebind(t *testing.T) {
	sim, addr := startSim(t, profile.Profile{})
	c := good()
	b := NewBind(fastConfig(addr), "b1", c.get)
	b.Start()
	t.Cleanup(b.Close)
	waitState(t, b, StateBound)
	op, _ := sim.Operator("op")
	_ = op.SetPasswords("acme", []string{"secret1", "secret2"}) // the MNO's overlap
	c.set(Auth{SystemID: "acme", Password: "secret2", Version: "2"})
	_ = op.SetPasswords("acme", []string{"secret2"})
	sim.Disconnect(faults.Match{})
	smpptest.Eventually(t, 3*time.Second, 10*time.Millisecond, func() error {
		if b.Stats.Binds.Load() != 2 {
			return fmt.Errorf("%d binds", b.Stats.Binds.Load())
		}
		return nil
	})
}

func TestCloseDrainsInFlight(t *testing.T) {
	sim, addr := startSim(t, profile.Profile{})
	fault(t, sim, "latency", map[string]any{"distribution": map[string]any{"kind": "fixed", "value": "200ms"}}, faults.Match{Command: "submit_sm"})
	b := NewBind(fastConfig(addr), "b1", good().get)
	b.Start()
	waitState(t, b, StateBound)
	res := make(chan error, 1)
	go func() {
		r, err := b.Submit(context.Background(), newSubmit(t, "in flight"))
		if err == nil && !r.OK() {
			err = fmt.Errorf("status %v", r.Status)
		}
		res <- err
	}()
	smpptest.Eventually(t, 2*time.Second, time.Millisecond, func() error {
		if b.Outstanding() != 1 {
			return errors.New("submit not in flight yet")
		}
		return nil
	})
	b.Close()
	if err := <-res; err != nil {
		t.Fatalf("in-flight submit lost on close: %v", err)
	}
	if _, err := b.Submit(context.Background(), newSubmit(t, "late")); !errors.Is(err, ErrNotSent) {
		t.Fatalf("submit after close: %v", err)
	}
	smpptest.Eventually(t, 2*time.Second, 10*time.Millisecond, func() error {
		if n := sim.Stats().Sum("op", "acme", "unbind", ""); n != 1 {
			return fmt.Errorf("%d unbind", n)
		}
		return nil
	})
}

func TestPoolUsesEveryBindAndSurvivesOneLoss(t *testing.T) {
	sim, addr := startSim(t, profile.Profile{})
	p := NewPool(fastConfig(addr), 2, good().get)
	p.Start()
	t.Cleanup(p.Close)
	smpptest.Eventually(t, 3*time.Second, 10*time.Millisecond, func() error {
		for _, b := range p.Binds() {
			if st, _ := b.State(); st != StateBound {
				return fmt.Errorf("%s", st)
			}
		}
		return nil
	})
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r, err := p.Submit(context.Background(), newSubmit(t, "p")); err != nil || !r.OK() {
				t.Errorf("%+v %v", r, err)
			}
		}()
	}
	wg.Wait()
	for _, b := range p.Binds() {
		if b.Stats.Submits.Load() == 0 {
			t.Fatalf("bind %s unused", b.name)
		}
	}
	_ = sim
}

func TestPoolRenewsBindsOneByOneWithoutLosingSubmits(t *testing.T) {
	sim, addr := startSim(t, profile.Profile{})
	op, _ := sim.Operator("op")
	c := good()
	p := NewPool(fastConfig(addr), 2, c.get)
	p.Start()
	t.Cleanup(p.Close)
	smpptest.Eventually(t, 3*time.Second, 10*time.Millisecond, func() error {
		if !p.Ready() {
			return errors.New("not ready")
		}
		return nil
	})
	stop := make(chan struct{})
	var sent, failed atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if r, err := p.Submit(context.Background(), newSubmit(t, "during rotation")); err != nil || !r.OK() {
					failed.Add(1)
				} else {
					sent.Add(1)
				}
			}
		}()
	}
	_ = op.SetPasswords("acme", []string{"secret1", "secret2"}) // the MNO's overlap
	c.set(Auth{SystemID: "acme", Password: "secret2", Version: "2"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	_ = op.SetPasswords("acme", []string{"secret2"})
	// Barrier: submits keep succeeding on the renewed binds, which accept
	// only the new password now.
	after := sent.Load()
	smpptest.Eventually(t, 5*time.Second, time.Millisecond, func() error {
		if n := sent.Load() - after; n < 20 {
			return fmt.Errorf("%d submits after the rotation", n)
		}
		return nil
	})
	close(stop)
	wg.Wait()
	if failed.Load() != 0 || sent.Load() == 0 {
		t.Fatalf("%d sent, %d failed during the rotation", sent.Load(), failed.Load())
	}
	for _, b := range p.Binds() {
		if b.Stats.Binds.Load() != 2 {
			t.Fatalf("bind %s bound %d times, want 2", b.name, b.Stats.Binds.Load())
		}
	}
}

func TestFailoverToBackupDuringOutage(t *testing.T) {
	sim := runSim(t,
		server.OperatorConfig{ID: "primary", Listen: "127.0.0.1:0", Accounts: []server.AccountConfig{{SystemID: "acme", Password: "secret1"}}},
		server.OperatorConfig{ID: "backup", Listen: "127.0.0.1:0", Accounts: []server.AccountConfig{{SystemID: "acme", Password: "secret1"}}})
	primary, _ := sim.Operator("primary")
	backup, _ := sim.Operator("backup")
	cfg := fastConfig(primary.Addr())
	cfg.Backups = []string{backup.Addr()}
	var mu sync.Mutex
	var failovers []string // bind > to, as OnFailover hears them
	cfg.OnFailover = func(bind, to string) {
		mu.Lock()
		failovers = append(failovers, bind+" > "+to)
		mu.Unlock()
	}
	p := NewPool(cfg, 1, good().get)
	p.Start()
	t.Cleanup(p.Close)
	b := p.Binds()[0]
	waitState(t, b, StateBound)
	if i, bound := b.Endpoint(); i != 0 || !bound {
		t.Fatalf("Endpoint() = %d, %v on the primary, want 0, true", i, bound)
	}
	if r, err := p.Submit(context.Background(), newSubmit(t, "on primary")); err != nil || !r.OK() {
		t.Fatal(r, err)
	}
	fault(t, sim, "outage", map[string]any{}, faults.Match{Operator: "primary"})
	smpptest.Eventually(t, 5*time.Second, 10*time.Millisecond, func() error {
		if st, _ := b.State(); st != StateBound || b.Addr() != backup.Addr() {
			return fmt.Errorf("state %s on %s", st, b.Addr())
		}
		return nil
	})
	if i, bound := b.Endpoint(); i != 1 || !bound {
		t.Fatalf("Endpoint() = %d, %v on the backup, want 1, true", i, bound)
	}
	mu.Lock()
	heard := append([]string(nil), failovers...)
	mu.Unlock()
	if n := b.Stats.Failovers.Load(); n == 0 || len(heard) != int(n) || heard[0] != b.Name()+" > "+backup.Addr() {
		t.Fatalf("OnFailover heard %q, Stats.Failovers %d: want the move to %s, once per failover", heard, n, backup.Addr())
	}
	if r, err := p.Submit(context.Background(), newSubmit(t, "on backup")); err != nil || !r.OK() {
		t.Fatal(r, err)
	}
	if n := sim.Stats().Sum("backup", "acme", "submit_sm", "ESME_ROK"); n != 1 {
		t.Fatalf("%d submits on the backup", n)
	}
}

// The service closes the store after the binds: a receipt handler still
// storing when Close returned would find the store closed and the receipt
// would go unanswered.
func TestCloseWaitsForDeliverHandlers(t *testing.T) {
	sim, addr := startSim(t, profile.Profile{})
	started := make(chan struct{}, 1)
	var finished atomic.Bool
	cfg := fastConfig(addr)
	var b *Bind
	cfg.Deliver = DeliverFunc(func(d *pdu.DeliverSM, _ time.Time) data.CommandStatusType {
		started <- struct{}{}
		// Still storing the receipt when Close has stopped the bind and its
		// unbind has reached the SMSC: a Close that did not wait for us
		// would have returned by then.
		// (Polled here rather than with Eventually: this is not the test's
		// goroutine, which alone may call t.Fatal.)
		<-b.stop
		poll := time.NewTicker(time.Millisecond)
		defer poll.Stop()
		for deadline := time.Now().Add(5 * time.Second); sim.Stats().Sum("op", "acme", "unbind", "") == 0; <-poll.C {
			if time.Now().After(deadline) {
				t.Error("the SMSC saw no unbind after Close")
				break
			}
		}
		finished.Store(true)
		return data.ESME_ROK
	})
	b = NewBind(cfg, "b1", good().get)
	b.Start()
	waitState(t, b, StateBound)
	if r, err := b.Submit(context.Background(), newSubmit(t, "hello")); err != nil || !r.OK() {
		t.Fatalf("%+v %v", r, err)
	}
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("no receipt reached the handler")
	}
	b.Close()
	if !finished.Load() {
		t.Fatal("Close returned while a deliver handler was still running")
	}
}
