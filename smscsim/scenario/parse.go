package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
)

// MaxSize bounds a scenario file.
const MaxSize = 1 << 20

// maxNodes bounds the YAML nodes visited, aliases included, so that a small
// file of nested aliases cannot make parsing explode.
const maxNodes = 100000

// Load reads and parses a scenario file.
func Load(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	sc, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sc, nil
}

// Parse decodes a scenario (YAML, or JSON) strictly, validates it and sorts
// its steps by offset (stable: equal offsets keep file order). Errors are
// *Error values that name the field and, where known, the line.
func Parse(b []byte) (*Scenario, error) {
	if len(b) > MaxSize {
		return nil, &Error{Msg: fmt.Sprintf("scenario is %d bytes, at most %d allowed", len(b), MaxSize)}
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, &Error{Msg: "empty scenario: want a mapping with name, seed and steps"}
	}
	root, err := decodeYAML(b)
	if err != nil {
		// JSON that YAML cannot read (\u surrogate escapes, say): normalise
		// it and try again; line numbers are lost then.
		trimmed := bytes.TrimSpace(b)
		if trimmed[0] != '{' || !json.Valid(trimmed) {
			return nil, err
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		if dec.Decode(&v) != nil {
			return nil, err
		}
		norm, merr := json.Marshal(v)
		if merr != nil {
			return nil, err
		}
		root, err = decodeYAML(norm)
		if err != nil {
			return nil, err
		}
		clearLines(root, 0)
	}
	p := &parser{lines: map[string]int{}}
	sc, err := p.scenario(root)
	if err != nil {
		return nil, err
	}
	if err := validate(sc, p.lines); err != nil {
		return nil, err
	}
	sort.SliceStable(sc.Steps, func(i, j int) bool { return sc.Steps[i].At < sc.Steps[j].At })
	return sc, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func decodeYAML(b []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Msg: "empty scenario: want a mapping with name, seed and steps"}
		}
		return nil, yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlError(err)
		}
		return nil, &Error{Line: extra.Line, Msg: "only one YAML document is allowed"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &Error{Msg: "empty scenario: want a mapping with name, seed and steps"}
	}
	return doc.Content[0], nil
}

func yamlError(err error) error {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &Error{Line: n, Msg: "invalid YAML: " + m[2]}
	}
	return &Error{Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

func clearLines(n *yaml.Node, depth int) {
	if n == nil || depth > 1000 {
		return
	}
	n.Line, n.Column = 0, 0
	for _, c := range n.Content {
		clearLines(c, depth+1)
	}
}

// parser walks the YAML tree, remembering the line of every field it sees so
// that validation errors can point at them.
type parser struct {
	lines map[string]int
	nodes int
}

type pair struct {
	key      string
	keyNode  *yaml.Node
	valNode  *yaml.Node
	explicit bool
}

func (p *parser) errf(n *yaml.Node, field, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) visit(n *yaml.Node, field string) (*yaml.Node, error) {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode; depth++ {
		if depth > 100 {
			return nil, p.errf(n, field, "aliases nested too deeply")
		}
		n = n.Alias
	}
	if n == nil {
		return nil, &Error{Field: field, Msg: "missing value"}
	}
	p.nodes++
	if p.nodes > maxNodes {
		return nil, p.errf(n, field, "document too large: more than %d values (aliases expanding too far?)", maxNodes)
	}
	return n, nil
}

func join(field, key string) string {
	if key == "" {
		return field
	}
	if field == "" {
		return key
	}
	return field + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!bool":
			return "a boolean"
		case "!!int", "!!float":
			return "a number"
		}
		return fmt.Sprintf("the string %q", n.Value)
	}
	return "something else"
}

// pairs returns a mapping's key/value pairs, merge keys (<<) expanded and
// duplicate keys refused.
func (p *parser) pairs(n *yaml.Node, field string) ([]pair, error) {
	return p.pairsDepth(n, field, 0)
}

func (p *parser) pairsDepth(n *yaml.Node, field string, depth int) ([]pair, error) {
	n, err := p.visit(n, field)
	if err != nil {
		return nil, err
	}
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, field, "want a mapping, got %s", kindName(n))
	}
	if depth > 20 {
		return nil, p.errf(n, field, "merge keys nested too deeply")
	}
	var explicit, merged []pair
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode {
			if k, err = p.visit(k, field); err != nil {
				return nil, err
			}
		}
		if k.Kind != yaml.ScalarNode {
			return nil, p.errf(k, field, "keys must be strings, got %s", kindName(k))
		}
		if k.ShortTag() == "!!merge" {
			var srcs []*yaml.Node
			vv, err := p.visit(v, field)
			if err != nil {
				return nil, err
			}
			if vv.Kind == yaml.SequenceNode {
				srcs = vv.Content
			} else {
				srcs = []*yaml.Node{vv}
			}
			for _, src := range srcs {
				ps, err := p.pairsDepth(src, field, depth+1)
				if err != nil {
					return nil, err
				}
				merged = append(merged, ps...)
			}
			continue
		}
		if first, dup := seen[k.Value]; dup {
			return nil, p.errf(k, join(field, k.Value), "duplicate key (first on line %d)", first)
		}
		seen[k.Value] = k.Line
		explicit = append(explicit, pair{key: k.Value, keyNode: k, valNode: v, explicit: true})
	}
	out := explicit
	for _, m := range merged {
		if _, ok := seen[m.key]; ok {
			continue
		}
		seen[m.key] = m.keyNode.Line
		m.explicit = false
		out = append(out, m)
	}
	for _, pr := range out {
		p.note(join(field, pr.key), pr.keyNode.Line)
	}
	return out, nil
}

