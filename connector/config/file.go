package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/smpp-connector/smpp-connector/internal/yamlcheck"
)

// MaxFileSize bounds an operators file.
const MaxFileSize = 1 << 20

// File is the operators file, or the operator-management-service's answer
// (connector/oms: the same document in JSON).
type File struct {
	// Version names this configuration (optional; at most 128 printable
	// characters without spaces): the operator-management-service's
	// answers carry one, and it is what logs, /readyz and metrics show.
	Version   string     `yaml:"version,omitempty" json:"version,omitempty"`
	Operators []Operator `yaml:"operators" json:"operators"`
}

// Error is one problem of the configuration. Error() reads
//
//	[<file>:][line <n>: ]operator "<id>": <field>: <message>
//
// without the parts that are not known (a file is named by Load only, lines
// are known for values read from YAML).
type Error struct {
	Path     string // the file, set by Load
	Line     int    // 0 when unknown
	Operator string // the operator id; "" for file-level problems or operators without a valid id
	Field    string // dotted path inside the operator, e.g. "endpoints.primary[0].address"
	Msg      string
}

func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Path != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.Path, e.Line)
	case e.Path != "":
		b.WriteString(e.Path + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Operator != "" {
		fmt.Fprintf(&b, "operator %q: ", e.Operator)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// LineNumber is the line the error is about, 0 when unknown
// (yamlcheck.Join sorts by it).
func (e *Error) LineNumber() int { return e.Line }

// Load reads, parses and validates an operators file. Errors name the file
// and line.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("operators file: %w", err)
	}
	f, err := Parse(b)
	if err != nil {
		var errs []error
		for _, e := range unjoin(err) {
			var ce *Error
			if errors.As(e, &ce) {
				ce.Path = path
			}
			errs = append(errs, e)
		}
		return nil, errors.Join(errs...)
	}
	return f, nil
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// Parse decodes an operators file (YAML, or JSON) strictly, applies the
// defaults and validates it. Unknown fields, values of the wrong type and any
// key named like a password are refused; all problems are reported at once,
// as *Error values joined with errors.Join.
func Parse(b []byte) (*File, error) {
	if len(b) > MaxFileSize {
		return nil, &Error{Msg: fmt.Sprintf("operators file is %d bytes, at most %d allowed", len(b), MaxFileSize)}
	}
	root, err := yamlcheck.Document(b)
	if err != nil {
		var ye *yamlcheck.Error
		if errors.As(err, &ye) {
			return nil, &Error{Line: ye.Line, Msg: ye.Msg}
		}
		return nil, err
	}
	if root == nil {
		return nil, &Error{Msg: "empty operators file: want a mapping with an operators list"}
	}
	w := &walker{lines: map[string]int{}, ids: operatorIDs(root)}
	w.check(root)
	if len(w.errs) > 0 {
		return nil, yamlcheck.Join(w.errs)
	}

	// The walk has refused unknown fields and mistyped values, so plain
	// decoding cannot fail on them; each operator starts from the defaults.
	f := &File{}
	if v := mappingValue(root, "version"); v != nil {
		if err := v.Decode(&f.Version); err != nil {
			return nil, &Error{Line: v.Line, Field: "version", Msg: err.Error()}
		}
	}
	if ops := mappingValue(root, "operators"); ops != nil {
		ops = yamlcheck.Resolve(ops)
		for _, n := range ops.Content {
			o := DefaultOperator("")
			if err := n.Decode(&o); err != nil {
				return nil, &Error{Line: n.Line, Msg: "decode operator: " + err.Error()}
			}
			o.defaultCredentials()
			f.Operators = append(f.Operators, o)
		}
	}
	if err := f.Validate(); err != nil {
		errs := unjoin(err)
		for _, e := range errs {
			var ce *Error
			if errors.As(e, &ce) && ce.Line == 0 {
				ce.Line = w.lineOf(ce.Operator, ce.Field)
			}
		}
		return nil, errors.Join(errs...)
	}
	return f, nil
}

// Validate checks every operator, reporting all problems at once (joined
// *Error values). Operators must be built with DefaultOperator or come from
// Parse: zero values are not defaults here.
func (f *File) Validate() error {
	var errs []*Error
	if msg := checkVersion(f.Version); msg != "" {
		errs = append(errs, &Error{Field: "version", Msg: msg})
	}
	if len(f.Operators) == 0 {
		errs = append(errs, &Error{Field: "operators", Msg: "at least one operator is required"})
	}
	seen := map[string]bool{}
	for i, o := range f.Operators {
		errs = append(errs, o.validate(fmt.Sprintf("operators[%d]", i))...)
		if o.ID != "" {
			if seen[o.ID] {
				errs = append(errs, &Error{Operator: o.ID, Field: "id", Msg: "used by another operator already"})
			}
			seen[o.ID] = true
		}
	}
	return yamlcheck.Join(errs)
}

// maxVersion bounds File.Version (a label value in metrics).
const maxVersion = 128

func checkVersion(v string) string {
	if len(v) > maxVersion {
		return fmt.Sprintf("%d bytes: at most %d", len(v), maxVersion)
	}
	for _, r := range v {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return fmt.Sprintf("%q: want printable characters without spaces", v)
		}
	}
	return ""
}

