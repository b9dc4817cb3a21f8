package framework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	vault "github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	. "github.com/onsi/ginkgo/v2" //nolint:revive // the Ginkgo DSL reads best unqualified

	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

// Env is a suite's environment: where the services are and which fixtures were
// made on them. SetupSuite returns it empty and fills it in before the first
// spec; on every parallel process it holds the same values.
type Env struct {
	Suite    string `json:"suite"`
	Provider string `json:"provider"`
	// Session labels the containers (smpp-connector.session); empty for external.
	Session string `json:"session,omitempty"`
	// Endpoints reach the services themselves (PostgresDSN is the admin DSN).
	Endpoints testenv.Endpoints `json:"endpoints"`

	// Database is the suite's own database, migrated to SchemaVersion, and
	// DatabaseDSN reaches it.
	Database      string `json:"database,omitempty"`
	DatabaseDSN   string `json:"databaseDSN,omitempty"`
	SchemaVersion int64  `json:"schemaVersion,omitempty"`

	// Operators are the credentials in Vault (as stored, when they existed).
	Operators []testenv.OperatorCredential `json:"operators,omitempty"`
	// Streams maps each of the contract's streams (natscontract) to the
	// stream in use: the same name, or the one an external server already
	// had for its subjects.
	Streams map[string]string `json:"streams,omitempty"`
}

// Operator returns the credential of operator id, failing the spec if the
// suite did not seed it.
func (e *Env) Operator(id string) testenv.OperatorCredential {
	GinkgoHelper()
	for _, op := range e.Operators {
		if op.OperatorID == id {
			return op
		}
	}
	Fail(fmt.Sprintf("operator %q was not seeded (framework.WithOperators)", id))
	return testenv.OperatorCredential{}
}

// Stream returns the name of the stream in use for one of the contract's
// (natscontract.DispatchStream, say).
func (e *Env) Stream(name string) string {
	if n, ok := e.Streams[name]; ok {
		return n
	}
	return name
}

// Postgres opens a pgx pool on the suite's database, closed when the calling
// node's scope ends (DeferCleanup).
func (e *Env) Postgres(ctx context.Context) *pgxpool.Pool {
	GinkgoHelper()
	if e.DatabaseDSN == "" {
		Fail("this suite has no PostgreSQL (framework.WithServices)")
	}
	pool, err := pgxpool.New(ctx, e.DatabaseDSN)
	if err != nil {
		Fail(fmt.Sprintf("open PostgreSQL pool: %v", err))
	}
	DeferCleanup(pool.Close)
	return pool
}

// Vault returns a Vault client with the environment's token.
func (e *Env) Vault() *vault.Client {
	GinkgoHelper()
	if e.Endpoints.VaultAddr == "" {
		Fail("this suite has no Vault (framework.WithServices)")
	}
	c, err := testenv.NewVaultClient(e.Endpoints.VaultAddr, e.Endpoints.VaultToken)
	if err != nil {
		Fail(err.Error())
	}
	return c
}

// KV returns the KV v2 engine holding the operator credentials.
func (e *Env) KV() *vault.KVv2 {
	GinkgoHelper()
	return e.Vault().KVv2(e.Endpoints.VaultKVMount)
}

// NATS connects to NATS; the connection is closed when the calling node's
// scope ends.
func (e *Env) NATS() *nats.Conn {
	GinkgoHelper()
	if e.Endpoints.NATSURL == "" {
		Fail("this suite has no NATS (framework.WithServices)")
	}
	nc, err := testenv.ConnectNATS(e.Endpoints.NATSURL, e.Suite+"-"+fmt.Sprint(GinkgoParallelProcess()))
	if err != nil {
		Fail(err.Error())
	}
	DeferCleanup(nc.Close)
	return nc
}

// JetStream returns a JetStream context on a fresh NATS connection (see NATS).
func (e *Env) JetStream() jetstream.JetStream {
	GinkgoHelper()
	js, err := jetstream.New(e.NATS())
	if err != nil {
		Fail(fmt.Sprintf("jetstream: %v", err))
	}
	return js
}

