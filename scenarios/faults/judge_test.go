package faults_test

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/smpp-connector/smpp-connector/scenarios/framework"
)

// The judge counts, from what the simulator saw and what the connector
// published and stored, the losses and breaches of one entry. It is plain
// data in, counts out, so that each counter is tested on its own (judge
// specs in counters_test.go) before it is trusted with a fault.

// sent is one message the entry published: its id, its (unique) destination
// and how many parts it has.
type sent struct {
	ID    string
	Dest  string
	Parts int
}

// submit is one submit_sm the simulator recorded (the type the Phase 2
// gate's receipt truth reads too).
type submit = framework.SMSCSubmit

// outcomeEvent is one event on smpp.outcome.{operatorId}.
type outcomeEvent struct {
	MessageID     string `json:"messageId"`
	PartNumber    int    `json:"partNumber"`
	Outcome       string `json:"outcome"`
	SMSCMessageID string `json:"smscMessageId"`
	Status        string `json:"status"`
}

// receiptEvent is one event on sms.dlr.inbound.
type receiptEvent struct {
	MessageID     string    `json:"messageId"`
	PartNumber    int       `json:"partNumber"`
	SMSCMessageID string    `json:"smscMessageId"`
	Stat          string    `json:"stat"`
	ReceivedAt    time.Time `json:"receivedAt"`
}

// storedReceipt is a part whose receipt state PostgreSQL holds.
type storedReceipt struct {
	MessageID string
	Part      int
}

// observed is everything the judge reads after an entry.
type observed struct {
	Messages []sent
	Submits  []submit
	Outcomes []outcomeEvent
	Receipts []receiptEvent
	Stored   []storedReceipt
	// Breaches are the simulator's sliding-second TPS breaches (arrivals over
	// the contract), WorstSecond its busiest sliding second.
	Breaches    uint64
	WorstSecond int
	// Limit is the contracted TPS; InjectedAt when the fault began (to say
	// where the breaches were).
	Limit      int
	InjectedAt time.Time
	// LiftedAt is when the fault ended (the component back, the storm over);
	// GapFrom, when set, measures recovery as the longest pause between
	// accepted submits after it instead (a fault that never stops traffic
	// by design, such as a refused new credential).
	LiftedAt time.Time
	GapFrom  time.Time
	// Now is when the observation was taken (recovery when nothing was
	// accepted after the lift).
	Now time.Time
}

// counts are the figures of one entry, the gate's criteria.
type counts struct {
	OutcomesMissing     int     // messages with a part without a final outcome event
	ReceiptsUnpublished int     // receipts stored in PostgreSQL with no receipt event
	ReceiptsMissing     int     // parts accepted by the SMSC and reported accepted, with no receipt event
	ReceiptsWrong       int     // receipt events naming a message the SMSC did not give that id to
	PartsTwice          int     // parts the SMSC accepted more than once (extra acceptances)
	TPSBreaches         uint64  // arrivals over the contract in a sliding second
	RecoverySeconds     float64 // from the lift to the first accepted submit_sm

	// Diagnostics, shown with the figures.
	Outcome       map[string]int // final outcome events by kind (per part, last wins)
	NonFinal      int            // outcome events that are not accepted/rejected/unknown
	AcceptedBySim int            // accepted submit_sm at the simulator
	WorstSecond   int            // the SMSC's busiest sliding second
	// BreachSpan says where, from the recorder's arrivals, the sliding
	// seconds over the limit were, relative to the injection ("" if none).
	BreachSpan string
	Examples   []string // a few of each loss, for the reader
}

