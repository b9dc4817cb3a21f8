package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/natscontract"
)

// Vault auth methods.
const (
	VaultAuthToken      = "token"
	VaultAuthKubernetes = "kubernetes"
)

// DefaultJWTPath is where Kubernetes mounts the service-account token.
const DefaultJWTPath = "/var/run/secrets/kubernetes.io/serviceaccount/token"

// Service holds the settings of the service itself (not of the operators):
// where NATS, PostgreSQL and Vault are, and how it runs. They come from SMPP_*
// environment variables and command-line flags, flags winning:
//
//	s, err := config.ServiceFromEnv(os.Getenv)
//	config.RegisterFlags(fs, &s) // flag defaults are the environment's values
//	fs.Parse(args)
//	err = s.Validate()
//
// Secrets (the Vault token, a password inside the PostgreSQL DSN) are best
// given through the environment: command lines are visible to every process
// on the machine, so there is no flag for the Vault token at all. String and
// LogValue redact them.
type Service struct {
	// OperatorsFile is the operators YAML file (SMPP_OPERATORS_FILE, -operators).
	OperatorsFile string
	// OperatorsReload is how often the operators file is read again and a
	// changed one applied without a restart (SMPP_OPERATORS_RELOAD,
	// -operators-reload; default 10s, 0 turns it off). Polled, not watched:
	// a Kubernetes ConfigMap volume changes by swapping a symlink, which
	// inotify on the file misses, and a poll of a small file costs nothing.
	OperatorsReload time.Duration
	// OMS is the other source of the operators: operator-management-service
	// over mutual TLS (connector/oms). One of the two is set.
	OMS  OMS
	NATS NATS
	// PostgresDSN reaches the database holding the smpp schema
	// (SMPP_POSTGRES_DSN, -postgres-dsn).
	PostgresDSN string
	Vault       Vault
	// HTTPListen is where metrics, health and readiness are served
	// (SMPP_HTTP_LISTEN, -http; default 127.0.0.1:8080).
	HTTPListen string
	// Shadow is Phase 2's shadow mode: only endpoints marked shadow are used
	// and no receipt is published (SMPP_SHADOW, -shadow).
	Shadow bool
	// LogLevel is debug, info (default), warn or error (SMPP_LOG_LEVEL, -log-level).
	LogLevel string
	// LogFormat is json (default) or text (SMPP_LOG_FORMAT, -log-format).
	LogFormat string
	// Pprof serves Go's profiler on /debug/pprof/ beside the metrics
	// (SMPP_PPROF, -pprof): for on-call engineers and load tests. Off by
	// default: profiles reveal internals, so keep HTTPListen private.
	Pprof bool
	// Admin turns on the operator admin API (connector/admin) on the HTTP
	// port: off while neither is set.
	Admin Admin
}

// Admin holds the admin API's token: environment only for the token itself
// (SMPP_ADMIN_TOKEN), or a file read at each request (SMPP_ADMIN_TOKEN_FILE,
// -admin-token-file: a Kubernetes Secret, rotated without a restart).
type Admin struct {
	Token     string
	TokenFile string
}

// On reports whether the admin API is configured.
func (a Admin) On() bool { return a.Token != "" || a.TokenFile != "" }

