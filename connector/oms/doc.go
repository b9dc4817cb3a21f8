// Package oms reads the operators' configuration from
// operator-management-service, the other source beside the operators file
// (connector/config). The story of one replica:
//
// At start, Load asks the service (GET /v1/smpp/operators, the contract in
// openapi.yaml) over HTTPS with mutual TLS: our client certificate and key,
// the service's CA bundle and server name, TLS 1.2 or newer, never plain
// HTTP, never a redirect. The answer is the operators file in JSON with a
// version, and it is checked by the file's own parser, config.Parse: the
// same fields, defaults and rules, errors naming the operator and field. A
// valid answer is put in force and written, as it came, to the last good
// file (temporary file renamed over it, mode 0600). When the service cannot
// be used (unreachable, a TLS or HTTP refusal, an invalid answer), Load runs
// the last good file instead and says so (Result.FromDisk, Status).
//
// Then Poll asks again every period with If-None-Match: 304 or the same
// document changes nothing; a new valid one is handed to the caller to
// apply; an invalid one is refused whole and logged, and the configuration
// in force stays (in memory and on disk).
//
// Before each request the certificate, key and CA bundle are read again and
// compared with what is in use (tlsfiles.go), so that a renewal by
// cert-manager or Vault Agent is presented from the next request on without
// a restart; a renewal caught half written keeps the previous pair until it
// is whole. Failures come back as *Error with a Reason for metrics and words
// for on-call (explain.go): "server certificate (CN=oms) is not signed by a
// CA of the bundle /etc/smpp/oms/ca.crt", "the service requires a client
// certificate and none is configured", "the service answers in plain HTTP".
//
// Status is the source's state for /readyz and metrics: reachable, last
// success, last error and its reason, the version in force, and whether it
// came from disk. Status.Problem is the sentence /readyz shows.
//
// Files: options.go (settings), client.go (Client, Result), fetch.go (one
// request), tlsfiles.go (our TLS material), transport.go (connections),
// explain.go and errors.go (what went wrong), lastgood.go (the file on
// disk), status.go, poll.go (Load, Poll).
package oms
