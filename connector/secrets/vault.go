package secrets

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"
)

// DefaultVaultPath is an operator's credential path inside the KV v2 mount
// when VaultConfig.Paths has none for it.
func DefaultVaultPath(operatorID string) string { return "smpp/operators/" + operatorID }

// VaultConfig configures a Vault source.
type VaultConfig struct {
	// Address of Vault, e.g. https://vault.vault.svc:8200. Ignored when
	// Client is set.
	Address string
	// Client, optional, is used as it is (TLS settings, timeouts, namespace);
	// its token is replaced by the one Auth gets.
	Client *api.Client
	// Auth is TokenAuth or KubernetesAuth.
	Auth VaultAuth
	// KVMount is the KV v2 mount (default "secret").
	KVMount string
	// Paths maps operator ids to their secret's path inside the mount;
	// operators not listed use DefaultVaultPath.
	Paths map[string]string
	// Logger for renewals, re-logins and rotations (default slog.Default()).
	Logger *slog.Logger
}

// Vault reads credentials from Vault's KV v2 engine. NewVault authenticates;
// the token is then renewed in the background and, with Kubernetes auth,
// replaced by a new login before it expires. Close stops that.
type Vault struct {
	c     *api.Client
	kv    *api.KVv2
	mount string
	pmu   sync.RWMutex
	paths map[string]string // guarded by pmu (SetPath)
	auth  VaultAuth
	log   *slog.Logger

	loginMu   sync.Mutex
	lastLogin time.Time
	// newAuth hands a fresh login to the keep-alive loop (latest wins).
	newAuth chan *api.Secret

	cancel context.CancelFunc
	done   chan struct{}
}

// NewVault connects and authenticates: with token auth it checks the token
// (auth/token/lookup-self), with Kubernetes auth it logs in. Errors say which.
func NewVault(ctx context.Context, cfg VaultConfig) (*Vault, error) {
	if cfg.Auth == nil {
		return nil, errors.New("vault: no auth method configured")
	}
	c := cfg.Client
	if c == nil {
		conf := api.DefaultConfig()
		if conf.Error != nil {
			return nil, fmt.Errorf("vault: client configuration: %w", conf.Error)
		}
		conf.Address = cfg.Address
		conf.Timeout = 15 * time.Second
		var err error
		if c, err = api.NewClient(conf); err != nil {
			return nil, fmt.Errorf("vault: client for %s: %w", cfg.Address, err)
		}
	}
	mount := strings.Trim(cfg.KVMount, "/")
	if mount == "" {
		mount = "secret"
	}
	v := &Vault{
		c:       c,
		kv:      c.KVv2(mount),
		mount:   mount,
		paths:   maps.Clone(cfg.Paths),
		auth:    cfg.Auth,
		log:     cfg.Logger,
		newAuth: make(chan *api.Secret, 1),
		done:    make(chan struct{}),
	}
	if v.log == nil {
		v.log = slog.Default()
	}
	v.log = v.log.With("component", "vault", "auth", cfg.Auth.method())
	s, err := v.loginNotify(ctx, false)
	if err != nil {
		return nil, err
	}
	kctx, cancel := context.WithCancel(context.Background())
	v.cancel = cancel
	go v.keepAlive(kctx, s)
	return v, nil
}

// Close stops renewing the token. It does not revoke it: a restarted process
// logs in again, and Kubernetes auth tokens expire on their own.
func (v *Vault) Close() {
	v.cancel()
	<-v.done
}

// Path is the operator's secret path, with its mount, as errors name it.
func (v *Vault) Path(operatorID string) string { return v.mount + "/" + v.relPath(operatorID) }

// SetPath points the operator at another secret inside the mount (""
// restores DefaultVaultPath), while the connector runs.
func (v *Vault) SetPath(operatorID, relPath string) {
	v.pmu.Lock()
	defer v.pmu.Unlock()
	if relPath == "" {
		delete(v.paths, operatorID)
		return
	}
	if v.paths == nil {
		v.paths = map[string]string{}
	}
	v.paths[operatorID] = relPath
}

func (v *Vault) relPath(operatorID string) string {
	v.pmu.RLock()
	p, ok := v.paths[operatorID]
	v.pmu.RUnlock()
	if ok {
		return p
	}
	return DefaultVaultPath(operatorID)
}

func (v *Vault) fail(operatorID, op string, err error) error {
	return &Error{Source: "vault", Operator: operatorID, Op: op, Path: v.Path(operatorID), Err: err}
}

// Get implements Source: the latest version of the operator's secret.
func (v *Vault) Get(ctx context.Context, operatorID string) (Credential, error) {
	return v.read(ctx, operatorID, 0)
}

// read reads one version (0: the latest).
func (v *Vault) read(ctx context.Context, operatorID string, version int) (Credential, error) {
	var s *api.KVSecret
	err := v.retryOnDenied(ctx, func() error {
		var err error
		if version == 0 {
			s, err = v.kv.Get(ctx, v.relPath(operatorID))
		} else {
			s, err = v.kv.GetVersion(ctx, v.relPath(operatorID), version)
		}
		return err
	})
	if err != nil {
		return Credential{}, v.fail(operatorID, "read", vaultError(err, v.c.Token()))
	}
	if s == nil || s.Data == nil {
		// The version is deleted or destroyed.
		return Credential{}, v.fail(operatorID, "read", fmt.Errorf("%w (the latest version is deleted)", ErrNotFound))
	}
	c, err := fromMap(s.Data)
	if err != nil {
		return Credential{}, v.fail(operatorID, "read", err)
	}
	if s.VersionMetadata != nil {
		c.Version = strconv.Itoa(s.VersionMetadata.Version)
		c.Revision, c.Created = s.VersionMetadata.Version, s.VersionMetadata.CreatedTime
	}
	return c, nil
}

