package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
	kubeauth "github.com/hashicorp/vault/api/auth/kubernetes"
)

// VaultAuth is how the Vault source gets its token: TokenAuth or
// KubernetesAuth.
type VaultAuth interface {
	method() string
	// authenticate makes c use a valid token and returns its auth data
	// (lease duration, renewable).
	authenticate(ctx context.Context, c *api.Client) (*api.Secret, error)
	// canLogin says whether a new token can be had when the current one
	// cannot be renewed any more.
	canLogin() bool
}

// TokenAuth uses a given token (local runs, CI). It is renewed while Vault
// allows; past its max TTL a new one must be given.
type TokenAuth struct {
	Token string
}

func (TokenAuth) method() string { return "token" }
func (TokenAuth) canLogin() bool { return false }

func (a TokenAuth) authenticate(ctx context.Context, c *api.Client) (*api.Secret, error) {
	if a.Token == "" {
		return nil, errors.New("no token")
	}
	c.SetToken(a.Token)
	s, err := c.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("check token (auth/token/lookup-self): %w", vaultError(err, a.Token))
	}
	ttl, _ := s.TokenTTL()
	renewable, _ := s.TokenIsRenewable()
	out := &api.Secret{Auth: &api.SecretAuth{ClientToken: a.Token, Renewable: renewable, LeaseDuration: int(ttl / time.Second)}}
	// Renewals ask for the TTL the token was created with, not for what is
	// left of it.
	if n, ok := s.Data["creation_ttl"].(json.Number); ok {
		if c, err := n.Int64(); err == nil && c > 0 {
			out.Data = map[string]any{"creation_ttl": int(c)}
		}
	}
	return out, nil
}

// KubernetesAuth logs in with the pod's service-account token (a JWT) at
// auth/<Mount>/login, as Role.
type KubernetesAuth struct {
	Role string
	// JWTPath is the service-account token file (default
	// /var/run/secrets/kubernetes.io/serviceaccount/token). It is read again
	// at every login: Kubernetes rotates projected tokens.
	JWTPath string
	// Mount is where the auth method is mounted (default kubernetes).
	Mount string
}

// DefaultJWTPath is where Kubernetes mounts the service-account token.
const DefaultJWTPath = "/var/run/secrets/kubernetes.io/serviceaccount/token"

func (KubernetesAuth) method() string { return "kubernetes" }
func (KubernetesAuth) canLogin() bool { return true }

func (a KubernetesAuth) authenticate(ctx context.Context, c *api.Client) (*api.Secret, error) {
	role, path, mount := a.Role, a.JWTPath, strings.Trim(a.Mount, "/")
	if path == "" {
		path = DefaultJWTPath
	}
	if mount == "" {
		mount = "kubernetes"
	}
	where := fmt.Sprintf("log in at auth/%s/login as role %q", mount, role)
	if role == "" {
		return nil, fmt.Errorf("%s: no role", where)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: read service-account token: %w", where, err)
	}
	jwt := strings.TrimSpace(string(b))
	if jwt == "" {
		return nil, fmt.Errorf("%s: service-account token %s is empty", where, path)
	}
	k, err := kubeauth.NewKubernetesAuth(role, kubeauth.WithServiceAccountToken(jwt), kubeauth.WithMountPath(mount))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	// Log in without the old (maybe expired) token.
	lc, err := c.Clone()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	lc.ClearToken()
	s, err := k.Login(ctx, lc)
	if err != nil {
		err = vaultError(err, jwt, c.Token())
		if errors.Is(err, ErrPermissionDenied) {
			return nil, fmt.Errorf("%s: %w (the service-account token was refused, or no kubernetes auth method is mounted there)", where, err)
		}
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return nil, fmt.Errorf("%s: the answer holds no token", where)
	}
	c.SetToken(s.Auth.ClientToken)
	return s, nil
}

// login authenticates and hands the new token's lease to the keep-alive
// loop.
func (v *Vault) login(ctx context.Context) (*api.Secret, error) {
	return v.loginNotify(ctx, true)
}

func (v *Vault) loginNotify(ctx context.Context, notify bool) (*api.Secret, error) {
	v.loginMu.Lock()
	defer v.loginMu.Unlock()
	s, err := v.auth.authenticate(ctx, v.c)
	if err != nil {
		return nil, fmt.Errorf("vault: %s auth: %w", v.auth.method(), err)
	}
	v.lastLogin = time.Now()
	if notify {
		select {
		case <-v.newAuth:
		default:
		}
		v.newAuth <- s
	}
	v.log.Info("vault: authenticated", "ttl", time.Duration(s.Auth.LeaseDuration)*time.Second, "renewable", s.Auth.Renewable)
	return s, nil
}

// reloginAfter is how long after a login a permission-denied answer may
// trigger another one (a variable for tests).
var reloginAfter = 5 * time.Second

