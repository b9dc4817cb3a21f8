package store

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
)

// SubmitStatus is a part's submit outcome (column submit_status).
type SubmitStatus string

// Submit statuses.
const (
	Pending  SubmitStatus = "pending"  // prepared, no outcome yet
	Accepted SubmitStatus = "accepted" // submit_sm_resp OK, SMSC id known
	Rejected SubmitStatus = "rejected" // submit_sm_resp with an error command_status
	Unknown  SubmitStatus = "unknown"  // no response before the timeout
)

func (s SubmitStatus) rank() int {
	switch s {
	case Accepted:
		return 3
	case Rejected:
		return 2
	case Unknown:
		return 1
	}
	return 0
}

// FinalReceiptStatus reports whether a part's receipt state s ends its
// message's life: a receipt was applied ("" is none yet) and its status is
// final (connector/dlr, the receipt status vocabulary: everything but
// ENROUTE and ACCEPTED).
func FinalReceiptStatus(s dlr.Status) bool {
	return s != "" && s.Final()
}

// MessageRef names a message being prepared.
type MessageRef struct {
	OperatorID string
	MessageID  string // the orchestrator's messageId
	PartCount  int    // 1 for a single-part message
	// Fingerprint identifies the content (a SHA-256 of what is sent, e.g.
	// dispatch.Command.Fingerprint), stored with the parts: a later prepare
	// of the same message id with another fingerprint is ErrConflict. Nil
	// skips the check (and stores none).
	Fingerprint []byte
}

// PartRef is one part of a message being prepared.
type PartRef struct {
	Number         int    // 1..PartCount
	SequenceNumber uint32 // of its submit_sm when already known; 0 if not
}

// PartState is a part's row as stored.
type PartState struct {
	OperatorID     string
	MessageID      string
	Part           int
	PartCount      int
	Status         SubmitStatus
	SMSCMessageID  string // raw, from submit_sm_resp
	SMSCKey        string // canonical
	CommandStatus  uint32 // of the submit_sm_resp; 0 when none
	SequenceNumber uint32 // 0 when unknown
	SubmittedAt    time.Time
	RespAt         time.Time
	ReceiptState   dlr.Status // "" until a receipt is applied
	// Created is true when this PrepareParts call inserted the row.
	Created bool
	// HandedBack is true when a pending part was handed back unsent by the
	// delivery that last held it (HandBack); a pending part found neither
	// created nor handed back was left by a process that died meanwhile.
	HandedBack bool
}

// Outcome is a part's submit outcome.
type Outcome struct {
	OperatorID     string
	MessageID      string
	Part           int
	SequenceNumber uint32 // of the submit_sm; 0 keeps the stored one
	Kind           SubmitStatus
	SMSCMessageID  string    // raw id from submit_sm_resp (accepted)
	SMSCKey        string    // canonical key (accepted); defaults to SMSCMessageID
	CommandStatus  uint32    // submit_sm_resp command_status (rejected; 0 for accepted)
	SubmittedAt    time.Time // when the submit_sm was sent; zero keeps the stored one
	At             time.Time // when the response (or the timeout) happened; zero: now
	// Detail says why, in the outcome event the store writes to the outbox
	// (ESME_RINVDSTADR, "no submit_sm_resp within 10s", ...).
	Detail string
}

// OutcomeResult is what RecordOutcome did.
type OutcomeResult struct {
	// Applied is false when the stored state already was at least as
	// definite (e.g. accepted, or an answer when Kind is unknown); the
	// outcome is durable either way, State says what is stored.
	Applied bool
	State   PartState
	// Receipts are the held receipts for the SMSC key that this outcome
	// matched, in the order received: publish those with Disposition Applied
	// (and report duplicates as the caller does for MatchReceipt).
	Receipts []HeldReceipt
}

// Receipt is a delivery receipt to correlate.
type Receipt struct {
	OperatorID string
	SMSCKey    string     // canonical key; defaults to RawID
	RawID      string     // id as in the receipt
	Status     dlr.Status // normalised (DELIVERED, ...)
	Stat, Err  string     // raw stat: and err: fields
	Done       time.Time
	Received   time.Time // zero: now
	Raw        string    // the receipt text as received (kept while held)

	// The id epoch (see the package doc, "Receipts after an SMSC restart").
	// Zero values attribute the receipt to any part holding its key.
	//
	// NotBefore: the receipt is attributed only to a part whose submit was
	// answered (resp_at) at or after it: max(the operator's id epoch,
	// Received - its receipt horizon). A part holding the key from before
	// does not match: the receipt is held until a newer part takes the key.
	NotBefore time.Time
	// Horizon: once HoldFor has passed without a newer part taking the key,
	// SweepHeldReceipts attributes the held receipt to the part holding the
	// key if that part's submit was answered at or after Horizon (Received -
	// the receipt horizon). Zero: NotBefore. Never after NotBefore.
	Horizon time.Time
	// HoldFor is how long a receipt held by NotBefore waits for a newer part
	// before SweepHeldReceipts may apply it to an older one (zero:
	// DefaultHoldFor).
	HoldFor time.Duration

	inboxID int64 // its smpp.receipt_inbox row (DrainInbox); 0: not from the inbox
}

// DefaultHoldFor is Receipt.HoldFor when NotBefore is set and HoldFor is not.
const DefaultHoldFor = 30 * time.Second

// Disposition says what happened to a receipt.
type Disposition uint8

