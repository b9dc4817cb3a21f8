package framework

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/compare"
)

var legacyT0 = time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)

// legacyWorld is what the SMSC answered to six messages of a run (and one
// submit of another run's), and the run's messages.
func legacyWorld() ([]LegacyMessage, []SMSCSubmit) {
	at := func(ms int) time.Time { return legacyT0.Add(time.Duration(ms) * time.Millisecond) }
	msgs := []LegacyMessage{
		{ID: "m-0", Operator: "mno-a", Dest: "447700000000", Parts: 1}, // throttled, then accepted
		{ID: "m-1", Operator: "mno-a", Dest: "447700000001", Parts: 1}, // rejected: bad destination
		{ID: "m-2", Operator: "mno-a", Dest: "447700000002", Parts: 3}, // parts 2 and 3 rejected
		{ID: "m-3", Operator: "mno-a", Dest: "447700000003", Parts: 1}, // never answered
		{ID: "m-4", Operator: "mno-a", Dest: "447700000004", Parts: 1}, // never reached the SMSC
		{ID: "m-5", Operator: "mno-b", Dest: "447700000005", Parts: 3}, // every part accepted, out of order
	}
	submits := []SMSCSubmit{
		{Time: at(10), Dest: "447700000000", Part: 1, Status: "ESME_RTHROTTLED"},
		{Time: at(20), Dest: "447700000000", Part: 1, Status: "ESME_ROK", SMSCID: "a0", Accepted: true},
		{Time: at(30), Dest: "447700000001", Part: 1, Status: "ESME_RINVDSTADR"},
		{Time: at(40), Dest: "447700000002", Part: 1, Status: "ESME_ROK", SMSCID: "a2", Accepted: true},
		{Time: at(41), Dest: "447700000002", Part: 3, Status: "ESME_RSUBMITFAIL"},
		{Time: at(42), Dest: "447700000002", Part: 2, Status: "ESME_RSYSERR"},
		{Time: at(50), Dest: "447700000003", Part: 1, Status: ""},
		{Time: at(62), Dest: "447700000005", Part: 3, Status: "ESME_ROK", SMSCID: "c5", Accepted: true},
		{Time: at(60), Dest: "447700000005", Part: 1, Status: "ESME_ROK", SMSCID: "a5", Accepted: true},
		{Time: at(61), Dest: "447700000005", Part: 2, Status: "ESME_ROK", SMSCID: "b5", Accepted: true},
		{Time: at(70), Dest: "447799999999", Part: 1, Status: "ESME_RSYSERR"}, // not the run's
	}
	return msgs, submits
}

