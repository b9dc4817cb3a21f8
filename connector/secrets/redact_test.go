package secrets

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/internal/testutil"
)

// A token as Vault issues them, and a JWT (a service-account token).
const (
	echoedToken = "hvs.CAESIJq3Xw9sEcrEtToKeN0123456789abcdefGh4ZWVfR2h4Y2xLaGpDWmc"
	echoedJWT   = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJl"
)

// echoVault is a misbehaving Vault (or a proxy in front of one) that answers
// errors echoing the request's token back in the body. lookupOK makes
// auth/token/lookup-self succeed with a renewable 2s token, so that reads,
// watches and renewals are what fails.
func echoVault(t *testing.T, lookupOK bool, raw bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("X-Vault-Token")
		if lookupOK && r.URL.Path == "/v1/auth/token/lookup-self" {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{
				"ttl": 2, "renewable": true, "creation_ttl": 2, "id": tok}})
			return
		}
		if raw {
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>upstream failed; request headers: X-Vault-Token: " + tok + " jwt " + echoedJWT + "</html>"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]any{"errors": []string{
			"internal error: token " + tok + " could not be checked",
			"legacy s.AbCdEfGhIjKlMnOpQrStUvWx and jwt " + echoedJWT + " too",
			strings.Repeat("very long error ", 100),
		}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func leaks(s string) []string {
	var out []string
	for _, secret := range []string{echoedToken, echoedJWT, "s.AbCdEfGhIjKlMnOpQrStUvWx", "CAESIJq3Xw9s"} {
		if strings.Contains(s, secret) {
			out = append(out, secret)
		}
	}
	return out
}

// The login's error names the status and Vault's error strings, redacted
// and capped; it never carries the token.
func TestVaultErrorBodiesAreRedacted(t *testing.T) {
	for _, raw := range []bool{false, true} {
		srv := echoVault(t, false, raw)
		var logs testutil.LogBuffer
		_, err := NewVault(context.Background(), VaultConfig{Address: srv.URL, Auth: TokenAuth{Token: echoedToken},
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err == nil {
			t.Fatal("NewVault succeeded against a failing Vault")
		}
		msg := err.Error()
		if l := leaks(msg + logs.String()); l != nil {
			t.Fatalf("raw %v: the error or the logs carry %q:\n%s\n%s", raw, l, msg, logs.String())
		}
		want := "HTTP 500"
		if raw {
			want = "HTTP 502"
		}
		if !strings.Contains(msg, want) || len(msg) > 600 {
			t.Fatalf("raw %v: %d characters: %s", raw, len(msg), msg)
		}
		if !raw && (!strings.Contains(msg, "internal error: token [redacted] could not be checked") || !strings.Contains(msg, "legacy [redacted]")) {
			t.Fatalf("Vault's error strings, redacted, are not in %q", msg)
		}
	}
}

// Reads, watches and renewals that fail with a body echoing the token log
// and return it redacted.
func TestVaultReadWatchAndRenewalErrorsAreRedacted(t *testing.T) {
	srv := echoVault(t, true, false)
	var logs testutil.LogBuffer
	v, err := NewVault(context.Background(), VaultConfig{Address: srv.URL, Auth: TokenAuth{Token: echoedToken},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	_, err = v.Get(context.Background(), "mno-a")
	if err == nil || !strings.Contains(err.Error(), "[redacted]") || leaks(err.Error()) != nil {
		t.Fatalf("read error %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v.Watch(ctx, "mno-a", 50*time.Millisecond)
	for _, line := range []string{"vault: watch", "token renewal failed"} {
		if err := logs.WaitFor(line, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if l := leaks(logs.String()); l != nil || !strings.Contains(logs.String(), "[redacted]") {
		t.Fatalf("the logs carry %q:\n%s", l, logs.String())
	}
}
