// Package events publishes what the connector learns: delivery receipts on
// sms.dlr.inbound, submit outcomes on smpp.outcome.{operatorId}, bad commands
// on smpp.deadletter.{operatorId} and MO messages on sms.mo.inbound, all
// through JetStream with a message id so a retried publish is not a duplicate.
//
// In shadow mode receipts and outcomes are not published (the legacy
// dispatcher is the system of record): they are written to a comparison log
// instead, one JSON object per line, for the Phase 2 comparison.
package events

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
)

// Receipt is the receipt event (DESIGN.md section 3).
type Receipt struct {
	MessageID     string     `json:"messageId"`
	OperatorID    string     `json:"operatorId"`
	SMSCMessageID string     `json:"smscMessageId"`
	Status        dlr.Status `json:"status"` // the receipt status vocabulary: connector/dlr
	// Final is false for an intermediate state (ENROUTE, ACCEPTED: the SMSC
	// still works on the message; a final receipt follows), true for one
	// that ends the part's life. The store keeps the same rule
	// (store.FinalReceiptStatus): what the event says is what it stored.
	Final         bool      `json:"final"`
	Stat          string    `json:"stat"`
	Err           string    `json:"err"`
	PartNumber    int       `json:"partNumber,omitempty"`
	PartCount     int       `json:"partCount"`
	PartsReceived int       `json:"partsReceived,omitempty"` // receipts seen so far for a multipart message
	SubmittedAt   time.Time `json:"submittedAt,omitzero"`
	DoneAt        time.Time `json:"doneAt,omitzero"`
	ReceivedAt    time.Time `json:"receivedAt"`
}

// Outcome kinds.
const (
	OutcomeAccepted = "accepted"
	OutcomeRejected = "rejected"
	OutcomeUnknown  = "unknown"
)

// Outcome is a submit outcome event, one per part.
type Outcome struct {
	MessageID     string    `json:"messageId"`
	OperatorID    string    `json:"operatorId"`
	PartNumber    int       `json:"partNumber"`
	PartCount     int       `json:"partCount"`
	Outcome       string    `json:"outcome"` // accepted, rejected, unknown
	SMSCMessageID string    `json:"smscMessageId,omitempty"`
	CommandStatus uint32    `json:"commandStatus"`
	Status        string    `json:"status,omitempty"` // ESME_RINVDSTADR, "generic_nack ...", "no submit_sm_resp within 10s"
	At            time.Time `json:"at"`
}

// DeadLetter is a command that can never be sent.
type DeadLetter struct {
	OperatorID string `json:"operatorId"`
	Subject    string `json:"subject"`
	Reason     string `json:"reason"`
	Field      string `json:"field,omitempty"`
	Command    string `json:"command"` // the command as received (invalid UTF-8 replaced: see CommandBase64)
	// CommandBase64 is the command's bytes, base64, when they are not valid
	// UTF-8: JSON cannot carry them, and the orchestrator's team needs the
	// exact bytes to find the fault.
	CommandBase64 string    `json:"commandBase64,omitempty"`
	ReceivedAt    time.Time `json:"receivedAt"`
}

// CommandText fills Command, and CommandBase64 when data is not valid UTF-8.
func (d *DeadLetter) CommandText(data []byte) {
	d.Command = string(data)
	if !utf8.Valid(data) {
		d.Command = strings.ToValidUTF8(d.Command, "\uFFFD")
		d.CommandBase64 = base64.StdEncoding.EncodeToString(data)
	}
}

// MO is a reassembled mobile-originated message.
type MO struct {
	// ID names a segmented message: the same for every publish of it.
	// JetStream drops a repeat within the stream's duplicate window (two
	// minutes); past that, a consumer that must see a message once dedupes
	// on it. Empty for one-part messages.
	ID          string    `json:"moId,omitempty"`
	OperatorID  string    `json:"operatorId"`
	Source      string    `json:"source"`
	Destination string    `json:"destination"`
	Text        string    `json:"text"`
	Parts       int       `json:"parts"`
	ReceivedAt  time.Time `json:"receivedAt"`
	// An MO whose text cannot be decoded (a data_coding the connector does
	// not read, such as 8-bit binary 0x04, octets that are not valid in
	// their alphabet) or whose segmentation is malformed is published all
	// the same, never dropped: Text is empty, DecodeError says why, and
	// PayloadBase64 holds its octets (the parts' in order, UDH removed)
	// with their DataCoding.
	DecodeError   string `json:"decodeError,omitempty"`
	DataCoding    *byte  `json:"dataCoding,omitempty"`
	PayloadBase64 string `json:"payloadBase64,omitempty"`
}

// Publisher publishes events.
type Publisher struct {
	js     jetstream.JetStream
	names  natscontract.Names
	shadow bool
	mu     sync.Mutex
	cmp    io.Writer
}

// New returns a publisher. With shadow set, receipts and outcomes go to the
// comparison log cmp (which may be nil: then they are only counted by the caller).
func New(js jetstream.JetStream, names natscontract.Names, shadow bool, cmp io.Writer) *Publisher {
	return &Publisher{js: js, names: names, shadow: shadow, cmp: cmp}
}

