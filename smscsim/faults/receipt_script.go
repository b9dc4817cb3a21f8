package faults

import (
	"encoding/json"
	"fmt"

	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	dlr "github.com/smpp-connector/smpp-connector/smscsim/receipt"
)

// receipt_script plays back a recorded SMSC's receipts: the n-th receipt the
// simulator plans (the n-th accepted submit asking for one) gets the n-th
// entry's delay, stat, err, copies, drop or early, and every receipt gets the
// recorded style (text template, esm_class, TLVs). Ids are the simulator's
// own, so an ESME correlates them as it would live.
type receiptScript struct {
	entries []ReceiptEntry
	seq     *sequence
	style   *ReceiptStyle
}

// ReceiptEntry is one receipt of a receipt_script: its params as the
// scenario file spells them (smscsim replay writes them with this type).
type ReceiptEntry struct {
	Delay  profile.Duration `json:"delay,omitzero"`
	Stat   string           `json:"stat,omitempty"`
	Err    string           `json:"err,omitempty"`
	Copies int              `json:"copies,omitempty"`
	Drop   bool             `json:"drop,omitempty"`
	Early  bool             `json:"early,omitempty"`
	Count  uint64           `json:"count,omitempty"`
}

// ReceiptScriptParams are a receipt_script's params.
type ReceiptScriptParams struct {
	Receipts []ReceiptEntry `json:"receipts"`
	Then     string         `json:"then,omitempty"`
	Style    *ReceiptStyle  `json:"style,omitempty"`
}

func init() {
	Register(Type{
		Name:        "receipt_script",
		Description: "gives the n-th receipt the n-th recorded delay, stat and err, in a recorded text style (smscsim replay)",
		New:         newReceiptScript,
	})
}

func newReceiptScript(raw json.RawMessage) (Fault, error) {
	var p ReceiptScriptParams
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	if len(p.Receipts) == 0 {
		return nil, paramErr("receipts", "at least one entry is required")
	}
	if len(p.Receipts) > maxScript {
		return nil, paramErr("receipts", "at most %d entries, got %d", maxScript, len(p.Receipts))
	}
	if err := checkThen(p.Then); err != nil {
		return nil, err
	}
	counts := make([]uint64, len(p.Receipts))
	for i, e := range p.Receipts {
		f := fmt.Sprintf("receipts[%d]", i)
		switch {
		case e.Delay.D < 0:
			return nil, paramErr(f+".delay", "must not be negative, got %s", e.Delay.D)
		case e.Stat != "" && !dlr.KnownStat(e.Stat):
			return nil, paramErr(f+".stat", "unknown stat %q", e.Stat)
		case e.Err != "" && !threeDigits(e.Err):
			return nil, paramErr(f+".err", "want 3 digits, got %q", e.Err)
		case e.Copies < 0 || e.Copies > 100:
			return nil, paramErr(f+".copies", "want 0..100, got %d", e.Copies)
		}
		counts[i] = e.Count
	}
	if p.Style != nil {
		if err := p.Style.Validate(); err != nil {
			return nil, err
		}
	}
	return &receiptScript{entries: p.Receipts, seq: newSequence(counts, p.Then), style: p.Style}, nil
}

func threeDigits(s string) bool {
	return len(s) == 3 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'
}

// OnReceipt applies the next entry and the style.
func (f *receiptScript) OnReceipt(in *Instance, _ *ReceiptEvent, act *ReceiptAction) {
	if f.style != nil {
		act.Style = f.style
	}
	i, ok := f.seq.next()
	if ok {
		e := f.entries[i]
		act.Delay += e.Delay.D
		if e.Stat != "" {
			act.Stat = e.Stat
			act.Err = defaultErrCodes[e.Stat]
			if act.Err == "" {
				act.Err = "000"
			}
		}
		if e.Err != "" {
			act.Err = e.Err
		}
		if e.Copies > 1 {
			act.Copies = e.Copies
		}
		act.Drop = act.Drop || e.Drop
		act.Early = act.Early || e.Early
	}
	act.By = append(act.By, in.Spec.Name)
	in.Hit()
}