// ReadToken returns the token requests must carry.
func (a Admin) ReadToken() (string, error) {
	if a.TokenFile == "" {
		return a.Token, nil
	}
	b, err := os.ReadFile(a.TokenFile)
	if err != nil {
		return "", fmt.Errorf("admin token file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// NATS holds the NATS contract. Subjects may hold {operatorId} (or {id}),
// replaced with Expand.
type NATS struct {
	// URL (SMPP_NATS_URL, -nats-url; default nats://127.0.0.1:4222).
	URL string
	// CreateStreams makes the connector create the dispatch and receipt
	// streams when they are missing (SMPP_NATS_CREATE_STREAMS,
	// -nats-create-streams); otherwise ops provision them.
	CreateStreams bool
	// Names are the streams and subjects (SMPP_NATS_*_STREAM and
	// SMPP_NATS_*_SUBJECT; defaults natscontract.DefaultNames).
	natscontract.Names
}

// OMS says how to reach operator-management-service (connector/oms).
type OMS struct {
	// URL is the service's base URL, https only (SMPP_OMS_URL, -oms).
	URL string
	// CertFile and KeyFile are our client certificate and its key, PEM
	// (SMPP_OMS_CERT, -oms-cert; SMPP_OMS_KEY, -oms-key). Both or neither.
	CertFile, KeyFile string
	// CAFile is the PEM bundle the service's certificate must chain to
	// (SMPP_OMS_CA, -oms-ca; default the system roots).
	CAFile string
	// ServerName is the name the service's certificate must carry
	// (SMPP_OMS_SERVER_NAME, -oms-server-name; default the URL's host).
	ServerName string
	// CacheFile keeps the last good configuration, used when the service
	// cannot be reached at start (SMPP_OMS_CACHE, -oms-cache).
	CacheFile string
	// PollInterval is how often the service is asked for a new version
	// (SMPP_OMS_POLL, -oms-poll; default 30s).
	PollInterval time.Duration
}

// Vault says how to reach Vault.
type Vault struct {
	// Address (SMPP_VAULT_ADDR, else VAULT_ADDR; -vault-addr).
	Address string
	// Auth is token (default) or kubernetes (SMPP_VAULT_AUTH, -vault-auth).
	Auth string
	// Token for token auth: environment only (SMPP_VAULT_TOKEN, else VAULT_TOKEN).
	Token string
	// Role is the Kubernetes auth role (SMPP_VAULT_ROLE, -vault-role).
	Role string
	// JWTPath is the service-account token file (SMPP_VAULT_JWT_PATH,
	// -vault-jwt-path; default DefaultJWTPath).
	JWTPath string
	// AuthMount is where the Kubernetes auth method is mounted
	// (SMPP_VAULT_AUTH_MOUNT, -vault-auth-mount; default kubernetes).
	AuthMount string
	// KVMount is the KV v2 mount holding the credentials (SMPP_VAULT_KV_MOUNT,
	// -vault-kv-mount; default secret).
	KVMount string
}

// DefaultService is the service with every default applied.
func DefaultService() Service {
	return Service{
		NATS: NATS{
			URL:   "nats://127.0.0.1:4222",
			Names: natscontract.DefaultNames(),
		},
		Vault: Vault{
			Auth:      VaultAuthToken,
			JWTPath:   DefaultJWTPath,
			AuthMount: "kubernetes",
			KVMount:   "secret",
		},
		OMS:             OMS{PollInterval: 30 * time.Second},
		HTTPListen:      "127.0.0.1:8080",
		LogLevel:        "info",
		LogFormat:       "json",
		OperatorsReload: DefaultOperatorsReload,
	}
}

// DefaultOperatorsReload is how often the operators file is read again.
const DefaultOperatorsReload = 10 * time.Second

// setting binds one field to its variable and flag.
type setting struct {
	env, flag, usage string
	str              *string
	boolean          *bool
	duration         *time.Duration
}

func (s *Service) settings() []setting {
	return []setting{
		{env: "SMPP_OPERATORS_FILE", flag: "operators", usage: "operators YAML file", str: &s.OperatorsFile},
		{env: "SMPP_OPERATORS_RELOAD", flag: "operators-reload", usage: "how often the operators file is read again and a change applied (0: never)", duration: &s.OperatorsReload},
		{env: "SMPP_OMS_URL", flag: "oms", usage: "operator-management-service base URL (https; instead of -operators)", str: &s.OMS.URL},
		{env: "SMPP_OMS_CERT", flag: "oms-cert", usage: "client certificate (PEM) for operator-management-service", str: &s.OMS.CertFile},
		{env: "SMPP_OMS_KEY", flag: "oms-key", usage: "client certificate's key (PEM) for operator-management-service", str: &s.OMS.KeyFile},
		{env: "SMPP_OMS_CA", flag: "oms-ca", usage: "CA bundle (PEM) operator-management-service's certificate must chain to (default: system roots)", str: &s.OMS.CAFile},
		{env: "SMPP_OMS_SERVER_NAME", flag: "oms-server-name", usage: "name operator-management-service's certificate must carry (default: the URL's host)", str: &s.OMS.ServerName},
		{env: "SMPP_OMS_CACHE", flag: "oms-cache", usage: "file keeping the last good configuration from operator-management-service", str: &s.OMS.CacheFile},
		{env: "SMPP_OMS_POLL", flag: "oms-poll", usage: "how often operator-management-service is asked for a new version", duration: &s.OMS.PollInterval},
		{env: "SMPP_NATS_URL", flag: "nats-url", usage: "NATS URL", str: &s.NATS.URL},
		{env: "SMPP_NATS_CREATE_STREAMS", flag: "nats-create-streams", usage: "create the JetStream streams when missing", boolean: &s.NATS.CreateStreams},
		{env: "SMPP_NATS_DISPATCH_STREAM", flag: "nats-dispatch-stream", usage: "JetStream stream of dispatch commands", str: &s.NATS.DispatchStream},
		{env: "SMPP_NATS_DISPATCH_SUBJECT", flag: "nats-dispatch-subject", usage: "subject of an operator's dispatch commands ({operatorId} is replaced)", str: &s.NATS.DispatchSubject},
		{env: "SMPP_NATS_RECEIPT_STREAM", flag: "nats-receipt-stream", usage: "JetStream stream of delivery receipts", str: &s.NATS.ReceiptStream},
		{env: "SMPP_NATS_RECEIPT_SUBJECT", flag: "nats-receipt-subject", usage: "subject of delivery receipts", str: &s.NATS.ReceiptSubject},
		{env: "SMPP_NATS_OUTCOME_SUBJECT", flag: "nats-outcome-subject", usage: "subject of submit outcomes ({operatorId} is replaced)", str: &s.NATS.OutcomeSubject},
		{env: "SMPP_NATS_DEADLETTER_SUBJECT", flag: "nats-deadletter-subject", usage: "subject of refused commands ({operatorId} is replaced)", str: &s.NATS.DeadLetterSubject},
		{env: "SMPP_NATS_MO_SUBJECT", flag: "nats-mo-subject", usage: "subject of mobile-originated messages", str: &s.NATS.MOSubject},
		{env: "SMPP_POSTGRES_DSN", flag: "postgres-dsn", usage: "PostgreSQL DSN (prefer SMPP_POSTGRES_DSN when it holds a password: command lines are visible)", str: &s.PostgresDSN},
		{env: "SMPP_VAULT_ADDR", flag: "vault-addr", usage: "Vault address (default: VAULT_ADDR)", str: &s.Vault.Address},
		{env: "SMPP_VAULT_AUTH", flag: "vault-auth", usage: "Vault auth method: token (SMPP_VAULT_TOKEN or VAULT_TOKEN) or kubernetes", str: &s.Vault.Auth},
		{env: "SMPP_VAULT_TOKEN", usage: "", str: &s.Vault.Token}, // never a flag
		{env: "SMPP_VAULT_ROLE", flag: "vault-role", usage: "Vault Kubernetes auth role", str: &s.Vault.Role},
		{env: "SMPP_VAULT_JWT_PATH", flag: "vault-jwt-path", usage: "Kubernetes service-account token file", str: &s.Vault.JWTPath},
		{env: "SMPP_VAULT_AUTH_MOUNT", flag: "vault-auth-mount", usage: "mount of Vault's Kubernetes auth method", str: &s.Vault.AuthMount},
		{env: "SMPP_VAULT_KV_MOUNT", flag: "vault-kv-mount", usage: "Vault KV v2 mount holding the credentials", str: &s.Vault.KVMount},
		{env: "SMPP_HTTP_LISTEN", flag: "http", usage: "address of the metrics/health HTTP server", str: &s.HTTPListen},
		{env: "SMPP_SHADOW", flag: "shadow", usage: "shadow mode: use shadow endpoints only, publish no receipts", boolean: &s.Shadow},
		{env: "SMPP_LOG_LEVEL", flag: "log-level", usage: "log level: debug, info, warn or error", str: &s.LogLevel},
		{env: "SMPP_LOG_FORMAT", flag: "log-format", usage: "log format: json or text", str: &s.LogFormat},
		{env: "SMPP_PPROF", flag: "pprof", usage: "serve Go's profiler on /debug/pprof/ (keep the HTTP address private)", boolean: &s.Pprof},
		{env: "SMPP_ADMIN_TOKEN", usage: "", str: &s.Admin.Token}, // never a flag
		{env: "SMPP_ADMIN_TOKEN_FILE", flag: "admin-token-file", usage: "file holding the admin API's token (turns the API on; SMPP_ADMIN_TOKEN instead gives the token itself)", str: &s.Admin.TokenFile},
	}
}

// ServiceFromEnv returns the defaults overridden by the SMPP_* variables that
// are set (VAULT_ADDR and VAULT_TOKEN are used when SMPP_VAULT_ADDR and
// SMPP_VAULT_TOKEN are not). It reports variables it cannot parse; the rest
// is checked by Validate, once flags are parsed too.
func ServiceFromEnv(getenv func(string) string) (Service, error) {
	s := DefaultService()
	var errs []error
	for _, st := range s.settings() {
		v := strings.TrimSpace(getenv(st.env))
		if v == "" {
			continue
		}
		switch {
		case st.boolean != nil:
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: want true or false, got %q", st.env, v))
				continue
			}
			*st.boolean = b
		case st.duration != nil:
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: want a duration such as \"30s\", got %q", st.env, v))
				continue
			}
			*st.duration = d
		default:
			*st.str = v
		}
	}
	if s.Vault.Address == "" {
		s.Vault.Address = strings.TrimSpace(getenv("VAULT_ADDR"))
	}
	if s.Vault.Token == "" {
		s.Vault.Token = strings.TrimSpace(getenv("VAULT_TOKEN"))
	}
	return s, errors.Join(errs...)
}

