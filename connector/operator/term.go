package operator

import (
	"context"
	"crypto/tls"
	"errors"
	"sync"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/dispatch"
	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/inbound"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/outbound"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
	"github.com/smpp-connector/smpp-connector/connector/session"
)

// term is what runs while this replica owns the operator.
type term struct {
	// ctx ends with the term (renewals started by Update run under it).
	ctx context.Context
	// window is the window the binds and the consumer were made for: a
	// larger one needs a new term (update.go).
	window int
	// endpoints name the binds' [Addr, Backups...] (smpp_bind_endpoint).
	endpoints []string
	// watchMu guards restartWatch: it ends the credential watch, which
	// starts again on the source the operator's credential is routed to now.
	watchMu      sync.Mutex
	restartWatch context.CancelFunc
	pool         *session.Pool
	rx           *session.Pool // receivers, with transmitter binds
	inbound      *inbound.Handler
	outbound     *outbound.Consumer
}

// newTerm builds a term's parts in the order they need each other: the
// inbound handler, the binds that hand it what the SMSC sends, and the MT
// consumer that submits through them. previousOwnerLag is how long after
// the term starts the previous owner may still have been starting submits
// (lease.PreviousOwnerLag).
func (r *Runner) newTerm(ctx context.Context, s settings, previousOwnerLag time.Duration) *term {
	oc, d := s.cfg, r.d
	idRule := dlr.IDRule{Resp: dlr.IDFormat(oc.Quirks.MessageIDResp), Receipt: dlr.IDFormat(oc.Quirks.MessageIDReceipt)}
	t := &term{ctx: ctx, window: oc.Window, endpoints: s.endpoints}
	t.inbound = inbound.New(inbound.Operator{ID: oc.ID, IDRule: idRule,
		DataCoding0: oc.Encoding.DefaultAlphabet, ReceiptsWithEsmClass0: oc.Quirks.ReceiptsWithEsmClass0,
		// The SMSC's ids are handed out on the submitting binds (t.pool,
		// made below, before any bind starts): their epoch is the ids'.
		Epoch:          func() time.Time { return t.pool.Epoch() },
		ReceiptHorizon: oc.ReceiptHorizon, ReceiptHold: oc.ReceiptHold()},
		inbound.Deps{Store: d.Store, Events: d.Events, Metrics: d.Metrics, Log: d.Log})
	scfg := session.Config{
		Operator: oc.ID, Addr: s.addr, Backups: s.backups, BindType: s.bindType, Window: oc.Window,
		EnquireLink: oc.EnquireLinkInterval, ResponseTimeout: oc.ResponseTimeout, DialTimeout: oc.DialTimeout,
		BindTimeout: oc.BindTimeout, BackoffInitial: oc.Rebind.Initial, BackoffMax: oc.Rebind.Max, Log: d.Log,
		Deliver: t.inbound, DeadAfterTimeouts: oc.DeadBind.ResponseTimeouts, Pacer: r.limiter,
		OnDead: func(_, reason string) { d.Metrics.DeadBinds.WithLabelValues(oc.ID, reason).Inc() },
		// Endpoints with tls: true bind over TLS, the CA bundle and client
		// certificate read again at each attempt (renewed files are used);
		// from the settings running, so endpoints Update changes in place
		// are dialled as the new configuration says.
		TLS:           func(addr string) (*tls.Config, error) { return r.settings().cfg.ClientTLSFor(addr) },
		OnBindFailure: func(_, reason string) { d.Metrics.BindFailures.WithLabelValues(oc.ID, reason).Inc() },
		OnFailover:    func(_, _ string) { d.Metrics.BindFailovers.WithLabelValues(oc.ID).Inc() },
	}
	t.pool = session.NewPool(scfg, oc.Binds, r.credentials)
	if s.bindType == session.Transmitter {
		scfg.BindType, scfg.Operator = session.Receiver, oc.ID+"-rx"
		t.rx = session.NewPool(scfg, oc.Binds, r.credentials)
	}
	t.outbound = outbound.New(outbound.Operator{
		ID:          oc.ID,
		Profile:     Profile(oc),
		IDRule:      idRule,
		Concurrency: commandsInFlight(oc),
		Sending:     commandsSending(oc),
		AfterCrash:  outbound.AfterCrash(oc.AfterCrash),
		// A previous owner waits up to its response timeout for the answers
		// to what it sent before it stopped, and stores each one at once (a
		// second is plenty): its parts are not judged before that is over.
		PreviousOwnerSettle: max(previousOwnerLag+oc.ResponseTimeout+time.Second, 0),
	}, outbound.Deps{Store: d.Store, Pool: t.pool, Limiter: r.limiter, Receipts: t.inbound, Events: d.Events, JS: d.JS,
		Names: d.Names, Metrics: d.Metrics, Log: d.Log})
	return t
}

