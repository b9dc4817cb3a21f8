package metrics

import (
	"strings"
	"testing"

	"github.com/smpp-connector/smpp-connector/connector/session"
)

// smpp_bind_state's help names every state a bind exports.
func TestBindStateHelpNamesEveryState(t *testing.T) {
	m := New()
	m.BindState.WithLabelValues("mno-x", "mno-x-1", string(session.StateBound)).Set(1)
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "smpp_bind_state" {
			continue
		}
		for _, s := range session.States {
			if !strings.Contains(f.GetHelp(), string(s)) {
				t.Errorf("smpp_bind_state's help %q does not name the state %s", f.GetHelp(), s)
			}
		}
		return
	}
	t.Fatal("no smpp_bind_state gathered")
}
