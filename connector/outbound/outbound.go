// Package outbound is one operator's MT path: it consumes the operator's
// dispatch commands from JetStream, submits their parts through the
// operator's binds within its TPS, and stores every outcome before acking.
// The store writes each outcome's event to its outbox in the same
// transaction, and connector/relay publishes it: an outcome stored is an
// outcome published, whatever fails after. What the SMSC sends back
// (receipts, MO) is connector/inbound's.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linxGnu/gosmpp/pdu"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/dispatch"
	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/session"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// Submitter sends a submit_sm and waits for its answer (session.Pool).
type Submitter interface {
	Submit(ctx context.Context, sm *pdu.SubmitSM) (session.Result, error)
}

// Limiter is the operator's TPS limiter (throttle.Limiter), told of the
// SMSC's throttling answers. It paces submits inside the Submitter (the
// binds take a grant right before they write, Config.Pacer in
// connector/session), not here: a grant taken before a bind is picked is
// spent whenever one is free, together with the others that waited.
type Limiter interface {
	Throttled()
}

// Operator is what the consumer needs to know about its operator.
type Operator struct {
	ID      string
	Profile dispatch.Profile
	IDRule  dlr.IDRule
	// Concurrency is how many commands are worked on at once (default 32):
	// enough to keep every bind's window full.
	Concurrency int
	// Sending bounds the commands between their prepare and their last
	// part's answer (default Concurrency). A process killed there leaves
	// those parts pending, sent or not, and afterCrash: unknown reports them
	// unknown: this bounds what a crash costs. The other commands in hand
	// wait before their prepare, with nothing stored, or are past their
	// answers, waiting for their outcomes' commits and acks.
	Sending int
	// MaxAttempts bounds deliveries of a command whose parts keep failing
	// temporarily (default 20); then the part is recorded as rejected.
	MaxAttempts int
	// RetryDelay is the first redelivery delay after a temporary failure
	// (default 2s), doubled per attempt up to 5 minutes.
	RetryDelay time.Duration
	// AckWait is how long JetStream waits for an ack before redelivering
	// (default DefaultAckWait); Handle renews it every AckWait/3 while it
	// works on a command, so it only bounds how long the commands a dead
	// process held stay out of work.
	AckWait time.Duration
	// AfterCrash is what becomes of a part a dead process may have sent: its
	// row prepared, no outcome stored, not handed back (AfterCrashUnknown,
	// the default: at most once, or AfterCrashResend: at least once).
	AfterCrash AfterCrash
	// PreviousOwnerSettle is how long after Run starts a part another
	// process left pending may still be on its way there (the previous
	// owner's, inflight.go): judged by AfterCrash only then. 0: at once.
	PreviousOwnerSettle time.Duration
}

// AfterCrash is the policy for the parts whose submit_sm may have reached
// the SMSC before the process holding them died.
type AfterCrash string

const (
	// AfterCrashUnknown records such a part unknown, with the reason, and
	// publishes that outcome: never sent twice (at most once).
	AfterCrashUnknown AfterCrash = "unknown"
	// AfterCrashResend submits it again (at least once).
	AfterCrashResend AfterCrash = "resend"
)

// afterCrashStatus is the status text of a part recorded unknown by
// AfterCrashUnknown, and the status label of its counter.
const afterCrashStatus = "after_crash"

// errAnswerNotStored is a submit answered by the SMSC whose outcome could
// not be stored: the part may have reached the SMSC, so it is not handed back.
var errAnswerNotStored = errors.New("answer not stored")

// ReceiptCounter counts the receipts a stored outcome released: those that
// came before their submit_sm_resp and were held (inbound.Handler). Their
// events are in the outbox with the outcome's.
type ReceiptCounter interface {
	Released(held []store.HeldReceipt)
}

// Deps are the consumer's collaborators.
type Deps struct {
	Store    *store.Store
	Pool     Submitter
	Limiter  Limiter
	Receipts ReceiptCounter
	Events   *events.Publisher
	JS       jetstream.JetStream
	Names    natscontract.Names
	Metrics  *metrics.Metrics
	Log      *slog.Logger
}

