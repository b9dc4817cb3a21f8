package session

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/receipt"
	"github.com/smpp-connector/smpp-connector/smscsim/replay"
	"github.com/smpp-connector/smpp-connector/smscsim/replay/replaytest"
	"github.com/smpp-connector/smpp-connector/smscsim/scenario"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
	"github.com/smpp-connector/smpp-connector/smscsim/smstext"
)

// The recorded SMSC's receipt delay: well beyond the throttle's 1s window,
// so that waiting for the first burst's receipts lets the window move on
// even on a busy machine (the burst itself may take a few hundred ms).
const replayReceiptDelay = 2 * time.Second

// replaySeen is what the connector saw of a session: the submit_sm_resp
// statuses in the order it sent the submits, and for each accepted submit,
// in that order, its receipt's stat (dlr.Parse's) and style (esm_class,
// data_coding, receipt TLVs, the text as a template), and how long after
// the submit_sm_resp the receipt came.
type replaySeen struct {
	statuses []string
	stats    []string
	styles   []string
	delays   []time.Duration
}

type seenReceipt struct {
	stat, style string
	at          time.Time
}

// driveConnector binds a connector Bind (transceiver) to addr, sends a
// burst of submits one after the other (more than the throttle allows),
// waits for the receipts of the accepted ones (by then the throttle's
// window has moved on), sends a second burst, waits for every receipt and
// closes the bind. The same driver runs against the recording and the replay.
func driveConnector(t *testing.T, addr string) replaySeen {
	t.Helper()
	var mu sync.Mutex
	got := map[string][]seenReceipt{} // receipt id -> receipts
	cfg := fastConfig(addr)
	cfg.ResponseTimeout = 5 * time.Second
	cfg.Deliver = DeliverFunc(func(d *pdu.DeliverSM, at time.Time) data.CommandStatusType {
		octets, _ := d.Message.GetMessageData()
		var dc byte
		if enc := d.Message.Encoding(); enc != nil {
			dc = enc.DataCoding()
		}
		tlvs := map[uint16][]byte{}
		var names []string
		for _, tag := range []uint16{dlr.TagReceiptedMessageID, dlr.TagMessageState, dlr.TagNetworkErrorCode} {
			if f, ok := d.OptionalParameters[pdu.Tag(tag)]; ok {
				tlvs[tag] = f.Data
				names = append(names, fmt.Sprintf("%#x", tag))
			}
		}
		r, err := dlr.Parse(dlr.Input{EsmClass: d.EsmClass, DataCoding: dc, ShortMessage: octets, TLVs: tlvs})
		if err != nil || !dlr.IsReceipt(d.EsmClass, tlvs) {
			t.Errorf("not a receipt the connector can read: %q: %v", octets, err)
			return data.ESME_ROK
		}
		text, err := smstext.Decode(dc, octets, "")
		if err != nil {
			t.Errorf("receipt text %q: %v", octets, err)
		}
		tpl, _ := receipt.DeriveTemplate(text)
		style := fmt.Sprintf("esm=%#x dc=%d tlvs=%v %s", d.EsmClass, dc, names, tpl)
		mu.Lock()
		got[r.ID] = append(got[r.ID], seenReceipt{stat: r.Stat, style: style, at: at})
		mu.Unlock()
		return data.ESME_ROK
	})
	b := NewBind(cfg, "replay", good().get)
	b.Start()
	t.Cleanup(b.Close)
	waitState(t, b, StateBound)

	var s replaySeen
	var accepted []Result
	waitReceipts := func() {
		t.Helper()
		smpptest.Eventually(t, 10*time.Second, 10*time.Millisecond, func() error {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range accepted {
				if len(got[r.MessageID]) == 0 {
					return fmt.Errorf("no receipt yet for %s (%d accepted, %d receipts)", r.MessageID, len(accepted), len(got))
				}
			}
			return nil
		})
	}
	burst := func(n int) {
		t.Helper()
		for range n {
			i := len(s.statuses)
			r, err := b.Submit(context.Background(), smpptest.NewSubmit(t, "ACME", fmt.Sprintf("4477009%05d", i), fmt.Sprintf("hello %d", i), 1))
			if err != nil {
				t.Fatalf("submit %d: %v", i, err)
			}
			st := r.Status.String()
			if r.GenericNack {
				st = "generic_nack:" + st
			}
			s.statuses = append(s.statuses, st)
			if r.OK() {
				accepted = append(accepted, r)
			}
		}
	}
	burst(8)
	waitReceipts()
	burst(4)
	waitReceipts()
	b.Close()

	mu.Lock()
	defer mu.Unlock()
	for _, r := range accepted {
		rs := got[r.MessageID]
		if len(rs) != 1 {
			t.Errorf("message %s: %d receipts, want 1", r.MessageID, len(rs))
		}
		s.stats = append(s.stats, rs[0].stat)
		s.styles = append(s.styles, rs[0].style)
		s.delays = append(s.delays, rs[0].at.Sub(r.Resp))
	}
	if n := len(got); n != len(accepted) {
		t.Errorf("%d receipt ids for %d accepted submits", n, len(accepted))
	}
	return s
}

