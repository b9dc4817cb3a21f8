package config

import (
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

// The operator-management-service source has its settings beside the
// others: SMPP_OMS_* variables and -oms* flags, flags winning.
func TestOMSSettings(t *testing.T) {
	if d := DefaultService().OMS; d != (OMS{PollInterval: 30 * time.Second}) {
		t.Fatalf("defaults: %+v", d)
	}
	s, err := ServiceFromEnv(env(map[string]string{
		"SMPP_OMS_URL":         "https://oms.internal:8443",
		"SMPP_OMS_CERT":        "/etc/smpp/oms/tls.crt",
		"SMPP_OMS_KEY":         "/etc/smpp/oms/tls.key",
		"SMPP_OMS_CA":          "/etc/smpp/oms/ca.crt",
		"SMPP_OMS_SERVER_NAME": "oms.platform.svc",
		"SMPP_OMS_CACHE":       "/var/lib/smpp-connector/oms-operators.json",
		"SMPP_OMS_POLL":        "15s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := OMS{URL: "https://oms.internal:8443", CertFile: "/etc/smpp/oms/tls.crt", KeyFile: "/etc/smpp/oms/tls.key",
		CAFile: "/etc/smpp/oms/ca.crt", ServerName: "oms.platform.svc", CacheFile: "/var/lib/smpp-connector/oms-operators.json",
		PollInterval: 15 * time.Second}
	if s.OMS != want {
		t.Fatalf("from env:\n got %+v\nwant %+v", s.OMS, want)
	}
	fs := flag.NewFlagSet("smpp-connector", flag.ContinueOnError)
	RegisterFlags(fs, &s)
	if err := fs.Parse([]string{"-oms", "https://oms-2.internal", "-oms-poll", "1m", "-oms-cache", "/tmp/oms.json"}); err != nil {
		t.Fatal(err)
	}
	want.URL, want.PollInterval, want.CacheFile = "https://oms-2.internal", time.Minute, "/tmp/oms.json"
	if s.OMS != want {
		t.Fatalf("after flags:\n got %+v\nwant %+v", s.OMS, want)
	}
	for _, f := range []string{"oms", "oms-cert", "oms-key", "oms-ca", "oms-server-name", "oms-cache", "oms-poll"} {
		if fs.Lookup(f) == nil {
			t.Errorf("no flag -%s", f)
		}
	}
	if _, err := ServiceFromEnv(env(map[string]string{"SMPP_OMS_POLL": "often"})); err == nil ||
		!strings.Contains(err.Error(), `SMPP_OMS_POLL: want a duration such as "30s", got "often"`) {
		t.Errorf("bad duration: %v", err)
	}
	if !strings.Contains(s.LogValue().String(), "https://oms-2.internal") {
		t.Errorf("LogValue without the OMS URL: %s", s.LogValue())
	}
}

func TestOMSSettingsValidate(t *testing.T) {
	valid := DefaultService()
	valid.PostgresDSN = "postgres://db/smpp"
	valid.OMS = OMS{URL: "https://oms.internal:8443", CertFile: "c.pem", KeyFile: "k.pem", CacheFile: "/var/lib/x/oms.json", PollInterval: 30 * time.Second}
	if err := valid.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Service)
		want   string
	}{
		{"both sources", func(s *Service) { s.OperatorsFile = "/etc/smpp/operators.yaml" },
			"operators source: set the operators file (SMPP_OPERATORS_FILE) or operator-management-service (SMPP_OMS_URL), not both"},
		{"plain http", func(s *Service) { s.OMS.URL = "http://oms.internal:8080" },
			`oms url (SMPP_OMS_URL): "http://oms.internal:8080": want https://host[:port] (operator configuration travels over mutual TLS only)`},
		{"no host", func(s *Service) { s.OMS.URL = "https://" }, `oms url (SMPP_OMS_URL): "https://": want https://host[:port]`},
		{"cert without key", func(s *Service) { s.OMS.KeyFile = "" }, "oms key (SMPP_OMS_KEY): required with SMPP_OMS_CERT"},
		{"key without cert", func(s *Service) { s.OMS.CertFile = "" }, "oms cert (SMPP_OMS_CERT): required with SMPP_OMS_KEY"},
		{"no cache", func(s *Service) { s.OMS.CacheFile = "" }, "oms cache (SMPP_OMS_CACHE): required with SMPP_OMS_URL"},
		{"poll", func(s *Service) { s.OMS.PollInterval = 100 * time.Millisecond }, "oms poll (SMPP_OMS_POLL): must be at least 1s, got 100ms"},
		{"settings without url", func(s *Service) { s.OMS.URL = "" }, "oms (SMPP_OMS_CERT, SMPP_OMS_KEY, SMPP_OMS_CACHE): set, but SMPP_OMS_URL is not"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := valid
			tc.change(&s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	// Without the service the file is the source, as before.
	noOMS := valid
	noOMS.OMS = DefaultService().OMS
	noOMS.OperatorsFile = "/etc/smpp/operators.yaml"
	if err := errors.Join(noOMS.Validate()); err != nil {
		t.Fatal(err)
	}
}
