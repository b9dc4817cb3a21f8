package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// Dead binds: an SMSC that keeps TCP open and answers nothing (the
// simulator's blackhole fault) must not keep a bind "bound" for ever.

// startSimPair runs a simulator with two operators on the same account: "op"
// (the primary, where the tests open a black hole) and "bak" (its backup).
func startSimPair(t *testing.T, prof profile.Profile) (sim *server.Sim, primary, backup string) {
	t.Helper()
	acc := []server.AccountConfig{{SystemID: "acme", Password: "secret1"}}
	sim = runSim(t,
		server.OperatorConfig{ID: "op", Listen: "127.0.0.1:0", Profile: prof, Accounts: acc},
		server.OperatorConfig{ID: "bak", Listen: "127.0.0.1:0", Profile: prof, Accounts: acc})
	op, _ := sim.Operator("op")
	bak, _ := sim.Operator("bak")
	return sim, op.Addr(), bak.Addr()
}

// warnings records the WARN lines a bind logs.
type warnings struct {
	mu    sync.Mutex
	lines []string
}

func (w *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
	w.mu.Lock()
	w.lines = append(w.lines, b.String())
	w.mu.Unlock()
	return nil
}
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnings) WithGroup(string) slog.Handler      { return w }

func (w *warnings) find(sub string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.lines {
		if strings.Contains(l, sub) {
			return nil
		}
	}
	return fmt.Errorf("no WARN line with %q in %q", sub, w.lines)
}