// Shadow reports whether the publisher is in shadow mode.
func (p *Publisher) Shadow() bool { return p.shadow }

// Message is an outcome or receipt event to publish (PublishAll).
type Message struct {
	Outcome *Outcome // one of Outcome and Receipt is set
	Receipt *Receipt
}

// ID is the event's JetStream message id: one per message, part and state
// (and time received, for a receipt's intermediate states),
// built from the orchestrator's message id, never from the SMSC's id (SMSCs
// reuse theirs after a restart or when a counter wraps, and JetStream would
// drop the new receipt as a duplicate of the old one). A second publish of
// the same event within the stream's duplicate window is dropped.
func (m Message) ID() string {
	if o := m.Outcome; o != nil {
		return fmt.Sprintf("out:%s:%s:%d:%s", o.OperatorID, o.MessageID, o.PartNumber, o.Outcome)
	}
	r := m.Receipt
	id := fmt.Sprintf("dlr:%s:%s:%d:%s", r.OperatorID, r.MessageID, r.PartNumber, r.Status)
	if !r.Status.Final() {
		// Intermediate states may alternate (ENROUTE, ACCEPTED, ENROUTE):
		// each is an event of its own. A part has one final receipt.
		id += ":" + strconv.FormatInt(r.ReceivedAt.UnixMicro(), 10)
	}
	return id
}

// PublishAll publishes the events (asynchronously, in order) and waits for
// JetStream's acknowledgements; errs[i] is msgs[i]'s failure, nil once
// stored. In shadow mode they go to the comparison log instead.
func (p *Publisher) PublishAll(ctx context.Context, msgs []Message) (errs []error) {
	errs = make([]error, len(msgs))
	if p.shadow {
		for i, m := range msgs {
			if m.Outcome != nil {
				errs[i] = p.compare("outcome", m.Outcome)
			} else {
				errs[i] = p.compare("receipt", m.Receipt)
			}
		}
		return errs
	}
	futures := make([]jetstream.PubAckFuture, len(msgs))
	for i, m := range msgs {
		subject, v := p.names.ReceiptSubject, any(m.Receipt)
		if m.Outcome != nil {
			subject, v = natscontract.For(p.names.OutcomeSubject, m.Outcome.OperatorID), m.Outcome
		}
		b, err := json.Marshal(v)
		if err == nil {
			futures[i], err = p.js.PublishAsync(subject, b, jetstream.WithMsgID(m.ID()))
		}
		if err != nil {
			errs[i] = fmt.Errorf("publish %s: %w", subject, err)
		}
	}
	for i, f := range futures {
		if f == nil {
			continue
		}
		// An answer already in counts even if ctx has ended meanwhile.
		select {
		case <-f.Ok():
			continue
		case err := <-f.Err():
			errs[i] = fmt.Errorf("publish %s: %w", f.Msg().Subject, err)
			continue
		default:
		}
		select {
		case <-f.Ok():
		case err := <-f.Err():
			errs[i] = fmt.Errorf("publish %s: %w", f.Msg().Subject, err)
		case <-ctx.Done():
			errs[i] = fmt.Errorf("publish %s: %w", f.Msg().Subject, ctx.Err())
		}
	}
	return errs
}

// DeadLetter publishes a bad command with its reason. Dead letters are
// published in shadow mode too: they are about the command, not the SMS.
func (p *Publisher) DeadLetter(ctx context.Context, d DeadLetter) error {
	return p.publish(ctx, natscontract.For(p.names.DeadLetterSubject, d.OperatorID), "", d)
}

// MO publishes a reassembled MO message (not in shadow mode: the legacy
// dispatcher delivers MO while it is the system of record).
func (p *Publisher) MO(ctx context.Context, m MO) error {
	if p.shadow {
		return p.compare("mo", m)
	}
	return p.publish(ctx, p.names.MOSubject, m.ID, m)
}

func (p *Publisher) publish(ctx context.Context, subject, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("publish %s: %w", subject, err)
	}
	var opts []jetstream.PublishOpt
	if id != "" {
		opts = append(opts, jetstream.WithMsgID(id))
	}
	if _, err := p.js.Publish(ctx, subject, b, opts...); err != nil {
		return fmt.Errorf("publish %s: %w", subject, err)
	}
	return nil
}

// compare writes one line of the shadow comparison log.
func (p *Publisher) compare(kind string, v any) error {
	if p.cmp == nil {
		return nil
	}
	b, err := json.Marshal(struct {
		Kind  string    `json:"kind"`
		At    time.Time `json:"at"`
		Event any       `json:"event"`
	}{kind, time.Now().UTC(), v})
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err = p.cmp.Write(append(b, '\n'))
	return err
}

// Undecodable marks an MO whose text could not be read: its octets go out
// as they came, with why.
func (m *MO) Undecodable(dataCoding byte, octets []byte, why error) {
	m.Text, m.DecodeError = "", why.Error()
	m.DataCoding = &dataCoding
	m.PayloadBase64 = base64.StdEncoding.EncodeToString(octets)
}
