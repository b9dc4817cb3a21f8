package faults_test

import (
	"context"
	"time"

	. "github.com/onsi/gomega"
)

// Two replicas: the active one is killed (SIGKILL) mid-traffic and the hot
// standby takes the lease over (after PostgreSQL drops the dead session and
// the handover grace).
var _ = register(entry{
	Name:        "replica_kill",
	Description: "kill -9 of the active replica, the standby takes over",
	Replicas:    2,
	Setup:       earlyReceipts,
	Inject: func(ctx context.Context, r *rig) {
		Expect(r.procs[0].Kill()).To(Succeed())
		r.lifted = time.Now()
	},
})
