package framework

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
	"github.com/smpp-connector/smpp-connector/smscsim/client"
	"github.com/smpp-connector/smpp-connector/smscsim/control"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

// Simulator is an smscsim running inside the test process, with its control
// API on a loopback port and a Go client for it: specs steer faults and read
// the recorder and the TPS meter through Client, exactly as an engineer would
// through the CLI.
type Simulator struct {
	Sim    *server.Sim
	Client *client.Client
	API    string // base URL of the control API
}

// SimulatorConfig makes a simulator configuration with one operator per
// credential, each on a random loopback port, accepting exactly that
// system_id, password and system_type (as seeded into Vault).
func SimulatorConfig(creds ...testenv.OperatorCredential) server.Config {
	var cfg server.Config
	for _, c := range creds {
		cfg.Operators = append(cfg.Operators, server.OperatorConfig{
			ID: c.OperatorID, Listen: "127.0.0.1:0",
			Accounts: []server.AccountConfig{{SystemID: c.SystemID, Password: c.Password, SystemType: c.SystemType}},
		})
	}
	return cfg
}

// StartSimulator starts a simulator and its control API; both stop when the
// calling node's scope ends (DeferCleanup), also after a failure.
func StartSimulator(ctx context.Context, cfg server.Config) *Simulator {
	GinkgoHelper()
	log := slog.New(slog.NewTextHandler(GinkgoWriter, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sim, err := server.New(cfg, log)
	if err != nil {
		Fail("simulator config: " + err.Error())
	}
	if err := sim.Start(ctx); err != nil {
		Fail("start simulator: " + err.Error())
	}
	DeferCleanup(sim.Close)
	api := control.New(sim, control.Options{Logger: log})
	DeferCleanup(api.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		Fail("control API listener: " + err.Error())
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(GinkgoWriter, "control API: %v\n", err)
		}
	}()
	DeferCleanup(func(ctx SpecContext) error { return srv.Shutdown(ctx) })
	base := "http://" + ln.Addr().String()
	s := &Simulator{Sim: sim, Client: client.New(base, ""), API: base}
	// Registered last, so it runs first: the simulator is still up.
	captureAtEnd("simulator", func(context.Context) error { RecordSimulator(s); return nil })
	return s
}

// Addr is the SMPP address of an operator, failing the spec if it is unknown.
func (s *Simulator) Addr(operatorID string) string {
	GinkgoHelper()
	op, ok := s.Sim.Operator(operatorID)
	if !ok {
		Fail(fmt.Sprintf("simulator has no operator %q", operatorID))
	}
	return op.Addr()
}
