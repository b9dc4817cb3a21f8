package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/internal/testutil"
	"github.com/smpp-connector/smpp-connector/smscsim/control"
	"github.com/smpp-connector/smpp-connector/smscsim/scenario"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const testConfig = `
operators:
  - id: acme
    listen: 127.0.0.1:0
    accounts:
      - {systemId: shop, password: secret, tps: 50}
  - id: beta
    listen: 127.0.0.1:0
    accounts:
      - {systemId: b, password: secret}
`

type served struct {
	out    *testutil.LogBuffer
	api    string
	smpp   map[string]string
	cancel context.CancelFunc
	done   chan error
}

// serveInBackground runs "smscsim serve" in process and waits for its banner.
func serveInBackground(t *testing.T, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{out: &testutil.LogBuffer{}, smpp: map[string]string{}, cancel: cancel, done: make(chan error, 1)}
	errOut := &testutil.LogBuffer{}
	go func() { s.done <- run(ctx, append([]string{"serve"}, args...), strings.NewReader(""), s.out, errOut) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
	})
	apiRe := regexp.MustCompile(`control API\s+(http://\S+)`)
	opRe := regexp.MustCompile(`operator (\S+)\s+smpp (\S+)`)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if m := apiRe.FindStringSubmatch(s.out.String()); m != nil {
			s.api = m[1]
			for _, om := range opRe.FindAllStringSubmatch(s.out.String(), -1) {
				s.smpp[om[1]] = om[2]
			}
			return s
		}
		select {
		case err := <-s.done:
			t.Fatalf("serve ended: %v\nstderr: %s", err, errOut)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("no banner within 5s:\n%s\nstderr: %s", s.out, errOut)
	return nil
}

// cli runs a client command against the served API and returns stdout.
func (s *served) cli(t *testing.T, token string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append(args, "--api", s.api)
	if token != "" {
		args = append(args, "--token", token)
	}
	err := run(context.Background(), args, strings.NewReader(`{"type":"receipt_drop","name":"from-stdin"}`), &out, &errOut)
	return out.String(), err
}

func (s *served) must(t *testing.T, token string, args ...string) string {
	t.Helper()
	out, err := s.cli(t, token, args...)
	if err != nil {
		t.Fatalf("smscsim %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func contains(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, got)
		}
	}
}

