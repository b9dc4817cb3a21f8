// Package service assembles the connector: one worker per configured
// operator (binds, limiter, consumer, receipts), the shared store, NATS and
// secrets, and the HTTP endpoints for health, readiness and metrics. Run
// returns once everything in flight is answered and stored.
package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/dispatch"
	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/inbound"
	"github.com/smpp-connector/smpp-connector/connector/lease"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/outbound"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
	"github.com/smpp-connector/smpp-connector/connector/session"
	"github.com/smpp-connector/smpp-connector/connector/store"
	"github.com/smpp-connector/smpp-connector/connector/throttle"
	"github.com/smpp-connector/smpp-connector/migrations"
)

// Options are what Run needs beyond the configuration.
type Options struct {
	Log *slog.Logger
	// Secrets overrides the credential source built from the configuration.
	Secrets secrets.Source
	// Migrate applies the schema migrations at start-up.
	Migrate bool
	// Ready, when set, is closed once every operator's worker runs and the
	// HTTP endpoints listen.
	Ready chan<- struct{}
	// HTTPAddr receives the address the HTTP endpoints listen on.
	HTTPAddr func(string)
	// CredentialPoll is how often credentials are checked for a new version
	// (default 30s).
	CredentialPoll time.Duration
	// MaintenanceEvery is how often unmatched receipts are expired and old
	// rows purged (default 1m); UnmatchedAfter and Retention default to
	// DefaultUnmatchedAfter and DefaultRetention.
	MaintenanceEvery, UnmatchedAfter, Retention time.Duration
	// Lease tunes how replicas hand an operator over (lease.Options:
	// default poll 1s, grace 5s).
	Lease lease.Options
}

// operatorRuntime is one operator: its settings, its limiter, and its
// binds and worker while this replica owns it (a term); nil term: standby.
type operatorRuntime struct {
	cfg     config.Operator
	limiter *throttle.Limiter
	newTerm func() *term

	mu   sync.Mutex
	term *term
	// notConsuming holds why the operator's consumer could not start.
	notConsuming atomic.Value
}

// term is what runs while this replica owns the operator.
type term struct {
	pool   *session.Pool
	rx     *session.Pool // receivers, with transmitter+receiver binds
	worker *outbound.Worker
}

func (rt *operatorRuntime) current() *term {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.term
}

func (rt *operatorRuntime) set(t *term) {
	rt.mu.Lock()
	rt.term = t
	rt.mu.Unlock()
}

// Run starts the connector and runs it until ctx ends.
func Run(ctx context.Context, svc config.Service, ops *config.File, o Options) error {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	m := metrics.New()
	if o.Migrate {
		res, err := migrations.Apply(ctx, svc.PostgresDSN)
		if err != nil {
			return err
		}
		log.Info("schema migrated", "version", res.Version, "applied", len(res.Applied))
	}
	// Four batch writers: a message costs three store round trips (prepare,
	// outcome, receipt), and with two the writer was the bottleneck.
	st, err := store.Open(ctx, svc.PostgresDSN, store.Options{Logger: log, Flushers: 4})
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer st.Close() // last: flushes what the workers stored
	m.ObserveStore(func() metrics.StoreStats {
		s := st.Stats()
		return metrics.StoreStats{Batches: s.Batches, Requests: s.Requests, Retries: s.Retries, Isolated: s.Isolated,
			FlushSeconds: s.FlushTime.Seconds()}
	})

	nc, err := nats.Connect(svc.NATS.URL, nats.Name("smpp-connector"), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second))
	if err != nil {
		return fmt.Errorf("nats %s: %w", svc.NATS.URL, err)
	}
	defer nc.Drain()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	names := svc.NATS.Names
	if svc.NATS.CreateStreams {
		if err := natscontract.EnsureStreams(ctx, js, names); err != nil {
			return err
		}
	}
	src := o.Secrets
	if src == nil {
		if src, err = buildSecrets(ctx, svc, ops, log); err != nil {
			return err
		}
	}
	pub := events.New(js, names, svc.Shadow, comparisonLog{log})
	if err := ops.CheckMode(svc.Shadow); err != nil {
		return err
	}

	var rts []*operatorRuntime
	for _, id := range ops.IDs() {
		oc, _ := ops.Operator(id)
		rt, err := newOperator(oc, svc.Shadow, src, st, js, names, pub, m, log)
		if err != nil {
			return err
		}
		rts = append(rts, rt)
	}

	httpSrv, addr, err := serveHTTP(svc.HTTPListen, svc.Pprof, m, readiness(st, nc, rts))
	if err != nil {
		return err
	}
	log.Info("connector running", "operators", len(rts), "http", addr, "shadow", svc.Shadow)
	if o.HTTPAddr != nil {
		o.HTTPAddr(addr)
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	for _, rt := range rts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runOperator(runCtx, rt, lease.New(svc.PostgresDSN, "operator/"+rt.cfg.ID, leaseOptions(o.Lease, log)),
				src, cmp.Or(o.CredentialPoll, 30*time.Second), m, log)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		maintain(runCtx, st, m, cmp.Or(o.MaintenanceEvery, time.Minute), cmp.Or(o.UnmatchedAfter, DefaultUnmatchedAfter),
			cmp.Or(o.Retention, DefaultRetention), log)
	}()
	if o.Ready != nil {
		close(o.Ready)
	}
	<-ctx.Done()
	log.Info("shutting down: finishing in-flight messages")
	stop()
	wg.Wait() // workers have stored every outcome they got, binds are closed
	shCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = httpSrv.Shutdown(shCtx)
	log.Info("connector stopped")
	return nil
}

