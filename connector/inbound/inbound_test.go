package inbound_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/inbound"
	"github.com/smpp-connector/smpp-connector/connector/internal/pipelinetest"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/outbound"
	"github.com/smpp-connector/smpp-connector/connector/segment"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// The inbound path runs here behind the MT path that brings its receipts,
// against real PostgreSQL (container), a real NATS server (embedded) and the
// simulator.

func TestMain(m *testing.M) { os.Exit(pipelinetest.Main(m)) }

// newRig starts the pipeline on a fresh database.
func newRig(t *testing.T, o pipelinetest.Options) *pipelinetest.Rig { return pipelinetest.New(t, o) }

func TestHexInRespDecimalInReceipt(t *testing.T) {
	r := newRig(t, pipelinetest.Options{
		Profile:  profile.Profile{MessageID: profile.IDFormat{Format: profile.IDHexUpper}, ReceiptMessageID: &profile.IDFormat{Format: profile.IDDecimal}},
		Outbound: outbound.Operator{IDRule: dlr.IDRule{Resp: "hex", Receipt: "decimal"}},
		Inbound:  inbound.Operator{IDRule: dlr.IDRule{Resp: "hex", Receipt: "decimal"}},
	})
	for i := 0; i < 12; i++ {
		r.Publish(t, fmt.Sprintf("hx-%d", i), "hex quirk")
	}
	got := r.WaitEvents(t, natscontract.ReceiptStream, natscontract.ReceiptSubject, 12)
	if len(got) != 12 {
		t.Fatalf("%d receipts matched of 12", len(got))
	}
}

func TestReceiptBeforeResp(t *testing.T) {
	r := newRig(t, pipelinetest.Options{})
	b, _ := json.Marshal(map[string]any{})
	if _, err := r.Sim.Faults.Add(faults.Spec{Type: "receipt_early", Params: b}); err != nil {
		t.Fatal(err)
	}
	r.Publish(t, "early-1", "receipt first")
	rcpt := r.WaitEvents(t, natscontract.ReceiptStream, natscontract.ReceiptSubject, 1)[0]
	if rcpt["messageId"] != "early-1" {
		t.Fatalf("%v", rcpt)
	}
}

func TestMultipartReceiptPolicies(t *testing.T) {
	long := strings.Repeat("multipart text ", 25) // 375 chars: 3 parts
	for _, c := range []struct {
		parts string // the connector's policy
		sent  string // which parts the SMSC sends receipts for
		want  int    // receipt events for the message
	}{{"each", "each", 3}, {"last", "last", 1}, {"first", "first", 1},
		// An SMSC sending every part's receipt: the policy alone picks.
		{"last", "each", 1}, {"first", "each", 1}} {
		t.Run(c.parts+"/sent-"+c.sent, func(t *testing.T) {
			r := newRig(t, pipelinetest.Options{ReceiptParts: c.parts, Profile: profile.Profile{Receipt: profile.Receipt{Parts: c.sent}}})
			r.Publish(t, "mp-"+c.parts, long)
			r.WaitEvents(t, natscontract.ReceiptStream, natscontract.ReceiptSubject, c.want)
			// Barrier: the connector answered every receipt the simulator
			// sends, and it answers only after storing and publishing.
			sent := uint64(1)
			if c.sent == "each" {
				sent = 3
			}
			smpptest.Eventually(t, 10*time.Second, 10*time.Millisecond, func() error {
				if n := r.Sim.Stats().Sum("mno-a", "acme", "receipt_resp", "ESME_ROK"); n < sent {
					return fmt.Errorf("%d receipts answered of %d", n, sent)
				}
				return nil
			})
			got := r.Events(t, natscontract.ReceiptStream, natscontract.ReceiptSubject)
			if len(got) != c.want {
				t.Fatalf("%d receipt events, want %d", len(got), c.want)
			}
			if got[0]["partCount"].(float64) != 3 {
				t.Fatalf("%v", got[0])
			}
			if c.parts != "each" {
				if want := map[string]float64{"first": 1, "last": 3}[c.parts]; got[0]["partNumber"] != want {
					t.Fatalf("receipt of part %v, want part %v", got[0]["partNumber"], want)
				}
			}
		})
	}
}

// A receipt that cannot be published (the stream is gone: NATS refuses) is
// safe once stored: the deliver_sm is answered ESME_ROK, and the relay
// publishes the receipt's event from the outbox when the stream is back.
func TestReceiptNotPublishableIsPublishedWhenNATSIsBack(t *testing.T) {
	r := newRig(t, pipelinetest.Options{})
	ctx := context.Background()
	if err := r.JS.DeleteStream(ctx, natscontract.ReceiptStream); err != nil {
		t.Fatal(err)
	}
	r.Publish(t, "lost-1", "publish fails first")
	smpptest.Eventually(t, 20*time.Second, 50*time.Millisecond, func() error {
		if n := r.Sim.Stats().Sum("mno-a", "acme", "receipt_resp", "ESME_ROK"); n == 0 {
			return fmt.Errorf("no receipt answered yet")
		}
		if s := r.Relay.Status(); s.LastError == "" {
			return fmt.Errorf("the relay has not failed to publish yet")
		}
		return nil
	})
	if n := r.Sim.Stats().Sum("mno-a", "acme", "receipt_resp", "ESME_RX_T_APPN"); n != 0 {
		t.Fatalf("%d receipts refused: a stored receipt is answered ESME_ROK", n)
	}
	if err := natscontract.EnsureStreams(ctx, r.JS, natscontract.DefaultNames()); err != nil {
		t.Fatal(err)
	}
	got := r.WaitEvents(t, natscontract.ReceiptStream, natscontract.ReceiptSubject, 1)
	if got[0]["messageId"] != "lost-1" {
		t.Fatalf("%v", got[0])
	}
}

