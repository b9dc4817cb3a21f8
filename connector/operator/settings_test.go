package operator

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
	"github.com/smpp-connector/smpp-connector/smscsim/tlstest"
)

// The operator's settings reach the submit_sm it builds: the destination's
// TON/NPI defaults (not a constant 1/1), the alphanumeric sender's rules,
// the registered_delivery asked, and the refusal of UCS2.
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
	if p.AlphaTON != 5 || p.AlphaNPI != 0 || p.MaxAlphanumeric != 11 || p.RegisteredDelivery != 1 {
		t.Fatalf("profile %+v: want the alphanumeric defaults 5/0, at most 11, registered_delivery 1", p)
	}
	f, err = config.Parse([]byte(base + "    source: {alphanumeric: {ton: 5, npi: 9}, maxAlphanumeric: 16}\n    quirks: {registeredDelivery: 17}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p := Profile(f.Operators[0]); p.AlphaTON != 5 || p.AlphaNPI != 9 || p.MaxAlphanumeric != 16 || p.RegisteredDelivery != 17 {
		t.Fatalf("profile %+v: want alphanumeric 5/9, at most 16, registered_delivery 17", p)
	}
}

// tlsOperator moves the rig onto a simulator whose operator mno-a listens
// over TLS only, serving cert, and points the rig's operator at it with tls:
// true and caFile; it returns the endpoint's address.
func (r *rig) tlsOperator(t *testing.T, cert *tlstest.Cert, caFile string) string {
	t.Helper()
	r.sim = startSim(t, server.OperatorConfig{ID: "mno-a", TLS: &server.TLSConfig{Config: tlstest.ServerConfig(cert)}})
	op, _ := r.sim.Operator("mno-a")
	y := fmt.Sprintf("operators:\n  - id: mno-a\n    endpoints: {primary: [{address: %q, tls: true}]}\n    tps: 100\n    tls: {caFile: %q}\n", op.Addr(), caFile)
	f, err := config.Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	r.cfg.Operator = f.Operators[0]
	return op.Addr()
}

// An operator whose endpoint has tls: true binds to the simulator's TLS
// listener (which speaks nothing else) and its messages go round trip; a
// certificate its CA does not vouch for keeps it unbound, the reason naming
// the operator and endpoint on its status, counted as a TLS failure, and no
// bind reaches the SMSC.
func TestOperatorBindsOverTLS(t *testing.T) {
	ca, cert := tlstest.New(t)
	caFile := ca.WriteFile(t, t.TempDir())

	t.Run("trusted", func(t *testing.T) {
		r := newRig(t, config.BindTransceiver, "")
		r.tlsOperator(t, cert, caFile)
		rn, _ := r.run(t)
		smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, owning(rn))
		r.send(t, "tls-1")
		r.waitReceipt(t, "tls-1")
		if n := r.successfulBinds("bind_transceiver"); n == 0 {
			t.Fatal("no bind reached the TLS listener")
		}
	})

	t.Run("certificate of another CA", func(t *testing.T) {
		r := newRig(t, config.BindTransceiver, "")
		addr := r.tlsOperator(t, tlstest.NewCA(t).Issue(t, "rogue", "127.0.0.1"), caFile)
		rn, _ := r.run(t)
		want := `operator "mno-a" endpoint ` + addr + ": TLS: tls: failed to verify certificate: x509: certificate signed by unknown authority"
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
		smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
			if n := r.sim.Stats().Sum("mno-a", "", "tls_handshake", "failed"); n < 1 {
				return fmt.Errorf("the SMSC has not seen the handshake fail yet")
			}
			return nil
		})
		if n := r.successfulBinds("bind_transceiver"); n != 0 {
			t.Fatalf("%d binds reached the SMSC through an untrusted certificate", n)
		}
	})
}