// Probe reads relPath inside the KV mount and tells only whether the read
// was allowed: nil (a secret is there; it is dropped unread), ErrNotFound
// (allowed, nothing there), ErrPermissionDenied (the policy refuses it), or
// another error. It is preflight's check that the connector's identity
// reads the operators' credentials and nothing beside them.
func (v *Vault) Probe(ctx context.Context, relPath string) error {
	_, err := v.kv.Get(ctx, relPath)
	return vaultError(err, v.c.Token())
}

// currentVersion is the secret's current version from its metadata, which
// is cheaper than reading the secret and does not fetch the password.
func (v *Vault) currentVersion(ctx context.Context, operatorID string) (int, error) {
	var md *api.KVMetadata
	err := v.retryOnDenied(ctx, func() error {
		var err error
		md, err = v.kv.GetMetadata(ctx, v.relPath(operatorID))
		return err
	})
	if err != nil {
		return 0, &Error{Source: "vault", Operator: operatorID, Op: "read metadata of",
			Path: v.Path(operatorID), Err: vaultError(err, v.c.Token())}
	}
	return md.CurrentVersion, nil
}

// Watch implements Source by polling the secret's metadata for its current
// version and reading that version when it changes. A policy that allows
// reading <mount>/data/... but not <mount>/metadata/... makes it poll the
// secret itself instead.
func (v *Vault) Watch(ctx context.Context, operatorID string, every time.Duration) <-chan Credential {
	log := v.log.With("operator", operatorID, "path", v.Path(operatorID))
	useData := false
	poll := func() (int, Credential, error) {
		if !useData {
			ver, err := v.currentVersion(ctx, operatorID)
			if !errors.Is(err, ErrPermissionDenied) {
				return ver, Credential{}, err
			}
			log.Warn("vault: metadata not readable, watching the secret itself", "error", err)
			useData = true
		}
		c, err := v.Get(ctx, operatorID)
		if err != nil {
			return 0, Credential{}, err
		}
		ver, _ := strconv.Atoi(c.Version)
		return ver, c, nil
	}
	last, _, err := poll() // the baseline
	if err != nil && ctx.Err() == nil {
		log.Warn("vault: watch: current version unknown; the first one read will be sent", "error", err)
	}
	var lastErr string
	return watch(ctx, every, func() (Credential, bool) {
		ver, c, err := poll()
		if err == nil && ver != last && c.Version == "" {
			c, err = v.read(ctx, operatorID, ver)
		}
		if err != nil {
			// Logged once per distinct problem, retried at every tick.
			if msg := err.Error(); msg != lastErr && ctx.Err() == nil {
				log.Warn("vault: watch", "error", err)
				lastErr = msg
			}
			return Credential{}, false
		}
		lastErr = ""
		if ver == last {
			return Credential{}, false
		}
		log.Info("vault: new credential version", "version", ver, "previous", last)
		last = ver
		return c, true
	})
}

// vaultError turns a vault/api error into one that names the problem in a
// line, without URLs or response bodies: the status code and Vault's own
// error strings when the body was Vault's JSON, each redacted (secrets, the
// token and JWT in use, and anything token-like) and capped.
func vaultError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, api.ErrSecretNotFound) {
		return ErrNotFound
	}
	var te *tokenError
	if errors.As(err, &te) {
		return te // already says what it is, and holds no secret
	}
	var re *api.ResponseError
	if errors.As(err, &re) {
		switch re.StatusCode {
		case http.StatusForbidden:
			return ErrPermissionDenied
		case http.StatusNotFound:
			return ErrNotFound
		}
		msg := http.StatusText(re.StatusCode)
		if len(re.Errors) > 0 && !re.RawError {
			details := make([]string, len(re.Errors))
			for i, e := range re.Errors {
				details[i] = capText(redact(e, secrets...), maxDetail)
			}
			msg = capText(strings.Join(details, "; "), maxDetails)
		}
		out := fmt.Errorf("HTTP %d: %s", re.StatusCode, msg)
		// 5xx: Vault sealed (503), a standby that cannot answer, a
		// proxy in front of Vault with no Vault behind it (502, 504), an
		// internal error. 429: rate limited or an unhealthy standby. 412:
		// a performance standby not yet caught up. None says anything about
		// the secret: ErrUnavailable.
		if re.StatusCode >= 500 || re.StatusCode == http.StatusTooManyRequests || re.StatusCode == http.StatusPreconditionFailed {
			return unavailable(out)
		}
		return out
	}
	// Not an answer from Vault (a transport error: refused, reset, DNS,
	// TLS, a timeout): ErrUnavailable. Its text should hold no body, but it
	// is redacted all the same.
	if msg := err.Error(); redact(msg, secrets...) != msg {
		return unavailable(&redactedError{msg: capText(redact(msg, secrets...), maxDetails), err: err})
	}
	return unavailable(err)
}
