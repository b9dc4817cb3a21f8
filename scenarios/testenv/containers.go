package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	tcnats "github.com/testcontainers/testcontainers-go/modules/nats"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
	tcvault "github.com/testcontainers/testcontainers-go/modules/vault"
)

// Container labels: every container testenv starts carries them, so that
// ci/cleanup-containers.sh can remove whatever a killed test run left behind.
const (
	LabelKeyProject = "smpp-connector.project"
	LabelKeySession = "smpp-connector.session"
	LabelKeyService = "smpp-connector.service"
	projectLabel    = "smpp-connector"
)

// ContainersProvider starts PostgreSQL, Vault and NATS with testcontainers-go.
//
// Ryuk (testcontainers' reaper) is disabled, since its image cannot be pulled
// where there is no registry; instead every container is labelled with the
// session, Stop terminates each one (also after a failed start), and CI runs
// ci/cleanup-containers.sh in a trap.
type ContainersProvider struct {
	session string
	images  Images

	mu         sync.Mutex
	containers []testcontainers.Container
	dirs       []string // host directories bind-mounted into containers, removed by Stop
}

// NewContainersProvider returns a provider whose containers carry the label
// smpp-connector.session=session.
func NewContainersProvider(session string, images Images) *ContainersProvider {
	return &ContainersProvider{session: session, images: images}
}

// Ryuk, testcontainers' reaper, cannot be pulled here: it is off unless the
// environment says otherwise (cleanup is the provider's and CI's job). This
// must happen before testcontainers-go reads its configuration, once, which
// any Docker call (CheckDocker too) may trigger: hence init.
func init() {
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
}

// Name implements Provider.
func (*ContainersProvider) Name() string { return ProviderContainers }

// Session is the value of the smpp-connector.session label.
func (p *ContainersProvider) Session() string { return p.session }

// Start implements Provider. It checks Docker and the images first, then
// starts the selected services in parallel.
func (p *ContainersProvider) Start(ctx context.Context, s Services) (Endpoints, error) {
	var images []string
	if s.Postgres {
		images = append(images, p.images.Postgres)
	}
	if s.Vault {
		images = append(images, p.images.Vault)
	}
	if s.NATS {
		images = append(images, p.images.NATS)
	}
	if err := CheckDocker(ctx, images...); err != nil {
		return Endpoints{}, err
	}
	configureContainerHost(ctx)

	var (
		e    = Endpoints{VaultKVMount: DefaultVaultKVMount}
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	run := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			if err := f(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("start %s: %w", name, err))
				mu.Unlock()
				return
			}
			Logf("started %s in %s", name, time.Since(t0).Round(10*time.Millisecond))
		}()
	}
	if s.Postgres {
		run("postgres ("+p.images.Postgres+")", func() error {
			dsn, err := p.startPostgres(ctx)
			e.PostgresDSN = dsn
			return err
		})
	}
	if s.Vault {
		run("vault ("+p.images.Vault+")", func() error {
			addr, token, err := p.startVault(ctx)
			e.VaultAddr, e.VaultToken = addr, token
			return err
		})
	}
	if s.NATS {
		run("nats ("+p.images.NATS+")", func() error {
			url, err := p.startNATS(ctx)
			e.NATSURL = url
			return err
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return Endpoints{}, errors.Join(errs...)
	}
	return e, nil
}

func (p *ContainersProvider) customize(service string) testcontainers.ContainerCustomizer {
	return testcontainers.WithLabels(map[string]string{
		LabelKeyProject: projectLabel,
		LabelKeySession: p.session,
		LabelKeyService: service,
	})
}

// track remembers a container for Stop, also one whose start failed (with Ryuk
// disabled it would otherwise stay behind in the Exited state).
func (p *ContainersProvider) track(c testcontainers.Container) {
	if c == nil {
		return
	}
	p.mu.Lock()
	p.containers = append(p.containers, c)
	p.mu.Unlock()
}

// EnvPostgresDurable set to 1 starts the test PostgreSQL with fsync on and
// its data on the engine's storage (not tmpfs): production's durability, for
// load measurements (make connector-load).
const EnvPostgresDurable = "SMPP_TEST_PG_DURABLE"

// EnvPostgresSettings adds settings to the test PostgreSQL's command line,
// space-separated name=value pairs (profiling: SMPP_TEST_PG_SETTINGS=
// "shared_preload_libraries=pg_stat_statements").
const EnvPostgresSettings = "SMPP_TEST_PG_SETTINGS"

func (p *ContainersProvider) startPostgres(ctx context.Context) (string, error) {
	opts := []testcontainers.ContainerCustomizer{
		tcpostgres.WithUsername("smpp"),
		tcpostgres.WithPassword(randomHex(12)),
		tcpostgres.WithDatabase("postgres"),
		tcpostgres.BasicWaitStrategies(),
		p.customize("postgres"),
	}
	durable := os.Getenv(EnvPostgresDurable) == "1"
	if durable {
		// Production's setting, for load figures: every commit flushed, to
		// a directory of the host's disk (bind-mounted: the engine's
		// fuse-overlayfs would add FUSE to every write), removed with the
		// provider.
		dir, err := os.MkdirTemp("", "smpp-pgdata-*")
		if err != nil {
			return "", fmt.Errorf("postgres data directory: %w", err)
		}
		p.mu.Lock()
		p.dirs = append(p.dirs, dir)
		p.mu.Unlock()
		opts = append(opts, testcontainers.WithCmd("postgres", "-c", "fsync=on", "-c", "synchronous_commit=on"),
			testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
				hc.Binds = append(hc.Binds, dir+":/var/lib/postgresql/data")
			}))
	} else {
		// Test databases are thrown away: keep their files in memory rather
		// than on the engine's storage driver (fuse-overlayfs here, where
		// every write crosses FUSE).
		opts = append(opts, testcontainers.WithTmpfs(map[string]string{"/var/lib/postgresql/data": "rw"}))
	}
	if extra := strings.Fields(os.Getenv(EnvPostgresSettings)); len(extra) > 0 {
		// For profiling: e.g. shared_preload_libraries=pg_stat_statements.
		cmd := []string{"postgres"}
		if durable {
			cmd = append(cmd, "-c", "fsync=on", "-c", "synchronous_commit=on")
		}
		for _, kv := range extra {
			cmd = append(cmd, "-c", kv)
		}
		opts = append(opts, testcontainers.WithCmd(cmd...))
	}
	c, err := tcpostgres.Run(ctx, p.images.Postgres, opts...)
	if c != nil {
		p.track(c)
	}
	if err != nil {
		return "", err
	}
	dsn, err := c.ConnectionString(ctx, "sslmode=disable")
	if err != nil || !durable {
		return dsn, err
	}
	return directDSN(ctx, c, dsn), nil
}

