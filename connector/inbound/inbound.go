// Package inbound handles what an operator's SMSC sends the connector: the
// deliver_sm that carry delivery receipts and MO messages (segmented ones
// stored part by part until complete, then published). It answers each
// deliver_sm only once what it carries is safe, so the SMSC delivers it
// again otherwise: a receipt once it is committed to the store's receipt
// inbox (store.AppendReceipt, a group commit of about a millisecond), from
// which the Drainer matches it to its submitted part, storing its state and
// its event (for connector/relay to publish) in one transaction.
package inbound

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// Operator is what the handler needs to know about its operator.
type Operator struct {
	ID string
	// IDRule reads the SMSC's message ids (receipts carry them in the
	// operator's receipt format) into the key the store matches on.
	IDRule dlr.IDRule
	// DataCoding0 is the operator's default alphabet (what data_coding 0
	// means in the MO it sends: gsm7, latin1, ...).
	DataCoding0 string
	// ReceiptsWithEsmClass0 takes a deliver_sm or data_sm that does not say
	// it is a receipt, but whose text matches the receipt grammar, for a
	// receipt (config.Quirks.ReceiptsWithEsmClass0); never a part of a
	// concatenated message (UDHI, SAR TLVs).
	ReceiptsWithEsmClass0 bool

	// Receipts after an SMSC restart (connector/store): a receipt is
	// attributed only to a part answered in the current id epoch and within
	// the receipt horizon; one whose key only an older part holds is held
	// for ReceiptHold, for its own part's submit_sm_resp.
	//
	// Epoch is when the operator's current id epoch began (the submitting
	// pool's session.Pool.Epoch); zero while it has not bound yet: then
	// nothing was answered in this epoch, and receipts are held. Nil: no
	// epoch bound (tests).
	Epoch func() time.Time
	// ReceiptHorizon is the oldest part a receipt may be attributed to
	// (config.Operator.ReceiptHorizon); zero: no bound.
	ReceiptHorizon time.Duration
	// ReceiptHold is store.Receipt.HoldFor (config.Operator.ReceiptHold);
	// zero: the store's default.
	ReceiptHold time.Duration
}

// Deps are the handler's collaborators.
type Deps struct {
	Store   *store.Store
	Events  *events.Publisher
	Metrics *metrics.Metrics
	Log     *slog.Logger
}

// Handler handles one operator's deliver_sm (a session.DeliverHandler).
type Handler struct {
	op  Operator
	d   Deps
	log *slog.Logger
}

// New returns a handler.
func New(op Operator, d Deps) *Handler {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Handler{op: op, d: d, log: d.Log.With("operator", op.ID)}
}

// storeTimeout bounds the work done for one deliver_sm before it is answered.
const storeTimeout = 10 * time.Second

// HandleDeliver is the session's deliver_sm handler: it appends a receipt
// to the inbox (or publishes an MO) before the deliver_sm_resp goes back, and answers
// ESME_RX_T_APPN when it could not, so the SMSC delivers it again.
func (h *Handler) HandleDeliver(d *pdu.DeliverSM, at time.Time) data.CommandStatusType {
	return h.handle(fromDeliverSM(d), at)
}

// HandleData is the session's data_sm handler (session.DataHandler): a
// receipt or an MO an SMSC sends as data_sm is handled exactly as in a
// deliver_sm, and answered the same way.
func (h *Handler) HandleData(d *pdu.DataSM, at time.Time) data.CommandStatusType {
	return h.handle(fromDataSM(d), at)
}

// handle reads what came at (session.Arrival: the SMSC's order) and makes
// it safe: a receipt in the inbox, an unreadable one in
// smpp.unmatched_receipts, an MO published (its part stored first when it
// is one of several).
func (h *Handler) handle(in incoming, at time.Time) data.CommandStatusType {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	v := read(h.op, in, at)
	switch {
	case v.mo != nil:
		return h.handleMO(ctx, *v.mo)
	case v.unreadable != nil:
		// Retrying cannot fix it: kept for inspection, and the SMSC moves on.
		return h.setAside(ctx, in, store.Unparseable, v.unreadable, v.receipt)
	}
	if v.note != "" {
		h.log.Info("receipt text not read as its data_coding says", "id", v.receipt.RawID, "data_coding", in.dataCoding, "note", v.note)
	}
	if v.keyErr != nil {
		h.log.Warn("receipt id does not fit the operator's id format; matched as is", "id", v.receipt.RawID, "err", v.keyErr)
	}
	rc := v.receipt
	h.bound(&rc)
	// Durable in the inbox: the Drainer matches and stores it, with its
	// event, in a moment (or another replica does, if this one dies now).
	if err := h.d.Store.AppendReceipt(ctx, rc); err != nil {
		if errors.Is(err, store.ErrInvalid) {
			return h.setAside(ctx, in, store.InvalidReceipt, err, rc)
		}
		h.log.Error("store receipt; asking the SMSC to deliver it again", "id", rc.RawID, "err", err)
		return data.ESME_RX_T_APPN
	}
	return data.ESME_ROK
}