func TestServeAndClientCommands(t *testing.T) {
	t.Setenv("SMSCSIM_TOKEN", "")
	t.Setenv("SMSCSIM_API", "")
	cfg := writeFile(t, "smscsim.yaml", testConfig)
	s := serveInBackground(t, "--config", cfg, "--control", "127.0.0.1:0", "--token", "tok", "--seed", "5", "--log-level", "warn")
	contains(t, "banner", s.out.String(), "seed 5", "accounts: shop", "(bearer token required)", "smscsim faults add --api "+s.api)
	if s.smpp["acme"] == "" || s.smpp["beta"] == "" {
		t.Fatalf("operators in banner: %v", s.smpp)
	}

	// Without the token the API refuses.
	if _, err := s.cli(t, "", "stats"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("stats without token: %v", err)
	}

	contains(t, "operators", s.must(t, "tok", "operators"), "acme", "beta", "shop (0/0)")

	// Faults: add by flags and from a file and stdin, list, remove.
	contains(t, "faults add", s.must(t, "tok", "faults", "add", "--type", "throttle", "--name", "acme-tps",
		"--operator", "acme", "--command", "submit_sm", "--params", `{"tps":1}`), "added acme-tps (throttle)")
	spec := writeFile(t, "spec.json", `{"type":"latency","params":{"distribution":{"kind":"fixed","value":"1ms"}}}`)
	s.must(t, "tok", "faults", "add", "-f", spec)
	s.must(t, "tok", "faults", "add", "-f", "-")
	list := s.must(t, "tok", "faults", "list")
	contains(t, "faults list", list, "acme-tps", "operator=acme command=submit_sm", `{"tps":1}`, "latency", "from-stdin")
	var faultsJSON []control.Fault
	if err := json.Unmarshal([]byte(s.must(t, "tok", "faults", "list", "--json")), &faultsJSON); err != nil || len(faultsJSON) != 3 {
		t.Fatalf("faults list --json: %v %+v", err, faultsJSON)
	}
	contains(t, "faults types", s.must(t, "tok", "faults", "types"), "throttle", "receipt_duplicate")
	contains(t, "faults remove", s.must(t, "tok", "faults", "remove", "latency"), "removed latency")
	if _, err := s.cli(t, "tok", "faults", "remove", "latency"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("remove twice: %v", err)
	}
	_, err := s.cli(t, "tok", "faults", "add", "--type", "throttle", "--name", "bad", "--params", `{"tps":0}`)
	if err == nil || !strings.Contains(err.Error(), "params.tps: must be > 0") {
		t.Fatalf("bad params: %v", err)
	}

	// Traffic: the throttle answers the second submit.
	c := smpptest.Dial(t, s.smpp["acme"])
	if r := c.Bind(pdu.Transceiver, "shop", "secret"); r.CommandStatus != data.ESME_ROK {
		t.Fatalf("bind: %v", r.CommandStatus)
	}
	for i := 0; i < 2; i++ {
		c.Submit("447700900001", "hi", 0)
		c.Expect(data.SUBMIT_SM_RESP, 2*time.Second)
	}
	contains(t, "pdus", s.must(t, "tok", "pdus", "--command", "submit_sm"), "ESME_ROK", "ESME_RTHROTTLED", "acme-tps", "2 records")
	contains(t, "pdus since", s.must(t, "tok", "pdus", "--since", "1h", "--dest-prefix", "33"), "0 records")
	contains(t, "stats", s.must(t, "tok", "stats"), "submit_sm", "ESME_RTHROTTLED", "transceiver")
	contains(t, "meter", s.must(t, "tok", "meter", "--account", "acme/shop"), "acme/shop", "50", "sliding")

	// MO: several operators need --operator.
	if _, err := s.cli(t, "tok", "mo", "--from", "1", "--to", "2", "--text", "x"); err == nil || !strings.Contains(err.Error(), "--operator is required") {
		t.Fatalf("mo without operator: %v", err)
	}
	contains(t, "mo", s.must(t, "tok", "mo", "--operator", "acme", "--from", "447700900001", "--to", "ACME", "--text", "STOP", "--encoding", "ucs2", "--segmentation", "udh16"),
		"queued MO on acme for account shop")
	d := c.Expect(data.DELIVER_SM, 2*time.Second).(*pdu.DeliverSM)
	if txt, _ := d.Message.GetMessage(); txt != "STOP" {
		t.Fatalf("MO text %q", txt)
	}
	c.AckDeliver(d, data.ESME_ROK)

	// Scenarios.
	sc := writeFile(t, "sc.yaml", "name: cli\nsteps:\n  - {at: 0s, add: {name: drop, type: receipt_drop}}\n  - {at: 1h, remove: drop}\n")
	contains(t, "scenario load", s.must(t, "tok", "scenario", "load", sc), "scenario cli: running, seed 5")
	var st scenario.Status
	smpptest.Eventually(t, 2*time.Second, 10*time.Millisecond, func() error {
		out := s.must(t, "tok", "scenario", "status", "--json")
		return json.Unmarshal([]byte(out), &st)
	})
	contains(t, "scenario status", s.must(t, "tok", "scenario", "status"), "steps[1]", "remove")
	contains(t, "scenario stop", s.must(t, "tok", "scenario", "stop"), "stopped")
	bad := writeFile(t, "bad.yaml", "steps:\n  - at: soon\n    reset: true\n")
	if _, err := s.cli(t, "tok", "scenario", "load", bad); err == nil || !strings.Contains(err.Error(), "line 2: steps[0].at") {
		t.Fatalf("bad scenario: %v", err)
	}

	contains(t, "reset", s.must(t, "tok", "reset"), "reset")
	contains(t, "faults after reset", s.must(t, "tok", "faults", "list"), "no faults")

	// Graceful shutdown unbinds the session.
	s.cancel()
	c.Expect(data.UNBIND, 5*time.Second)
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
		s.done <- nil
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after cancel")
	}
}

