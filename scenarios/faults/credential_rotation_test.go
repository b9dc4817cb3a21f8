package faults_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/internal/testutil"
)

// rotatedPassword is the new password of a rotation done right.
const rotatedPassword = "pw-next"

// A rotation done right (Phase 4's quarterly rotation): the MNO opens an
// overlap in which its SMSC accepts the old and the new password, the new
// credential is rendered, the connector renews its binds at its next
// credential poll (30 s in the process), and once every bind is a new one
// the MNO retires the old password. Nothing may be lost or sent twice, the
// traffic must not pause (recovery: the longest pause between accepted
// submit_sm from the rotation on), and no bind may be left on the old
// password when the overlap ends: the simulator knows each session's
// password and is the judge (SessionInfo.PasswordRetired).
var _ = register(entry{
	Name:        "credential_rotation",
	Description: "a password rotated with an overlap, then the old one retired",
	Messages:    3500,
	TPS:         100,
	InjectAfter: 100,
	Inject: func(ctx context.Context, r *rig) {
		Expect(r.sim.Client.SetPasswords(ctx, operatorID, systemID, password, rotatedPassword)).To(Succeed())
		rotated := time.Now()
		r.writeCredential(rotatedPassword)
		r.lifted, r.gapFrom = rotated, rotated
		// The barrier: every session of the account was bound after the
		// rotation (during the overlap both passwords bind, so the new
		// sessions are told by their age).
		err := testutil.Poll(ctx, 50*time.Second, 100*time.Millisecond, func() error {
			old, renewed := 0, 0
			for _, s := range r.sim.Sim.Sessions() {
				switch {
				case s.Account != systemID:
				case s.Since.Before(rotated):
					old++
				default:
					renewed++
				}
			}
			if old > 0 || renewed == 0 {
				return fmt.Errorf("%d sessions from before the rotation, %d after", old, renewed)
			}
			r.note("every bind renewed (%d) %s after the rotation", renewed, time.Since(rotated).Round(time.Millisecond))
			return nil
		})
		Expect(err).NotTo(HaveOccurred(), "the connector never renewed its binds with the rotated credential")
		// The overlap ends: the old password is retired; no session may
		// still be bound with it.
		Expect(r.sim.Client.SetPasswords(ctx, operatorID, systemID, rotatedPassword)).To(Succeed())
		var bound int
		for _, s := range r.sim.Sim.Sessions() {
			if s.Account != systemID {
				continue
			}
			bound++
			Expect(s.PasswordRetired).To(BeFalse(), "session %d (since %s) is bound with the retired password", s.ID, s.Since)
		}
		Expect(bound).To(BeNumerically(">", 0), "no session of %s bound when the overlap ended", systemID)
	},
})
