package yamlcheck

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DefaultMaxNodes bounds the values a Checker visits, aliases included, so
// that a small file of nested aliases cannot make checking explode.
const DefaultMaxNodes = 100000

// Checker compares YAML nodes with the Go type they are to be decoded into,
// before anything is decoded: unknown fields (with the closest known one),
// values of the wrong type, duplicate keys. It reports every problem, not
// only the first. Struct fields are named by their yaml tag (or the lower-
// cased field name); maps with string keys, slices, pointers and
// time.Duration (a string such as "30s") are understood; a null value is
// accepted anywhere (the field keeps its default).
type Checker struct {
	// Key, when set, is asked about every mapping key, also below unknown
	// fields: a non-empty answer refuses the key (and its value) with that
	// message. The operators file refuses password keys this way.
	Key func(key string) string
	// Lines, when set, receives the line of every field and list item seen,
	// by path (the first one written when a merge key repeats it).
	Lines map[string]int
	// MaxNodes overrides DefaultMaxNodes.
	MaxNodes int

	nodes int
	errs  []*Error
}

// Strict checks n against v's type and, when it fits, decodes it into v
// (a pointer). Problems are *Error values joined in file order.
func Strict(n *yaml.Node, v any) error {
	var c Checker
	if errs := c.Check(n, reflect.TypeOf(v), ""); len(errs) > 0 {
		return Join(errs)
	}
	if err := n.Decode(v); err != nil {
		return &Error{Line: n.Line, Msg: err.Error()}
	}
	return nil
}

// Check checks n, at path, against t and returns every problem found so far
// by this Checker.
func (c *Checker) Check(n *yaml.Node, t reflect.Type, path string) []*Error {
	c.check(n, t, path)
	return c.errs
}

func (c *Checker) errorf(n *yaml.Node, path, format string, args ...any) {
	c.errs = append(c.errs, &Error{Line: n.Line, Field: path, Msg: fmt.Sprintf(format, args...)})
}

func (c *Checker) note(path string, line int) {
	if c.Lines == nil || line == 0 {
		return
	}
	if _, ok := c.Lines[path]; !ok {
		c.Lines[path] = line
	}
}

// count counts a node; false once the budget is spent (reported once).
func (c *Checker) count(n *yaml.Node, path string) bool {
	limit := c.MaxNodes
	if limit == 0 {
		limit = DefaultMaxNodes
	}
	c.nodes++
	if c.nodes == limit+1 {
		c.errorf(n, path, "document too large: more than %d values (aliases expanding too far?)", limit)
	}
	return c.nodes <= limit
}

var durationType = reflect.TypeOf(time.Duration(0))

func (c *Checker) check(n *yaml.Node, t reflect.Type, path string) {
	if n == nil {
		return
	}
	orig := n
	if n = Resolve(n); n == nil || n.Kind == yaml.AliasNode {
		c.errorf(orig, path, "aliases nested too deeply")
		return
	}
	if !c.count(n, path) {
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // keeps the default
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Interface:
		c.below(n, path, 0) // anything goes: count it, ask Key
	case t == durationType:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			c.errorf(n, path, `want a duration such as "30s" or "1m30s", got %s`, Describe(n))
			return
		}
		if _, err := time.ParseDuration(n.Value); err != nil {
			c.errorf(n, path, `want a duration such as "30s" or "1m30s", got %q`, n.Value)
		}
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			c.errorf(n, path, "want a mapping, got %s", Describe(n))
			return
		}
		c.fields(n, t, path)
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
		if n.Kind != yaml.MappingNode {
			c.errorf(n, path, "want a mapping, got %s", Describe(n))
			return
		}
		for _, p := range c.pairs(n, path) {
			sub := Field(path, p.Key)
			c.note(sub, p.KeyNode.Line)
			c.check(p.Value, t.Elem(), sub)
		}
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.errorf(n, path, "want a list, got %s", Describe(n))
			return
		}
		for i, item := range n.Content {
			sub := path + "[" + strconv.Itoa(i) + "]"
			if r := Resolve(item); r != nil {
				c.note(sub, r.Line)
			}
			c.check(item, t.Elem(), sub)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			c.errorf(n, path, "want %s, got %s", typeName(t), Describe(n))
			return
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			c.errorf(n, path, "want %s, got %s", typeName(t), Describe(n))
		}
	}
}

// pairs reads a mapping's pairs, keeping its problems, and asks Key about
// each key.
func (c *Checker) pairs(n *yaml.Node, path string) []Pair {
	ps, err := Pairs(n, path)
	c.errs = append(c.errs, AsErrors(err)...)
	if c.Key == nil {
		return ps
	}
	out := ps[:0:0]
	for _, p := range ps {
		if msg := c.Key(p.Key); msg != "" {
			c.errorf(p.KeyNode, Field(path, p.Key), "%s", msg)
			continue
		}
		out = append(out, p)
	}
	return out
}

// fields checks a mapping's keys against the struct's yaml fields.
func (c *Checker) fields(n *yaml.Node, t reflect.Type, path string) {
	fields, names := yamlFields(t)
	for _, p := range c.pairs(n, path) {
		sub := Field(path, p.Key)
		ft, ok := fields[p.Key]
		if !ok {
			c.errorf(p.KeyNode, sub, "%s", Unknown(p.Key, names))
			c.below(p.Value, sub, 0) // Key still refuses what is below
			continue
		}
		c.note(sub, p.KeyNode.Line)
		c.check(p.Value, ft, sub)
	}
}

// below walks a tree that is not checked against a type (refused anyway,
// or decoded into an interface): it counts the nodes and asks Key about the
// keys. List items keep their list's path.
func (c *Checker) below(n *yaml.Node, path string, depth int) {
	n = Resolve(n)
	if n == nil || depth > 50 || (depth > 0 && !c.count(n, path)) {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			sub := Field(path, k.Value)
			if c.Key != nil {
				if msg := c.Key(k.Value); msg != "" {
					c.errorf(k, sub, "%s", msg)
					continue
				}
			}
			c.below(n.Content[i+1], sub, depth+1)
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			c.below(item, path, depth+1)
		}
	}
}

// yamlFields maps a struct's yaml names to their types, and lists the names.
func yamlFields(t reflect.Type) (map[string]reflect.Type, []string) {
	out := map[string]reflect.Type{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		// An inlined struct's fields are the outer struct's (yaml.v3
		// decodes them so).
		if name == "" && f.Type.Kind() == reflect.Struct && slices.Contains(strings.Split(opts, ","), "inline") {
			inner, innerNames := yamlFields(f.Type)
			maps.Copy(out, inner)
			names = append(names, innerNames...)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
		names = append(names, name)
	}
	return out, names
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Uint8:
		return "a number 0-255"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	}
	return t.String()
}

func itoa(n int) string { return strconv.Itoa(n) }
