package faults

import (
	"encoding/json"
)

// receipt_delay holds delivery receipts back by a random delay, like a
// handset that is off or a slow downstream network.
type receiptDelay struct {
	dist Distribution
}

func init() {
	Register(Type{
		Name:        "receipt_delay",
		Description: "delays delivery receipts by a fixed, uniform or normal random duration",
		New:         newReceiptDelay,
	})
}

func newReceiptDelay(raw json.RawMessage) (Fault, error) {
	var p latencyParams // same shape: {"distribution": ...}
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	if err := p.Distribution.Validate(); err != nil {
		return nil, nestedErr("distribution", err)
	}
	return &receiptDelay{dist: p.Distribution}, nil
}

// OnReceipt adds to the delay.
func (r *receiptDelay) OnReceipt(in *Instance, _ *ReceiptEvent, act *ReceiptAction) {
	act.Delay += r.dist.Sample(in)
	act.By = append(act.By, in.Spec.Name)
	in.Hit()
}
