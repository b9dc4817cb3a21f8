// Package control is the simulator's REST control API, in the style of
// Toxiproxy's: JSON over HTTP to list operators, add and remove faults, inject
// MO messages, read counters, the TPS audit and the received PDUs, reset, run
// scenario timelines, and scrape Prometheus metrics. GET /openapi.json
// describes every route.
//
// Errors are {"error": "...", "field": "..."}, the field naming what to fix
// when it is known. With Options.Token set, every route but /healthz needs
// "Authorization: Bearer <token>".
package control

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/smpp-connector/smpp-connector/smscsim/scenario"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

// Options configure the API.
type Options struct {
	// Token, when set, is required as "Authorization: Bearer <token>" on
	// every route but /healthz.
	Token string
	// Logger receives one debug line per request and scenario progress
	// (slog.Default when nil).
	Logger *slog.Logger
	// ScenarioBase is the parent context of scenario runners: cancelling it
	// stops them (context.Background when nil).
	ScenarioBase context.Context
	// MaxBody bounds request bodies (default 1 MiB).
	MaxBody int64
}

// API is the control API's http.Handler.
type API struct {
	sim       *server.Sim
	opts      Options
	log       *slog.Logger
	mux       *http.ServeMux
	routes    []route
	tokenHash [32]byte
	metrics   http.Handler
	openapi   []byte

	mu     sync.Mutex
	runner *scenario.Runner
}

// New returns the control API for sim.
func New(sim *server.Sim, opts Options) *API {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ScenarioBase == nil {
		opts.ScenarioBase = context.Background()
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 1 << 20
	}
	a := &API{sim: sim, opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	if opts.Token != "" {
		a.tokenHash = sha256.Sum256([]byte(opts.Token))
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(sim.Collector(), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{a.log}})

	a.routes = a.routeTable()
	for _, rt := range a.routes {
		a.mux.HandleFunc(rt.method+" "+rt.path, rt.handler)
	}
	doc, err := json.MarshalIndent(a.openAPIDoc(), "", "  ")
	if err != nil {
		panic("control: OpenAPI document: " + err.Error()) // a bug in a schema, caught by the tests
	}
	a.openapi = doc
	return a
}

// ServeHTTP checks the token, routes, and answers unknown routes and methods
// with JSON errors.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		a.log.Debug("control request", "method", r.Method, "path", r.URL.Path, "status", sw.code(), "duration", time.Since(start))
	}()
	if a.opts.Token != "" && r.URL.Path != "/healthz" && !a.authorized(r) {
		sw.Header().Set("WWW-Authenticate", `Bearer realm="smscsim"`)
		writeError(sw, http.StatusUnauthorized, "missing or wrong bearer token: send Authorization: Bearer <token>", "")
		return
	}
	if _, pattern := a.mux.Handler(r); pattern == "" {
		a.notRouted(sw, r)
		return
	}
	a.mux.ServeHTTP(sw, r)
}

func (a *API) authorized(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], a.tokenHash[:]) == 1
}

// notRouted turns the mux's plain-text 404 and 405 into JSON errors, keeping
// its Allow header; redirects pass through.
func (a *API) notRouted(w http.ResponseWriter, r *http.Request) {
	h, _ := a.mux.Handler(r)
	cw := &captureWriter{header: http.Header{}}
	h.ServeHTTP(cw, r)
	switch {
	case cw.status >= 300 && cw.status < 400:
		for k, v := range cw.header {
			w.Header()[k] = v
		}
		w.WriteHeader(cw.status)
	case cw.status == http.StatusMethodNotAllowed:
		allow := cw.header.Get("Allow")
		w.Header().Set("Allow", allow)
		writeError(w, cw.status, "method "+r.Method+" not allowed on "+r.URL.Path+" (allowed: "+allow+")", "")
	default:
		writeError(w, http.StatusNotFound, "no route "+r.Method+" "+r.URL.Path+" (see GET /openapi.json)", "")
	}
}

// StartScenario plays sc against the simulator. It fails with ErrScenarioRunning
// while another scenario runs, unless replace is set (the running one is
// stopped first), and with a *scenario.Error when sc does not fit the simulator.
func (a *API) StartScenario(sc *scenario.Scenario, replace bool) (*scenario.Runner, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r := a.runner; r != nil && r.Status().State == scenario.StateRunning {
		if !replace {
			return nil, ErrScenarioRunning
		}
		r.Stop()
	}
	r, err := scenario.Start(a.opts.ScenarioBase, a.sim, sc, a.log)
	if err != nil {
		return nil, err
	}
	a.runner = r
	return r, nil
}

// ErrScenarioRunning is returned by StartScenario while a scenario runs.
var ErrScenarioRunning = errors.New("a scenario is running: stop it first (DELETE /scenario) or load with ?replace=true")

// StopScenario stops the running scenario, if any; it reports whether a
// scenario was loaded.
func (a *API) StopScenario() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.runner == nil {
		return false
	}
	a.runner.Stop()
	return true
}

// Scenario is the runner of the scenario loaded last, or nil.
func (a *API) Scenario() *scenario.Runner {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.runner
}

// Close stops a running scenario. The simulator is the caller's to close.
func (a *API) Close() { a.StopScenario() }

// statusWriter remembers the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Unwrap lets http.ResponseController reach the connection (promhttp flushes).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// captureWriter records what the mux's fallback handlers write.
type captureWriter struct {
	header http.Header
	status int
}

func (c *captureWriter) Header() http.Header { return c.header }
func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return len(b), nil
}

type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.log.Error("metrics", "err", v) }