// binds are the term's binds, receivers included.
func (t *term) binds() []*session.Bind {
	if t.rx == nil {
		return t.pool.Binds()
	}
	return append(append([]*session.Bind(nil), t.pool.Binds()...), t.rx.Binds()...)
}

func leaseOptions(o lease.Options, log *slog.Logger) lease.Options {
	if o.Log == nil {
		o.Log = log
	}
	return o
}

// runOperator runs the operator while this replica owns it, and stands by
// while another does: only the owner binds and sends, so the operator's TPS
// holds across replicas (and its bind limit, but for the old owner's binds
// waiting for answers to what it sent before it let go).
func runOperator(ctx context.Context, rt *operatorRuntime, l *lease.Lease, src secrets.Source, credPoll time.Duration,
	m *metrics.Metrics, log *slog.Logger) {
	id := rt.cfg.ID
	for {
		m.Owner.WithLabelValues(id).Set(0)
		owned, release, err := l.Acquire(ctx)
		if err != nil {
			return // ctx ended
		}
		log.Info("this replica owns the operator: binding and sending", "operator", id)
		m.Owner.WithLabelValues(id).Set(1)
		runErr := runTerm(owned, rt, src, credPoll, m, log)
		m.Owner.WithLabelValues(id).Set(0)
		lost := lease.Lost(owned)
		release()
		if ctx.Err() != nil {
			return
		}
		if runErr == nil {
			log.Warn("this replica lost the operator: standing by", "operator", id, "err", lost)
		}
	}
}

// runTerm binds and sends for the operator until owned ends, or gives the
// operator up after a while if its consumer fails: then another replica, or
// this one again, tries (holding it doing nothing would stop the operator).
func runTerm(owned context.Context, rt *operatorRuntime, src secrets.Source, credPoll time.Duration, m *metrics.Metrics, log *slog.Logger) error {
	id := rt.cfg.ID
	ctx, end := context.WithCancel(owned)
	defer end()
	t := rt.newTerm()
	rt.set(t)
	t.pool.Start()
	if t.rx != nil {
		t.rx.Start()
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); watchCredentials(ctx, src, id, t, credPoll, log) }()
	go func() { defer wg.Done(); observeBinds(ctx, id, t, m) }()
	err := t.worker.Run(ctx)
	if err != nil {
		// Without its consumer the operator sends nothing: make it loud.
		log.Error("operator not consuming", "operator", id, "err", err)
		m.ConsumerFailures.WithLabelValues(id).Inc()
		// Kept until a term consumes again (readiness shows it meanwhile).
		rt.notConsuming.Store(err.Error())
		select {
		case <-ctx.Done():
		case <-time.After(notConsumingBackoff):
		}
	}
	end()
	wg.Wait()
	t.pool.Close() // unbind once in-flight submits are answered
	if t.rx != nil {
		t.rx.Close()
	}
	// This replica's binds are gone: dashboards summing across replicas
	// must not count them.
	m.BindState.DeletePartialMatch(prometheus.Labels{"operator": id})
	m.WindowInUse.DeletePartialMatch(prometheus.Labels{"operator": id})
	rt.set(nil)
	if err == nil {
		rt.notConsuming.Store("")
	}
	return err
}

