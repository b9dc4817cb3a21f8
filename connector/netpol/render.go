package netpol

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// Write writes np as YAML with a header and, above each rule, a comment
// naming what it is for (NetworkPolicy rules have no field for that).
func Write(w io.Writer, np networkingv1.NetworkPolicy, p *Policy, header string) error {
	b, err := yaml.Marshal(np)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(header), "\n") {
		fmt.Fprintf(&out, "# %s\n", line)
	}
	notes := map[string][]string{"  egress:": notesOf(p.Egress), "  ingress:": notesOf(p.Ingress)}
	var pending []string // notes of the list being written
	for _, line := range strings.SplitAfter(string(b), "\n") {
		trimmed := strings.TrimRight(line, "\n")
		if n, ok := notes[trimmed]; ok {
			pending = n
		} else if !strings.HasPrefix(trimmed, "  - ") && !strings.HasPrefix(trimmed, "    ") {
			pending = nil
		}
		if strings.HasPrefix(trimmed, "  - ") && len(pending) > 0 {
			fmt.Fprintf(&out, "  # %s\n", pending[0])
			pending = pending[1:]
		}
		out.WriteString(line)
	}
	_, err = w.Write(out.Bytes())
	return err
}

func notesOf(rules []Rule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.Note
	}
	return out
}
