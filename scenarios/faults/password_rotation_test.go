package faults_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/internal/testutil"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
)

// wrongPassword is what an operator mistyped into the secret store.
const wrongPassword = "pw-wrong"

// A rotation goes wrong: the MNO announces a new password (the SMSC accepts
// the old and the new one), and the credential rendered for the connector
// is a wrong one. The connector picks it up at its next credential poll (30
// s in the process: there is no setting for it), is refused, and must keep
// the session it has: traffic must not stop. Recovery is the longest pause
// between accepted submit_sm from the rotation on. The traffic is slower and
// longer here, so that it still flows when the poll comes.
var _ = register(entry{
	Name:        "password_rotation",
	Description: "a wrong new password in a rotation",
	Messages:    3500,
	TPS:         100,
	InjectAfter: 100,
	Inject: func(ctx context.Context, r *rig) {
		Expect(r.sim.Client.SetPasswords(ctx, operatorID, systemID, password, "pw-new")).To(Succeed())
		r.writeCredential(wrongPassword)
		r.lifted, r.gapFrom = time.Now(), time.Now()
		// The barrier: the connector tried the wrong password (the SMSC
		// refused a bind), else the fault was never exercised.
		err := testutil.Poll(ctx, 50*time.Second, 100*time.Millisecond, func() error {
			for _, rec := range r.sim.Sim.Recorder.Query(recorder.Filter{Operator: operatorID, Since: r.gapFrom}) {
				if rec.Command == "bind_transceiver" && rec.Status != "" && rec.Status != "ESME_ROK" {
					r.note("the SMSC refused a bind with the new credential (%s) %s after the rotation", rec.Status, rec.Time.Sub(r.gapFrom).Round(time.Millisecond))
					return nil
				}
			}
			return fmt.Errorf("no bind refused yet")
		})
		Expect(err).NotTo(HaveOccurred(), "the connector never tried the rotated credential")
	},
})
