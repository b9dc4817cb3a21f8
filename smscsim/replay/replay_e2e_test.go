package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/receipt"
	"github.com/smpp-connector/smpp-connector/smscsim/replay/replaytest"
	"github.com/smpp-connector/smpp-connector/smscsim/scenario"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
	"github.com/smpp-connector/smpp-connector/smscsim/smstext"
)

const (
	account  = "acme-shop"
	password = "s3cr3tPw"
)

func startSim(t *testing.T, prof profile.Profile, specs ...faults.Spec) *server.Sim {
	t.Helper()
	cfg := server.Config{Seed: 7, Operators: []server.OperatorConfig{{
		ID: "op", Listen: "127.0.0.1:0", Profile: prof,
		Accounts: []server.AccountConfig{{SystemID: account, Password: password}},
	}}}
	sim, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
	return sim
}

func simAddr(sim *server.Sim) string {
	op, _ := sim.Operator("op")
	return op.Addr()
}

func fault(t *testing.T, typ string, params any) faults.Spec {
	b, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	return faults.Spec{Type: typ, Params: b}
}

// seen is what the ESME saw: submit_sm_resp statuses in the order it sent
// the submits, and for each accepted submit, in that order, its receipt's
// stat and style (text template, esm_class, TLVs).
type seen struct {
	statuses []string
	stats    []string
	styles   []string
}

// drive is the ESME: it binds, sends a burst of submits (more than the
// throttle allows), waits, sends a second burst, and collects every
// receipt; the same driver runs against the recording and the replay.
func drive(t *testing.T, addr string) seen {
	t.Helper()
	r := smpptest.Dial(t, addr)
	if resp := r.Bind(pdu.Transceiver, account, password); resp.CommandStatus != data.ESME_ROK {
		t.Fatalf("bind: %s", resp.CommandStatus)
	}
	var s seen
	ids := map[string]int{} // message id -> index among accepted
	rcpts := map[int][2]string{}
	handle := func(p pdu.PDU) {
		d, ok := p.(*pdu.DeliverSM)
		if !ok {
			return
		}
		r.AckDeliver(d, data.ESME_ROK)
		octets, _ := d.Message.GetMessageData()
		text, _ := smstext.Decode(0, octets, "latin1")
		tpl, f := receipt.DeriveTemplate(text)
		var tlvs []string
		for _, tag := range []pdu.Tag{pdu.TagReceiptedMessageID, pdu.TagMessageStateOption, pdu.TagNetworkErrorCode} {
			if _, ok := d.OptionalParameters[tag]; ok {
				tlvs = append(tlvs, fmt.Sprintf("%#x", uint16(tag)))
			}
		}
		i, ok := ids[f.ID]
		if !ok {
			t.Errorf("receipt for unknown id %q: %q", f.ID, text)
			return
		}
		rcpts[i] = [2]string{f.Stat, fmt.Sprintf("esm=%#x tlvs=%v %s", d.EsmClass, tlvs, tpl)}
	}
	// One submit at a time, each waiting for its resp: the simulator
	// handles a connection's submits concurrently, so pipelined ones would
	// meet its throttle in whatever order a busy machine schedules them,
	// and the recorded order would not be the one replayed.
	burst := func(n int) {
		for i := range n {
			seq := r.Submit(fmt.Sprintf("4477009%05d", len(s.statuses)), fmt.Sprintf("hello %d", len(s.statuses)+i), 1)
			deadline := time.Now().Add(10 * time.Second)
			var sr *pdu.SubmitSMResp
			for sr == nil {
				p, err := r.Read(time.Until(deadline))
				if err != nil {
					t.Fatalf("waiting for submit_sm_resp: %v", err)
				}
				if x, ok := p.(*pdu.SubmitSMResp); ok && x.SequenceNumber == seq {
					sr = x
				}
				handle(p)
			}
			s.statuses = append(s.statuses, sr.CommandStatus.String())
			if sr.CommandStatus == data.ESME_ROK {
				ids[sr.MessageID] = len(ids)
			}
		}
	}
	burst(12)
	time.Sleep(1100 * time.Millisecond) // the throttle's window moves on
	burst(4)
	deadline := time.Now().Add(10 * time.Second)
	for len(rcpts) < len(ids) {
		p, err := r.Read(time.Until(deadline))
		if err != nil {
			t.Fatalf("waiting for receipts: %d of %d: %v", len(rcpts), len(ids), err)
		}
		handle(p)
	}
	r.Send(pdu.NewUnbind())
	r.Expect(data.UNBIND_RESP, 2*time.Second)
	for i := range len(ids) {
		s.stats = append(s.stats, rcpts[i][0])
		s.styles = append(s.styles, rcpts[i][1])
	}
	return s
}

