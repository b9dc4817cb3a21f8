package logging_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/smpp-connector/smpp-connector/internal/logging"
)

func TestFormats(t *testing.T) {
	var buf bytes.Buffer
	log, err := logging.New(&buf, "info", "json")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hello", "k", 1)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil || rec["msg"] != "hello" || rec["k"] != 1.0 {
		t.Errorf("json record %q: %v %v", buf.String(), rec, err)
	}

	buf.Reset()
	if log, err = logging.New(&buf, "info", "text"); err != nil {
		t.Fatal(err)
	}
	log.Info("hello", "k", 1)
	if got := buf.String(); !strings.Contains(got, "msg=hello k=1") || strings.HasPrefix(got, "{") {
		t.Errorf("text record %q", got)
	}
}

func TestLevel(t *testing.T) {
	for _, tc := range []struct {
		level       string
		debug, warn bool
	}{
		{"debug", true, true},
		{"INFO", false, true},
		{"warn", false, true},
		{"error", false, false},
		{"info-4", true, true}, // slog's offsets
	} {
		var buf bytes.Buffer
		log, err := logging.New(&buf, tc.level, "text")
		if err != nil {
			t.Fatalf("%s: %v", tc.level, err)
		}
		log.Debug("d")
		log.Warn("w")
		if got := strings.Contains(buf.String(), "msg=d"); got != tc.debug {
			t.Errorf("%s: debug logged %v", tc.level, got)
		}
		if got := strings.Contains(buf.String(), "msg=w"); got != tc.warn {
			t.Errorf("%s: warn logged %v", tc.level, got)
		}
	}
}

func TestErrorsNameTheBadValue(t *testing.T) {
	_, err := logging.New(&bytes.Buffer{}, "loud", "json")
	if !errors.Is(err, logging.ErrLevel) || !strings.Contains(err.Error(), `"loud"`) {
		t.Errorf("bad level: %v", err)
	}
	_, err = logging.New(&bytes.Buffer{}, "info", "xml")
	if !errors.Is(err, logging.ErrFormat) || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("bad format: %v", err)
	}
	// An empty format is not a default: the mains set theirs.
	if _, err = logging.New(&bytes.Buffer{}, "info", ""); !errors.Is(err, logging.ErrFormat) {
		t.Errorf("empty format: %v", err)
	}
}
