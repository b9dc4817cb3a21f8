package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/linxGnu/gosmpp"
	"github.com/linxGnu/gosmpp/data"
)

// ErrCredentialRefused is a renewal whose new credential the SMSC refused for
// good (wrong password or system_id). The bind keeps, or goes back to, the
// credential that worked.
var ErrCredentialRefused = errors.New("new credential refused by the SMSC")

// Credential rotation is make-before-break (issue #12): a bound bind opens a
// second session with the new credential beside the working one, moves
// submits to it once it is bound, and only then drains and unbinds the old
// one. Until then the old session keeps sending, and its deliver_sm go to the
// same handler as the new one's.
//
//   - The new credential is refused for good: nothing changes on the wire,
//     the renewal fails with ErrCredentialRefused and the version is kept as
//     refused (RefusedVersion), so a later rebind of this bind uses the
//     credential that worked instead of locking the account.
//   - The SMSC allows no second bind (ESME_RALYBND, a bind limit of one per
//     account): the bind falls back to break-before-make, as before: drain,
//     unbind, bind with the new credential. Should that be refused, the bind
//     binds again with the old credential at once (no backoff, no waiting for
//     a new version): the gap is one unbind and two binds.
//   - Any other failure (dial, timeout) keeps the old session and tries the
//     renewal again after the initial backoff.

// renewal is one renewal request; its outcome is sent on reply (buffered).
type renewal struct{ reply chan error }

func (r *renewal) answer(err error) {
	if r != nil {
		select {
		case r.reply <- err:
		default:
		}
	}
}

// RenewWait renews the bind with the credential the source gives now and
// waits until a session with it is bound, or it was refused
// (ErrCredentialRefused), or ctx ends. A bind that is not bound at the moment
// takes the new credential at its next bind attempt, at once.
func (b *Bind) RenewWait(ctx context.Context) error {
	r := &renewal{reply: make(chan error, 1)}
	select {
	case b.renew <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.done:
		return ErrClosed
	}
	b.Kick()
	select {
	case err := <-r.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-b.done:
		return ErrClosed
	}
}

// RefusedVersion is the credential version the SMSC refused for good, while
// the bind waits for a new one or carries on with the previous one ("" when
// none).
func (b *Bind) RefusedVersion() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rejected
}

// credential is what the next bind attempt presents: the source's current
// credential, or the one that last worked when the current one was refused
// (fallback); refused reports that there is neither.
func (b *Bind) credential(auth Auth) (use Auth, fallback, refused bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rejected == "" || b.rejected != auth.Version {
		return auth, false, false
	}
	if b.working.Version != "" && b.working.Version != b.rejected {
		return b.working, true, false
	}
	return auth, false, true
}

// beside is the outcome of opening a session beside the working one.
type beside struct {
	sess   *gosmpp.Session
	closed <-chan string
	auth   Auth
	err    error
	// breakFirst: the SMSC refused a second bind; renew break-before-make.
	breakFirst bool
}

// openBeside binds a second session with the current credential while the
// working one stays up.
func (b *Bind) openBeside(addr string) beside {
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.BindTimeout)
	auth, err := b.creds(ctx)
	cancel()
	if err != nil {
		return beside{err: fmt.Errorf("credentials: %w", err)}
	}
	if _, _, refused := b.credential(auth); refused || b.RefusedVersion() == auth.Version {
		// Refused before: binding with it again only risks locking the account.
		return beside{auth: auth, err: fmt.Errorf("%w: version %s (refused before)", ErrCredentialRefused, auth.Version)}
	}
	sess, closed, err := b.connect(auth, addr)
	if err == nil {
		return beside{sess: sess, closed: closed, auth: auth}
	}
	b.bindFailed(err)
	var be gosmpp.BindError
	if errors.As(err, &be) {
		switch {
		case permanentBindError(be.CommandStatus):
			b.refuse(auth, be.CommandStatus)
			return beside{auth: auth, err: fmt.Errorf("%w: version %s: %w", ErrCredentialRefused, auth.Version, err)}
		case be.CommandStatus == data.ESME_RALYBND:
			return beside{auth: auth, err: err, breakFirst: true}
		}
	}
	return beside{auth: auth, err: err}
}

// refuse records a credential version the SMSC refused for good and says so
// (the version, never the secret).
func (b *Bind) refuse(auth Auth, st data.CommandStatusType) {
	b.mu.Lock()
	b.rejected = auth.Version
	working := b.working.Version
	b.mu.Unlock()
	b.cfg.Log.Warn("new credential refused by the SMSC: keeping the previous one",
		"operator", b.cfg.Operator, "bind", b.name, "status", st.String(), "refused_version", auth.Version, "working_version", working)
}

// swap makes next the bind's session: submits admitted from now on go to it
// (admit refuses the old one), and the calls already admitted on old are
// returned for retire to wait on.
func (b *Bind) swap(next *gosmpp.Session, auth Auth) []*call {
	b.mu.Lock()
	b.pmu.Lock()
	b.sess, b.working, b.rejected = next, auth, ""
	inflight := make([]*call, 0, len(b.pending))
	for _, c := range b.pending {
		inflight = append(inflight, c)
	}
	b.inRow.Store(0)
	b.pmu.Unlock()
	b.gen.Add(1)
	b.setStateLocked(StateBound, nil) // wakes waiters: the pool picks again
	b.mu.Unlock()
	select {
	case <-b.dead: // a verdict on the old session
	default:
	}
	return inflight
}

// retire lets the old session finish what it carries (each submit is answered
// or times out) and then unbinds it. It keeps reading meanwhile, so its
// submit_sm_resp and deliver_sm are handled as before.
func (b *Bind) retire(old *gosmpp.Session, inflight []*call) {
	defer b.retiring.Done()
	// A submit admitted just before the swap is written within WriteTimeout
	// and answered within ResponseTimeout, or given up by its caller.
	t := time.NewTimer(b.cfg.WriteTimeout + b.cfg.ResponseTimeout)
	defer t.Stop()
	for _, c := range inflight {
		select {
		case <-c.done:
		case <-t.C:
			_ = old.Close()
			return
		}
	}
	_ = old.Close()
}

// retryRenewal asks for the renewal again after the initial backoff (the new
// session could not be opened for a reason other than the credential).
func (b *Bind) retryRenewal(r *renewal) {
	time.AfterFunc(jitter(b.cfg.BackoffInitial), func() {
		select {
		case b.renew <- r:
		case <-b.stop:
			r.answer(ErrClosed)
		}
	})
}

// Renew renews the bind with the credential the source gives now (a
// rotation), make-before-break, without waiting (see RenewWait).
func (b *Bind) Renew() {
	select {
	case b.renew <- &renewal{reply: make(chan error, 1)}:
	default:
	}
	b.Kick()
}

// drain waits for outstanding submits to be answered (or time out), woken
// each time one leaves the window rather than polling. The token channel has
// room for one, so a submit leaving between the length check and the wait is
// not missed; a stale token only costs one more check.
func (b *Bind) drain() {
	t := time.NewTimer(b.cfg.ResponseTimeout)
	defer t.Stop()
	for b.window.outstanding() > 0 {
		select {
		case <-b.freed:
		case <-t.C:
			return
		}
	}
}
