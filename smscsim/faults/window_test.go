package faults

import (
	"testing"

	"github.com/linxGnu/gosmpp/data"
)

func TestWindow(t *testing.T) {
	tests := []struct {
		params      string
		outstanding int
		want        string
	}{
		{`{"max":3}`, 1, "ok"},
		{`{"max":3}`, 3, "ok"},
		{`{"max":3}`, 4, "ESME_RMSGQFUL"},
		{`{"max":3}`, 40, "ESME_RMSGQFUL"},
		{`{"max":1,"status":"ESME_RTHROTTLED"}`, 2, "ESME_RTHROTTLED"},
		{`{"max":1,"genericNack":true}`, 2, "nack:ESME_RMSGQFUL"},
		{`{"max":1,"genericNack":true}`, 1, "ok"},
	}
	for _, tc := range tests {
		r := NewRegistry(1, nil)
		add(t, r, spec("window", tc.params))
		got := outcome(request(r, Event{Command: data.SUBMIT_SM, Outstanding: tc.outstanding}))
		if got != tc.want {
			t.Errorf("%s with %d outstanding: got %s, want %s", tc.params, tc.outstanding, got, tc.want)
		}
	}
}

// match.command=submit_sm leaves enquire_link alone even with a full window.
func TestWindowMatchCommand(t *testing.T) {
	r := NewRegistry(1, nil)
	add(t, r, Spec{Type: "window", Params: []byte(`{"max":1}`), Match: Match{Command: "submit_sm"}})
	if got := outcome(request(r, Event{Command: data.ENQUIRE_LINK, Outstanding: 5})); got != "ok" {
		t.Fatalf("enquire_link: got %s", got)
	}
	if got := outcome(request(r, Event{Command: data.SUBMIT_SM, Outstanding: 5})); got != "ESME_RMSGQFUL" {
		t.Fatalf("submit_sm: got %s", got)
	}
}
