package framework

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/lease"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/service"
)

// StartConnector runs the connector inside the suite with the given
// operators file (YAML) on the suite's PostgreSQL, Vault and NATS,
// credentials read from Vault, until the calling node's scope ends; it returns
// once the connector is running. (This fixture is why the connector's own
// package tests use testenv, not framework: framework imports the connector.)
func StartConnector(ctx context.Context, e *Env, operatorsYAML string) {
	GinkgoHelper()
	start(ctx, e, operatorsYAML, false, true)
}

// StartShadowConnector is StartConnector in shadow mode (Phase 2): only
// endpoints marked shadow are used, and receipts and outcomes are not
// published. It returns the running connector, whose /metrics (HTTPAddr)
// shows what nothing published does, e.g. receipts held before their resp.
func StartShadowConnector(ctx context.Context, e *Env, operatorsYAML string) *service.Running {
	GinkgoHelper()
	return start(ctx, e, operatorsYAML, true, true)
}

// start runs a connector; record: its spec's rows of the store go to the
// HTML report (once per database: replicas share one).
func start(ctx context.Context, e *Env, operatorsYAML string, shadow, record bool) *service.Running {
	GinkgoHelper()
	file, err := config.Parse([]byte(operatorsYAML))
	Expect(err).NotTo(HaveOccurred(), "operators file:\n%s", operatorsYAML)
	svc := config.DefaultService()
	svc.NATS.URL, svc.NATS.CreateStreams = e.Endpoints.NATSURL, true
	svc.PostgresDSN, svc.HTTPListen, svc.Shadow = e.DatabaseDSN, "127.0.0.1:0", shadow
	svc.Vault.Address, svc.Vault.Token, svc.Vault.KVMount = e.Endpoints.VaultAddr, e.Endpoints.VaultToken, e.Endpoints.VaultKVMount
	log := slog.New(slog.NewTextHandler(GinkgoWriter, &slog.HandlerOptions{Level: slog.LevelWarn}))
	since := time.Now()
	// The connector runs until the cleanup stops it, not until the spec's
	// context ends.
	c, err := service.Start(context.WithoutCancel(ctx), svc, file, service.Options{Log: log,
		// Take the operators at once rather than after the production
		// grace period (a standby takes one over within a second or so).
		Lease: lease.Options{Poll: 100 * time.Millisecond, Grace: 300 * time.Millisecond}})
	Expect(err).NotTo(HaveOccurred(), "connector stopped at start-up")
	DeferCleanup(func() {
		Expect(c.Stop()).To(Succeed(), "the connector did not stop cleanly")
	})
	// Registered after the stop, so it runs before it, on the rows of this
	// connector's spec (the suite's database outlives it).
	if record {
		captureAtEnd("correlation store", func(ctx context.Context) error {
			return RecordCorrelations(ctx, e.DatabaseDSN, since)
		})
	}
	return c
}

// StartReplicas runs n connector replicas in the suite, each as
// StartConnector does, on the same PostgreSQL, Vault and NATS: the first to
// take an operator's lease owns it and the others stand by (hot standby),
// taking it over when the owner stops, as in a deployment of several
// replicas. It returns them in start order once all run; each stops when the
// calling node's scope ends.
func StartReplicas(ctx context.Context, e *Env, operatorsYAML string, n int) []*service.Running {
	GinkgoHelper()
	out := make([]*service.Running, n)
	for i := range out {
		// The replicas share the database: its rows are recorded once.
		out[i] = start(ctx, e, operatorsYAML, false, i == 0)
	}
	return out
}

// ReplicaTargets names replicas replica-1, replica-2, ... (in order) as
// the targets of an AlertWatch.
func ReplicaTargets(replicas []*service.Running) []AlertTarget {
	out := make([]AlertTarget, len(replicas))
	for i, r := range replicas {
		out[i] = AlertTarget{Instance: fmt.Sprintf("replica-%d", i+1), HTTPAddr: r.HTTPAddr()}
	}
	return out
}

// PublishCommand publishes a dispatch command for operatorID with a receipt
// requested.
func PublishCommand(ctx context.Context, e *Env, operatorID, messageID, text string) {
	GinkgoHelper()
	PublishCommandTo(ctx, e, operatorID, messageID, "447700900123", text)
}

// PublishCommandTo is PublishCommand to a given destination.
func PublishCommandTo(ctx context.Context, e *Env, operatorID, messageID, destination, text string) {
	GinkgoHelper()
	cmd := fmt.Sprintf(`{"messageId":%q,"operatorId":%q,"source":{"addr":"ACME","ton":5,"npi":0},`+
		`"destination":{"addr":%q,"ton":1,"npi":1},"text":%q,"registeredDelivery":true}`, messageID, operatorID, destination, text)
	_, err := e.JetStream().Publish(ctx, natscontract.DispatchSubjectFor(operatorID), []byte(cmd))
	Expect(err).NotTo(HaveOccurred())
}
