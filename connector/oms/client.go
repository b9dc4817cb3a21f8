package oms

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/config"
)

// Client fetches the operators from operator-management-service. Its
// methods are safe for concurrent use; fetches run one at a time.
type Client struct {
	opts       Options
	endpoint   *url.URL // URL + OperatorsPath
	serverName string
	timeout    time.Duration
	log        *slog.Logger
	tls        *material
	transport  *http.Transport
	http       *http.Client

	fetchMu sync.Mutex // one fetch (or Load) at a time

	mu      sync.Mutex
	cur     *Result // the configuration in force; nil before the first
	curHash [sha256.Size]byte
	status  Status
}

// Result is a configuration from the service (or, at start, from the last
// good file).
type Result struct {
	// File is the configuration, parsed and validated by config.Parse: the
	// same document, defaults and rules as the operators file. It is
	// shared with later results: read it, do not change it.
	File *config.File
	// Version is the document's version field, else its ETag, else
	// "sha256:" and the start of its content's hash.
	Version string
	// ETag is the service's ETag for it ("" when read from disk).
	ETag string
	// Changed says that File is not the configuration in force before
	// this call: apply it.
	Changed bool
	// FromDisk says that File was read from the last good file because the
	// service could not be used.
	FromDisk bool
}

// New checks the options and reads the TLS files (an error names the file
// or setting); it makes no request.
func New(o Options) (*Client, error) {
	endpoint, serverName, err := o.check()
	if err != nil {
		return nil, err
	}
	log := cmp.Or(o.Logger, slog.Default()).With("component", "oms")
	m := &material{certFile: o.CertFile, keyFile: o.KeyFile, caFile: o.CAFile, log: log}
	if err := m.load(); err != nil {
		return nil, fmt.Errorf("operator-management-service: %w", err)
	}
	if o.CertFile == "" {
		log.Warn("operator-management-service: no client certificate configured (-oms-cert, -oms-key): a service requiring mutual TLS will refuse us")
	}
	c := &Client{
		opts: o, endpoint: endpoint, serverName: serverName,
		timeout: cmp.Or(o.Timeout, DefaultTimeout), log: log, tls: m,
		transport: newTransport(m, serverName),
	}
	c.http = &http.Client{
		Transport: c.transport,
		// The contract has no redirects; following one could leave mutual TLS.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c.status = Status{URL: endpoint.String(), CacheFile: o.CacheFile}
	return c, nil
}

// Current is the configuration in force, false before the first.
func (c *Client) Current() (Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		return Result{}, false
	}
	r := *c.cur
	r.Changed = false
	return r, true
}

// Close closes the idle connection to the service.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// unchanged is the configuration in force, answered again: no longer from
// disk, with the ETag of the answer.
func (c *Client) unchanged(etag string) Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur.FromDisk = false
	if etag != "" {
		c.cur.ETag = etag
	}
	r := *c.cur
	r.Changed = false
	return r
}

// setCurrent puts a configuration in force.
func (c *Client) setCurrent(r Result, sum [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur, c.curHash = &r, sum
}

// current is the configuration in force (nil before the first) and the
// hash of its document.
func (c *Client) current() (*Result, [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		return nil, c.curHash
	}
	r := *c.cur
	return &r, c.curHash
}
