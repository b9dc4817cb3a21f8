package yamlcheck

import (
	"errors"

	"gopkg.in/yaml.v3"
)

// Pair is one key of a mapping with its value.
type Pair struct {
	Key     string
	KeyNode *yaml.Node
	Value   *yaml.Node
	Merged  bool // from a merge key (<<), not written in the mapping itself
}

// maxMergeDepth bounds merge keys within merged mappings.
const maxMergeDepth = 20

// Pairs returns a mapping's keys in file order, those of its merge keys
// (<<) after them unless the mapping has them itself. A key given twice is an
// error naming both lines; the pairs are returned with the first of them, so
// that a caller reporting every problem can go on. A node that is not a
// mapping is an error and no pairs.
func Pairs(n *yaml.Node, path string) ([]Pair, error) {
	var errs []*Error
	ps := pairs(n, path, 0, &errs)
	if len(errs) == 0 {
		return ps, nil
	}
	return ps, Join(errs)
}

func pairs(n *yaml.Node, path string, depth int, errs *[]*Error) []Pair {
	orig := n
	if n = Resolve(n); n == nil || n.Kind == yaml.AliasNode {
		*errs = append(*errs, &Error{Line: orig.Line, Field: path, Msg: "aliases nested too deeply"})
		return nil
	}
	if n.Kind != yaml.MappingNode {
		*errs = append(*errs, &Error{Line: n.Line, Field: path, Msg: "want a mapping, got " + Describe(n)})
		return nil
	}
	if depth > maxMergeDepth {
		*errs = append(*errs, &Error{Line: n.Line, Field: path, Msg: "merge keys nested too deeply"})
		return nil
	}
	var explicit, merged []Pair
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := Resolve(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			if k == nil {
				k = n.Content[i]
			}
			*errs = append(*errs, &Error{Line: k.Line, Field: path, Msg: "keys must be strings, got " + Describe(k)})
			continue
		}
		if k.ShortTag() == "!!merge" {
			srcs := []*yaml.Node{v}
			if vv := Resolve(v); vv != nil && vv.Kind == yaml.SequenceNode {
				srcs = vv.Content
			}
			for _, src := range srcs {
				merged = append(merged, pairs(src, path, depth+1, errs)...)
			}
			continue
		}
		if first, dup := seen[k.Value]; dup {
			*errs = append(*errs, &Error{Line: k.Line, Field: Field(path, k.Value),
				Msg: "duplicate key (first on line " + itoa(first) + ")"})
			continue
		}
		seen[k.Value] = k.Line
		explicit = append(explicit, Pair{Key: k.Value, KeyNode: k, Value: v})
	}
	out := explicit
	for _, m := range merged {
		if _, ok := seen[m.Key]; ok {
			continue
		}
		seen[m.Key] = m.KeyNode.Line
		m.Merged = true
		out = append(out, m)
	}
	return out
}

// AsErrors returns the *Error values of an error from this package.
func AsErrors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var e *Error
		if errors.As(err, &e) {
			out = append(out, e)
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}
