package faults

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// receipt_outcomes picks each receipt's final state by weight, e.g. 90%
// DELIVRD, 5% UNDELIV, 2% EXPIRED..., and sets the err: field to match.
type receiptOutcomes struct {
	stats   []string  // in receiptStats order, weight > 0 only
	cum     []float64 // cumulative weights, same index
	total   float64
	errCode map[string]string
}

type receiptOutcomesParams struct {
	Weights    map[string]float64 `json:"weights"`
	ErrorCodes map[string]string  `json:"errorCodes,omitempty"`
}

// receiptStats are the stat: values a receipt may carry, in a fixed order so
// that picking by weight does not depend on map iteration (seeded runs repeat).
var receiptStats = []string{"DELIVRD", "UNDELIV", "EXPIRED", "REJECTD", "DELETED", "ACCEPTD", "UNKNOWN", "ENROUTE"}

// defaultErrCodes fill err: when errorCodes does not say. The field is
// SMSC-specific; 000 means no error and the others are distinct so that tests
// can tell the outcomes apart.
var defaultErrCodes = map[string]string{
	"DELIVRD": "000", "ACCEPTD": "000", "ENROUTE": "000",
	"UNDELIV": "001", "REJECTD": "002", "EXPIRED": "003", "DELETED": "004", "UNKNOWN": "005",
}

func init() {
	Register(Type{
		Name:        "receipt_outcomes",
		Description: "picks each receipt's stat (DELIVRD, UNDELIV, EXPIRED, ...) by weight and sets its err code",
		New:         newReceiptOutcomes,
	})
}

func newReceiptOutcomes(raw json.RawMessage) (Fault, error) {
	var p receiptOutcomesParams
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	known := strings.Join(receiptStats, ", ")
	for _, k := range slices.Sorted(maps.Keys(p.Weights)) { // sorted: the same error every time
		if !isStat(k) {
			return nil, paramErr("weights."+k, "unknown receipt stat (one of %s)", known)
		}
	}
	r := &receiptOutcomes{errCode: map[string]string{}}
	for _, s := range receiptStats {
		w, ok := p.Weights[s]
		if !ok {
			continue
		}
		if w < 0 {
			return nil, paramErr("weights."+s, "must be >= 0, got %v", w)
		}
		if w > 0 {
			r.total += w
			r.stats, r.cum = append(r.stats, s), append(r.cum, r.total)
		}
	}
	if r.total <= 0 {
		return nil, paramErr("weights", "need at least one weight > 0 (stats: %s)", known)
	}
	for _, k := range slices.Sorted(maps.Keys(p.ErrorCodes)) {
		v := p.ErrorCodes[k]
		if !isStat(k) {
			return nil, paramErr("errorCodes."+k, "unknown receipt stat (one of %s)", known)
		}
		if !isErrCode(v) {
			return nil, paramErr("errorCodes."+k, "must be 3 digits like \"001\", got %q", v)
		}
	}
	for _, s := range receiptStats {
		r.errCode[s] = defaultErrCodes[s]
		if v, ok := p.ErrorCodes[s]; ok {
			r.errCode[s] = v
		}
	}
	return r, nil
}

// OnReceipt sets Stat and Err.
func (r *receiptOutcomes) OnReceipt(in *Instance, _ *ReceiptEvent, act *ReceiptAction) {
	x := in.Rand() * r.total
	stat := r.stats[len(r.stats)-1] // guards against x == total after rounding
	for i, c := range r.cum {
		if x < c {
			stat = r.stats[i]
			break
		}
	}
	act.Stat, act.Err = stat, r.errCode[stat]
	act.By = append(act.By, in.Spec.Name)
	in.Hit()
}

func isStat(s string) bool { return slices.Contains(receiptStats, s) }

func isErrCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