// setAside keeps a receipt that can never be applied (it cannot be read,
// or the store refuses what was read of it) in smpp.unmatched_receipts,
// counts it by reason, logs it with its raw text (a receipt carries no
// secret), and answers ESME_ROK once it is stored: never silently gone. A
// failure to store it asks the SMSC to deliver it again.
func (h *Handler) setAside(ctx context.Context, in incoming, reason store.UnmatchedReason, why error, rc store.Receipt) data.CommandStatusType {
	u := store.UnmatchedReceipt{Reason: reason, Detail: why.Error(), Receipt: rc, PDU: store.PDUKind(in.kind),
		EsmClass: in.esmClass, DataCoding: in.dataCoding, TLVs: in.tlvs}
	if err := h.d.Store.RecordUnmatched(ctx, u); err != nil {
		h.log.Error("keep an unreadable receipt; asking the SMSC to deliver it again", "reason", reason, "err", err)
		return data.ESME_RX_T_APPN
	}
	h.d.Metrics.Receipts.WithLabelValues(h.op.ID, string(reason)).Inc()
	h.log.Warn("receipt kept in smpp.unmatched_receipts", "reason", reason, "pdu", in.kind, "id", rc.RawID,
		"text", loggedText(rc.Raw), "err", why)
	return data.ESME_ROK
}

// bound sets the receipt's epoch bounds: NotBefore is the later of the
// epoch's start and the horizon.
func (h *Handler) bound(rc *store.Receipt) {
	if h.op.Epoch == nil && h.op.ReceiptHorizon <= 0 {
		return
	}
	horizon := time.Unix(0, 0) // no horizon: any part holding the key, once the hold has passed
	if h.op.ReceiptHorizon > 0 {
		horizon = rc.Received.Add(-h.op.ReceiptHorizon)
	}
	notBefore := horizon
	if h.op.Epoch != nil {
		epoch := h.op.Epoch()
		if epoch.IsZero() {
			epoch = rc.Received
		}
		if epoch.After(notBefore) {
			notBefore = epoch
		}
	}
	rc.NotBefore, rc.Horizon, rc.HoldFor = notBefore, horizon, h.op.ReceiptHold
}

// Released counts the receipts that were held because they came before
// their submit_sm_resp and that a stored outcome has now matched
// (store.OutcomeResult.Receipts; their events are in the outbox with the
// outcome's). The outbound path calls it when it records an outcome.
func (h *Handler) Released(held []store.HeldReceipt) {
	for _, r := range held {
		h.d.Metrics.Receipts.WithLabelValues(h.op.ID, "late_matched").Inc()
		if r.Matched.Disposition == store.Applied {
			observeLatency(h.d.Metrics, r.Matched, r.Receipt)
		}
	}
}

// observeLatency observes the time from a part's submit to its receipt.
func observeLatency(m *metrics.Metrics, mt store.Matched, rc store.Receipt) {
	if !mt.SubmittedAt.IsZero() {
		m.ReceiptLatency.WithLabelValues(rc.OperatorID).Observe(rc.Received.Sub(mt.SubmittedAt).Seconds())
	}
}

// markPublished marks a published message's parts, so that late copies of
// them are dropped. If that fails a late copy starts a message that never
// completes: expired later, and counted then.
func (h *Handler) markPublished(ctx context.Context, m store.MOMessage) {
	if err := h.d.Store.MarkMOPublished(ctx, m); err != nil {
		h.log.Warn("MO published but not marked so", "from", m.Key.Source, "ref", m.Key.Ref, "err", err)
	}
}
