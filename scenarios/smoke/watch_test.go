package smoke

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/scenarios/framework"
	"github.com/smpp-connector/smpp-connector/scenarios/smoke/smokeenv"
)

// newRunID is this run's prefix of message ids and fault names: nobody
// else's traffic carries it, so what the suite counts and breaks is its own.
func newRunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "smoke-" + hex.EncodeToString(b)
}

// destPrefix is a destination range of this run's own, for one operator and
// case: the simulator's faults match it, so they touch no other traffic.
func destPrefix(op, c int) string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
	return fmt.Sprintf("447%06d%d%d", n.Int64(), op%10, c%10)
}

// watch collects, from before anything is published, the receipt and
// outcome events of the messages whose ids start with prefix, through
// ephemeral ordered consumers (deleted by the server when they stop).
type watch struct {
	prefix string

	mu       sync.Mutex
	receipts map[string][]events.Receipt
	outcomes map[string][]events.Outcome
}

func startWatch(ctx context.Context, operatorID, prefix string) *watch {
	GinkgoHelper()
	w := &watch{prefix: prefix, receipts: map[string][]events.Receipt{}, outcomes: map[string][]events.Outcome{}}
	consume(ctx, natscontract.ReceiptSubject, func(b []byte) {
		var r events.Receipt
		if json.Unmarshal(b, &r) == nil && strings.HasPrefix(r.MessageID, prefix) {
			w.mu.Lock()
			w.receipts[r.MessageID] = append(w.receipts[r.MessageID], r)
			w.mu.Unlock()
		}
	})
	consume(ctx, natscontract.OutcomeSubjectFor(operatorID), func(b []byte) {
		var o events.Outcome
		if json.Unmarshal(b, &o) == nil && strings.HasPrefix(o.MessageID, prefix) {
			w.mu.Lock()
			w.outcomes[o.MessageID] = append(w.outcomes[o.MessageID], o)
			w.mu.Unlock()
		}
	})
	return w
}

// consume reads subject from now on, in whatever stream holds it (ops may
// name the streams otherwise than the connector would).
func consume(ctx context.Context, subject string, f func([]byte)) {
	GinkgoHelper()
	stream, err := js.StreamNameBySubject(ctx, subject)
	Expect(err).NotTo(HaveOccurred(), "no JetStream stream holds %s (%s)", subject, smokeenv.EnvNATSURL)
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subject}, DeliverPolicy: jetstream.DeliverNewPolicy})
	Expect(err).NotTo(HaveOccurred())
	cc, err := cons.Consume(func(m jetstream.Msg) { f(m.Data()) })
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(cc.Stop)
}

// verdict is what the events say of one message.
type verdict struct {
	parts     int   // parts the connector reported accepted
	of        int   // parts the message has (the outcomes' partCount)
	failed    []int // parts with a rejected or unknown outcome and no acceptance
	final     int   // final receipt events
	perPart   map[int]int
	partCount int // the partCount the receipts carry
}

func (w *watch) verdict(id string) verdict {
	w.mu.Lock()
	defer w.mu.Unlock()
	v := verdict{perPart: map[int]int{}}
	accepted, other := map[int]bool{}, map[int]bool{}
	for _, o := range w.outcomes[id] {
		v.of = o.PartCount
		if o.Outcome == events.OutcomeAccepted {
			accepted[o.PartNumber] = true
		} else {
			other[o.PartNumber] = true
		}
	}
	v.parts = len(accepted)
	for p := range other {
		if !accepted[p] {
			v.failed = append(v.failed, p)
		}
	}
	for _, r := range w.receipts[id] {
		if !r.Final {
			continue // an intermediate state: the final receipt follows
		}
		v.final++
		v.perPart[r.PartNumber]++
		v.partCount = r.PartCount
	}
	return v
}

// expected is how many final receipt events a message of parts parts gets
// from an SMSC with this receipt style.
func expected(style string, parts int) int {
	if style == smokeenv.ReceiptsEach {
		return parts
	}
	return 1
}

