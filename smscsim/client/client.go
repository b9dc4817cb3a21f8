// Package client is a Go client for the simulator's control API (package
// smscsim/control), one method per route. Payloads are the API's wire types
// (package smscsim/api): the client needs nothing else of the simulator.
//
//	c := client.New("http://127.0.0.1:8775", "")
//	_, err := c.AddFault(ctx, api.Spec{Type: "throttle", Params: json.RawMessage(`{"tps":10}`)})
//
// Every error returned for an HTTP answer is an *APIError carrying the status,
// the server's message and the field at fault.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/api"
)

// Client calls one simulator's control API.
type Client struct {
	base  string
	token string
	// HTTP is the client used for requests (a 30 s timeout by default).
	HTTP *http.Client
}

// New returns a client for the API at base ("http://127.0.0.1:8775"); token
// is sent as a bearer token when not empty.
func New(base, token string) *Client {
	return &Client{base: strings.TrimRight(base, "/"), token: token, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// APIError is an error answer from the API.
type APIError struct {
	Status  int    // HTTP status
	Message string // the server's message
	Field   string // the field at fault, when the server named one
	Line    int    // the scenario line, when known
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("smscsim API: %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
	if e.Field != "" && !strings.Contains(e.Message, e.Field) {
		s += " (field " + e.Field + ")"
	}
	return s
}

// StatusOf returns the HTTP status of an *APIError in err's chain, or 0.
func StatusOf(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// IsNotFound reports whether err is a 404 from the API.
func IsNotFound(err error) bool { return StatusOf(err) == http.StatusNotFound }

// do sends a request; body, when not nil, is JSON-encoded unless it is a
// []byte; out, when not nil, receives the JSON answer.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body, out any, want int) error {
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
		ct = "application/yaml"
	default:
		buf, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(buf)
		ct = "application/json"
	}
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode != want {
		e := &APIError{Status: resp.StatusCode}
		var eb api.ErrorBody
		if json.Unmarshal(data, &eb) == nil && eb.Error != "" {
			e.Message, e.Field, e.Line = eb.Error, eb.Field, eb.Line
		} else {
			e.Message = strings.TrimSpace(string(data))
			if e.Message == "" {
				e.Message = http.StatusText(resp.StatusCode)
			}
		}
		return e
	}
	if out == nil {
		return nil
	}
	if s, ok := out.(*string); ok {
		*s = string(data)
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

func esc(s string) string { return url.PathEscape(s) }

// Operators lists the operators (GET /operators).
func (c *Client) Operators(ctx context.Context) ([]api.Operator, error) {
	var out []api.Operator
	return out, c.do(ctx, "GET", "/operators", nil, nil, &out, http.StatusOK)
}

// Operator returns one operator (GET /operators/{id}).
func (c *Client) Operator(ctx context.Context, id string) (api.Operator, error) {
	var out api.Operator
	return out, c.do(ctx, "GET", "/operators/"+esc(id), nil, nil, &out, http.StatusOK)
}

// SetPasswords replaces the passwords an account accepts; give the old and
// the new one for a rotation overlap (PUT /operators/{id}/accounts/{account}/passwords).
func (c *Client) SetPasswords(ctx context.Context, operator, account string, passwords ...string) error {
	return c.do(ctx, "PUT", "/operators/"+esc(operator)+"/accounts/"+esc(account)+"/passwords", nil,
		api.Passwords{Passwords: passwords}, nil, http.StatusNoContent)
}

// InjectMO queues an MO message for the operator's receivers (POST /operators/{id}/mo).
func (c *Client) InjectMO(ctx context.Context, operator string, mo api.MO) (api.MOQueued, error) {
	var out api.MOQueued
	return out, c.do(ctx, "POST", "/operators/"+esc(operator)+"/mo", nil, mo, &out, http.StatusAccepted)
}

// Faults lists the active faults (GET /faults).
func (c *Client) Faults(ctx context.Context) ([]api.Fault, error) {
	var out []api.Fault
	return out, c.do(ctx, "GET", "/faults", nil, nil, &out, http.StatusOK)
}

// AddFault adds a fault (POST /faults).
func (c *Client) AddFault(ctx context.Context, spec api.Spec) (api.Fault, error) {
	var out api.Fault
	return out, c.do(ctx, "POST", "/faults", nil, spec, &out, http.StatusCreated)
}

// GetFault returns an active fault (GET /faults/{name}).
func (c *Client) GetFault(ctx context.Context, name string) (api.Fault, error) {
	var out api.Fault
	return out, c.do(ctx, "GET", "/faults/"+esc(name), nil, nil, &out, http.StatusOK)
}

// RemoveFault removes a fault (DELETE /faults/{name}).
func (c *Client) RemoveFault(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", "/faults/"+esc(name), nil, nil, nil, http.StatusNoContent)
}

// FaultTypes lists the registered fault types (GET /faults/types).
func (c *Client) FaultTypes(ctx context.Context) ([]api.FaultType, error) {
	var out []api.FaultType
	return out, c.do(ctx, "GET", "/faults/types", nil, nil, &out, http.StatusOK)
}

// Stats returns the counters, sessions and queues (GET /stats).
func (c *Client) Stats(ctx context.Context) (api.Snapshot, error) {
	var out api.Snapshot
	return out, c.do(ctx, "GET", "/stats", nil, nil, &out, http.StatusOK)
}

// Meter returns the TPS audit; account ("operator/account") narrows it to one
// account, "" returns all (GET /meter).
func (c *Client) Meter(ctx context.Context, account string) ([]api.MeterReport, error) {
	var q url.Values
	if account != "" {
		q = url.Values{"account": {account}}
	}
	var out []api.MeterReport
	return out, c.do(ctx, "GET", "/meter", q, nil, &out, http.StatusOK)
}

// FilterQuery encodes a recorder filter as GET /pdus query parameters.
func FilterQuery(f api.Filter) url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("operator", f.Operator)
	set("account", f.Account)
	set("command", f.Command)
	set("destination", f.DestPrefix)
	if !f.Since.IsZero() {
		q.Set("since", f.Since.Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.Format(time.RFC3339Nano))
	}
	if f.AfterSeq > 0 {
		q.Set("afterSeq", strconv.FormatUint(f.AfterSeq, 10))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}

// PDUs queries the recorder of received PDUs (GET /pdus).
func (c *Client) PDUs(ctx context.Context, f api.Filter) (api.PDUs, error) {
	var out api.PDUs
	return out, c.do(ctx, "GET", "/pdus", FilterQuery(f), nil, &out, http.StatusOK)
}

// Reset stops a running scenario and clears faults, counters, the recorder
// and the meter (POST /reset).
func (c *Client) Reset(ctx context.Context) error {
	return c.do(ctx, "POST", "/reset", nil, nil, nil, http.StatusNoContent)
}

// LoadScenario loads a scenario (YAML or JSON text) and starts its timeline
// (POST /scenario). With replace, a running scenario is stopped first instead
// of the call failing with 409.
func (c *Client) LoadScenario(ctx context.Context, file []byte, replace bool) (api.ScenarioStatus, error) {
	var q url.Values
	if replace {
		q = url.Values{"replace": {"true"}}
	}
	if file == nil {
		file = []byte{}
	}
	var out api.ScenarioStatus
	return out, c.do(ctx, "POST", "/scenario", q, file, &out, http.StatusCreated)
}

// ScenarioStatus reports the progress of the scenario loaded last (GET /scenario).
func (c *Client) ScenarioStatus(ctx context.Context) (api.ScenarioStatus, error) {
	var out api.ScenarioStatus
	return out, c.do(ctx, "GET", "/scenario", nil, nil, &out, http.StatusOK)
}

// StopScenario stops the scenario's timeline (DELETE /scenario).
func (c *Client) StopScenario(ctx context.Context) error {
	return c.do(ctx, "DELETE", "/scenario", nil, nil, nil, http.StatusNoContent)
}

// Metrics returns the Prometheus exposition text (GET /metrics).
func (c *Client) Metrics(ctx context.Context) (string, error) {
	var out string
	return out, c.do(ctx, "GET", "/metrics", nil, nil, &out, http.StatusOK)
}

// Health checks liveness (GET /healthz).
func (c *Client) Health(ctx context.Context) (api.Health, error) {
	var out api.Health
	return out, c.do(ctx, "GET", "/healthz", nil, nil, &out, http.StatusOK)
}

// OpenAPI returns the API's OpenAPI document (GET /openapi.json).
func (c *Client) OpenAPI(ctx context.Context) (json.RawMessage, error) {
	var out json.RawMessage
	return out, c.do(ctx, "GET", "/openapi.json", nil, nil, &out, http.StatusOK)
}
