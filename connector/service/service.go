// Package service assembles the connector: the shared store, NATS and
// secrets, one runner per configured operator (connector/operator: its lease,
// binds, consumer, inbound handler), the maintenance loop, and the HTTP
// endpoints for health, readiness and metrics. Run (or Start and Wait)
// returns once everything in flight is answered and stored.
package service

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/smpp-connector/smpp-connector/connector/admin"
	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/inbound"
	"github.com/smpp-connector/smpp-connector/connector/lease"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/oms"
	"github.com/smpp-connector/smpp-connector/connector/operator"
	"github.com/smpp-connector/smpp-connector/connector/relay"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
	"github.com/smpp-connector/smpp-connector/connector/store"
	"github.com/smpp-connector/smpp-connector/migrations"
)

// Options are what Run and Start need beyond the configuration.
type Options struct {
	Log *slog.Logger
	// Secrets overrides the credential source built from the configuration.
	Secrets secrets.Source
	// Migrate applies the schema migrations at start-up.
	Migrate bool
	// Ready, when set, is closed by Run once every operator's runner runs and the
	// HTTP endpoints listen.
	Ready chan<- struct{}
	// HTTPAddr receives (from Run) the address the HTTP endpoints listen on.
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
	// StrayEvery is how often the dispatch stream is searched for commands
	// of operators not configured (default 10s; operator.Strays), and how
	// often this replica lists its operators in smpp.configured_operators.
	StrayEvery time.Duration
	// PausePoll is how often the paused operators are read (default 1s).
	PausePoll time.Duration
	// OMS, when set, is where the operators configuration comes from
	// (operator-management-service, already loaded: ops is its
	// configuration in force); it is polled every svc.OMS.PollInterval and
	// each new configuration applied. Otherwise svc.OperatorsFile is read
	// again every svc.OperatorsReload.
	OMS *oms.Client
	// StrayKnownWithin is how long after a replica last listed an operator
	// as configured its commands wait, while no replica runs it, before a
	// replica that does not know it dead-letters them (default 24h;
	// operator.StraysConfig.KnownWithin).
	StrayKnownWithin time.Duration
}

// Run starts the connector and runs it until ctx ends.
func Run(ctx context.Context, svc config.Service, ops *config.File, o Options) error {
	c, err := Start(ctx, svc, ops, o)
	if err != nil {
		return err
	}
	if o.HTTPAddr != nil {
		o.HTTPAddr(c.HTTPAddr())
	}
	if o.Ready != nil {
		close(o.Ready)
	}
	return c.Wait()
}