// Consumer is one operator's MT path: it consumes the operator's dispatch
// commands and works on each (Handle).
type Consumer struct {
	op  Operator
	d   Deps
	log *slog.Logger
	wg  sync.WaitGroup
	// consuming is true while Run's consumer delivers.
	consuming atomic.Bool
	// One handler per part (inflight.go); Run sets started first.
	flights flights
	started time.Time
	// sending holds a token per command between its prepare and its last
	// part's answer (Operator.Sending).
	sending chan struct{}
}

// DefaultAckWait is the dispatch consumer's ack wait when none is set: short,
// so that after a kill -9 the commands the process held are redelivered
// within seconds, and long enough that the heartbeats (every third of it)
// keep a command in work from being redelivered.
const DefaultAckWait = 10 * time.Second

// Consuming reports whether Run is consuming the operator's commands.
func (w *Consumer) Consuming() bool { return w.consuming.Load() }

// New returns the operator's consumer.
func New(op Operator, d Deps) *Consumer {
	if op.Concurrency <= 0 {
		op.Concurrency = 32
	}
	if op.Sending <= 0 || op.Sending > op.Concurrency {
		op.Sending = op.Concurrency
	}
	if op.MaxAttempts <= 0 {
		op.MaxAttempts = 20
	}
	if op.RetryDelay <= 0 {
		op.RetryDelay = 2 * time.Second
	}
	if op.AckWait <= 0 {
		op.AckWait = DefaultAckWait
	}
	if op.AfterCrash == "" {
		op.AfterCrash = AfterCrashUnknown
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Names.DispatchStream == "" {
		d.Names = natscontract.DefaultNames()
	}
	return &Consumer{op: op, d: d, log: d.Log.With("operator", op.ID), sending: make(chan struct{}, op.Sending)}
}

// recordPatience is how long an answered part's outcome is retried against
// the store before the command is given back to JetStream.
const recordPatience = 2 * time.Minute

// consumerCheck is how often Run checks that its consumer still exists.
const consumerCheck = 10 * time.Second

// Run consumes commands until ctx ends, then lets the commands in hand finish
// (their submits are answered and stored) before returning. It may be run
// again afterwards (an operator paused, then resumed).
func (w *Consumer) Run(ctx context.Context) error {
	subject := natscontract.For(w.d.Names.DispatchSubject, w.op.ID)
	// AckWait is extended with InProgress while a command is worked on.
	cons, err := w.d.JS.CreateOrUpdateConsumer(ctx, w.d.Names.DispatchStream,
		natscontract.DispatchConsumer(w.d.Names, w.op.ID, w.op.AckWait, 4*w.op.Concurrency))
	if err != nil {
		return fmt.Errorf("operator %s: consumer: %w", w.op.ID, err)
	}
	iter, err := cons.Messages(jetstream.PullMaxMessages(w.op.Concurrency))
	if err != nil {
		return fmt.Errorf("operator %s: consume: %w", w.op.ID, err)
	}
	if w.started.IsZero() {
		// Run again in the same term (an operator resumed): no previous
		// owner to settle with this time.
		w.started = time.Now()
	}
	w.consuming.Store(true)
	defer w.consuming.Store(false)
	w.d.Metrics.Consuming.WithLabelValues(w.op.ID).Set(1)
	defer w.d.Metrics.Consuming.WithLabelValues(w.op.ID).Set(0)
	w.log.Info("consuming dispatch commands", "subject", subject, "concurrency", w.op.Concurrency)
	for i := 0; i < w.op.Concurrency; i++ {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for {
				msg, err := iter.Next()
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					return
				}
				if err != nil {
					// A hiccup (leadership change, reconnect): keep consuming.
					w.log.Warn("fetching dispatch commands", "err", err)
					time.Sleep(time.Second)
					continue
				}
				if ctx.Err() != nil {
					// Fetched but not started when the consumer stops: hand it
					// back now, for a standby replica (or this one restarted),
					// rather than after the ack wait.
					_ = msg.Nak()
					continue
				}
				w.Handle(ctx, msg)
			}
		}()
	}
	stopped := make(chan struct{})
	go func() { w.wg.Wait(); close(stopped) }()
	// A consumer deleted while no pull request is waiting at the server is
	// never reported to the iterator (it only misses heartbeats, which it
	// does not treat as final): look for it.
	go func() {
		t := time.NewTicker(consumerCheck)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-stopped:
				return
			case <-t.C:
			}
			if _, err := cons.Info(ctx); errors.Is(err, jetstream.ErrConsumerNotFound) {
				w.log.Error("the operator's consumer is gone", "consumer", natscontract.ConsumerName(w.op.ID))
				iter.Stop()
				return
			}
		}
	}()
	select {
	case <-ctx.Done():
		iter.Drain() // what is buffered comes out of Next, to be handed back
		<-stopped
		return nil
	case <-stopped:
		// The iterator ended by itself (the consumer was deleted, say):
		// nothing is consumed any more, which the caller must know.
		return fmt.Errorf("operator %s: consumer %s stopped delivering", w.op.ID, natscontract.ConsumerName(w.op.ID))
	}
}