// Option configures SetupSuite.
type Option func(*suiteConfig)

type suiteConfig struct {
	services     testenv.Services
	operators    []testenv.OperatorCredential
	gates        string
	startTimeout time.Duration
	provider     func(session string) (testenv.Provider, error)
}

// WithServices selects the services (default testenv.AllServices).
func WithServices(s testenv.Services) Option { return func(c *suiteConfig) { c.services = s } }

// WithOperators seeds these operator credentials into Vault.
func WithOperators(ops ...testenv.OperatorCredential) Option {
	return func(c *suiteConfig) { c.operators = append(c.operators, ops...) }
}

// WithGates names the gate group of scenarios/gates.yaml whose criteria this
// suite reports (default: the suite name).
func WithGates(group string) Option { return func(c *suiteConfig) { c.gates = group } }

// WithStartTimeout bounds environment start-up and fixtures (default 5 min).
func WithStartTimeout(d time.Duration) Option { return func(c *suiteConfig) { c.startTimeout = d } }

// WithProvider overrides the provider chosen from SMPP_TEST_ENV (for tests of
// the framework itself).
func WithProvider(f func(session string) (testenv.Provider, error)) Option {
	return func(c *suiteConfig) { c.provider = f }
}

// SetupSuite registers, at package level of a suite, the nodes that start the
// environment and its fixtures once (on parallel process 1), share them with
// every process, tear everything down at the end of the suite (also after a
// failure or an interrupt), and write the gate reports. It returns the Env that
// specs use.
func SetupSuite(name string, opts ...Option) *Env {
	cfg := suiteConfig{
		services:     testenv.AllServices,
		gates:        name,
		startTimeout: 5 * time.Minute,
		provider:     testenv.ProviderFromEnv,
	}
	for _, o := range opts {
		o(&cfg)
	}
	// The environment's progress lines belong with the spec output, shown
	// when a spec fails or with -v.
	testenv.SetLogOutput(GinkgoWriter)
	env := &Env{}
	SynchronizedBeforeSuite(func(ctx SpecContext) []byte {
		e, err := startEnv(ctx, name, cfg)
		if err != nil {
			Fail(err.Error())
		}
		b, err := json.Marshal(e)
		if err != nil {
			Fail(fmt.Sprintf("encode environment: %v", err))
		}
		return b
	}, func(_ SpecContext, b []byte) {
		if err := json.Unmarshal(b, env); err != nil {
			Fail(fmt.Sprintf("decode environment: %v", err))
		}
	}, NodeTimeout(cfg.startTimeout))
	ReportAfterSuite(name+" gate report", func(r Report) {
		// The HTML report's trend compares with the previous summary, which
		// WriteReports replaces; the page is written whether or not the gates
		// passed (a failed gate is when it is read most).
		prev := KeepPreviousSummary(name)
		gates := WriteReports(name, cfg.gates, r)
		if err := errors.Join(prev, gates, WriteRunReport(name, r)); err != nil {
			Fail(err.Error())
		}
	})
	return env
}

// cleanupTimeout bounds each teardown step.
const cleanupTimeout = 2 * time.Minute

// deferCleanup registers a teardown step that runs at the end of the suite (it
// is called from SynchronizedBeforeSuite's first function), even after an
// interrupt: the context is then replaced by a fresh bounded one.
func deferCleanup(what string, f testenv.CleanupFunc) {
	DeferCleanup(func(ctx SpecContext) error {
		c := context.Context(ctx)
		if c.Err() != nil {
			var cancel context.CancelFunc
			c, cancel = context.WithTimeout(context.WithoutCancel(c), cleanupTimeout)
			defer cancel()
		}
		t0 := time.Now()
		if err := f(c); err != nil {
			return fmt.Errorf("teardown %s: %w", what, err)
		}
		logf("teardown %s done in %s", what, time.Since(t0).Round(10*time.Millisecond))
		return nil
	}, NodeTimeout(cleanupTimeout+30*time.Second))
}

