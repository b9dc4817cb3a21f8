package replay

import (
	"slices"
	"strings"

	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// FromRecords reads what the simulator's recorder export holds: the
// requests it received and the status it answered each with, in arrival
// order. It has no response times and no outbound PDUs, so the scenario gets
// the statuses in order (submit_sm and binds) but no delays, receipts or MO.
func FromRecords(recs []recorder.Record) *Behaviour {
	b := &Behaviour{PDUs: len(recs)}
	sessions := map[uint64]bool{}
	for _, r := range recs {
		if b.Start.IsZero() {
			b.Start = r.Time
		}
		sessions[r.SessionID] = true
		var a Answer
		switch st := r.Status; {
		case st == "" || st == "none":
			a.Drop = true
		case strings.HasPrefix(st, "generic_nack "):
			a.GenericNack = true
			a.Status, _ = wire.ParseStatus(strings.TrimPrefix(st, "generic_nack "))
		case st == "malformed":
			continue
		default:
			s, err := wire.ParseStatus(st)
			if err != nil {
				continue
			}
			a.Status = s
		}
		switch r.Command {
		case "submit_sm":
			b.Submits = append(b.Submits, a)
		case "bind_transceiver", "bind_transmitter", "bind_receiver":
			b.Binds = append(b.Binds, a)
			if r.Account != "" && !slices.Contains(b.Accounts, r.Account) {
				b.Accounts = append(b.Accounts, r.Account)
			}
		}
	}
	b.Conns = len(sessions)
	b.Notes = append(b.Notes, "read from a recorder export: it holds the statuses in order, not response delays, receipts, MO or disconnects")
	return b
}
