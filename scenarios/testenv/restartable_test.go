package testenv

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A Restartable NATS killed with SIGKILL comes back at the same URL with the
// streams it had stored: what the fault matrix relies on.
func TestRestartableNATSKeepsItsDataAndAddress(t *testing.T) {
	if os.Getenv(EnvProvider) == ProviderExternal {
		t.Skip("SMPP_TEST_ENV=external: no Docker expected")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, url, err := StartRestartableNATS(ctx, NewSessionID())
	defer func() {
		if err := r.Remove(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	if err != nil {
		t.Fatal(err)
	}
	publish := func() uint64 {
		nc, err := nats.Connect(url)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "KEEP", Subjects: []string{"keep"}, Storage: jetstream.FileStorage})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, "keep", []byte("x")); err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}
	if n := publish(); n != 1 {
		t.Fatalf("stream holds %d messages, want 1", n)
	}
	if err := r.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := nats.Connect(url, nats.Timeout(time.Second)); err == nil {
		t.Fatal("NATS still answers after the kill")
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if n := publish(); n != 2 {
		t.Fatalf("after the restart the stream holds %d messages, want 2 (the first one kept)", n)
	}
}