// RegisterFlags defines a flag for every setting but the Vault token, with
// the current value of s (the environment's, say) as its default, so that a
// flag given on the command line wins.
func RegisterFlags(fs *flag.FlagSet, s *Service) {
	for _, st := range s.settings() {
		if st.flag == "" {
			continue
		}
		usage := st.usage + " (" + st.env + ")"
		if st.boolean != nil {
			fs.BoolVar(st.boolean, st.flag, *st.boolean, usage)
			continue
		}
		if st.duration != nil {
			fs.DurationVar(st.duration, st.flag, *st.duration, usage)
			continue
		}
		if st.str == &s.PostgresDSN {
			// -help prints the default: never with its password.
			fs.Var(&redactedString{p: st.str}, st.flag, usage)
			continue
		}
		fs.StringVar(st.str, st.flag, *st.str, usage)
	}
}

// redactedString is a string flag whose default is not printed by -help.
type redactedString struct{ p *string }

func (r *redactedString) String() string {
	if r == nil || r.p == nil {
		return ""
	}
	return RedactDSN(*r.p)
}
func (r *redactedString) Set(v string) error { *r.p = v; return nil }

var (
	streamName   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	subjectToken = regexp.MustCompile(`^[^\s.*>]+$`)
)

// Validate reports every setting that cannot work, but Vault's: those are
// checked by ValidateVault, needed only when an operator's credentials come
// from Vault (not from rendered files).
func (s *Service) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	if s.NATS.URL == "" {
		bad("nats url (SMPP_NATS_URL)", "required")
	}
	for _, st := range []struct{ name, v string }{
		{"dispatch stream (SMPP_NATS_DISPATCH_STREAM)", s.NATS.DispatchStream},
		{"receipt stream (SMPP_NATS_RECEIPT_STREAM)", s.NATS.ReceiptStream},
	} {
		if !streamName.MatchString(st.v) {
			bad(st.name, "%q: want letters, digits, '-' or '_'", st.v)
		}
	}
	for _, sub := range []struct {
		name, v     string
		placeholder bool
	}{
		{"dispatch subject (SMPP_NATS_DISPATCH_SUBJECT)", s.NATS.DispatchSubject, true},
		{"receipt subject (SMPP_NATS_RECEIPT_SUBJECT)", s.NATS.ReceiptSubject, false},
		{"outcome subject (SMPP_NATS_OUTCOME_SUBJECT)", s.NATS.OutcomeSubject, false},
		{"dead-letter subject (SMPP_NATS_DEADLETTER_SUBJECT)", s.NATS.DeadLetterSubject, false},
		{"MO subject (SMPP_NATS_MO_SUBJECT)", s.NATS.MOSubject, false},
	} {
		if msg := checkSubject(sub.v, sub.placeholder); msg != "" {
			bad(sub.name, "%q: %s", sub.v, msg)
		}
	}
	if s.PostgresDSN == "" {
		bad("postgres dsn (SMPP_POSTGRES_DSN)", "required")
	}
	errs = append(errs, s.validateOMS()...)
	if _, port, err := net.SplitHostPort(s.HTTPListen); err != nil || port == "" {
		bad("http listen (SMPP_HTTP_LISTEN)", "%q: want [host]:port", s.HTTPListen)
	}
	if _, err := s.SlogLevel(); err != nil {
		bad("log level (SMPP_LOG_LEVEL)", "%v", err)
	}
	if s.LogFormat != "json" && s.LogFormat != "text" {
		bad("log format (SMPP_LOG_FORMAT)", "must be json or text, got %q", s.LogFormat)
	}
	if s.Admin.Token != "" && s.Admin.TokenFile != "" {
		bad("admin token (SMPP_ADMIN_TOKEN, SMPP_ADMIN_TOKEN_FILE)", "set one, not both")
	}
	if s.OperatorsReload < 0 || (s.OperatorsReload > 0 && s.OperatorsReload < time.Second) {
		bad("operators reload (SMPP_OPERATORS_RELOAD)", "%s: want 0 (off) or at least 1s", s.OperatorsReload)
	}
	return errors.Join(errs...)
}

