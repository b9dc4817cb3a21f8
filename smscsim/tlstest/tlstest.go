// Package tlstest makes a throwaway certificate authority and certificates
// signed by it, in memory, for tests that run the simulator's TLS listener
// (server.OperatorConfig.TLS) and dial it as an ESME would.
//
//	ca, cert := tlstest.New(t) // CA + server cert for localhost, 127.0.0.1, ::1
//	cfg.Operators[0].TLS = &server.TLSConfig{Config: tlstest.ServerConfig(cert)}
//	conn := smpptest.DialTLS(t, addr, ca.ClientConfig("localhost"))
//
// For a process that reads files (smscsim serve, the connector's config),
// CA.WriteFile and Cert.WriteFiles write them as PEM into a directory.
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// CA is a certificate authority that lives for one test.
type CA struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// PEM is the CA certificate, for a client's root CAs (or the server's
	// client CAs with mutual TLS).
	PEM []byte
}

// Cert is a certificate issued by a CA, with its key.
type Cert struct {
	CertPEM, KeyPEM []byte
	TLS             tls.Certificate
}

var serial atomic.Int64

// NewCA makes a CA or fails the test.
func NewCA(t testing.TB) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: "smscsim test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("tlstest: CA: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("tlstest: CA: %v", err)
	}
	return &CA{Cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// Issue makes a certificate for hosts (DNS names or IP addresses) usable by
// a server and by a client (mutual TLS), signed by the CA.
func (ca *CA) Issue(t testing.TB, commonName string, hosts ...string) *Cert {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)),
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("tlstest: issue %s: %v", commonName, err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatalf("tlstest: key: %v", err)
	}
	c := &Cert{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
	}
	if c.TLS, err = tls.X509KeyPair(c.CertPEM, c.KeyPEM); err != nil {
		t.Fatalf("tlstest: key pair: %v", err)
	}
	return c
}

// New makes a CA and a server certificate for localhost, 127.0.0.1 and ::1.
func New(t testing.TB) (*CA, *Cert) {
	t.Helper()
	ca := NewCA(t)
	return ca, ca.Issue(t, "localhost", "localhost", "127.0.0.1", "::1")
}

// Pool is a certificate pool holding the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// ClientConfig trusts the CA only and expects serverName (an IP address
// works too: Go checks it against the certificate's IP addresses).
func (ca *CA) ClientConfig(serverName string) *tls.Config {
	return &tls.Config{RootCAs: ca.Pool(), ServerName: serverName, MinVersion: tls.VersionTLS12}
}

// ServerConfig serves cert.
func ServerConfig(cert *Cert) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert.TLS}, MinVersion: tls.VersionTLS12}
}

// WriteFile writes the CA certificate as PEM into dir and returns its path.
func (ca *CA) WriteFile(t testing.TB, dir string) string {
	t.Helper()
	return write(t, filepath.Join(dir, "ca.pem"), ca.PEM)
}

// WriteFiles writes the certificate and its key as PEM into dir, named
// after name, and returns their paths.
func (c *Cert) WriteFiles(t testing.TB, dir, name string) (certFile, keyFile string) {
	t.Helper()
	return write(t, filepath.Join(dir, name+".pem"), c.CertPEM), write(t, filepath.Join(dir, name+"-key.pem"), c.KeyPEM)
}

func write(t testing.TB, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatalf("tlstest: %v", err)
	}
	return path
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("tlstest: key: %v", err)
	}
	return key
}
