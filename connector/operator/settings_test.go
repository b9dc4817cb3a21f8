package operator

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/internal/tlstest"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// The operator's settings reach the submit_sm it builds: the destination's
// TON/NPI defaults (not a constant 1/1) and the refusal of UCS2.
func TestProfileFromSettings(t *testing.T) {
	const base = "operators:\n  - id: mno-a\n    endpoints: {primary: [{address: \"127.0.0.1:2775\"}]}\n    tps: 10\n"
	f, err := config.Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if p := Profile(f.Operators[0]); p.DestTON != 1 || p.DestNPI != 1 || p.NoUCS2 {
		t.Fatalf("defaults: %+v, want destination 1/1 and UCS2 allowed", p)
	}
	f, err = config.Parse([]byte(base + "    destination: {ton: 0, npi: 9}\n    source: {ton: 5, npi: 0}\n    encoding: {ucs2: false, allowLatin1: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := Profile(f.Operators[0])
	if p.DestTON != 0 || p.DestNPI != 9 || p.SourceTON != 5 || !p.NoUCS2 || !p.AllowLatin1 {
		t.Fatalf("profile %+v: want destination 0/9, source ton 5, no UCS2, Latin-1", p)
	}
}

// tlsOperator points the rig's operator at a TLS endpoint trusting caFile.
func (r *rig) tlsOperator(t *testing.T, addr, caFile string) {
	t.Helper()
	y := fmt.Sprintf("operators:\n  - id: mno-a\n    endpoints: {primary: [{address: %q, tls: true}]}\n    tps: 100\n    tls: {caFile: %q}\n", addr, caFile)
	f, err := config.Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	r.cfg.Operator = f.Operators[0]
}

// An operator whose endpoint has tls: true binds over TLS (the listener in
// front of the simulator speaks nothing else) and its messages go round
// trip; a certificate its CA does not vouch for keeps it unbound, the reason
// naming the operator and endpoint on readiness, counted as a TLS failure.
func TestOperatorBindsOverTLS(t *testing.T) {
	ca := tlstest.NewCA(t, "mno-a")
	caFile := ca.WriteCA(t, t.TempDir())

	t.Run("trusted", func(t *testing.T) {
		r := newRig(t, config.BindTransceiver, "")
		op, _ := r.sim.Operator("mno-a")
		front := tlstest.NewFront(t, ca.Server(t, "127.0.0.1"), nil, op.Addr())
		r.tlsOperator(t, front.Addr(), caFile)
		rn, _ := r.run(t)
		smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, owning(rn))
		r.send(t, "tls-1")
		r.waitReceipt(t, "tls-1")
		if front.Handshakes.Load() == 0 {
			t.Fatal("bound without a TLS handshake")
		}
	})

	t.Run("certificate of another CA", func(t *testing.T) {
		r := newRig(t, config.BindTransceiver, "")
		op, _ := r.sim.Operator("mno-a")
		front := tlstest.NewFront(t, tlstest.NewCA(t, "rogue").Server(t, "127.0.0.1"), nil, op.Addr())
		r.tlsOperator(t, front.Addr(), caFile)
		rn, _ := r.run(t)
		want := `operator "mno-a" endpoint ` + front.Addr() + ": TLS: tls: failed to verify certificate: x509: certificate signed by unknown authority"
		smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
			s := rn.Status()
			if s.Standby || len(s.Unbound) == 0 || !strings.Contains(s.Unbound[0], want) {
				return fmt.Errorf("status %+v, want unbound saying %q", s, want)
			}
			return nil
		})
		if n := counterValue(r.deps.Metrics.BindFailures.WithLabelValues("mno-a", "tls")); n < 1 {
			t.Fatalf("smpp_bind_failures_total{reason=tls} = %v after a refused certificate", n)
		}
		if n := r.successfulBinds("bind_transceiver"); n != 0 {
			t.Fatalf("%d binds reached the SMSC through an untrusted certificate", n)
		}
	})
}
