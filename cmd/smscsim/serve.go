package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/smpp-connector/smpp-connector/internal/logging"
	"github.com/smpp-connector/smpp-connector/smscsim/control"
	"github.com/smpp-connector/smpp-connector/smscsim/scenario"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

const defaultControl = "127.0.0.1:8775"

// Environment variables that move serve's listeners off loopback without a
// flag: the container image sets them to all interfaces (kubelet probes and
// Prometheus reach the control API there), a laptop keeps the defaults.
const (
	envControl    = "SMSCSIM_CONTROL"
	envDemoListen = "SMSCSIM_DEMO_LISTEN"
)

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

type serveFlags struct {
	config, control, token, scenario string
	seed                             uint64
	logFormat, logLevel              string
}

func (a *app) serve(ctx context.Context, args []string) error {
	var f serveFlags
	fs := a.flagSet("serve", "smscsim serve [flags]: run the simulator and its control API")
	fs.StringVar(&f.config, "config", "", "simulator config (YAML); none runs one demo operator on $"+envDemoListen+", else 127.0.0.1:2775, accepting test/test")
	fs.StringVar(&f.control, "control", envOr(envControl, defaultControl), "control API listen address (host:port; port 0 picks one; default $"+envControl+", else "+defaultControl+")")
	fs.StringVar(&f.token, "token", os.Getenv("SMSCSIM_TOKEN"), "bearer token the control API requires (default $SMSCSIM_TOKEN); required on a non-loopback address")
	fs.Uint64Var(&f.seed, "seed", 0, "random seed (default: the config's, else the scenario's, else 1)")
	fs.StringVar(&f.scenario, "scenario", "", "scenario file to start once listening")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("serve: unexpected argument %q", pos[0])
	}
	seedSet := false
	fs.Visit(func(fl *flag.Flag) { seedSet = seedSet || fl.Name == "seed" })

	log, err := newLogger(a.stderr, f.logFormat, f.logLevel)
	if err != nil {
		return err
	}
	if err := checkControlAddr(f.control, f.token); err != nil {
		return err
	}
	cfg, err := loadConfig(f.config)
	if err != nil {
		return err
	}
	var sc *scenario.Scenario
	if f.scenario != "" {
		if sc, err = scenario.Load(f.scenario); err != nil {
			return err
		}
	}
	switch {
	case seedSet:
		cfg.Seed = f.seed
	case cfg.Seed == 0 && sc != nil && sc.Seed != 0:
		cfg.Seed = sc.Seed
	}

	sim, err := server.New(cfg, log)
	if err != nil {
		return err
	}
	if err := sim.Start(ctx); err != nil {
		return err
	}
	defer func() {
		sim.Close() // unbinds every session
		log.Info("simulator stopped")
	}()
	ln, err := net.Listen("tcp", f.control)
	if err != nil {
		return fmt.Errorf("control API: %w", err)
	}
	api := control.New(sim, control.Options{Token: f.token, Logger: log, ScenarioBase: ctx})
	defer api.Close()
	if sc != nil {
		if _, err := api.StartScenario(sc, false); err != nil {
			ln.Close()
			return fmt.Errorf("%s: %w", f.scenario, err)
		}
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	a.banner(sim, "http://"+ln.Addr().String(), f, cfg)

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-served:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func loadConfig(path string) (server.Config, error) {
	if path == "" {
		cfg := server.DemoConfig()
		if addr := os.Getenv(envDemoListen); addr != "" && len(cfg.Operators) == 1 {
			cfg.Operators[0].Listen = addr
		}
		return cfg, nil
	}
	return server.LoadConfig(path)
}

// checkControlAddr refuses to open the API to the network without a token:
// anyone who reaches it can steer the simulator.
func checkControlAddr(addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--control %q: want host:port", addr)
	}
	if token != "" {
		return nil
	}
	ip := net.ParseIP(host)
	if host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("--control %q is not a loopback address: set --token (or SMSCSIM_TOKEN) so that the API is not open to the network, or listen on 127.0.0.1", addr)
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	log, err := logging.New(w, level, format)
	switch {
	case errors.Is(err, logging.ErrLevel):
		return nil, fmt.Errorf("--log-level: %w", err)
	case errors.Is(err, logging.ErrFormat):
		return nil, fmt.Errorf("--log-format: %w", err)
	}
	return log, err
}

// banner prints where the simulator listens and commands to try.
func (a *app) banner(sim *server.Sim, apiURL string, f serveFlags, cfg server.Config) {
	w := a.stdout
	fmt.Fprintf(w, "smscsim is running (seed %d)\n", sim.Seed())
	for _, id := range sim.Operators() {
		op, _ := sim.Operator(id)
		fmt.Fprintf(w, "  operator %-10s smpp %s  accounts: %s\n", id, op.Addr(), strings.Join(op.Accounts(), ", "))
	}
	auth := ""
	if f.token != "" {
		auth = "  (bearer token required)"
	}
	fmt.Fprintf(w, "  control API         %s%s\n", apiURL, auth)
	fmt.Fprintf(w, "  metrics             %s/metrics\n", apiURL)
	api := ""
	if apiURL != "http://"+defaultControl {
		api = " --api " + apiURL
	}
	first, _ := sim.Operator(sim.Operators()[0])
	fmt.Fprintf(w, "try:\n")
	fmt.Fprintf(w, "  smscsim operators%s\n", api)
	fmt.Fprintf(w, "  smscsim faults add%s --type throttle --params '{\"tps\":10}'\n", api)
	fmt.Fprintf(w, "  smscsim mo%s --operator %s --from 447700900001 --to ACME --text hello\n", api, first.ID())
	fmt.Fprintf(w, "  smscsim pdus%s --command submit_sm\n", api)
	if f.token == "" {
		fmt.Fprintf(w, "  curl -s %s/stats\n", apiURL)
	} else {
		fmt.Fprintf(w, "  curl -s -H \"Authorization: Bearer $SMSCSIM_TOKEN\" %s/stats\n", apiURL)
	}
	if f.config == "" {
		acc := cfg.Operators[0].Accounts[0]
		fmt.Fprintf(w, "  smscsim load --addr %s --system-id %s --password %s -n 1000\n", first.Addr(), acc.SystemID, acc.Password)
	}
}