func TestServeScenarioSeed(t *testing.T) {
	t.Setenv("SMSCSIM_TOKEN", "")
	cfg := writeFile(t, "smscsim.yaml", testConfig)
	sc := writeFile(t, "sc.yaml", "name: seeded\nseed: 99\nsteps:\n  - {at: 1h, reset: true}\n")
	s := serveInBackground(t, "--config", cfg, "--control", "127.0.0.1:0", "--scenario", sc, "--log-format", "json")
	contains(t, "banner", s.out.String(), "seed 99")
	contains(t, "status", s.must(t, "", "scenario", "status"), "scenario seeded: running, seed 99")
}

func TestServeErrors(t *testing.T) {
	t.Setenv("SMSCSIM_TOKEN", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--control", "0.0.0.0:0"}, "is not a loopback address: set --token"},
		{[]string{"serve", "--control", ":8775"}, "is not a loopback address"},
		{[]string{"serve", "--control", "nonsense"}, "want host:port"},
		{[]string{"serve", "--log-format", "xml"}, "--log-format"},
		{[]string{"serve", "--log-level", "loud"}, "--log-level"},
		{[]string{"serve", "--config", "/does/not/exist.yaml"}, "read config"},
		{[]string{"serve", "--control", "127.0.0.1:0", "--scenario", "/does/not/exist.yaml"}, "read scenario"},
		{[]string{"serve", "extra"}, `unexpected argument "extra"`},
		{[]string{}, "missing command"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"faults"}, "missing subcommand"},
		{[]string{"faults", "zap"}, `unknown subcommand "zap"`},
		{[]string{"faults", "add", "--api", "http://127.0.0.1:1"}, "--type is required"},
		{[]string{"faults", "add", "-f", "x.json", "--type", "throttle"}, "-f takes the whole spec"},
		{[]string{"faults", "add", "--type", "throttle", "--params", "{tps:1}"}, "not valid JSON"},
		{[]string{"faults", "remove"}, "missing argument"},
		{[]string{"pdus", "--since", "yesterday"}, "--since"},
		{[]string{"scenario", "load"}, "missing argument"},
		{[]string{"stats", "--api", "http://127.0.0.1:1", "--timeout", "1s"}, "connect"},
	} {
		err := run(context.Background(), tc.args, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("smscsim %s: %v, want %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
	// A non-loopback address is fine with a token.
	if err := checkControlAddr("0.0.0.0:8775", "t"); err != nil {
		t.Fatal(err)
	}
	for _, ok := range []string{"127.0.0.1:1", "[::1]:1", "localhost:1"} {
		if err := checkControlAddr(ok, ""); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	if cfg, err := loadConfig(""); err != nil || cfg.Operators[0].Listen != server.DemoConfig().Operators[0].Listen {
		t.Fatalf("no config runs the demo config: %+v %v", cfg, err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, nil, &out, &out); err != nil || !strings.Contains(out.String(), "smscsim faults add") {
		t.Fatalf("help: %v %s", err, out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"faults", "list", "-h"}, nil, &out, &out); err != nil || !strings.Contains(out.String(), "-api") {
		t.Fatalf("faults list -h: %v %s", err, out.String())
	}
}

func TestLoadCommand(t *testing.T) {
	t.Setenv("SMSCSIM_TOKEN", "")
	cfg := writeFile(t, "smscsim.yaml", testConfig)
	s := serveInBackground(t, "--config", cfg, "--control", "127.0.0.1:0", "--log-level", "error")
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"load", "--addr", s.smpp["beta"], "--system-id", "b", "--password", "secret",
		"-n", "20", "--receipts=false", "--json"}, nil, &out, &errOut)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, errOut.String())
	}
	var res struct{ Sent, Accepted uint64 }
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Sent != 20 || res.Accepted != 20 {
		t.Fatalf("load result: %v %s", err, out.String())
	}
	contains(t, "stats after load", s.must(t, "", "stats"), "beta")
}

func TestParseInterspersed(t *testing.T) {
	a := &app{stderr: &bytes.Buffer{}}
	fs := a.flagSet("x", "x")
	v := fs.String("api", "", "")
	pos, err := parse(fs, []string{"NAME", "--api", "u", "MORE", "--", "--api"})
	if err != nil || *v != "u" || strings.Join(pos, ",") != "NAME,MORE,--api" {
		t.Fatalf("parse: %v %q %q", err, *v, pos)
	}
}