// Handle works on one command: dead-letter it, submit what is missing, or
// ask for it again later. It acks only when every part's outcome is durable.
// The steps: parse, prepare, then per part pace, submit, record (with its
// event, for the relay to publish), and ack.
func (w *Consumer) Handle(ctx context.Context, msg jetstream.Msg) {
	defer w.keepAlive(msg)()
	cmd, parts, ok := w.parse(ctx, msg)
	if !ok {
		return
	}
	release, ok := w.fly(ctx, msg, cmd)
	if !ok {
		return
	}
	defer release()
	answered, ok := w.startSending(ctx, msg, cmd)
	if !ok {
		return
	}
	defer answered()
	states, ok := w.prepare(ctx, msg, cmd, parts)
	if !ok {
		return
	}
	taken, err := w.takeBack(ctx, cmd, states)
	if err != nil {
		// Nothing handed back: the parts found pending are judged again by
		// the next delivery.
		w.retry(ctx, msg, cmd.MessageID, err)
		return
	}
	if wait := w.settling(states, taken); wait > 0 {
		w.postpone(ctx, msg, cmd, states, taken, wait)
		return
	}
	attempt := deliveries(msg)
	for i, p := range parts {
		if states[i].Status != store.Pending {
			// Done on an earlier delivery: never resubmit. Its event was
			// stored with it, in the outbox.
			continue
		}
		if !w.mine(states[i], taken) {
			// Left pending by a process that died while its submit_sm may
			// have been on its way: at most once, reported unknown.
			if err := w.recordAfterCrash(ctx, cmd, p); err != nil {
				w.handBackRest(ctx, cmd, parts[i+1:], states[i+1:], taken)
				w.retry(ctx, msg, cmd.MessageID, err)
				return
			}
			continue
		}
		last := i == len(parts)-1
		if err := w.send(ctx, cmd, p, attempt, last, answered); err != nil {
			rest, rstates := parts[i:], states[i:]
			if errors.Is(err, errAnswerNotStored) {
				rest, rstates = parts[i+1:], states[i+1:]
			}
			w.handBackRest(ctx, cmd, rest, rstates, taken)
			w.retry(ctx, msg, cmd.MessageID, err)
			return
		}
	}
	w.ack(msg, cmd)
}

// mine reports whether this delivery may submit a pending part: it prepared
// the row, took it back from the delivery that handed it back unsent, or the
// operator's policy resends whatever a dead process left.
func (w *Consumer) mine(st store.PartState, taken map[int]bool) bool {
	return st.Created || taken[st.Part] || w.op.AfterCrash == AfterCrashResend
}