// startReplaySim runs one operator, "op" (account acme/secret1), with a
// fixed seed and the faults given.
func startReplaySim(t *testing.T, prof profile.Profile, specs ...faults.Spec) (*server.Sim, string) {
	t.Helper()
	sim, err := server.New(server.Config{Seed: 7, Operators: []server.OperatorConfig{{ID: "op", Listen: "127.0.0.1:0", Profile: prof,
		Accounts: []server.AccountConfig{{SystemID: "acme", Password: "secret1"}}}}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	for _, s := range specs {
		if _, err := sim.Faults.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	op, _ := sim.Operator("op")
	return sim, op.Addr()
}

// Issue 13's "done when", with the connector as the ESME: a pcap of a
// session with throttling and delayed receipts, recorded between the
// connector and the simulator, replays into a scenario that makes the
// connector see the same submit_sm_resp statuses in the same order, and
// receipts of the same stats and style, as late, per accepted message.
func TestReplayedCaptureReproducesSessionForConnector(t *testing.T) {
	// The recorded SMSC writes capitalized receipt text without TLVs; the
	// simulator that plays the scenario keeps its default profile (lower
	// case, with TLVs), so equal styles prove the recorded style was played.
	recorded := profile.Profile{Receipt: profile.Receipt{Text: "capitalized", Carry: profile.CarryText}}
	spec := func(typ, params string) faults.Spec { return faults.Spec{Type: typ, Params: []byte(params)} }
	_, simAddr := startReplaySim(t, recorded,
		spec("throttle", `{"tps": 4}`),
		spec("receipt_delay", fmt.Sprintf(`{"distribution": {"kind": "fixed", "value": %q}}`, replayReceiptDelay)),
		spec("receipt_outcomes", `{"weights": {"DELIVRD": 1, "UNDELIV": 1, "EXPIRED": 1}}`),
	)
	tap := replaytest.Start(t, simAddr)
	want := driveConnector(t, tap.Addr())
	smpptest.Eventually(t, 5*time.Second, 10*time.Millisecond, func() error {
		if n := tap.FINs(); n < 2 {
			return fmt.Errorf("%d directions closed, want both", n)
		}
		return nil
	})
	t.Logf("recorded: statuses %v, receipt stats %v, style %q", want.statuses, want.stats, want.styles[0])

	// The recorded session is not a trivial one.
	throttled := slices.Index(want.statuses, data.ESME_RTHROTTLED.String())
	if throttled < 0 || len(want.stats) == 0 {
		t.Fatalf("the recorded session must mix accepted and throttled submits: %v", want.statuses)
	}
	if !slices.Contains(want.statuses[throttled:], data.ESME_ROK.String()) {
		t.Fatalf("no submit accepted after the throttled ones: %v", want.statuses)
	}
	if len(uniq(want.stats)) < 2 {
		t.Fatalf("the recorded receipts must have several stats: %v", want.stats)
	}
	if !strings.Contains(want.styles[0], "Stat:{stat}") || !strings.Contains(want.styles[0], "tlvs=[]") {
		t.Fatalf("the recorded receipts should be capitalized, without TLVs: %s", want.styles[0])
	}
	for i, d := range want.delays {
		if d < replayReceiptDelay-100*time.Millisecond {
			t.Fatalf("recorded receipt %d came %s after its resp: not delayed", i, d)
		}
	}

	var capture bytes.Buffer
	if err := replaytest.WritePcap(&capture, tap.Events()); err != nil {
		t.Fatal(err)
	}
	segs, err := replay.ReadCapture(bytes.NewReader(capture.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	sess, err := replay.FromFlows(replay.Reassemble(segs), replaytest.SMSCPort)
	if err != nil {
		t.Fatal(err)
	}
	beh := replay.Extract(sess)
	sc, err := replay.Build(beh, replay.Options{Name: "connector-session"})
	if err != nil {
		t.Fatal(err)
	}
	yml, err := replay.Marshal(sc, replay.Header(beh, "connector session", replay.Options{}, false))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("scenario:\n%s", yml)
	if len(beh.Submits) != len(want.statuses) || len(beh.Receipts) != len(want.stats) {
		t.Fatalf("extracted %d submit answers and %d receipts, the connector saw %d and %d",
			len(beh.Submits), len(beh.Receipts), len(want.statuses), len(want.stats))
	}

	// A fresh simulator, default profile, no faults but the scenario,
	// loaded as `smscsim serve --scenario` loads it (from the file).
	path := filepath.Join(t.TempDir(), "replay.yaml")
	if err := os.WriteFile(path, yml, 0o600); err != nil {
		t.Fatal(err)
	}
	loaded, err := scenario.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	fresh, freshAddr := startReplaySim(t, profile.Profile{})
	run, err := scenario.Start(context.Background(), fresh, loaded, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(run.Stop)
	smpptest.Eventually(t, 5*time.Second, 10*time.Millisecond, func() error {
		if st := run.Status(); st.State != scenario.StateFinished {
			return fmt.Errorf("scenario %s", st.State)
		}
		return nil
	})

	got := driveConnector(t, freshAddr)
	if !slices.Equal(got.statuses, want.statuses) {
		t.Errorf("submit_sm_resp statuses differ\n got %v\nwant %v", got.statuses, want.statuses)
	}
	if !slices.Equal(got.stats, want.stats) {
		t.Errorf("receipt stats differ\n got %v\nwant %v", got.stats, want.stats)
	}
	if !slices.Equal(got.styles, want.styles) {
		t.Errorf("receipt styles differ\n got %q\nwant %q", got.styles, want.styles)
	}
	for i, d := range got.delays {
		if d < replayReceiptDelay-100*time.Millisecond {
			t.Errorf("replayed receipt %d came %s after its resp: not delayed as recorded", i, d)
		}
	}
}

func uniq(ss []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range ss {
		m[s] = true
	}
	return m
}
