package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/smpp-connector/smpp-connector/smscsim/scenario"
)

// Marshal writes the scenario as YAML in the scenario file format, with the
// header lines as comments on top, and checks that scenario.Parse reads it
// back: what replay writes, serve --scenario loads.
func Marshal(sc *scenario.Scenario, header []string) ([]byte, error) {
	js, err := json.Marshal(sc)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(js, &doc); err != nil {
		return nil, err
	}
	tidy(&doc, "")
	var lines []string
	for _, h := range header {
		for _, l := range strings.Split(h, "\n") {
			lines = append(lines, strings.TrimRight(l, " "))
		}
	}
	if len(doc.Content) == 1 {
		doc.Content[0].HeadComment = strings.Join(lines, "\n")
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	if _, err := scenario.Parse(buf.Bytes()); err != nil {
		return nil, fmt.Errorf("written scenario does not parse (a bug): %w", err)
	}
	return buf.Bytes(), nil
}

// tidy drops the JSON quoting (the encoder quotes what needs it, "000"
// included) and writes each script entry and match on one line.
func tidy(n *yaml.Node, key string) {
	switch n.Kind {
	case yaml.ScalarNode:
		n.Style = 0
	case yaml.MappingNode:
		if key == "match" || key == "mo" || key == "responses[]" || key == "receipts[]" {
			n.Style = yaml.FlowStyle
		} else {
			n.Style = 0
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			tidy(n.Content[i], "")
			tidy(n.Content[i+1], n.Content[i].Value)
		}
	case yaml.SequenceNode:
		n.Style = 0
		if key == "tlvs" {
			n.Style = yaml.FlowStyle
		}
		for _, c := range n.Content {
			tidy(c, key+"[]")
		}
	default:
		for _, c := range n.Content {
			tidy(c, key)
		}
	}
}
