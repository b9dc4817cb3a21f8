package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if line := out.String(); !strings.HasPrefix(line, "smpp-connector ") || !strings.Contains(line, "commit ") || !strings.Contains(line, "built ") || !strings.Contains(line, " go1.") {
		t.Fatalf("version printed %q", line)
	}
}