// A black hole on the primary: after a few response timeouts the bind is
// declared dead, stops taking submits, and is renewed on the backup, where
// traffic continues. At most one window of submits comes out unknown.
func TestDeadBindAfterResponseTimeoutsFailsOverToBackup(t *testing.T) {
	sim, primary, backup := startSimPair(t, profile.Profile{})
	cfg := fastConfig(primary)
	cfg.Backups = []string{backup}
	cfg.EnquireLink = time.Minute // only the response timeouts can tell here
	warns := &warnings{}
	cfg.Log = slog.New(warns)
	p := NewPool(cfg, 1, good().get)
	p.Start()
	t.Cleanup(p.Close)
	b := p.Binds()[0]
	waitState(t, b, StateBound)
	if r, err := p.Submit(context.Background(), newSubmit(t, "before")); err != nil || !r.OK() {
		t.Fatalf("%+v %v", r, err)
	}
	fault(t, sim, "blackhole", map[string]any{}, faults.Match{Operator: "op"})

	const total, senders = 40, 8
	var mu sync.Mutex
	var unknown, accepted int
	var others []error
	next := make(chan int, total)
	for i := 0; i < total; i++ {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				r, err := p.Submit(ctx, newSubmit(t, fmt.Sprintf("m%d", i)))
				cancel()
				mu.Lock()
				switch {
				case errors.Is(err, ErrUnknown):
					unknown++
					t.Logf("unknown: %v", err)
				case err == nil && r.OK():
					accepted++
				default:
					others = append(others, fmt.Errorf("%+v %w", r, err))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(others) > 0 {
		t.Fatalf("submits neither accepted nor unknown: %v", others)
	}
	if unknown > cfg.Window {
		t.Fatalf("%d submits unknown (%d accepted): more than one window (%d) lost to the black hole", unknown, accepted, cfg.Window)
	}
	if unknown == 0 {
		t.Fatalf("no submit unknown: was the black hole in place?")
	}
	if got := b.Addr(); got != backup {
		t.Fatalf("bind on %s, want the backup %s", got, backup)
	}
	if n := sim.Stats().Sum("bak", "acme", "submit_sm", "ESME_ROK"); n != uint64(accepted) {
		t.Fatalf("backup accepted %d submit_sm, the pool reports %d accepted", n, accepted)
	}
	if err := warns.find("bind dead"); err != nil {
		t.Fatal(err)
	}
	if n := b.Stats.DeadTimeouts.Load(); n != 1 {
		t.Fatalf("dead binds by response timeouts: %d, want 1", n)
	}
}

// No traffic at all: our own enquire_link, unanswered within the response
// timeout, makes the bind dead and renewed. The simulator keeps sending its
// own enquire_link (its keep-alive still runs), so nothing times out on
// reading and only the missing enquire_link_resp can tell.
func TestDeadBindOnUnansweredEnquireLink(t *testing.T) {
	sim, primary, _ := startSimPair(t, profile.Profile{EnquireLinkInterval: profile.Duration{D: 100 * time.Millisecond}})
	cfg := fastConfig(primary)
	cfg.EnquireLink = 300 * time.Millisecond
	cfg.ResponseTimeout = 300 * time.Millisecond
	warns := &warnings{}
	cfg.Log = slog.New(warns)
	b := NewBind(cfg, "b1", good().get)
	b.Start()
	t.Cleanup(b.Close)
	waitState(t, b, StateBound)
	binds := b.Stats.Binds.Load()
	fault(t, sim, "blackhole", map[string]any{}, faults.Match{Operator: "op", Command: "enquire_link"})

	// Binds are answered: the dead bind is renewed on the same endpoint.
	smpptest.Eventually(t, 10*time.Second, 10*time.Millisecond, func() error {
		if n := b.Stats.DeadEnquireLink.Load(); n == 0 {
			return errors.New("bind never declared dead on the unanswered enquire_link")
		}
		if n := b.Stats.Binds.Load(); n <= binds {
			return fmt.Errorf("not bound again (%d binds)", n)
		}
		return nil
	})
	if err := warns.find("enquire_link"); err != nil {
		t.Fatal(err)
	}
}

// While the black hole lasts the bind's state says why it is not bound (what
// /readyz shows), and the pool is not ready.
func TestDeadBindStateNamesTheReason(t *testing.T) {
	sim, primary, _ := startSimPair(t, profile.Profile{})
	cfg := fastConfig(primary)
	cfg.EnquireLink = time.Minute
	p := NewPool(cfg, 1, good().get)
	p.Start()
	t.Cleanup(p.Close)
	b := p.Binds()[0]
	waitState(t, b, StateBound)
	fault(t, sim, "blackhole", map[string]any{}, faults.Match{Operator: "op"})
	// The submits end with the test (p.Close answers them too).
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for i := 0; i < cfg.Window; i++ {
		go func() { _, _ = p.Submit(ctx, newSubmit(t, "into the hole")) }()
	}
	smpptest.Eventually(t, 10*time.Second, 10*time.Millisecond, func() error {
		st, err := b.State()
		if st == StateBound || err == nil || !strings.Contains(err.Error(), "consecutive response timeouts") {
			return fmt.Errorf("state %s (%v), want not bound and naming the response timeouts", st, err)
		}
		if !errors.Is(err, ErrDeadBind) {
			return fmt.Errorf("state error %v does not say the bind was dead (the operator's /readyz looks for ErrDeadBind)", err)
		}
		if p.Ready() {
			return errors.New("pool ready with its only bind dead")
		}
		return nil
	})
}

// Some SMSCs refuse an ESME's enquire_link with generic_nack
// (ESME_RINVCMDID): that is an answer, so the bind stays up. The barrier:
// several of our enquire_link have been refused, each within its response
// timeout, and the bind was never declared dead.
func TestEnquireLinkAnsweredWithGenericNackKeepsTheBind(t *testing.T) {
	sim, primary, _ := startSimPair(t, profile.Profile{})
	cfg := fastConfig(primary)
	cfg.EnquireLink = 100 * time.Millisecond
	cfg.ResponseTimeout = 300 * time.Millisecond
	b := NewBind(cfg, "b1", good().get)
	b.Start()
	t.Cleanup(b.Close)
	waitState(t, b, StateBound)
	fault(t, sim, "error", map[string]any{"status": "ESME_RINVCMDID", "genericNack": true},
		faults.Match{Operator: "op", Command: "enquire_link"})
	smpptest.Eventually(t, 10*time.Second, 10*time.Millisecond, func() error {
		if n := sim.Stats().Sum("op", "acme", "enquire_link", ""); n < 5 {
			return fmt.Errorf("%d enquire_link seen by the SMSC, want 5", n)
		}
		return nil
	})
	if n, binds := b.Stats.DeadEnquireLink.Load(), b.Stats.Binds.Load(); n != 0 || binds != 1 {
		t.Fatalf("bound %d times, declared dead %d times, although every enquire_link was answered (generic_nack)", binds, n)
	}
	if st, err := b.State(); st != StateBound {
		t.Fatalf("state %s (%v), want bound", st, err)
	}
}
