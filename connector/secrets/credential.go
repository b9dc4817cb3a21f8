// Package secrets reads the operators' SMPP credentials (system_id,
// password, optional system_type) and notices when they are rotated: from
// Vault's KV v2 engine (Vault), or from files rendered by Vault Agent or the
// Secrets Store CSI driver (File).
//
// Passwords never appear in logs, errors or formatted values: Credential
// redacts itself in every fmt verb, in slog and in JSON, and errors name the
// operator, the path and the key, never a value.
package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SMPP 3.4 limits (C-Octet strings, without the terminating NUL).
const (
	MaxSystemIDLen   = 15
	MaxPasswordLen   = 8
	MaxSystemTypeLen = 12
)

// Keys of a credential, in Vault and in rendered files.
const (
	KeySystemID   = "system_id"
	KeyPassword   = "password"
	KeySystemType = "system_type"
)

// Credential is what an ESME binds with. Keep it in exported fields or
// variables: fmt cannot call String on a value it reaches through an
// unexported struct field, so a Credential held in one would be printed raw
// by %v of the enclosing struct.
type Credential struct {
	SystemID   string `json:"systemId"`
	Password   string `json:"-" yaml:"-"`
	SystemType string `json:"systemType,omitempty"`
	// Version tells credentials apart: the Vault secret version, or
	// "sha256:<first 12 hex digits>" of a rendered file.
	Version string `json:"version"`
	// Revision is the secret store's version number of the credential
	// (Vault KV v2's version, or the key "version" of a rendered file, as
	// a Vault Agent template can write it); 0 when unknown.
	Revision int `json:"revision,omitempty"`
	// Created is when that version was written (KV v2's created_time, or
	// the key "created_time" of a rendered file, RFC 3339): the
	// credential's age for the rotation schedule; zero when unknown.
	Created time.Time `json:"created,omitzero"`
}

// Keys a rendered credential file may carry beside the credential: the
// secret's KV v2 metadata, e.g. from a Vault Agent template
// ({{ .Data.metadata.version }}, {{ .Data.metadata.created_time }}).
const (
	KeyVersion     = "version"
	KeyCreatedTime = "created_time"
)

const redacted = "[redacted]"

func (c Credential) redactedPassword() string {
	if c.Password == "" {
		return ""
	}
	return redacted
}

// String shows everything but the password.
func (c Credential) String() string {
	return fmt.Sprintf("{SystemID:%q SystemType:%q Password:%s Version:%q}",
		c.SystemID, c.SystemType, c.redactedPassword(), c.Version)
}

// GoString is %#v: without the password too.
func (c Credential) GoString() string {
	return fmt.Sprintf("secrets.Credential{SystemID:%q, Password:%q, SystemType:%q, Version:%q}",
		c.SystemID, c.redactedPassword(), c.SystemType, c.Version)
}

// Format implements fmt.Formatter, so that no verb (%d, %x, ...) reaches the
// fields: %#v is GoString, every other verb formats String.
func (c Credential) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, c.GoString())
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), c.String())
}

// LogValue implements slog.LogValuer.
func (c Credential) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("systemId", c.SystemID),
		slog.String("systemType", c.SystemType),
		slog.String("password", c.redactedPassword()),
		slog.String("version", c.Version),
	)
}

