package config

import (
	"strings"
	"testing"
	"time"
)

// receiptHorizon bounds how old a part a receipt may be attributed to: 72h
// unless set, at least a minute.
func TestReceiptHorizon(t *testing.T) {
	f, err := Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Operators[0].ReceiptHorizon; got != 72*time.Hour {
		t.Fatalf("default receiptHorizon %s, want 72h", got)
	}
	f, err = Parse([]byte(minimal + "    receiptHorizon: 24h\n"))
	if err != nil || f.Operators[0].ReceiptHorizon != 24*time.Hour {
		t.Fatalf("receiptHorizon 24h: %v", err)
	}
	for v, want := range map[string]string{
		"0s":  `line 7: operator "mno-b": receiptHorizon: must be at least 1m0s, got 0s`,
		"30s": `line 7: operator "mno-b": receiptHorizon: must be at least 1m0s, got 30s`,
		"-1h": `line 7: operator "mno-b": receiptHorizon: must be at least 1m0s, got -1h0m0s`,
	} {
		_, err := Parse([]byte(minimal + "    receiptHorizon: " + v + "\n"))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("receiptHorizon %s: got %v, want %s", v, err, want)
		}
	}
}

// A receipt held by its epoch waits twice the response timeout, at least
// 30 s, for a newer part to take its key.
func TestReceiptHold(t *testing.T) {
	o := DefaultOperator("x")
	if got := o.ReceiptHold(); got != 30*time.Second {
		t.Fatalf("hold with responseTimeout 10s: %s, want 30s", got)
	}
	o.ResponseTimeout = 45 * time.Second
	if got := o.ReceiptHold(); got != 90*time.Second {
		t.Fatalf("hold with responseTimeout 45s: %s, want 1m30s", got)
	}
}
