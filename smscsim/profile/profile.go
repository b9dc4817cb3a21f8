// Package profile describes an operator's protocol quirks: how its SMSC formats
// message ids, what its delivery receipts look like, which parts of a long
// message get a receipt, what data_coding 0 means and how it keeps sessions
// alive. Every field has a default that matches the most common SMSC behaviour.
package profile

import (
	"encoding/json"
	"fmt"
	"time"
)

// Profile is one operator's set of quirks.
type Profile struct {
	Name string `json:"name,omitempty" yaml:"name"`
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
	// and err only).
	Text string `json:"text,omitempty" yaml:"text"`
	// ESMClass of the receipt deliver_sm (0x04 by the spec; some send 0x00 or 0x08).
	ESMClass *byte `json:"esmClass,omitempty" yaml:"esmClass"`
	// Parts: each, first or last: which parts of a concatenated message get a receipt.
	Parts string `json:"parts,omitempty" yaml:"parts"`
}

// Carry values.
const (
	CarryText = "text"
	CarryTLV  = "tlv"
	CarryBoth = "both"
)

// Parts values.
const (
	PartsEach  = "each"
	PartsFirst = "first"
	PartsLast  = "last"
)

// Text variants.
var textVariants = map[string]bool{"standard": true, "seconds": true, "capitalized": true, "no_text": true, "short": true}

// Default returns the most common SMSC behaviour.
func Default() Profile {
	return Profile{Name: "default", MessageID: IDFormat{Format: IDDecimal}}
}

// WithDefaults fills empty fields.
func (p Profile) WithDefaults() Profile {
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
	if p.Receipt.Text != "" && !textVariants[p.Receipt.Text] {
		return fmt.Errorf("receipt.text: %q is not one of standard, seconds, capitalized, no_text, short", p.Receipt.Text)
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
