package replay

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/linxGnu/gosmpp/data"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/receipt"
	"github.com/smpp-connector/smpp-connector/smscsim/scenario"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// Options shape the scenario.
type Options struct {
	Name string
	// Speed divides every delay and offset (2 plays twice as fast); 0 means 1.
	Speed float64
	// Operator is the operator MO steps go to (they need one); "" leaves MO out.
	Operator string
	// Then is what the scripts do after their last entry (faults.ThenRepeatLast by default).
	Then string
	// Resolution rounds delays (default 1ms) so that equal answers merge.
	Resolution time.Duration
}

// Fault names the scenario gives its steps, so that an engineer can remove
// one with `smscsim faults remove`.
const (
	NameSubmits  = "recorded-submits"
	NameBinds    = "recorded-binds"
	NameReceipts = "recorded-receipts"
)

// Build turns a behaviour into a scenario: at 0s it adds a response_script
// for submit_sm (statuses, delays and disconnects in order), one for binds
// when a bind was refused, and a receipt_script (delays, stats, style);
// MO messages and the SMSC's other disconnects follow at their offsets.
func Build(b *Behaviour, o Options) (*scenario.Scenario, error) {
	if o.Speed == 0 {
		o.Speed = 1
	}
	if o.Speed < 0.001 || o.Speed > 1000 {
		return nil, fmt.Errorf("speed %v: want 0.001..1000", o.Speed)
	}
	if o.Resolution <= 0 {
		o.Resolution = time.Millisecond
	}
	scale := func(d time.Duration) time.Duration {
		return (time.Duration(float64(d) / o.Speed)).Round(o.Resolution)
	}
	sc := &scenario.Scenario{Name: o.Name}
	add := func(at time.Duration, s faults.Spec) {
		sc.Steps = append(sc.Steps, scenario.Step{At: scenario.Duration(at), Add: &s})
	}
	if len(b.Submits) > 0 {
		add(0, spec(NameSubmits, "response_script", "submit_sm", responses(b.Submits, scale, o.Then)))
	}
	refused := false
	for _, a := range b.Binds {
		refused = refused || a.Status != data.ESME_ROK
	}
	if refused {
		// Once the recorded binds are used up, binds get the simulator's own
		// answer: a refused bind is retried until it succeeds.
		add(0, spec(NameBinds, "response_script", "bind", responses(b.Binds, scale, faults.ThenPass)))
	}
	if len(b.Receipts) > 0 {
		add(0, spec(NameReceipts, "receipt_script", "", receipts(b, scale, o.Then)))
	}
	for _, mo := range b.MOs {
		if o.Operator == "" {
			break
		}
		m := &scenario.MO{Operator: o.Operator}
		m.Source, m.Dest, m.Text = trim20(mo.Source), trim20(mo.Dest), mo.Text
		if m.Source == "" {
			m.Source = "0"
		}
		if m.Dest == "" {
			m.Dest = "0"
		}
		sc.Steps = append(sc.Steps, scenario.Step{At: scenario.Duration(scale(mo.At)), MO: m})
	}
	for i, at := range b.Disconnects {
		add(scale(at), faults.Spec{Name: fmt.Sprintf("recorded-disconnect-%d", i+1), Type: "disconnect", Params: mustJSON(map[string]string{"at": "0s"})})
	}
	if len(sc.Steps) == 0 {
		return nil, fmt.Errorf("the recording holds no SMSC behaviour to replay (no submit_sm answered, no bind refused, no receipt, MO or disconnect)")
	}
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("built scenario is invalid (a bug): %w", err)
	}
	return sc, nil
}

func trim20(s string) string {
	if len(s) > 20 {
		return s[:20]
	}
	return s
}

func spec(name, typ, command string, params any) faults.Spec {
	return faults.Spec{Name: name, Type: typ, Match: faults.Match{Command: command}, Params: mustJSON(params)}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own plain structs are marshalled
	}
	return b
}

// The params are written with the field names of the fault types, in the
// order a reader expects; zero fields are left out.
type respEntry struct {
	Status      string `json:"status"`
	GenericNack bool   `json:"genericNack,omitempty"`
	Delay       string `json:"delay,omitempty"`
	Close       bool   `json:"close,omitempty"`
	Drop        bool   `json:"drop,omitempty"`
	Count       uint64 `json:"count,omitempty"`
}

type respParams struct {
	Responses []respEntry `json:"responses"`
	Then      string      `json:"then,omitempty"`
}

func responses(as []Answer, scale func(time.Duration) time.Duration, then string) respParams {
	p := respParams{Then: then}
	for _, a := range as {
		e := respEntry{Status: wire.StatusName(a.Status), GenericNack: a.GenericNack, Close: a.Close, Drop: a.Drop}
		if d := scale(a.Delay); d > 0 && !a.Drop {
			e.Delay = d.String()
		}
		p.Responses = appendRun(p.Responses, e, func(r *respEntry) *uint64 { return &r.Count })
	}
	return p
}

func receipts(b *Behaviour, scale func(time.Duration) time.Duration, then string) faults.ReceiptScriptParams {
	p := faults.ReceiptScriptParams{Then: then, Style: b.Style}
	for _, r := range b.Receipts {
		e := faults.ReceiptEntry{Drop: r.Drop, Early: r.Early}
		if !r.Drop {
			// A stat or err the simulator cannot send (a vendor's own word)
			// is played as UNKNOWN with the stat's default err.
			if e.Stat = r.Stat; e.Stat != "" && !receipt.KnownStat(e.Stat) {
				e.Stat = receipt.Unknown
			}
			if len(r.Err) == 3 && strings.Trim(r.Err, "0123456789") == "" {
				e.Err = r.Err
			}
			if r.Copies > 1 {
				e.Copies = r.Copies
			}
			if d := scale(r.Delay); d > 0 && !r.Early {
				e.Delay = profile.Duration{D: d}
			}
		}
		p.Receipts = appendRun(p.Receipts, e, func(r *faults.ReceiptEntry) *uint64 { return &r.Count })
	}
	return p
}

// appendRun appends e to a script, or counts it on the last entry when the
// two are equal but for their count: a run of identical answers is written
// once, with its count.
func appendRun[T comparable](list []T, e T, count func(*T) *uint64) []T {
	if n := len(list); n > 0 {
		last := &list[n-1]
		c := *count(last)
		*count(last) = 0
		if *last == e {
			*count(last) = max(c, 1) + 1
			return list
		}
		*count(last) = c
	}
	return append(list, e)
}
