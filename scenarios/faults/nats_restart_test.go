package faults_test

import (
	"context"
	"time"

	. "github.com/onsi/gomega"
)

// natsDown is how long NATS stays dead: longer than a JetStream publish
// waits for its ack (5 s by default), so that a publish caught by the outage
// fails rather than lands late (with the 5 s, one run in three lost
// nothing: the publishes in flight were acked after the reconnect).
const natsDown = 8 * time.Second

// The NATS server is killed (SIGKILL) mid-traffic and started again on its
// volume 8 s later: the commands and events it had stored are still there;
// events the connector published meanwhile must not be lost.
var _ = register(entry{
	Name:        "nats_restart",
	Description: "NATS killed and restarted on its data after 8 s",
	Inject: func(ctx context.Context, r *rig) {
		Expect(provider.NATS().Kill(ctx)).To(Succeed())
		time.Sleep(natsDown)
		Expect(provider.NATS().Start(ctx)).To(Succeed())
		r.lifted = time.Now()
	},
})
