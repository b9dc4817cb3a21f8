package profile_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

// The README is what engineers pick styles from: every YAML example must
// parse strictly and validate, every catalogue entry must be the profile its
// style stands for, every style must have an entry, and every setting must
// be in the settings table.
func TestReadmeExamples(t *testing.T) {
	md, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(md, -1)
	if len(blocks) == 0 {
		t.Fatal("no yaml examples in README.md")
	}
	catalogued := map[string]bool{}
	for _, b := range blocks {
		src := b[1]
		if bytes.HasPrefix(src, []byte("operators:")) {
			// A whole configuration: the simulator's own strict parser.
			if _, err := server.ParseConfig(src); err != nil {
				t.Errorf("config example rejected: %v\n%s", err, src)
			}
			continue
		}
		var p profile.Profile
		dec := yaml.NewDecoder(bytes.NewReader(src))
		dec.KnownFields(true)
		if err := dec.Decode(&p); err != nil {
			t.Errorf("profile example does not parse: %v\n%s", err, src)
			continue
		}
		if err := p.Validate(); err != nil {
			t.Errorf("profile example rejected: %v\n%s", err, src)
			continue
		}
		st, ok := profile.Styles()[p.Name]
		if !ok {
			continue
		}
		catalogued[p.Name] = true
		byStyle := profile.Profile{Style: p.Name}.WithDefaults()
		byStyle.Style = ""
		if got := p.WithDefaults(); !reflect.DeepEqual(got, byStyle) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(byStyle)
			t.Errorf("README entry %s is\n%s\nthe style is\n%s", p.Name, g, w)
		}
		if st.Description == "" {
			t.Errorf("style %s has no description", p.Name)
		}
	}
	for _, name := range profile.StyleNames() {
		if !catalogued[name] {
			t.Errorf("style %s has no catalogue entry (a yaml block with name: %s)", name, name)
		}
		if !bytes.Contains(md, []byte("### `"+name+"`")) {
			t.Errorf("style %s has no heading in README.md", name)
		}
	}
	for _, key := range yamlKeys(reflect.TypeOf(profile.Profile{}), "") {
		if !bytes.Contains(md, []byte("| `"+key+"` |")) {
			t.Errorf("setting %s is not in the README's settings table", key)
		}
	}
}

// yamlKeys lists the profile's settings as the README names them: top-level
// keys, and receipt.x for the receipt's (an id format is one setting).
func yamlKeys(typ reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		if f.Type == reflect.TypeOf(profile.Receipt{}) {
			out = append(out, yamlKeys(f.Type, prefix+name+".")...)
			continue
		}
		out = append(out, prefix+name)
	}
	return out
}
