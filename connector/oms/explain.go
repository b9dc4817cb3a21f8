package oms

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"strings"
)

// explain turns a failed request into an *Error whose words say what to
// check: which certificate, which file, which setting. The tls, x509 and net
// error stays wrapped.
func (c *Client) explain(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is in the message already
	}
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		header    tls.RecordHeaderError
		dnsErr    *net.DNSError
	)
	switch {
	case errors.As(err, &unknownCA):
		subject := "(" + certName(unknownCA.Cert) + ")"
		if c.opts.CAFile == "" {
			return c.fail(ReasonTLS, err, "server certificate %s is not signed by a CA the system trusts: set the service's CA bundle (-oms-ca)", subject)
		}
		return c.fail(ReasonTLS, err, "server certificate %s is not signed by a CA of the bundle %s (-oms-ca)", subject, c.opts.CAFile)
	case errors.As(err, &hostname):
		return c.fail(ReasonTLS, err, "server certificate is not valid for %q (it is for %s): set -oms-server-name to one of those, or use it in the URL",
			hostname.Host, strings.Join(certHosts(hostname.Certificate), ", "))
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return c.fail(ReasonTLS, err, "server certificate (%s) has expired or is not valid yet (check the clocks)", certName(invalid.Cert))
	case errors.As(err, &verify):
		return c.fail(ReasonTLS, err, "server certificate refused")
	case errors.As(err, &header) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		// net/http turns the RecordHeaderError into a plain error.
		return c.fail(ReasonTLS, err, "the service answers in plain HTTP, not TLS: check the URL's port (the contract is HTTPS with mutual TLS)")
	}
	if alert, ok := remoteAlert(err); ok {
		return c.explainAlert(err, alert)
	}
	if s := err.Error(); strings.Contains(s, "unsupported protocol version") || strings.Contains(s, "protocol version not supported") {
		return c.fail(ReasonTLS, err, "the service offers no TLS 1.2 or newer")
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return c.fail(ReasonUnreachable, err, "no answer within %s", c.timeout)
	case errors.Is(err, context.Canceled):
		return c.fail(ReasonUnreachable, err, "request cancelled")
	case errors.As(err, &dnsErr):
		return c.fail(ReasonUnreachable, err, "cannot resolve the service's host")
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return c.fail(ReasonUnreachable, err, "cannot connect")
	}
	return c.fail(ReasonUnreachable, err, "request failed")
}

// explainAlert explains a TLS alert the service sent: with TLS 1.3 a
// refused client certificate shows only once the request is written.
func (c *Client) explainAlert(err error, alert string) *Error {
	certAlert := strings.Contains(alert, "certificate") || alert == "tls: handshake failure" || alert == "tls: access denied"
	switch {
	case certAlert && c.opts.CertFile == "":
		return c.fail(ReasonTLS, err, "the service requires a client certificate and none is configured (set -oms-cert and -oms-key)")
	case certAlert:
		return c.fail(ReasonTLS, err, "the service refused our client certificate %s (%s): check that it is signed by a CA the service trusts, not expired, and for a name it allows",
			c.opts.CertFile, c.tls.subject())
	case strings.Contains(alert, "protocol version"):
		return c.fail(ReasonTLS, err, "the service accepts no TLS version we offer (TLS 1.2 or newer)")
	}
	return c.fail(ReasonTLS, err, "the service ended the TLS handshake")
}

// remoteAlert is the text of a TLS alert received from the service
// ("tls: certificate required"). crypto/tls keeps its alert type
// unexported: it comes as a *net.OpError with Op "remote error".
func remoteAlert(err error) (string, bool) {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" && op.Err != nil {
		return op.Err.Error(), true
	}
	if _, after, ok := strings.Cut(err.Error(), "remote error: "); ok {
		return after, true
	}
	return "", false
}

func certName(c *x509.Certificate) string {
	if c == nil {
		return "unknown"
	}
	return c.Subject.String()
}

// certHosts are the names and addresses a certificate is valid for.
func certHosts(c *x509.Certificate) []string {
	if c == nil {
		return nil
	}
	hosts := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		hosts = append(hosts, ip.String())
	}
	if len(hosts) == 0 {
		hosts = append(hosts, "no name: CN="+c.Subject.CommonName)
	}
	return hosts
}
