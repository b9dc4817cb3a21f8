package inbound

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxLoggedText caps the receipt text a log line carries.
const maxLoggedText = 120

// loggedText is what a log line shows of a receipt's raw text: the fields
// the SMSC wrote, not its "text:" field, which echoes the start of the
// subscriber's message (a one-time code, often), and at most
// maxLoggedText bytes; the whole text stays in PostgreSQL, where a receipt
// kept for inspection has its raw bytes.
func loggedText(raw string) string {
	cut := len(raw)
	if i := strings.Index(strings.ToLower(raw), "text:"); i >= 0 {
		cut = i + len("text:")
	}
	cut = min(cut, maxLoggedText)
	for cut > 0 && cut < len(raw) && !utf8.RuneStart(raw[cut]) {
		cut--
	}
	if cut == len(raw) {
		return raw
	}
	return fmt.Sprintf("%s[%d bytes not logged]", raw[:cut], len(raw)-cut)
}