// notConsumingBackoff is how long an owner whose consumer failed keeps the
// operator before giving it up to be tried again.
const notConsumingBackoff = 5 * time.Second

func newOperator(oc config.Operator, shadow bool, src secrets.Source, st *store.Store, js jetstream.JetStream,
	names natscontract.Names, pub *events.Publisher, m *metrics.Metrics, log *slog.Logger) (*operatorRuntime, error) {
	primary, backup := oc.Endpoints.For(shadow)
	if len(primary) == 0 {
		return nil, fmt.Errorf("operator %q: no endpoint for this mode (shadow=%v)", oc.ID, shadow)
	}
	rt := &operatorRuntime{cfg: oc, limiter: throttle.New(oc.TPS)}
	m.Prepare(oc.ID)
	m.Prepare(oc.ID)
	bindType := session.Transceiver
	if oc.BindType != config.BindTransceiver {
		bindType = session.Transmitter
	}
	creds := func(ctx context.Context) (session.Auth, error) {
		c, err := src.Get(ctx, oc.ID)
		if err != nil {
			return session.Auth{}, err
		}
		return session.Auth{SystemID: c.SystemID, Password: c.Password, SystemType: c.SystemType, Version: c.Version}, nil
	}
	var backups []string
	for _, e := range append(primary[1:], backup...) {
		backups = append(backups, e.Address)
	}
	rt.newTerm = func() *term {
		t := &term{}
		idRule := dlr.IDRule{Resp: dlr.IDFormat(oc.Quirks.MessageIDResp), Receipt: dlr.IDFormat(oc.Quirks.MessageIDReceipt)}
		in := inbound.New(inbound.Operator{ID: oc.ID, IDRule: idRule, ReceiptParts: oc.Quirks.ReceiptParts},
			inbound.Deps{Store: st, Events: pub, Metrics: m, Log: log})
		scfg := session.Config{
			Operator: oc.ID, Addr: primary[0].Address, Backups: backups, BindType: bindType, Window: oc.Window,
			EnquireLink: oc.EnquireLinkInterval, ResponseTimeout: oc.ResponseTimeout, DialTimeout: oc.DialTimeout,
			BindTimeout: oc.BindTimeout, BackoffInitial: oc.Rebind.Initial, BackoffMax: oc.Rebind.Max, Log: log,
			Deliver: in,
		}
		t.pool = session.NewPool(scfg, oc.Binds, creds)
		if bindType == session.Transmitter {
			scfg.BindType, scfg.Operator = session.Receiver, oc.ID+"-rx"
			t.rx = session.NewPool(scfg, oc.Binds, creds)
		}
		t.worker = outbound.New(outbound.Operator{
			ID: oc.ID,
			Profile: dispatch.Profile{LongMessage: oc.LongMessageStrategy, DataCoding0: oc.Encoding.DefaultAlphabet,
				AllowLatin1: oc.Encoding.AllowLatin1, SourceTON: oc.Source.TON, SourceNPI: oc.Source.NPI, DestTON: 1, DestNPI: 1},
			IDRule:      idRule,
			Concurrency: max(oc.Binds*oc.Window*2, 8),
		}, outbound.Deps{Store: st, Pool: t.pool, Limiter: rt.limiter, Receipts: in, Events: pub, JS: js, Names: names, Metrics: m, Log: log})
		return t
	}
	return rt, nil
}

