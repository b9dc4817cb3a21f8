package inbound

import (
	"strings"
	"testing"
)

// A receipt's text: field echoes the subscriber's message (a one-time
// code): logs show the SMSC's fields only.
func TestLoggedTextLeavesOutTheMessage(t *testing.T) {
	for _, c := range []struct{ raw, want string }{
		{"id:1 stat:DELIVRD err:000 text:Your code is 123456", "id:1 stat:DELIVRD err:000 text:[19 bytes not logged]"},
		{"ID:1 STAT:DELIVRD TEXT:Code 99", "ID:1 STAT:DELIVRD TEXT:[7 bytes not logged]"},
		{"id:1 stat:DELIVRD", "id:1 stat:DELIVRD"},
		// Fields after text: (dlr reads them) are not logged from the raw
		// text: the log line carries the parsed err apart.
		{"id:1 stat:DELIVRD text:Your code is 123456 err:000", "id:1 stat:DELIVRD text:[27 bytes not logged]"},
		{strings.Repeat("é", 100), strings.Repeat("é", 60) + "[80 bytes not logged]"},
	} {
		if got := loggedText(c.raw); got != c.want {
			t.Errorf("loggedText(%q) = %q, want %q", c.raw, got, c.want)
		}
		if strings.Contains(loggedText(c.raw), "123456") {
			t.Errorf("the code is logged")
		}
	}
}
