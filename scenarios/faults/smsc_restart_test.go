package faults_test

import (
	"context"
	"time"
)

// smscDown is how long the restarting SMSC keeps its port closed.
const smscDown = 2 * time.Second

// The SMSC restarts half-way and numbers its messages from 1 again: the new
// messages get the ids of the first half's, whose rows the connector still
// holds. One receipt in five comes before its submit_sm_resp (as at many
// SMSCs under load), the case where a receipt can only be matched by id.
var _ = register(entry{
	Name:        "smsc_restart",
	Description: "SMSC restart that reuses its message ids (early receipts on)",
	InjectAfter: defaultMessages / 2,
	Setup:       earlyReceipts,
	Inject: func(ctx context.Context, r *rig) {
		r.addFault(ctx, "restart", "restart", 0, `{"duration":"2s","firstId":1}`)
		time.Sleep(smscDown)
		r.lifted = time.Now()
	},
})
