package oms

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/config"
)

// OperatorsPath is where the service lists the operators, below its base
// URL (openapi.yaml).
const OperatorsPath = "/v1/smpp/operators"

// DefaultTimeout bounds one request when Options.Timeout is not set.
const DefaultTimeout = 10 * time.Second

// Options say how to reach the service.
type Options struct {
	// URL is the service's base URL: https only. The operators are asked
	// at URL + OperatorsPath.
	URL string
	// CertFile and KeyFile are our client certificate (with its
	// intermediates) and its key, PEM. Both or neither: without them no
	// certificate is presented, which a service requiring mutual TLS
	// refuses (and the error says so).
	CertFile, KeyFile string
	// CAFile is the PEM bundle the service's certificate must chain to
	// (default: the system roots).
	CAFile string
	// ServerName is the name the service's certificate must carry
	// (default: the URL's host).
	ServerName string
	// CacheFile keeps the last good configuration (the service's answer as
	// it came, mode 0600), read by Load when the service cannot be reached.
	// Required.
	CacheFile string
	// Timeout bounds one request, connection and TLS handshake included
	// (default DefaultTimeout).
	Timeout time.Duration
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// Check, when set, refuses a valid answer the connector could not run
	// (the same refusal as an invalid one: not in force, not kept on disk).
	Check func(*config.File) error
}

// OptionsFrom are the options the service settings give (SMPP_OMS_*, -oms*).
func OptionsFrom(s config.OMS) Options {
	return Options{
		URL: s.URL, CertFile: s.CertFile, KeyFile: s.KeyFile, CAFile: s.CAFile,
		ServerName: s.ServerName, CacheFile: s.CacheFile,
	}
}

// check validates the options and returns the operators URL and the
// server name to verify.
func (o Options) check() (endpoint *url.URL, serverName string, err error) {
	u, perr := url.Parse(o.URL)
	if perr != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return nil, "", fmt.Errorf("operator-management-service URL %q: want https://host[:port] (operator configuration travels over mutual TLS only)", o.URL)
	}
	var errs []error
	switch {
	case o.CertFile != "" && o.KeyFile == "":
		errs = append(errs, errors.New("a client certificate needs its key: set -oms-key (SMPP_OMS_KEY)"))
	case o.CertFile == "" && o.KeyFile != "":
		errs = append(errs, errors.New("a key needs its client certificate: set -oms-cert (SMPP_OMS_CERT)"))
	}
	if o.CacheFile == "" {
		errs = append(errs, errors.New("no file for the last good configuration: set -oms-cache (SMPP_OMS_CACHE)"))
	}
	if len(errs) > 0 {
		return nil, "", fmt.Errorf("operator-management-service: %w", errors.Join(errs...))
	}
	return u.JoinPath(OperatorsPath), cmp.Or(o.ServerName, u.Hostname()), nil
}