// retryOnDenied runs op and, when Vault answers permission denied, tells a
// refusal by policy (the token is fine: auth/token/lookup-self answers;
// returned as it is, ErrPermissionDenied) from a token that is no longer
// valid (expired, revoked). For the latter it logs in again, when the auth
// method can and the last login is not too recent, and retries once; when
// it cannot, or the login fails, it returns a *tokenError (ErrUnavailable,
// ErrTokenInvalid): the connector's own access is broken, which says
// nothing about the credential.
//
// The token's policy must allow auth/token/lookup-self, as Vault's default
// policy does: without it a policy refusal cannot be told from an invalid
// token.
func (v *Vault) retryOnDenied(ctx context.Context, op func() error) error {
	err := op()
	if err == nil || !errors.Is(vaultError(err), ErrPermissionDenied) {
		return err
	}
	_, lerr := v.c.Auth().Token().LookupSelfWithContext(ctx)
	if lerr == nil {
		return err // the token is fine: the policy says no
	}
	if !errors.Is(vaultError(lerr), ErrPermissionDenied) {
		return lerr // Vault went away meanwhile: unavailable
	}
	if !v.auth.canLogin() {
		return &tokenError{detail: "token auth cannot log in again: give the service a new token"}
	}
	v.loginMu.Lock()
	recent := time.Since(v.lastLogin) < reloginAfter
	v.loginMu.Unlock()
	if recent {
		return &tokenError{detail: fmt.Sprintf("refused again within %v of the last login", reloginAfter)}
	}
	v.log.Info("vault: permission denied; logging in again in case the token expired or was revoked")
	if _, lerr := v.login(ctx); lerr != nil {
		v.log.Warn("vault: login again after permission denied", "error", lerr)
		return &tokenError{detail: "logging in again failed: " + lerr.Error()}
	}
	return op()
}

// tokenError: Vault refused the connector's token itself and no new one
// could be had. It is ErrUnavailable and ErrTokenInvalid; its detail (a
// login error, already redacted) is text only, so that a refused login is
// not mistaken for a refusal of the secret (ErrPermissionDenied).
type tokenError struct{ detail string }

func (e *tokenError) Error() string {
	return "the Vault token is no longer valid (expired or revoked) and " + e.detail
}

func (e *tokenError) Is(target error) bool {
	return target == ErrUnavailable || target == ErrTokenInvalid
}

// Re-login backoff, and the shortest wait between two renewal attempts.
const (
	loginBackoffMin = time.Second
	loginBackoffMax = 30 * time.Second
	minRenewWait    = 250 * time.Millisecond
)

// tokenLease is what the keep-alive loop knows of the current token.
type tokenLease struct {
	ttl       time.Duration // granted at login: what renewals ask for
	expires   time.Time
	renewable bool
	capped    bool // a renewal came back shorter than ttl: the max TTL is near
}

func leaseOf(s *api.Secret) tokenLease {
	if s == nil || s.Auth == nil || s.Auth.LeaseDuration <= 0 {
		return tokenLease{} // never expires (a root token, say)
	}
	left := time.Duration(s.Auth.LeaseDuration) * time.Second
	ttl := left
	if c, ok := s.Data["creation_ttl"].(int); ok && c > 0 {
		ttl = time.Duration(c) * time.Second // a given token's TTL, of which left remains
	}
	return tokenLease{ttl: ttl, expires: time.Now().Add(left), renewable: s.Auth.Renewable}
}

// keepAlive keeps the token valid. At half of its remaining lease it renews
// it, asking for the TTL granted at login. While Vault grants that, all is
// well; once a renewal comes back shorter, the token's max TTL is near and,
// with Kubernetes auth, the loop logs in again at once, long before the
// token expires (not at the last moment: Vault rounds the max TTL to whole
// seconds, so the TTL a renewal reports can outlast the token). A token that
// cannot be renewed is replaced at half its lease; one Vault refuses to
// renew (revoked) or that expired while Vault was unreachable is replaced
// with backoff. A given token (TokenAuth) can only be renewed: the loop
// logs when it is about to expire for good.
func (v *Vault) keepAlive(ctx context.Context, s *api.Secret) {
	defer close(v.done)
	l := leaseOf(s)
	warnedCap := false
	for {
		var tick <-chan time.Time
		var t *time.Timer
		if l.ttl > 0 {
			t = time.NewTimer(max(time.Until(l.expires)/2, minRenewWait))
			tick = t.C
		}
		stop := func() {
			if t != nil {
				t.Stop()
			}
		}
		select {
		case <-ctx.Done():
			stop()
			return
		case s = <-v.newAuth: // logged in again meanwhile
			stop()
			l, warnedCap = leaseOf(s), false
			continue
		case <-tick:
		}

		relogin := !l.renewable || l.capped
		if l.renewable && !l.capped {
			r, err := v.c.Auth().Token().RenewSelfWithContext(ctx, int(l.ttl/time.Second))
			switch {
			case err == nil && r != nil && r.Auth != nil:
				got := time.Duration(r.Auth.LeaseDuration) * time.Second
				l.expires = time.Now().Add(got)
				v.log.Debug("vault: token renewed", "ttl", got)
				if got < l.ttl {
					l.capped, relogin = true, true
				}
			case ctx.Err() != nil:
				return
			case errors.Is(vaultError(err), ErrPermissionDenied):
				v.log.Warn("vault: token renewal refused (revoked or expired?)")
				l.expires, relogin = time.Now(), true
			default:
				v.log.Warn("vault: token renewal failed; retrying", "error", vaultError(err, v.c.Token()), "expires_in", time.Until(l.expires).Round(time.Second))
				relogin = !time.Now().Before(l.expires)
			}
		}
		if !relogin {
			continue
		}
		if !v.auth.canLogin() {
			switch {
			case !time.Now().Before(l.expires):
				v.log.Error("vault: the token has expired: give the service a new one")
				l = tokenLease{}
			case !warnedCap:
				v.log.Warn("vault: the token reaches its max TTL and cannot be renewed further: give the service a new one",
					"expires", l.expires.UTC().Format(time.RFC3339))
				warnedCap = true
			}
			continue
		}
		if l.capped {
			v.log.Info("vault: token near its max TTL; logging in again")
		}
		backoff := loginBackoffMin
		for {
			_, err := v.login(ctx)
			if err == nil {
				break
			}
			v.log.Warn("vault: login again", "error", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, loginBackoffMax)
		}
		// login handed the new lease over through newAuth.
	}
}
