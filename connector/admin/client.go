package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client calls a replica's admin API (smpp-connector ctl).
type Client struct {
	// Base is the replica's HTTP address, e.g. http://10.0.0.5:8080.
	Base  string
	Token string
	HTTP  *http.Client
}

// List lists the replica's operators.
func (c *Client) List(ctx context.Context) (Listing, error) {
	var l Listing
	err := c.do(ctx, http.MethodGet, "operators", nil, &l)
	return l, err
}

// Pause pauses an operator's sending, with why and who.
func (c *Client) Pause(ctx context.Context, id, reason, by string) (Result, error) {
	return c.action(ctx, "operators/"+url.PathEscape(id)+"/pause", actionBody{Reason: reason, By: by})
}

// Resume resumes it.
func (c *Client) Resume(ctx context.Context, id string) (Result, error) {
	return c.action(ctx, "operators/"+url.PathEscape(id)+"/resume", nil)
}

// Rebind renews its binds (on the owning replica).
func (c *Client) Rebind(ctx context.Context, id string) (Result, error) {
	return c.action(ctx, "operators/"+url.PathEscape(id)+"/rebind", nil)
}

// FailBack brings its binds back to the primary endpoint (on the owning
// replica).
func (c *Client) FailBack(ctx context.Context, id string) (Result, error) {
	return c.action(ctx, "operators/"+url.PathEscape(id)+"/failback", nil)
}

// Drain leaves the replica's operators to the other replicas.
func (c *Client) Drain(ctx context.Context) (Result, error) { return c.action(ctx, "drain", nil) }

// Undrain lets the replica take operators again.
func (c *Client) Undrain(ctx context.Context) (Result, error) { return c.action(ctx, "undrain", nil) }

func (c *Client) action(ctx context.Context, path string, body any) (Result, error) {
	var r Result
	err := c.do(ctx, http.MethodPost, path, body, &r)
	return r, err
}

// do sends one request; an answer other than 200 is an error carrying the
// API's message.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	u := strings.TrimRight(c.Base, "/") + Prefix + path
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("admin API %s: %w", u, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("admin API %s: %w", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("admin API %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		var r Result
		if json.Unmarshal(b, &r) == nil && r.Message != "" {
			return fmt.Errorf("admin API %s: %s: %s", u, resp.Status, r.Message)
		}
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("admin API %s: %s: is the admin API on (SMPP_ADMIN_TOKEN or -admin-token-file on the connector)?", u, resp.Status)
		}
		return fmt.Errorf("admin API %s: %s", u, resp.Status)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("admin API %s: answer: %w", u, err)
	}
	return nil
}
