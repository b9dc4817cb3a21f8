package faults

import (
	"fmt"
	"slices"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/profile"
)

// Distribution is a random duration, shared by the latency and receipt delay
// faults. In JSON:
//
//	{"kind":"fixed","value":"200ms"}
//	{"kind":"uniform","min":"10ms","max":"50ms"}
//	{"kind":"normal","mean":"100ms","stddev":"20ms","min":"0s","max":"1s"}
//
// For normal, min (default 0) and max (default none) clamp the samples, so a
// wide stddev yields a spike of values at the bounds instead of negative delays.
type Distribution struct {
	Kind   string            `json:"kind"`
	Value  *profile.Duration `json:"value,omitempty"`
	Min    *profile.Duration `json:"min,omitempty"`
	Max    *profile.Duration `json:"max,omitempty"`
	Mean   *profile.Duration `json:"mean,omitempty"`
	Stddev *profile.Duration `json:"stddev,omitempty"`
}

// Distribution kinds.
const (
	DistFixed   = "fixed"
	DistUniform = "uniform"
	DistNormal  = "normal"
)

// Validate checks the fields for the kind. Errors start with the field name
// ("min: must be <= max") so that callers can prefix their own path:
// fmt.Errorf("params.distribution.%w", err).
func (d *Distribution) Validate() error {
	// Fields the kind does not use are errors: a "max" on a fixed distribution
	// is a misunderstanding, not something to ignore silently.
	allowed := map[string][]string{
		DistFixed:   {"value"},
		DistUniform: {"min", "max"},
		DistNormal:  {"mean", "stddev", "min", "max"},
	}
	fields, ok := allowed[d.Kind]
	if !ok {
		if d.Kind == "" {
			return fmt.Errorf("kind: required (fixed, uniform or normal)")
		}
		return fmt.Errorf("kind: %q is not one of fixed, uniform, normal", d.Kind)
	}
	// A slice, not a map, so that the first error reported is always the same.
	for _, f := range []struct {
		name string
		v    *profile.Duration
	}{{"value", d.Value}, {"min", d.Min}, {"max", d.Max}, {"mean", d.Mean}, {"stddev", d.Stddev}} {
		name, v := f.name, f.v
		if v == nil {
			continue
		}
		if !slices.Contains(fields, name) {
			return fmt.Errorf("%s: not used by kind %s (uses %v)", name, d.Kind, fields)
		}
		if v.D < 0 {
			return fmt.Errorf("%s: must be >= 0, got %s", name, v.D)
		}
	}
	switch d.Kind {
	case DistFixed:
		if d.Value == nil {
			return fmt.Errorf("value: required for kind fixed")
		}
	case DistUniform:
		if d.Max == nil {
			return fmt.Errorf("max: required for kind uniform")
		}
	case DistNormal:
		if d.Mean == nil {
			return fmt.Errorf("mean: required for kind normal")
		}
		if d.Stddev == nil {
			return fmt.Errorf("stddev: required for kind normal")
		}
	}
	if d.Max != nil && dur(d.Min) > d.Max.D {
		return fmt.Errorf("min: must be <= max (%s > %s)", dur(d.Min), d.Max.D)
	}
	return nil
}

// Sample draws a duration using the instance's seeded source. It is never
// negative. Call Validate first.
func (d *Distribution) Sample(in *Instance) time.Duration {
	var v time.Duration
	switch d.Kind {
	case DistFixed:
		v = dur(d.Value)
	case DistUniform:
		lo, hi := dur(d.Min), dur(d.Max)
		v = lo + time.Duration(in.Rand()*float64(hi-lo))
	case DistNormal:
		v = dur(d.Mean) + time.Duration(in.NormFloat()*float64(dur(d.Stddev)))
		if d.Max != nil && v > d.Max.D {
			v = d.Max.D
		}
		if lo := dur(d.Min); v < lo {
			v = lo
		}
	}
	return max(v, 0)
}

// dur reads an optional duration as 0 when absent.
func dur(d *profile.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return d.D
}
