// Package receipt renders SMPP delivery receipts the way operators send them:
// the de-facto text format from SMPP 3.4 Appendix B in its common variants,
// and the receipt TLVs (receipted_message_id, message_state, network_error_code).
package receipt

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Stat values as they appear in receipt text.
const (
	Delivered     = "DELIVRD"
	Undeliverable = "UNDELIV"
	Expired       = "EXPIRED"
	Rejected      = "REJECTD"
	Deleted       = "DELETED"
	Accepted      = "ACCEPTD"
	Unknown       = "UNKNOWN"
	Enroute       = "ENROUTE"
)

// messageStates maps a stat to the message_state TLV value (SMPP 3.4 5.2.28).
var messageStates = map[string]byte{
	Enroute: 1, Delivered: 2, Expired: 3, Deleted: 4, Undeliverable: 5, Accepted: 6, Unknown: 7, Rejected: 8,
}

// KnownStat reports whether s is a receipt stat.
func KnownStat(s string) bool { _, ok := messageStates[s]; return ok }

// MessageState returns the message_state TLV value for a stat (7, unknown, if not known).
func MessageState(stat string) byte {
	if v, ok := messageStates[stat]; ok {
		return v
	}
	return 7
}

// Final reports whether a stat ends the message's life (everything but ENROUTE and ACCEPTD).
func Final(stat string) bool { return stat != Enroute && stat != Accepted }

// Receipt is what the SMSC knows about a message when it reports on it.
type Receipt struct {
	ID        string
	Submitted time.Time
	Done      time.Time
	Stat      string
	Err       string // 3 digits
	Original  string // original text; the first 20 characters are echoed
	Sub, Dlvr int
}

// Render renders the receipt's short_message in the given variant:
// standard, seconds, capitalized, no_text or short.
func (r Receipt) Render(variant string) string {
	dateFmt := "0601021504"
	if variant == "seconds" {
		dateFmt = "060102150405"
	}
	errc := r.Err
	if errc == "" {
		errc = "000"
	}
	if variant == "short" {
		return fmt.Sprintf("id:%s stat:%s err:%s", r.ID, r.Stat, errc)
	}
	sub, dlvrd := r.Sub, r.Dlvr
	if sub == 0 {
		sub = 1
	}
	var b strings.Builder
	b.Grow(160)
	key := func(k string) string {
		if variant == "capitalized" {
			return strings.ToUpper(k[:1]) + k[1:]
		}
		return k
	}
	fmt.Fprintf(&b, "%s:%s %s:%03d %s:%03d %s:%s %s:%s %s:%s %s:%s",
		key("id"), r.ID, key("sub"), sub, key("dlvrd"), dlvrd,
		key("submit date"), r.Submitted.UTC().Format(dateFmt), key("done date"), r.Done.UTC().Format(dateFmt),
		key("stat"), r.Stat, key("err"), errc)
	if variant != "no_text" {
		b.WriteString(" " + key("text") + ":" + first20(r.Original))
	}
	return b.String()
}

func first20(s string) string {
	if utf8.RuneCountInString(s) <= 20 {
		return s
	}
	n := 0
	for i := range s {
		if n == 20 {
			return s[:i]
		}
		n++
	}
	return s
}

// NetworkErrorCode encodes the network_error_code TLV: network type (3 = GSM)
// followed by the 2-byte error code taken from Err.
func (r Receipt) NetworkErrorCode() []byte {
	var code int
	fmt.Sscanf(r.Err, "%d", &code)
	return []byte{3, byte(code >> 8), byte(code)}
}
