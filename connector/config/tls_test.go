package config

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smpp-connector/smpp-connector/smscsim/tlstest"
)

// tlsOperator is minimal with its endpoint over TLS, a backup too, and the
// given tls block (YAML flow mapping, "" for none).
func tlsOperator(block string) string {
	y := `operators:
  - id: mno-b
    endpoints:
      primary: [{address: "127.0.0.1:2776", tls: true}]
      backup: [{address: "smsc-b.example:2777", tls: true, serverName: smsc.mno-b.example}, {address: "plain.example:2775"}]
    tps: 50
`
	if block != "" {
		y += "    tls: " + block + "\n"
	}
	return y
}

// The TLS settings become the TLS client configuration of each endpoint:
// the CA bundle, the client certificate and the server name (the host of the
// address unless set).
func TestTLSSettingsMakeTheClientConfig(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t)
	caFile := ca.WriteFile(t, dir)
	certFile, keyFile := ca.Issue(t, "acme").WriteFiles(t, dir, "client")
	f, err := Parse([]byte(tlsOperator(fmt.Sprintf("{caFile: %q, certFile: %q, keyFile: %q}", caFile, certFile, keyFile))))
	if err != nil {
		t.Fatal(err)
	}
	o := f.Operators[0]
	if o.TLS != (TLS{CAFile: caFile, CertFile: certFile, KeyFile: keyFile}) {
		t.Fatalf("tls = %+v", o.TLS)
	}
	for addr, name := range map[string]string{"127.0.0.1:2776": "127.0.0.1", "smsc-b.example:2777": "smsc.mno-b.example"} {
		c, err := o.ClientTLSFor(addr)
		if err != nil || c == nil {
			t.Fatalf("%s: %v %v", addr, c, err)
		}
		if c.ServerName != name || len(c.Certificates) != 1 || c.InsecureSkipVerify {
			t.Errorf("%s: server name %q, %d client certificates, skip verify %v", addr, c.ServerName, len(c.Certificates), c.InsecureSkipVerify)
		}
		// The pool verifies what the CA signed, and only that.
		leaf := ca.Issue(t, name, name).TLS.Leaf
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: c.RootCAs, DNSName: name}); err != nil {
			t.Errorf("%s: the CA bundle does not verify the CA's certificate: %v", addr, err)
		}
		other := tlstest.NewCA(t).Issue(t, name, name).TLS.Leaf
		if _, err := other.Verify(x509.VerifyOptions{Roots: c.RootCAs, DNSName: name}); err == nil {
			t.Errorf("%s: the CA bundle verifies another CA's certificate", addr)
		}
	}
	if c, err := o.ClientTLSFor("plain.example:2775"); c != nil || err != nil {
		t.Errorf("plaintext endpoint: %v %v, want no TLS", c, err)
	}

	// No tls block: system roots, no client certificate.
	f, err = Parse([]byte(tlsOperator("")))
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.Operators[0].ClientTLSFor("127.0.0.1:2776")
	if err != nil || c.RootCAs != nil || len(c.Certificates) != 0 || c.ServerName != "127.0.0.1" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
}