// validateOMS checks the operator-management-service settings.
func (s *Service) validateOMS() []error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	o := s.OMS
	if o.URL == "" {
		var set []string
		for _, st := range []struct{ env, v string }{
			{"SMPP_OMS_CERT", o.CertFile}, {"SMPP_OMS_KEY", o.KeyFile}, {"SMPP_OMS_CA", o.CAFile},
			{"SMPP_OMS_SERVER_NAME", o.ServerName}, {"SMPP_OMS_CACHE", o.CacheFile},
		} {
			if st.v != "" {
				set = append(set, st.env)
			}
		}
		if len(set) > 0 {
			bad("oms ("+strings.Join(set, ", ")+")", "set, but SMPP_OMS_URL is not")
		}
		return errs
	}
	if s.OperatorsFile != "" {
		bad("operators source", "set the operators file (SMPP_OPERATORS_FILE) or operator-management-service (SMPP_OMS_URL), not both")
	}
	if u, err := url.Parse(o.URL); err != nil || u.Scheme != "https" || u.Host == "" {
		bad("oms url (SMPP_OMS_URL)", "%q: want https://host[:port] (operator configuration travels over mutual TLS only)", o.URL)
	}
	switch {
	case o.CertFile != "" && o.KeyFile == "":
		bad("oms key (SMPP_OMS_KEY)", "required with SMPP_OMS_CERT (the client certificate's private key)")
	case o.CertFile == "" && o.KeyFile != "":
		bad("oms cert (SMPP_OMS_CERT)", "required with SMPP_OMS_KEY (the client certificate)")
	}
	if o.CacheFile == "" {
		bad("oms cache (SMPP_OMS_CACHE)", "required with SMPP_OMS_URL (the last good configuration is kept there for a start while the service cannot be reached)")
	}
	if o.PollInterval < time.Second {
		bad("oms poll (SMPP_OMS_POLL)", "must be at least 1s, got %s", o.PollInterval)
	}
	return errs
}

