package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestServiceDefaults(t *testing.T) {
	s, err := ServiceFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s != DefaultService() {
		t.Fatalf("no environment: got %+v", s)
	}
	n := s.NATS
	if n.DispatchStream != "SMPP_DISPATCH" || Expand(n.DispatchSubject, "mno-a") != "smpp.operator.mno-a" ||
		n.ReceiptSubject != "sms.dlr.inbound" || Expand(n.OutcomeSubject, "mno-a") != "smpp.outcome.mno-a" ||
		Expand(n.DeadLetterSubject, "mno-a") != "smpp.deadletter.mno-a" || n.MOSubject != "sms.mo.inbound" {
		t.Errorf("NATS contract: %+v", n)
	}
	if got := n.DispatchStreamSubjects(); len(got) != 1 || got[0] != "smpp.operator.*" {
		t.Errorf("dispatch stream subjects: %v", got)
	}
	v := s.Vault
	if v.Auth != VaultAuthToken || v.JWTPath != "/var/run/secrets/kubernetes.io/serviceaccount/token" || v.AuthMount != "kubernetes" || v.KVMount != "secret" {
		t.Errorf("vault: %+v", v)
	}
	if s.HTTPListen != "127.0.0.1:8080" || s.LogLevel != "info" || s.LogFormat != "json" || s.Shadow || s.NATS.CreateStreams {
		t.Errorf("service: %+v", s)
	}
	// Without DSN, Vault address and token it cannot run (with Vault).
	err = errors.Join(s.Validate(), s.ValidateVault())
	for _, want := range []string{"postgres dsn (SMPP_POSTGRES_DSN): required", "vault address (SMPP_VAULT_ADDR): required", "vault token (SMPP_VAULT_TOKEN): required with token auth"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v does not say %q", err, want)
		}
	}
}

