package framework

import (
	"encoding/csv"
	"io"
	"math"
	"slices"
	"sort"
	"time"
)

// The Phase 2 gate compares the connector's submit outcomes, message by
// message, with the legacy dispatcher's log (connector/compare). In CI there
// is no legacy dispatcher, so the suite writes the log one would have
// written: the simulated SMSC is the source of truth (DESIGN.md section 7:
// the simulator is an independent judge), and what it answered to each
// submit_sm is what a dispatcher bound to the same SMSC would have logged.
// Nothing here reads the connector's outcomes.

// The legacy dispatcher's result values (legacy-sms-dispatcher's CSV, as in
// connector/compare/testdata/legacy.csv).
const (
	LegacyAccepted = "ACCEPTED"
	LegacyRejected = "REJECTED"
	LegacyTimeout  = "TIMEOUT"
)

// LegacyTimeLayout is how the legacy dispatcher writes logged_at (UTC).
const LegacyTimeLayout = "2006-01-02 15:04:05.000"

// LegacyMappingYAML is the mapping `smpp-connector compare -mapping` reads
// the generated log with: the documented legacy CSV (connector/compare
// README, testdata/mapping.yaml).
const LegacyMappingYAML = `# How to read legacy-sms-dispatcher's outcome log (legacy.csv), as generated
# by the Phase 2 gate from what the simulated SMSC answered.
format: csv
columns:
  messageId: orchestrator_msg_id   # the orchestrator's message id: the join key
  operator: mno
  outcome: result
  errorCode: smpp_status           # required on rejected lines
  timestamp: logged_at
timestampLayout: "2006-01-02 15:04:05.000"
outcomes:
  accepted: [ACCEPTED]
  rejected: [REJECTED]
  unknown: [TIMEOUT]
# The legacy dispatcher writes some SMPP statuses as its own codes.
errorEquivalence:
  INVALID_MSISDN: ESME_RINVDSTADR
`

// legacyCodes are the statuses the legacy dispatcher logs under its own
// name (LegacyMappingYAML's errorEquivalence maps them back).
var legacyCodes = map[string]string{"ESME_RINVDSTADR": "INVALID_MSISDN"}

// LegacyMessage is one message of a run as the orchestrator dispatched it:
// to a destination of its own (how the SMSC's records name it) in Parts
// submit_sm.
type LegacyMessage struct {
	ID, Operator, Dest string
	Parts              int
}

// LegacyLine is one line of the legacy dispatcher's outcome log: a
// message's final submit outcome.
type LegacyLine struct {
	At        time.Time
	MessageID string
	Operator  string
	Result    string // LegacyAccepted, LegacyRejected or LegacyTimeout
	Status    string // "0" when accepted; the SMPP status (or the legacy code) when rejected; "" on a timeout
	SMSCID    string // the first part's SMSC message id, when accepted
}