func (p *parser) note(field string, line int) {
	if _, ok := p.lines[field]; !ok && line > 0 {
		p.lines[field] = line
	}
}

func unknownField(p *parser, pr pair, field string, known ...string) error {
	return p.errf(pr.keyNode, join(field, pr.key), "unknown field (want %s)", strings.Join(known, ", "))
}

func (p *parser) scalar(n *yaml.Node, field string) (*yaml.Node, error) {
	n, err := p.visit(n, field)
	if err != nil {
		return nil, err
	}
	if n.Kind != yaml.ScalarNode {
		return nil, p.errf(n, field, "want a single value, got %s", kindName(n))
	}
	return n, nil
}

func (p *parser) str(n *yaml.Node, field string) (string, error) {
	s, err := p.scalar(n, field)
	if err != nil {
		return "", err
	}
	if s.ShortTag() == "!!null" {
		return "", nil
	}
	return s.Value, nil
}

func (p *parser) scenario(root *yaml.Node) (*Scenario, error) {
	ps, err := p.pairs(root, "")
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Field == "" && strings.HasPrefix(e.Msg, "want a mapping") {
			e.Msg = "want a mapping with name, seed and steps, got " + kindName(root)
		}
		return nil, err
	}
	sc := &Scenario{}
	for _, pr := range ps {
		switch pr.key {
		case "name":
			if sc.Name, err = p.str(pr.valNode, "name"); err != nil {
				return nil, err
			}
		case "seed":
			n, err := p.scalar(pr.valNode, "seed")
			if err != nil {
				return nil, err
			}
			if n.ShortTag() == "!!null" {
				continue
			}
			if n.ShortTag() != "!!int" || n.Decode(&sc.Seed) != nil {
				return nil, p.errf(n, "seed", "want a non-negative integer, got %s", kindName(n))
			}
		case "steps":
			if sc.Steps, err = p.steps(pr.valNode); err != nil {
				return nil, err
			}
		default:
			return nil, unknownField(p, pr, "", "name, seed, steps")
		}
	}
	return sc, nil
}

func (p *parser) steps(n *yaml.Node) ([]Step, error) {
	n, err := p.visit(n, "steps")
	if err != nil {
		return nil, err
	}
	if n.ShortTag() == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errf(n, "steps", "want a list of steps, got %s", kindName(n))
	}
	out := make([]Step, 0, len(n.Content))
	for i, sn := range n.Content {
		field := fmt.Sprintf("steps[%d]", i)
		st, err := p.step(sn, field)
		if err != nil {
			return nil, err
		}
		st.Index = i
		out = append(out, st)
	}
	return out, nil
}

func (p *parser) step(n *yaml.Node, field string) (Step, error) {
	st := Step{}
	if vn, err := p.visit(n, field); err == nil {
		st.Line = vn.Line
		p.note(field, vn.Line)
	}
	ps, err := p.pairs(n, field)
	if err != nil {
		return st, err
	}
	sawAt := false
	for _, pr := range ps {
		f := join(field, pr.key)
		switch pr.key {
		case "at":
			sawAt = true
			if st.At, err = p.duration(pr.valNode, f); err != nil {
				return st, err
			}
		case "add":
			if st.Add, err = p.spec(pr.valNode, f); err != nil {
				return st, err
			}
		case "remove":
			if st.Remove, err = p.str(pr.valNode, f); err != nil {
				return st, err
			}
			if st.Remove == "" {
				return st, p.errf(pr.valNode, f, "want the name of a fault, got an empty value")
			}
		case "mo":
			if st.MO, err = p.mo(pr.valNode, f); err != nil {
				return st, err
			}
		case "reset":
			b, err := p.scalar(pr.valNode, f)
			if err != nil {
				return st, err
			}
			if b.ShortTag() != "!!bool" || b.Decode(&st.Reset) != nil {
				return st, p.errf(b, f, "want true, got %s", kindName(b))
			}
			if !st.Reset {
				return st, p.errf(b, f, "want true (leave the step out instead of reset: false)")
			}
		default:
			return st, unknownField(p, pr, field, "at, add, remove, mo, reset")
		}
	}
	if !sawAt {
		return st, p.errf(n, join(field, "at"), `required: when the step runs, from the start of the scenario ("0s", "1m30s")`)
	}
	return st, nil
}