func TestLegacyLogIsWhatTheSMSCAnswered(t *testing.T) {
	msgs, submits := legacyWorld()
	end := legacyT0.Add(time.Second)
	got := LegacyLog(msgs, submits, end)
	ms := func(n int) time.Time { return legacyT0.Add(time.Duration(n) * time.Millisecond) }
	want := []LegacyLine{
		{At: ms(20), MessageID: "m-0", Operator: "mno-a", Result: LegacyAccepted, Status: "0", SMSCID: "a0"},
		{At: ms(30), MessageID: "m-1", Operator: "mno-a", Result: LegacyRejected, Status: "INVALID_MSISDN"},
		// The lowest rejected part's status, as the connector's message outcome.
		{At: ms(42), MessageID: "m-2", Operator: "mno-a", Result: LegacyRejected, Status: "ESME_RSYSERR"},
		{At: ms(50), MessageID: "m-3", Operator: "mno-a", Result: LegacyTimeout},
		{At: end, MessageID: "m-4", Operator: "mno-a", Result: LegacyTimeout},
		{At: ms(62), MessageID: "m-5", Operator: "mno-b", Result: LegacyAccepted, Status: "0", SMSCID: "a5"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// connectorEvents is the connector's outcome events for legacyWorld, as the
// database export writes them, had it got the SMSC's answers right.
func connectorEvents() []byte {
	var b bytes.Buffer
	ev := func(id, op string, part, parts int, outcome string, status uint32) {
		fmt.Fprintf(&b, `{"messageId":%q,"operatorId":%q,"partNumber":%d,"partCount":%d,"outcome":%q,"commandStatus":%d,"at":"2026-12-07T01:00:00.5Z"}`+"\n",
			id, op, part, parts, outcome, status)
	}
	ev("m-0", "mno-a", 1, 1, "accepted", 0)
	ev("m-1", "mno-a", 1, 1, "rejected", 0x0B)
	ev("m-2", "mno-a", 1, 3, "accepted", 0)
	ev("m-2", "mno-a", 2, 3, "rejected", 0x08)
	ev("m-2", "mno-a", 3, 3, "rejected", 0x45)
	ev("m-3", "mno-a", 1, 1, "unknown", 0)
	ev("m-4", "mno-a", 1, 1, "unknown", 0)
	for p := 1; p <= 3; p++ {
		ev("m-5", "mno-b", p, 3, "accepted", 0)
	}
	return b.Bytes()
}

// writeLegacyWorld writes the files `smpp-connector compare` would be given.
func writeLegacyWorld(t *testing.T, lines []LegacyLine) LegacyFiles {
	t.Helper()
	files, err := WriteLegacyFiles(t.TempDir(), lines, connectorEvents())
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// The generated log reads back through compare with the documented mapping,
// every line valid, and matches a connector that got every answer right.
func TestLegacyLogMatchesTheConnectorThatGotItRight(t *testing.T) {
	msgs, submits := legacyWorld()
	files := writeLegacyWorld(t, LegacyLog(msgs, submits, legacyT0.Add(time.Second)))
	csv, err := os.ReadFile(files.Legacy)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(csv), "logged_at,orchestrator_msg_id,mno,result,smpp_status,smsc_msg_id\n") ||
		!strings.Contains(string(csv), "2026-12-07 01:00:00.030,m-1,mno-a,REJECTED,INVALID_MSISDN,\n") {
		t.Errorf("not the legacy dispatcher's CSV:\n%s", csv)
	}
	rep, err := CompareLegacyFiles(files, compare.DefaultMinMatch)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Pass || rep.Total != 6 || rep.Matched != 6 || len(rep.Disagreements) != 0 {
		var b strings.Builder
		_ = rep.WriteText(&b)
		t.Errorf("want 6 of 6 matched:\n%s", b.String())
	}
}

// A connector that disagrees with the SMSC shows, message by message.
func TestLegacyLogCatchesAConnectorThatGotItWrong(t *testing.T) {
	msgs, submits := legacyWorld()
	dir := t.TempDir()
	wrong := bytes.Replace(connectorEvents(), []byte(`"m-1","operatorId":"mno-a","partNumber":1,"partCount":1,"outcome":"rejected"`),
		[]byte(`"m-1","operatorId":"mno-a","partNumber":1,"partCount":1,"outcome":"accepted"`), 1)
	files, err := WriteLegacyFiles(dir, LegacyLog(msgs, submits, legacyT0.Add(time.Second)), wrong)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := CompareLegacyFiles(files, compare.DefaultMinMatch)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pass || len(rep.Disagreements) != 1 || rep.Disagreements[0].MessageID != "m-1" ||
		rep.Disagreements[0].Class != compare.AcceptedConnectorOnly {
		t.Errorf("want m-1 accepted by the connector only: %+v", rep.Disagreements)
	}
	if _, detail := LegacyDisagreements(rep); !strings.Contains(detail, "m-1 (accepted_connector_only)") {
		t.Errorf("the criterion's text does not name m-1: %q", detail)
	}
}

// legacyLines is a run of n one-part messages, every fiftieth rejected.
func legacyLines(n int) []LegacyLine {
	lines := make([]LegacyLine, n)
	for i := range lines {
		lines[i] = LegacyLine{At: legacyT0.Add(time.Duration(i) * time.Millisecond), MessageID: fmt.Sprintf("m-%04d", i),
			Operator: "mno-a", Result: LegacyAccepted, Status: "0", SMSCID: fmt.Sprint(i)}
		if i%50 == 49 {
			lines[i].Result, lines[i].Status, lines[i].SMSCID = LegacyRejected, "INVALID_MSISDN", ""
		}
	}
	return lines
}

func TestFlipLegacyChangesExactlyTheShareAsked(t *testing.T) {
	lines := legacyLines(1100)
	orig := slices.Clone(lines)
	flipped, ids := FlipLegacy(lines, 0.01)
	if !slices.Equal(lines, orig) {
		t.Fatal("FlipLegacy changed its input")
	}
	if len(ids) != 11 || len(flipped) != len(lines) {
		t.Fatalf("%d ids of %d lines, want 11 of 1100: %v", len(ids), len(flipped), ids)
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	if len(want) != len(ids) {
		t.Fatalf("an id flipped twice: %v", ids)
	}
	kinds := map[string]bool{}
	for i, l := range flipped {
		changed := l != lines[i]
		if changed != want[l.MessageID] {
			t.Errorf("%s: changed %v, listed %v", l.MessageID, changed, want[l.MessageID])
		}
		if changed {
			kinds[lines[i].Result+" -> "+l.Result] = true
			if l.Result == lines[i].Result && l.Status == lines[i].Status {
				t.Errorf("%s: neither result nor status differ: %+v", l.MessageID, l)
			}
		}
	}
	for _, k := range []string{"ACCEPTED -> REJECTED", "REJECTED -> REJECTED"} {
		if !kinds[k] {
			t.Errorf("no flip %s among %v", k, kinds)
		}
	}
	if _, none := FlipLegacy(nil, 0.01); len(none) != 0 {
		t.Errorf("flipped %v of nothing", none)
	}
}

// The Phase 2 gate's negative case in small: 1% of a legacy log flipped
// fails the 99.5% threshold and lists exactly the flipped ids; the
// identical log passes.
func TestOnePercentDisagreeingFailsTheThreshold(t *testing.T) {
	lines := legacyLines(1100)
	var events bytes.Buffer
	for _, l := range lines {
		outcome, status := "accepted", 0
		if l.Result == LegacyRejected {
			outcome, status = "rejected", 0x0B
		}
		fmt.Fprintf(&events, `{"messageId":%q,"operatorId":"mno-a","outcome":%q,"commandStatus":%d}`+"\n", l.MessageID, outcome, status)
	}
	files, err := WriteLegacyFiles(t.TempDir(), lines, events.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	gates, err := LoadGates(filepath.Join("..", "gates.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The gate's verdict: the criteria as the Phase 2 gate records them,
	// in a complete run of a suite that succeeded.
	verdict := func(rep *compare.Report) error {
		t.Helper()
		crits, err := LegacyCriteria(rep, gates)
		if err != nil {
			t.Fatal(err)
		}
		return Summary{Group: "phase2", SuiteOK: true, Complete: true, Criteria: crits}.Failures()
	}
	rep, err := CompareLegacyFiles(files, compare.DefaultMinMatch)
	if err != nil || !rep.Pass || rep.Matched != 1100 {
		t.Fatalf("identical: %v, %+v", err, rep.Figures)
	}
	if err := verdict(rep); err != nil {
		t.Errorf("identical: %v", err)
	}
	flipped, ids := FlipLegacy(lines, 0.01)
	if files, err = WriteLegacyFiles(t.TempDir(), flipped, events.Bytes()); err != nil {
		t.Fatal(err)
	}
	if rep, err = CompareLegacyFiles(files, compare.DefaultMinMatch); err != nil {
		t.Fatal(err)
	}
	if rep.Pass || rep.Matched != 1089 {
		t.Errorf("1%% flipped: pass %v, %d matched", rep.Pass, rep.Matched)
	}
	n, detail := LegacyDisagreements(rep)
	if got := DisagreeingIDs(rep); n != 11 || !slices.Equal(got, slices.Sorted(slices.Values(ids))) {
		t.Errorf("%v disagreeing %v, want the flipped %v", n, got, ids)
	}
	failed := verdict(rep)
	if failed == nil || !strings.Contains(failed.Error(), "legacy_match_rate: measured 99 % of messages, threshold >= 99.5 % of messages") ||
		!strings.Contains(failed.Error(), "legacy_disagreements: measured 11 messages: ") {
		t.Errorf("the gate's verdict: %v", failed)
	}
	for _, id := range ids {
		if !strings.Contains(detail, id) || !strings.Contains(failed.Error(), id) {
			t.Errorf("the criterion's text does not name %s: %q", id, detail)
		}
	}
}

// The criterion's text names the disagreeing messages, and says where the
// rest are once there are too many for a table cell.
func TestLegacyDisagreementsTextIsBounded(t *testing.T) {
	rep := &compare.Report{Result: &compare.Result{}}
	for i := range 30 {
		rep.Disagreements = append(rep.Disagreements, compare.Disagreement{MessageID: fmt.Sprintf("m-%02d", i), Class: compare.MissingLegacy})
	}
	n, detail := LegacyDisagreements(rep)
	if n != 30 || !strings.Contains(detail, "m-00 (missing_legacy)") || strings.Contains(detail, "m-29") ||
		!strings.Contains(detail, "and 10 more") {
		t.Errorf("%v %q", n, detail)
	}
	if n, detail := LegacyDisagreements(&compare.Report{Result: &compare.Result{}}); n != 0 || detail != "none" {
		t.Errorf("%v %q", n, detail)
	}
}

// The export runs connector/compare/export.sql as it is written for psql,
// its two variables bound as parameters.
func TestExportQueryBindsThePsqlVariables(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "connector", "compare", "export.sql"))
	if err != nil {
		t.Fatal(err)
	}
	q, err := ExportQuery(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(q, "created_at >= $1::timestamptz AND created_at < $2::timestamptz") || strings.Contains(q, ":'") {
		t.Errorf("variables not bound:\n%s", q)
	}
	if _, err := ExportQuery("SELECT 1 WHERE created_at >= :'since'"); err == nil {
		t.Error("no error for a query without :'until'")
	}
	if _, err := ExportQuery("SELECT :'since', :'since', :'until'"); err == nil {
		t.Error("no error for a variable used twice")
	}
}