// Dispositions.
const (
	// Applied: the receipt set the part's receipt state.
	Applied Disposition = iota + 1
	// Held: no part has the key yet; the receipt waits for its submit_sm_resp.
	Held
	// Duplicate: the part already had a final receipt, or this intermediate state.
	Duplicate
	// Stale: an intermediate receipt after the part's final one, or
	// received before the receipt the part's state came from; ignored.
	Stale
)

func (d Disposition) String() string {
	switch d {
	case Applied:
		return "applied"
	case Held:
		return "held"
	case Duplicate:
		return "duplicate"
	case Stale:
		return "stale"
	}
	return fmt.Sprintf("Disposition(%d)", uint8(d))
}

// Matched is what MatchReceipt did, with the part the receipt belongs to
// (all but Disposition and HeldID are zero when Held).
type Matched struct {
	Disposition Disposition
	// HeldID is the smpp.pending_receipts id (Held, and for receipts that
	// were held before RecordOutcome matched them).
	HeldID      int64
	OperatorID  string
	MessageID   string
	Part        int
	PartCount   int
	SubmittedAt time.Time
	// State is the part's receipt state after this receipt.
	State dlr.Status
	// PartsWithReceipt and PartsFinal count the message's parts that have a
	// receipt (a final one), this receipt included; for the caller's
	// aggregation of multipart messages. Exactly one receipt of a message
	// sees each count first.
	PartsWithReceipt int
	PartsFinal       int
}

// HeldReceipt is a receipt that was held and is now matched or expired.
type HeldReceipt struct {
	ID      int64
	Receipt Receipt
	Matched Matched // zero for expired receipts
	HeldAt  time.Time
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// MaxIDLength bounds identifiers (operator, message, SMSC ids and keys):
// they are index keys.
const MaxIDLength = 255

// checkID validates an identifier that is stored and matched as is.
func checkID(field, v string) error {
	if v == "" {
		return invalid("%s is empty", field)
	}
	if len(v) > MaxIDLength {
		return invalid("%s is %d bytes long (at most %d)", field, len(v), MaxIDLength)
	}
	if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
		return invalid("%s %q is not valid UTF-8 text", field, v)
	}
	return nil
}

// Times outside [minTime, maxTime] are refused (or, for a receipt's done
// date, dropped): PostgreSQL's range is wider, but such a time is garbage.
var (
	minTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

func checkTime(field string, t time.Time) error {
	if !t.IsZero() && (t.Before(minTime) || t.After(maxTime)) {
		return invalid("%s %s out of range", field, t)
	}
	return nil
}

// maxDetail bounds an outcome's detail text (bytes).
const maxDetail = 1000

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// cleanText makes free text storable in a text column.
func cleanText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func checkPart(n, count int) error {
	if count < 1 || count > math.MaxInt16 {
		return invalid("part count %d out of range", count)
	}
	if n < 1 || n > count {
		return invalid("part %d out of range 1..%d", n, count)
	}
	return nil
}

func (o *Outcome) normalise() error {
	if err := checkID("operator id", o.OperatorID); err != nil {
		return err
	}
	if err := checkID("message id", o.MessageID); err != nil {
		return err
	}
	if o.Part < 1 || o.Part > math.MaxInt16 {
		return invalid("part %d out of range", o.Part)
	}
	if o.SequenceNumber > math.MaxInt32 {
		return invalid("sequence number %d out of range", o.SequenceNumber)
	}
	switch o.Kind {
	case Accepted:
		if o.SMSCKey == "" {
			o.SMSCKey = o.SMSCMessageID
		}
		if err := checkID("SMSC key", o.SMSCKey); err != nil {
			return err
		}
		if o.SMSCMessageID == "" {
			o.SMSCMessageID = o.SMSCKey
		}
		o.SMSCMessageID = cleanText(o.SMSCMessageID)
	case Rejected, Unknown:
		o.SMSCMessageID, o.SMSCKey = "", ""
	default:
		return invalid("outcome kind %q", o.Kind)
	}
	if o.Kind == Unknown {
		o.CommandStatus = 0
	}
	o.Detail = cleanText(truncate(o.Detail, maxDetail))
	if err := checkTime("submit time", o.SubmittedAt); err != nil {
		return err
	}
	if err := checkTime("outcome time", o.At); err != nil {
		return err
	}
	if o.At.IsZero() {
		o.At = time.Now()
	}
	return nil
}

func (r *Receipt) normalise() error {
	if err := checkID("operator id", r.OperatorID); err != nil {
		return err
	}
	if r.SMSCKey == "" {
		r.SMSCKey = r.RawID
	}
	if err := checkID("SMSC key", r.SMSCKey); err != nil {
		return err
	}
	if r.RawID == "" {
		r.RawID = r.SMSCKey
	}
	r.RawID = cleanText(r.RawID)
	if !r.Status.Valid() {
		return invalid("receipt status %q", r.Status)
	}
	r.Stat, r.Err = cleanText(r.Stat), cleanText(r.Err)
	if checkTime("done", r.Done) != nil {
		r.Done = time.Time{} // a garbled done date: the raw receipt keeps it
	}
	if err := checkTime("receipt time", r.Received); err != nil {
		return err
	}
	if r.Received.IsZero() {
		r.Received = time.Now()
	}
	if err := checkTime("not before", r.NotBefore); err != nil {
		return err
	}
	if err := checkTime("horizon", r.Horizon); err != nil {
		return err
	}
	if r.NotBefore.IsZero() {
		r.Horizon, r.HoldFor = time.Time{}, 0
		return nil
	}
	if r.Horizon.IsZero() || r.Horizon.After(r.NotBefore) {
		r.Horizon = r.NotBefore
	}
	if r.HoldFor <= 0 {
		r.HoldFor = DefaultHoldFor
	}
	return nil
}