// Profile is what building the operator's submit_sm takes from its
// settings: segmentation, alphabets, the TON/NPI of addresses a command
// leaves without, the limit on alphanumeric senders, and the
// registered_delivery asked with a receipt.
func Profile(oc config.Operator) dispatch.Profile {
	return dispatch.Profile{LongMessage: oc.LongMessageStrategy, DataCoding0: oc.Encoding.DefaultAlphabet,
		AllowLatin1: oc.Encoding.AllowLatin1, NoUCS2: !oc.Encoding.UCS2, MaxParts: oc.MaxParts,
		SourceTON: oc.Source.TON, SourceNPI: oc.Source.NPI, DestTON: oc.Destination.TON, DestNPI: oc.Destination.NPI,
		AlphaTON: oc.Source.Alphanumeric.TON, AlphaNPI: oc.Source.Alphanumeric.NPI, MaxAlphanumeric: oc.Source.MaxAlphanumeric,
		RegisteredDelivery: byte(oc.Quirks.RegisteredDelivery)}
}

// credentials is what the operator's binds present, read at each bind.
func (r *Runner) credentials(ctx context.Context) (session.Auth, error) {
	c, err := r.d.Secrets.Get(ctx, r.ID())
	if err != nil {
		return session.Auth{}, err
	}
	r.credentialMetadata(c)
	return session.Auth{SystemID: c.SystemID, Password: c.Password, SystemType: c.SystemType, Version: c.Version}, nil
}

// credentialMetadata exports the version and creation time of the
// credential the binds read (the rotation schedule: its age against
// credentials.maxAge), or drops them when the source does not tell.
func (r *Runner) credentialMetadata(c secrets.Credential) {
	m, id := r.d.Metrics, r.ID()
	if m == nil {
		return
	}
	if c.Revision > 0 {
		m.CredRevision.WithLabelValues(id).Set(float64(c.Revision))
	} else {
		m.CredRevision.DeleteLabelValues(id)
	}
	if !c.Created.IsZero() {
		m.CredCreated.WithLabelValues(id).Set(float64(c.Created.UnixNano()) / 1e9)
	} else {
		m.CredCreated.DeleteLabelValues(id)
	}
}

// pools are the term's bind pools, receivers included.
func (t *term) pools() []*session.Pool {
	if t.rx == nil {
		return []*session.Pool{t.pool}
	}
	return []*session.Pool{t.pool, t.rx}
}

func (t *term) start() {
	for _, p := range t.pools() {
		p.Start()
	}
}

// close drains and unbinds every bind.
func (t *term) close() {
	for _, p := range t.pools() {
		p.Close()
	}
}

// binds are the term's binds, receivers included.
func (t *term) binds() []*session.Bind {
	var bs []*session.Bind
	for _, p := range t.pools() {
		bs = append(bs, p.Binds()...)
	}
	return bs
}

// watchCredentials renews the term's binds when a new credential version
// appears (a rotation in Vault or a re-rendered file). Update restarts the
// watch when the credential moves (restartWatch): a watch stays on the
// source it was started on.
func (r *Runner) watchCredentials(ctx context.Context, t *term) {
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(ctx)
		t.watchMu.Lock()
		t.restartWatch = cancel
		t.watchMu.Unlock()
		r.watchOnce(wctx, t)
		cancel()
	}
}

// moveWatch ends the term's credential watch; watchCredentials starts it
// again where the credential is now.
func (t *term) moveWatch() {
	t.watchMu.Lock()
	defer t.watchMu.Unlock()
	if t.restartWatch != nil {
		t.restartWatch()
	}
}

