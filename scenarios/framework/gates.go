package framework

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"sync"

	"github.com/smpp-connector/smpp-connector/internal/yamlcheck"
)

// Threshold is one criterion of scenarios/gates.yaml. Exactly one of Min, Max,
// Within and Expect is set.
type Threshold struct {
	Min    *float64 `yaml:"min,omitempty" json:"min,omitempty"`
	Max    *float64 `yaml:"max,omitempty" json:"max,omitempty"`
	Within *float64 `yaml:"within,omitempty" json:"within,omitempty"`
	Expect *bool    `yaml:"expect,omitempty" json:"expect,omitempty"`

	Unit        string `yaml:"unit,omitempty" json:"unit,omitempty"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
}

func (t Threshold) validate() error {
	n := 0
	for _, set := range []bool{t.Min != nil, t.Max != nil, t.Within != nil, t.Expect != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("needs exactly one of min, max, within, expect (has %d)", n)
	}
	if t.Within != nil && *t.Within < 0 {
		return errors.New("within must not be negative")
	}
	return nil
}

// Numeric reports whether the threshold compares numbers (min, max, within).
func (t Threshold) Numeric() bool { return t.Expect == nil }

// Check reports whether a measured number meets a numeric threshold.
func (t Threshold) Check(measured float64) bool {
	switch {
	case math.IsNaN(measured):
		return false
	case t.Min != nil:
		return measured >= *t.Min
	case t.Max != nil:
		return measured <= *t.Max
	case t.Within != nil:
		return math.Abs(measured) <= *t.Within
	}
	return false
}

// CheckCondition reports whether a condition meets an expect threshold.
func (t Threshold) CheckCondition(ok bool) bool { return t.Expect != nil && ok == *t.Expect }

// String is the threshold as the report shows it, e.g. ">= 99.5 % of baseline".
func (t Threshold) String() string {
	unit := ""
	if t.Unit != "" {
		unit = " " + t.Unit
	}
	switch {
	case t.Min != nil:
		return ">= " + formatFloat(*t.Min) + unit
	case t.Max != nil:
		return "<= " + formatFloat(*t.Max) + unit
	case t.Within != nil:
		return "within ±" + formatFloat(*t.Within) + unit
	case t.Expect != nil:
		return "== " + strconv.FormatBool(*t.Expect)
	}
	return "?"
}

// FormatMeasured renders a measured number with the threshold's unit.
func (t Threshold) FormatMeasured(v float64) string {
	if t.Unit == "" {
		return formatFloat(v)
	}
	return formatFloat(v) + " " + t.Unit
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// GateGroup is the criteria of one suite (a phase).
type GateGroup struct {
	Description string               `yaml:"description,omitempty"`
	Criteria    map[string]Threshold `yaml:"criteria"`
}

// Names returns the group's criteria names, sorted.
func (g GateGroup) Names() []string {
	names := make([]string, 0, len(g.Criteria))
	for n := range g.Criteria {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Gates is the content of scenarios/gates.yaml.
type Gates struct {
	Groups map[string]GateGroup `yaml:"groups"`
}

// ParseGates reads and checks a gates file's content: unknown keys, a
// criterion without exactly one threshold, and a criterion name used twice are
// errors (naming the line where the YAML is wrong).
func ParseGates(data []byte) (*Gates, error) {
	// Strict: unknown keys (with did-you-mean), wrong types and duplicate
	// keys are errors with their line and field path.
	root, err := yamlcheck.Document(data)
	if err == nil && root == nil {
		err = errors.New("empty file: want groups")
	}
	var g Gates
	if err == nil {
		err = yamlcheck.Strict(root, &g)
	}
	if err != nil {
		return nil, fmt.Errorf("gates: %w", err)
	}
	seen := map[string]string{}
	for gname, grp := range g.Groups {
		for cname, t := range grp.Criteria {
			if err := t.validate(); err != nil {
				return nil, fmt.Errorf("gates: %s.%s: %w", gname, cname, err)
			}
			if other, dup := seen[cname]; dup {
				return nil, fmt.Errorf("gates: criterion %q is in both %s and %s", cname, other, gname)
			}
			seen[cname] = gname
		}
	}
	return &g, nil
}

// LoadGates reads a gates file.
func LoadGates(path string) (*Gates, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gates: %w", err)
	}
	g, err := ParseGates(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// Lookup finds a criterion by name and returns its group too.
func (g *Gates) Lookup(name string) (group string, t Threshold, ok bool) {
	for gname, grp := range g.Groups {
		if t, ok := grp.Criteria[name]; ok {
			return gname, t, true
		}
	}
	return "", Threshold{}, false
}

var (
	gatesMu     sync.Mutex
	gatesCache  *Gates
	gatesCached string
)

// DefaultGates loads (once per path) the gates file of GatesFile.
func DefaultGates() (*Gates, error) {
	path, err := GatesFile()
	if err != nil {
		return nil, err
	}
	gatesMu.Lock()
	defer gatesMu.Unlock()
	if gatesCache != nil && gatesCached == path {
		return gatesCache, nil
	}
	g, err := LoadGates(path)
	if err != nil {
		return nil, err
	}
	gatesCache, gatesCached = g, path
	return g, nil
}
