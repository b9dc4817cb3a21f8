package oms

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/smpp-connector/smpp-connector/connector/config"
)

// maxErrorBody bounds what of an error answer reaches the error.
const maxErrorBody = 300

// Fetch asks the service for the operators once, with the ETag of the
// configuration in force (If-None-Match). A new valid configuration is put
// in force, written to the last good file and returned with Changed; an
// unchanged one (304, or the same document) is returned without. On error
// (an *Error naming the cause) the configuration in force stays: an invalid
// answer is refused whole.
func (c *Client) Fetch(ctx context.Context) (Result, error) {
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	res, err := c.fetch(ctx)
	c.record(res, err)
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

func (c *Client) fetch(ctx context.Context) (Result, error) {
	changed, err := c.tls.reload()
	if err != nil {
		return Result{}, c.fail(ReasonFiles, err, "our TLS files cannot be used")
	}
	if changed {
		// Renewed files: the next connection presents and verifies with them.
		c.transport.CloseIdleConnections()
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint.String(), nil)
	if err != nil {
		return Result{}, c.fail(ReasonUnreachable, err, "request")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "smpp-connector")
	cur, _ := c.current()
	if cur != nil && cur.ETag != "" {
		req.Header.Set("If-None-Match", cur.ETag)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Result{}, c.explain(err)
	}
	defer resp.Body.Close()

	switch resp.StatusCode {
	case http.StatusOK:
		body, err := io.ReadAll(io.LimitReader(resp.Body, config.MaxFileSize+1))
		if err != nil {
			return Result{}, c.explain(err)
		}
		return c.take(body, resp.Header.Get("ETag"))
	case http.StatusNotModified:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		if cur == nil {
			return Result{}, c.fail(ReasonHTTP, nil, "HTTP 304 to a request without If-None-Match")
		}
		return c.unchanged(resp.Header.Get("ETag")), nil
	}
	snippet := errorBody(resp.Body)
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return Result{}, c.fail(ReasonHTTP, nil, "HTTP %d: the service refused our identity (%s): check that it allows our client certificate's name: %s",
			resp.StatusCode, cmp.Or(c.tls.subject(), "no client certificate"), snippet)
	case http.StatusNotFound:
		return Result{}, c.fail(ReasonHTTP, nil, "HTTP 404: no operators list here: check the base URL (-oms; the list is at %s below it): %s", OperatorsPath, snippet)
	}
	return Result{}, c.fail(ReasonHTTP, nil, "HTTP %d: %s", resp.StatusCode, snippet)
}

// take validates an answer with config.Parse and puts it in force.
func (c *Client) take(body []byte, etag string) (Result, error) {
	sum := sha256.Sum256(body)
	cur, curSum := c.current()
	if cur != nil && sum == curSum {
		return c.unchanged(etag), nil
	}
	f, err := config.Parse(body)
	if err == nil && c.opts.Check != nil {
		// What the connector cannot run (an operator without an endpoint
		// for its mode) is refused here, before it is in force or kept as
		// the last good: a restart from disk must start.
		err = c.opts.Check(f)
	}
	if err != nil {
		running := "none"
		if cur != nil {
			running = cur.Version
		}
		return Result{}, c.fail(ReasonInvalid, withoutLines(err), "version %s refused whole, the running version %s stays",
			versionOf(peekVersion(body), etag, sum), running)
	}
	r := Result{File: f, Version: versionOf(f.Version, etag, sum), ETag: etag, Changed: true}
	c.saveLastGood(body)
	c.setCurrent(r, sum)
	return r, nil
}

// versionOf is the document's version, else the ETag, else a content hash.
func versionOf(version, etag string, sum [sha256.Size]byte) string {
	return cmp.Or(version, strings.Trim(strings.TrimPrefix(etag, "W/"), `"`), "sha256:"+hex.EncodeToString(sum[:6]))
}

// peekVersion reads the version of a document that failed validation, for
// the message only.
func peekVersion(body []byte) string {
	var v struct {
		Version string `yaml:"version"`
	}
	_ = yaml.Unmarshal(body, &v)
	if len(v.Version) > 128 {
		return ""
	}
	return v.Version
}

// withoutLines drops the line numbers of config.Parse's errors: the answer
// is not a file anyone opens (and JSON is often one line); the operator and
// field say where.
func withoutLines(err error) error {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var ce *config.Error
		if errors.As(e, &ce) {
			ce.Line = 0
		}
	}
	return err
}

// errorBody is the start of an error answer, printable, for the error.
func errorBody(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, maxErrorBody))
	b = bytes.TrimSpace(b)
	s := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, string(b))
	if s == "" {
		return "(no body)"
	}
	return s
}
