// Package profile describes an operator's protocol quirks: how its SMSC formats
// message ids, what its delivery receipts look like, which parts of a long
// message get a receipt, what data_coding 0 means and how it keeps sessions
// alive. Every field has a default that matches the most common SMSC behaviour.
package profile

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/receipt"
)

// Profile is one operator's set of quirks.
type Profile struct {
	Name string `json:"name,omitempty" yaml:"name"`
	// Style starts the profile from a named MNO style (Styles, README.md);
	// every field set beside it overrides the style's.
	Style string `json:"style,omitempty" yaml:"style"`
	// MessageID is the format of the id in submit_sm_resp.
	MessageID IDFormat `json:"messageId" yaml:"messageId"`
	// ReceiptMessageID is the format of the same id inside receipts; empty means
	// the same as MessageID. Hex in the resp and decimal in the receipt is a
	// classic source of unmatched receipts.
	ReceiptMessageID *IDFormat `json:"receiptMessageId,omitempty" yaml:"receiptMessageId"`
	Receipt          Receipt   `json:"receipt" yaml:"receipt"`
	// DataCoding0 is the alphabet the SMSC assumes for data_coding 0: gsm7, latin1 or ascii.
	DataCoding0 string `json:"dataCoding0,omitempty" yaml:"dataCoding0"`
	// EnquireLinkInterval makes the SMSC send enquire_link on idle binds.
	EnquireLinkInterval Duration `json:"enquireLinkInterval,omitempty" yaml:"enquireLinkInterval"`
	// IdleTimeout closes a bind that sent nothing for this long (after an unbind).
	IdleTimeout Duration `json:"idleTimeout,omitempty" yaml:"idleTimeout"`
}

// Receipt describes the delivery receipts an operator sends.
type Receipt struct {
	// Carry: text (short_message only), tlv (receipted_message_id, message_state,
	// network_error_code only) or both.
	Carry string `json:"carry,omitempty" yaml:"carry"`
	// Text is the text variant: standard, seconds (dates with seconds),
	// capitalized ("Id:", "Stat:"...), no_text (no "text:" field), short (id, stat
	// and err only), bare (the status word without its "stat:" key).
	Text string `json:"text,omitempty" yaml:"text"`
	// ESMClass of the receipt deliver_sm (0x04 by the spec; some send 0x00 or 0x08).
	// With 0 the receipt looks like an MO but for its text (and its TLVs
	// unless carry is text).
	ESMClass *byte `json:"esmClass,omitempty" yaml:"esmClass"`
	// Parts: each, first or last: which parts of a concatenated message get a receipt.
	Parts string `json:"parts,omitempty" yaml:"parts"`
	// PDU is the command receipts go in: deliver_sm (default) or data_sm
	// (SMPP 3.4 4.7: no short_message, the text goes in message_payload).
	PDU string `json:"pdu,omitempty" yaml:"pdu"`
	// DataCoding of the receipt text: 0 (default: the dataCoding0 alphabet),
	// 3 (Latin-1) or 8 (UCS2, UTF-16BE).
	DataCoding byte `json:"dataCoding,omitempty" yaml:"dataCoding"`
	// Intermediate lists the intermediate receipts sent, in order, before the
	// final one: SCHEDULED, ENROUTE, ACCEPTD, BUFFRED, ACKED (default none).
	Intermediate []string `json:"intermediate,omitempty" yaml:"intermediate"`
	// IntermediateESMClass is the esm_class of intermediate receipts: 0x04
	// (default, as many SMSCs send them) or 0x20 (intermediate delivery
	// notification, the spec's way).
	IntermediateESMClass *byte `json:"intermediateEsmClass,omitempty" yaml:"intermediateEsmClass"`
}

// Carry values.
const (
	CarryText = "text"
	CarryTLV  = "tlv"
	CarryBoth = "both"
)

// PDU values.
const (
	PDUDeliverSM = "deliver_sm"
	PDUDataSM    = "data_sm"
)

// Parts values.
const (
	PartsEach  = "each"
	PartsFirst = "first"
	PartsLast  = "last"
)

// Text variants.
var textVariants = map[string]bool{"standard": true, "seconds": true, "capitalized": true, "no_text": true, "short": true, "bare": true}

// Default returns the most common SMSC behaviour.
func Default() Profile {
	return Profile{Name: "default", MessageID: IDFormat{Format: IDDecimal}}
}