// waitReceipts waits until every message in ids has all its parts accepted
// and as many final receipts as its SMSC sends, then checks that none came
// twice. The counts (receipts missing, receipts twice) go to the report as
// <operator>_<what>_receipts_missing and _twice, also when the wait fails.
func (w *watch) waitReceipts(ctx context.Context, op smokeenv.Operator, what string, ids []string) {
	GinkgoHelper()
	// The wait's failure is held until the counts are reported.
	var failure string
	NewGomega(func(msg string, _ ...int) { failure = msg }).Eventually(func(g Gomega) {
		var waiting []string
		for _, id := range ids {
			v := w.verdict(id)
			if len(v.failed) > 0 {
				StopTrying(fmt.Sprintf("message %s: parts %v were not accepted:%s", id, v.failed, w.describe(id))).Now()
			}
			// Every part accepted first: a part still retried after a throttle
			// has its receipt to come.
			if v.parts == 0 || v.parts < v.of || v.final < expected(op.ReceiptParts, v.parts) {
				waiting = append(waiting, fmt.Sprintf("%s (parts accepted %d of %d, final receipts %d)", id, v.parts, v.of, v.final))
			}
		}
		g.Expect(waiting).To(BeEmpty(), "messages still without all their receipts")
	}).WithContext(ctx).WithTimeout(cfg.Timeout).WithPolling(500 * time.Millisecond).Should(Succeed())

	if failure == "" {
		// A receipt published twice would come right after the first: give
		// it time to show, then judge each message exactly (naming it).
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}

	var problems []string
	missing, dup := 0, 0
	for _, id := range ids {
		v := w.verdict(id)
		// A message never sent or never answered still owes one receipt.
		want := expected(op.ReceiptParts, max(v.of, v.parts, 1))
		if v.final < want {
			missing += want - v.final
		}
		for p, n := range v.perPart {
			if n > 1 {
				dup += n - 1
				problems = append(problems, fmt.Sprintf("%s part %d: %d final receipts:%s", id, p, n, w.describe(id)))
			}
		}
		if v.final > want {
			problems = append(problems, fmt.Sprintf("%s: %d final receipts for %d expected:%s", id, v.final, want, w.describe(id)))
		}
		if failure != "" {
			continue // the wait's own message says what is missing
		}
		if v.partCount != v.parts {
			problems = append(problems, fmt.Sprintf("%s: receipts say partCount %d, %d parts accepted", id, v.partCount, v.parts))
		}
		if op.ReceiptParts == smokeenv.ReceiptsEach {
			for p := 1; p <= v.parts; p++ {
				if v.perPart[p] == 0 {
					problems = append(problems, fmt.Sprintf("%s part %d: no receipt", id, p))
				}
			}
		}
	}
	name := fmt.Sprintf("%s_%s_receipts_", op.ID, what)
	framework.RecordCriterion(name+"missing", "max 0", fmt.Sprint(missing), missing == 0)
	framework.RecordCriterion(name+"twice", "max 0", fmt.Sprint(dup), dup == 0)
	if failure != "" {
		Fail(failure)
	}
	sort.Strings(problems)
	Expect(problems).To(BeEmpty(), "receipts of %s", op.ID)
}

// describe is a message's events, for a failure message.
func (w *watch) describe(id string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for _, o := range w.outcomes[id] {
		fmt.Fprintf(&b, "\n  outcome part %d/%d %s smsc id %q %s", o.PartNumber, o.PartCount, o.Outcome, o.SMSCMessageID, o.Status)
	}
	for _, r := range w.receipts[id] {
		fmt.Fprintf(&b, "\n  receipt part %d/%d smsc id %q %s final %v received %s", r.PartNumber, r.PartCount,
			r.SMSCMessageID, r.Status, r.Final, r.ReceivedAt.Format(time.RFC3339Nano))
	}
	return b.String()
}

func (w *watch) outcomesOf(id string) []events.Outcome {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]events.Outcome(nil), w.outcomes[id]...)
}

func (w *watch) partsOf(id string) int { return w.verdict(id).parts }
