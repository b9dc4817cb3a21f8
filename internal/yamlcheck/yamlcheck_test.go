package yamlcheck_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/internal/yamlcheck"
)

type limits struct {
	TPS     int           `yaml:"tps"`
	Window  *int          `yaml:"window"`
	Timeout time.Duration `yaml:"timeout"`
	On      bool          `yaml:"on"`
	Ratio   float64       `yaml:"ratio"`
}

type doc struct {
	Name   string            `yaml:"name"`
	Limits limits            `yaml:"limits"`
	Groups map[string]limits `yaml:"groups"`
	Tags   []string          `yaml:"tags"`
}

func strict(t *testing.T, in string) (doc, error) {
	t.Helper()
	root, err := yamlcheck.Document([]byte(in))
	if err != nil {
		return doc{}, err
	}
	var d doc
	return d, yamlcheck.Strict(root, &d)
}

func TestStrictReportsLineFieldAndSuggestion(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"unknown field", "name: x\nlimits:\n  tsp: 5\n", `line 3: limits.tsp: unknown field (did you mean "tps"?)`},
		{"case differs", "Name: x\n", `line 1: Name: unknown field (did you mean "name"?)`},
		{"nothing close", "colour: red\n", `line 1: colour: unknown field`},
		{"wrong type", "limits: {tps: fifty}\n", `line 1: limits.tps: want a whole number, got the string "fifty"`},
		{"in a map", "groups:\n  a:\n    ratio: [1]\n", `line 3: groups.a.ratio: want a number, got a list`},
		{"list item", "tags: [a, {b: c}]\n", `line 1: tags[1]: want a string, got a mapping`},
		{"duration", "limits: {timeout: 30}\n", `line 1: limits.timeout: want a duration such as "30s" or "1m30s", got the number 30`},
		{"duplicate", "name: a\nname: b\n", `line 2: name: duplicate key (first on line 1)`},
		{"not a mapping", "limits: 5\n", `line 1: limits: want a mapping, got the number 5`},
		{"two documents", "name: a\n---\nname: b\n", `line 2: only one YAML document is allowed`},
		{"syntax", "name: [a\n", `invalid YAML`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := strict(t, tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			var e *yamlcheck.Error
			if !errors.As(err, &e) {
				t.Errorf("%T is not a *yamlcheck.Error", err)
			}
		})
	}
}

func TestStrictReportsEveryProblemInFileOrder(t *testing.T) {
	_, err := strict(t, "limits:\n  tsp: 1\n  on: maybe\nnam: x\n")
	want := "line 2: limits.tsp: unknown field (did you mean \"tps\"?)\n" +
		"line 3: limits.on: want true or false, got the string \"maybe\"\n" +
		"line 4: nam: unknown field (did you mean \"name\"?)"
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
	if n := len(yamlcheck.AsErrors(err)); n != 3 {
		t.Errorf("%d errors", n)
	}
}

func TestStrictDecodesWhatFits(t *testing.T) {
	d, err := strict(t,
		"name: x\nlimits: &l {tps: 5, timeout: 1s, window: null}\ngroups:\n  a: *l\n  b:\n    <<: *l\n    tps: 7\ntags: [p, q]\n")
	if err != nil {
		t.Fatal(err)
	}
	want := doc{Name: "x", Limits: limits{TPS: 5, Timeout: time.Second},
		Groups: map[string]limits{"a": {TPS: 5, Timeout: time.Second}, "b": {TPS: 7, Timeout: time.Second}},
		Tags:   []string{"p", "q"}}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("got %+v", d)
	}
}

func TestPairsMergeKeys(t *testing.T) {
	root, err := yamlcheck.Document([]byte("a: &m {x: 1, y: 2}\nb:\n  <<: *m\n  y: 3\n  z: 4\n"))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := yamlcheck.Pairs(root.Content[3], "b")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.Key+"="+p.Value.Value+map[bool]string{true: "(merged)"}[p.Merged])
	}
	if strings.Join(got, " ") != "y=3 z=4 x=1(merged)" {
		t.Errorf("pairs %v", got)
	}
}

func TestCheckerKeyHookAndLines(t *testing.T) {
	root, err := yamlcheck.Document([]byte("name: x\nsecret: 1\nlimits:\n  tps: 1\nextra:\n  - {secret: 2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := yamlcheck.Checker{
		Key: func(k string) string {
			if k == "secret" {
				return "no secrets here"
			}
			return ""
		},
		Lines: map[string]int{},
	}
	errs := c.Check(root, reflect.TypeOf(doc{}), "")
	got := yamlcheck.Join(errs).Error()
	want := "line 2: secret: no secrets here\nline 5: extra: unknown field\nline 6: extra.secret: no secrets here"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if c.Lines["limits.tps"] != 4 || c.Lines["name"] != 1 {
		t.Errorf("lines %v", c.Lines)
	}
}

func TestAliasBomb(t *testing.T) {
	in := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g"} {
		in += n + ": &" + n + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
			", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = n
	}
	root, err := yamlcheck.Document([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string][]any
	err = yamlcheck.Strict(root, &v)
	if err == nil || !strings.Contains(err.Error(), "document too large") {
		t.Fatalf("got %v", err)
	}
}

func TestDocumentEmpty(t *testing.T) {
	for _, in := range []string{"", "\xef\xbb\xbf", "# only a comment\n"} {
		if n, err := yamlcheck.Document([]byte(in)); n != nil || err != nil {
			t.Errorf("%q: %v %v", in, n, err)
		}
	}
}

func FuzzCheck(f *testing.F) {
	f.Add("name: x\nlimits: {tps: 5, timeout: 1s}\ngroups: {a: {on: true}}\ntags: [a]\n")
	f.Add("a: &a [1]\nb: [*a, *a]\n<<: {name: y}\n")
	f.Add("limits:\n  tsp: 1\n  tsp: 2\n")
	f.Fuzz(func(t *testing.T, in string) {
		root, err := yamlcheck.Document([]byte(in))
		if err != nil || root == nil {
			return
		}
		var d doc
		if err := yamlcheck.Strict(root, &d); err != nil {
			for _, e := range yamlcheck.AsErrors(err) {
				if e.Msg == "" {
					t.Fatalf("empty message in %v", err)
				}
			}
			return
		}
		// What the check accepts, yaml.v3 decodes.
		var again doc
		if err := root.Decode(&again); err != nil {
			t.Fatalf("checked but does not decode: %v", err)
		}
	})
}

func TestSuggest(t *testing.T) {
	known := []string{"min", "max", "within", "expect", "tps"}
	for key, want := range map[string]string{
		"mni": "min", "tsp": "tps", "MAX": "max", "withn": "within", "expected": "expect", "colour": "",
	} {
		if got := yamlcheck.Suggest(key, known); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", key, got, want)
		}
	}
}
