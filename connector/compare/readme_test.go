package compare

import (
	"bytes"
	"flag"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The README's example command runs (from the repository's root, as the
// README says) and prints exactly the output the README shows, error line
// included, so the page cannot drift from the code.
func TestReadmeExample(t *testing.T) {
	md, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?ms)^```console\n\\$ ([^\n]*)\n(.*?)^```").FindAllSubmatch(md, -1)
	if len(blocks) == 0 {
		t.Fatal("no console example in README.md")
	}
	t.Chdir("../..")
	for _, b := range blocks {
		cmd, want := string(b[1]), string(b[2])
		args, ok := strings.CutPrefix(cmd, "smpp-connector compare ")
		if !ok {
			t.Fatalf("example is not a compare command: %s", cmd)
		}
		var o Options
		fs := flag.NewFlagSet("compare", flag.ContinueOnError)
		o.Register(fs)
		if err := fs.Parse(strings.Fields(args)); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := Run(o, &out); err != nil {
			out.WriteString("smpp-connector: " + err.Error() + "\n") // as main prints it
		}
		if trimLines(out.String()) != trimLines(want) {
			t.Errorf("%s\n--- README shows:\n%s\n--- the command prints:\n%s", cmd, want, out.String())
		}
	}
}

func trimLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// Every connector log example in the README reads without an invalid line,
// to the number of outcome events and skipped lines its fence states.
func TestReadmeConnectorExamples(t *testing.T) {
	md, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?ms)^ *```jsonl ([^\n]*)\n(.*?)^ *```").FindAllSubmatch(md, -1)
	if len(blocks) < 3 {
		t.Fatalf("%d jsonl examples in README.md, want 3", len(blocks))
	}
	for _, b := range blocks {
		want := map[string]int{}
		for _, f := range strings.Fields(string(b[1])) {
			k, v, _ := strings.Cut(f, "=")
			want[k], _ = strconv.Atoi(v)
		}
		l, err := ReadConnector("README.md", bytes.NewReader(b[2]))
		if err != nil || len(l.Invalid) > 0 || l.Events != want["outcomes"] || l.SkippedTotal() != want["skipped"] {
			t.Errorf("%v invalid %v, %d outcome(s), skipped %v; want %v\n%s", err, l.Invalid, l.Events, l.Skipped, want, b[2])
		}
	}
}

// The shipped mapping is the README's, key for key.
func TestReadmeMapping(t *testing.T) {
	md, _ := os.ReadFile("README.md")
	m, err := os.ReadFile("testdata/mapping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(md, append(append([]byte("```yaml\n"), m...), "```"...)) {
		t.Error("README.md does not show testdata/mapping.yaml as it is")
	}
	if _, err := LoadMapping("testdata/mapping.yaml"); err != nil {
		t.Error(err)
	}
}
