package faults

import (
	"encoding/json"
)

// receipt_duplicate sends the same receipt several times, as SMSCs do when
// they retry a deliver_sm whose response they think they lost; receipt
// handling has to be idempotent.
type receiptDuplicate struct {
	copies int
}

type receiptDuplicateParams struct {
	Copies int `json:"copies,omitempty"`
}

func init() {
	Register(Type{
		Name:        "receipt_duplicate",
		Description: "sends each delivery receipt copies times (default 2)",
		New:         newReceiptDuplicate,
	})
}

func newReceiptDuplicate(raw json.RawMessage) (Fault, error) {
	p := receiptDuplicateParams{Copies: 2}
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	if p.Copies < 2 {
		return nil, paramErr("copies", "must be >= 2 (the receipt plus at least one duplicate), got %d", p.Copies)
	}
	return &receiptDuplicate{copies: p.Copies}, nil
}

// OnReceipt sets the number of copies.
func (r *receiptDuplicate) OnReceipt(in *Instance, _ *ReceiptEvent, act *ReceiptAction) {
	act.Copies = r.copies
	act.By = append(act.By, in.Spec.Name)
	in.Hit()
}
