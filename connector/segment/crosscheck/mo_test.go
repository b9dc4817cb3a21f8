package crosscheck

import (
	"fmt"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/connector/segment"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// moText decodes an MO's parts the way the connector's MO handler does
// (connector/inbound handleMO; the store only keeps the fragments in order):
// Concat and Payload for each part, then Join, or Decode for a lone part,
// with the operator's data_coding 0 alphabet dc0.
func moText(parts []segment.Part, dc0 string) (string, error) {
	frags := make([]segment.Fragment, 0, len(parts))
	for _, p := range parts {
		_, total, seq, segmented, err := segment.Concat(p)
		if err != nil {
			return "", err
		}
		payload, err := segment.Payload(p)
		if err != nil {
			return "", err
		}
		if !segmented || total == 1 {
			return segment.Decode(p.DataCoding, payload, dc0)
		}
		if seq != len(frags)+1 {
			return "", fmt.Errorf("part %d arrived as number %d", seq, len(frags)+1)
		}
		frags = append(frags, segment.Fragment{DataCoding: p.DataCoding, Octets: payload})
	}
	return segment.Join(frags, dc0)
}

// readMO reads the deliver_sm parts of one MO from the simulator, answering
// each, until the connector's Concat says the message is complete.
func readMO(t *testing.T, c *smpptest.Raw) []segment.Part {
	t.Helper()
	var parts []segment.Part
	for {
		d := c.Expect(data.DELIVER_SM, 5*time.Second).(*pdu.DeliverSM)
		c.AckDeliver(d, data.ESME_ROK)
		p := segment.FromShortMessage(d.EsmClass, &d.Message, d.OptionalParameters)
		parts = append(parts, p)
		_, total, _, segmented, err := segment.Concat(p)
		if err != nil {
			t.Fatalf("connector cannot read the MO part: %v", err)
		}
		if !segmented || len(parts) == total {
			return parts
		}
	}
}

// Every MO style the simulator sends (its mo fault: one part, UDH 8-bit and
// 16-bit, SAR, message_payload; data_coding 0 from a GSM and from a Latin-1
// operator, data_coding 3 and UCS2) is read by the connector's code to the
// text the simulator was asked to send.
func TestSimulatorMOReadByConnector(t *testing.T) {
	sim, binds := startSim(t)
	ops := []struct{ id, dc0 string }{{opGSM, "gsm7"}, {opLatin1, "latin1"}}
	n, sent := 0, 0
	for _, op := range ops {
		for _, enc := range []string{"", "gsm7", "latin1", "ucs2"} {
			if enc == "gsm7" && op.dc0 != "gsm7" {
				// GSM septets as data_coding 0 from an operator whose
				// data_coding 0 is Latin-1: a mis-coded MO on purpose,
				// which no reader can tell from Latin-1.
				continue
			}
			for _, seg := range strategies {
				for _, tc := range texts {
					n++
					name := fmt.Sprintf("%s/encoding %q/%s/%s", op.id, enc, seg, tc.name)
					mo := faults.MO{Source: "447700900999", Dest: fmt.Sprintf("ACME%06d", n), Text: tc.text, Encoding: enc, Segmentation: seg}
					if err := sim.InjectMO(op.id, mo); err != nil {
						// The text does not fit this alphabet: the simulator
						// refuses it, as it must.
						continue
					}
					sent++
					parts := readMO(t, binds[op.id])
					if enc == "ucs2" && parts[0].DataCoding != segment.DataCodingUCS2 {
						t.Fatalf("%s: UCS2 MO sent as data_coding %d", name, parts[0].DataCoding)
					}
					got, err := moText(parts, op.dc0)
					if err != nil || got != tc.text {
						t.Errorf("%s: connector read %q, %v; want %q", name, got, err, tc.text)
					}
				}
			}
		}
	}
	// Most texts fit at least one alphabet of each style; a simulator that
	// refused everything would pass the loop above.
	if sent < n/2 {
		t.Fatalf("only %d of %d MOs sent", sent, n)
	}
}
