package config

import (
	"strings"
	"testing"
)

// maxParts caps the parts of one message: 10 unless set, 1..255 (SMPP's
// concatenation counts parts in one octet).
func TestMaxParts(t *testing.T) {
	f, err := Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Operators[0].MaxParts; got != 10 {
		t.Fatalf("default maxParts %d, want 10", got)
	}
	f, err = Parse([]byte(minimal + "    maxParts: 255\n"))
	if err != nil || f.Operators[0].MaxParts != 255 {
		t.Fatalf("maxParts 255: %v", err)
	}
	for v, want := range map[string]string{
		"0":   `line 7: operator "mno-b": maxParts: must be 1-255, got 0`,
		"256": `line 7: operator "mno-b": maxParts: must be 1-255, got 256`,
		"-3":  `line 7: operator "mno-b": maxParts: must be 1-255, got -3`,
	} {
		_, err := Parse([]byte(minimal + "    maxParts: " + v + "\n"))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("maxParts %s: got %v, want %s", v, err, want)
		}
	}
}

// afterCrash says what becomes of a part a dead process may have sent:
// unknown (at most once) unless set; resend is the only other choice.
func TestAfterCrash(t *testing.T) {
	f, err := Parse([]byte(minimal))
	if err != nil || f.Operators[0].AfterCrash != AfterCrashUnknown {
		t.Fatalf("default afterCrash %q (%v), want %q", f.Operators[0].AfterCrash, err, AfterCrashUnknown)
	}
	f, err = Parse([]byte(minimal + "    afterCrash: resend\n"))
	if err != nil || f.Operators[0].AfterCrash != AfterCrashResend {
		t.Fatalf("afterCrash resend: %v", err)
	}
	_, err = Parse([]byte(minimal + "    afterCrash: twice\n"))
	if err == nil || !strings.Contains(err.Error(), `operator "mno-b": afterCrash:`) || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("afterCrash twice: got %v, want an error naming the operator and the field", err)
	}
}
