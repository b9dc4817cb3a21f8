package faults_test

import (
	"context"
	"time"

	. "github.com/onsi/gomega"
)

// natsDown is how long NATS stays dead: the 5 s.
const natsDown = 5 * time.Second

// The NATS server is killed (SIGKILL) mid-traffic and started again on its
// volume 5 s later: the commands and events it had stored are still there;
// events the connector published meanwhile must not be lost.
var _ = register(entry{
	Name:        "nats_restart",
	Description: "NATS killed and restarted on its data after 5 s",
	Inject: func(ctx context.Context, r *rig) {
		Expect(provider.NATS().Kill(ctx)).To(Succeed())
		time.Sleep(natsDown)
		Expect(provider.NATS().Start(ctx)).To(Succeed())
		r.lifted = time.Now()
	},
})
