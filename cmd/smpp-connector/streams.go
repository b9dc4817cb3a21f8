package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
)

// streamsCommand is `smpp-connector streams`: it provisions the JetStream
// streams of the NATS contract (natscontract.Streams, with the names the
// SMPP_NATS_* settings give) for the deployment's streams Job, so that the
// connector runs with SMPP_NATS_CREATE_STREAMS off and never changes a
// stream itself.
//
// Unlike natscontract.EnsureStreams (CreateOrUpdateStream, fine for the
// connector's own test stacks) it never changes an existing stream unless
// told to: a stream that ops provisioned with other settings is reported,
// setting by setting, and the command fails so that the Job does, because a
// silent update could shorten a retention or a dedupe window someone chose.
// With -update it applies the contract's settings and keeps every other
// setting (replicas, limits, placement) as it is.
func streamsCommand(ctx context.Context, fs *flag.FlagSet, args []string, svc config.Service, stdout io.Writer) error {
	config.RegisterFlags(fs, &svc)
	update := fs.Bool("update", false, "give existing streams the contract's settings where they differ (other settings are kept)")
	replicas := fs.Int("replicas", 1, "replicas of each stream created (3 on a clustered NATS); existing streams keep theirs")
	timeout := fs.Duration("timeout", 30*time.Second, "bound on the whole run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("streams: unexpected argument %q", fs.Arg(0))
	}
	if svc.NATS.URL == "" {
		return errors.New("streams: no NATS: set -nats-url or SMPP_NATS_URL")
	}
	if *replicas < 1 {
		return fmt.Errorf("streams: -replicas %d: want at least 1", *replicas)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	// The URL may hold a user and password: errors show it redacted.
	where := config.RedactDSN(svc.NATS.URL)
	nc, err := nats.Connect(svc.NATS.URL, nats.Name("smpp-connector streams"), nats.Timeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("streams: nats %s: %w", where, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("streams: jetstream at %s: %w", where, err)
	}
	var differ, conflicts int
	for _, want := range natscontract.Streams(svc.NATS.Names) {
		want.Replicas = *replicas
		r := provisionStream(ctx, js, want, *update)
		fmt.Fprintf(stdout, "stream %-16s %-8s %s\n", want.Name, r.status, r.detail)
		switch r.status {
		case streamDiffers:
			differ++
		case streamConflict, streamFailed:
			conflicts++
		}
	}
	var problems []string
	if differ > 0 {
		problems = append(problems, fmt.Sprintf("%d stream(s) differ from the contract and were not changed (run with -update to apply it)", differ))
	}
	if conflicts > 0 {
		problems = append(problems, fmt.Sprintf("%d stream(s) could not be provisioned", conflicts))
	}
	if len(problems) > 0 {
		return fmt.Errorf("streams at %s: %s", where, strings.Join(problems, "; "))
	}
	return nil
}

// Outcomes of one stream.
const (
	streamCreated  = "created"
	streamOK       = "ok"
	streamUpdated  = "updated"
	streamDiffers  = "DIFFERS"
	streamConflict = "CONFLICT"
	streamFailed   = "FAILED"
)

type streamResult struct{ status, detail string }

// provisionStream creates the stream when no stream of its name exists (and
// no other stream captures its subjects), else compares it with the
// contract and, with update, applies the contract's settings.
func provisionStream(ctx context.Context, js jetstream.JetStream, want jetstream.StreamConfig, update bool) streamResult {
	s, err := js.Stream(ctx, want.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return createStream(ctx, js, want)
	}
	if err != nil {
		return streamResult{streamFailed, "look it up: " + err.Error()}
	}
	have := s.CachedInfo().Config
	diffs := contractDiffs(have, want)
	if len(diffs) == 0 {
		return streamResult{streamOK, "as the contract says (" + describe(have) + ")"}
	}
	if !update {
		parts := make([]string, len(diffs))
		for i, d := range diffs {
			parts[i] = fmt.Sprintf("%s %s, contract %s", d.setting, d.have, d.want)
		}
		return streamResult{streamDiffers, strings.Join(parts, "; ") + ": not changed (run with -update to apply the contract)"}
	}
	next := have
	applyContract(&next, want)
	if _, err := js.UpdateStream(ctx, next); err != nil {
		return streamResult{streamFailed, "update refused: " + err.Error() + " (storage cannot change: recreate the stream)"}
	}
	parts := make([]string, len(diffs))
	for i, d := range diffs {
		parts[i] = fmt.Sprintf("%s %s -> %s", d.setting, d.have, d.want)
	}
	return streamResult{streamUpdated, strings.Join(parts, "; ")}
}

// createStream creates want unless another stream already captures one of
// its subjects: JetStream would refuse the overlap with a terse error, and
// the connector finds its streams by name, so the operator must either name
// that stream in the SMPP_NATS_*_STREAM settings or remove it.
func createStream(ctx context.Context, js jetstream.JetStream, want jetstream.StreamConfig) streamResult {
	for _, subject := range want.Subjects {
		other, err := js.StreamNameBySubject(ctx, subject)
		if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return streamResult{streamFailed, fmt.Sprintf("look up the stream of %s: %v", subject, err)}
		}
		if err == nil && other != "" && other != want.Name {
			return streamResult{streamConflict, fmt.Sprintf("subject %s is captured by stream %s: not created "+
				"(name that stream in the SMPP_NATS_*_STREAM setting, or remove it)", subject, other)}
		}
	}
	if _, err := js.CreateStream(ctx, want); err != nil {
		return streamResult{streamFailed, "create: " + err.Error()}
	}
	return streamResult{streamCreated, describe(want)}
}

// streamDiff is one contract setting that an existing stream has otherwise.
type streamDiff struct{ setting, have, want string }

// contractDiffs compares the settings the contract names (natscontract.Streams):
// subjects, storage, retention, dedupe window and age. Replicas and limits
// are ops' to choose.
func contractDiffs(have, want jetstream.StreamConfig) []streamDiff {
	var d []streamDiff
	hs, ws := slices.Sorted(slices.Values(have.Subjects)), slices.Sorted(slices.Values(want.Subjects))
	if !slices.Equal(hs, ws) {
		d = append(d, streamDiff{"subjects", "[" + strings.Join(hs, " ") + "]", "[" + strings.Join(ws, " ") + "]"})
	}
	if have.Storage != want.Storage {
		d = append(d, streamDiff{"storage", have.Storage.String(), want.Storage.String()})
	}
	if have.Retention != want.Retention {
		d = append(d, streamDiff{"retention", have.Retention.String(), want.Retention.String()})
	}
	if have.Duplicates != want.Duplicates {
		d = append(d, streamDiff{"duplicates", have.Duplicates.String(), want.Duplicates.String()})
	}
	if have.MaxAge != want.MaxAge {
		d = append(d, streamDiff{"max age", have.MaxAge.String(), want.MaxAge.String()})
	}
	return d
}

// applyContract sets the settings contractDiffs compares.
func applyContract(c *jetstream.StreamConfig, want jetstream.StreamConfig) {
	c.Subjects, c.Storage, c.Retention = want.Subjects, want.Storage, want.Retention
	c.Duplicates, c.MaxAge = want.Duplicates, want.MaxAge
}

func describe(c jetstream.StreamConfig) string {
	return fmt.Sprintf("subjects %s, %s storage, %s retention, duplicates %s, max age %s, replicas %d",
		strings.Join(c.Subjects, " "), c.Storage, c.Retention, c.Duplicates, c.MaxAge, max(c.Replicas, 1))
}
