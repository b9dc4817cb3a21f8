package service

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/admin"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// Two replicas share mno-a. Through either one's admin API an engineer sees
// who owns it, pauses it (the owner keeps its bind, the commands wait in
// JetStream, and all go out once resumed), renews the owner's binds (a
// standby refuses, naming the owner), and drains the owner (the standby
// takes over).
func TestAdminAPIPausesRebindsAndDrains(t *testing.T) {
	sim, ops := oneOperator(t, 0, 200)
	svc := testService(t)
	svc.Admin.Token = "t0ken"
	cred := staticSource{secrets.Credential{SystemID: "acme", Password: "pw", Version: "1"}}
	start := func(name string) (*replica, *admin.Client) {
		l := fastLease
		l.Replica = name
		r := startConnector(t, svc, ops, Options{Secrets: cred, Lease: l, PausePoll: 100 * time.Millisecond})
		return r, &admin.Client{Base: "http://" + r.http, Token: "t0ken"}
	}
	a, ctlA := start("replica-a")
	ctx := context.Background()
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if v := a.readyz(t); v["ready"] != true || v["standby"] != nil {
			return fmt.Errorf("a not owning: %v", v)
		}
		return nil
	})
	b, ctlB := start("replica-b")
	l, err := ctlB.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Operators) != 1 || l.Replica != "replica-b" || l.Operators[0].Owner || l.Operators[0].Holder != "replica-a" || l.Operators[0].TPS != 200 {
		t.Fatalf("b lists %+v: want mno-a owned by replica-a, not by b", l)
	}
	if l, err := ctlA.List(ctx); err != nil || len(l.Operators) != 1 || !l.Operators[0].Owner || len(l.Operators[0].Binds) != 1 ||
		l.Operators[0].Binds[0].Endpoint != "primary" {
		t.Fatalf("a lists %+v, %v: want mno-a owned, one bind on the primary", l, err)
	}

	nc, _ := nats.Connect(svc.NATS.URL)
	defer nc.Close()
	js, _ := jetstream.New(nc)
	// Paused through the standby: the owner stops consuming, keeps its bind.
	if _, err := ctlB.Pause(ctx, "mno-a", "MNO maintenance", "test"); err != nil {
		t.Fatal(err)
	}
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if got := a.metric(t, `smpp_operator_consuming{operator="mno-a"}`); got != 0 {
			return fmt.Errorf("a still consuming (%v)", got)
		}
		return nil
	})
	if v := a.readyz(t); v["ready"] != true || !strings.Contains(fmt.Sprint(v["degraded"]), "paused") {
		t.Errorf("a's readiness while paused: %v; want ready, degraded naming the pause", v)
	}
	publish(t, js, "mno-a", "paused", 10)
	// The commands are in the stream and nobody takes them: the consumer
	// shows them pending, still, after a few of the pause polls.
	cons, _ := js.Consumer(ctx, natscontract.DispatchStream, natscontract.ConsumerName("mno-a"))
	for range 5 {
		time.Sleep(200 * time.Millisecond)
		ci, err := cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ci.NumPending != 10 || ci.NumAckPending != 0 {
			t.Fatalf("while paused: %d pending, %d taken; want 10 and 0", ci.NumPending, ci.NumAckPending)
		}
	}
	if n, s := sim.Stats().Sum("mno-a", "acme", "submit_sm", ""), len(sim.Sessions()); n != 0 || s != 1 {
		t.Fatalf("while paused: %d submit_sm, %d sessions; want 0 and the bind kept", n, s)
	}
	if _, err := ctlA.Resume(ctx, "mno-a"); err != nil {
		t.Fatal(err)
	}
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := sim.Stats().Sum("mno-a", "acme", "submit_sm", ""); n != 10 {
			return fmt.Errorf("%d of 10 sent after resuming", n)
		}
		return nil
	})

	// Rebind: the standby refuses and names the owner; the owner renews.
	if _, err := ctlB.Rebind(ctx, "mno-a"); err == nil || !strings.Contains(err.Error(), "replica-a") {
		t.Fatalf("rebind through the standby: %v, want a refusal naming replica-a", err)
	}
	binds := func() int {
		return len(sim.Recorder.Query(recorder.Filter{Operator: "mno-a", Command: "bind_transceiver"}))
	}
	before := binds()
	if _, err := ctlA.Rebind(ctx, "mno-a"); err != nil {
		t.Fatal(err)
	}
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := binds(); n != before+1 {
			return fmt.Errorf("%d binds after rebind, want %d", n, before+1)
		}
		return nil
	})
	if r, err := ctlA.FailBack(ctx, "mno-a"); err != nil || !strings.Contains(r.Message, "primary endpoint already") {
		t.Fatalf("failback on the primary: %+v, %v", r, err)
	}

	// Drain the owner: the standby takes mno-a over; undrained, a stands by.
	if _, err := ctlA.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	smpptest.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		if l, err := ctlB.List(ctx); err != nil || len(l.Operators) != 1 || !l.Operators[0].Owner {
			return fmt.Errorf("b not owning after a drained: %+v %v", l, err)
		}
		return nil
	})
	if l, err := ctlA.List(ctx); err != nil || !l.Drained || len(l.Operators) != 1 || l.Operators[0].Owner {
		t.Fatalf("a after draining: %+v, %v", l, err)
	}
	if _, err := ctlA.Undrain(ctx); err != nil {
		t.Fatal(err)
	}
	publish(t, js, "mno-a", "after", 5)
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := sim.Stats().Sum("mno-a", "acme", "submit_sm", ""); n != 15 {
			return fmt.Errorf("%d of 15 sent", n)
		}
		return nil
	})
	_ = b
}
