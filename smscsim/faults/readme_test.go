package faults

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"testing"
)

// The README is what users read: every example must be a valid spec, and
// every registered type must be in the table and have an example.
func TestReadmeExamples(t *testing.T) {
	md, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(md, -1)
	if len(blocks) == 0 {
		t.Fatal("no json examples in README.md")
	}
	r := NewRegistry(1, nil) // no env: runners are validated but not started
	examples := map[string]bool{}
	for i, b := range blocks {
		var s Spec
		dec := json.NewDecoder(bytes.NewReader(b[1]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			t.Errorf("example does not parse: %v\n%s", err, b[1])
			continue
		}
		if s.Name == "" {
			s.Name = fmt.Sprintf("%s-%d", s.Type, i) // names must be unique in one registry
		}
		if _, err := r.Add(s); err != nil {
			t.Errorf("example rejected: %v\n%s", err, b[1])
		}
		examples[s.Type] = true
	}
	for _, ty := range Types() {
		if !examples[ty.Name] {
			t.Errorf("type %s has no example in README.md", ty.Name)
		}
		if !bytes.Contains(md, []byte("| `"+ty.Name+"` |")) {
			t.Errorf("type %s is not in the README table", ty.Name)
		}
	}
}
