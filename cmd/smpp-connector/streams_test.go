package main

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

// runStreams runs `smpp-connector streams` with extra arguments and returns
// its output and error.
func runStreams(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errs bytes.Buffer
	err := run(context.Background(), append([]string{"streams"}, args...), &out, &errs)
	return out.String() + errs.String(), err
}

// contractConfig is the contract's settings of one stream.
func contractConfig(t *testing.T, name string) jetstream.StreamConfig {
	t.Helper()
	for _, s := range natscontract.Streams(natscontract.DefaultNames()) {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no stream %s in the contract", name)
	return jetstream.StreamConfig{}
}

func streamConfig(t *testing.T, js jetstream.JetStream, name string) jetstream.StreamConfig {
	t.Helper()
	s, err := js.Stream(context.Background(), name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	return s.CachedInfo().Config
}

// The Job's case: a fresh NATS gets the contract's three streams, and a
// second run (the Job applied again) finds them and changes nothing. The
// URL comes from SMPP_NATS_URL, as the Job sets it.
func TestStreamsCreatesThenFinds(t *testing.T) {
	srv, js := testenv.JetStream(t)
	t.Setenv("SMPP_NATS_URL", srv.URL())
	out, err := runStreams(t)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range natscontract.Streams(natscontract.DefaultNames()) {
		if !regexpLine(out, want.Name, "created") {
			t.Errorf("no line saying %s was created:\n%s", want.Name, out)
		}
		got := streamConfig(t, js, want.Name)
		if !slices.Equal(got.Subjects, want.Subjects) || got.Duplicates != want.Duplicates ||
			got.MaxAge != want.MaxAge || got.Storage != want.Storage || got.Retention != want.Retention {
			t.Errorf("stream %s: %+v, want the contract's %+v", want.Name, got, want)
		}
	}
	before := streamConfig(t, js, natscontract.EventsStream)
	out, err = runStreams(t)
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	for _, s := range natscontract.Streams(natscontract.DefaultNames()) {
		if !regexpLine(out, s.Name, "ok") {
			t.Errorf("second run: no line saying %s is as the contract says:\n%s", s.Name, out)
		}
	}
	if strings.Contains(out, "created") {
		t.Errorf("second run created something:\n%s", out)
	}
	if after := streamConfig(t, js, natscontract.EventsStream); !reflect.DeepEqual(before, after) {
		t.Errorf("second run changed %s: %+v -> %+v", natscontract.EventsStream, before, after)
	}
}

// A stream that exists with settings other than the contract's is reported,
// naming the setting, its value and the contract's, and left as it is; the
// command fails, so the Job does. With -update it takes the contract's
// settings and keeps those the contract does not name (set by ops).
func TestStreamsReportsDriftAndUpdatesOnlyWhenTold(t *testing.T) {
	srv, js := testenv.JetStream(t)
	ctx := context.Background()
	drifted := contractConfig(t, natscontract.EventsStream)
	drifted.Duplicates, drifted.MaxAge = time.Minute, 24*time.Hour
	drifted.Description = "provisioned by ops"
	drifted.MaxBytes = 1 << 30
	if _, err := js.CreateStream(ctx, drifted); err != nil {
		t.Fatal(err)
	}
	out, err := runStreams(t, "-nats-url", srv.URL())
	if err == nil || !strings.Contains(err.Error(), "differ") {
		t.Fatalf("want an error saying a stream differs, got %v\n%s", err, out)
	}
	for _, want := range []string{natscontract.EventsStream, "duplicates 1m0s", "contract 2m0s", "max age 24h0m0s", "contract 168h0m0s", "-update"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report does not say %q:\n%s", want, out)
		}
	}
	if got := streamConfig(t, js, natscontract.EventsStream); got.Duplicates != time.Minute || got.MaxAge != 24*time.Hour {
		t.Fatalf("the drifted stream was changed without -update: %+v", got)
	}
	// The others are created all the same: one stream's drift does not
	// hold the rest back.
	for _, name := range []string{natscontract.DispatchStream, natscontract.ReceiptStream} {
		streamConfig(t, js, name)
	}

	out, err = runStreams(t, "-nats-url", srv.URL(), "-update")
	if err != nil {
		t.Fatalf("-update: %v\n%s", err, out)
	}
	if !regexpLine(out, natscontract.EventsStream, "updated") || !strings.Contains(out, "duplicates 1m0s -> 2m0s") {
		t.Errorf("-update does not say what it changed:\n%s", out)
	}
	got := streamConfig(t, js, natscontract.EventsStream)
	if got.Duplicates != natscontract.DuplicateWindow || got.MaxAge != natscontract.MaxAge {
		t.Errorf("after -update: duplicates %s, max age %s", got.Duplicates, got.MaxAge)
	}
	if got.Description != "provisioned by ops" || got.MaxBytes != 1<<30 {
		t.Errorf("-update dropped settings the contract does not name: %+v", got)
	}
	if out, err := runStreams(t, "-nats-url", srv.URL()); err != nil {
		t.Fatalf("after -update: %v\n%s", err, out)
	}
}

// A stream of another name that already captures a contract subject is a
// conflict: JetStream would refuse the contract's stream, and the connector
// looks its streams up by name. It is reported with both names; nothing is
// created in its place.
func TestStreamsReportsSubjectTakenByAnotherStream(t *testing.T) {
	srv, js := testenv.JetStream(t)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "OPS_DLR", Subjects: []string{natscontract.ReceiptSubject}}); err != nil {
		t.Fatal(err)
	}
	out, err := runStreams(t, "-nats-url", srv.URL())
	if err == nil {
		t.Fatalf("want an error, got none:\n%s", out)
	}
	for _, want := range []string{natscontract.ReceiptStream, "OPS_DLR", natscontract.ReceiptSubject} {
		if !strings.Contains(out, want) {
			t.Errorf("the report does not name %q:\n%s", want, out)
		}
	}
	if _, err := js.Stream(ctx, natscontract.ReceiptStream); err == nil {
		t.Error("a second stream for the receipt subject was created")
	}
	streamConfig(t, js, natscontract.DispatchStream)
}

// A NATS that cannot be reached fails at once, naming the URL; so do
// arguments the command does not take.
func TestStreamsErrors(t *testing.T) {
	out, err := runStreams(t, "-nats-url", "nats://127.0.0.1:1")
	if err == nil || !strings.Contains(err.Error(), "nats://127.0.0.1:1") {
		t.Fatalf("unreachable NATS: %v\n%s", err, out)
	}
	if _, err := runStreams(t, "extra"); err == nil || !strings.Contains(err.Error(), `unexpected argument "extra"`) {
		t.Fatalf("extra argument: %v", err)
	}
}

// -replicas reaches JetStream: a single server refuses three replicas, and
// the report names the stream and says why.
func TestStreamsReplicas(t *testing.T) {
	srv, _ := testenv.JetStream(t)
	out, err := runStreams(t, "-nats-url", srv.URL(), "-replicas", "3")
	if err == nil || !regexpLine(out, natscontract.DispatchStream, "FAILED") || !strings.Contains(out, "replicas") {
		t.Fatalf("want each stream refused for its replicas, got %v\n%s", err, out)
	}
	if _, err := runStreams(t, "-nats-url", srv.URL(), "-replicas", "0"); err == nil || !strings.Contains(err.Error(), "-replicas 0") {
		t.Fatalf("-replicas 0: %v", err)
	}
}

// regexpLine reports whether a line of out names the stream and the word.
func regexpLine(out, stream, word string) bool {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if slices.Contains(f, stream) && slices.Contains(f, word) {
			return true
		}
	}
	return false
}