// LegacyLog is the log a dispatcher talking to the same SMSC would have
// written for msgs, from what the SMSC answered (submits: the simulator's
// recorder, SMSCSubmits). A part is accepted when the SMSC accepted one of
// its submit_sm (a throttled one retried), else rejected with the last
// status the SMSC answered, else unanswered. A message is accepted when
// every part is, rejected when a part is (with its lowest rejected part's
// status), and a timeout otherwise, logged at its last answer or, without
// any, at end.
func LegacyLog(msgs []LegacyMessage, submits []SMSCSubmit, end time.Time) []LegacyLine {
	type key struct {
		dest string
		part int
	}
	byPart := map[key][]SMSCSubmit{}
	for _, s := range submits {
		k := key{s.Dest, max(s.Part, 1)}
		byPart[k] = append(byPart[k], s)
	}
	out := make([]LegacyLine, 0, len(msgs))
	for _, m := range msgs {
		line := LegacyLine{MessageID: m.ID, Operator: m.Operator, Result: LegacyAccepted, Status: "0"}
		rejected := ""
		for p := 1; p <= max(m.Parts, 1); p++ {
			subs := slices.Clone(byPart[key{m.Dest, p}])
			sort.SliceStable(subs, func(i, j int) bool { return subs[i].Time.Before(subs[j].Time) })
			accepted, answered := -1, -1
			for i, s := range subs {
				if s.Accepted && accepted < 0 {
					accepted = i
				}
				if s.Status != "" {
					answered = i
				}
			}
			switch {
			case accepted >= 0:
				line.At = latest(line.At, subs[accepted].Time)
				if p == 1 {
					line.SMSCID = subs[accepted].SMSCID
				}
			case answered >= 0:
				line.At = latest(line.At, subs[answered].Time)
				if rejected == "" {
					rejected = subs[answered].Status
				}
			default:
				if len(subs) > 0 {
					line.At = latest(line.At, subs[len(subs)-1].Time)
				}
				line.Result = LegacyTimeout
			}
		}
		switch {
		case rejected != "":
			line.Result, line.Status, line.SMSCID = LegacyRejected, rejected, ""
			if c, ok := legacyCodes[rejected]; ok {
				line.Status = c
			}
		case line.Result == LegacyTimeout:
			line.Status, line.SMSCID = "", ""
		}
		if line.At.IsZero() {
			line.At = end
		}
		out = append(out, line)
	}
	return out
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// WriteLegacyCSV writes lines as legacy-sms-dispatcher's CSV log.
func WriteLegacyCSV(w io.Writer, lines []LegacyLine) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"logged_at", "orchestrator_msg_id", "mno", "result", "smpp_status", "smsc_msg_id"})
	for _, l := range lines {
		_ = cw.Write([]string{l.At.UTC().Format(LegacyTimeLayout), l.MessageID, l.Operator, l.Result, l.Status, l.SMSCID})
	}
	cw.Flush()
	return cw.Error()
}

// FlipLegacy returns a copy of lines with the outcome of a share of them
// (rounded up, spread evenly over the log, one rejected line among them when
// the log has any) made to disagree: accepted becomes rejected
// (ESME_RSUBMITFAIL), rejected keeps its result with another status
// (ESME_RSYSERR), a timeout becomes accepted. It returns the message ids it
// changed, in log order. The Phase 2 gate's negative case.
func FlipLegacy(lines []LegacyLine, share float64) ([]LegacyLine, []string) {
	out := slices.Clone(lines)
	n := min(len(lines), int(math.Ceil(share*float64(len(lines))-1e-9)))
	if n <= 0 {
		return out, nil
	}
	pick := map[int]bool{}
	for k := range n {
		pick[(2*k+1)*len(lines)/(2*n)] = true
	}
	if !anyRejected(lines, pick) {
		for i, l := range lines {
			if l.Result == LegacyRejected {
				// The nearest pick makes way: the rest stay spread out.
				nearest := -1
				for j := range pick {
					if nearest < 0 || abs(j-i) < abs(nearest-i) || (abs(j-i) == abs(nearest-i) && j < nearest) {
						nearest = j
					}
				}
				delete(pick, nearest)
				pick[i] = true
				break
			}
		}
	}
	var ids []string
	for i := range out {
		if !pick[i] {
			continue
		}
		l := &out[i]
		switch {
		case l.Result == LegacyAccepted:
			l.Result, l.Status, l.SMSCID = LegacyRejected, "ESME_RSUBMITFAIL", ""
		case l.Result == LegacyRejected && l.Status == "ESME_RSYSERR":
			l.Status = "ESME_RSUBMITFAIL"
		case l.Result == LegacyRejected:
			l.Status = "ESME_RSYSERR"
		default:
			l.Result, l.Status = LegacyAccepted, "0"
		}
		ids = append(ids, l.MessageID)
	}
	return out, ids
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func anyRejected(lines []LegacyLine, pick map[int]bool) bool {
	for i := range pick {
		if lines[i].Result == LegacyRejected {
			return true
		}
	}
	return false
}
