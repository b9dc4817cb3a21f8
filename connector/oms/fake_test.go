package oms

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/smpp-connector/smpp-connector/smscsim/tlstest"
)

// pki is one test's certificate authority (it signs the service's
// certificate and ours) and our client certificate, as files.
type pki struct {
	dir                       string
	ca                        *tlstest.CA
	caFile, certFile, keyFile string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir(), ca: tlstest.NewCA(t)}
	p.caFile = p.ca.WriteFile(t, p.dir)
	p.certFile, p.keyFile = p.ca.Issue(t, "smpp-connector").WriteFiles(t, p.dir, "client")
	return p
}

// request is what the fake service saw of one request.
type request struct {
	clientCN    string // our certificate's common name, "" without one
	ifNoneMatch string
	path        string
}

// fakeOMS is operator-management-service as the contract (openapi.yaml)
// says: GET /v1/smpp/operators answers the operators document with an ETag,
// and 304 to a request whose If-None-Match has it. It requires a client
// certificate signed by the test's CA.
type fakeOMS struct {
	srv *httptest.Server

	mu     sync.Mutex
	body   []byte
	etag   string
	status int // when set, answered instead of the document
	seen   []request
}

func startOMS(t *testing.T, p *pki, body string) *fakeOMS {
	t.Helper()
	return startOMSOn(t, p, body, "127.0.0.1:0")
}

// startOMSOn starts the fake service at addr (a service back at the same
// address after an outage).
func startOMSOn(t *testing.T, p *pki, body, addr string) *fakeOMS {
	t.Helper()
	return startOMSWith(t, p, body, addr, nil)
}

// startOMSWith starts the fake service at addr, its TLS configuration
// changed by tune (when not nil).
func startOMSWith(t *testing.T, p *pki, body, addr string, tune func(*tls.Config)) *fakeOMS {
	t.Helper()
	f := &fakeOMS{body: []byte(body), etag: `"1"`}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Listener.Close()
	f.srv.Listener = l
	f.srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{p.ca.Issue(t, "oms", "oms.test", "127.0.0.1").TLS},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.ca.Pool(),
		MinVersion:   tls.VersionTLS12,
	}
	if tune != nil {
		tune(f.srv.TLS)
	}
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point of some tests
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOMS) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rq := request{ifNoneMatch: r.Header.Get("If-None-Match"), path: r.URL.Path}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		rq.clientCN = r.TLS.PeerCertificates[0].Subject.CommonName
	}
	f.seen = append(f.seen, rq)
	switch {
	case r.Method != http.MethodGet || r.URL.Path != OperatorsPath:
		http.NotFound(w, r)
	case f.status != 0:
		http.Error(w, fmt.Sprintf(`{"error": "status %d on purpose"}`, f.status), f.status)
	case rq.ifNoneMatch == f.etag:
		w.Header().Set("ETag", f.etag)
		w.WriteHeader(http.StatusNotModified)
	default:
		w.Header().Set("ETag", f.etag)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(f.body)
	}
}

// set changes the document the service answers, with a new ETag.
func (f *fakeOMS) set(body, etag string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.body, f.etag = []byte(body), etag
}

func (f *fakeOMS) setStatus(code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status = code
}

func (f *fakeOMS) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.seen...)
}

// options reach f with the test's certificates, verifying the service's
// certificate for oms.test, and keep the last good configuration in the
// test's directory.
func (p *pki) options(f *fakeOMS) Options {
	return Options{
		URL:        f.srv.URL,
		CertFile:   p.certFile,
		KeyFile:    p.keyFile,
		CAFile:     p.caFile,
		ServerName: "oms.test",
		CacheFile:  filepath.Join(p.dir, "cache", "oms-operators.json"),
		Logger:     slog.New(slog.DiscardHandler),
	}
}

// operators is a valid answer: the operators of the version, each with that TPS.
func operators(version string, tps int, ids ...string) string {
	s := fmt.Sprintf(`{"version": %q, "operators": [`, version)
	for i, id := range ids {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf(`{"id": %q, "endpoints": {"primary": [{"address": "smsc.%s.example:2775"}]}, "tps": %d}`, id, id, tps)
	}
	return s + "]}"
}

func newClient(t *testing.T, o Options) *Client {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}