// takeBack claims, for this delivery, the pending parts an earlier delivery
// prepared and handed back unsent. Only a redelivery asks the store: the
// first delivery created its rows.
func (w *Consumer) takeBack(ctx context.Context, cmd dispatch.Command, states []store.PartState) (map[int]bool, error) {
	var found []int
	for _, st := range states {
		if st.Status == store.Pending && !st.Created && st.HandedBack {
			found = append(found, st.Part)
		}
	}
	if len(found) == 0 {
		return nil, nil
	}
	// Not cancelled by a stop, for the same reason as prepare: a claim made
	// but not known to be would leave the parts neither sent nor handed back.
	taken, err := w.d.Store.TakeBack(context.WithoutCancel(ctx), w.op.ID, cmd.MessageID, found)
	if err != nil {
		return nil, fmt.Errorf("take back parts: %w", err)
	}
	return taken, nil
}

// handBackRest marks the pending parts this delivery holds and has not sent
// as handed back, so that the next delivery submits them. If it fails they
// are reported unknown then (never sent twice).
func (w *Consumer) handBackRest(ctx context.Context, cmd dispatch.Command, parts []dispatch.Part, states []store.PartState, taken map[int]bool) {
	var back []int
	for i, p := range parts {
		if states[i].Status == store.Pending && w.mine(states[i], taken) {
			back = append(back, p.Number)
		}
	}
	if err := w.d.Store.HandBack(context.WithoutCancel(ctx), w.op.ID, cmd.MessageID, back); err != nil {
		w.log.Warn("handing back unsent parts failed; the next delivery reports them unknown", "message_id", cmd.MessageID, "err", err)
	}
}

// recordAfterCrash records as unknown a part whose submit_sm may have
// reached the SMSC before the process holding it died (its event with it).
func (w *Consumer) recordAfterCrash(ctx context.Context, cmd dispatch.Command, p dispatch.Part) error {
	w.d.Metrics.Submits.WithLabelValues(w.op.ID, "unknown", afterCrashStatus).Inc()
	w.log.Warn("part left pending by a process that died; not sent again (afterCrash: unknown)", "message_id", cmd.MessageID, "part", p.Number)
	out := store.Outcome{OperatorID: w.op.ID, MessageID: cmd.MessageID, Part: p.Number, Kind: store.Unknown, At: time.Now()}
	return w.record(context.WithoutCancel(ctx), out, afterCrashStatus+": the process holding it died while its submit_sm may have been on its way to the SMSC; not sent again")
}

// parse reads the command and builds its parts for the operator; a command
// that cannot be sent is dead-lettered (ok false).
func (w *Consumer) parse(ctx context.Context, msg jetstream.Msg) (dispatch.Command, []dispatch.Part, bool) {
	cmd, err := dispatch.ParseCommand(msg.Data(), w.op.ID)
	var parts []dispatch.Part
	if err == nil {
		parts, err = dispatch.Build(cmd, w.op.Profile)
	}
	if err != nil {
		w.deadLetter(ctx, msg, err)
		return cmd, nil, false
	}
	return cmd, parts, true
}

// prepare stores the message's parts (or finds them from an earlier
// delivery) and returns their states; on failure the command is
// dead-lettered or handed back (ok false).
func (w *Consumer) prepare(ctx context.Context, msg jetstream.Msg, cmd dispatch.Command, parts []dispatch.Part) ([]store.PartState, bool) {
	refs := make([]store.PartRef, len(parts))
	for i, p := range parts {
		refs[i] = store.PartRef{Number: p.Number, SequenceNumber: uint32(p.PDU.GetSequenceNumber())}
	}
	// The fingerprint tells a redelivery (same content: skip the parts done)
	// from a messageId reused for other content (a conflict). Not cancelled
	// by a stop (the store bounds it): rows prepared but not known to be
	// would be taken, by the next delivery, for parts a dead process may
	// have sent, and reported unknown instead of sent.
	states, err := w.d.Store.PrepareParts(context.WithoutCancel(ctx), store.MessageRef{OperatorID: w.op.ID, MessageID: cmd.MessageID,
		PartCount: len(parts), Fingerprint: cmd.Fingerprint()}, refs)
	switch {
	case errors.Is(err, store.ErrMismatch):
		w.deadLetter(ctx, msg, &dispatch.BadCommand{Field: "messageId", Reason: err.Error()})
		return nil, false
	case errors.Is(err, store.ErrConflict):
		w.deadLetter(ctx, msg, &dispatch.BadCommand{Field: "messageId", Reason: "conflict: the content differs from " +
			"the command first received with this messageId (text, addresses or options); nothing sent (" + err.Error() + ")"})
		return nil, false
	}
	if err != nil {
		w.retry(ctx, msg, cmd.MessageID, fmt.Errorf("prepare: %w", err))
		return nil, false
	}
	return states, true
}

