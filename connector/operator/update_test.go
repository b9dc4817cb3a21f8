package operator

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// operatorAt parses one operator's YAML entry (below "operators:").
func operatorAt(t *testing.T, entry string) config.Operator {
	t.Helper()
	f, err := config.Parse([]byte("operators:\n" + entry))
	if err != nil {
		t.Fatal(err)
	}
	return f.Operators[0]
}

func entry(addr string, tps, window int, extra string) string {
	return fmt.Sprintf("  - id: mno-a\n    endpoints: {primary: [{address: %q}]}\n    tps: %d\n    window: %d\n%s", addr, tps, window, extra)
}

func windows(rn *Runner) []int {
	t := rn.current()
	if t == nil {
		return nil
	}
	var out []int
	for _, b := range t.binds() {
		out = append(out, b.Window())
	}
	return out
}

// TPS and window change on the running binds: no bind renewed, the limiter
// and every bind's window at the new values, traffic flowing after.
func TestUpdateAppliesTPSAndWindowInPlace(t *testing.T) {
	r := newRig(t, config.BindTransceiver, "")
	op, _ := r.sim.Operator("mno-a")
	r.cfg.Operator = operatorAt(t, entry(op.Addr(), 100, 10, "    binds: 2\n"))
	rn, _ := r.run(t)
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, owning(rn))
	r.send(t, "inplace-1")
	r.waitReceipt(t, "inplace-1")
	binds := r.successfulBinds("bind_transceiver")

	ch, err := rn.Update(operatorAt(t, entry(op.Addr(), 20, 4, "    binds: 2\n    notes: slower at night\n")))
	if err != nil || ch != InPlace {
		t.Fatalf("Update(tps 20, window 4) = %q, %v; want %q", ch, err, InPlace)
	}
	if got := rn.limiter.TPS(); got != 20 {
		t.Fatalf("limiter TPS %d after the update, want 20", got)
	}
	if w := windows(rn); len(w) != 2 || w[0] != 4 || w[1] != 4 {
		t.Fatalf("bind windows %v after the update, want [4 4]", w)
	}
	// Back up, within what the term was made for: still in place.
	if ch, err := rn.Update(operatorAt(t, entry(op.Addr(), 100, 10, "    binds: 2\n"))); err != nil || ch != InPlace {
		t.Fatalf("Update(tps 100, window 10) = %q, %v; want %q", ch, err, InPlace)
	}
	if w := windows(rn); w[0] != 10 || w[1] != 10 {
		t.Fatalf("bind windows %v after growing back, want [10 10]", w)
	}
	if ch, _ := rn.Update(operatorAt(t, entry(op.Addr(), 100, 10, "    binds: 2\n"))); ch != Unchanged {
		t.Fatalf("the same configuration again: %q, want %q", ch, Unchanged)
	}
	r.send(t, "inplace-2")
	r.waitReceipt(t, "inplace-2")
	if got := r.successfulBinds("bind_transceiver"); got != binds {
		t.Fatalf("%d binds after in-place changes, want the %d from before: nothing renewed", got, binds)
	}
}

// A new endpoint (perhaps another SMSC, counting its ids on its own): the
// term drains and unbinds, a new one binds there under the same lease, in a
// new id epoch, and a command sent after goes to the new SMSC, with its
// receipt.
func TestUpdateWithANewEndpointBindsThere(t *testing.T) {
	r := newRig(t, config.BindTransceiver, "")
	rn, _ := r.run(t)
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, owning(rn))
	r.send(t, "moved-1")
	r.waitReceipt(t, "moved-1")
	epoch := rn.current().pool.Epoch()

	sim2 := startSim(t, server.OperatorConfig{ID: "mno-a"})
	op2, _ := sim2.Operator("mno-a")
	ch, err := rn.Update(operatorAt(t, entry(op2.Addr(), 100, 10, "")))
	if err != nil || ch != NewTerm {
		t.Fatalf("Update(new endpoint) = %q, %v; want %q", ch, err, NewTerm)
	}
	smpptest.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		if n := len(sim2.Sessions()); n != 1 {
			return fmt.Errorf("%d sessions on the new SMSC", n)
		}
		if n := len(r.sim.Sessions()); n != 0 {
			return fmt.Errorf("%d sessions left on the old SMSC", n)
		}
		return owning(rn)()
	})
	if t2 := rn.current(); t2 == nil || !t2.pool.Epoch().After(epoch) {
		t.Fatal("the binds on the new endpoint are in the old id epoch")
	}
	// Both simulators count their ids from the same start: only the new
	// epoch keeps moved-2's receipt off moved-1.
	r.send(t, "moved-2")
	r.waitReceipt(t, "moved-2")
	submitted := func(s *server.Sim) int {
		return len(s.Recorder.Query(recorder.Filter{Operator: "mno-a", Command: "submit_sm"}))
	}
	if old, new := submitted(r.sim), submitted(sim2); old != 1 || new != 1 {
		t.Fatalf("submit_sm: %d on the old SMSC, %d on the new; want 1 and 1", old, new)
	}
}

