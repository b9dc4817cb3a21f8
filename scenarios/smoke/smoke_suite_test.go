// Package smoke is the staging smoke suite (label smoke): it runs against a
// connector and simulator that are already deployed (make staging-up, or the
// kustomize overlay staging), found only through the SMPP_SMOKE_* variables
// (scenarios/smoke/smokeenv). It starts nothing and disturbs nothing else:
// its message ids and destinations carry a random prefix of its own, it reads
// NATS through ephemeral ordered consumers created before it publishes, and
// every simulator fault it adds matches only its own destinations and is
// removed by DeferCleanup.
//
//	make staging-up && make smoke           # against the local staging stack
//	set -a; . ./staging.env; set +a; go test ./scenarios/smoke/ -v   # elsewhere
package smoke

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/scenarios/framework"
	"github.com/smpp-connector/smpp-connector/scenarios/smoke/smokeenv"
	"github.com/smpp-connector/smpp-connector/smscsim/client"
)

var (
	cfg    smokeenv.Config
	cfgErr error

	js   jetstream.JetStream
	sim  *client.Client
	web  = &http.Client{Timeout: 10 * time.Second}
	runs = newRunID()
)

func TestSmoke(t *testing.T) {
	RegisterFailHandler(Fail)
	cfg, cfgErr = smokeenv.FromEnv()
	// The specs are per operator, so the tree is built once the environment
	// is read; with a bad environment there are no operators, and the
	// BeforeSuite below fails the run naming the variables.
	for i, op := range cfg.Operators {
		describeOperator(i, op)
	}
	RunSpecs(t, "smoke", Label(framework.LabelSmoke))
}

// A spec that always exists, so that the BeforeSuite (and its verdict on the
// environment) runs even when no operator could be read.
var _ = It("finds the deployment through its environment", func() {
	Expect(cfg.Operators).NotTo(BeEmpty())
})

var _ = BeforeSuite(func(ctx SpecContext) {
	if cfgErr != nil {
		Fail(cfgErr.Error())
	}
	fmt.Fprintf(GinkgoWriter, "smoke run %s: operators %v, connectors %v, simulator %s\n",
		runs, cfg.Operators, cfg.ConnectorURLs, cfg.SimURL)

	opts := []nats.Option{nats.Name("smpp-smoke-" + runs), nats.Timeout(10 * time.Second)}
	if cfg.NATSCreds != "" {
		opts = append(opts, nats.UserCredentials(cfg.NATSCreds))
	}
	nc, err := nats.Connect(cfg.NATSURL, opts...)
	if err != nil {
		Fail(fmt.Sprintf("%s (and %s): connect: %v", smokeenv.EnvNATSURL, smokeenv.EnvNATSCreds, err))
	}
	DeferCleanup(nc.Close)
	js, err = jetstream.New(nc)
	Expect(err).NotTo(HaveOccurred())
	if _, err := js.AccountInfo(ctx); err != nil {
		Fail(fmt.Sprintf("%s: JetStream not available: %v", smokeenv.EnvNATSURL, err))
	}

	// A wrong token or URL is named here, not found later as a failed fault.
	sim = client.New(cfg.SimURL, cfg.SimToken)
	ops, err := sim.Operators(ctx)
	switch code := client.StatusOf(err); {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		Fail(fmt.Sprintf("%s: refused by the simulator at %s: %v", smokeenv.EnvSimToken, cfg.SimURL, err))
	case err != nil:
		Fail(fmt.Sprintf("%s: simulator control API: %v", smokeenv.EnvSimURL, err))
	}
	var ids []string
	for _, o := range ops {
		ids = append(ids, o.ID)
	}
	for _, op := range cfg.Operators {
		if !slices.Contains(ids, op.SimOperator) {
			Fail(fmt.Sprintf("%s: the simulator has no operator %q (it has %v; write id=simulatorOperator)",
				smokeenv.EnvOperators, op.SimOperator, ids))
		}
	}
	for _, u := range cfg.ConnectorURLs {
		if err := healthz(ctx, u); err != nil {
			Fail(fmt.Sprintf("%s: %s: %v", smokeenv.EnvConnectorURLs, u, err))
		}
	}
}, NodeTimeout(time.Minute))

var _ = ReportAfterSuite("smoke report", func(r Report) {
	// As framework.SetupSuite's report (this suite starts nothing and has no
	// SetupSuite): the previous summary kept for the trend, then the gate
	// reports, then reports/index.html with this run in it.
	prev := framework.KeepPreviousSummary("smoke")
	gates := framework.WriteReports("smoke", "smoke", r)
	if err := errors.Join(prev, gates, framework.WriteRunReport("smoke", r)); err != nil {
		Fail(err.Error())
	}
})

func healthz(ctx context.Context, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := web.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New("/healthz answered " + resp.Status)
	}
	return nil
}
