package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/smpp-connector/smpp-connector/internal/yamlcheck"
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
		return nil, &Error{Msg: emptyMsg}
	}
	root, err := document(b)
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
		root, err = document(norm)
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

// emptyMsg is the error of a file without a scenario.
const emptyMsg = "empty scenario: want a mapping with name, seed and steps"

// document reads the one YAML document of b (yamlcheck: syntax errors and a
// second document have lines).
func document(b []byte) (*yaml.Node, error) {
	root, err := yamlcheck.Document(b)
	if err == nil && root == nil {
		err = &Error{Msg: emptyMsg}
	}
	return root, err
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

// join is the path of a key in field.
func join(field, key string) string { return yamlcheck.Field(field, key) }

// kindName says what a node holds ("the number 5").
func kindName(n *yaml.Node) string { return yamlcheck.Describe(n) }

// pairs returns a mapping's key/value pairs, merge keys (<<) expanded and
// duplicate keys refused (yamlcheck.Pairs), and notes their lines.
func (p *parser) pairs(n *yaml.Node, field string) ([]pair, error) {
	n, err := p.visit(n, field)
	if err != nil {
		return nil, err
	}
	ps, err := yamlcheck.Pairs(n, field)
	if err != nil {
		return nil, yamlcheck.AsErrors(err)[0]
	}
	out := make([]pair, len(ps))
	for i, pr := range ps {
		out[i] = pair{key: pr.Key, keyNode: pr.KeyNode, valNode: pr.Value, explicit: !pr.Merged}
		p.note(join(field, pr.Key), pr.KeyNode.Line)
	}
	return out, nil
}

func (p *parser) note(field string, line int) {
	if _, ok := p.lines[field]; !ok && line > 0 {
		p.lines[field] = line
	}
}

// unknownField refuses a key: with the closest known one when there is one,
// else with the list of known keys.
func unknownField(p *parser, pr pair, field, known string) error {
	msg := yamlcheck.Unknown(pr.key, strings.Split(known, ", "))
	if msg == "unknown field" {
		msg += " (want " + known + ")"
	}
	return p.errf(pr.keyNode, join(field, pr.key), "%s", msg)
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
