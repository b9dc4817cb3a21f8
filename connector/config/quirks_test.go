package config

import (
	"strings"
	"testing"
)

// The settings that document and answer an operator's habits: notes (text
// for people), the TON/NPI and length limit of alphanumeric senders, and
// the registered_delivery asked with a receipt. Defaults first, then each
// set, then each refused with an error naming the operator and the field.
func TestQuirkSettings(t *testing.T) {
	f, err := Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	o := f.Operators[0]
	if o.Source.Alphanumeric != (Address{TON: 5, NPI: 0}) || o.Source.MaxAlphanumeric != 11 || o.Quirks.RegisteredDelivery != 1 || o.Notes != "" {
		t.Fatalf("defaults: source %+v, registeredDelivery %d, notes %q", o.Source, o.Quirks.RegisteredDelivery, o.Notes)
	}

	f, err = Parse([]byte(minimal + `    notes: |
      Sends every receipt with esm_class 0. NOC: +44 20 7946 0000.
    source: {ton: 1, npi: 1, alphanumeric: {ton: 5, npi: 9}, maxAlphanumeric: 16}
    quirks: {registeredDelivery: 17}
`))
	if err != nil {
		t.Fatal(err)
	}
	o = f.Operators[0]
	if !strings.Contains(o.Notes, "esm_class 0") || o.Source.Address != (Address{TON: 1, NPI: 1}) ||
		o.Source.Alphanumeric != (Address{TON: 5, NPI: 9}) || o.Source.MaxAlphanumeric != 16 || o.Quirks.RegisteredDelivery != 17 {
		t.Fatalf("set: notes %q, source %+v, registeredDelivery %d", o.Notes, o.Source, o.Quirks.RegisteredDelivery)
	}

	for extra, want := range map[string]string{
		"    quirks: {registeredDelivery: 3}\n":                `operator "mno-b": quirks.registeredDelivery: must be one of [1 2 17 18]`,
		"    quirks: {registeredDelivery: 0}\n":                `operator "mno-b": quirks.registeredDelivery: must be one of [1 2 17 18]`,
		"    source: {maxAlphanumeric: 21}\n":                  `operator "mno-b": source.maxAlphanumeric: must be 1-20`,
		"    source: {alphanumeric: {ton: 7}}\n":               `operator "mno-b": source.alphanumeric.ton: must be 0-6`,
		"    credentials: {maxAge: 1h}\n":                      `operator "mno-b": credentials.maxAge: must be at least 24h`,
		"    source: {alphanumerics: {ton: 5}}\n":              `operator "mno-b": source.alphanumerics: unknown field`,
		"    notes: " + strings.Repeat("x", maxNotes+1) + "\n": `operator "mno-b": notes: 8193 bytes: at most 8192`,
	} {
		_, err := Parse([]byte(minimal + extra))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %s", strings.TrimSpace(extra)[:min(60, len(strings.TrimSpace(extra)))], err, want)
		}
	}
}
