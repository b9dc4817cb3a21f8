package scenario

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/smstext"
)

// Validate checks a scenario built in Go the way Parse checks a file: each
// step does one thing, fault specs build (parameters included), MO messages
// can be encoded, and no fault is added twice while it is active.
func (sc *Scenario) Validate() error { return validate(sc, nil) }

func validate(sc *Scenario, lines map[string]int) error {
	lineOf := func(field string) int {
		for f := field; f != ""; {
			if l, ok := lines[f]; ok {
				return l
			}
			i := strings.LastIndexAny(f, ".[")
			if i < 0 {
				break
			}
			f = f[:i]
		}
		return 0
	}
	fail := func(field, msg string) error { return &Error{Line: lineOf(field), Field: field, Msg: msg} }

	if len(sc.Steps) == 0 {
		return fail("steps", "at least one step is required")
	}
	for i := range sc.Steps {
		st := &sc.Steps[i]
		field := fmt.Sprintf("steps[%d]", i)
		if st.At < 0 || st.At.D() > maxAt {
			return fail(field+".at", fmt.Sprintf("must be between 0s and %s, got %s", maxAt, st.At))
		}
		switch k := st.kinds(); len(k) {
		case 0:
			return fail(field, "want one of add, remove, mo or reset")
		case 1:
		default:
			return fail(field, fmt.Sprintf("want exactly one of add, remove, mo or reset, got %s", strings.Join(k, " and ")))
		}
		switch {
		case st.Add != nil:
			if f, msg := CheckSpec(*st.Add); msg != "" {
				return fail(join(field+".add", f), msg)
			}
		case st.MO != nil:
			if st.MO.Operator == "" {
				return fail(field+".mo.operator", "required")
			}
			if f, msg := CheckMO(st.MO.MO); msg != "" {
				return fail(field+".mo."+f, msg)
			}
		}
	}

	// Play the timeline: a fault cannot be added again while it is active.
	order := make([]int, len(sc.Steps))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return sc.Steps[order[a]].At < sc.Steps[order[b]].At })
	active := map[string]int{}
	for _, i := range order {
		st := &sc.Steps[i]
		switch {
		case st.Reset:
			clear(active)
		case st.Remove != "":
			delete(active, st.Remove)
		case st.Add != nil:
			name := faultName(st.Add)
			if j, ok := active[name]; ok {
				return fail(fmt.Sprintf("steps[%d].add.name", i), fmt.Sprintf(
					"fault %q is still active at %s (added by steps[%d] at %s): remove it first or use another name",
					name, st.At, j, sc.Steps[j].At))
			}
			active[name] = i
		}
	}
	return nil
}

// CheckSpec validates a fault spec as the registry would when adding it,
// type parameters included (by building the fault in a throwaway registry).
// It returns the field at fault ("type", "probability", "match.command",
// "params.tps", ...; "" for the spec as a whole) and the problem, or two
// empty strings.
func CheckSpec(s faults.Spec) (field, msg string) {
	if err := s.Validate(); err != nil {
		return SplitField(err.Error())
	}
	if _, err := faults.NewRegistry(1, nil).Add(s); err != nil {
		return SplitField(strings.TrimPrefix(err.Error(), s.Type+": "))
	}
	return "", ""
}

// CheckMO validates an MO message as the server will encode it. It returns
// the JSON field at fault and the problem, or two empty strings.
func CheckMO(m faults.MO) (field, msg string) {
	switch {
	case m.Source == "":
		return "source", "required"
	case len(m.Source) > 20:
		return "source", fmt.Sprintf("at most 20 characters, got %d", len(m.Source))
	case m.Dest == "":
		return "destination", "required"
	case len(m.Dest) > 20:
		return "destination", fmt.Sprintf("at most 20 characters, got %d", len(m.Dest))
	}
	enc, seg := m.Encoding, m.Segmentation
	switch enc {
	case "", "gsm7", "ucs2", "latin1", "auto":
	default:
		return "encoding", fmt.Sprintf("want gsm7, ucs2, latin1 or auto, got %q", m.Encoding)
	}
	switch seg {
	case "":
		seg = "udh8"
	case "udh8", "udh16", "sar", "payload":
	default:
		return "segmentation", fmt.Sprintf("want udh8, udh16, sar or payload, got %q", m.Segmentation)
	}
	// The operator's default alphabet (for "" and auto) is known only when
	// the MO is sent; here the text must fit GSM 03.38 or, failing that,
	// Latin-1, the alphabets operators use for data_coding 0.
	_, err := smstext.Split(m.Text, enc, seg, smstext.AlphabetGSM7, 1)
	if err != nil && (enc == "" || enc == "auto") {
		if _, err1 := smstext.Split(m.Text, enc, seg, smstext.AlphabetLatin1, 1); err1 == nil {
			err = nil
		}
	}
	if err != nil {
		return "text", strings.TrimPrefix(err.Error(), "text: ")
	}
	return "", ""
}

var (
	fieldPrefix  = regexp.MustCompile(`^([A-Za-z0-9_]+(?:\[\d+\])*(?:\.[A-Za-z0-9_]+(?:\[\d+\])*)*): (.*)$`)
	unknownJSON  = regexp.MustCompile(`^json: unknown field "([^"]*)"$`)
	typeMismatch = regexp.MustCompile(`^json: cannot unmarshal (.*) into Go struct field [A-Za-z0-9_]+\.([A-Za-z0-9_.]+) of type (.*)$`)
)

// SplitField splits an error message like "params.tps: must be > 0" into the
// field path and the rest; for "params: json: unknown field \"x\"" the field
// is "params.x". A message that names no field returns an empty field.
func SplitField(msg string) (field, rest string) {
	m := fieldPrefix.FindStringSubmatch(msg)
	if m == nil {
		return "", msg
	}
	field, rest = m[1], m[2]
	if u := unknownJSON.FindStringSubmatch(rest); u != nil {
		return field + "." + u[1], "unknown field"
	}
	if t := typeMismatch.FindStringSubmatch(rest); t != nil {
		return field + "." + t[2], fmt.Sprintf("want %s, got %s", t[3], t[1])
	}
	return field, rest
}
