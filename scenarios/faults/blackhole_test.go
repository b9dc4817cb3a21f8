package faults_test

import (
	"context"
	"time"
)

// The SMSC keeps TCP open and answers nothing (submits, enquire_link, binds)
// for 15 s: the bind must be found dead and renewed, losing at most one
// window (reported unknown, never sent twice).
var _ = register(entry{
	Name:        "blackhole",
	Description: "black hole (TCP open, no answers) for 15 s",
	Messages:    3000,
	Inject: func(ctx context.Context, r *rig) {
		r.storm(ctx, "blackhole", "blackhole", "", 15*time.Second)
	},
})
