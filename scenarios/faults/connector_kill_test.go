package faults_test

import (
	"context"
	"time"

	. "github.com/onsi/gomega"
)

// The connector is killed (SIGKILL) mid-traffic and started again at once,
// as a supervisor would: the commands it had fetched come back after the ack
// wait, and with the default afterCrash (unknown) none is sent twice.
var _ = register(entry{
	Name:        "connector_kill",
	Description: "kill -9 of the connector mid-traffic, restarted at once",
	Setup:       earlyReceipts,
	Inject: func(ctx context.Context, r *rig) {
		Expect(r.procs[0].Kill()).To(Succeed())
		r.lifted = time.Now()
		r.startConnector()
	},
})