// check-config finds what the first bind would: unreadable or unparseable
// files, a certificate without its key, settings nothing uses; each error
// names the operator and the field.
func TestTLSSettingsRefused(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t)
	caFile := ca.WriteFile(t, dir)
	certFile, keyFile := ca.Issue(t, "acme").WriteFiles(t, dir, "client")
	_, otherKey := ca.Issue(t, "other").WriteFiles(t, dir, "other")
	notPEM := filepath.Join(dir, "not.pem")
	os.WriteFile(notPEM, []byte("hello\n"), 0o600)
	badCert := filepath.Join(dir, "bad.pem")
	os.WriteFile(badCert, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600)
	missing := filepath.Join(dir, "missing.pem")

	for _, tc := range []struct{ name, yaml, want string }{
		{"ca file missing", tlsOperator(fmt.Sprintf("{caFile: %q}", missing)), `line 7: operator "mno-b": tls.caFile: open ` + missing + `: no such file or directory`},
		{"ca file not PEM", tlsOperator(fmt.Sprintf("{caFile: %q}", notPEM)), `operator "mno-b": tls.caFile: ` + notPEM + `: no PEM certificate in it`},
		{"ca certificate broken", tlsOperator(fmt.Sprintf("{caFile: %q}", badCert)), `operator "mno-b": tls.caFile: ` + badCert + `: certificate 1: x509:`},
		{"certificate without key", tlsOperator(fmt.Sprintf("{certFile: %q}", certFile)), `operator "mno-b": tls.keyFile: required with tls.certFile`},
		{"key without certificate", tlsOperator(fmt.Sprintf("{keyFile: %q}", keyFile)), `operator "mno-b": tls.certFile: required with tls.keyFile`},
		{"key file missing", tlsOperator(fmt.Sprintf("{certFile: %q, keyFile: %q}", certFile, missing)), `operator "mno-b": tls.keyFile: open ` + missing},
		{"key of another certificate", tlsOperator(fmt.Sprintf("{certFile: %q, keyFile: %q}", certFile, otherKey)), `operator "mno-b": tls.certFile: ` + certFile + ` with ` + otherKey + `: tls: private key does not match public key`},
		{"server name without tls", strings.Replace(minimal, "127.0.0.1:2776", "127.0.0.1:2776\n          serverName: smsc.example", 1), `operator "mno-b": endpoints.primary[0].serverName: only with tls: true`},
		{"tls block without a tls endpoint", minimal + fmt.Sprintf("    tls: {caFile: %q}\n", caFile), `line 7: operator "mno-b": tls: set, but no endpoint has tls: true`},
		{"unknown tls setting", tlsOperator("{insecureSkipVerify: true}"), `operator "mno-b": tls.insecureSkipVerify: unknown field`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant an error containing %s", err, tc.want)
			}
		})
	}
	// The same problems at the bind: files that vanished after the check.
	f, err := Parse([]byte(tlsOperator(fmt.Sprintf("{caFile: %q}", caFile))))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(caFile)
	if _, err := f.Operators[0].ClientTLSFor("127.0.0.1:2776"); err == nil || !strings.Contains(err.Error(), `operator "mno-b": tls.caFile: open `) {
		t.Fatalf("CA file gone at the bind: %v", err)
	}
}

// The destination's TON/NPI defaults are the operator's: 1/1 unless set,
// checked like the source's.
func TestDestinationDefaults(t *testing.T) {
	f, err := Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if d := f.Operators[0].Destination; d != (Address{TON: 1, NPI: 1}) {
		t.Fatalf("default destination %+v, want ton 1 npi 1", d)
	}
	f, err = Parse([]byte(minimal + "    destination: {ton: 0, npi: 0}\n    source: {ton: 5}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if o := f.Operators[0]; o.Destination != (Address{}) || o.Source.Address != (Address{TON: 5}) {
		t.Fatalf("destination %+v source %+v", o.Destination, o.Source)
	}
	f, err = Parse([]byte(minimal + "    destination: {ton: 2}\n"))
	if err != nil || f.Operators[0].Destination != (Address{TON: 2, NPI: 1}) {
		t.Fatalf("ton only: %+v %v", f, err)
	}
	for in, want := range map[string]string{
		"{ton: 7}": `line 7: operator "mno-b": destination.ton: must be 0-6 (SMPP 3.4 type of number), got 7`,
		"{npi: 2}": `line 7: operator "mno-b": destination.npi: must be one of 0, 1, 3, 4, 6, 8, 9, 10, 14, 18`,
	} {
		if _, err := Parse([]byte(minimal + "    destination: " + in + "\n")); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %s", in, err, want)
		}
	}
}
