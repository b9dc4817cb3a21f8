package operator

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	itestutil "github.com/smpp-connector/smpp-connector/internal/testutil"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// A rotation to a credential the SMSC refuses keeps the working bind:
// messages still go out and get their receipts, and the refusal is reported
// (WARN log with the version, never the secret; the counter the alert
// watches; the operator's status, which /readyz shows as degraded).
func TestRefusedRotationKeepsTheBindAndIsReported(t *testing.T) {
	r := newRig(t, "transceiver", "")
	var logs itestutil.LogBuffer
	r.deps.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	rn, _ := r.run(t)
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, owning(rn))
	r.send(t, "before-rotation")
	r.waitReceipt(t, "before-rotation")

	if err := os.WriteFile(r.cred, []byte(`{"system_id":"acme","password":"wrongpw"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if v := rn.Status().RefusedCredential; v == "" {
			return fmt.Errorf("no refused credential in the status: %+v", rn.Status())
		}
		if n := refusedCount(t, r); n != 1 {
			return fmt.Errorf("smpp_credential_refused_total %v", n)
		}
		return nil
	})
	if err := logs.WaitFor("new credential version refused by the SMSC", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "wrongpw") {
		t.Fatal("the refused password is in the logs")
	}
	if err := owning(rn)(); err != nil {
		t.Fatal(err)
	}
	r.send(t, "after-rotation")
	r.waitReceipt(t, "after-rotation")
	if n := r.successfulBinds("bind_transceiver"); n != 1 {
		t.Fatalf("%d successful binds, want 1 (the working one kept)", n)
	}
	if n := len(r.sim.Recorder.Query(recorder.Filter{Operator: "mno-a", Command: "unbind"})); n != 0 {
		t.Fatalf("%d unbind: the working bind was dropped", n)
	}
}

// refusedCount reads smpp_credential_refused_total{operator="mno-a"} as a
// scrape would.
func refusedCount(t *testing.T, r *rig) float64 {
	t.Helper()
	mfs, err := r.deps.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "smpp_credential_refused_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "operator" && l.GetValue() == "mno-a" {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
