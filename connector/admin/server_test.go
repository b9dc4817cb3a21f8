package admin

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fleet records what the API asked of it.
type fleet struct {
	mu      sync.Mutex
	calls   []string
	owner   map[string]string // operator -> holder; "" this replica
	drained bool
}

func (f *fleet) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fleet) check(id string, owned bool) error {
	h, ok := f.owner[id]
	if !ok {
		return ErrUnknownOperator
	}
	if owned && h != "" {
		return &NotOwner{Holder: h}
	}
	return nil
}

func (f *fleet) List(context.Context) (Listing, error) {
	return Listing{Replica: "r1", Operators: []Operator{{ID: "mno-a", Owner: true, Holder: "r1", TPS: 100, Window: 10,
		Binds: []Bind{{Name: "mno-a-1", State: "bound", Endpoint: "backup"}}}}}, nil
}
func (f *fleet) Pause(_ context.Context, id, reason, by string) error {
	f.record("pause " + id + " " + reason + " " + by)
	return f.check(id, false)
}
func (f *fleet) Resume(_ context.Context, id string) (bool, error) {
	f.record("resume " + id)
	return true, f.check(id, false)
}
func (f *fleet) Rebind(_ context.Context, id string) error {
	f.record("rebind " + id)
	return f.check(id, true)
}
func (f *fleet) FailBack(_ context.Context, id string) (bool, error) {
	f.record("failback " + id)
	return false, f.check(id, true)
}
func (f *fleet) Drain(context.Context) error   { f.record("drain"); return nil }
func (f *fleet) Undrain(context.Context) error { f.record("undrain"); return nil }

func serve(t *testing.T, f Fleet, token *string) string {
	t.Helper()
	var mu sync.Mutex
	h := Handler(f, func() (string, error) { mu.Lock(); defer mu.Unlock(); return *token, nil },
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestEveryRequestNeedsTheToken(t *testing.T) {
	token := "s3cret"
	base := serve(t, &fleet{owner: map[string]string{"mno-a": ""}}, &token)
	for _, auth := range []string{"", "Bearer wrong", "s3cret", "Basic s3cret"} {
		req, _ := http.NewRequest(http.MethodGet, base+Prefix+"operators", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(b), "s3cret") {
			t.Errorf("Authorization %q: %s %s; want 401 without the token", auth, resp.Status, b)
		}
	}
	for _, auth := range []string{"Bearer s3cret", "bearer s3cret"} {
		req, _ := http.NewRequest(http.MethodGet, base+Prefix+"operators", nil)
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("Authorization %q: %s, want 200 (the scheme is case-insensitive)", auth, resp.Status)
		}
	}
	c := &Client{Base: base, Token: "s3cret"}
	if l, err := c.List(t.Context()); err != nil || len(l.Operators) != 1 || l.Operators[0].Binds[0].Endpoint != "backup" {
		t.Fatalf("List = %+v, %v", l, err)
	}
	// The token is read at each request: a rotated one is used at once.
	token = "rotated"
	if _, err := c.List(t.Context()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("old token after rotation: %v, want 401", err)
	}
	c.Token = "rotated"
	if _, err := c.List(t.Context()); err != nil {
		t.Fatal(err)
	}
	// No token configured: nothing gets through, not even an empty bearer.
	token = ""
	c.Token = ""
	if _, err := c.List(t.Context()); err == nil {
		t.Fatal("an empty token opened the API")
	}
}

func TestActionsReachTheFleetAndErrorsNameTheCause(t *testing.T) {
	token := "t"
	f := &fleet{owner: map[string]string{"mno-a": "", "mno-b": "replica-2"}}
	c := &Client{Base: serve(t, f, &token), Token: "t"}
	ctx := t.Context()
	if r, err := c.Pause(ctx, "mno-a", "MNO maintenance", "alice"); err != nil || !r.OK || !strings.Contains(r.Message, "paused") {
		t.Fatalf("Pause = %+v, %v", r, err)
	}
	if _, err := c.Resume(ctx, "mno-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Rebind(ctx, "mno-a"); err != nil {
		t.Fatal(err)
	}
	if r, err := c.FailBack(ctx, "mno-a"); err != nil || !strings.Contains(r.Message, "primary endpoint already") {
		t.Fatalf("FailBack = %+v, %v", r, err)
	}
	if _, err := c.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Undrain(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Rebind(ctx, "mno-b"); err == nil || !strings.Contains(err.Error(), "409") || !strings.Contains(err.Error(), "ask replica replica-2") {
		t.Fatalf("Rebind on a standby: %v, want 409 naming the owner", err)
	}
	if _, err := c.Pause(ctx, "mno-z", "", ""); err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("Pause of an unknown operator: %v, want 404", err)
	}
	want := []string{"pause mno-a MNO maintenance alice", "resume mno-a", "rebind mno-a", "failback mno-a", "drain", "undrain",
		"rebind mno-b", "pause mno-z  "}
	if strings.Join(f.calls, "|") != strings.Join(want, "|") {
		t.Fatalf("calls %q, want %q", f.calls, want)
	}
	// A body that is not the action's JSON is refused before the fleet.
	req, _ := http.NewRequest(http.MethodPost, c.Base+Prefix+"operators/mno-a/pause", strings.NewReader("pause please"))
	req.Header.Set("Authorization", "Bearer t")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || len(f.calls) != len(want) {
		t.Fatalf("bad body: %s, %d calls", resp.Status, len(f.calls))
	}
}
