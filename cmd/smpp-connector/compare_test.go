package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smpp-connector/smpp-connector/connector/compare"
)

// compare's usage errors: no database or service settings needed.
func TestCompareUsage(t *testing.T) {
	dir := t.TempDir()
	legacy := filepath.Join(dir, "legacy.csv")
	connector := filepath.Join(dir, "connector.jsonl")
	os.WriteFile(legacy, []byte("message_id,operator,outcome,error_code\nm1,mno-a,accepted,\nm2,mno-a,accepted,\n"), 0o600)
	os.WriteFile(connector, []byte(`{"messageId":"m1","operatorId":"mno-a","outcome":"accepted"}`+"\n"+
		`{"messageId":"m2","operatorId":"mno-a","outcome":"rejected","commandStatus":69}`+"\n"), 0o600)
	for _, tc := range []struct {
		args string
		want string
	}{
		{"compare", "no legacy log: set -legacy FILE"},
		{"compare -legacy " + legacy, "no connector log: set -connector FILE"},
		{"compare -legacy " + legacy + " -connector " + connector + " -format xml", `-format "xml": want text or json`},
		{"compare -legacy " + legacy + " -connector " + connector + " -min-match 99.5", "-min-match 99.5: want a share between 0 and 1"},
		{"compare -legacy " + legacy + " -connector " + connector + " extra", `unexpected argument "extra"`},
		{"compare -frobnicate", "flag provided but not defined: -frobnicate"},
		{"compare -legacy " + legacy + " -connector " + connector, "match rate 50.00% (1 of 2 messages matched) is below -min-match 99.50%"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), strings.Fields(tc.args), &out, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.args, err, tc.want)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"compare", "-legacy", legacy, "-connector", connector, "-min-match", "0.5"}, &out, &out); err != nil ||
		!strings.Contains(out.String(), "matched 1 of 2 message(s): 50.00% (minimum 50.00%) PASS") {
		t.Errorf("%v\n%s", err, out.String())
	}
}

// The database export the compare README documents (connector/compare/export.sql,
// run with psql) reads back as the parts' outcomes from the real schema.
func TestCompareExportSQL(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("no psql on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := env.FreshDatabase(t, true)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
INSERT INTO smpp.message_correlations (operator_id, message_id, part_number, part_count, smsc_message_id,
	submit_status, command_status, resp_at, created_at) VALUES
('mno-a', 'm1', 1, 1, 's1', 'accepted', 0, '2026-11-30 10:00:01.5Z', '2026-11-30 10:00:01Z'),
('mno-a', 'm2', 1, 2, 's2', 'accepted', 0, '2026-11-30 10:00:02Z', '2026-11-30 10:00:01Z'),
('mno-a', 'm2', 2, 2, NULL, 'rejected', 69, '2026-11-30 10:00:02Z', '2026-11-30 10:00:01Z'),
('mno-b', 'm3', 1, 1, NULL, 'unknown', NULL, NULL, '2026-11-30 10:00:01Z'),
('mno-b', 'm4', 1, 1, NULL, 'rejected', -2147483647, '2026-11-30 10:00:01Z', '2026-11-30 10:00:01Z'),
('mno-b', 'm5', 1, 1, NULL, 'pending', NULL, NULL, '2026-11-30 10:00:01Z'),
('mno-b', 'm6', 1, 1, 's6', 'accepted', 0, '2026-12-03 10:00:01Z', '2026-12-03 10:00:01Z')`)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, psql, dsn, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-v", "since=2026-11-30 00:00Z", "-v", "until=2026-12-02 00:00Z", "-f", "../../connector/compare/export.sql")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, stderr.String())
	}
	l, err := compare.ReadConnector("export.jsonl", bytes.NewReader(out))
	if err != nil || len(l.Invalid) > 0 || l.Events != 5 {
		t.Fatalf("%v %v, %d events\n%s", err, l.Invalid, l.Events, out)
	}
	want := map[string]string{"m1": "accepted ", "m2": "rejected 0x00000045", "m3": "unknown ", "m4": "rejected 0x80000001"}
	if len(l.Records) != len(want) {
		t.Fatalf("%+v", l.Records)
	}
	for _, r := range l.Records {
		if got := string(r.Outcome) + " " + string(r.Code); got != want[r.MessageID] {
			t.Errorf("%s: %s, want %s", r.MessageID, got, want[r.MessageID])
		}
	}
	if first, _ := l.Span(); !first.Equal(time.Date(2026, 11, 30, 10, 0, 1, 0, time.UTC)) {
		t.Errorf("first %v", first)
	}
}
