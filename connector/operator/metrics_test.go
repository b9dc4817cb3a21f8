package operator

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// gathered is every series of the metric name in reg, by its labels
// ("bind=mno-a-1,operator=mno-a", sorted), with its value. Read from the
// registry, so that looking does not create a series.
func gathered(t *testing.T, reg prometheus.Gatherer, name string) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			var ls []string
			for _, l := range s.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			slices.Sort(ls)
			out[strings.Join(ls, ",")] = s.GetGauge().GetValue() + s.GetCounter().GetValue()
		}
	}
	return out
}

func wantSeries(t *testing.T, reg prometheus.Gatherer, name string, want map[string]float64) func() error {
	return func() error {
		if got := gathered(t, reg, name); !maps.Equal(got, want) {
			return fmt.Errorf("%s: %v, want %v", name, got, want)
		}
		return nil
	}
}

// The operator exports its contract TPS and window while it runs, owner or
// standby, and the endpoint each bound bind is on: primary, then, once the
// primary's outage moves the bind, backup only (the primary's series gone),
// the move counted in smpp_bind_failovers_total; and the rotation schedule
// (the credential's version and age, credentials.maxAge). Stopping the
// runner takes the series away.
func TestOperatorExportsSettingsAndBindEndpoint(t *testing.T) {
	r := newRig(t, config.BindTransceiver, "")
	sim := startSim(t, server.OperatorConfig{ID: "mno-a"}, server.OperatorConfig{ID: "mno-a-backup"})
	r.sim = sim
	primary, _ := sim.Operator("mno-a")
	backup, _ := sim.Operator("mno-a-backup")
	y := fmt.Sprintf("operators:\n  - id: mno-a\n    endpoints: {primary: [{address: %q}], backup: [{address: %q}]}\n"+
		"    tps: 42\n    window: 7\n    bindTimeout: 300ms\n    dialTimeout: 300ms\n    rebind: {initial: 50ms, max: 200ms}\n"+
		"    credentials: {maxAge: 720h}\n",
		primary.Addr(), backup.Addr())
	f, err := config.Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	r.cfg.Operator = f.Operators[0]
	m := r.deps.Metrics
	reg := m.Registry
	// The credential as a Vault Agent template renders it, with the
	// secret's metadata: its version and when it was written.
	if err := os.WriteFile(r.cred, []byte(`{"system_id":"acme","password":"pw1","version":3,"created_time":"2026-09-01T10:00:00Z"}`), 0o600); err != nil {
		t.Fatal(err)
	}

	rn, stop := r.run(t)
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, owning(rn))
	smpptest.Eventually(t, 5*time.Second, 20*time.Millisecond, wantSeries(t, reg, "smpp_operator_tps_limit", map[string]float64{"operator=mno-a": 42}))
	smpptest.Eventually(t, 5*time.Second, 20*time.Millisecond, wantSeries(t, reg, "smpp_operator_window_size", map[string]float64{"operator=mno-a": 7}))
	smpptest.Eventually(t, 5*time.Second, 20*time.Millisecond, wantSeries(t, reg, "smpp_bind_endpoint",
		map[string]float64{"bind=mno-a-1,endpoint=primary,operator=mno-a": 1}))
	if n := testutil.ToFloat64(m.BindFailovers.WithLabelValues("mno-a")); n != 0 {
		t.Fatalf("smpp_bind_failovers_total = %v before any failover", n)
	}
	// The rotation schedule: the bound credential's version and creation
	// time, and the operator's maxAge.
	created := float64(time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC).Unix())
	smpptest.Eventually(t, 5*time.Second, 20*time.Millisecond, wantSeries(t, reg, "smpp_credential_version", map[string]float64{"operator=mno-a": 3}))
	smpptest.Eventually(t, 5*time.Second, 20*time.Millisecond, wantSeries(t, reg, "smpp_credential_created_timestamp_seconds", map[string]float64{"operator=mno-a": created}))
	smpptest.Eventually(t, 5*time.Second, 20*time.Millisecond, wantSeries(t, reg, "smpp_credential_max_age_seconds", map[string]float64{"operator=mno-a": 720 * 3600}))

	if _, err := sim.Faults.Add(faults.Spec{Type: "outage", Params: []byte(`{}`), Match: faults.Match{Operator: "mno-a"}}); err != nil {
		t.Fatal(err)
	}
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, wantSeries(t, reg, "smpp_bind_endpoint",
		map[string]float64{"bind=mno-a-1,endpoint=backup,operator=mno-a": 1}))
	if n := testutil.ToFloat64(m.BindFailovers.WithLabelValues("mno-a")); n < 1 {
		t.Fatalf("smpp_bind_failovers_total = %v after the bind moved to the backup", n)
	}

	stop()
	for _, name := range []string{"smpp_operator_tps_limit", "smpp_operator_window_size", "smpp_bind_endpoint",
		"smpp_credential_version", "smpp_credential_created_timestamp_seconds", "smpp_credential_max_age_seconds"} {
		if err := wantSeries(t, reg, name, map[string]float64{})(); err != nil {
			t.Errorf("after the runner stopped: %v", err)
		}
	}
}

func TestEndpointNames(t *testing.T) {
	got := append(endpointNames("primary", 2), endpointNames("backup", 1)...)
	if want := []string{"primary", "primary-2", "backup"}; !slices.Equal(got, want) {
		t.Fatalf("endpointNames: %q, want %q", got, want)
	}
}
