package oms

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/config"
)

// material is our side of mutual TLS: the client certificate and the CA
// pool, read from their files and read again before each request, so that a
// certificate renewed by cert-manager or Vault Agent is used without a
// restart. The files are compared by content (renewals may keep size and
// modification time within the clock's granularity); only a change is
// parsed.
//
// A renewal is not always written in one step (a certificate before its
// key): when files that were good become unusable, the last good pair and
// pool stay in use and a warning says why, once, until they are good again.
type material struct {
	certFile, keyFile, caFile string
	log                       *slog.Logger

	mu              sync.Mutex
	certPEM, keyPEM []byte
	caPEM           []byte
	cert            *tls.Certificate // nil: none configured
	certSubject     string           // "CN=..., expires ..." for errors
	pool            *x509.CertPool   // nil: the system roots
	warned          string           // the problem last warned about
}

// load reads the files the first time: any problem is an error.
func (m *material) load() error {
	_, err := m.reload()
	return err
}

// reload reads the files and reports whether the material in use changed.
// An error means nothing usable was ever read; later problems are logged
// and the previous material kept.
func (m *material) reload() (changed bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	if m.certFile != "" {
		c, err := m.reloadCert()
		changed = changed || c
		errs = append(errs, err)
	}
	if m.caFile != "" {
		c, err := m.reloadCA()
		changed = changed || c
		errs = append(errs, err)
	}
	problem := errors.Join(errs...)
	switch {
	case problem == nil:
		m.warned = ""
	case m.usable():
		if problem.Error() != m.warned {
			m.warned = problem.Error()
			m.log.Warn("operator-management-service: renewed TLS files not usable yet, the previous ones stay in use", "error", problem)
		}
		problem = nil
	}
	return changed, problem
}

// usable says whether every configured part has been read once.
func (m *material) usable() bool {
	return (m.certFile == "" || m.cert != nil) && (m.caFile == "" || m.pool != nil)
}

func (m *material) reloadCert() (bool, error) {
	certPEM, err := os.ReadFile(m.certFile)
	if err != nil {
		return false, fmt.Errorf("client certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(m.keyFile)
	if err != nil {
		return false, fmt.Errorf("client certificate's key: %w", err)
	}
	if m.cert != nil && bytes.Equal(certPEM, m.certPEM) && bytes.Equal(keyPEM, m.keyPEM) {
		return false, nil
	}
	cert, err := config.ParseKeyPair(m.certFile, certPEM, m.keyFile, keyPEM)
	if err != nil {
		return false, fmt.Errorf("client certificate: %w", err)
	}
	m.cert, m.certPEM, m.keyPEM = &cert, certPEM, keyPEM
	m.certSubject = ""
	if leaf := cert.Leaf; leaf != nil {
		m.certSubject = fmt.Sprintf("%s, expires %s", leaf.Subject, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return true, nil
}

func (m *material) reloadCA() (bool, error) {
	b, err := os.ReadFile(m.caFile)
	if err != nil {
		return false, fmt.Errorf("CA bundle: %w", err)
	}
	if m.pool != nil && bytes.Equal(b, m.caPEM) {
		return false, nil
	}
	pool, err := config.ParseCABundle(m.caFile, b)
	if err != nil {
		return false, fmt.Errorf("CA bundle: %w", err)
	}
	m.pool, m.caPEM = pool, b
	return true, nil
}

// config is the TLS configuration of one connection: TLS 1.2 or later, the
// service's certificate verified against the CA pool for serverName, our
// certificate presented when asked for.
func (m *material) config(serverName string) *tls.Config {
	m.mu.Lock()
	defer m.mu.Unlock()
	cert := m.cert
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: serverName,
		RootCAs:    m.pool,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if cert == nil {
				return &tls.Certificate{}, nil // none: the service decides
			}
			return cert, nil
		},
	}
}

// subject describes our certificate for errors ("" without one).
func (m *material) subject() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.certSubject
}
