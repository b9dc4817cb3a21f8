package config

import (
	"strings"
	"testing"
)

// An operators document may say which version of the configuration it is
// (the operator-management-service's answers do; a file may): the version
// is reported and logged with it, and checked like any other field.
func TestVersion(t *testing.T) {
	f, err := Parse([]byte("version: \"2024-06-01.3\"\n" + minimal))
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != "2024-06-01.3" {
		t.Fatalf("version %q", f.Version)
	}
	if f, err := Parse([]byte(minimal)); err != nil || f.Version != "" {
		t.Fatalf("no version: %q %v", f.Version, err)
	}
	// JSON is YAML: the service's body is parsed by the same code.
	f, err = Parse([]byte(`{"version": "42", "operators": [{"id": "mno-b", "endpoints": {"primary": [{"address": "127.0.0.1:2776"}]}, "tps": 50}]}`))
	if err != nil || f.Version != "42" || f.Operators[0].TPS != 50 {
		t.Fatalf("JSON: %+v %v", f, err)
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"not a string", "version: [1]\n" + minimal, `line 1: version: want a string`},
		{"too long", "version: " + strings.Repeat("x", 129) + "\n" + minimal, `line 1: version: 129 bytes: at most 128`},
		{"control character", "version: \"a\\tb\"\n" + minimal, `line 1: version: "a\tb": want printable characters without spaces`},
		{"space", "version: a b\n" + minimal, `version: "a b": want printable characters without spaces`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
