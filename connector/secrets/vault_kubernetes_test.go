package secrets

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/smpp-connector/smpp-connector/internal/testutil"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

// Kubernetes auth is tested against the real Vault and its real kubernetes
// auth method. The only stand-in is the Kubernetes API server that Vault
// asks to review the service-account token (POST
// /apis/authentication.k8s.io/v1/tokenreviews): fakeKubeAPI, served on the
// Docker bridge so that the Vault container reaches it. The JWTs are signed
// with a throwaway key; Vault trusts the TokenReview answer, as it does in a
// cluster when no public keys are configured.

type fakeKubeAPI struct {
	addr string
	mu   sync.Mutex
	seen []string // JWTs reviewed, in order
	deny bool
}

func (f *fakeKubeAPI) reviewed() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

// startFakeKubeAPI serves TokenReviews on the Docker bridge's address; it
// skips the test where the Vault container cannot reach this process.
func startFakeKubeAPI(t *testing.T) *fakeKubeAPI {
	t.Helper()
	if os.Getenv(testenv.EnvProvider) == testenv.ProviderExternal {
		t.Skip("kubernetes auth tests need the containers provider: they enable an auth method in Vault and serve a Kubernetes API it must reach")
	}
	// Opt-in: the Vault container calls back to this process on the Docker
	// bridge's address. Tests here keep to loopback by default; the
	// httptest-based login tests cover the request shape everywhere.
	if os.Getenv("SMPP_TEST_DOCKER_BRIDGE") != "1" {
		t.Skip("set SMPP_TEST_DOCKER_BRIDGE=1 to run the real Kubernetes-auth login through Vault (it serves a stand-in Kubernetes API on docker0)")
	}
	ip := ""
	if ifc, err := net.InterfaceByName("docker0"); err == nil {
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
				ip = n.IP.String()
			}
		}
	}
	if ip == "" {
		t.Skip("no docker0 bridge here: the Vault container could not reach a stand-in Kubernetes API served by this test")
	}
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeKubeAPI{addr: ln.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/apis/authentication.k8s.io/v1/tokenreviews" {
			http.NotFound(w, r)
			return
		}
		var review struct {
			Spec struct {
				Token string `json:"token"`
			} `json:"spec"`
		}
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.seen = append(f.seen, review.Spec.Token)
		deny := f.deny
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		status := `{"authenticated":true,"user":{"username":"system:serviceaccount:smpp:smpp-connector","uid":"uid-1"}}`
		if deny {
			status = `{"authenticated":false,"error":"token has been invalidated"}`
		}
		fmt.Fprintf(w, `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","status":%s}`, status)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return f
}

