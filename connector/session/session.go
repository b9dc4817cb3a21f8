// Package session keeps SMPP binds to one operator's SMSC up and gives the
// rest of the connector a blocking, context-aware Submit on top of gosmpp
// v0.3.1, working around its known pitfalls (see shared/notes/gosmpp.md):
//
//   - dial and bind_resp have deadlines (gosmpp would wait for ever on an SMSC
//     that accepts TCP and says nothing);
//   - gosmpp's own rebind loop is off (fixed interval, no backoff, retries a
//     rejected password for ever): Bind rebinds with exponential backoff and
//     jitter, and stops on permanent bind errors until the credentials change;
//   - Submit only queues in gosmpp: Bind keeps its own window semaphore (so a
//     full window blocks the caller instead of dropping the PDU), matches
//     submit_sm_resp and generic_nack to the request by sequence number, and
//     turns a missing response into ErrUnknown after the response timeout;
//   - gosmpp's enquire_link never checks for its resp, and an SMSC that keeps
//     TCP open but answers nothing kept the bind "bound" for ever: Bind sends
//     its own enquire_link and declares a bind dead on a missing resp or on
//     consecutive response timeouts, then drops and renews it (deadbind.go);
//   - deliver_sm is answered only after the handler has stored it (OnAllPDU,
//     with the response sent from a worker), and handlers run off gosmpp's
//     single reader goroutine so a slow store does not stall reading;
//   - gosmpp writes each PDU in its own syscall from a single goroutine:
//     submit_sm and deliver_sm_resp are written by their own goroutines
//     instead, by group commit, so that the writes queued during a syscall
//     share the next one, each told exactly how much of its PDU left
//     (wire.go).
package session

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/linxGnu/gosmpp/data"
)

// Auth is what a bind presents. Version tells credential rotations apart.
type Auth struct {
	SystemID   string
	Password   string
	SystemType string
	Version    string
}

// String never shows the password.
func (a Auth) String() string {
	return fmt.Sprintf("system_id=%s system_type=%s version=%s password=[redacted]", a.SystemID, a.SystemType, a.Version)
}

// LogValue keeps the password out of structured logs.
func (a Auth) LogValue() slog.Value {
	return slog.GroupValue(slog.String("system_id", a.SystemID), slog.String("version", a.Version))
}

// Config describes the binds to one SMSC endpoint.
type Config struct {
	Operator string
	Addr     string // host:port of the primary SMSC
	// Backups are tried in order when the current address fails FailoverAfter
	// times in a row; after a bind on a backup drops, the primary is tried
	// first again.
	Backups       []string
	FailoverAfter int // default 2
	// OnFailover, when set, hears of every move of a bind to the next
	// address (for metrics): after FailoverAfter failed attempts, or a dead
	// bind with backups. The move back to the primary after a bind on a
	// backup drops is not one.
	OnFailover func(bind, to string)
	// BindType: Transceiver (default), Transmitter, or Receiver (receipts and
	// MO only: its pool is not given submits).
	BindType BindType
	// Window is the most submit_sm a bind has outstanding (default 10).
	Window int
	// EnquireLink is the keep-alive interval (default 30s): our enquire_link
	// unanswered within ResponseTimeout makes the bind dead (see deadbind.go),
	// and the connection is dropped when nothing is read for 2.5 intervals.
	EnquireLink     time.Duration
	ResponseTimeout time.Duration // submit_sm -> submit_sm_resp (default 10s)
	DialTimeout     time.Duration // TCP connect, and TLS handshake (default 5s)
	BindTimeout     time.Duration // bind -> bind_resp (default 5s)
	WriteTimeout    time.Duration // per PDU write (default 5s)
	BackoffInitial  time.Duration // first rebind delay (default 1s)
	BackoffMax      time.Duration // rebind delay cap (default 60s)
	// CredentialRecheck is how often a bind stopped by a permanent bind error
	// looks for new credentials (default 30s); Kick makes it look at once.
	CredentialRecheck time.Duration
	// DeadAfterTimeouts submit_sm in a row with no resp make the bind dead
	// (default 3, at most Window, so a black hole costs at most one window).
	DeadAfterTimeouts int
	// OnDead, when set, hears of every bind declared dead (for metrics);
	// reason is DeadResponseTimeouts or DeadEnquireLink.
	OnDead func(bind, reason string)
	// Pacer, when set, paces submit_sm to the operator's TPS: one shared by
	// every bind of the operator (throttle.Limiter). Submit takes the grant
	// on a bound session with room in its window, right before the write,
	// never while no bind is up (pace.go).
	Pacer Pacer
	// Deliver handles deliver_sm (receipts, MO); its status is sent back in
	// deliver_sm_resp once it returns. Nil answers ESME_ROK at once.
	Deliver DeliverHandler
	// DeliverWorkers bounds concurrent Deliver calls per bind (default 256).
	DeliverWorkers int
	// Dial opens the TCP connection (default net.DialTimeout on "tcp"): a
	// seam for proxies and for tests that break the wire on purpose.
	Dial func(addr string, timeout time.Duration) (net.Conn, error)
	// TLS, when set, gives the TLS client configuration of an address (of
	// Addr or Backups): the bind's connection to it is TLS over Dial's (see
	// tls.go). nil for an address means plaintext; an error fails the bind
	// attempt as a TLS failure. Called at every attempt, so renewed
	// certificate files are picked up (config.Operator.ClientTLSFor).
	TLS func(addr string) (*tls.Config, error)
	// OnBindFailure, when set, hears of every failed bind attempt (for
	// metrics); reason is one of BindFailReasons.
	OnBindFailure func(bind, reason string)
	Log           *slog.Logger
}

