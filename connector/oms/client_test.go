package oms

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/smpp-connector/smpp-connector/smscsim/tlstest"
)

// A client with the right certificates gets the operators, presenting its
// certificate; asked again it sends the ETag and the unchanged answer (304)
// keeps the configuration in force.
func TestGoodClientGetsTheOperators(t *testing.T) {
	p := newPKI(t)
	f := startOMS(t, p, operators("v1", 100, "mno-a", "mno-b"))
	c := newClient(t, p.options(f))
	ctx := context.Background()

	res, err := c.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.FromDisk || res.Version != "v1" || res.ETag != `"1"` || !slices.Equal(res.File.IDs(), []string{"mno-a", "mno-b"}) {
		t.Fatalf("first fetch: %+v", res)
	}
	if o, _ := res.File.Operator("mno-b"); o.TPS != 100 || o.Window != 10 {
		t.Errorf("mno-b: tps %d window %d (defaults applied as for the file)", o.TPS, o.Window)
	}

	res2, err := c.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Changed || res2.File != res.File || res2.Version != "v1" {
		t.Fatalf("unchanged: %+v", res2)
	}
	seen := f.requests()
	if len(seen) != 2 || seen[0].clientCN != "smpp-connector" || seen[0].ifNoneMatch != "" || seen[1].ifNoneMatch != `"1"` || seen[0].path != OperatorsPath {
		t.Fatalf("requests: %+v", seen)
	}

	// A new version is a change.
	f.set(operators("v2", 20, "mno-a"), `"2"`)
	res3, err := c.Fetch(ctx)
	if err != nil || !res3.Changed || res3.Version != "v2" || len(res3.File.Operators) != 1 || res3.File.Operators[0].TPS != 20 {
		t.Fatalf("new version: %+v %v", res3, err)
	}
	st := c.Status()
	if !st.Reachable || st.Version != "v2" || st.LastError != "" || st.LastSuccess.IsZero() || st.FromDisk || st.Operators != 1 {
		t.Errorf("status: %+v", st)
	}
}

// Configuration travels over mutual TLS only: a plain http:// URL is
// refused when the client is made, and an https URL whose server answers
// in plain HTTP fails naming that.
func TestPlainHTTPIsRefused(t *testing.T) {
	p := newPKI(t)
	o := p.options(&fakeOMS{srv: &httptest.Server{URL: "http://oms.test:8080"}})
	_, err := New(o)
	if err == nil || !strings.Contains(err.Error(), `"http://oms.test:8080": want https://host[:port]`) {
		t.Fatalf("http URL: %v", err)
	}

	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	o.URL = strings.Replace(plain.URL, "http://", "https://", 1)
	_, err = newClient(t, o).Fetch(context.Background())
	wantErr(t, err, ReasonTLS, "answers in plain HTTP, not TLS")
}

// A CA bundle that did not sign the service's certificate fails naming the
// bundle.
func TestWrongCAFails(t *testing.T) {
	p := newPKI(t)
	f := startOMS(t, p, operators("v1", 100, "mno-a"))
	o := p.options(f)
	o.CAFile = tlstest.NewCA(t).WriteFile(t, t.TempDir())
	_, err := newClient(t, o).Fetch(context.Background())
	wantErr(t, err, ReasonTLS, "server certificate (CN=oms) is not signed by a CA of the bundle "+o.CAFile)
	if len(f.requests()) != 0 {
		t.Error("the request reached the service")
	}
}

// A service that requires a client certificate, asked without one, fails
// naming the missing setting.
// With TLS 1.3 the refusal comes after the handshake ("certificate
// required"), with TLS 1.2 during it ("bad certificate").
func TestNoClientCertificateFails(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			p := newPKI(t)
			f := startOMSWith(t, p, operators("v1", 100, "mno-a"), "127.0.0.1:0", func(c *tls.Config) { c.MaxVersion = v })
			o := p.options(f)
			o.CertFile, o.KeyFile = "", ""
			_, err := newClient(t, o).Fetch(context.Background())
			wantErr(t, err, ReasonTLS, "the service requires a client certificate and none is configured (set -oms-cert and -oms-key)")
			if len(f.requests()) != 0 {
				t.Error("the request reached the service")
			}
		})
	}
}

// A service offering only TLS older than 1.2 is refused.
func TestOldTLSIsRefused(t *testing.T) {
	p := newPKI(t)
	f := startOMSWith(t, p, operators("v1", 100, "mno-a"), "127.0.0.1:0", func(c *tls.Config) { c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS11 })
	_, err := newClient(t, p.options(f)).Fetch(context.Background())
	wantErr(t, err, ReasonTLS, "TLS 1.2")
}

// Our certificate signed by a CA the service does not trust is named.
func TestClientCertificateRefused(t *testing.T) {
	p := newPKI(t)
	f := startOMS(t, p, operators("v1", 100, "mno-a"))
	o := p.options(f)
	o.CertFile, o.KeyFile = tlstest.NewCA(t).Issue(t, "stranger").WriteFiles(t, t.TempDir(), "stranger")
	_, err := newClient(t, o).Fetch(context.Background())
	wantErr(t, err, ReasonTLS, "the service refused our client certificate "+o.CertFile+" (CN=stranger")
}

// A certificate for another name fails naming both names.
func TestServerNameMismatchFails(t *testing.T) {
	p := newPKI(t)
	f := startOMS(t, p, operators("v1", 100, "mno-a"))
	o := p.options(f)
	o.ServerName = "oms.other"
	_, err := newClient(t, o).Fetch(context.Background())
	wantErr(t, err, ReasonTLS, `server certificate is not valid for "oms.other" (it is for oms.test, 127.0.0.1): set -oms-server-name`)
}

// Files that cannot be used are refused when the client is made, naming
// the file.
func TestUnusableFilesAreRefusedAtStart(t *testing.T) {
	p := newPKI(t)
	f := startOMS(t, p, operators("v1", 100, "mno-a"))
	missing := filepath.Join(p.dir, "missing.pem")
	for _, tc := range []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"no cert file", func(o *Options) { o.CertFile = missing }, "client certificate: open " + missing},
		{"no key file", func(o *Options) { o.KeyFile = missing }, "client certificate's key: open " + missing},
		{"key of another cert", func(o *Options) {
			_, o.KeyFile = p.ca.Issue(t, "other").WriteFiles(t, t.TempDir(), "other")
		}, "private key does not match public key"},
		{"no CA file", func(o *Options) { o.CAFile = missing }, "CA bundle: open " + missing},
		{"CA file without certificates", func(o *Options) { o.CAFile = o.KeyFile }, "no PEM certificate in it"},
		{"cert without key", func(o *Options) { o.KeyFile = "" }, "a client certificate needs its key: set -oms-key"},
		{"no cache file", func(o *Options) { o.CacheFile = "" }, "no file for the last good configuration: set -oms-cache"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := p.options(f)
			tc.change(&o)
			_, err := New(o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// wantErr checks that err is an *Error of that reason whose text says want.
func wantErr(t *testing.T, err error, reason, want string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v (%T), want an *oms.Error", err, err)
	}
	if e.Reason != reason || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %q (reason %s)\nwant reason %s saying %q", err, e.Reason, reason, want)
	}
}