// send submits (paced by the binds, see Limiter) and records one part. An
// error means the command must be tried again later.
func (w *Consumer) send(ctx context.Context, cmd dispatch.Command, p dispatch.Part, attempt int, last bool, answered func()) error {
	out, status, err := w.submit(ctx, cmd, p, attempt)
	if err != nil {
		return err
	}
	if last {
		// Nothing of the command is left to send: its sending token goes
		// to the next command while this outcome commits.
		answered()
	}
	// From here on the SMSC may have the message: record it even if we are
	// shutting down.
	return w.record(context.WithoutCancel(ctx), out, status)
}

// submit sends one part and classifies the SMSC's answer into the outcome to
// record (with its status text), or an error when nothing is to be recorded
// and the command must be tried again later.
func (w *Consumer) submit(ctx context.Context, cmd dispatch.Command, p dispatch.Part, attempt int) (store.Outcome, string, error) {
	m := w.d.Metrics
	res, err := w.d.Pool.Submit(ctx, p.PDU)
	out := store.Outcome{OperatorID: w.op.ID, MessageID: cmd.MessageID, Part: p.Number,
		SequenceNumber: uint32(p.PDU.GetSequenceNumber()), SubmittedAt: res.Sent, At: time.Now()}
	switch {
	case errors.Is(err, session.ErrNotSent):
		return out, "", err
	case errors.Is(err, session.ErrUnknown):
		out.Kind = store.Unknown
		m.Submits.WithLabelValues(w.op.ID, "unknown", session.UnknownReason(err)).Inc()
		return out, err.Error(), nil
	case err != nil:
		return out, "", err
	}
	m.SubmitLatency.WithLabelValues(w.op.ID).Observe(res.Resp.Sub(res.Sent).Seconds())
	status := res.Status.String()
	if res.GenericNack {
		status = "generic_nack " + status
	}
	switch dispatch.Classify(res) {
	case dispatch.Accepted:
		key, kerr := w.op.IDRule.Key(res.MessageID, false)
		if kerr != nil {
			w.log.Warn("submit_sm_resp id does not fit the operator's id format; stored as is", "id", res.MessageID, "err", kerr)
			key = res.MessageID
		}
		out.Kind, out.SMSCMessageID, out.SMSCKey = store.Accepted, res.MessageID, key
		m.Submits.WithLabelValues(w.op.ID, "accepted", status).Inc()
		return out, status, nil
	case dispatch.Temporary:
		if dispatch.Throttling(res) {
			w.d.Limiter.Throttled()
			m.Throttled.WithLabelValues(w.op.ID).Inc()
		}
		if attempt < w.op.MaxAttempts {
			m.Submits.WithLabelValues(w.op.ID, "retry", status).Inc()
			return out, "", fmt.Errorf("%s: temporary, retrying", status)
		}
		w.log.Warn("giving up after repeated temporary failures", "message_id", cmd.MessageID, "part", p.Number, "attempts", attempt, "status", status)
	}
	out.Kind, out.CommandStatus = store.Rejected, uint32(res.Status)
	m.Submits.WithLabelValues(w.op.ID, "rejected", status).Inc()
	return out, status, nil
}

// ack acknowledges a command whose every part's outcome is durable.
func (w *Consumer) ack(msg jetstream.Msg, cmd dispatch.Command) {
	if err := msg.Ack(); err != nil {
		w.log.Warn("ack failed; the command will be redelivered and its stored parts skipped", "message_id", cmd.MessageID, "err", err)
	}
	w.d.Metrics.Commands.WithLabelValues(w.op.ID, "done").Inc()
}

