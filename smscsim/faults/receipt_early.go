package faults

import (
	"encoding/json"
)

// receipt_early sends the receipt before the submit_sm_resp, so the client
// receives a receipt for a message id it does not know yet; fast SMSCs do
// this when the resp and the receipt race on different threads.
type receiptEarly struct{}

func init() {
	Register(Type{
		Name:        "receipt_early",
		Description: "sends the delivery receipt before the submit_sm_resp",
		New:         newReceiptEarly,
	})
}

func newReceiptEarly(raw json.RawMessage) (Fault, error) {
	if err := decodeParams(raw, &struct{}{}); err != nil {
		return nil, err
	}
	return receiptEarly{}, nil
}

// OnReceipt marks the receipt early.
func (receiptEarly) OnReceipt(in *Instance, _ *ReceiptEvent, act *ReceiptAction) {
	act.Early = true
	act.By = append(act.By, in.Spec.Name)
	in.Hit()
}