// WithDefaults fills empty fields: from the style first, if there is one,
// then with the most common SMSC behaviour.
func (p Profile) WithDefaults() Profile {
	if st, ok := styles[p.Style]; ok {
		p = overlay(st.Profile, p)
	}
	if p.Name == "" {
		p.Name = "default"
	}
	if p.MessageID.Format == "" {
		p.MessageID.Format = IDDecimal
	}
	if p.Receipt.Carry == "" {
		p.Receipt.Carry = CarryBoth
	}
	if p.Receipt.Text == "" {
		p.Receipt.Text = "standard"
	}
	if p.Receipt.ESMClass == nil {
		v := byte(0x04)
		p.Receipt.ESMClass = &v
	}
	if p.Receipt.Parts == "" {
		p.Receipt.Parts = PartsEach
	}
	if p.Receipt.PDU == "" {
		p.Receipt.PDU = PDUDeliverSM
	}
	if p.Receipt.IntermediateESMClass == nil {
		v := byte(0x04)
		p.Receipt.IntermediateESMClass = &v
	}
	if p.DataCoding0 == "" {
		p.DataCoding0 = "gsm7"
	}
	return p
}

// Validate names the first invalid field.
func (p Profile) Validate() error {
	if err := p.MessageID.Validate(); err != nil {
		return fmt.Errorf("messageId: %w", err)
	}
	if p.ReceiptMessageID != nil {
		if err := p.ReceiptMessageID.Validate(); err != nil {
			return fmt.Errorf("receiptMessageId: %w", err)
		}
	}
	switch p.Receipt.Carry {
	case "", CarryText, CarryTLV, CarryBoth:
	default:
		return fmt.Errorf("receipt.carry: %q is not one of text, tlv, both", p.Receipt.Carry)
	}
	if p.Style != "" {
		if _, ok := styles[p.Style]; !ok {
			return fmt.Errorf("style: %q is not one of %s", p.Style, strings.Join(StyleNames(), ", "))
		}
	}
	if p.Receipt.Text != "" && !textVariants[p.Receipt.Text] {
		return fmt.Errorf("receipt.text: %q is not one of standard, seconds, capitalized, no_text, short, bare", p.Receipt.Text)
	}
	switch p.Receipt.PDU {
	case "", PDUDeliverSM, PDUDataSM:
	default:
		return fmt.Errorf("receipt.pdu: %q is not one of deliver_sm, data_sm", p.Receipt.PDU)
	}
	switch p.Receipt.DataCoding {
	case 0, 3, 8:
	default:
		return fmt.Errorf("receipt.dataCoding: %d is not one of 0 (dataCoding0 alphabet), 3 (Latin-1), 8 (UCS2)", p.Receipt.DataCoding)
	}
	for i, stat := range p.Receipt.Intermediate {
		if !receipt.Intermediate(stat) {
			return fmt.Errorf("receipt.intermediate[%d]: %q is not one of %s", i, stat, strings.Join(receipt.IntermediateStats(), ", "))
		}
	}
	switch p.Receipt.Parts {
	case "", PartsEach, PartsFirst, PartsLast:
	default:
		return fmt.Errorf("receipt.parts: %q is not one of each, first, last", p.Receipt.Parts)
	}
	switch p.DataCoding0 {
	case "", "gsm7", "latin1", "ascii":
	default:
		return fmt.Errorf("dataCoding0: %q is not one of gsm7, latin1, ascii", p.DataCoding0)
	}
	if p.EnquireLinkInterval.D < 0 || p.IdleTimeout.D < 0 {
		return fmt.Errorf("enquireLinkInterval/idleTimeout: must not be negative")
	}
	return nil
}

// ReceiptID returns the id format used inside receipts.
func (p Profile) ReceiptID() IDFormat {
	if p.ReceiptMessageID != nil {
		return *p.ReceiptMessageID
	}
	return p.MessageID
}

// ReceiptFor reports whether part (1-based) of total gets a receipt.
func (p Profile) ReceiptFor(part, total int) bool {
	if total <= 1 {
		return true
	}
	switch p.Receipt.Parts {
	case PartsFirst:
		return part == 1
	case PartsLast:
		return part == total
	}
	return true
}

// Duration is a time.Duration that reads "1.5s" from JSON and YAML.
type Duration struct{ D time.Duration }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.D.String()) }

// UnmarshalJSON reads "250ms" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err2 := json.Unmarshal(b, &secs); err2 != nil {
			return fmt.Errorf("duration: want a string like \"1.5s\" or a number of seconds, got %s", b)
		}
		d.D = time.Duration(secs * float64(time.Second))
		return nil
	}
	return d.parse(s)
}

// UnmarshalYAML reads "250ms".
func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	return d.parse(s)
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return d.D.String(), nil }

func (d *Duration) parse(s string) error {
	if s == "" {
		d.D = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	d.D = v
	return nil
}
