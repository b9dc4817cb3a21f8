// Package logging builds the mains' slog logger from a level and a format,
// so that every binary reads -log-level and -log-format the same way.
package logging

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// Errors wrapped by New, so that a main can name its own flag.
var (
	ErrLevel  = errors.New("unknown log level")
	ErrFormat = errors.New("unknown log format")
)

// New returns a logger writing to w at level (debug, info, warn or error,
// in any case, as slog.Level reads it: "warn+2" too) in format json or text.
func New(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("%w %q: want debug, info, warn or error", ErrLevel, level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("%w %q: want json or text", ErrFormat, format)
}
