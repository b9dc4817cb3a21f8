package service

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
)

// versionOf names a configuration by what it says, not how it is written:
// comments and layout aside, the same operators give the same version, on
// every replica, from the file or from operator-management-service.
func versionOf(ops *config.File) string {
	b, err := json.Marshal(ops)
	if err != nil { // config.File is plain data: not expected
		return "unknown"
	}
	return configVersion(b)
}

// reloader applies each new operators configuration its source offers to the
// fleet, or refuses it as a whole (invalid, or the fleet cannot run it),
// logged with the reason, the running configuration kept.
type reloader struct {
	source string // where configurations come from, for the log
	fleet  *fleet
	m      *metrics.Metrics
	log    *slog.Logger

	mu          sync.Mutex // one offer at a time
	lastRefused string     // the digest of a refused configuration: logged and counted once

	// why, while the source's configuration is refused (readiness: its own
	// lock, never held across an apply)
	whyMu      sync.Mutex
	refusedWhy string
}

// problem says, while the source's configuration is refused, why and what
// runs instead ("" when it runs).
func (l *reloader) problem() string {
	l.whyMu.Lock()
	why := l.refusedWhy
	l.whyMu.Unlock()
	if why == "" {
		return ""
	}
	_, running := l.fleet.current()
	return "refused (" + why + "): version " + running + " keeps running"
}

func (l *reloader) setWhy(why string) {
	l.whyMu.Lock()
	l.refusedWhy = why
	l.whyMu.Unlock()
}

// offer applies next unless it is the configuration running, and reports
// whether it runs now.
func (l *reloader) offer(ctx context.Context, next *config.File) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	version := versionOf(next)
	if _, running := l.fleet.current(); version == running {
		l.acceptedLocked()
		return true
	}
	if err := l.fleet.apply(ctx, next, version); err != nil {
		if ctx.Err() == nil {
			// Offered again at the next poll: what refused it (Vault down
			// for a new operator's credential) may pass then.
			l.refuseLocked(version, err)
		}
		return false
	}
	l.acceptedLocked()
	l.m.ConfigReloads.WithLabelValues("applied").Inc()
	l.log.Info("operators configuration applied", "source", l.source, "version", version, "operators", len(next.Operators))
	return true
}

// accepted says that the source's configuration runs (again).
func (l *reloader) accepted() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acceptedLocked()
}

// refuse says that the source's configuration cannot be used (unreadable,
// invalid): the running one carries on.
func (l *reloader) refuse(what string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refuseLocked(what, err)
}

func (l *reloader) acceptedLocked() {
	l.lastRefused = ""
	l.setWhy("")
	l.m.ConfigRefused.Set(0)
}

// refuseLocked says why, once per refused content (a bad file stays bad
// between polls).
func (l *reloader) refuseLocked(what string, err error) {
	l.m.ConfigRefused.Set(1)
	l.setWhy(capped(err.Error(), 300))
	if what == l.lastRefused {
		return
	}
	l.lastRefused = what
	l.m.ConfigReloads.WithLabelValues("refused").Inc()
	_, running := l.fleet.current()
	l.log.Error("operators configuration refused: the running one carries on", "source", l.source,
		"running_version", running, "err", err)
}

// fileWatcher reads the operators file again every so often and offers it
// when its content changed. Polled, not watched: a Kubernetes ConfigMap
// volume changes by swapping a symlink, which inotify on the file misses,
// and reading a small file costs nothing.
type fileWatcher struct {
	path  string
	every time.Duration
	r     *reloader

	lastRead [sha256.Size]byte // the file's content last looked at
	running  [sha256.Size]byte // the content that runs: not parsed again while the file holds it
	invalid  bool              // lastRead did not parse (said once)
}

// run polls until ctx ends.
func (w *fileWatcher) run(ctx context.Context) {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.check(ctx)
	}
}

// check reads the file once and offers it if it changed: a content that
// runs, or that was invalid, is not parsed again; one the fleet refused
// (Vault down, say) is offered again at each poll.
func (w *fileWatcher) check(ctx context.Context) {
	b, err := os.ReadFile(w.path)
	if err != nil {
		// Being replaced, or gone: the running configuration carries on.
		exportSource(w.r.m, false, time.Time{}, false)
		w.lastRead = [sha256.Size]byte{}
		w.r.refuse("unreadable", err)
		return
	}
	exportSource(w.r.m, true, time.Now(), false)
	sum := sha256.Sum256(b)
	changed := sum != w.lastRead
	w.lastRead = sum
	switch {
	case sum == w.running:
		if changed { // back to what runs, after a refused content
			w.r.accepted()
		}
		return
	case !changed && w.invalid:
		return // invalid, said already
	}
	next, err := config.Parse(b)
	if w.invalid = err != nil; w.invalid {
		w.r.refuse(configVersion(b), err)
		return
	}
	if w.r.offer(ctx, next) {
		w.running = sum
	}
}

// capped shortens s to n bytes for a readiness body.
func capped(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
