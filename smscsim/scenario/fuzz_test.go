package scenario

import (
	"encoding/json"
	"os"
	"testing"
)

// FuzzParseScenario: Parse never panics, and whatever it accepts validates
// again, is sorted, and survives a JSON round trip.
func FuzzParseScenario(f *testing.F) {
	for _, name := range []string{"testdata/example.yaml", "testdata/replayed.yaml"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"steps:\n  - at: 1s\n    reset: true\n",
		`{"steps":[{"at":"2s","remove":"x"},{"at":0,"add":{"type":"receipt_drop","probability":0.5}}]}`,
		"steps:\n  - at: 1s\n    add: &a {type: error, params: {status: 8}}\n  - at: 2s\n    add: {<<: *a, name: b}\n",
		"a: &a [*a]\n",
		"steps:\n  - {at: 3, mo: {operator: o, source: '1', destination: '2', text: hi, segmentation: sar}}\n",
		"steps:\n  - {at: 0, add: {type: response_script, params: {responses: [{status: 88, count: 2}], then: cycle}}}\n",
		"steps:\n  - {at: 0, add: {type: receipt_script, params: {receipts: [{drop: true}], style: {template: 'id:{id} {{x', tlvs: []}}}}\n",
		"seed: 0x10\nsteps:\n  - at: 1s\n    add: {type: latency, params: {distribution: {kind: uniform, max: 1s}}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sc, err := Parse(b)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			return
		}
		if err := sc.Validate(); err != nil {
			t.Fatalf("parsed scenario does not validate: %v", err)
		}
		for i := 1; i < len(sc.Steps); i++ {
			if sc.Steps[i].At < sc.Steps[i-1].At {
				t.Fatalf("steps not sorted: %s before %s", sc.Steps[i-1].At, sc.Steps[i].At)
			}
		}
		out, err := json.Marshal(sc)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if len(again.Steps) != len(sc.Steps) {
			t.Fatalf("round trip changed the step count: %d -> %d", len(sc.Steps), len(again.Steps))
		}
	})
}
