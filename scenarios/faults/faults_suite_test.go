// Package faults_test is the fault matrix (issue #12): the connector, as its
// own process, against real PostgreSQL and NATS containers that are killed
// and restarted on their data, and the simulator, under the faults production
// sees. One entry per fault, one file per entry (registered by name with
// register, each run alone in its own world: simulator, database, streams,
// processes); each counts, from the simulator and the event streams, the
// messages without an outcome event, the receipts stored but not published,
// missing or on the wrong message, the parts accepted twice, the TPS breaches
// and the recovery time, against the thresholds of the faults group of
// scenarios/gates.yaml.
//
//	make faults                                  # the whole matrix
//	go test ./scenarios/faults -ginkgo.label-filter=nats_restart   # one entry
package faults_test

import (
	"sort"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/scenarios/framework"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

// provider holds the restartable PostgreSQL and NATS containers the entries
// kill (set on the suite's only process when the environment starts).
var provider *testenv.RestartableProvider

var env = framework.SetupSuite("faults",
	framework.WithServices(testenv.Services{Postgres: true, NATS: true}),
	framework.WithProvider(func(session string) (testenv.Provider, error) {
		provider = testenv.NewRestartableProvider(session)
		return provider, nil
	}))

// connectorBinary is cmd/smpp-connector, built once for every entry.
var connectorBinary string

func TestFaults(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Fault matrix", Label(framework.LabelFaults))
}

var _ = Describe("Fault matrix", Ordered, ContinueOnFailure, Label(framework.LabelSlow), func() {
	BeforeAll(func(ctx SpecContext) {
		Expect(provider).NotTo(BeNil(), "the fault matrix runs on one process (its containers are killed from it)")
		bin, err := framework.BuildConnector(ctx, GinkgoT().TempDir())
		Expect(err).NotTo(HaveOccurred())
		connectorBinary = bin
	}, NodeTimeout(5*time.Minute))

	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e := entries[n]
		It(e.Name+": "+e.Description, Label(e.Name), func(ctx SpecContext) {
			run(ctx, e)
		}, SpecTimeout(4*time.Minute))
	}
})
