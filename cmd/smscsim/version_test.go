package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"version"}, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if line := out.String(); !strings.HasPrefix(line, "smscsim ") || !strings.Contains(line, "commit ") || !strings.Contains(line, "built ") || !strings.Contains(line, " go1.") {
		t.Fatalf("version printed %q", line)
	}
}

// The image sets SMSCSIM_CONTROL and SMSCSIM_DEMO_LISTEN to all interfaces;
// without them the loopback defaults stay.
func TestServeAddressesFromEnvironment(t *testing.T) {
	cfg, err := loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Operators[0].Listen; got != "127.0.0.1:2775" {
		t.Fatalf("demo operator listens on %q by default", got)
	}
	t.Setenv(envDemoListen, "0.0.0.0:2775")
	if cfg, err = loadConfig(""); err != nil {
		t.Fatal(err)
	}
	if got := cfg.Operators[0].Listen; got != "0.0.0.0:2775" {
		t.Fatalf("demo operator listens on %q with %s set", got, envDemoListen)
	}

	// The control address comes from the environment, and off loopback it
	// still needs a token.
	t.Setenv(envControl, "0.0.0.0:0")
	t.Setenv("SMSCSIM_TOKEN", "")
	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"serve"}, strings.NewReader(""), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), `"0.0.0.0:0" is not a loopback address`) {
		t.Fatalf("serve with %s=0.0.0.0:0 and no token: %v", envControl, err)
	}
}