// directDSN is dsn at the container's own address, when this machine
// reaches it (the engine's bridge is local): for load figures, the
// connections go to PostgreSQL as in a deployment, not through the engine's
// userland proxy of the published port (docker-proxy), which otherwise
// takes 3 % of a 2-core machine at full speed, none of it counted as
// anyone's CPU per message. Otherwise dsn as it is.
func directDSN(ctx context.Context, c testcontainers.Container, dsn string) string {
	ip, err := c.ContainerIP(ctx)
	if err != nil || ip == "" {
		return dsn
	}
	addr := net.JoinHostPort(ip, "5432")
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return dsn
	}
	conn.Close()
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	u.Host = addr
	return u.String()
}

func (p *ContainersProvider) startVault(ctx context.Context) (addr, token string, err error) {
	token = "root-" + randomHex(8)
	c, err := tcvault.Run(ctx, p.images.Vault, tcvault.WithToken(token), p.customize("vault"))
	if c != nil {
		p.track(c)
	}
	if err != nil {
		return "", "", err
	}
	addr, err = c.HttpHostAddress(ctx)
	return addr, token, err
}

func (p *ContainersProvider) startNATS(ctx context.Context) (string, error) {
	// The module's default command is "-DV -js" (debug and trace logging); the
	// suites want JetStream without tracing every message.
	c, err := tcnats.Run(ctx, p.images.NATS, testcontainers.WithCmd("--jetstream"), p.customize("nats"))
	if c != nil {
		p.track(c)
	}
	if err != nil {
		return "", err
	}
	return c.ConnectionString(ctx)
}

// Stop implements Provider: it terminates (stops and removes, with volumes)
// every container Start made, even when the context is already cancelled.
func (p *ContainersProvider) Stop(ctx context.Context) error {
	p.mu.Lock()
	cs := p.containers
	p.containers = nil
	p.mu.Unlock()
	if ctx.Err() != nil {
		// Interrupted: still clean up, with a fresh bounded context.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
	}
	var errs []error
	for _, c := range cs {
		if err := testcontainers.TerminateContainer(c, testcontainers.StopContext(ctx),
			testcontainers.StopTimeout(5*time.Second)); err != nil {
			errs = append(errs, fmt.Errorf("terminate container %s: %w", c.GetContainerID(), err))
		}
	}
	p.mu.Lock()
	dirs := p.dirs
	p.dirs = nil
	p.mu.Unlock()
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// NewSessionID returns a fresh id for the smpp-connector.session label.
func NewSessionID() string {
	return time.Now().UTC().Format("20060102T150405") + "-" + randomHex(4)
}
