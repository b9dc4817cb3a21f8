package faults_test

import (
	"context"
	"time"

	. "github.com/onsi/gomega"
)

// PostgreSQL (fsync on) is killed (SIGKILL to the postmaster: no shutdown
// checkpoint, like pg_ctl -m immediate) mid-traffic and started again at
// once: it replays its WAL, and what was committed is there.
var _ = register(entry{
	Name:        "postgres_restart",
	Description: "PostgreSQL killed and restarted at once (crash recovery)",
	Setup:       earlyReceipts,
	Inject: func(ctx context.Context, r *rig) {
		Expect(provider.Postgres().Kill(ctx)).To(Succeed())
		Expect(provider.Postgres().Start(ctx)).To(Succeed())
		r.lifted = time.Now()
	},
})
