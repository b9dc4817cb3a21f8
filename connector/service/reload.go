package service

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"log/slog"
	"os"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
)

// versionOf names a configuration by what it says, not how it is written:
// comments and layout aside, the same operators give the same version, on
// every replica.
func versionOf(ops *config.File) string {
	b, err := json.Marshal(ops)
	if err != nil { // config.File is plain data: not expected
		return "unknown"
	}
	return configVersion(b)
}

// reloader reads the operators file again every so often and applies a
// changed one to the fleet, or refuses it as a whole (invalid, or the fleet
// cannot run it), logged with the reason, the running configuration kept.
type reloader struct {
	path  string
	every time.Duration
	fleet *fleet
	m     *metrics.Metrics
	log   *slog.Logger

	lastRead    [sha256.Size]byte // the file's content last looked at
	lastReadOK  bool              // and it runs
	lastRefused string            // a refused content's digest, logged and counted once
}

// run polls until ctx ends.
func (l *reloader) run(ctx context.Context) {
	t := time.NewTicker(l.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l.check(ctx)
	}
}

// check reads the file once and applies it if it changed.
func (l *reloader) check(ctx context.Context) {
	b, err := os.ReadFile(l.path)
	if err != nil {
		// Being replaced (a ConfigMap's symlink swap) or gone: the running
		// configuration carries on; said once per failure spell.
		l.refuse("unreadable", err)
		return
	}
	sum := sha256.Sum256(b)
	if sum == l.lastRead {
		if l.lastReadOK {
			l.accepted(sum)
		}
		return
	}
	next, err := config.Parse(b)
	if err != nil {
		l.lastRead, l.lastReadOK = sum, false
		l.refuse(configVersion(b), err)
		return
	}
	version := versionOf(next)
	if _, running := l.fleet.current(); version == running {
		l.accepted(sum)
		return
	}
	if err := l.fleet.apply(ctx, next, version); err != nil {
		if ctx.Err() != nil {
			return
		}
		// Not remembered as read: what refused it (Vault down for a new
		// operator's credential) may pass at the next poll.
		l.refuse(version, err)
		return
	}
	l.accepted(sum)
	l.m.ConfigReloads.WithLabelValues("applied").Inc()
	l.log.Info("operators configuration applied", "file", l.path, "version", version, "operators", len(next.Operators))
}

// accepted records that the file as read runs.
func (l *reloader) accepted(sum [sha256.Size]byte) {
	l.lastRead, l.lastReadOK, l.lastRefused = sum, true, ""
	l.m.ConfigRefused.Set(0)
}

// refuse keeps the running configuration and says why, once per refused
// content (a bad file stays bad between polls).
func (l *reloader) refuse(what string, err error) {
	l.m.ConfigRefused.Set(1)
	if what == l.lastRefused {
		return
	}
	l.lastRefused = what
	l.m.ConfigReloads.WithLabelValues("refused").Inc()
	_, running := l.fleet.current()
	l.log.Error("operators file refused: the running configuration carries on", "file", l.path,
		"running_version", running, "err", err)
}
