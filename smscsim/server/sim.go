// Package server is the simulator's SMPP side: several virtual SMSCs
// (operators) in one process, each with its own listener, accounts and quirk
// profile, steered at runtime through the fault registry.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/meter"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
)

// Sim is a running simulator.
type Sim struct {
	cfg      Config
	log      *slog.Logger
	Faults   *faults.Registry
	Recorder *recorder.Recorder
	Meter    *meter.Meter
	// DeliverResp times each deliver_sm (receipt or MO) from its sending to
	// the ESME's deliver_sm_resp: how long the ESME takes to take a receipt.
	DeliverResp *meter.Latency
	stats       *Stats

	ops     map[string]*Operator
	order   []string
	session atomic.Uint64
	// msgNum numbers messages across all operators: a primary and a backup
	// SMSC of one MNO share an id space, as in a real SMSC cluster.
	msgNum  atomic.Uint64
	started time.Time

	closeOnce sync.Once
}

// New builds a simulator from a validated config; Start opens the listeners.
func New(cfg Config, log *slog.Logger) (*Sim, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	size := cfg.RecorderSize
	switch {
	case size == 0:
		size = 10000
	case size < 0:
		size = 0
	}
	mode, _ := meter.ParseMode(cfg.MeterWindow)
	s := &Sim{cfg: cfg, log: log, Recorder: recorder.New(size), Meter: meter.New(mode),
		DeliverResp: meter.NewLatency(deliverRespSamples), stats: newStats(), ops: map[string]*Operator{}}
	s.Faults = faults.NewRegistry(cfg.Seed, s)
	for _, oc := range cfg.Operators {
		oc.withDefaults()
		op := newOperator(s, oc)
		if oc.TLS != nil {
			conf, err := oc.TLS.build()
			if err != nil {
				return nil, fmt.Errorf("operator %q: tls.%w", oc.ID, err)
			}
			op.tls = conf
		}
		s.ops[oc.ID] = op
		s.order = append(s.order, oc.ID)
		for _, a := range oc.Accounts {
			s.Meter.SetLimit(meterKey(oc.ID, a.SystemID), a.TPS)
		}
	}
	return s, nil
}

func meterKey(op, account string) string { return op + "/" + account }

// deliverRespSamples is how many of the latest deliver_sm_resp latencies
// the simulator keeps for exact quantiles (1 MB).
const deliverRespSamples = 1 << 17

// Start opens every operator's listener.
func (s *Sim) Start(ctx context.Context) error {
	s.started = time.Now()
	for _, id := range s.order {
		if err := s.ops[id].listen(); err != nil {
			s.Close()
			return fmt.Errorf("operator %q: %w", id, err)
		}
		s.log.Info("operator listening", "operator", id, "addr", s.ops[id].Addr())
	}
	return nil
}

// Close stops faults, unbinds every session and closes the listeners.
func (s *Sim) Close() {
	s.closeOnce.Do(func() {
		s.Faults.Reset()
		var wg sync.WaitGroup
		for _, op := range s.ops {
			wg.Add(1)
			go func() { defer wg.Done(); op.shutdown() }()
		}
		wg.Wait()
	})
}

// Operator returns an operator by id.
func (s *Sim) Operator(id string) (*Operator, bool) {
	op, ok := s.ops[id]
	return op, ok
}

// Operators lists operator ids in configuration order (faults.Env).
func (s *Sim) Operators() []string { return append([]string(nil), s.order...) }

// Seed returns the seed new faults are given.
func (s *Sim) Seed() uint64 { return s.Faults.Seed() }

// Reseed makes faults added from now on draw from seed (a scenario's own seed).
func (s *Sim) Reseed(seed uint64) { s.Faults.Reseed(seed) }

// Started is when Start was called.
func (s *Sim) Started() time.Time { return s.started }

// ErrUnknownOperator is returned for an operator id that is not configured.
var ErrUnknownOperator = errors.New("unknown operator")

// SetListenerDown implements faults.Env.
func (s *Sim) SetListenerDown(operator string, down bool) error {
	op, ok := s.ops[operator]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownOperator, operator)
	}
	return op.setDown(down)
}

// Disconnect implements faults.Env: it drops matching sessions.
func (s *Sim) Disconnect(m faults.Match) int {
	n := 0
	for _, op := range s.ops {
		if m.Operator != "" && m.Operator != op.cfg.ID {
			continue
		}
		for _, ss := range op.sessionList() {
			if m.MatchesSession(op.cfg.ID, ss.accountID()) {
				ss.close("disconnected by fault")
				n++
			}
		}
	}
	return n
}

// InjectMO implements faults.Env.
func (s *Sim) InjectMO(operator string, mo faults.MO) error {
	op, ok := s.ops[operator]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownOperator, operator)
	}
	return op.injectMO(mo)
}

// RestartMessageIDs implements faults.Env: the next message id is first
// (the restart fault). The counter is shared by every operator.
func (s *Sim) RestartMessageIDs(first uint64) { s.msgNum.Store(first - 1) }

// Reset clears faults, counters, the recorder, the meter and the
// deliver_sm_resp latencies; sessions stay up.
func (s *Sim) Reset() {
	s.Faults.Reset()
	s.Recorder.Reset()
	s.Meter.Reset()
	s.DeliverResp.Reset()
	s.stats.reset()
}

// SessionInfo describes a connected session.
type SessionInfo struct {
	ID          uint64    `json:"id"`
	Operator    string    `json:"operator"`
	Account     string    `json:"account,omitempty"`
	BindType    string    `json:"bindType"`
	Remote      string    `json:"remote"`
	Since       time.Time `json:"since"`
	Outstanding int       `json:"outstanding"`
	// PasswordRetired: the session bound with a password its account no
	// longer accepts (a rotation's overlap has ended). A real SMSC keeps
	// such a bind up; an ESME that rotated properly has none left.
	PasswordRetired bool `json:"passwordRetired,omitempty"`
}

// Sessions lists connected sessions.
func (s *Sim) Sessions() []SessionInfo {
	var out []SessionInfo
	for _, id := range s.order {
		for _, ss := range s.ops[id].sessionList() {
			out = append(out, ss.info())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
