package server

import (
	"encoding/json"
	"fmt"
	"github.com/linxGnu/gosmpp/pdu"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"testing"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
)

func spec(t testing.TB, typ string, params any, m faults.Match) faults.Spec {
	t.Helper()
	b, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	return faults.Spec{Type: typ, Params: b, Match: m}
}

func receiptDelay(t testing.TB, d string) faults.Spec {
	return spec(t, "receipt_delay", map[string]any{"distribution": map[string]any{"kind": "fixed", "value": d}}, faults.Match{})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return v
}

// tlvString reads a C-string TLV of a parsed PDU.
func tlvString(d *pdu.DeliverSM, tag pdu.Tag) string {
	f := d.OptionalParameters[tag]
	return f.String()
}

func recorderFilter(cmd string) recorder.Filter { return recorder.Filter{Command: cmd} }
