package faults_test

import (
	"context"
	"time"
)

// The SMSC drops the bind every 2 s for 6 s while a backlog waits: each
// rebind must not release a burst above the contracted TPS.
var _ = register(entry{
	Name:        "disconnect_storm",
	Description: "disconnect every 2 s for 6 s with a full backlog",
	Messages:    3000,
	InjectAfter: 500,
	Inject: func(ctx context.Context, r *rig) {
		r.storm(ctx, "disconnect-storm", "disconnect", `{"every":"2s"}`, 6*time.Second)
	},
})
