package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/smscsim/meter"
)

// benchStall is how long the benchmark waits for the next event before it
// gives up on the run.
const benchStall = 30 * time.Second

// publishCommands publishes n commands for mno-a, each wanting a receipt:
// as fast as JetStream takes them, or rate a second (the i-th at i/rate
// after the first, so a late wake-up is caught up rather than accumulated).
func publishCommands(b testing.TB, js jetstream.JetStream, n, rate int) {
	t0 := time.Now()
	for i := 0; i < n; i++ {
		if rate > 0 {
			if d := time.Until(t0.Add(time.Duration(i) * time.Second / time.Duration(rate))); d > 0 {
				time.Sleep(d)
			}
		}
		cmd := fmt.Sprintf(`{"messageId":"b-%d","operatorId":"mno-a","source":{"addr":"ACME","ton":5,"npi":0},`+
			`"destination":{"addr":"447700900123","ton":1,"npi":1},"text":"benchmark","registeredDelivery":true}`, i)
		// A stall (too many publishes awaiting their acks: NATS is slow on
		// a busy machine) is the load outrunning the broker, not a fault:
		// wait for the acks and publish again.
		for {
			_, err := js.PublishAsync(natscontract.DispatchSubjectFor("mno-a"), []byte(cmd))
			if errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				select {
				case <-js.PublishAsyncComplete():
				case <-time.After(benchStall):
					b.Errorf("publish %d: no acks for %s", i, benchStall)
					return
				}
				continue
			}
			if err != nil {
				b.Error(err)
				return
			}
			break
		}
	}
}

// receipts is what the receipt events of a run tell.
type receipts struct {
	submitted map[string]time.Time // message id: when its submit_sm went out
	latency   []time.Duration      // submit_sm to the receipt's arrival (the event's receivedAt)
	out       []time.Duration      // submit_sm to the event stored in JetStream
}

// collectReceipts reads n receipt events from sms.dlr.inbound and returns
// them with the time the last one arrived.
func collectReceipts(b testing.TB, js jetstream.JetStream, n int) (receipts, time.Time) {
	cons, err := js.OrderedConsumer(context.Background(), natscontract.ReceiptStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		b.Fatal(err)
	}
	r := receipts{submitted: make(map[string]time.Time, n), latency: make([]time.Duration, 0, n), out: make([]time.Duration, 0, n)}
	last := time.Now()
	for len(r.latency) < n {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			b.Fatal(err)
		}
		for m := range batch.Messages() {
			var e events.Receipt
			if err := json.Unmarshal(m.Data(), &e); err != nil {
				b.Fatalf("receipt event %s: %v", m.Data(), err)
			}
			r.submitted[e.MessageID] = e.SubmittedAt
			r.latency = append(r.latency, e.ReceivedAt.Sub(e.SubmittedAt))
			md, err := m.Metadata()
			if err != nil {
				b.Fatal(err)
			}
			r.out = append(r.out, md.Timestamp.Sub(e.SubmittedAt))
			last = time.Now()
		}
		if time.Since(last) > benchStall {
			b.Fatalf("stalled at %d of %d receipts", len(r.latency), n)
		}
	}
	return r, last
}

// submitLatencies reads the outcome events of mno-a until n are accepted
// and returns, for each, submit_sm to submit_sm_resp as the connector saw it: the
// outcome's time (taken as the submitting goroutine resumes with the resp)
// minus the submit_sm's (the receipt event's submittedAt). Exact per
// message, unlike the connector's histogram buckets.
func submitLatencies(b testing.TB, js jetstream.JetStream, submitted map[string]time.Time, n int) []time.Duration {
	cons, err := js.OrderedConsumer(context.Background(), natscontract.EventsStream,
		jetstream.OrderedConsumerConfig{FilterSubjects: []string{natscontract.OutcomeSubjectFor("mno-a")}})
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, n)
	seen, last := 0, time.Now()
	for len(lat) < n {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			b.Fatal(err)
		}
		for m := range batch.Messages() {
			var e events.Outcome
			if err := json.Unmarshal(m.Data(), &e); err != nil {
				b.Fatalf("outcome event %s: %v", m.Data(), err)
			}
			seen, last = seen+1, time.Now()
			if sent, ok := submitted[e.MessageID]; ok && e.Outcome == events.OutcomeAccepted {
				lat = append(lat, e.At.Sub(sent))
			}
		}
		if time.Since(last) > benchStall {
			b.Fatalf("stalled at %d of %d messages accepted (%d outcome events)", len(lat), n, seen)
		}
	}
	if seen > n {
		// A submit_sm with no resp in time is unknown, and sent again.
		b.Logf("%d outcome events for %d messages", seen, n)
	}
	return lat
}

// reportQuantiles reports the p50 and p99 (nearest rank, as the simulator
// computes them) of a latency as name-p50-ms and name-p99-ms.
func reportQuantiles(b *testing.B, lat []time.Duration, name string) {
	slices.Sort(lat)
	b.ReportMetric(ms(meter.NearestRank(lat, 0.50)), name+"-p50-ms")
	b.ReportMetric(ms(meter.NearestRank(lat, 0.99)), name+"-p99-ms")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
