// Package natscontract is the connector's NATS contract (DESIGN.md section
// 3) in one place: the subjects and streams, the settings of the streams and
// of the per-operator dispatch consumer, and their provisioning. The
// connector, its configuration defaults, the test fixtures and the demo stack
// all take them from here, so the suites run on the streams production has.
package natscontract

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Names are the streams and subjects of the contract. Subjects holding
// {operatorId} are per operator.
type Names struct {
	DispatchStream    string // SMPP_DISPATCH
	DispatchSubject   string // smpp.operator.{operatorId}
	ReceiptStream     string // SMS_DLR_INBOUND
	ReceiptSubject    string // sms.dlr.inbound
	EventsStream      string // SMPP_EVENTS: outcomes, dead letters, MO
	OutcomeSubject    string // smpp.outcome.{operatorId}
	DeadLetterSubject string // smpp.deadletter.{operatorId}
	MOSubject         string // sms.mo.inbound
}

// The contract's default names.
const (
	DispatchStream    = "SMPP_DISPATCH"
	DispatchSubject   = "smpp.operator.{operatorId}"
	ReceiptStream     = "SMS_DLR_INBOUND"
	ReceiptSubject    = "sms.dlr.inbound"
	EventsStream      = "SMPP_EVENTS"
	OutcomeSubject    = "smpp.outcome.{operatorId}"
	DeadLetterSubject = "smpp.deadletter.{operatorId}"
	MOSubject         = "sms.mo.inbound"
)

// DefaultNames are the contract's names.
func DefaultNames() Names {
	return Names{
		DispatchStream: DispatchStream, DispatchSubject: DispatchSubject,
		ReceiptStream: ReceiptStream, ReceiptSubject: ReceiptSubject,
		EventsStream: EventsStream, OutcomeSubject: OutcomeSubject,
		DeadLetterSubject: DeadLetterSubject, MOSubject: MOSubject,
	}
}

// For replaces {operatorId} (or {id}) in a subject template.
// It is on every event's path: a template without placeholders costs a
// scan, not a Replacer (building one allocates a trie per call).
func For(template, operatorID string) string {
	if !strings.Contains(template, "{") {
		return template
	}
	return strings.ReplaceAll(strings.ReplaceAll(template, "{operatorId}", operatorID), "{id}", operatorID)
}

// Wildcard turns a per-operator subject template into the filter that
// matches every operator.
func Wildcard(template string) string { return For(template, "*") }

// DispatchSubjectFor is the default subject of an operator's dispatch commands.
func DispatchSubjectFor(operatorID string) string { return For(DispatchSubject, operatorID) }

// OutcomeSubjectFor is the default subject of an operator's submit outcomes.
func OutcomeSubjectFor(operatorID string) string { return For(OutcomeSubject, operatorID) }

// DeadLetterSubjectFor is the default subject of an operator's refused commands.
func DeadLetterSubjectFor(operatorID string) string { return For(DeadLetterSubject, operatorID) }

// Stream settings shared by every stream of the contract.
const (
	// DuplicateWindow is how long JetStream drops a repeated Nats-Msg-Id:
	// events carry dedupe ids, so a publish retried after a lost ack is
	// stored once. Consumers dedupe on the event's id beyond it.
	DuplicateWindow = 2 * time.Minute
	// MaxAge keeps a week of commands and events: enough to replay a
	// weekend's incident.
	MaxAge = 7 * 24 * time.Hour
)

// Streams are the contract's streams with their settings: the dispatch
// stream, the receipt stream and the events stream (outcomes, dead letters,
// MO).
func Streams(n Names) []jetstream.StreamConfig {
	specs := []jetstream.StreamConfig{
		// Limits retention (not work-queue): shadow tooling and replays may read
		// the dispatch stream beside the connector's durable consumers.
		{Name: n.DispatchStream, Subjects: []string{Wildcard(n.DispatchSubject)}},
		{Name: n.ReceiptStream, Subjects: []string{n.ReceiptSubject}},
		{Name: n.EventsStream, Subjects: []string{n.MOSubject, Wildcard(n.OutcomeSubject), Wildcard(n.DeadLetterSubject)}},
	}
	for i := range specs {
		specs[i].Storage, specs[i].Duplicates, specs[i].MaxAge = jetstream.FileStorage, DuplicateWindow, MaxAge
	}
	return specs
}

// EnsureStreams creates or updates the contract's streams. Production
// streams may be provisioned by ops instead; the connector only does this
// when told to.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, n Names) error {
	for _, s := range Streams(n) {
		if _, err := js.CreateOrUpdateStream(ctx, s); err != nil {
			return fmt.Errorf("stream %s: %w", s.Name, err)
		}
	}
	return nil
}

// ProvisionMissing creates each of the contract's streams that no existing
// stream already serves, and leaves the others as they are (provisioned by
// ops, say). It returns the names of the streams it created, so a test can
// delete them again.
func ProvisionMissing(ctx context.Context, js jetstream.JetStream, n Names) (created []string, err error) {
	for _, s := range Streams(n) {
		existing, err := js.StreamNameBySubject(ctx, s.Subjects[0])
		if err == nil && existing != "" {
			continue
		}
		if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return created, fmt.Errorf("look up the stream for %s: %w", s.Subjects[0], err)
		}
		if _, err := js.CreateStream(ctx, s); err != nil {
			return created, fmt.Errorf("create stream %s (%s): %w", s.Name, strings.Join(s.Subjects, ", "), err)
		}
		created = append(created, s.Name)
	}
	return created, nil
}

// ConsumerName is the durable consumer of an operator's commands.
func ConsumerName(operatorID string) string { return "smpp-connector-" + operatorID }

// DispatchConsumer is the durable consumer through which a replica takes an
// operator's commands: explicit acks (a command is acked once its outcome is
// durable), an ack wait the outbound consumer extends while it works on a command, and
// no delivery limit (attempts are counted by the connector, so a final
// failure is recorded rather than dropped).
func DispatchConsumer(n Names, operatorID string, ackWait time.Duration, maxAckPending int) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       ConsumerName(operatorID),
		FilterSubject: For(n.DispatchSubject, operatorID),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxAckPending: maxAckPending,
		MaxDeliver:    -1,
	}
}
