package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// MaxFileSize bounds an operators file.
const MaxFileSize = 1 << 20

// maxNodes bounds the YAML values visited, aliases included, so that a small
// file of nested aliases cannot make parsing explode.
const maxNodes = 100000

// File is the operators file.
type File struct {
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

// joinErrors sorts errors by line (file order) and joins them: one per line
// of the message, each reachable with errors.As.
func joinErrors(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	sort.SliceStable(errs, func(i, j int) bool {
		li, lj := errs[i].Line, errs[j].Line
		return li != 0 && (lj == 0 || li < lj)
	})
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}

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
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	root, err := decodeYAML(b)
	if err != nil {
		return nil, err
	}
	w := &walker{lines: map[string]int{}}
	w.check(root, reflect.TypeOf(File{}), fieldCtx{})
	if len(w.errs) > 0 {
		return nil, joinErrors(w.errs)
	}

	// The walk has refused unknown fields and mistyped values, so plain
	// decoding cannot fail on them; each operator starts from the defaults.
	f := &File{}
	if ops := mappingValue(root, "operators"); ops != nil {
		ops = resolve(ops)
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
	return joinErrors(errs)
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

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func decodeYAML(b []byte) (*yaml.Node, error) {
	empty := &Error{Msg: "empty operators file: want a mapping with an operators list"}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, empty
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
		return nil, empty
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

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// mappingValue is the value of key in a mapping node, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	n = resolve(n)
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

// fieldCtx is where the walker is: which operator and which field in it.
type fieldCtx struct {
	operator string // id, when valid
	field    string
}

// walker checks the YAML tree against the Go types before anything is
// decoded: unknown fields (yaml.v3 cannot report them from Node.Decode),
// values of the wrong type, password keys. It remembers the line of every
// field so that validation errors can point at them.
type walker struct {
	errs  []*Error
	lines map[string]int
	nodes int
}

func (w *walker) errorf(n *yaml.Node, at fieldCtx, format string, args ...any) {
	w.errs = append(w.errs, &Error{Line: n.Line, Operator: at.operator, Field: at.field, Msg: fmt.Sprintf(format, args...)})
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

var (
	durationType = reflect.TypeOf(time.Duration(0))
	operatorType = reflect.TypeOf(Operator{})
)

// isSecretKey says whether a key looks like it holds a secret.
func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	return strings.Contains(k, "password") || strings.Contains(k, "passwd")
}

func (w *walker) check(n *yaml.Node, t reflect.Type, at fieldCtx) {
	if n == nil {
		return
	}
	orig := n
	n = resolve(n)
	if n == nil || n.Kind == yaml.AliasNode {
		w.errorf(orig, at, "aliases nested too deeply")
		return
	}
	if w.nodes++; w.nodes > maxNodes {
		if w.nodes == maxNodes+1 {
			w.errorf(n, at, "document too large: more than %d values (aliases expanding too far?)", maxNodes)
		}
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // keeps the default
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			w.errorf(n, at, `want a duration such as "30s" or "1m30s", got %s`, kindName(n))
			return
		}
		if _, err := time.ParseDuration(n.Value); err != nil {
			w.errorf(n, at, `want a duration such as "30s" or "1m30s", got %q`, n.Value)
		}
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			w.errorf(n, at, "want a mapping, got %s", kindName(n))
			return
		}
		if t == operatorType && at.operator == "" {
			if id := mappingValue(n, "id"); id != nil && id.Kind == yaml.ScalarNode && operatorID.MatchString(id.Value) {
				at = fieldCtx{operator: id.Value}
			}
		}
		w.mapping(n, t, at, 0)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.errorf(n, at, "want a list, got %s", kindName(n))
			return
		}
		for i, c := range n.Content {
			sub := fieldCtx{operator: at.operator, field: fmt.Sprintf("%s[%d]", at.field, i)}
			if t.Elem() == operatorType {
				sub = fieldCtx{field: sub.field}
			}
			w.lines[sub.operator+"\x00"+sub.field] = resolve(c).Line
			w.check(c, t.Elem(), sub)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			w.errorf(n, at, "want %s, got %s", typeName(t), kindName(n))
			return
		}
		v := reflect.New(t)
		if err := n.Decode(v.Interface()); err != nil {
			w.errorf(n, at, "want %s, got %s", typeName(t), kindName(n))
		}
	}
}

// mapping checks the keys of a mapping against the struct's yaml fields.
func (w *walker) mapping(n *yaml.Node, t reflect.Type, at fieldCtx, depth int) {
	fields := yamlFields(t)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" && k.ShortTag() == "!!merge" && depth < 10 {
			// Merge keys: the merged mappings must fit the same struct.
			m := resolve(v)
			if m != nil && m.Kind == yaml.SequenceNode {
				for _, c := range m.Content {
					if c = resolve(c); c != nil && c.Kind == yaml.MappingNode {
						w.mapping(c, t, at, depth+1)
					}
				}
			} else if m != nil && m.Kind == yaml.MappingNode {
				w.mapping(m, t, at, depth+1)
			}
			continue
		}
		field := joinField(at.field, k.Value)
		sub := fieldCtx{operator: at.operator, field: field}
		if isSecretKey(k.Value) {
			w.errorf(k, sub, "secrets do not belong in the operators file: put the credential in Vault "+
				"(credentials.vaultPath) or in a file rendered by Vault Agent or the CSI driver (credentials.file)")
			continue
		}
		if seen[k.Value] && depth == 0 {
			w.errorf(k, sub, "given twice")
			continue
		}
		seen[k.Value] = true
		ft, ok := fields[k.Value]
		if !ok {
			msg := "unknown field"
			if s := suggest(k.Value, fields); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			w.errorf(k, sub, "%s", msg)
			// Still look for secrets below an unknown key.
			w.secretsOnly(v, sub, 0)
			continue
		}
		if _, known := w.lines[sub.operator+"\x00"+sub.field]; !known || depth == 0 {
			w.lines[sub.operator+"\x00"+sub.field] = k.Line
		}
		w.check(v, ft, sub)
	}
}

// secretsOnly looks for password keys in a tree that is refused anyway.
func (w *walker) secretsOnly(n *yaml.Node, at fieldCtx, depth int) {
	n = resolve(n)
	if n == nil || depth > 50 {
		return
	}
	if w.nodes++; w.nodes > maxNodes {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			sub := fieldCtx{operator: at.operator, field: joinField(at.field, n.Content[i].Value)}
			if isSecretKey(n.Content[i].Value) {
				w.errorf(n.Content[i], sub, "secrets do not belong in the operators file: put the credential in Vault "+
					"(credentials.vaultPath) or in a file rendered by Vault Agent or the CSI driver (credentials.file)")
				continue
			}
			w.secretsOnly(n.Content[i+1], sub, depth+1)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			w.secretsOnly(c, at, depth+1)
		}
	}
}

func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// suggest returns the known field closest to a mistyped one.
func suggest(k string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	for name := range fields {
		if strings.EqualFold(name, k) {
			return name
		}
		if d := distance(strings.ToLower(k), strings.ToLower(name)); d < bestD || (d == bestD && best != "" && name < best) {
			best, bestD = name, d
		}
	}
	return best
}

// distance is the Levenshtein distance.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Uint8:
		return "a number 0-255"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	case reflect.String:
		return "a string"
	}
	return t.String()
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
			return fmt.Sprintf("the boolean %s", n.Value)
		case "!!int", "!!float":
			return fmt.Sprintf("the number %s", n.Value)
		}
		return fmt.Sprintf("the string %q", n.Value)
	}
	return "something else"
}
