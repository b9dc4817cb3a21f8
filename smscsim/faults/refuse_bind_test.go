package faults

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/linxGnu/gosmpp/data"
)

func TestRefuseBindStatus(t *testing.T) {
	tests := []struct {
		params, account string
		match           Match
		want            string
	}{
		{`{}`, "shop", Match{}, "ESME_RBINDFAIL"},
		{`{"status":"ESME_RINVPASWD"}`, "shop", Match{}, "ESME_RINVPASWD"},
		{`{"status":"ESME_RALYBND"}`, "shop", Match{}, "ESME_RALYBND"},
		{`{}`, "shop", Match{Account: "other"}, "ok"},
		{`{}`, "shop", Match{Operator: "acme"}, "ESME_RBINDFAIL"},
		{`{}`, "shop", Match{Operator: "globex"}, "ok"},
	}
	for _, tc := range tests {
		r := NewRegistry(1, nil)
		add(t, r, Spec{Type: "refuse_bind", Params: []byte(tc.params), Match: tc.match})
		got := outcome(bind(r, Event{Operator: "acme", Account: tc.account, Command: data.BIND_TRANSMITTER}))
		if got != tc.want {
			t.Errorf("%s %+v: got %s, want %s", tc.params, tc.match, got, tc.want)
		}
		// Not a RequestHook: a session that is already bound keeps working.
		if got := outcome(request(r, Event{Operator: "acme", Account: tc.account, Command: data.SUBMIT_SM})); got != "ok" {
			t.Errorf("%s: submit_sm got %s", tc.params, got)
		}
	}
}

func TestRefuseBindTCP(t *testing.T) {
	tests := []struct {
		name     string
		match    Match
		failDown string
		wantDown []string
		wantUp   []string
	}{
		{"all operators", Match{}, "", []string{"down acme", "down globex"}, []string{"up acme", "up globex"}},
		{"one operator", Match{Operator: "globex"}, "", []string{"down globex"}, []string{"up globex"}},
		// a listener that could not be closed is not reopened (Env counts reasons)
		{"failed close is not undone", Match{}, "acme", []string{"down-failed acme", "down globex"}, []string{"up globex"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newFakeEnv("acme", "globex")
			if tc.failDown != "" {
				env.failDown[tc.failDown] = true
			}
			// A synctest bubble: fake clock, and synctest.Wait is the barrier
			// that the runner is parked.
			synctest.Test(t, func(t *testing.T) {
				r := NewRegistry(1, env)
				add(t, r, Spec{Type: "refuse_bind", Params: []byte(`{"tcp":true}`), Match: tc.match})
				synctest.Wait()
				if got := env.Calls(); !slices.Equal(got, tc.wantDown) {
					t.Fatalf("while active: %v, want %v", got, tc.wantDown)
				}
				// the listener stays down until the fault is removed
				time.Sleep(24 * time.Hour)
				synctest.Wait()
				if got := env.Calls(); !slices.Equal(got, tc.wantDown) {
					t.Fatalf("a day later: %v, want still %v", got, tc.wantDown)
				}
				if err := r.Remove("refuse_bind"); err != nil {
					t.Fatal(err)
				}
				if got := env.Calls(); !slices.Equal(got, append(slices.Clone(tc.wantDown), tc.wantUp...)) {
					t.Fatalf("after removal: %v, want %v then %v", got, tc.wantDown, tc.wantUp)
				}
			})
		})
	}
}

// tcp mode is not a BindHook: the listener is closed, there is no bind to answer.
func TestRefuseBindTCPNoBindHook(t *testing.T) {
	r := NewRegistry(1, newFakeEnv("acme"))
	add(t, r, spec("refuse_bind", `{"tcp":true}`))
	defer r.Reset()
	if got := outcome(bind(r, Event{Command: data.BIND_TRANSCEIVER})); got != "ok" {
		t.Fatalf("got %s", got)
	}
}
