package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/admin"
)

// ctlFleet answers the admin API as a replica owning mno-a would.
type ctlFleet struct {
	mu    sync.Mutex
	calls []string
}

func (f *ctlFleet) rec(s string) { f.mu.Lock(); f.calls = append(f.calls, s); f.mu.Unlock() }
func (f *ctlFleet) List(context.Context) (admin.Listing, error) {
	return admin.Listing{Replica: "r-1", Operators: []admin.Operator{
		{ID: "mno-a", Owner: true, Holder: "r-1", TPS: 100, Window: 10, ConfigVersion: "abc123",
			Paused: &admin.Pause{Reason: "MNO maintenance", By: "alice", Since: time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)},
			Binds:  []admin.Bind{{Name: "mno-a-1", State: "bound", Endpoint: "backup", Outstanding: 3, Window: 10}}},
		{ID: "mno-b", Holder: "r-2", TPS: 50, Window: 5, ConfigVersion: "abc123"}}}, nil
}
func (f *ctlFleet) Pause(_ context.Context, id, reason, by string) error {
	f.rec("pause " + id + " " + reason + " " + by)
	return nil
}
func (f *ctlFleet) Resume(_ context.Context, id string) (bool, error) {
	f.rec("resume " + id)
	return true, nil
}
func (f *ctlFleet) Rebind(_ context.Context, id string) error {
	f.rec("rebind " + id)
	if id == "mno-b" {
		return &admin.NotOwner{Holder: "r-2"}
	}
	return nil
}
func (f *ctlFleet) FailBack(_ context.Context, id string) (bool, error) {
	f.rec("failback " + id)
	return true, nil
}
func (f *ctlFleet) Drain(context.Context) error   { f.rec("drain"); return nil }
func (f *ctlFleet) Undrain(context.Context) error { f.rec("undrain"); return nil }

func TestCtlMirrorsTheAdminAPI(t *testing.T) {
	f := &ctlFleet{}
	srv := httptest.NewServer(admin.Handler(f, func() (string, error) { return "t0ken", nil }, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte("t0ken\n"), 0o600)
	ctl := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"ctl", "-addr", srv.URL, "-token-file", tokenFile}, args...), &out, &out)
		return out.String(), err
	}
	out, err := ctl("operators")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"replica r-1", "mno-a", "r-1 (this replica)", "since 2026-12-07T02:00:00Z by alice: MNO maintenance",
		"mno-a-1", "bound", "backup", "3/10", "mno-b", "r-2"} {
		if !strings.Contains(out, want) {
			t.Errorf("ctl operators lacks %q:\n%s", want, out)
		}
	}
	if out, err := ctl("pause", "mno-a", "-reason", "MNO maintenance", "-by", "bob"); err != nil || !strings.Contains(out, "paused") {
		t.Fatalf("pause: %q %v", out, err)
	}
	for _, args := range [][]string{{"resume", "mno-a"}, {"rebind", "mno-a"}, {"failback", "mno-a"}, {"drain"}, {"undrain"}} {
		if _, err := ctl(args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	if _, err := ctl("rebind", "mno-b"); err == nil || !strings.Contains(err.Error(), "ask replica r-2") {
		t.Fatalf("rebind on a standby: %v, want the owner named", err)
	}
	want := "pause mno-a MNO maintenance bob|resume mno-a|rebind mno-a|failback mno-a|drain|undrain|rebind mno-b"
	if got := strings.Join(f.calls, "|"); got != want {
		t.Fatalf("calls %q, want %q", got, want)
	}
	for args, msg := range map[string]string{"rebind": "want an operator id", "frob": "unknown command", "drain x": "unexpected argument"} {
		if _, err := ctl(strings.Fields(args)...); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ctl %s: %v, want %q", args, err, msg)
		}
	}
	var out2 bytes.Buffer
	t.Setenv("SMPP_ADMIN_TOKEN", "")
	if err := run(context.Background(), []string{"ctl", "-addr", srv.URL, "operators"}, &out2, &out2); err == nil || !strings.Contains(err.Error(), "no admin token") {
		t.Fatalf("ctl without a token: %v", err)
	}
	wrong := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrong, []byte("nope"), 0o600)
	if err := run(context.Background(), []string{"ctl", "-addr", srv.URL, "-token-file", wrong, "operators"}, &out2, &out2); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("ctl with a wrong token: %v", err)
	}
}