// The credential moves to another file: the binds are renewed with it, and
// the credential watch follows it (a rotation of the new file renews them
// again; one of the old file does not).
func TestUpdateWithAMovedCredentialRenewsAndWatchesItsNewPlace(t *testing.T) {
	r := newRig(t, config.BindTransceiver, "")
	op, _ := r.sim.Operator("mno-a")
	files := r.deps.Secrets.(*secrets.File)
	rn, _ := r.run(t)
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, owning(rn))
	binds := r.successfulBinds("bind_transceiver")

	moved := filepath.Join(t.TempDir(), "mno-a-moved.json")
	if err := os.WriteFile(moved, []byte(`{"system_id":"acme","password":"pw2"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = op.SetPasswords("acme", []string{"pw1", "pw2"})
	files.SetPath("mno-a", moved) // what the service's credential routes do before Update
	ch, err := rn.Update(operatorAt(t, entry(op.Addr(), 100, 10, fmt.Sprintf("    credentials: {file: %q}\n", moved))))
	if err != nil || ch != Renew {
		t.Fatalf("Update(credential moved) = %q, %v; want %q", ch, err, Renew)
	}
	smpptest.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		if n := r.successfulBinds("bind_transceiver"); n != binds+1 {
			return fmt.Errorf("%d binds, want %d (renewed with the moved credential)", n, binds+1)
		}
		return nil
	})
	// The watch is on the new file: rotating it renews the bind again.
	_ = op.SetPasswords("acme", []string{"pw2", "pw3"})
	if err := os.WriteFile(moved, []byte(`{"system_id":"acme","password":"pw3"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	smpptest.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		if n := r.successfulBinds("bind_transceiver"); n != binds+2 {
			return fmt.Errorf("%d binds, want %d (renewed after the moved file rotated)", n, binds+2)
		}
		return nil
	})
	r.send(t, "cred-moved")
	r.waitReceipt(t, "cred-moved")
}

// A window larger than the term was made for needs a consumer sized for it:
// a new term; a configuration without an endpoint for this mode is refused
// and the running one kept.
func TestUpdateRefusesWhatItCannotRun(t *testing.T) {
	r := newRig(t, config.BindTransceiver, "")
	op, _ := r.sim.Operator("mno-a")
	rn, _ := r.run(t)
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, owning(rn))
	binds := r.successfulBinds("bind_transceiver")
	if ch, err := rn.Update(operatorAt(t, entry(op.Addr(), 100, 50, ""))); err != nil || ch != NewTerm {
		t.Fatalf("Update(window 10 -> 50) = %q, %v; want %q", ch, err, NewTerm)
	}
	smpptest.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		if w := windows(rn); len(w) != 1 || w[0] != 50 {
			return fmt.Errorf("bind windows %v, want [50]", w)
		}
		if got := r.successfulBinds("bind_transceiver"); got != binds+1 {
			return fmt.Errorf("%d binds, want %d (one new term)", got, binds+1)
		}
		return owning(rn)()
	})

	shadowOnly := "  - id: mno-a\n    endpoints: {primary: [{address: \"127.0.0.1:1\", shadow: true}]}\n    tps: 5\n"
	if _, err := rn.Update(operatorAt(t, shadowOnly)); err == nil || !strings.Contains(err.Error(), "no endpoint") {
		t.Fatalf("Update(shadow endpoints only, not in shadow mode) = %v, want an error naming the missing endpoint", err)
	}
	if _, err := rn.Update(operatorAt(t, strings.Replace(entry(op.Addr(), 5, 10, ""), "mno-a", "mno-b", 1))); err == nil {
		t.Fatal("Update with another operator's configuration succeeded")
	}
	if got := rn.limiter.TPS(); got != 100 {
		t.Fatalf("limiter TPS %d after refused updates, want 100 (kept)", got)
	}
}