// startEnv starts the provider and makes the fixtures, registering their
// teardown first, so that a failure half-way still releases what was made.
func startEnv(ctx context.Context, name string, cfg suiteConfig) (*Env, error) {
	session := testenv.NewSessionID()
	p, err := cfg.provider(session)
	if err != nil {
		return nil, err
	}
	e := &Env{Suite: name, Provider: p.Name()}
	if p.Name() == testenv.ProviderContainers {
		e.Session = session
		logf("session %s (containers labelled %s=%s; ci/cleanup-containers.sh %s removes them)",
			session, testenv.LabelKeySession, session, session)
	}
	deferCleanup("environment ("+p.Name()+")", p.Stop)

	t0 := time.Now()
	if e.Endpoints, err = p.Start(ctx, cfg.services); err != nil {
		return nil, fmt.Errorf("environment (%s): %w", p.Name(), err)
	}
	logf("environment (%s) with %s ready in %s", p.Name(), cfg.services, time.Since(t0).Round(10*time.Millisecond))

	if cfg.services.Postgres {
		if err := e.setupPostgres(ctx, p); err != nil {
			return nil, err
		}
	}
	if cfg.services.Vault && len(cfg.operators) > 0 {
		vc, err := testenv.NewVaultClient(e.Endpoints.VaultAddr, e.Endpoints.VaultToken)
		if err != nil {
			return nil, err
		}
		ops, cleanup, err := testenv.SeedVault(ctx, vc, e.Endpoints.VaultKVMount, cfg.operators)
		deferCleanup("vault credentials", cleanup)
		if err != nil {
			return nil, err
		}
		e.Operators = ops
	}
	if cfg.services.NATS {
		nc, err := testenv.ConnectNATS(e.Endpoints.NATSURL, name+"-fixtures")
		if err != nil {
			return nil, err
		}
		deferCleanup("nats fixture connection", func(context.Context) error { nc.Close(); return nil })
		js, err := jetstream.New(nc)
		if err != nil {
			return nil, fmt.Errorf("jetstream: %w", err)
		}
		streams, cleanup, err := testenv.EnsureStreams(ctx, js)
		deferCleanup("jetstream streams", cleanup)
		if err != nil {
			return nil, err
		}
		e.Streams = streams
	}
	return e, nil
}

func (e *Env) setupPostgres(ctx context.Context, p testenv.Provider) error {
	if ext, ok := p.(*testenv.ExternalProvider); ok && ext.ReuseDatabase() {
		e.DatabaseDSN = e.Endpoints.PostgresDSN
	} else {
		e.Database = testenv.DatabaseName(e.Suite)
		dsn, drop, err := testenv.CreateDatabase(ctx, e.Endpoints.PostgresDSN, e.Database)
		if drop != nil {
			deferCleanup("database "+e.Database, drop)
		}
		if err != nil {
			return err
		}
		e.DatabaseDSN = dsn
	}
	res, err := testenv.ApplyMigrations(ctx, e.DatabaseDSN)
	if err != nil {
		return err
	}
	e.SchemaVersion = res.Version
	logf("database %s migrated to version %d (applied %v)", e.Database, res.Version, res.Applied)
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(GinkgoWriter, "framework: "+format+"\n", args...)
}

// NewDatabase creates another empty database on the suite's PostgreSQL (not
// migrated), dropped when the calling node's scope ends, and returns its DSN.
func (e *Env) NewDatabase(ctx context.Context) string {
	GinkgoHelper()
	if e.Endpoints.PostgresDSN == "" {
		Fail("this suite has no PostgreSQL (framework.WithServices)")
	}
	name := testenv.DatabaseName(e.Suite + "_extra")
	dsn, drop, err := testenv.CreateDatabase(ctx, e.Endpoints.PostgresDSN, name)
	if drop != nil {
		DeferCleanup(func(ctx SpecContext) error { return drop(context.WithoutCancel(ctx)) })
	}
	if err != nil {
		Fail(err.Error())
	}
	return dsn
}