func TestServiceEnvAndFlags(t *testing.T) {
	e := map[string]string{
		"SMPP_OPERATORS_FILE":       "/etc/smpp/operators.yaml",
		"SMPP_NATS_URL":             "nats://nats:4222",
		"SMPP_NATS_CREATE_STREAMS":  "true",
		"SMPP_NATS_DISPATCH_STREAM": "DISPATCH",
		"SMPP_POSTGRES_DSN":         "postgres://smpp:s3cret@db:5432/smpp",
		"VAULT_ADDR":                "http://vault-from-vault-addr:8200",
		"SMPP_VAULT_ADDR":           "https://vault:8200",
		"VAULT_TOKEN":               "hvs.fallback",
		"SMPP_VAULT_AUTH":           "kubernetes",
		"SMPP_VAULT_ROLE":           "smpp-connector",
		"SMPP_VAULT_KV_MOUNT":       "kv",
		"SMPP_HTTP_LISTEN":          ":9090",
		"SMPP_SHADOW":               "1",
		"SMPP_LOG_LEVEL":            "debug",
		"SMPP_LOG_FORMAT":           "text",
		"SMPP_OPERATORS_RELOAD":     "30s",
	}
	s, err := ServiceFromEnv(env(e))
	if err != nil {
		t.Fatal(err)
	}
	if s.OperatorsFile != "/etc/smpp/operators.yaml" || s.NATS.URL != "nats://nats:4222" || !s.NATS.CreateStreams ||
		s.NATS.DispatchStream != "DISPATCH" || s.Vault.Address != "https://vault:8200" || s.Vault.Token != "hvs.fallback" ||
		s.Vault.Auth != "kubernetes" || s.Vault.Role != "smpp-connector" || s.Vault.KVMount != "kv" ||
		s.HTTPListen != ":9090" || !s.Shadow || s.LogLevel != "debug" || s.LogFormat != "text" || s.OperatorsReload != 30*time.Second {
		t.Fatalf("from env: %+v", s)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.SlogLevel(); l != slog.LevelDebug {
		t.Errorf("level %v", l)
	}

	// Flags win over the environment; what is not given keeps the environment's value.
	fs := flag.NewFlagSet("smpp-connector", flag.ContinueOnError)
	RegisterFlags(fs, &s)
	if err := fs.Parse([]string{"-nats-url", "nats://other:4222", "-shadow=false", "-vault-auth", "token", "-log-level", "warn", "-operators-reload", "0"}); err != nil {
		t.Fatal(err)
	}
	if s.NATS.URL != "nats://other:4222" || s.Shadow || s.Vault.Auth != "token" || s.LogLevel != "warn" || s.OperatorsReload != 0 ||
		s.HTTPListen != ":9090" || s.Vault.KVMount != "kv" || !s.NATS.CreateStreams {
		t.Fatalf("after flags: %+v", s)
	}
	if fs.Lookup("vault-token") != nil || fs.Lookup("admin-token") != nil {
		t.Error("there is a flag for the Vault or admin token: command lines are visible to every process")
	}
	// -help shows the DSN flag's default without its password.
	var help bytes.Buffer
	fs.SetOutput(&help)
	fs.PrintDefaults()
	if strings.Contains(help.String(), "s3cret") || !strings.Contains(help.String(), "-postgres-dsn") {
		t.Errorf("help:\n%s", help.String())
	}
	if err := fs.Parse([]string{"-postgres-dsn", "postgres://db/x"}); err != nil || s.PostgresDSN != "postgres://db/x" {
		t.Errorf("-postgres-dsn: %v %q", err, s.PostgresDSN)
	}
}

func TestServiceEnvErrors(t *testing.T) {
	_, err := ServiceFromEnv(env(map[string]string{"SMPP_SHADOW": "yes please", "SMPP_NATS_CREATE_STREAMS": "maybe",
		"SMPP_OPERATORS_RELOAD": "10"}))
	if err == nil || !strings.Contains(err.Error(), `SMPP_SHADOW: want true or false, got "yes please"`) ||
		!strings.Contains(err.Error(), `SMPP_OPERATORS_RELOAD: want a duration such as "30s", got "10"`) ||
		!strings.Contains(err.Error(), `SMPP_NATS_CREATE_STREAMS: want true or false, got "maybe"`) {
		t.Fatalf("got %v", err)
	}
}

func TestServiceValidate(t *testing.T) {
	valid := DefaultService()
	valid.PostgresDSN = "postgres://db/smpp"
	valid.Vault.Address = "http://127.0.0.1:8200"
	valid.Vault.Token = "root"
	if err := valid.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := valid.ValidateVault(); err != nil {
		t.Fatal(err)
	}
	// Operators whose credentials are rendered files need no Vault settings.
	noVault := valid
	noVault.Vault = DefaultService().Vault
	if err := noVault.Validate(); err != nil {
		t.Fatalf("Validate asks for Vault settings: %v", err)
	}
	if err := noVault.ValidateVault(); err == nil || !strings.Contains(err.Error(), "vault address (SMPP_VAULT_ADDR): required") {
		t.Fatalf("ValidateVault: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Service)
		want   string
	}{
		{"nats url", func(s *Service) { s.NATS.URL = "" }, "nats url (SMPP_NATS_URL): required"},
		{"stream", func(s *Service) { s.NATS.DispatchStream = "SMPP.DISPATCH" }, `dispatch stream (SMPP_NATS_DISPATCH_STREAM): "SMPP.DISPATCH": want letters`},
		{"dispatch placeholder", func(s *Service) { s.NATS.DispatchSubject = "smpp.operator" }, `dispatch subject (SMPP_NATS_DISPATCH_SUBJECT): "smpp.operator": must contain {operatorId}`},
		{"wildcard", func(s *Service) { s.NATS.ReceiptSubject = "sms.dlr.>" }, `receipt subject (SMPP_NATS_RECEIPT_SUBJECT): "sms.dlr.>": want dot-separated tokens`},
		{"empty token", func(s *Service) { s.NATS.MOSubject = "sms..mo" }, `MO subject (SMPP_NATS_MO_SUBJECT)`},
		{"vault address", func(s *Service) { s.Vault.Address = "vault:8200" }, `vault address (SMPP_VAULT_ADDR): "vault:8200": want http(s)://host:port`},
		{"vault auth", func(s *Service) { s.Vault.Auth = "approle" }, `vault auth (SMPP_VAULT_AUTH): must be token or kubernetes, got "approle"`},
		{"kubernetes role", func(s *Service) { s.Vault.Auth = "kubernetes" }, `vault role (SMPP_VAULT_ROLE): required with kubernetes auth`},
		{"kv mount", func(s *Service) { s.Vault.KVMount = "/secret/" }, `vault kv mount (SMPP_VAULT_KV_MOUNT)`},
		{"http", func(s *Service) { s.HTTPListen = "8080" }, `http listen (SMPP_HTTP_LISTEN): "8080": want [host]:port`},
		{"log level", func(s *Service) { s.LogLevel = "verbose" }, `log level (SMPP_LOG_LEVEL): must be debug, info, warn or error, got "verbose"`},
		{"log format", func(s *Service) { s.LogFormat = "xml" }, `log format (SMPP_LOG_FORMAT): must be json or text, got "xml"`},
		{"reload", func(s *Service) { s.OperatorsReload = 100 * time.Millisecond }, `operators reload (SMPP_OPERATORS_RELOAD): 100ms: want 0 (off) or at least 1s`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := valid
			tc.change(&s)
			err := errors.Join(s.Validate(), s.ValidateVault())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestServiceNeverShowsSecrets(t *testing.T) {
	s := DefaultService()
	s.PostgresDSN = "postgres://smpp:pg-s3cret@db:5432/smpp?sslmode=disable"
	s.Vault.Token = "hvs.t0ken"
	s.Admin.Token = "adm-t0ken"
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("starting", "service", s)
	for _, out := range []string{
		fmt.Sprint(s), fmt.Sprintf("%v", s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), fmt.Sprintf("%s", &s),
		logged.String(),
	} {
		if strings.Contains(out, "pg-s3cret") || strings.Contains(out, "hvs.t0ken") || strings.Contains(out, "adm-t0ken") {
			t.Errorf("secret shown: %s", out)
		}
	}
	if !strings.Contains(fmt.Sprint(s), "postgres://smpp:xxxxx@db:5432/smpp") || !strings.Contains(logged.String(), "db:5432") {
		t.Errorf("redaction lost too much: %s / %s", s, logged.String())
	}
}

func TestRedactDSN(t *testing.T) {
	for in, want := range map[string]string{
		"":                                    "",
		"postgres://u:p@h:5432/db":            "postgres://u:xxxxx@h:5432/db",
		"postgres://u@h/db":                   "postgres://u@h/db",
		"postgres://h/db?password=p&x=1":      "postgres://h/db?password=xxxxx&x=1",
		"host=h user=u password=p dbname=d":   "host=h user=u password=xxxxx dbname=d",
		"host=h password='a b\\' c' dbname=d": "host=h password=xxxxx dbname=d",
		"postgres://u:p%zz@h/db":              "postgres://[unparsable, redacted]",
	} {
		if got := RedactDSN(in); got != want {
			t.Errorf("RedactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}
