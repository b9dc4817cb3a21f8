// Package dispatch turns dispatch commands from the orchestrator into
// submit_sm PDUs: it validates the command, picks the encoding, segments the
// text by the operator's long-message strategy and classifies the SMSC's
// answers into final and retryable outcomes.
package dispatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Command is a dispatch command (DESIGN.md section 3). Unknown fields are
// ignored so the orchestrator can extend it without breaking us.
type Command struct {
	MessageID          string  `json:"messageId"`
	OperatorID         string  `json:"operatorId"`
	Source             Address `json:"source"`
	Destination        Address `json:"destination"`
	Text               string  `json:"text"`
	Encoding           string  `json:"encoding,omitempty"` // auto (default), gsm7, ucs2, latin1
	RegisteredDelivery bool    `json:"registeredDelivery"`
	Validity           string  `json:"validity,omitempty"` // ISO 8601 duration, e.g. PT24H
	Priority           int     `json:"priority,omitempty"` // 0..3
}

// Address is an SMPP address with its type of number and numbering plan.
type Address struct {
	Addr string `json:"addr"`
	TON  *int   `json:"ton,omitempty"`
	NPI  *int   `json:"npi,omitempty"`
}

// BadCommand is a command that can never be sent: it goes to the dead-letter
// subject with Reason and is acked, never retried.
type BadCommand struct {
	Field  string // JSON field at fault, when there is one
	Reason string
}

func (e *BadCommand) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

func bad(field, format string, args ...any) error {
	return &BadCommand{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// IsBad reports whether err is a BadCommand.
func IsBad(err error) bool {
	var b *BadCommand
	return errors.As(err, &b)
}

var (
	digits       = regexp.MustCompile(`^\+?[0-9]{1,20}$`)
	maxSourceLen = map[bool]int{true: 11, false: 20} // alphanumeric (TON 5) : numeric
)

// ParseCommand decodes and validates one command received on the subject of
// operatorID. Every error is a *BadCommand naming the field.
func ParseCommand(data []byte, operatorID string) (Command, error) {
	var c Command
	if err := checkUTF8(data); err != nil {
		return c, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&c); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return c, bad("", "not JSON: %v at offset %d", se, se.Offset)
		case errors.As(err, &te):
			return c, bad(te.Field, "want %s, got JSON %s", te.Type, te.Value)
		default:
			return c, bad("", "not JSON: %v", err)
		}
	}
	if dec.More() {
		return c, bad("", "not JSON: trailing data after the command")
	}
	if err := c.Validate(operatorID); err != nil {
		return c, err
	}
	return c, nil
}

// Validate checks the command against the SMPP limits.
func (c *Command) Validate(operatorID string) error {
	switch {
	case strings.TrimSpace(c.MessageID) == "":
		return bad("messageId", "required")
	case len(c.MessageID) > 128:
		return bad("messageId", "longer than 128 characters")
	case c.OperatorID == "":
		return bad("operatorId", "required")
	case operatorID != "" && c.OperatorID != operatorID:
		return bad("operatorId", "%q does not match the subject's operator %q", c.OperatorID, operatorID)
	case c.Destination.Addr == "":
		return bad("destination.addr", "required")
	case !digits.MatchString(c.Destination.Addr):
		return bad("destination.addr", "%q is not a number of at most 20 digits", c.Destination.Addr)
	case c.Source.Addr == "":
		return bad("source.addr", "required")
	}
	if err := checkTonNpi("source", c.Source); err != nil {
		return err
	}
	if err := checkTonNpi("destination", c.Destination); err != nil {
		return err
	}
	alpha := c.Source.TON != nil && *c.Source.TON == 5
	if n := len([]rune(c.Source.Addr)); n > maxSourceLen[alpha] {
		return bad("source.addr", "%d characters, at most %d for ton %s", n, maxSourceLen[alpha], map[bool]string{true: "5 (alphanumeric)", false: "other than 5"}[alpha])
	}
	if !alpha && !digits.MatchString(c.Source.Addr) {
		return bad("source.addr", "%q is not numeric: set ton 5 for an alphanumeric sender", c.Source.Addr)
	}
	switch c.Encoding {
	case "", "auto", "gsm7", "ucs2", "latin1":
	default:
		return bad("encoding", "%q is not one of auto, gsm7, ucs2, latin1", c.Encoding)
	}
	if c.Text == "" {
		return bad("text", "required")
	}
	if c.Priority < 0 || c.Priority > 3 {
		return bad("priority", "%d is outside 0..3", c.Priority)
	}
	if _, err := c.ValidityPeriod(); err != nil {
		return err
	}
	return nil
}

func checkTonNpi(field string, a Address) error {
	if a.TON != nil && (*a.TON < 0 || *a.TON > 6) {
		return bad(field+".ton", "%d is outside 0..6", *a.TON)
	}
	if a.NPI != nil {
		switch *a.NPI {
		case 0, 1, 3, 4, 6, 8, 9, 10, 14, 18:
		default:
			return bad(field+".npi", "%d is not an SMPP numbering plan (0,1,3,4,6,8,9,10,14,18)", *a.NPI)
		}
	}
	return nil
}

var isoDuration = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

// ValidityPeriod converts the ISO 8601 validity ("PT24H", "P2DT12H") to
// SMPP's relative time format "YYMMDDhhmmss000R" ("" when absent).
func (c *Command) ValidityPeriod() (string, error) {
	if c.Validity == "" {
		return "", nil
	}
	m := isoDuration.FindStringSubmatch(c.Validity)
	if m == nil || c.Validity == "P" || c.Validity == "PT" {
		return "", bad("validity", "%q is not an ISO 8601 duration like PT24H or P2DT12H", c.Validity)
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if m[i+1] != "" {
			n, _ := strconv.ParseInt(m[i+1], 10, 64)
			if n > 1e6 {
				return "", bad("validity", "%q is out of range", c.Validity)
			}
			d += time.Duration(n) * unit
		}
	}
	if d <= 0 {
		return "", bad("validity", "%q is zero", c.Validity)
	}
	days := int(d / (24 * time.Hour))
	if days > 99 {
		return "", bad("validity", "%q is more than SMPP's relative 99 days", c.Validity)
	}
	d -= time.Duration(days) * 24 * time.Hour
	h, mi, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	return fmt.Sprintf("0000%02d%02d%02d%02d000R", days, h, mi, s), nil
}
