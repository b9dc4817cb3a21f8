package faults_test

import (
	"context"
	"encoding/json"
	"time"

	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/smscsim/api"
)

// addFault adds a fault to the entry's simulator through its control API,
// as an engineer would with `smscsim faults add`.
func (r *rig) addFault(ctx context.Context, name, typ string, probability float64, params string) {
	spec := api.Spec{Name: name, Type: typ, Probability: probability}
	if params != "" {
		spec.Params = json.RawMessage(params)
	}
	_, err := r.sim.Client.AddFault(ctx, spec)
	Expect(err).NotTo(HaveOccurred(), "add fault %s", name)
}

// storm keeps a fault on for d and removes it; the lift is the removal.
func (r *rig) storm(ctx context.Context, name, typ, params string, d time.Duration) {
	r.addFault(ctx, name, typ, 0, params)
	time.Sleep(d)
	Expect(r.sim.Client.RemoveFault(ctx, name)).To(Succeed())
	r.lifted = time.Now()
}

// earlyReceipts makes one receipt in five come before its submit_sm_resp (as
// at many SMSCs under load): such a receipt is held until the resp is
// stored, the path where a crash can leave a receipt stored but never
// published.
func earlyReceipts(ctx context.Context, r *rig) {
	r.addFault(ctx, "early-receipts", "receipt_early", 0.2, "")
}
