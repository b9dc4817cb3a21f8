package faults

import (
	"strings"
	"testing"
)

// Every type decodes its params strictly and names the field it rejects.
func TestParams(t *testing.T) {
	const normal = `{"kind":"normal","mean":"100ms","stddev":"20ms","min":"0s","max":"1s"}`
	tests := []struct {
		typ, params string
		wantErr     string // "" = valid
	}{
		{"throttle", `{"tps":10}`, ""},
		{"throttle", `{"tps":10,"window":"fixed","status":"ESME_RMSGQFUL","count":["submit_sm"],"countRejected":false}`, ""},
		{"throttle", `{"tps":10,"status":88}`, ""},
		{"throttle", `{"tps":10,"status":"0x58","genericNack":true}`, ""},
		{"throttle", `{}`, "params.tps: must be > 0"},
		{"throttle", `{"tps":0}`, "params.tps: must be > 0"},
		{"throttle", `{"tps":-1}`, "params.tps: must be > 0"},
		{"throttle", `{"tps":10,"tpss":1}`, `unknown field "tpss"`},
		{"throttle", `{"tps":10,"window":"rolling"}`, "params.window:"},
		{"throttle", `{"tps":10,"status":"ESME_RNOPE"}`, "params.status:"},
		{"throttle", `{"tps":10,"status":true}`, "status:"},
		{"throttle", `{"tps":10,"count":["submit_sm","sumbit_sm"]}`, "params.count[1]:"},
		{"window", `{"max":10}`, ""},
		{"window", `{"max":10,"genericNack":true}`, ""},
		{"window", `{"max":0}`, "params.max: must be > 0"},
		{"window", `{"max":10,"size":1}`, `unknown field "size"`},
		{"error", `{"status":"ESME_RSYSERR"}`, ""},
		{"error", `{"status":"8","genericNack":true}`, ""},
		{"error", `{}`, "params.status: required"},
		{"error", `{"status":"nope"}`, "params.status:"},
		{"latency", `{"distribution":{"kind":"fixed","value":"200ms"}}`, ""},
		{"latency", `{"distribution":{"kind":"uniform","min":"10ms","max":"50ms"}}`, ""},
		{"latency", `{"distribution":` + normal + `}`, ""},
		{"latency", `{"distribution":{"kind":"normal","mean":"1s","stddev":"2s"}}`, ""},
		{"latency", `{}`, "params.distribution.kind: required"},
		{"latency", `{"distribution":{"kind":"poisson"}}`, "params.distribution.kind:"},
		{"latency", `{"distribution":{"kind":"fixed"}}`, "params.distribution.value: required"},
		{"latency", `{"distribution":{"kind":"fixed","value":"-1s"}}`, "params.distribution.value: must be >= 0"},
		{"latency", `{"distribution":{"kind":"fixed","value":"1s","max":"2s"}}`, "params.distribution.max: not used by kind fixed"},
		{"latency", `{"distribution":{"kind":"uniform","min":"10ms"}}`, "params.distribution.max: required"},
		{"latency", `{"distribution":{"kind":"uniform","min":"50ms","max":"10ms"}}`, "params.distribution.min: must be <= max"},
		{"latency", `{"distribution":{"kind":"normal","mean":"1s"}}`, "params.distribution.stddev: required"},
		{"latency", `{"distribution":{"kind":"normal","stddev":"1s"}}`, "params.distribution.mean: required"},
		{"latency", `{"distribution":{"kind":"fixed","value":"soon"}}`, "soon"},
		{"latency", `{"distribution":{"kind":"fixed","value":"1s","jitter":"1s"}}`, `unknown field "jitter"`},
		{"blackhole", ``, ""},
		{"blackhole", `{}`, ""},
		{"blackhole", `{"x":1}`, `unknown field "x"`},
		{"disconnect", `{"afterPdus":3}`, ""},
		{"disconnect", `{"afterPdus":3,"answerFirst":true}`, ""},
		{"disconnect", `{"at":"10s"}`, ""},
		{"disconnect", `{"every":"5s"}`, ""},
		{"disconnect", `{}`, "params.afterPdus: exactly one of"},
		{"disconnect", `{"afterPdus":3,"every":"5s"}`, "params.afterPdus: exactly one of"},
		{"disconnect", `{"at":"1s","answerFirst":true}`, "params.answerFirst:"},
		{"disconnect", `{"at":"-1s"}`, "params.at: must be >= 0"},
		{"disconnect", `{"every":"0s"}`, "params.every: must be > 0"},
		{"refuse_bind", `{}`, ""},
		{"refuse_bind", `{"status":"ESME_RINVPASWD"}`, ""},
		{"refuse_bind", `{"tcp":true}`, ""},
		{"refuse_bind", `{"tcp":true,"status":"ESME_RALYBND"}`, "params.status: not used with tcp"},
		{"refuse_bind", `{"status":"ESME_BAD"}`, "params.status:"},
		{"outage", `{}`, ""},
		{"outage", `{"duration":"30s"}`, ""},
		{"outage", `{"duration":"-30s"}`, "params.duration: must be >= 0"},
		{"outage", `{"for":"30s"}`, `unknown field "for"`},
		{"restart", `{}`, ""},
		{"restart", `{"duration":"2s","firstId":1000}`, ""},
		{"restart", `{"duration":"0s"}`, "params.duration: must be > 0"},
		{"restart", `{"firstId":0}`, "params.firstId: must be >= 1"},
		{"restart", `{"first":5}`, `unknown field "first"`},
		{"receipt_delay", `{"distribution":{"kind":"fixed","value":"2s"}}`, ""},
		{"receipt_delay", `{"distribution":{"kind":"uniform"}}`, "params.distribution.max: required"},
		{"receipt_outcomes", `{"weights":{"DELIVRD":90,"UNDELIV":10},"errorCodes":{"UNDELIV":"069"}}`, ""},
		{"receipt_outcomes", `{"weights":{"DELIVERED":90}}`, "params.weights.DELIVERED: unknown receipt stat"},
		{"receipt_outcomes", `{"weights":{"DELIVRD":-1,"UNDELIV":2}}`, "params.weights.DELIVRD: must be >= 0"},
		{"receipt_outcomes", `{"weights":{"DELIVRD":0}}`, "params.weights: need at least one weight > 0"},
		{"receipt_outcomes", `{}`, "params.weights: need at least one weight > 0"},
		{"receipt_outcomes", `{"weights":{"DELIVRD":1},"errorCodes":{"UNDELIV":"1"}}`, "params.errorCodes.UNDELIV: must be 3 digits"},
		{"receipt_outcomes", `{"weights":{"DELIVRD":1},"errorCodes":{"FAILED":"001"}}`, "params.errorCodes.FAILED: unknown receipt stat"},
		{"receipt_drop", `{}`, ""},
		{"receipt_drop", `{"rate":0.1}`, `unknown field "rate"`},
		{"receipt_duplicate", `{}`, ""},
		{"receipt_duplicate", `{"copies":3}`, ""},
		{"receipt_duplicate", `{"copies":1}`, "params.copies: must be >= 2"},
		{"receipt_early", `{}`, ""},
		{"response_script", `{}`, "params.responses: at least one entry"},
		{"response_script", `{"responses":[{"status":"nope"}]}`, "params.responses[0].status"},
		{"response_script", `{"responses":[{}],"then":"loop"}`, "params.then"},
		{"response_script", `{"responses":[{"delay":"-1s"}]}`, "params.responses[0].delay"},
		{"receipt_script", `{"receipts":[]}`, "params.receipts: at least one entry"},
		{"receipt_script", `{"receipts":[{"stat":"GONE"}]}`, "params.receipts[0].stat"},
		{"receipt_script", `{"receipts":[{"err":"1"}]}`, "params.receipts[0].err"},
		{"receipt_script", `{"receipts":[{}],"style":{"template":"{bad}"}}`, "params.style.template"},
		{"receipt_script", `{"receipts":[{}],"style":{"tlvs":["x"]}}`, "params.style.tlvs[0]"},
		{"receipt_script", `{"receipts":[{}],"style":{"idFormat":"octal"}}`, "params.style.idFormat"},
		{"receipt_early", `{"early":true}`, `unknown field "early"`},
		{"mo", `{"rate":5}`, ""},
		{"mo", `{"rate":0.5,"count":10,"account":"acme","source":"447700900001","destination":"ACME","text":"hi","encoding":"ucs2","segmentation":"sar"}`, ""},
		{"mo", `{}`, "params.rate: must be > 0"},
		{"mo", `{"rate":100000}`, "params.rate:"},
		{"mo", `{"rate":5,"count":-1}`, "params.count: must be >= 0"},
		{"mo", `{"rate":5,"encoding":"ebcdic"}`, "params.encoding:"},
		{"mo", `{"rate":5,"segmentation":"udh7"}`, "params.segmentation:"},
		{"mo", `{"rate":5,"source":""}`, "params.source:"},
		{"mo", `{"rate":5,"destination":""}`, "params.destination:"},
		{"mo", `{"rate":5,"dest":"x"}`, `unknown field "dest"`},
		{"malformed", `{"kind":"garbage"}`, ""},
		{"malformed", `{}`, "params.kind: must be one of"},
		{"malformed", `{"kind":"noise"}`, "params.kind: must be one of"},
	}
	for _, tc := range tests {
		t.Run(tc.typ+" "+tc.params, func(t *testing.T) {
			_, err := NewRegistry(1, nil).Add(spec(tc.typ, tc.params))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("want error containing %q, got none", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
			}
		})
	}
}

// Every registered type is covered by TestParams.
func TestParamsCoverEveryType(t *testing.T) {
	want := []string{"blackhole", "disconnect", "error", "latency", "malformed", "mo", "outage",
		"receipt_delay", "receipt_drop", "receipt_duplicate", "receipt_early", "receipt_outcomes",
		"receipt_script", "refuse_bind", "response_script", "restart", "throttle", "window"}
	var got []string
	for _, ty := range Types() {
		got = append(got, ty.Name)
		if ty.Description == "" {
			t.Errorf("%s: no description", ty.Name)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("types = %v, want %v", got, want)
	}
}
