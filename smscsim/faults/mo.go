package faults

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"time"
)

// MOFault injects mobile-originated messages (deliver_sm to a bound receiver
// or transceiver) at a steady rate, for the matched operators (match.operator
// or all of them). Long texts are split by the server according to encoding
// and segmentation. It is exported so that the API can report Sent and Errors.
type MOFault struct {
	interval time.Duration
	count    uint64 // 0: until removed
	msg      MO

	sent, errs atomic.Uint64
	lastErr    atomic.Value // string
}

type moParams struct {
	Rate  float64 `json:"rate"`
	Count int64   `json:"count,omitempty"`
	MO
}

// maxMORate keeps the ticker interval well above zero.
const maxMORate = 10000

// Defaults for a bare {"rate": N}.
const (
	defaultMOSource = "447700900001"
	defaultMODest   = "ACME"
	defaultMOText   = "MO test message"
)

func init() {
	Register(Type{
		Name:        "mo",
		Description: "injects MO messages at a rate (optionally count of them) to bound receivers of the matched operators",
		New:         newMO,
	})
}

func newMO(raw json.RawMessage) (Fault, error) {
	p := moParams{MO: MO{Source: defaultMOSource, Dest: defaultMODest, Text: defaultMOText}}
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	if p.Rate <= 0 || p.Rate > maxMORate {
		return nil, paramErr("rate", "must be > 0 and <= %d messages/s, got %v", maxMORate, p.Rate)
	}
	if p.Count < 0 {
		return nil, paramErr("count", "must be >= 0 (0: until removed), got %d", p.Count)
	}
	switch p.Encoding {
	case "", "gsm7", "ucs2", "latin1":
	default:
		return nil, paramErr("encoding", "must be gsm7, ucs2 or latin1, got %q", p.Encoding)
	}
	switch p.Segmentation {
	case "", "udh8", "udh16", "sar", "payload":
	default:
		return nil, paramErr("segmentation", "must be udh8, udh16, sar or payload, got %q", p.Segmentation)
	}
	if p.Source == "" {
		return nil, paramErr("source", "must not be empty")
	}
	if p.Dest == "" {
		return nil, paramErr("destination", "must not be empty")
	}
	return &MOFault{
		interval: time.Duration(float64(time.Second) / p.Rate),
		count:    uint64(p.Count),
		msg:      p.MO,
	}, nil
}

// Sent is how many MOs were injected successfully.
func (m *MOFault) Sent() uint64 { return m.sent.Load() }

// Errors is how many injections failed (typically: no receiver bound).
func (m *MOFault) Errors() uint64 { return m.errs.Load() }

// LastError is the text of the last failed injection, or "".
func (m *MOFault) LastError() string {
	s, _ := m.lastErr.Load().(string)
	return s
}

// Run injects one MO per operator at once and then on every tick, until count
// were sent or ctx ends. Failures are counted and retried on the next tick:
// count is about delivered MOs, so a receiver that binds late still gets them.
func (m *MOFault) Run(ctx context.Context, in *Instance, env Env) {
	msg := m.msg
	if msg.Account == "" {
		msg.Account = in.Spec.Match.Account
	}
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		for _, op := range matchedOperators(in, env) {
			if m.count > 0 && m.sent.Load() >= m.count {
				return
			}
			if err := env.InjectMO(op, msg); err != nil {
				m.errs.Add(1)
				m.lastErr.Store(op + ": " + err.Error())
				continue
			}
			m.sent.Add(1)
			in.Hit()
		}
		if m.count > 0 && m.sent.Load() >= m.count {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
