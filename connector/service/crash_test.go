package service

import (
	"context"
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

// After a kill -9 the commands the dead process held are back in work within
// seconds (the dispatch consumer's short ack wait), not after a minute, and
// with the default afterCrash policy the parts whose submit_sm may have
// reached the SMSC are reported unknown, never sent twice: the connector runs
// as its own process against a simulator that answers every submit_sm after
// 4 s (longer than a third of the ack wait, so the heartbeats must keep each
// command in work), is killed while every submit is waiting for its answer,
// and a new process must publish an outcome for every message soon after.
func TestCommandsInFlightAtAKillAreBackWithinSeconds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the connector twice")
	}
	const n = 10
	sim := startSim(t, server.OperatorConfig{ID: "mno-a", Listen: "127.0.0.1:0",
		Accounts: []server.AccountConfig{{SystemID: "acme", Password: "pw"}}})
	if _, err := sim.Faults.Add(faults.Spec{Type: "latency", Match: faults.Match{Command: "submit_sm"},
		Params: []byte(`{"distribution":{"kind":"fixed","value":"4s"}}`)}); err != nil {
		t.Fatal(err)
	}
	op, _ := sim.Operator("mno-a")
	svc := testService(t)
	operators := fmt.Sprintf("operators:\n  - id: mno-a\n    endpoints: {primary: [{address: %q}]}\n    tps: 1000\n    window: 20\n", op.Addr())

	first := startConnectorProcess(t, operators, svc)
	waitReady(t, first)
	nc, err := nats.Connect(svc.NATS.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	for i := 0; i < n; i++ {
		cmd := fmt.Sprintf(`{"messageId":"k-%d","operatorId":"mno-a","source":{"addr":"ACME","ton":5,"npi":0},`+
			`"destination":{"addr":"4477009001%02d","ton":1,"npi":1},"text":"kill -9"}`, i, i)
		if _, err := js.Publish(ctx, natscontract.DispatchSubjectFor("mno-a"), []byte(cmd)); err != nil {
			t.Fatal(err)
		}
	}
	// Every command in flight: its submit_sm at the simulator, unanswered.
	submits := func() map[string]int {
		per := map[string]int{}
		for _, r := range sim.Recorder.Query(recorder.Filter{Command: "submit_sm"}) {
			per[r.Dest]++
		}
		return per
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(submits()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d messages submitted before the kill\n%s", len(submits()), n, first.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := syscall.Kill(first.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.exited
	killed := time.Now()

	outcomes, err := js.OrderedConsumer(ctx, natscontract.EventsStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{natscontract.OutcomeSubjectFor("mno-a")}})
	if err != nil {
		t.Fatal(err)
	}
	second := startConnectorProcess(t, operators, svc)
	defer second.stop(t)
	waitReady(t, second)
	ready := time.Since(killed)

	// Within 25 s of the kill (process start included): a 60 s ack wait
	// cannot make it, a 10 s one with a 4 s answer can.
	got := map[string]string{}
	limit := killed.Add(25 * time.Second)
	for len(got) < n && time.Now().Before(limit) {
		batch, err := outcomes.Fetch(n, jetstream.FetchMaxWait(time.Until(limit)))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			var o struct{ MessageID, Outcome string }
			if err := json.Unmarshal(m.Data(), &o); err != nil {
				t.Fatal(err)
			}
			got[o.MessageID] = o.Outcome
		}
	}
	if len(got) < n {
		t.Fatalf("25s after the kill, %d of %d in-flight messages have an outcome (%v); new process ready %v after the kill\n%s",
			len(got), n, got, ready.Round(time.Millisecond), second.logs())
	}
	per := submits()
	for i := 0; i < n; i++ {
		id, dest := fmt.Sprintf("k-%d", i), fmt.Sprintf("4477009001%02d", i)
		if got[id] != "unknown" || per[dest] != 1 {
			t.Errorf("%s: outcome %q after %d submit_sm, want unknown after 1 (at most once)", id, got[id], per[dest])
		}
	}
	t.Logf("kill -9 with %d commands in flight: new process ready after %v, every outcome published after %v; outcomes %v; submit_sm per message %v",
		n, ready.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond), got, submits())
}
