package oms

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/smscsim/tlstest"
)

// An invalid new configuration is refused whole, naming the operator and
// field (config.Parse's errors, as for the file), and the running one stays,
// in memory and on disk.
func TestInvalidAnswerIsRefusedWhole(t *testing.T) {
	p := newPKI(t)
	f := startOMS(t, p, operators("v1", 100, "mno-a"))
	o := p.options(f)
	c := newClient(t, o)
	ctx := context.Background()
	good, err := c.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	onDisk, _ := os.ReadFile(o.CacheFile)

	bad := strings.Replace(operators("v2", 0, "mno-a", "mno-b"), `"tps": 0`, `"tps": 20`, 1)
	f.set(bad, `"2"`)
	res, err := c.Fetch(ctx)
	wantErr(t, err, ReasonInvalid, `version v2 refused whole, the running version v1 stays: operator "mno-b": tps: must be > 0, got 0`)
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Operator != "mno-b" || ce.Field != "tps" {
		t.Errorf("not a *config.Error naming operator and field: %#v", ce)
	}
	if res.File != nil {
		t.Errorf("a refused answer returned a file: %+v", res)
	}
	if cur, ok := c.Current(); !ok || cur.File != good.File || cur.Version != "v1" {
		t.Errorf("current after refusal: %+v", cur)
	}
	if b, _ := os.ReadFile(o.CacheFile); string(b) != string(onDisk) {
		t.Errorf("last good on disk changed:\n%s", b)
	}
	st := c.Status()
	if !st.Reachable || st.Version != "v1" || !strings.Contains(st.LastError, `operator "mno-b": tps`) || st.LastErrorReason != ReasonInvalid {
		t.Errorf("status: %+v", st)
	}

	// Unknown fields and mistyped values too: the same parser.
	f.set(`{"version": "v3", "operators": [{"id": "mno-a", "endpoints": {"primary": [{"address": "smsc:2775"}]}, "tps": "fast", "tsp": 5}]}`, `"3"`)
	_, err = c.Fetch(ctx)
	wantErr(t, err, ReasonInvalid, `operator "mno-a": tps: want a whole number, got the string "fast"`)
	wantErr(t, err, ReasonInvalid, `operator "mno-a": tsp: unknown field (did you mean "tps"?)`)

	// Fixed, it is taken.
	f.set(operators("v4", 20, "mno-a", "mno-b"), `"4"`)
	if res, err := c.Fetch(ctx); err != nil || !res.Changed || res.Version != "v4" || c.Status().LastError != "" {
		t.Fatalf("after the fix: %+v %v", res, err)
	}
}

// Other answers than 200 and 304 fail with the status, the configuration in
// force staying.
func TestHTTPErrors(t *testing.T) {
	p := newPKI(t)
	f := startOMS(t, p, operators("v1", 100, "mno-a"))
	c := newClient(t, p.options(f))
	ctx := context.Background()
	if _, err := c.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	f.setStatus(503)
	_, err := c.Fetch(ctx)
	wantErr(t, err, ReasonHTTP, `HTTP 503: {"error": "status 503 on purpose"}`)
	f.setStatus(403)
	_, err = c.Fetch(ctx)
	wantErr(t, err, ReasonHTTP, "HTTP 403: the service refused our identity (CN=smpp-connector")
	if cur, ok := c.Current(); !ok || cur.Version != "v1" {
		t.Errorf("current: %+v", cur)
	}
}

// A renewed client certificate (cert-manager, Vault Agent) is presented
// from the next request on, without a restart; so is a renewed CA bundle
// used.
func TestRenewedFilesAreUsedWithoutRestart(t *testing.T) {
	p := newPKI(t)
	f := startOMS(t, p, operators("v1", 100, "mno-a"))
	c := newClient(t, p.options(f))
	ctx := context.Background()
	if _, err := c.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	renewed := p.ca.Issue(t, "smpp-connector-renewed")
	writeFile(t, p.certFile, renewed.CertPEM)
	writeFile(t, p.keyFile, renewed.KeyPEM)
	if _, err := c.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	seen := f.requests()
	if got := seen[len(seen)-1].clientCN; got != "smpp-connector-renewed" {
		t.Fatalf("after renewal the service saw %q", got)
	}

	// Half a renewal (the certificate written, not yet its key) keeps the
	// pair in use until the key follows.
	next := p.ca.Issue(t, "smpp-connector-next")
	writeFile(t, p.certFile, next.CertPEM)
	if _, err := c.Fetch(ctx); err != nil {
		t.Fatalf("half a renewal: %v", err)
	}
	seen = f.requests()
	if got := seen[len(seen)-1].clientCN; got != "smpp-connector-renewed" {
		t.Fatalf("half a renewal: the service saw %q", got)
	}
	writeFile(t, p.keyFile, next.KeyPEM)
	if _, err := c.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	seen = f.requests()
	if got := seen[len(seen)-1].clientCN; got != "smpp-connector-next" {
		t.Fatalf("after the key: the service saw %q", got)
	}

	// The CA bundle: wrong at first, put right while running.
	o := p.options(f)
	o.CAFile = tlstest.NewCA(t).WriteFile(t, t.TempDir())
	c2 := newClient(t, o)
	if _, err := c2.Fetch(ctx); err == nil {
		t.Fatal("wrong CA accepted")
	}
	writeFile(t, o.CAFile, p.ca.PEM)
	if _, err := c2.Fetch(ctx); err != nil {
		t.Fatalf("after the CA bundle was renewed: %v", err)
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// An answer the connector could not run (Options.Check refuses it) is
// refused like an invalid one: not in force, not kept as the last good, so
// a restart from disk starts.
func TestAnswerTheConnectorCannotRunIsNotKept(t *testing.T) {
	p := newPKI(t)
	f := startOMS(t, p, operators("v1", 100, "mno-a"))
	o := p.options(f)
	o.Check = func(cf *config.File) error {
		if _, ok := cf.Operator("mno-b"); ok {
			return errors.New(`operator "mno-b": no endpoint for this mode (shadow=true)`)
		}
		return nil
	}
	c := newClient(t, o)
	ctx := context.Background()
	if _, err := c.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	onDisk, _ := os.ReadFile(o.CacheFile)
	f.set(operators("v2", 100, "mno-a", "mno-b"), `"2"`)
	_, err := c.Fetch(ctx)
	wantErr(t, err, ReasonInvalid, `version v2 refused whole, the running version v1 stays: operator "mno-b": no endpoint for this mode`)
	if cur, _ := c.Current(); cur.Version != "v1" {
		t.Errorf("in force after the refusal: %s, want v1", cur.Version)
	}
	if b, _ := os.ReadFile(o.CacheFile); string(b) != string(onDisk) {
		t.Errorf("the refused answer was kept on disk:\n%s", b)
	}
}