// judge computes the counts.
func judge(o observed) counts {
	c := counts{Outcome: map[string]int{}}
	type key struct {
		id   string
		part int
	}
	byDest := map[string]sent{}
	for _, m := range o.Messages {
		byDest[m.Dest] = m
	}
	example := func(kind string, format string, args ...any) {
		n := 0
		for _, e := range c.Examples {
			if strings.HasPrefix(e, kind+":") {
				n++
			}
		}
		if n < 3 {
			c.Examples = append(c.Examples, kind+": "+fmt.Sprintf(format, args...))
		}
	}

	// Final outcome per part (the last final event wins; a part may be
	// reported twice, e.g. unknown after a crash and then... never accepted).
	final := map[key]outcomeEvent{}
	for _, e := range o.Outcomes {
		switch e.Outcome {
		case "accepted", "rejected", "unknown":
			final[key{e.MessageID, max(e.PartNumber, 1)}] = e
		default:
			c.NonFinal++
		}
	}
	for _, e := range final {
		c.Outcome[e.Outcome]++
	}
	for _, m := range o.Messages {
		for p := 1; p <= m.Parts; p++ {
			if _, ok := final[key{m.ID, p}]; !ok {
				c.OutcomesMissing++
				example("no outcome", "%s part %d", m.ID, p)
				break
			}
		}
	}

	// Receipt events by part.
	receipted := map[key]bool{}
	for _, r := range o.Receipts {
		receipted[key{r.MessageID, max(r.PartNumber, 1)}] = true
	}
	for _, s := range o.Stored {
		if !receipted[key{s.MessageID, max(s.Part, 1)}] {
			c.ReceiptsUnpublished++
			example("stored, not published", "%s part %d", s.MessageID, s.Part)
		}
	}

	// What the SMSC accepted, per part and per id (in time order).
	sort.SliceStable(o.Submits, func(i, j int) bool { return o.Submits[i].Time.Before(o.Submits[j].Time) })
	acceptedPart := map[key]int{}
	var accepts []time.Time
	for _, s := range o.Submits {
		if !s.Accepted {
			continue
		}
		c.AcceptedBySim++
		accepts = append(accepts, s.Time)
		m, ok := byDest[s.Dest]
		if !ok {
			continue // not this entry's traffic
		}
		k := key{m.ID, max(s.Part, 1)}
		acceptedPart[k]++
		if acceptedPart[k] == 2 {
			example("accepted twice", "%s part %d", m.ID, k.part)
		}
		if acceptedPart[k] > 1 {
			c.PartsTwice++
		}
	}

	// A receipt event is right when the latest accepted submit that was
	// given its SMSC id before the receipt was received is its own part
	// (framework.ReceiptTruth: the same judge as the Phase 2 gate's).
	messageOf := map[string]string{}
	for _, m := range o.Messages {
		messageOf[m.Dest] = m.ID
	}
	truth := framework.NewReceiptTruth(o.Submits, messageOf)
	for _, r := range o.Receipts {
		a := framework.Attribution{PartRef: framework.PartRef{MessageID: r.MessageID, Part: max(r.PartNumber, 1)},
			SMSCID: r.SMSCMessageID, ReceivedAt: r.ReceivedAt}
		if right, who := truth.Check(a); !right {
			c.ReceiptsWrong++
			example("wrong message", "receipt for id %s published on %s part %d, the SMSC gave it to %s",
				r.SMSCMessageID, r.MessageID, max(r.PartNumber, 1), who)
		}
	}

	// Receipts due: the SMSC accepted the part and the connector reported
	// it accepted (an unknown part's receipt cannot be matched: that is the
	// at-most-once policy, counted as unknown, not here).
	for k, e := range final {
		if e.Outcome != "accepted" || acceptedPart[k] == 0 || receipted[k] {
			continue
		}
		c.ReceiptsMissing++
		example("no receipt", "%s part %d (smsc id %s)", k.id, k.part, e.SMSCMessageID)
	}

	c.TPSBreaches, c.WorstSecond = o.Breaches, o.WorstSecond
	c.BreachSpan = breachSpan(o)
	c.RecoverySeconds = recovery(accepts, o, c.OutcomesMissing == 0)
	sort.Strings(c.Examples)
	return c
}

// recovery is the time from the lift to the first accepted submit_sm after
// it, or, with GapFrom set, the longest pause between accepted submits
// after GapFrom, the pause since the last one included while messages still
// wait for an outcome (traffic that stopped for good). With nothing accepted
// after the lift it is the time until the observation.
func recovery(accepts []time.Time, o observed, done bool) float64 {
	if !o.GapFrom.IsZero() {
		longest, prev := time.Duration(0), o.GapFrom
		for _, t := range accepts {
			if t.Before(o.GapFrom) {
				continue
			}
			longest, prev = max(longest, t.Sub(prev)), t
		}
		if !done {
			longest = max(longest, o.Now.Sub(prev))
		}
		return round(longest.Seconds())
	}
	for _, t := range accepts {
		if t.After(o.LiftedAt) {
			return round(t.Sub(o.LiftedAt).Seconds())
		}
	}
	return round(o.Now.Sub(o.LiftedAt).Seconds())
}

func round(v float64) float64 { return math.Round(v*100) / 100 }

// breachSpan finds, in the recorded submit_sm arrivals, those that made a
// sliding second exceed the limit, and says when they were relative to the
// injection: a diagnostic beside the simulator's own meter, which counts.
func breachSpan(o observed) string {
	if o.Limit <= 0 {
		return ""
	}
	var at []time.Time
	for _, s := range o.Submits {
		if s.Status != "ESME_RINVBNDSTS" {
			at = append(at, s.Time)
		}
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	var first, last time.Time
	n, lo := 0, 0
	for i, t := range at {
		for !at[lo].After(t.Add(-time.Second)) {
			lo++
		}
		if i-lo+1 > o.Limit {
			if n == 0 {
				first = t
			}
			last = t
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d arrivals over %d/s between %+.2fs and %+.2fs of the injection",
		n, o.Limit, first.Sub(o.InjectedAt).Seconds(), last.Sub(o.InjectedAt).Seconds())
}