// ValidateVault reports the Vault settings that cannot work.
func (s *Service) ValidateVault() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	if s.Vault.Address == "" {
		bad("vault address (SMPP_VAULT_ADDR)", "required")
	} else if u, err := url.Parse(s.Vault.Address); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("vault address (SMPP_VAULT_ADDR)", "%q: want http(s)://host:port", s.Vault.Address)
	}
	switch s.Vault.Auth {
	case VaultAuthToken:
		if s.Vault.Token == "" {
			bad("vault token (SMPP_VAULT_TOKEN)", "required with token auth")
		}
	case VaultAuthKubernetes:
		if s.Vault.Role == "" {
			bad("vault role (SMPP_VAULT_ROLE)", "required with kubernetes auth")
		}
		if s.Vault.JWTPath == "" {
			bad("vault jwt path (SMPP_VAULT_JWT_PATH)", "required with kubernetes auth")
		}
		if s.Vault.AuthMount == "" || strings.Trim(s.Vault.AuthMount, "/") != s.Vault.AuthMount {
			bad("vault auth mount (SMPP_VAULT_AUTH_MOUNT)", "%q: want a mount path without leading or trailing '/'", s.Vault.AuthMount)
		}
	default:
		bad("vault auth (SMPP_VAULT_AUTH)", "must be %s or %s, got %q", VaultAuthToken, VaultAuthKubernetes, s.Vault.Auth)
	}
	if s.Vault.KVMount == "" || strings.Trim(s.Vault.KVMount, "/") != s.Vault.KVMount {
		bad("vault kv mount (SMPP_VAULT_KV_MOUNT)", "%q: want a mount path without leading or trailing '/'", s.Vault.KVMount)
	}
	return errors.Join(errs...)
}