func (c *Config) defaults() {
	if c.Window <= 0 {
		c.Window = 10
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.EnquireLink, 30*time.Second)
	def(&c.ResponseTimeout, 10*time.Second)
	def(&c.DialTimeout, 5*time.Second)
	def(&c.BindTimeout, 5*time.Second)
	def(&c.WriteTimeout, 5*time.Second)
	def(&c.BackoffInitial, time.Second)
	def(&c.BackoffMax, time.Minute)
	def(&c.CredentialRecheck, 30*time.Second)
	if c.DeadAfterTimeouts <= 0 {
		c.DeadAfterTimeouts = 3
	}
	c.DeadAfterTimeouts = min(c.DeadAfterTimeouts, c.Window)
	if c.FailoverAfter <= 0 {
		c.FailoverAfter = 2
	}
	if c.DeliverWorkers <= 0 {
		// Receipts are stored in batches: many in flight make big batches. Too
		// few would stall gosmpp's single reader, submit_sm_resp included.
		c.DeliverWorkers = 256
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Dial == nil {
		c.Dial = func(addr string, timeout time.Duration) (net.Conn, error) {
			return net.DialTimeout("tcp", addr, timeout)
		}
	}
	if c.BindType == "" {
		c.BindType = Transceiver
	}
}

// BindType is the kind of bind. (gosmpp's pdu.BindingType has Receiver as
// its zero value, which makes a poor default.)
type BindType string

// Bind types.
const (
	Transceiver BindType = "trx"
	Transmitter BindType = "tx"
	Receiver    BindType = "rx"
)

// Result is the SMSC's answer to a submit_sm.
type Result struct {
	Status      data.CommandStatusType
	MessageID   string
	GenericNack bool
	Sent, Resp  time.Time
}

// OK reports an accepted submit.
func (r Result) OK() bool { return r.Status == data.ESME_ROK && !r.GenericNack }

// Errors of Submit. ErrNotSent is safe to retry; ErrUnknown is not: the SMSC
// may have taken the message.
var (
	ErrNotSent = errors.New("submit_sm not sent")
	ErrUnknown = errors.New("submit_sm outcome unknown")
	ErrClosed  = errors.New("session closed")
)

// State of a bind.
type State string

// Bind states.
const (
	StateConnecting State = "connecting"
	StateBound      State = "bound"
	StateBackoff    State = "backoff"
	StateAuthFailed State = "auth_failed" // permanent bind error: waiting for new credentials
	StateDead       State = "dead"        // no answers (see deadbind.go): being dropped and renewed
	StateClosed     State = "closed"
)

// States are all the states of a bind (smpp_bind_state's state label).
var States = []State{StateConnecting, StateBound, StateBackoff, StateAuthFailed, StateDead, StateClosed}

// permanentBindError reports bind statuses that retrying with the same
// credentials cannot fix.
func permanentBindError(st data.CommandStatusType) bool {
	switch st {
	case data.ESME_RINVPASWD, data.ESME_RINVSYSID, data.ESME_RINVSYSTYP:
		return true
	}
	return false
}
