package natscontract_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

func jetStream(t *testing.T) jetstream.JetStream {
	_, js := testenv.JetStream(t)
	return js
}

func TestSubjects(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{natscontract.DispatchSubjectFor("mno-a"), "smpp.operator.mno-a"},
		{natscontract.OutcomeSubjectFor("mno-a"), "smpp.outcome.mno-a"},
		{natscontract.DeadLetterSubjectFor("mno-a"), "smpp.deadletter.mno-a"},
		{natscontract.For("x.{id}.{operatorId}", "b"), "x.b.b"},
		{natscontract.Wildcard(natscontract.OutcomeSubject), "smpp.outcome.*"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// Every stream of the contract drops repeated event ids for the same window
// and keeps a week, whoever provisions it: the connector (EnsureStreams) or
// the test fixtures (ProvisionMissing).
func TestProvisioningWaysAgree(t *testing.T) {
	ctx := context.Background()
	names := natscontract.DefaultNames()
	for _, provision := range []struct {
		name string
		run  func(jetstream.JetStream) error
	}{
		{"EnsureStreams", func(js jetstream.JetStream) error { return natscontract.EnsureStreams(ctx, js, names) }},
		{"ProvisionMissing", func(js jetstream.JetStream) error {
			_, err := natscontract.ProvisionMissing(ctx, js, names)
			return err
		}},
	} {
		t.Run(provision.name, func(t *testing.T) {
			js := jetStream(t)
			if err := provision.run(js); err != nil {
				t.Fatal(err)
			}
			for _, want := range natscontract.Streams(names) {
				s, err := js.Stream(ctx, want.Name)
				if err != nil {
					t.Fatalf("stream %s: %v", want.Name, err)
				}
				got := s.CachedInfo().Config
				if !slices.Equal(got.Subjects, want.Subjects) || got.Duplicates != natscontract.DuplicateWindow ||
					got.MaxAge != natscontract.MaxAge || got.Storage != jetstream.FileStorage {
					t.Errorf("stream %s: %+v", want.Name, got)
				}
			}
		})
	}
}

// A stream that ops provisioned for a subject is used as it is: the
// fixtures create only what is missing, and say what they created.
func TestProvisionMissingKeepsWhatExists(t *testing.T) {
	ctx := context.Background()
	js := jetStream(t)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "OPS_DLR", Subjects: []string{natscontract.ReceiptSubject}}); err != nil {
		t.Fatal(err)
	}
	created, err := natscontract.ProvisionMissing(ctx, js, natscontract.DefaultNames())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{natscontract.DispatchStream, natscontract.EventsStream}; !slices.Equal(created, want) {
		t.Fatalf("created %v, want %v", created, want)
	}
	if _, err := js.Stream(ctx, natscontract.ReceiptStream); err == nil {
		t.Fatalf("a second stream for %s was created", natscontract.ReceiptSubject)
	}
	again, err := natscontract.ProvisionMissing(ctx, js, natscontract.DefaultNames())
	if err != nil || len(again) != 0 {
		t.Fatalf("second provisioning created %v (%v)", again, err)
	}
}

func TestDispatchConsumer(t *testing.T) {
	c := natscontract.DispatchConsumer(natscontract.DefaultNames(), "mno-a", 20*time.Second, 64)
	if c.Durable != natscontract.ConsumerName("mno-a") || c.FilterSubject != "smpp.operator.mno-a" ||
		c.AckPolicy != jetstream.AckExplicitPolicy || c.AckWait != 20*time.Second || c.MaxAckPending != 64 || c.MaxDeliver != -1 {
		t.Fatalf("%+v", c)
	}
}

// A consumer created by an older release with a 60 s ack wait takes the
// shorter one when the connector starts: CreateOrUpdateConsumer updates it in
// place, keeping its pending commands.
func TestDispatchConsumerAckWaitIsUpdated(t *testing.T) {
	js := jetStream(t)
	ctx := context.Background()
	if _, err := natscontract.ProvisionMissing(ctx, js, natscontract.DefaultNames()); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, natscontract.DispatchStream,
		natscontract.DispatchConsumer(natscontract.DefaultNames(), "mno-a", time.Minute, 64)); err != nil {
		t.Fatal(err)
	}
	c, err := js.CreateOrUpdateConsumer(ctx, natscontract.DispatchStream,
		natscontract.DispatchConsumer(natscontract.DefaultNames(), "mno-a", 10*time.Second, 64))
	if err != nil {
		t.Fatalf("update from 60s to 10s: %v", err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.AckWait != 10*time.Second {
		t.Fatalf("ack wait after the update: %v, want 10s", info.Config.AckWait)
	}
}