func (p *parser) duration(n *yaml.Node, field string) (Duration, error) {
	s, err := p.scalar(n, field)
	if err != nil {
		return 0, err
	}
	var d Duration
	switch s.ShortTag() {
	case "!!int", "!!float":
		var f float64
		if err := s.Decode(&f); err != nil {
			return 0, p.errf(s, field, "want a duration like \"10s\", got %q", s.Value)
		}
		d, err = secondsDuration(f)
	case "!!str":
		d, err = ParseDuration(s.Value)
	default:
		return 0, p.errf(s, field, "want a duration like \"10s\", got %s", kindName(s))
	}
	if err != nil {
		return 0, p.errf(s, field, "%v", err)
	}
	return d, nil
}

func (p *parser) spec(n *yaml.Node, field string) (*faults.Spec, error) {
	ps, err := p.pairs(n, field)
	if err != nil {
		return nil, err
	}
	s := &faults.Spec{}
	for _, pr := range ps {
		f := join(field, pr.key)
		switch pr.key {
		case "name":
			s.Name, err = p.str(pr.valNode, f)
		case "type":
			s.Type, err = p.str(pr.valNode, f)
		case "probability":
			var v *yaml.Node
			if v, err = p.scalar(pr.valNode, f); err != nil {
				return nil, err
			}
			if t := v.ShortTag(); t == "!!null" {
				continue
			} else if (t != "!!int" && t != "!!float") || v.Decode(&s.Probability) != nil {
				return nil, p.errf(v, f, "want a number in [0,1], got %s", kindName(v))
			}
		case "match":
			err = p.match(pr.valNode, f, &s.Match)
		case "params":
			var raw []byte
			if raw, err = p.json(pr.valNode, f); err == nil && string(raw) != "null" {
				s.Params = raw
			}
		default:
			return nil, unknownField(p, pr, field, "name, type, probability, match, params")
		}
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (p *parser) match(n *yaml.Node, field string, m *faults.Match) error {
	vn, err := p.visit(n, field)
	if err != nil {
		return err
	}
	if vn.ShortTag() == "!!null" {
		return nil
	}
	return p.stringFields(n, field, "operator, account, destinationPrefix, command", map[string]*string{
		"operator": &m.Operator, "account": &m.Account, "destinationPrefix": &m.DestinationPrefix, "command": &m.Command,
	})
}

func (p *parser) mo(n *yaml.Node, field string) (*MO, error) {
	m := &MO{}
	err := p.stringFields(n, field, "operator, account, source, destination, text, encoding, segmentation", map[string]*string{
		"operator": &m.Operator, "account": &m.Account, "source": &m.Source, "destination": &m.Dest,
		"text": &m.Text, "encoding": &m.Encoding, "segmentation": &m.Segmentation,
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// stringFields reads a mapping whose values are all strings into dsts;
// allowed lists the keys for the unknown-field error.
func (p *parser) stringFields(n *yaml.Node, field, allowed string, dsts map[string]*string) error {
	ps, err := p.pairs(n, field)
	if err != nil {
		return err
	}
	for _, pr := range ps {
		dst, ok := dsts[pr.key]
		if !ok {
			return unknownField(p, pr, field, allowed)
		}
		if *dst, err = p.str(pr.valNode, join(field, pr.key)); err != nil {
			return err
		}
	}
	return nil
}

// json converts a YAML value to JSON, keeping the order of keys, so that a
// fault's params can be handed to its factory.
func (p *parser) json(n *yaml.Node, field string) ([]byte, error) {
	var buf bytes.Buffer
	if err := p.writeJSON(&buf, n, field, 0); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (p *parser) writeJSON(buf *bytes.Buffer, n *yaml.Node, field string, depth int) error {
	if depth > 100 {
		return p.errf(n, field, "nested too deeply")
	}
	n, err := p.visit(n, field)
	if err != nil {
		return err
	}
	switch n.Kind {
	case yaml.MappingNode:
		ps, err := p.pairs(n, field)
		if err != nil {
			return err
		}
		buf.WriteByte('{')
		for i, pr := range ps {
			if i > 0 {
				buf.WriteByte(',')
			}
			k, _ := json.Marshal(pr.key)
			buf.Write(k)
			buf.WriteByte(':')
			if err := p.writeJSON(buf, pr.valNode, join(field, pr.key), depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			f := fmt.Sprintf("%s[%d]", field, i)
			p.note(f, c.Line)
			if err := p.writeJSON(buf, c, f, depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			buf.WriteString("null")
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return p.errf(n, field, "invalid boolean %q", n.Value)
			}
			buf.WriteString(strconv.FormatBool(b))
		case "!!int":
			var i int64
			if err := n.Decode(&i); err != nil {
				var u uint64
				if err := n.Decode(&u); err != nil {
					return p.errf(n, field, "integer %q out of range", n.Value)
				}
				buf.WriteString(strconv.FormatUint(u, 10))
				break
			}
			buf.WriteString(strconv.FormatInt(i, 10))
		case "!!float":
			var f float64
			if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return p.errf(n, field, "want a finite number, got %q", n.Value)
			}
			buf.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		default: // strings, timestamps, binary and custom tags: their text
			s, _ := json.Marshal(n.Value)
			buf.Write(s)
		}
	default:
		return p.errf(n, field, "unsupported YAML value")
	}
	return nil
}
