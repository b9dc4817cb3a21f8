package config

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
)

// TLS is how an operator's endpoints marked tls: true are secured. Every
// setting is optional: by default the SMSC's certificate is verified against
// the system roots for the host of the endpoint's address (or its
// serverName), and no client certificate is presented. There is no way to
// skip verification: an SMSC with a private CA gets caFile.
//
//	endpoints:
//	  primary: [{address: smsc.mno-a.example:3550, tls: true}]
//	tls:
//	  caFile: /etc/smpp/tls/mno-a-ca.pem     # the SMSC's CA bundle (PEM)
//	  certFile: /etc/smpp/tls/client.pem     # mutual TLS: our certificate (PEM)...
//	  keyFile: /etc/smpp/tls/client-key.pem  # ...and its key (PEM)
//
// The files are read when the operators file is checked (check-config, the
// start) and again at every bind, so a renewed certificate is used from the
// next bind on without a restart.
type TLS struct {
	// CAFile is a PEM bundle of the certificate authorities the SMSC's
	// certificate must chain to (default: the system roots).
	CAFile string `yaml:"caFile,omitempty" json:"caFile,omitempty"`
	// CertFile is a PEM client certificate (and its intermediates), for
	// SMSCs that require mutual TLS; KeyFile is its private key. Both or
	// neither.
	CertFile string `yaml:"certFile,omitempty" json:"certFile,omitempty"`
	KeyFile  string `yaml:"keyFile,omitempty" json:"keyFile,omitempty"`
}

// set reports whether any setting is given.
func (t TLS) set() bool { return t != TLS{} }

// ClientTLS is the TLS client configuration of an endpoint: nil for an
// endpoint without tls: true. It reads the operator's CA bundle and client
// certificate now (call it at each connection to pick up renewed files).
// Errors name the operator and the setting.
func (o Operator) ClientTLS(ep Endpoint) (*tls.Config, error) {
	if !ep.TLS {
		return nil, nil
	}
	host, _, err := net.SplitHostPort(ep.Address)
	if err != nil {
		return nil, &Error{Operator: o.ID, Field: "endpoints", Msg: fmt.Sprintf("%q: want host:port", ep.Address)}
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cmp.Or(ep.ServerName, host)}
	if o.TLS.CAFile != "" {
		if c.RootCAs, err = loadCA(o.TLS.CAFile); err != nil {
			return nil, &Error{Operator: o.ID, Field: "tls.caFile", Msg: err.Error()}
		}
	}
	if o.TLS.CertFile != "" || o.TLS.KeyFile != "" {
		cert, field, err := loadKeyPair(o.TLS)
		if err != nil {
			return nil, &Error{Operator: o.ID, Field: field, Msg: err.Error()}
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// ClientTLSFor is ClientTLS of the endpoint with that address (primary or
// backup; addresses are unique): nil for a plaintext endpoint, an error for
// an address that is not the operator's. It is what session.Config.TLS takes.
func (o Operator) ClientTLSFor(addr string) (*tls.Config, error) {
	for _, list := range [][]Endpoint{o.Endpoints.Primary, o.Endpoints.Backup} {
		for _, ep := range list {
			if ep.Address == addr {
				return o.ClientTLS(ep)
			}
		}
	}
	// Not one of its endpoints: never fall back to plaintext for an
	// address whose TLS setting cannot be known.
	return nil, fmt.Errorf("%s is not an endpoint of operator %q", addr, o.ID)
}

// validateTLS checks the TLS settings: the endpoints' serverName only with
// tls: true, the tls block only with an endpoint that uses it, and its files
// readable and parseable now, so that check-config finds what the first
// bind would.
func (o *Operator) validateTLS(add func(string, string, ...any)) {
	anyTLS := false
	for _, list := range []struct {
		name string
		eps  []Endpoint
	}{{"endpoints.primary", o.Endpoints.Primary}, {"endpoints.backup", o.Endpoints.Backup}} {
		for i, ep := range list.eps {
			anyTLS = anyTLS || ep.TLS
			if ep.ServerName != "" && !ep.TLS {
				add(fmt.Sprintf("%s[%d].serverName", list.name, i), "only with tls: true (the endpoint is plaintext)")
			}
		}
	}
	t := o.TLS
	if !t.set() {
		return
	}
	if !anyTLS {
		add("tls", "set, but no endpoint has tls: true: the settings would be ignored")
	}
	if t.CAFile != "" {
		if _, err := loadCA(t.CAFile); err != nil {
			add("tls.caFile", "%v", err)
		}
	}
	switch {
	case t.CertFile != "" && t.KeyFile == "":
		add("tls.keyFile", "required with tls.certFile (the client certificate's private key)")
	case t.CertFile == "" && t.KeyFile != "":
		add("tls.certFile", "required with tls.keyFile (the client certificate)")
	case t.CertFile != "":
		if _, field, err := loadKeyPair(t); err != nil {
			add(field, "%v", err)
		}
	}
}

// loadCA reads a PEM bundle of CA certificates.
func loadCA(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseCABundle(path, b)
}

// ParseCABundle parses a PEM bundle of CA certificates read from the file
// name (which errors name). It refuses a bundle without a certificate.
// connector/oms uses it for the operator-management-service's CA bundle.
func ParseCABundle(name string, b []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", name, n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate in it (want a bundle of -----BEGIN CERTIFICATE----- blocks)", name)
	}
	return pool, nil
}

// loadKeyPair reads the client certificate and key; on error it says which
// setting is at fault. The key's bytes never reach an error.
func loadKeyPair(t TLS) (tls.Certificate, string, error) {
	certPEM, err := os.ReadFile(t.CertFile)
	if err != nil {
		return tls.Certificate{}, "tls.certFile", err
	}
	keyPEM, err := os.ReadFile(t.KeyFile)
	if err != nil {
		return tls.Certificate{}, "tls.keyFile", err
	}
	cert, err := ParseKeyPair(t.CertFile, certPEM, t.KeyFile, keyPEM)
	if err != nil {
		return tls.Certificate{}, "tls.certFile", err
	}
	return cert, "", nil
}

// ParseKeyPair parses a PEM client certificate and its key, read from the
// files certFile and keyFile (which errors name). The key's bytes never
// reach an error. connector/oms uses it for its client certificate.
func ParseKeyPair(certFile string, certPEM []byte, keyFile string, keyPEM []byte) (tls.Certificate, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// The message of X509KeyPair says which of the two is wrong, never
		// what the key holds.
		return tls.Certificate{}, fmt.Errorf("%s with %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}
