// Package yamlcheck reads YAML strictly and says where it is wrong: every
// problem carries the line and the field path ("line 7: groups.p1.tsp:
// unknown field (did you mean "tps"?)"). The connector's operators file, the
// simulator's scenarios and the gate suites' gates.yaml read their YAML with
// it; what the values mean stays with each of them.
//
// yaml.v3 alone cannot do this: Node.Decode has no KnownFields, and the
// decoder's errors from KnownFields name neither the path nor a suggestion.
// So the document is read as nodes (Document), mappings are read with their
// merge keys expanded and duplicates refused (Pairs), and a Checker compares
// the nodes with the Go type they will be decoded into (Strict does both).
package yamlcheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one problem of a YAML document. Error() reads
//
//	[line <n>: ][<field>: ]<msg>
//
// without the parts that are not known.
type Error struct {
	Line  int    // 0 when unknown
	Field string // dotted path, e.g. "steps[2].add.type"; "" for the document
	Msg   string
}

func (e *Error) Error() string {
	s := e.Msg
	if e.Field != "" {
		s = e.Field + ": " + s
	}
	if e.Line > 0 {
		s = fmt.Sprintf("line %d: %s", e.Line, s)
	}
	return s
}

// Lined is an error that knows the line it is about (0 when unknown):
// *Error, and the richer errors of the files built on this package.
type Lined interface {
	error
	LineNumber() int
}

// LineNumber is the line the error is about, 0 when unknown.
func (e *Error) LineNumber() int { return e.Line }

// Join sorts errors by line (file order; errors without a line last) and
// joins them, each reachable with errors.As. Nil when there are none.
func Join[E Lined](errs []E) error {
	if len(errs) == 0 {
		return nil
	}
	sort.SliceStable(errs, func(i, j int) bool {
		li, lj := errs[i].LineNumber(), errs[j].LineNumber()
		return li != 0 && (lj == 0 || li < lj)
	})
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Document decodes b as one YAML document (JSON is YAML) and returns its
// root node, nil when b holds no document. A leading UTF-8 byte order mark
// is skipped. Syntax errors and a second document are *Error values.
func Document(b []byte) (*yaml.Node, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, syntaxError(err)
		}
		return nil, &Error{Line: extra.Line, Msg: "only one YAML document is allowed"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, nil
	}
	return doc.Content[0], nil
}

func syntaxError(err error) error {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &Error{Line: n, Msg: "invalid YAML: " + m[2]}
	}
	return &Error{Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

// maxAliasDepth bounds alias chains (an alias of an alias of ...).
const maxAliasDepth = 100

// Resolve follows aliases. A chain longer than maxAliasDepth ends on an
// alias node: callers refuse it as nested too deeply.
func Resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxAliasDepth; i++ {
		n = n.Alias
	}
	return n
}

// Describe names what a node holds, for "want X, got Y" messages: "a
// mapping", "a list", "null", "the boolean true", "the number 30", `the
// string "x"`.
func Describe(n *yaml.Node) string {
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
			return "the boolean " + n.Value
		case "!!int", "!!float":
			return "the number " + n.Value
		}
		return fmt.Sprintf("the string %q", n.Value)
	}
	return "something else"
}

// Field joins a path and a key.
func Field(path, key string) string {
	if key == "" {
		return path
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// Unknown is the message for an unknown key: "unknown field", with the
// closest known one when there is one: `unknown field (did you mean "tps"?)`.
func Unknown(key string, known []string) string {
	if s := Suggest(key, known); s != "" {
		return fmt.Sprintf("unknown field (did you mean %q?)", s)
	}
	return "unknown field"
}

// Suggest returns the known key closest to a mistyped one: the same but for
// case, or at most two edits away (a swap of neighbours is one edit; the
// first by name on a tie); "" if none.
func Suggest(key string, known []string) string {
	best, bestD := "", 3
	for _, name := range known {
		if strings.EqualFold(name, key) {
			return name
		}
		if d := distance(strings.ToLower(key), strings.ToLower(name)); d < bestD || (d == bestD && best != "" && name < best) {
			best, bestD = name, d
		}
	}
	return best
}

// distance is the optimal string alignment distance: the Levenshtein
// distance with a swap of two neighbours counted as one edit ("tsp" is one
// edit from "tps").
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
