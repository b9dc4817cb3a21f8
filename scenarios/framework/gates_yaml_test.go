package framework

import (
	"strings"
	"testing"
)

// The gates file is read strictly, with lines: a typo names its line and
// the key it probably meant.
func TestParseGatesNamesTheLine(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"groups:\n  p1:\n    criteria:\n      a: {mni: 1}\n", `line 4: groups.p1.criteria.a.mni: unknown field (did you mean "min"?)`},
		{"groups:\n  p1:\n    criteria:\n      a: {min: lots}\n", `line 4: groups.p1.criteria.a.min: want a number, got the string "lots"`},
		{"groups:\n  p1: {criteria: {a: {min: 1}}}\n  p1: {criteria: {b: {min: 1}}}\n", `line 3: groups.p1: duplicate key (first on line 2)`},
		{"", "gates: empty file"},
	} {
		_, err := ParseGates([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.doc, err, tc.want)
		}
	}
}
