package oms

import "fmt"

// Reasons a fetch failed, for logs and metric labels.
const (
	// ReasonUnreachable: no answer (name resolution, TCP connect, timeout,
	// connection lost).
	ReasonUnreachable = "unreachable"
	// ReasonTLS: the TLS handshake failed (the service's certificate, ours,
	// the protocol version).
	ReasonTLS = "tls"
	// ReasonFiles: our certificate, key or CA bundle cannot be used.
	ReasonFiles = "files"
	// ReasonHTTP: an answer other than 200 and 304.
	ReasonHTTP = "http"
	// ReasonInvalid: the answer is not a valid operators configuration.
	ReasonInvalid = "invalid"
)

// Error is a failed fetch: why (Reason), in words an on-call engineer can
// act on (Msg), with the underlying error (tls, x509, net, config.Parse's
// *config.Error values) kept for errors.As.
type Error struct {
	URL    string
	Reason string
	Msg    string
	Err    error
}

func (e *Error) Error() string {
	s := "operator-management-service " + e.URL + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

func (c *Client) fail(reason string, err error, format string, args ...any) *Error {
	return &Error{URL: c.endpoint.String(), Reason: reason, Msg: fmt.Sprintf(format, args...), Err: err}
}