// Validate checks the credential against SMPP's limits; errors name the key.
func (c Credential) Validate() error {
	var errs []error
	switch {
	case c.SystemID == "":
		errs = append(errs, fmt.Errorf("%s: missing", KeySystemID))
	case len(c.SystemID) > MaxSystemIDLen:
		errs = append(errs, fmt.Errorf("%s: %d characters, longer than SMPP's %d", KeySystemID, len(c.SystemID), MaxSystemIDLen))
	}
	switch {
	case c.Password == "":
		errs = append(errs, fmt.Errorf("%s: missing", KeyPassword))
	case len(c.Password) > MaxPasswordLen:
		// The length of a password is a hint about it: not shown.
		errs = append(errs, fmt.Errorf("%s: longer than SMPP's %d characters", KeyPassword, MaxPasswordLen))
	}
	if len(c.SystemType) > MaxSystemTypeLen {
		errs = append(errs, fmt.Errorf("%s: %d characters, longer than SMPP's %d", KeySystemType, len(c.SystemType), MaxSystemTypeLen))
	}
	for _, kv := range []struct{ k, v string }{{KeySystemID, c.SystemID}, {KeyPassword, c.Password}, {KeySystemType, c.SystemType}} {
		if !printableASCII(kv.v) {
			errs = append(errs, fmt.Errorf("%s: SMPP allows printable ASCII only", kv.k))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	return nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// fromMap builds a credential from the keys of a Vault secret or a rendered
// file. Values must be strings.
func fromMap(m map[string]any) (Credential, error) {
	return fromMapWith(m, false)
}

// fromFileMap is fromMap for a rendered file, which may also carry the
// secret's metadata (KeyVersion, KeyCreatedTime). A Vault secret's data does
// not: its metadata comes from KV v2 itself, and a "version" among its data
// is the operator's business.
func fromFileMap(m map[string]any) (Credential, error) {
	return fromMapWith(m, true)
}

func fromMapWith(m map[string]any, metadata bool) (Credential, error) {
	var c Credential
	var errs []error
	for _, f := range []struct {
		key string
		dst *string
	}{{KeySystemID, &c.SystemID}, {KeyPassword, &c.Password}, {KeySystemType, &c.SystemType}} {
		v, ok := m[f.key]
		if !ok || v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: want a string, got %s", f.key, typeName(v)))
			continue
		}
		*f.dst = s
	}
	if v, ok := m[KeyVersion]; ok && v != nil && metadata {
		switch n := v.(type) {
		case float64:
			if n >= 0 && n == float64(int(n)) {
				c.Revision = int(n)
			} else {
				errs = append(errs, fmt.Errorf("%s: want a whole number", KeyVersion))
			}
		case string:
			r, err := strconv.Atoi(strings.TrimSpace(n))
			if err != nil || r < 0 {
				errs = append(errs, fmt.Errorf("%s: want a whole number", KeyVersion))
			}
			c.Revision = r
		default:
			errs = append(errs, fmt.Errorf("%s: want a number, got %s", KeyVersion, typeName(v)))
		}
	}
	if v, ok := m[KeyCreatedTime]; ok && v != nil && metadata {
		s, _ := v.(string)
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: want an RFC 3339 time (2026-12-07T10:00:00Z)", KeyCreatedTime))
		}
		c.Created = t
	}
	if len(errs) > 0 {
		return Credential{}, fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	return c, c.Validate()
}

func typeName(v any) string {
	switch v.(type) {
	case float64, int, int64, uint64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", v)
}

// Errors, to be told apart with errors.Is.
var (
	// ErrNotFound: no secret (or file) where the configuration says.
	ErrNotFound = errors.New("not found")
	// ErrPermissionDenied: Vault refused the read (policy, expired token).
	ErrPermissionDenied = errors.New("permission denied")
	// ErrInvalid: the secret is there but is not a usable credential.
	ErrInvalid = errors.New("invalid credential")
	// ErrUnknownOperator: the source has no credential for that operator.
	ErrUnknownOperator = errors.New("unknown operator")
	// ErrUnavailable: the source could not answer, which says nothing about
	// the credential: Vault unreachable, too slow, sealed, a standby, an
	// HTTP 5xx or 429, or the connector's own Vault token no longer valid
	// and no new login possible (ErrTokenInvalid). Cached serves the last
	// credential read for these, and only for these.
	ErrUnavailable = errors.New("credential source unavailable")
	// ErrTokenInvalid: Vault refused the connector's token itself (expired
	// or revoked) and logging in again failed or is not possible (token
	// auth). It comes with ErrUnavailable, not with ErrPermissionDenied.
	ErrTokenInvalid = errors.New("vault token no longer valid")
)

// unavailableError marks err as ErrUnavailable without changing its text.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string        { return e.err.Error() }
func (e *unavailableError) Unwrap() error        { return e.err }
func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

func unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	return &unavailableError{err: err}
}

// Reasons of a failed Get, as Reason names them (the reason label of
// smpp_credential_source_errors_total).
const (
	ReasonUnavailable     = "unavailable"
	ReasonTimeout         = "timeout"
	ReasonTokenInvalid    = "token_invalid"
	ReasonNotFound        = "not_found"
	ReasonPermission      = "permission_denied"
	ReasonInvalid         = "invalid"
	ReasonUnknownOperator = "unknown_operator"
	ReasonOther           = "other"
)

// Reason names the class of a Get error, for metrics: one of the Reason*
// constants.
func Reason(err error) string {
	switch {
	case errors.Is(err, ErrTokenInvalid):
		return ReasonTokenInvalid
	case errors.Is(err, context.DeadlineExceeded):
		return ReasonTimeout
	case errors.Is(err, ErrUnavailable):
		return ReasonUnavailable
	case errors.Is(err, ErrNotFound):
		return ReasonNotFound
	case errors.Is(err, ErrPermissionDenied):
		return ReasonPermission
	case errors.Is(err, ErrInvalid):
		return ReasonInvalid
	case errors.Is(err, ErrUnknownOperator):
		return ReasonUnknownOperator
	}
	return ReasonOther
}

// Unavailable says whether err means the source could not answer (so the
// last credential read may still be used) rather than that it answered no.
// A timeout counts as unavailable. See Cached for why each class falls
// where it does.
func Unavailable(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

// Error is a failure to get an operator's credential. It names the source,
// the operator and the path, never a secret:
//
//	vault: operator "mno-a": read secret/smpp/operators/mno-a: permission denied
type Error struct {
	Source   string // "vault" or "file"
	Operator string
	Op       string // "read", "login", ...
	Path     string // secret path with its mount, or file path
	Err      error
}

func (e *Error) Error() string {
	s := e.Source + ": "
	if e.Operator != "" {
		s += "operator " + strconv.Quote(e.Operator) + ": "
	}
	s += e.Op
	if e.Path != "" {
		s += " " + e.Path
	}
	return s + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Source gives operators' credentials.
type Source interface {
	// Get returns the operator's current credential.
	Get(ctx context.Context, operatorID string) (Credential, error)
	// Watch checks every interval for a new version of the operator's
	// credential and sends it (valid credentials only); the channel is closed
	// when ctx ends. The version current when Watch is called is the
	// baseline and is not sent: call Watch, then Get, and skip a sent
	// credential whose Version you already have, to never miss a rotation.
	Watch(ctx context.Context, operatorID string, every time.Duration) <-chan Credential
}

// minWatchInterval bounds how hard a Watch polls.
const minWatchInterval = 10 * time.Millisecond

// watch is the loop of every polling Watch: every interval (at least
// minWatchInterval) it calls check, and sends the credential check reports
// as a new version, until ctx ends; then it closes the channel. The caller
// takes its baseline before calling watch; check keeps its own state (what
// it last saw, what it logged).
func watch(ctx context.Context, every time.Duration, check func() (Credential, bool)) <-chan Credential {
	ch := make(chan Credential)
	go func() {
		defer close(ch)
		t := time.NewTicker(max(every, minWatchInterval))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			c, changed := check()
			if !changed {
				continue
			}
			select {
			case ch <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

// Router sends each operator to the source holding its credential (Vault for
// most, a rendered file for some), or to Default. Set changes an operator's
// route while the connector runs (a reloaded operators file).
type Router struct {
	Sources map[string]Source
	Default Source

	mu sync.RWMutex
}

// Set routes the operator to s (nil: to Default).
func (r *Router) Set(operatorID string, s Source) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s == nil {
		delete(r.Sources, operatorID)
		return
	}
	if r.Sources == nil {
		r.Sources = map[string]Source{}
	}
	r.Sources[operatorID] = s
}

func (r *Router) source(operatorID string) Source {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if s, ok := r.Sources[operatorID]; ok {
		return s
	}
	return r.Default
}

// Get implements Source.
func (r *Router) Get(ctx context.Context, operatorID string) (Credential, error) {
	s := r.source(operatorID)
	if s == nil {
		return Credential{}, fmt.Errorf("secrets: operator %q: %w: no credential source", operatorID, ErrUnknownOperator)
	}
	return s.Get(ctx, operatorID)
}

// Watch implements Source; with no source for the operator the channel is
// closed when ctx ends.
func (r *Router) Watch(ctx context.Context, operatorID string, every time.Duration) <-chan Credential {
	s := r.source(operatorID)
	if s == nil {
		ch := make(chan Credential)
		go func() { <-ctx.Done(); close(ch) }()
		return ch
	}
	return s.Watch(ctx, operatorID, every)
}
