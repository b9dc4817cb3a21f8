// Package natsjs holds the connector's NATS JetStream plumbing: an embedded
// server (for `make run` and tests: a real nats-server, as a library) and the
// streams of the connector's contracts.
package natsjs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
)

// Embedded is a nats-server with JetStream running inside this process.
type Embedded struct {
	srv *server.Server
	dir string
}

// StartEmbedded starts a JetStream-enabled nats-server on host:port (port 0
// picks a free one), storing streams under dir (a temporary directory when
// empty, removed on Shutdown).
func StartEmbedded(host string, port int, dir string) (*Embedded, error) {
	e := &Embedded{}
	if dir == "" {
		d, err := os.MkdirTemp("", "smpp-nats-*")
		if err != nil {
			return nil, fmt.Errorf("nats: temp dir: %w", err)
		}
		dir, e.dir = d, d
	}
	srv, err := server.NewServer(&server.Options{
		Host: host, Port: port, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true,
		JetStreamMaxMemory: 256 << 20, JetStreamMaxStore: 4 << 30,
	})
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("nats: embedded server not ready within 10s")
	}
	e.srv = srv
	return e, nil
}

// URL is the client URL of the server.
func (e *Embedded) URL() string { return e.srv.ClientURL() }

// Shutdown stops the server and removes a temporary store.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	if e.dir != "" {
		os.RemoveAll(e.dir)
	}
}

// Names are the streams and subjects of the connector's contracts (DESIGN.md
// section 3). Subjects holding {operatorId} are per operator.
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

// DefaultNames are the contract's names.
func DefaultNames() Names {
	return Names{
		DispatchStream: "SMPP_DISPATCH", DispatchSubject: "smpp.operator.{operatorId}",
		ReceiptStream: "SMS_DLR_INBOUND", ReceiptSubject: "sms.dlr.inbound",
		EventsStream: "SMPP_EVENTS", OutcomeSubject: "smpp.outcome.{operatorId}",
		DeadLetterSubject: "smpp.deadletter.{operatorId}", MOSubject: "sms.mo.inbound",
	}
}

// For replaces {operatorId} (or {id}) in a subject template.
func For(template, operatorID string) string {
	return strings.NewReplacer("{operatorId}", operatorID, "{id}", operatorID).Replace(template)
}

// wildcard turns a per-operator subject template into its stream filter.
func wildcard(template string) string { return For(template, "*") }

// Default names, as constants for tests and tools.
const (
	DispatchStream = "SMPP_DISPATCH"
	ReceiptStream  = "SMS_DLR_INBOUND"
	ReceiptSubject = "sms.dlr.inbound"
	EventsStream   = "SMPP_EVENTS"
	MOSubject      = "sms.mo.inbound"
	OutcomePrefix  = "smpp.outcome."    // + operatorId
	DeadLetterPfx  = "smpp.deadletter." // + operatorId
)

// DispatchSubjectFor is the default subject of an operator's dispatch commands.
func DispatchSubjectFor(operatorID string) string {
	return For(DefaultNames().DispatchSubject, operatorID)
}

// EnsureStreams creates or updates the dispatch stream, the receipt stream and
// the events stream (outcomes, dead letters, MO). Production streams may be
// provisioned by ops instead; the connector only does this when told to.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, n Names) error {
	specs := []jetstream.StreamConfig{
		// Limits retention (not work-queue): shadow tooling and replays may read
		// the dispatch stream beside the connector's durable consumers.
		{Name: n.DispatchStream, Subjects: []string{wildcard(n.DispatchSubject)}},
		{Name: n.ReceiptStream, Subjects: []string{n.ReceiptSubject}},
		{Name: n.EventsStream, Subjects: []string{n.MOSubject, wildcard(n.OutcomeSubject), wildcard(n.DeadLetterSubject)}},
	}
	for _, s := range specs {
		s.Storage, s.Duplicates, s.MaxAge = jetstream.FileStorage, 2*time.Minute, 7*24*time.Hour
		if _, err := js.CreateOrUpdateStream(ctx, s); err != nil {
			return fmt.Errorf("stream %s: %w", s.Name, err)
		}
	}
	return nil
}
