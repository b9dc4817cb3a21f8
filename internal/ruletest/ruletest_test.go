package ruletest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

const rulesFile = `groups:
  - name: g
    rules:
      - alert: High
        expr: max by (job) (x) > 1
        for: 2m
        labels: {severity: page}
`

// Run follows Prometheus' pending/firing states: an alert is pending from
// the first evaluation its expression holds, fires once it has held for
// `for:`, and ends when it stops holding.
func TestRunHoldsForThenFires(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, []byte(rulesFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := Rules(t, file); len(r) != 1 || r[0].Name != "High" || r[0].For != 2*time.Minute || r[0].Labels["severity"] != "page" {
		t.Fatalf("Rules: %+v", r)
	}
	res := Run(t, file, "load 1m\n  x{job=\"j\", instance=\"i\"} 0 0 2 2 2 2 0 0\n", time.Minute, 7*time.Minute)
	state := func(at time.Duration) string {
		a := res.Alerts(at*time.Minute, "High")
		if len(a) == 0 {
			return "-"
		}
		return a[0].State
	}
	want := []string{"-", "-", "pending", "pending", "firing", "firing", "-", "-"}
	for i, w := range want {
		if got := state(time.Duration(i)); got != w {
			t.Errorf("at %dm: %s, want %s", i, got, w)
		}
	}
	if at, ok := res.FirstFiring("High"); !ok || at != 4*time.Minute {
		t.Errorf("FirstFiring: %v %v, want 4m", at, ok)
	}
	if got := Format(res.Firing(4*time.Minute, "High")[0]); got != `{job="j", severity="page"}` {
		t.Errorf("labels %s", got)
	}
}
