package faults

import (
	"testing"

	"github.com/linxGnu/gosmpp/data"
)

func TestError(t *testing.T) {
	tests := []struct {
		params, match string
		cmd           data.CommandIDType
		want          string
	}{
		{`{"status":"ESME_RSYSERR"}`, "", data.SUBMIT_SM, "ESME_RSYSERR"},
		{`{"status":"esme_rsyserr"}`, "", data.SUBMIT_SM, "ESME_RSYSERR"},
		{`{"status":"0x0B"}`, "", data.SUBMIT_SM, "ESME_RINVDSTADR"},
		{`{"status":11}`, "", data.SUBMIT_SM, "ESME_RINVDSTADR"},
		{`{"status":"ESME_RSYSERR"}`, "", data.ENQUIRE_LINK, "ESME_RSYSERR"}, // any request without match.command
		{`{"status":"ESME_RSYSERR"}`, "submit_sm", data.ENQUIRE_LINK, "ok"},
		{`{"status":"ESME_RSYSERR"}`, "submit_sm", data.SUBMIT_SM, "ESME_RSYSERR"},
		{`{"status":"ESME_RINVCMDID","genericNack":true}`, "", data.SUBMIT_SM, "nack:ESME_RINVCMDID"},
	}
	for _, tc := range tests {
		r := NewRegistry(1, nil)
		in := add(t, r, Spec{Type: "error", Params: []byte(tc.params), Match: Match{Command: tc.match}})
		got := outcome(request(r, Event{Command: tc.cmd}))
		if got != tc.want {
			t.Errorf("%s match=%q on %s: got %s, want %s", tc.params, tc.match, tc.cmd, got, tc.want)
		}
		if wantHits := map[bool]uint64{true: 0, false: 1}[tc.want == "ok"]; in.Hits() != wantHits {
			t.Errorf("%s: hits %d, want %d", tc.params, in.Hits(), wantHits)
		}
	}
}

// With a probability, roughly that share of requests fails.
func TestErrorProbability(t *testing.T) {
	r := NewRegistry(7, nil)
	add(t, r, Spec{Type: "error", Probability: 0.2, Params: []byte(`{"status":"ESME_RSYSERR"}`)})
	failed := 0
	for range 5000 {
		if act := request(r, Event{Command: data.SUBMIT_SM}); act.Rejected() {
			failed++
		}
	}
	if failed < 900 || failed > 1100 {
		t.Fatalf("%d of 5000 failed, want about 1000", failed)
	}
}