// buildSecrets routes each operator to Vault or to its rendered file.
func buildSecrets(ctx context.Context, svc config.Service, ops *config.File, log *slog.Logger) (secrets.Source, error) {
	r := secrets.Router{Sources: map[string]secrets.Source{}}
	files := &secrets.File{Paths: map[string]string{}, Logger: log}
	paths := map[string]string{}
	for _, id := range ops.IDs() {
		oc, _ := ops.Operator(id)
		if oc.Credentials.File != "" {
			files.Paths[id] = oc.Credentials.File
			r.Sources[id] = files
		} else {
			paths[id] = config.Expand(oc.Credentials.VaultPath, id)
		}
	}
	if len(paths) > 0 {
		var auth secrets.VaultAuth = secrets.TokenAuth{Token: svc.Vault.Token}
		if svc.Vault.Auth == config.VaultAuthKubernetes {
			auth = secrets.KubernetesAuth{Role: svc.Vault.Role, JWTPath: svc.Vault.JWTPath, Mount: svc.Vault.AuthMount}
		}
		v, err := secrets.NewVault(ctx, secrets.VaultConfig{Address: svc.Vault.Address, Auth: auth, KVMount: svc.Vault.KVMount, Paths: paths, Logger: log})
		if err != nil {
			return nil, err
		}
		go func() { <-ctx.Done(); v.Close() }()
		for id := range paths {
			r.Sources[id] = v
		}
	}
	return r, nil
}

// watchCredentials renews the term's binds when a new credential version
// appears (a rotation in Vault or a re-rendered file).
func watchCredentials(ctx context.Context, src secrets.Source, id string, t *term, every time.Duration, log *slog.Logger) {
	for c := range src.Watch(ctx, id, every) {
		log.Info("new credential version: renewing binds", "operator", id, "version", c.Version)
		for _, p := range []*session.Pool{t.pool, t.rx} {
			if p == nil {
				continue
			}
			if err := p.Renew(ctx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("renewing binds with the new credential", "operator", id, "err", err)
			}
		}
	}
}

// observeBinds keeps the bind gauges current.
func observeBinds(ctx context.Context, id string, t *term, m *metrics.Metrics) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	states := []session.State{session.StateConnecting, session.StateBound, session.StateBackoff, session.StateAuthFailed, session.StateClosed}
	for {
		for _, b := range t.binds() {
			st, _ := b.State()
			for _, s := range states {
				v := 0.0
				if s == st {
					v = 1
				}
				m.BindState.WithLabelValues(id, b.Name(), string(s)).Set(v)
			}
			m.WindowInUse.WithLabelValues(id, b.Name()).Set(float64(b.Outstanding()))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// readiness reports whether the connector can do its job: the database and
// NATS answer and every operator this replica owns has a bind up. Operators
// another replica owns are listed as standby: that is ready too. The body
// says what is wrong.
func readiness(st *store.Store, nc *nats.Conn, rts []*operatorRuntime) func(context.Context) (bool, map[string]string, []string) {
	return func(ctx context.Context) (bool, map[string]string, []string) {
		problems := map[string]string{}
		var standby []string
		if err := st.Pool().Ping(ctx); err != nil {
			problems["postgres"] = err.Error()
		}
		if !nc.IsConnected() {
			problems["nats"] = nc.Status().String()
		}
		for _, rt := range rts {
			t := rt.current()
			if why, _ := rt.notConsuming.Load().(string); why != "" && (t == nil || !t.worker.Consuming()) {
				problems["operator "+rt.cfg.ID+" consumer"] = why
			}
			if t == nil {
				standby = append(standby, rt.cfg.ID)
				continue
			}
			if t.pool.Ready() && (t.rx == nil || t.rx.Ready()) {
				continue
			}
			var why []string
			for _, b := range t.binds() {
				s, err := b.State()
				w := string(s)
				if err != nil {
					w += ": " + err.Error()
				}
				why = append(why, w)
			}
			problems["operator "+rt.cfg.ID] = fmt.Sprint(why)
		}
		return len(problems) == 0, problems, standby
	}
}

// comparisonLog writes shadow-mode events to the log as the comparison record.
type comparisonLog struct{ log *slog.Logger }

func (c comparisonLog) Write(b []byte) (int, error) {
	c.log.Info("shadow", "event", string(b[:len(b)-1]))
	return len(b), nil
}

func serveHTTP(addr string, profiling bool, m *metrics.Metrics, ready func(context.Context) (bool, map[string]string, []string)) (*http.Server, string, error) {
	mux := http.NewServeMux()
	if profiling {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		ok, problems, standby := ready(ctx)
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		writeJSON(w, map[string]any{"ready": ok, "problems": problems, "standby": standby})
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("http listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return srv, ln.Addr().String(), nil
}