// The "done when": a capture of a session with throttling and
// delayed receipts replays into a scenario that makes the ESME see the same
// statuses in the same order, and receipts of the same stats and style.
// Both capture formats are written from the same session.
func TestReplayCaptureReproducesSession(t *testing.T) {
	// The recorded SMSC's receipts are capitalized text without TLVs; the
	// simulator that plays the scenario keeps its default profile (text and
	// TLVs, lower case), so equal styles prove the recorded style was replayed.
	recorded := profile.Profile{Receipt: profile.Receipt{Text: "capitalized", Carry: profile.CarryText}}
	sim := startSim(t, recorded,
		fault(t, "throttle", map[string]any{"tps": 5}),
		fault(t, "latency", map[string]any{"distribution": map[string]any{"kind": "fixed", "value": "20ms"}}),
		fault(t, "receipt_delay", map[string]any{"distribution": map[string]any{"kind": "fixed", "value": "300ms"}}),
		fault(t, "receipt_outcomes", map[string]any{"weights": map[string]int{"DELIVRD": 1, "UNDELIV": 1, "EXPIRED": 1}}),
	)
	tp := replaytest.Start(t, simAddr(sim))
	want := drive(t, tp.Addr())
	waitFor(t, func() bool { return tp.FINs() >= 1 }) // the SMSC closes after the unbind
	events := tp.Events()

	if n := strings.Count(strings.Join(want.statuses, ","), "ESME_RTHROTTLED"); n == 0 || n == len(want.statuses) {
		t.Fatalf("the recorded session must mix accepted and throttled submits: %v", want.statuses)
	}
	if !strings.Contains(want.styles[0], "Stat:{stat}") || !strings.Contains(want.styles[0], "tlvs=[]") {
		t.Fatalf("the recorded receipts should be capitalized, without TLVs: %s", want.styles[0])
	}
	if len(uniq(want.stats)) < 2 {
		t.Fatalf("the recorded receipts must have several stats: %v", want.stats)
	}

	dir := t.TempDir()
	for _, format := range []string{"pcap", "pcapng"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			write := replaytest.WritePcap
			if format == "pcapng" {
				write = replaytest.WritePcapng
			}
			if err := write(&buf, events); err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(buf.Bytes(), []byte(password)) {
				t.Fatal("the capture should hold the bind password, or the next check proves nothing")
			}
			yml, b := replayCapture(t, buf.Bytes(), 0)
			t.Logf("scenario:\n%s", yml)
			if bytes.Contains(yml, []byte(password)) || bytes.Contains(yml, []byte(account)) {
				t.Fatalf("the scenario holds the password or the system_id:\n%s", yml)
			}
			for i, r := range b.Receipts {
				if r.Delay < 250*time.Millisecond || r.Delay > time.Second {
					t.Errorf("receipt %d: delay %s, want about 300ms", i, r.Delay)
				}
			}
			for i, a := range b.Submits {
				if a.Delay < 15*time.Millisecond {
					t.Errorf("submit %d: answer delay %s, want at least the 20ms latency", i, a.Delay)
				}
			}
			path := filepath.Join(dir, format+".yaml")
			if err := os.WriteFile(path, yml, 0o600); err != nil {
				t.Fatal(err)
			}
			sc, err := scenario.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			fresh := startSim(t, profile.Profile{})
			run, err := scenario.Start(context.Background(), fresh, sc, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer run.Stop()
			waitFor(t, func() bool { return run.Status().State == scenario.StateFinished })
			got := drive(t, simAddr(fresh))
			if strings.Join(got.statuses, ",") != strings.Join(want.statuses, ",") {
				t.Errorf("statuses differ\n got %v\nwant %v", got.statuses, want.statuses)
			}
			if strings.Join(got.stats, ",") != strings.Join(want.stats, ",") {
				t.Errorf("receipt stats differ\n got %v\nwant %v", got.stats, want.stats)
			}
			if strings.Join(got.styles, "\n") != strings.Join(want.styles, "\n") {
				t.Errorf("receipt styles differ\n got %v\nwant %v", got.styles, want.styles)
			}
		})
	}
}

// replayCapture runs the whole pipeline on capture bytes.
func replayCapture(t *testing.T, capture []byte, smscPort uint16) ([]byte, *Behaviour) {
	t.Helper()
	segs, err := ReadCapture(bytes.NewReader(capture))
	if err != nil {
		t.Fatal(err)
	}
	sess, err := FromFlows(Reassemble(segs), smscPort)
	if err != nil {
		t.Fatal(err)
	}
	b := Extract(sess)
	sc, err := Build(b, Options{Name: "recorded"})
	if err != nil {
		t.Fatal(err)
	}
	yml, err := Marshal(sc, Header(b, "test capture", Options{}, false))
	if err != nil {
		t.Fatal(err)
	}
	return yml, b
}

func uniq(ss []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range ss {
		m[s] = true
	}
	return m
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