// kubeAuth enables Vault's kubernetes auth method at a fresh mount, pointed
// at the stand-in API, with a role that may read the operator's secret.
func kubeAuth(t *testing.T, f *fakeKubeAPI, operatorID, ttl, maxTTL string) (mount, role string) {
	t.Helper()
	c := env.VaultAdmin(t)
	mount, role = testenv.RandomName("k8s"), "smpp-connector"
	if err := c.Sys().EnableAuthWithOptions(mount, &api.EnableAuthOptions{Type: "kubernetes"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Sys().DisableAuth(mount) })
	policy := testenv.RandomName("smpp-test")
	if err := c.Sys().PutPolicy(policy, readPolicy(DefaultVaultPath(operatorID))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Sys().DeletePolicy(policy) })
	if _, err := c.Logical().Write("auth/"+mount+"/config", map[string]any{
		"kubernetes_host":      "http://" + f.addr,
		"token_reviewer_jwt":   "reviewer-token",
		"disable_local_ca_jwt": true,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().Write("auth/"+mount+"/role/"+role, map[string]any{
		"bound_service_account_names":      "smpp-connector",
		"bound_service_account_namespaces": "smpp",
		"token_policies":                   policy,
		"token_ttl":                        ttl,
		"token_max_ttl":                    maxTTL,
	}); err != nil {
		t.Fatal(err)
	}
	return mount, role
}

// serviceAccountJWT is a service-account token as Kubernetes projects it
// (claims only: the stand-in API decides whether it is valid).
func serviceAccountJWT(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	h, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": "test"})
	p, _ := json.Marshal(map[string]any{
		"iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:smpp:smpp-connector",
		"kubernetes.io/serviceaccount/namespace":            "smpp",
		"kubernetes.io/serviceaccount/service-account.name": "smpp-connector",
		"kubernetes.io/serviceaccount/service-account.uid":  "uid-1",
		"iat": now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
		"jti": testenv.RandomName("jti"),
	})
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	sum := sha256.Sum256([]byte(in))
	r, s, err := ecdsa.Sign(rand.Reader, k, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// TestKubernetesAuthRenewsAndLogsInAgain: the source logs in with the
// service-account JWT, keeps the token alive and, as the token's max TTL
// nears, logs in again, reading the (rotated) JWT file anew, before the
// token expires: reads never fail and never need the permission-denied
// fallback.
func TestKubernetesAuthRenewsAndLogsInAgain(t *testing.T) {
	kube := startFakeKubeAPI(t)
	op := testenv.RandomName("mno")
	put(t, DefaultVaultPath(op), map[string]any{"system_id": "acme", "password": "s3cret"})
	mount, role := kubeAuth(t, kube, op, "2s", "4s")
	jwtPath := filepath.Join(t.TempDir(), "token")
	jwt1 := serviceAccountJWT(t)
	writeFile(t, jwtPath, jwt1+"\n")

	v, logs := newVault(t, VaultConfig{Auth: KubernetesAuth{Role: role, JWTPath: jwtPath, Mount: mount}})
	ctx := context.Background()
	if c, err := v.Get(ctx, op); err != nil || c.Password != "s3cret" {
		t.Fatalf("after login: %v %v", c, err)
	}
	if seen := kube.reviewed(); len(seen) != 1 || seen[0] != jwt1 {
		t.Fatalf("reviews: %d", len(seen))
	}
	first := v.c.Token()

	// Kubernetes rotates the projected token; the next login must use it.
	jwt2 := serviceAccountJWT(t)
	writeFile(t, jwtPath, jwt2)

	// Read throughout, until the events the test is about have happened (two
	// logins after the first, the last with the rotated JWT, and a renewal)
	// rather than for a fixed time that a slow machine may not fill.
	start := time.Now()
	testutil.WaitFor(t, 30*time.Second, 200*time.Millisecond, func() error {
		if _, err := v.Get(ctx, op); err != nil {
			t.Fatalf("read failed after %s: %v\n%s", time.Since(start), err, logs.String())
		}
		seen := kube.reviewed()
		if len(seen) < 3 || seen[len(seen)-1] != jwt2 || !logs.Contains("token renewed") {
			return fmt.Errorf("%d logins, last with the rotated JWT: %v, renewed: %v",
				len(seen), len(seen) > 0 && seen[len(seen)-1] == jwt2, logs.Contains("token renewed"))
		}
		return nil
	})
	seen := kube.reviewed()
	if len(seen) < 3 || seen[len(seen)-1] != jwt2 {
		t.Fatalf("%d logins, last with the rotated JWT: %v\n%s", len(seen), len(seen) > 0 && seen[len(seen)-1] == jwt2, logs.String())
	}
	if v.c.Token() == first {
		t.Error("still the first token")
	}
	l := logs.String()
	if !strings.Contains(l, "token renewed") {
		t.Errorf("no renewal logged:\n%s", l)
	}
	if strings.Contains(l, "permission denied; logging in again") {
		t.Errorf("a read hit an expired token before the new login:\n%s", l)
	}
	if strings.Contains(l, jwt1) || strings.Contains(l, jwt2) || strings.Contains(l, "hvs.") {
		t.Errorf("logs show a JWT or a token:\n%s", l)
	}
}

// TestKubernetesAuthLogsInAgainAfterRevocation: a token revoked behind the
// source's back is replaced on the first permission-denied answer.
func TestKubernetesAuthLogsInAgainAfterRevocation(t *testing.T) {
	kube := startFakeKubeAPI(t)
	op := testenv.RandomName("mno")
	put(t, DefaultVaultPath(op), map[string]any{"system_id": "acme", "password": "s3cret"})
	mount, role := kubeAuth(t, kube, op, "1h", "2h")
	jwtPath := filepath.Join(t.TempDir(), "token")
	writeFile(t, jwtPath, serviceAccountJWT(t))
	defer func(d time.Duration) { reloginAfter = d }(reloginAfter)
	reloginAfter = 0

	v, logs := newVault(t, VaultConfig{Auth: KubernetesAuth{Role: role, JWTPath: jwtPath, Mount: mount}})
	if err := env.VaultAdmin(t).Auth().Token().RevokeOrphan(v.c.Token()); err != nil {
		t.Fatal(err)
	}
	if c, err := v.Get(context.Background(), op); err != nil || c.Password != "s3cret" {
		t.Fatalf("after revocation: %v %v\n%s", c, err, logs.String())
	}
	if n := len(kube.reviewed()); n != 2 {
		t.Fatalf("%d logins, want 2", n)
	}

	// A read the policy does not allow is an error, not a reason to log in.
	other := testenv.RandomName("mno")
	put(t, DefaultVaultPath(other), map[string]any{"system_id": "acme", "password": "x"})
	if _, err := v.Get(context.Background(), other); !errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("denied by policy: %v", err)
	}
	if n := len(kube.reviewed()); n != 2 {
		t.Fatalf("%d logins after a policy denial, want 2", n)
	}
}

func TestKubernetesAuthErrors(t *testing.T) {
	kube := startFakeKubeAPI(t)
	op := testenv.RandomName("mno")
	mount, role := kubeAuth(t, kube, op, "1h", "2h")
	dir := t.TempDir()
	jwt := serviceAccountJWT(t)
	good := filepath.Join(dir, "token")
	writeFile(t, good, jwt)
	empty := filepath.Join(dir, "empty")
	writeFile(t, empty, "\n")

	login := func(a KubernetesAuth) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		v, err := NewVault(ctx, VaultConfig{Address: env.VaultAddr, KVMount: env.VaultKVMount, Auth: a})
		if err == nil {
			v.Close()
		}
		return err
	}
	where := fmt.Sprintf(`vault: kubernetes auth: log in at auth/%s/login as role %q: `, mount, role)
	for _, tc := range []struct {
		name string
		auth KubernetesAuth
		deny bool
		want string
	}{
		{"no JWT file", KubernetesAuth{Role: role, Mount: mount, JWTPath: filepath.Join(dir, "missing")},
			false, where + "read service-account token: open " + filepath.Join(dir, "missing") + ": no such file or directory"},
		{"empty JWT file", KubernetesAuth{Role: role, Mount: mount, JWTPath: empty},
			false, where + "service-account token " + empty + " is empty"},
		{"no role", KubernetesAuth{Mount: mount, JWTPath: good},
			false, fmt.Sprintf(`vault: kubernetes auth: log in at auth/%s/login as role "": no role`, mount)},
		{"unknown role", KubernetesAuth{Role: "nobody", Mount: mount, JWTPath: good},
			false, fmt.Sprintf(`vault: kubernetes auth: log in at auth/%s/login as role "nobody": HTTP 400: invalid role name "nobody"`, mount)},
		{"JWT refused by Kubernetes", KubernetesAuth{Role: role, Mount: mount, JWTPath: good},
			true, where + "permission denied"},
		{"auth method not mounted", KubernetesAuth{Role: role, Mount: "no-such-mount", JWTPath: good},
			false, `vault: kubernetes auth: log in at auth/no-such-mount/login as role "smpp-connector": `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kube.mu.Lock()
			kube.deny = tc.deny
			kube.mu.Unlock()
			err := login(tc.auth)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got  %v\nwant %s", err, tc.want)
			}
			if strings.Contains(err.Error(), jwt) {
				t.Fatalf("the error shows the JWT: %v", err)
			}
			if tc.deny && !errors.Is(err, ErrPermissionDenied) {
				t.Fatalf("not ErrPermissionDenied: %v", err)
			}
		})
	}
}

