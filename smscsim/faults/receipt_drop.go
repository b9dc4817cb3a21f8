package faults

import (
	"encoding/json"
)

// receipt_drop loses delivery receipts; with a probability it is a drop rate
// ("probability": 0.05 loses 5%), which a connector must survive by expiring
// messages that never get a receipt.
type receiptDrop struct{}

func init() {
	Register(Type{
		Name:        "receipt_drop",
		Description: "never sends the delivery receipt (use probability for a drop rate)",
		New:         newReceiptDrop,
	})
}

func newReceiptDrop(raw json.RawMessage) (Fault, error) {
	if err := decodeParams(raw, &struct{}{}); err != nil {
		return nil, err
	}
	return receiptDrop{}, nil
}

// OnReceipt drops the receipt.
func (receiptDrop) OnReceipt(in *Instance, _ *ReceiptEvent, act *ReceiptAction) {
	act.Drop = true
	act.By = append(act.By, in.Spec.Name)
	in.Hit()
}