// record stores a part's outcome; the store writes its event, and the
// events of the receipts that were waiting for it, to the outbox in the
// same transaction.
func (w *Consumer) record(ctx context.Context, out store.Outcome, status string) error {
	out.Detail = status
	// The SMSC has answered: the outcome must be stored, or a redelivery
	// would submit the part again. Retry for a while before giving up.
	var res store.OutcomeResult
	var err error
	for delay, deadline := 100*time.Millisecond, time.Now().Add(recordPatience); ; delay = min(2*delay, 5*time.Second) {
		if res, err = w.d.Store.RecordOutcome(ctx, out); err == nil || errors.Is(err, store.ErrInvalid) || time.Now().After(deadline) {
			break
		}
		w.log.Warn("storing an outcome failed; retrying", "message_id", out.MessageID, "part", out.Part, "err", err)
		time.Sleep(delay)
	}
	if err != nil {
		w.log.Error("outcome not stored: the next delivery follows the afterCrash policy for the part", "message_id", out.MessageID, "part", out.Part, "err", err)
		return fmt.Errorf("store outcome: %w: %w", errAnswerNotStored, err)
	}
	if len(res.Receipts) > 0 {
		w.d.Receipts.Released(res.Receipts)
	}
	return nil
}

// retry asks JetStream for the command again after a growing delay, or at
// once when the consumer is stopping (ctx ended): then the parts not sent yet
// are for whoever consumes next.
func (w *Consumer) retry(ctx context.Context, msg jetstream.Msg, messageID string, reason error) {
	if ctx.Err() != nil {
		w.log.Info("command handed back on shutdown", "message_id", messageID, "reason", reason)
		if err := msg.Nak(); err != nil {
			w.log.Warn("nak failed; the command comes back after the ack wait", "message_id", messageID, "err", err)
		}
		return
	}
	n := deliveries(msg)
	delay := w.op.RetryDelay << min(n-1, 8)
	delay = min(delay, 5*time.Minute)
	w.d.Metrics.Commands.WithLabelValues(w.op.ID, "retry").Inc()
	w.log.Info("command postponed", "message_id", messageID, "attempt", n, "retry_in", delay, "reason", reason)
	if err := msg.NakWithDelay(delay); err != nil {
		w.log.Warn("nak failed; the command comes back after the ack wait", "message_id", messageID, "err", err)
	}
}

func deliveries(msg jetstream.Msg) int {
	if md, err := msg.Metadata(); err == nil {
		return int(md.NumDelivered)
	}
	return 1
}

// deadLetter publishes a bad command with its reason and acks it; if the
// dead letter cannot be published the command is kept (nak) so nothing is lost.
func (w *Consumer) deadLetter(ctx context.Context, msg jetstream.Msg, err error) {
	var bc *dispatch.BadCommand
	if !errors.As(err, &bc) {
		bc = &dispatch.BadCommand{Reason: err.Error()}
	}
	dl := events.DeadLetter{OperatorID: w.op.ID, Subject: msg.Subject(), Reason: bc.Reason, Field: bc.Field,
		ReceivedAt: time.Now().UTC()}
	dl.CommandText(msg.Data())
	if perr := w.d.Events.DeadLetter(ctx, dl); perr != nil {
		w.d.Metrics.PublishErrors.WithLabelValues("deadletter").Inc()
		w.retry(ctx, msg, "", fmt.Errorf("dead letter: %w", perr))
		return
	}
	w.d.Metrics.DeadLetters.WithLabelValues(w.op.ID, bc.Field).Inc()
	w.d.Metrics.Commands.WithLabelValues(w.op.ID, "bad").Inc()
	w.log.Warn("bad command dead-lettered", "subject", msg.Subject(), "field", bc.Field, "reason", bc.Reason)
	if err := msg.Term(); err != nil {
		w.log.Warn("term failed", "err", err)
	}
}
