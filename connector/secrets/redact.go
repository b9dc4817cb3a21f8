package secrets

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Vault's error bodies are upstream text: a misbehaving Vault or a proxy in
// front of it may echo the request, token included. What reaches an error
// or a log line is redacted and capped first.

// tokenLike matches Vault tokens (hvs./hvb./hvr. service, batch and
// recovery tokens, and the legacy s./b./r. ones) and JWTs (Kubernetes
// service-account tokens).
var tokenLike = regexp.MustCompile(`\bhv[sbr]\.[A-Za-z0-9_-]{20,}|\b[sbr]\.[A-Za-z0-9]{20,}|\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)

// (redacted, "[redacted]", is credential.go's.)
const (
	// maxDetail caps one upstream error string, maxDetails all of them.
	maxDetail  = 200
	maxDetails = 400
)

// redact replaces the given secrets (the configured token, the JWT) and
// anything token-like in s by [redacted].
func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, redacted)
		}
	}
	return tokenLike.ReplaceAllString(s, redacted)
}

// capText shortens s to at most n bytes (on a rune boundary), marking the cut.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// redactedError is an error whose text was redacted; it still unwraps to
// the original for errors.Is (context.Canceled, say), which callers never print.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