// A multipart MO whose publish fails is published whole when the SMSC
// delivers its last part again.
func TestMultipartMOSurvivesAFailedPublish(t *testing.T) {
	r := newRig(t, pipelinetest.Options{})
	ctx := context.Background()
	if err := r.JS.DeleteStream(ctx, natscontract.EventsStream); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("MO text in several parts. ", 12)
	if err := r.Sim.InjectMO("mno-a", faults.MO{Source: "447700900999", Dest: "ACME", Text: long}); err != nil {
		t.Fatal(err)
	}
	smpptest.Eventually(t, 10*time.Second, 50*time.Millisecond, func() error {
		if n := r.Sim.Stats().Sum("mno-a", "acme", "mo_resp", "ESME_RX_T_APPN"); n == 0 {
			return fmt.Errorf("no MO refused yet")
		}
		return nil
	})
	if err := natscontract.EnsureStreams(ctx, r.JS, natscontract.DefaultNames()); err != nil {
		t.Fatal(err)
	}
	got := r.WaitEvents(t, natscontract.EventsStream, natscontract.MOSubject, 1)
	if got[0]["text"] != long {
		t.Fatalf("MO %v", got[0])
	}
}

// The parts of a segmented MO are stored before they are answered: a
// connector restarted mid-message publishes it whole when the rest arrives.
func TestMultipartMOSurvivesARestart(t *testing.T) {
	r := newRig(t, pipelinetest.Options{})
	long := strings.Repeat("Parts outlive the process. ", 14) // 3 GSM 7-bit parts
	parts, err := segment.Segment(long, "gsm7", "udh16", 4242)
	if err != nil || len(parts) != 3 {
		t.Fatalf("%d parts, %v", len(parts), err)
	}
	deliver := func(h *inbound.Handler, p segment.Part) data.CommandStatusType {
		d := wire.DeliverSM{SrcTON: 1, SrcNPI: 1, Src: "447700900777", DstTON: 5, Dst: "ACME",
			EsmClass: p.EsmClass, DataCoding: p.DataCoding, Message: p.Message}
		f, err := wire.ReadFrame(bytes.NewReader(d.Append(nil, 1)), 4096)
		if err != nil {
			t.Fatal(err)
		}
		pd, err := wire.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		return h.HandleDeliver(pd.(*pdu.DeliverSM), time.Now())
	}
	if st := deliver(r.Inbound, parts[0]); st != data.ESME_ROK {
		t.Fatalf("part 1: %v", st)
	}
	if st := deliver(r.Inbound, parts[2]); st != data.ESME_ROK {
		t.Fatalf("part 3: %v", st)
	}
	// A new process: nothing of the first handler's memory is left.
	restarted := inbound.New(inbound.Operator{ID: "mno-a"}, inbound.Deps{Store: r.Store, Metrics: metrics.New(), Log: pipelinetest.Quiet(),
		Events: events.New(r.JS, natscontract.DefaultNames(), false, nil)})
	if st := deliver(restarted, parts[1]); st != data.ESME_ROK {
		t.Fatalf("part 2: %v", st)
	}
	got := r.WaitEvents(t, natscontract.EventsStream, natscontract.MOSubject, 1)
	if len(got) != 1 || got[0]["text"] != long || got[0]["parts"] != 3.0 {
		t.Fatalf("MO events %v", got)
	}
	// The SMSC sends a part again (its deliver_sm_resp was lost): dropped,
	// not the start of a new message that would never complete.
	if st := deliver(restarted, parts[2]); st != data.ESME_ROK {
		t.Fatalf("late copy of part 3: %v", st)
	}
	var unpublished int
	if err := r.Store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM smpp.mo_parts WHERE published_at IS NULL`).Scan(&unpublished); err != nil || unpublished != 0 {
		t.Fatalf("%d MO parts not marked published (%v)", unpublished, err)
	}
	// HandleDeliver returned, and it publishes synchronously (with the
	// stream's ack) before returning: a second MO would be on the stream now.
	if got := r.Events(t, natscontract.EventsStream, natscontract.MOSubject); len(got) != 1 {
		t.Fatalf("%d MO events, want 1", len(got))
	}
}

// An operator whose data_coding 0 is Latin-1 sends MO in Latin-1: the
// simulator encodes them with its own code (smscsim/smstext), and the
// connector decodes them with the operator's alphabet, single and
// segmented, instead of dropping them as bad GSM septets.
func TestLatin1OperatorMO(t *testing.T) {
	r := newRig(t, pipelinetest.Options{Profile: profile.Profile{DataCoding0: "latin1"}, Inbound: inbound.Operator{DataCoding0: "latin1"}})
	short := "café ¿ñ? Grüße"
	long := strings.Repeat("Ça coûte 5 £? Non: 5 ¥, señor. ", 6) // 186 characters: segmented
	for _, text := range []string{short, long} {
		if err := r.Sim.InjectMO("mno-a", faults.MO{Source: "447700900999", Dest: "ACME", Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	got := r.WaitEvents(t, natscontract.EventsStream, natscontract.MOSubject, 2)
	texts := map[any]bool{got[0]["text"]: true, got[1]["text"]: true}
	if !texts[short] || !texts[long] {
		t.Fatalf("MO texts %q and %q, want %q and %q", got[0]["text"], got[1]["text"], short, long)
	}
}