// TestKubernetesLoginRequest checks the login request itself where the real
// Vault cannot be used with its kubernetes auth method (no Docker bridge): a
// stand-in for the login endpoint ONLY (auth/<mount>/login) records what the
// source sends. Everything else about Kubernetes auth is tested above
// against the real Vault.
func TestKubernetesLoginRequest(t *testing.T) {
	var (
		mu   sync.Mutex
		reqs []map[string]any
		hdrs []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut || r.URL.Path != "/v1/auth/k8s-prod/login" {
			http.Error(w, `{"errors":["unexpected request"]}`, http.StatusNotFound)
			return
		}
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		reqs = append(reqs, body)
		hdrs = append(hdrs, r.Header.Get("X-Vault-Token"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"auth":{"client_token":"hvs.issued","lease_duration":3600,"renewable":true}}`)
	}))
	defer srv.Close()

	jwtPath := filepath.Join(t.TempDir(), "token")
	writeFile(t, jwtPath, "header.payload.signature\n")
	v, err := NewVault(context.Background(), VaultConfig{
		Address: srv.URL,
		Auth:    KubernetesAuth{Role: "smpp-connector", JWTPath: jwtPath, Mount: "/k8s-prod/"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if v.c.Token() != "hvs.issued" {
		t.Fatal("the issued token is not in use")
	}
	v.c.SetToken("hvs.stale")
	if _, err := v.login(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reqs) != 2 {
		t.Fatalf("%d login requests", len(reqs))
	}
	for i, r := range reqs {
		if r["role"] != "smpp-connector" || r["jwt"] != "header.payload.signature" || len(r) != 2 {
			t.Errorf("login %d: body %v", i, r)
		}
		if hdrs[i] != "" {
			t.Errorf("login %d sent a token (%q): logins must not carry the old, maybe expired, one", i, hdrs[i])
		}
	}
}
