package service

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/oms"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
	"github.com/smpp-connector/smpp-connector/smscsim/tlstest"
)

// omsFake is operator-management-service as connector/oms/openapi.yaml
// says, over mutual TLS: the operators document with an ETag.
type omsFake struct {
	mu         sync.Mutex
	body, etag string
}

func (f *omsFake) set(body, etag string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.body, f.etag = body, etag
}

func (f *omsFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.URL.Path != oms.OperatorsPath {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", f.etag)
	if r.Header.Get("If-None-Match") == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, f.body)
}

// The connector follows operator-management-service: the configuration it
// starts with, a TPS change and an operator added while it runs, and an
// invalid answer refused as a whole (readiness says so) while the running
// configuration carries on.
func TestOMSConfigurationIsFollowed(t *testing.T) {
	acct := []server.AccountConfig{{SystemID: "acme", Password: "pw"}}
	sim := startSim(t, server.OperatorConfig{ID: "mno-a", Listen: "127.0.0.1:0", Accounts: acct},
		server.OperatorConfig{ID: "mno-b", Listen: "127.0.0.1:0", Accounts: acct})
	opA, _ := sim.Operator("mno-a")
	opB, _ := sim.Operator("mno-b")
	doc := func(version string, tpsA int, withB bool) string {
		s := fmt.Sprintf(`{"version": %q, "operators": [{"id": "mno-a", "endpoints": {"primary": [{"address": %q}]}, "tps": %d}`,
			version, opA.Addr(), tpsA)
		if withB {
			s += fmt.Sprintf(`, {"id": "mno-b", "endpoints": {"primary": [{"address": %q}]}, "tps": 10}`, opB.Addr())
		}
		return s + "]}"
	}

	dir := t.TempDir()
	ca := tlstest.NewCA(t)
	caFile := ca.WriteFile(t, dir)
	certFile, keyFile := ca.Issue(t, "smpp-connector").WriteFiles(t, dir, "client")
	fake := &omsFake{}
	fake.set(doc("1", 50, false), `"1"`)
	srv := httptest.NewUnstartedServer(fake)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, "oms", "oms.test").TLS},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool(), MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	client, err := oms.New(oms.Options{URL: srv.URL, CertFile: certFile, KeyFile: keyFile, CAFile: caFile,
		ServerName: "oms.test", CacheFile: filepath.Join(dir, "oms-operators.json"), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	res, err := client.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	svc := testService(t)
	svc.OMS.URL, svc.OMS.PollInterval = srv.URL, time.Second
	r := startConnector(t, svc, res.File, Options{OMS: client,
		Secrets: staticSource{secrets.Credential{SystemID: "acme", Password: "pw", Version: "1"}}})
	metricIs := func(series string, want float64) func() error {
		return func() error {
			if got := r.metric(t, series); got != want {
				return fmt.Errorf("%s = %v, want %v", series, got, want)
			}
			return nil
		}
	}
	smpptest.Eventually(t, 15*time.Second, 50*time.Millisecond, metricIs(`smpp_operator_owner{operator="mno-a"}`, 1))
	if got := r.metric(t, `smpp_operator_tps_limit{operator="mno-a"}`); got != 50 {
		t.Fatalf("TPS limit %v at start, want 50 from the service", got)
	}
	if got := r.metric(t, "smpp_config_source_up"); got != 1 {
		t.Errorf("smpp_config_source_up %v, want 1", got)
	}

	fake.set(doc("2", 20, true), `"2"`)
	smpptest.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		if err := metricIs(`smpp_operator_tps_limit{operator="mno-a"}`, 20)(); err != nil {
			return err
		}
		return metricIs(`smpp_operator_owner{operator="mno-b"}`, 1)()
	})

	fake.set(strings.Replace(doc("3", 20, true), `"tps": 10`, `"tps": -1`, 1), `"3"`)
	smpptest.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		v := r.readyz(t)
		degraded, _ := v["degraded"].(map[string]any)
		p, _ := degraded["operators configuration"].(string)
		if !strings.Contains(p, "mno-b") || !strings.Contains(p, "tps") {
			return fmt.Errorf("readiness does not name the refused answer: %v", v)
		}
		if v["ready"] != true {
			return fmt.Errorf("not ready while the running configuration carries on: %v", v)
		}
		return metricIs("smpp_config_refused", 1)()
	})
	if got := r.metric(t, `smpp_operator_tps_limit{operator="mno-b"}`); got != 10 {
		t.Errorf("mno-b's TPS limit %v after a refused answer, want 10 (kept)", got)
	}
}