func (r *Runner) watchOnce(ctx context.Context, t *term) {
	id, log := r.ID(), r.d.Log
	for c := range r.d.Secrets.Watch(ctx, id, r.base.CredentialPoll) {
		log.Info("new credential version: renewing binds", "operator", id, "version", c.Version)
		r.renewBinds(ctx, t, "the new credential")
	}
}

// renewBinds renews every bind of the term, one at a time, make before
// break (session.Pool.Renew), with the credential and endpoints in force.
func (r *Runner) renewBinds(ctx context.Context, t *term, why string) {
	id, log := r.ID(), r.d.Log
	for _, p := range t.pools() {
		err := p.Renew(ctx)
		if errors.Is(err, session.ErrCredentialRefused) {
			// The working sessions stayed up (make-before-break): say so
			// (the version, never the secret), count it for the alert,
			// and leave the other pool on the credential that works.
			r.d.Metrics.CredentialRefused.WithLabelValues(id).Inc()
			log.Warn("new credential version refused by the SMSC: binds keep the previous credential", "operator", id, "err", err)
			return
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			log.Error("renewing binds with "+why, "operator", id, "err", err)
		}
	}
}

// observeBinds keeps the bind gauges current; the term's endpoints name
// the endpoints of the binds' [Addr, Backups...] in smpp_bind_endpoint.
func observeBinds(ctx context.Context, id string, t *term, m *metrics.Metrics) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	// The endpoint each bind was last exported on: a bind that moves, or
	// goes down, loses that series, so at most one endpoint is 1 per bind.
	on := map[string]string{}
	endpoints := t.endpoints
	for {
		for _, b := range t.binds() {
			ep := ""
			if i, bound := b.Endpoint(); bound && i < len(endpoints) {
				ep = endpoints[i]
			}
			if last := on[b.Name()]; last != ep {
				if last != "" {
					m.BindEndpoint.DeleteLabelValues(id, b.Name(), last)
				}
				on[b.Name()] = ep
			}
			if ep != "" {
				m.BindEndpoint.WithLabelValues(id, b.Name(), ep).Set(1)
			}
			st, _ := b.State()
			for _, s := range session.States {
				v := 0.0
				if s == st {
					v = 1
				}
				m.BindState.WithLabelValues(id, b.Name(), string(s)).Set(v)
			}
			m.WindowInUse.WithLabelValues(id, b.Name()).Set(float64(b.Outstanding()))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// commandsPerWindowSlot is how many commands the consumer works on at once
// per submit_sm a bind may keep unanswered, and sendingPerWindowSlot how
// many of them may be between their prepare and their last part's answer
// (outbound.Operator.Sending: the parts a crash can leave unknown, as many
// as before). A command spends most of its time in the store, not on the
// wire: its prepare and its outcome each wait for a batch commit (10-20 ms
// with fsync), its submit_sm for the SMSC's answer (a few ms from a
// simulator on the same machine, tens from an operator). Two per slot, for
// the whole of a command's life, left the window mostly empty: against the
// simulator, one bind, window 100, the connector moved 4,030 msg/s at full
// speed with both cores two-thirds busy. Four per slot moved 5,800 (six
// 5,700-6,300, ten 5,800: the cores full by then), with less CPU per
// message (bigger batches); of those, the ones past their answers wait
// only for their outcomes' commits, and the others before their prepare,
// with nothing stored.
const (
	commandsPerWindowSlot = 4
	sendingPerWindowSlot  = 2
)

// commandsInFlight is the consumer's concurrency for an operator: four per
// window slot, but no more than its TPS sends in half the ack wait. The
// pull consumer buffers as many again, and a buffered command has no
// heartbeat until a worker takes it: held by the TPS for longer than the ack
// wait, it is delivered again (absorbed, but counted as an attempt). Never
// fewer than two per slot, the rule before four.
func commandsInFlight(oc config.Operator) int {
	slots := oc.Binds * oc.Window
	byTPS := int(float64(oc.TPS) * outbound.DefaultAckWait.Seconds() / 2)
	return max(min(slots*commandsPerWindowSlot, byTPS), slots*sendingPerWindowSlot, 8)
}

// commandsSending bounds the operator's commands between their prepare and
// their last answer.
func commandsSending(oc config.Operator) int {
	return max(oc.Binds*oc.Window*sendingPerWindowSlot, 4)
}
