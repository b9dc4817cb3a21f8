package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/store"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

var env *testenv.TestEnv

func TestMain(m *testing.M) {
	os.Exit(testenv.RunWithServices(m, testenv.Services{Postgres: true}, &env))
}

// A receipt given up for want of a part (no_part) goes back to the inbox
// once a part holds its id, through the command, and is applied from there.
func TestRematchReceipts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := env.FreshDatabase(t, true)
	s, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	received := time.Now()
	if err := s.AppendReceipt(ctx, store.Receipt{OperatorID: "mno-a", SMSCKey: "k1", Status: dlr.Delivered,
		Stat: "DELIVRD", Raw: "id:k1 stat:DELIVRD", Received: received}); err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.DrainInbox(ctx, 10); err != nil || len(got) != 1 || got[0].Matched.Disposition != store.Held {
		t.Fatalf("drained %+v, %v: want the receipt held", got, err)
	}
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if _, err := db.Exec(ctx, `UPDATE smpp.pending_receipts SET created_at = now() - interval '2 hours'`); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ExpirePendingReceipts(ctx, time.Hour); err != nil || len(got) != 1 {
		t.Fatalf("given up %+v, %v", got, err)
	}

	rematch := func() string {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, []string{"rematch-receipts", "-postgres-dsn", dsn, "-operator", "mno-a"}, &out, &out); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	if out := rematch(); !strings.Contains(out, "mno-a: 0 receipt(s)") {
		t.Fatalf("no part holds k1 yet: %s", out)
	}
	if _, err := s.PrepareParts(ctx, store.MessageRef{OperatorID: "mno-a", MessageID: "m1", PartCount: 1},
		[]store.PartRef{{Number: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordOutcome(ctx, store.Outcome{OperatorID: "mno-a", MessageID: "m1", Part: 1, Kind: store.Accepted,
		SMSCMessageID: "k1", SubmittedAt: received.Add(-5 * time.Second), At: received.Add(-4 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if out := rematch(); !strings.Contains(out, "mno-a: 1 receipt(s) back in the receipt inbox") {
		t.Fatalf("after the late response: %s", out)
	}
	got, _, err := s.DrainInbox(ctx, 10)
	if err != nil || len(got) != 1 || got[0].Matched.Disposition != store.Applied || got[0].Matched.MessageID != "m1" {
		t.Fatalf("drained %+v, %v: want the receipt applied to m1", got, err)
	}
}

func TestRematchReceiptsUsage(t *testing.T) {
	for args, want := range map[string]string{
		"rematch-receipts": "no database",
		"rematch-receipts -postgres-dsn postgres://x/y": "no operator",
	} {
		t.Setenv("SMPP_POSTGRES_DSN", "")
		var out bytes.Buffer
		if err := run(context.Background(), strings.Fields(args), &out, &out); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", args, err, want)
		}
	}
}
