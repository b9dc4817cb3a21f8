package faults

import (
	"testing"

	"github.com/linxGnu/gosmpp/data"
)

func TestBlackhole(t *testing.T) {
	tests := []struct {
		match                string
		bindDrop, submitDrop bool
	}{
		{"", true, true},
		{"bind", true, false},
		{"submit_sm", false, true},
	}
	for _, tc := range tests {
		r := NewRegistry(1, nil)
		add(t, r, Spec{Type: "blackhole", Match: Match{Command: tc.match}})
		b := bind(r, Event{Command: data.BIND_TRANSCEIVER})
		s := request(r, Event{Command: data.SUBMIT_SM})
		if b.Drop != tc.bindDrop || s.Drop != tc.submitDrop {
			t.Errorf("match=%q: bind dropped %v (want %v), submit dropped %v (want %v)", tc.match, b.Drop, tc.bindDrop, s.Drop, tc.submitDrop)
		}
		if b.Close || s.Close {
			t.Errorf("match=%q: a black hole keeps TCP open", tc.match)
		}
	}
}