// run starts the connector, calls started once it runs, and runs it until
// ctx ends.
func run(ctx context.Context, svc config.Service, ops *config.File, o Options, started func(httpAddr string)) error {
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
	// Linger: each batch waits 10 ms for company after its first request.
	// Every statement of a batch has a fixed cost (relations, indexes and
	// locks opened, the executor started, a commit) whatever its rows: at
	// 1,000 msg/s the default 2 ms gave batches of 9 requests and
	// PostgreSQL 0.75 ms of CPU per message; 12 ms gave 39 and 0.35 ms, and
	// receipt events came sooner (fewer transactions to wait behind). The
	// price: up to 10 ms more from command to submit_sm (the prepare) and
	// from submit_sm_resp to the ack (the outcome). Receipts are answered
	// once in the inbox, whose INSERT waits InboxLinger for company: see
	// inboxLinger.
	st, err := store.Open(ctx, svc.PostgresDSN, store.Options{Logger: log, Flushers: 4, Shadow: svc.Shadow,
		Linger: 10 * time.Millisecond, InboxLinger: inboxLinger})
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer st.Close() // last: flushes what the operators stored
	m.ObserveStore(func() metrics.StoreStats {
		s := st.Stats()
		return metrics.StoreStats{Batches: s.Batches, Requests: s.Requests, Retries: s.Retries, Isolated: s.Isolated,
			FlushSeconds: s.FlushTime.Seconds(), Appends: s.Appends, Appended: s.Appended, AppendSeconds: s.AppendTime.Seconds()}
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
	var routes *credentialRoutes
	if src == nil {
		if routes, err = buildRoutes(ctx, svc, ops, log); err != nil {
			return err
		}
		src = routes.router
	}
	// Every read goes to the source; the last credential read is kept in
	// memory for binds renewed while the source cannot answer (Vault down,
	// sealed, our token expired): secrets.Cached says which errors fall
	// back and which do not.
	creds := secrets.NewCached(src, secrets.CacheOptions{Logger: log,
		OnSourceError: func(op, reason string) { m.CredSourceErrors.WithLabelValues(op, reason).Inc() },
		OnFromCache: func(op string, on bool) {
			v := 0.0
			if on {
				v = 1
			}
			m.CredFromCache.WithLabelValues(op).Set(v)
		}})
	defer creds.Close()
	src = creds
	pub := events.New(js, names, svc.Shadow, comparisonLog{log})
	if err := ops.CheckMode(svc.Shadow); err != nil {
		return err
	}

	deps := operator.Deps{Secrets: src, Store: st, JS: js, Names: names, Events: pub, Metrics: m, Log: log}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	leaseOf := func(id string) *lease.Lease {
		return lease.New(svc.PostgresDSN, operator.LeaseName(id), leaseOptions(o.Lease, log))
	}
	// Commands for operators configured nowhere go to the dead letter, each
	// under its operator's lease: never those of an operator another
	// replica runs, nor those of one a replica had configured lately
	// (smpp.configured_operators, where this replica lists its own).
	strays := operator.NewStrays(operator.StraysConfig{Known: ops.IDs(), Lease: leaseOf, Every: o.StrayEvery,
		Roster: st, KnownWithin: o.StrayKnownWithin}, deps)
	running := &fleet{ctx: runCtx, wg: &wg, deps: deps, leaseOf: leaseOf, routes: routes, strays: strays, m: m, log: log,
		cfg: operator.Config{Shadow: svc.Shadow, CredentialPoll: o.CredentialPoll}}
	if err := running.build(ops, versionOf(ops)); err != nil {
		return err
	}
	// The configuration was read (the caller loaded it): its source
	// answered. The file watcher and the service's poll keep this current.
	exportSource(m, true, time.Now(), o.OMS != nil && o.OMS.Status().FromDisk)

	rel := relay.New(st, pub, m, log, relay.Options{Shadow: svc.Shadow, ReceiptParts: func(id string) string {
		oc, _ := running.operator(id)
		return oc.Quirks.ReceiptParts
	}})
	drainer := inbound.NewDrainer(st, m, log, inbound.DrainOptions{})
	// Where new operators configurations come from (reload.go, oms.go).
	rl := &reloader{source: svc.OperatorsFile, fleet: running, m: m, log: log}
	if o.OMS != nil {
		rl.source = "operator-management-service"
	}
	configProblem := func() string {
		p := rl.problem()
		if o.OMS != nil {
			if q := o.OMS.Status().Problem(); q != "" {
				p = strings.TrimPrefix(p+"; "+q, "; ")
			}
		}
		return p
	}
	var adminAPI http.Handler
	if svc.Admin.On() {
		adminAPI = admin.Handler(&fleetAdmin{f: running, st: st, replica: cmp.Or(o.Lease.Replica, replicaName())}, svc.Admin.ReadToken, log)
	}
	ready := readiness(st, nc, running.runnerList, rel, drainer, creds, func() string {
		if running.isDrained() {
			return "drained (admin API): its operators are left to the other replicas"
		}
		return ""
	}, configProblem)
	httpSrv, addr, err := serveHTTP(svc.HTTPListen, svc.Pprof, m, ready, adminAPI)
	if err != nil {
		return err
	}
	log.Info("connector running", "operators", len(ops.Operators), "http", addr, "shadow", svc.Shadow,
		"config_version", versionOf(ops))

	// Paused operators stay paused across a restart: read before any runs.
	if err := running.loadPauses(ctx, st); err != nil {
		_ = httpSrv.Close()
		return fmt.Errorf("paused operators: %w", err)
	}
	running.launch()
	// Pauses are kept in PostgreSQL: applied whichever replica owns the
	// operator, within a second of any replica's admin API taking one.
	wg.Add(1)
	go func() { defer wg.Done(); watchPauses(runCtx, running, st, cmp.Or(o.PausePoll, time.Second)) }()
	wg.Add(1)
	go func() { defer wg.Done(); strays.Run(runCtx) }()
	// A changed operators configuration is applied without a restart
	// (reload.go), from operator-management-service or the file.
	switch {
	case o.OMS != nil:
		wg.Add(1)
		go func() { defer wg.Done(); followOMS(runCtx, o.OMS, cmp.Or(svc.OMS.PollInterval, 30*time.Second), rl, m) }()
	case svc.OperatorsFile != "" && svc.OperatorsReload > 0:
		w := &fileWatcher{path: svc.OperatorsFile, every: svc.OperatorsReload, r: rl}
		wg.Add(1)
		go func() { defer wg.Done(); w.run(runCtx) }()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		maintain(runCtx, st, m, cmp.Or(o.MaintenanceEvery, time.Minute), cmp.Or(o.UnmatchedAfter, DefaultUnmatchedAfter),
			cmp.Or(o.Retention, DefaultRetention), log)
	}()
	// The inbox's drainer and the relay outlive the operators: the drainer
	// applies the last receipts their binds answered, and the relay
	// publishes the events of those and of the last outcomes.
	stopDrainer := drainer.Start()
	stopRelay := rel.Start()
	started(addr)
	<-ctx.Done()
	log.Info("shutting down: finishing in-flight messages")
	running.close() // no runner starts from now on (a reload, an undrain): wg.Wait below must see them all
	stop()
	wg.Wait()     // operators have stored every outcome they got, binds are closed
	stopDrainer() // the receipts they answered are applied
	stopRelay()   // and the relay has published what it could of the outbox
	shCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = httpSrv.Shutdown(shCtx)
	log.Info("connector stopped")
	return nil
}

func leaseOptions(o lease.Options, log *slog.Logger) lease.Options {
	if o.Log == nil {
		o.Log = log
	}
	// The SMSC counts TPS in every sliding second: a new owner that sent
	// within a second of the old owner's last submit_sm could put both
	// replicas' sends in one window. The grace covers that second (lease's
	// default, five polls, is 5 s).
	if o.Grace <= 0 {
		o.Grace = 5 * cmp.Or(o.Poll, time.Second)
	}
	o.Grace = max(o.Grace, minHandoverGrace)
	return o
}

// minHandoverGrace is the shortest wait of a new owner: the SMSC's TPS
// window (1 s) and a margin for the old owner's last writes.
const minHandoverGrace = 1100 * time.Millisecond

// readiness reports whether the connector can do its job: the database and
// NATS answer and every operator this replica owns has a bind up. Operators
// another replica owns are listed as standby: that is ready too. The body
// says what is wrong, and names dead binds (degraded) even while other binds
// of their operator carry the traffic.
func readiness(st *store.Store, nc *nats.Conn, runners func() []*operator.Runner, rel *relay.Relay, drainer *inbound.Drainer, creds *secrets.Cached, drained, configProblem func() string) func(context.Context) (bool, map[string]string, []string, map[string]string) {
	return func(ctx context.Context) (bool, map[string]string, []string, map[string]string) {
		problems, degraded := map[string]string{}, map[string]string{}
		var standby []string
		if err := st.Pool().Ping(ctx); err != nil {
			problems["postgres"] = err.Error()
		}
		if !nc.IsConnected() {
			problems["nats"] = nc.Status().String()
		}
		// A stalled outbox loses nothing (the events wait in PostgreSQL)
		// but delays every outcome and receipt: degraded, named.
		if o := rel.Status(); o.Stalled {
			degraded["outbox"] = fmt.Sprintf("%d events waiting, oldest %s: %s", o.Pending, o.Lag.Round(time.Second), o.LastError)
		}
		// A new operators configuration refused, or its source not
		// answering: the running configuration carries on (degraded).
		if p := configProblem(); p != "" {
			degraded["operators configuration"] = p
		}
		if d := drained(); d != "" {
			degraded["replica"] = d
		}
		// Likewise the receipt inbox: receipts answered, not yet applied.
		if i := drainer.Status(); i.Stalled {
			degraded["inbox"] = fmt.Sprintf("%d receipts waiting, oldest %s: %s", i.Pending, i.Lag.Round(time.Second), i.LastError)
		}
		for _, r := range runners() {
			if r.Paused() {
				degraded["operator "+r.ID()+" paused"] = "its commands wait in JetStream (smpp-connector ctl resume " + r.ID() + ")"
			}
			s := r.Status()
			if s.NotConsuming != "" {
				problems["operator "+r.ID()+" consumer"] = s.NotConsuming
			}
			if s.Standby {
				standby = append(standby, r.ID())
			} else if len(s.Unbound) > 0 {
				problems["operator "+r.ID()] = fmt.Sprint(s.Unbound)
			}
			if len(s.Dead) > 0 {
				degraded["operator "+r.ID()] = fmt.Sprint(s.Dead)
			}
			if s.RefusedCredential != "" && !s.Standby {
				degraded["operator "+r.ID()+" credential"] = "version " + s.RefusedCredential +
					" refused by the SMSC: binds keep the previous credential"
			}
		}
		// The credential source cannot answer: degraded, not a problem.
		// Binds up stay up; binds renewed meanwhile use the cached
		// credential. With none cached the operator's binds fail, and
		// its unbound state is the problem above.
		for _, c := range creds.Unavailable() {
			msg := "credential source unavailable since " + c.Since.UTC().Format(time.RFC3339)
			if c.FromCache {
				msg += fmt.Sprintf(": binds use the cached credential (version %s, read %s ago)", c.Version,
					time.Since(c.ReadAt).Round(time.Second))
			} else {
				msg += ": no credential cached"
			}
			if c.Err != nil {
				msg += ": " + c.Err.Error()
			}
			degraded["operator "+c.Operator+" credential source"] = msg
		}
		return len(problems) == 0, problems, standby, degraded
	}
}

// comparisonLog writes shadow-mode events to the log as the comparison record.
type comparisonLog struct{ log *slog.Logger }

func (c comparisonLog) Write(b []byte) (int, error) {
	c.log.Info("shadow", "event", string(b[:len(b)-1]))
	return len(b), nil
}

func serveHTTP(addr string, profiling bool, m *metrics.Metrics, ready func(context.Context) (bool, map[string]string, []string, map[string]string), adminAPI http.Handler) (*http.Server, string, error) {
	mux := http.NewServeMux()
	if adminAPI != nil {
		mux.Handle(admin.Prefix, adminAPI)
	}
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
		ok, problems, standby, degraded := ready(ctx)
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		body := map[string]any{"ready": ok, "problems": problems, "standby": standby}
		if len(degraded) > 0 {
			body["degraded"] = degraded
		}
		writeJSON(w, body)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("http listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return srv, ln.Addr().String(), nil
}

// inboxLinger is how long the receipt inbox's INSERT waits for more
// receipts after its first (store.Options.InboxLinger). Without it, at a
// steady 1,000 receipts/s nearly every receipt was a commit of its own
// (a WAL flush, a round trip and the wake-ups on both sides); at full
// speed the INSERTs batch by themselves and the linger changes little. An
// SMSC keeps about a hundred deliver_sm unanswered per bind: a few
// milliseconds more before each deliver_sm_resp cost it nothing.
const inboxLinger = 3 * time.Millisecond
