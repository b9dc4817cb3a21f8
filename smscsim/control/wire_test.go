package control

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/api"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/meter"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"github.com/smpp-connector/smpp-connector/smscsim/scenario"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

// The client reads the API with package api's types while the server writes
// the simulator's own: each pair must encode to the same bytes, empty and
// with every field set, and the api type must know every field the server
// writes.
func TestWireTypesMatchAPI(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	esm := byte(8)
	prof := profile.Profile{Name: "p", Style: "s", MessageID: profile.IDFormat{Format: "padded", Width: 12},
		ReceiptMessageID: &profile.IDFormat{Format: "hex"}, DataCoding0: "latin1",
		Receipt: profile.Receipt{Carry: "tlv", Text: "short", ESMClass: &esm, Parts: "last",
			PDU: "data_sm", DataCoding: 8, Intermediate: []string{"ENROUTE"}, IntermediateESMClass: &esm},
		EnquireLinkInterval: profile.Duration{D: 30 * time.Second}, IdleTimeout: profile.Duration{D: time.Minute}}
	spec := faults.Spec{Name: "n", Type: "throttle", Probability: 0.5,
		Match: faults.Match{Operator: "o", Account: "a", DestinationPrefix: "44", Command: "submit_sm"}, Params: json.RawMessage(`{"tps":5}`)}
	rec := recorder.Record{Seq: 1, Time: at, Operator: "o", Account: "a", SessionID: 2, Command: "submit_sm", Sequence: 3,
		Status: "ESME_ROK", Source: "s", Dest: "d", EsmClass: 0x40, DataCoding: 8, RegDlr: 1, Text: "t", UDH: "050003",
		TLVs: []string{"0x0424=00"}, MessageID: "m", Faults: []string{"f"}, Error: "e"}
	next := scenario.Duration(time.Second)
	cases := []struct {
		name      string
		sim, wire any // wire: a pointer to the api type
	}{
		{"spec", spec, &api.Spec{}},
		{"spec empty", faults.Spec{}, &api.Spec{}},
		{"mo", faults.MO{Account: "a", Source: "s", Dest: "d", Text: "t", Encoding: "ucs2", Segmentation: "sar"}, &api.MO{}},
		{"mo empty", faults.MO{}, &api.MO{}},
		{"operator", Operator{ID: "o", Addr: "x:1", Down: true, TLS: true, Profile: prof, Accounts: []Account{{SystemID: "a", Sessions: 1, Queued: 2}}, Sessions: 3}, &api.Operator{}},
		{"operator empty", Operator{}, &api.Operator{}},
		{"fault", Fault{Spec: spec, Hits: 4, Added: at, MO: &MOProgress{Sent: 1, Errors: 2, LastError: "x"}}, &api.Fault{}},
		{"fault empty", Fault{}, &api.Fault{}},
		{"pdus", PDUs{Records: []recorder.Record{rec, {}}, Capacity: 5, Total: 6, Evicted: 1}, &api.PDUs{}},
		{"pdus empty", PDUs{}, &api.PDUs{}},
		{"snapshot", server.Snapshot{Time: at, Uptime: "1s", Counts: []server.Count{{Operator: "o", Account: "a", Command: "c", Outcome: "ok", Count: 1}, {}},
			Sessions: []server.SessionInfo{{ID: 1, Operator: "o", Account: "a", BindType: "trx", Remote: "r", Since: at, Outstanding: 2}, {}},
			Queues:   map[string]map[string]int{"o": {"a": 1}}, Scheduled: map[string]int{"o": 2},
			DeliverResp: meter.LatencySummary{Count: 9, Samples: 8, P50: time.Millisecond, P99: 1500 * time.Microsecond, Max: time.Second}}, &api.Snapshot{}},
		{"snapshot empty", server.Snapshot{}, &api.Snapshot{}},
		{"meter", meter.Report{Account: "o/a", Limit: 1, Mode: "fixed", Arrivals: 2, Breaches: 3, FixedWindowsOver: 4, SlidingBreaches: 5,
			WorstFixedWindow: 6, WorstSlidingWindow: 7, CurrentTPS: 8, First: at, Last: at}, &api.MeterReport{}},
		{"meter empty", meter.Report{}, &api.MeterReport{}},
		{"scenario", scenario.Status{Name: "n", Seed: 1, State: "running", Started: at, Ended: at, Elapsed: "1s", Done: 1, Pending: 2, Failed: 3, Next: &next,
			Steps: []scenario.StepStatus{{Index: 1, Line: 2, At: scenario.Duration(time.Second), Action: "add", Target: "x", Done: true, Ran: at, Error: "e"}, {}}}, &api.ScenarioStatus{}},
		{"scenario empty", scenario.Status{}, &api.ScenarioStatus{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, err := json.Marshal(c.sim)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(want))
			dec.DisallowUnknownFields()
			if err := dec.Decode(c.wire); err != nil {
				t.Fatalf("api %T cannot read %s: %v", c.wire, want, err)
			}
			got, err := json.Marshal(reflect.ValueOf(c.wire).Elem().Interface())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("api %T writes\n%s\nthe server writes\n%s", c.wire, got, want)
			}
		})
	}
}
