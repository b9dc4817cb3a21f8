package crosscheck

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/connector/dispatch"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"github.com/smpp-connector/smpp-connector/smscsim/smstext"
)

// mtProfiles are the operator settings that change how the connector
// encodes: a GSM SMSC, one that also takes data_coding 3, and one whose
// default alphabet is Latin-1. sim is the simulator operator that reads them.
var mtProfiles = []struct {
	name, sim, dc0 string
	prof           dispatch.Profile
}{
	{"gsm", opGSM, "gsm7", dispatch.Profile{}},
	{"gsm allow latin1", opGSM, "gsm7", dispatch.Profile{AllowLatin1: true}},
	{"latin1 smsc", opLatin1, "latin1", dispatch.Profile{DataCoding0: "latin1"}},
}

// partOf rebuilds the octets a submit_sm carries. Build hands gosmpp the
// UDH inside the text; a parsed PDU has it apart: both are put together.
func partOf(sm *pdu.SubmitSM) smstext.Part {
	msg, _ := sm.Message.GetMessageData()
	if udh := sm.Message.UDH(); len(udh) > 0 {
		b, _ := udh.MarshalBinary()
		msg = append(b, msg...)
	}
	p := smstext.Part{EsmClass: sm.EsmClass, Message: msg}
	if enc := sm.Message.Encoding(); enc != nil {
		p.DataCoding = enc.DataCoding()
	}
	for _, tag := range []uint16{smstext.TagSarMsgRefNum, smstext.TagSarTotalSegments, smstext.TagSarSegmentSeqnum, smstext.TagMessagePayload} {
		if f, ok := sm.OptionalParameters[pdu.Tag(tag)]; ok {
			p.TLVs = append(p.TLVs, smstext.TLV{Tag: tag, Value: f.Data})
		}
	}
	return p
}

// checkSize fails when a part's user data is more than one SMS can carry
// (TS 23.040: 140 octets; 160 septets for GSM, a UDH taking whole septets).
func checkSize(t *testing.T, p smstext.Part, gsm bool) {
	t.Helper()
	if _, ok := p.TLV(smstext.TagMessagePayload); ok {
		return
	}
	text, err := smstext.Payload(p)
	if err != nil {
		t.Fatalf("part: %v", err)
	}
	udh := len(p.Message) - len(text)
	if gsm && p.DataCoding == smstext.DCDefault {
		if n := len(text) + (udh*8+6)/7; n > 160 {
			t.Errorf("part holds %d septets with its UDH, at most 160 fit", n)
		}
	} else if len(p.Message) > 140 {
		t.Errorf("part holds %d octets, at most 140 fit", len(p.Message))
	}
}

// The connector's MTs, built by dispatch.Build through every long-message
// strategy, read back by the simulator's own codec to the same text: first
// from the PDUs as built, then as the real simulator received them over a
// bind (its recorder holds the text of each part, decoded on its own).
func TestConnectorMTReadBySimulator(t *testing.T) {
	sim, binds := startSim(t)
	n := 0
	for _, op := range mtProfiles {
		for _, strategy := range strategies {
			for _, tc := range texts {
				n++
				dest := fmt.Sprintf("4477%08d", n)
				name := op.name + "/" + strategy + "/" + tc.name
				prof := op.prof
				prof.LongMessage = strategy
				parts, err := dispatch.Build(dispatch.Command{
					MessageID: "m-" + dest, Source: dispatch.Address{Addr: "ACME"},
					Destination: dispatch.Address{Addr: dest}, Text: tc.text,
				}, prof)
				if err != nil {
					t.Errorf("%s: Build: %v", name, err)
					continue
				}

				// Codec level: every part fits an SMS, and the parts in any
				// order give back the text.
				sparts := make([]smstext.Part, len(parts))
				for i, p := range parts {
					sparts[i] = partOf(p.PDU)
					checkSize(t, sparts[i], op.dc0 == "gsm7")
				}
				rand.Shuffle(len(sparts), func(i, j int) { sparts[i], sparts[j] = sparts[j], sparts[i] })
				if got, err := smstext.Reassemble(sparts, op.dc0); err != nil || got != tc.text {
					t.Errorf("%s: simulator reassembled %q, %v; want %q", name, got, err, tc.text)
					continue
				}

				// Over a bind: the simulator decodes each part on its own, so
				// a part that ends inside a character shows up here.
				c := binds[op.sim]
				for _, p := range parts {
					c.Send(p.PDU)
					if resp := c.Expect(data.SUBMIT_SM_RESP, 5*time.Second); resp.GetHeader().CommandStatus != data.ESME_ROK {
						t.Fatalf("%s: submit_sm_resp %v", name, resp.GetHeader().CommandStatus)
					}
				}
				recs := sim.Recorder.Query(recorder.Filter{Operator: op.sim, Command: "submit_sm", DestPrefix: dest})
				if len(recs) != len(parts) {
					t.Errorf("%s: simulator recorded %d parts, want %d", name, len(recs), len(parts))
					continue
				}
				var sb strings.Builder
				for _, r := range recs {
					sb.WriteString(r.Text)
				}
				if got := sb.String(); got != tc.text {
					t.Errorf("%s: simulator recorded %q, want %q", name, got, tc.text)
				}
			}
		}
	}
}