// Operator returns the operator with that id.
func (f *File) Operator(id string) (Operator, bool) {
	for _, o := range f.Operators {
		if o.ID == id {
			return o, true
		}
	}
	return Operator{}, false
}

// IDs lists the operator ids in file order.
func (f *File) IDs() []string {
	ids := make([]string, len(f.Operators))
	for i, o := range f.Operators {
		ids[i] = o.ID
	}
	return ids
}

// UsesVault reports whether an operator reads its credentials from Vault.
func (f *File) UsesVault() bool {
	for _, o := range f.Operators {
		if o.Credentials.File == "" {
			return true
		}
	}
	return false
}

// mappingValue is the value of key in a mapping node, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	n = yamlcheck.Resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// operatorIDs are the valid ids of the operators list, by position ("" for
// an operator without a valid id): errors inside an operator name it.
func operatorIDs(root *yaml.Node) []string {
	ops := yamlcheck.Resolve(mappingValue(root, "operators"))
	if ops == nil || ops.Kind != yaml.SequenceNode {
		return nil
	}
	ids := make([]string, len(ops.Content))
	for i, n := range ops.Content {
		if id := mappingValue(n, "id"); id != nil && id.Kind == yaml.ScalarNode && operatorID.MatchString(id.Value) {
			ids[i] = id.Value
		}
	}
	return ids
}

// walker checks the YAML tree against the Go types before anything is
// decoded (yamlcheck: unknown fields, values of the wrong type, duplicate
// keys) and refuses password keys. It remembers the line of every field so
// that validation errors can point at them.
type walker struct {
	ids   []string
	errs  []*Error
	lines map[string]int // operator + "\x00" + field -> line
}

// secretMsg refuses keys that look like they hold a secret.
const secretMsg = "secrets do not belong in the operators file: put the credential in Vault " +
	"(credentials.vaultPath) or in a file rendered by Vault Agent or the CSI driver (credentials.file)"

func (w *walker) check(root *yaml.Node) {
	c := yamlcheck.Checker{Lines: map[string]int{}, Key: func(k string) string {
		if isSecretKey(k) {
			return secretMsg
		}
		return ""
	}}
	for _, e := range c.Check(root, reflect.TypeOf(File{}), "") {
		op, field := w.where(e.Field)
		w.errs = append(w.errs, &Error{Line: e.Line, Operator: op, Field: field, Msg: e.Msg})
	}
	for path, line := range c.Lines {
		op, field := w.where(path)
		w.lines[op+"\x00"+field] = line
	}
}

// where splits a path: "operators[2].quirks.x" is field "quirks.x" of the
// third operator when it has a valid id; otherwise the path is the field.
func (w *walker) where(path string) (operator, field string) {
	rest, ok := strings.CutPrefix(path, "operators[")
	if !ok {
		return "", path
	}
	num, rest, ok := strings.Cut(rest, "]")
	i, err := strconv.Atoi(num)
	if !ok || err != nil || i < 0 || i >= len(w.ids) || w.ids[i] == "" || !strings.HasPrefix(rest, ".") {
		return "", path
	}
	return w.ids[i], rest[1:]
}

func (w *walker) lineOf(operator, field string) int {
	if l, ok := w.lines[operator+"\x00"+field]; ok {
		return l
	}
	// A problem with a whole list or struct: the line of its parent.
	for field != "" {
		i := strings.LastIndexAny(field, ".[")
		if i < 0 {
			field = ""
		} else {
			field = field[:i]
		}
		if l, ok := w.lines[operator+"\x00"+field]; ok {
			return l
		}
	}
	return 0
}

// isSecretKey says whether a key looks like it holds a secret.
func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	return strings.Contains(k, "password") || strings.Contains(k, "passwd")
}
