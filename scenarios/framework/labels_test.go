package framework

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// labelConstants returns the Label* constants of labels.go and their values.
func labelConstants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "labels.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if !strings.HasPrefix(n.Name, "Label") {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s is not a string literal", n.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out[n.Name] = v
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no Label constants in labels.go")
	}
	return out
}

// TestEveryLabelIsCarried: a label that no suite uses promises a selection
// that `--label-filter` would silently make empty.
func TestEveryLabelIsCarried(t *testing.T) {
	labels := labelConstants(t)
	used := map[string]bool{}
	files, err := filepath.Glob(filepath.Join("..", "*", "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "framework" {
					used[sel.Sel.Name] = true
				}
			}
			return true
		})
	}
	for name := range labels {
		if !used[name] {
			t.Errorf("framework.%s is carried by no spec or suite under scenarios/: label one or drop it", name)
		}
	}
}

// TestGatesLabelFilterNamesEveryPhase keeps `make gates` selecting the phase
// suites by the labels they carry.
func TestGatesLabelFilterNamesEveryPhase(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^gates:.*\n(?:\t.*\n)*?\t.*--label-filter='([^']*)'`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no --label-filter in the Makefile's gates target")
	}
	filter := string(m[1])
	for name, v := range labelConstants(t) {
		if strings.HasPrefix(name, "LabelPhase") && !regexp.MustCompile(`\b`+regexp.QuoteMeta(v)+`\b`).MatchString(filter) {
			t.Errorf("make gates' filter %q leaves out %s (%q)", filter, name, v)
		}
	}
}