func checkSubject(v string, needPlaceholder bool) string {
	if needPlaceholder && !strings.Contains(v, "{operatorId}") && !strings.Contains(v, "{id}") {
		return "must contain {operatorId}"
	}
	for _, tok := range strings.Split(Expand(v, "x"), ".") {
		if !subjectToken.MatchString(tok) {
			return "want dot-separated tokens without spaces or wildcards"
		}
	}
	return ""
}

// SlogLevel is LogLevel as a slog.Level.
func (s *Service) SlogLevel() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s.LogLevel)); err != nil {
		return 0, fmt.Errorf("must be debug, info, warn or error, got %q", s.LogLevel)
	}
	return l, nil
}

// DispatchStreamSubjects are the subjects the dispatch stream captures: the
// dispatch subject with a wildcard for the operator id.
func (n NATS) DispatchStreamSubjects() []string {
	return []string{Expand(n.DispatchSubject, "*")}
}

// String never shows the Vault token or the DSN's password.
func (s Service) String() string {
	return fmt.Sprintf("%+v", s.redacted())
}

// GoString is String: %#v must not show secrets either.
func (s Service) GoString() string { return s.String() }

// LogValue implements slog.LogValuer without secrets.
func (s Service) LogValue() slog.Value {
	r := s.redacted()
	return slog.GroupValue(
		slog.String("operatorsFile", r.OperatorsFile),
		slog.Duration("operatorsReload", r.OperatorsReload),
		slog.String("omsURL", r.OMS.URL),
		slog.String("omsCache", r.OMS.CacheFile),
		slog.String("natsURL", r.NATS.URL),
		slog.Bool("createStreams", r.NATS.CreateStreams),
		slog.String("postgresDSN", r.PostgresDSN),
		slog.String("vaultAddr", r.Vault.Address),
		slog.String("vaultAuth", r.Vault.Auth),
		slog.String("vaultKVMount", r.Vault.KVMount),
		slog.String("httpListen", r.HTTPListen),
		slog.Bool("shadow", r.Shadow),
		slog.String("logLevel", r.LogLevel),
		slog.Bool("pprof", r.Pprof),
	)
}

// redactedService has the same fields as Service but no methods, so that
// formatting it does not recurse into String.
type redactedService Service

func (s Service) redacted() redactedService {
	r := redactedService(s)
	r.PostgresDSN = RedactDSN(s.PostgresDSN)
	if r.Vault.Token != "" {
		r.Vault.Token = "[redacted]"
	}
	if r.Admin.Token != "" {
		r.Admin.Token = "[redacted]"
	}
	return r
}

var kvPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// RedactDSN hides the password of a PostgreSQL DSN, URL or key=value form.
func RedactDSN(dsn string) string {
	if dsn == "" {
		return ""
	}
	if scheme, _, isURL := strings.Cut(dsn, "://"); isURL {
		u, err := url.Parse(dsn)
		if err != nil {
			return scheme + "://[unparsable, redacted]"
		}
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return kvPassword.ReplaceAllString(dsn, "${1}xxxxx")
}
