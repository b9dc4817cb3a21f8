package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/admin"
	"github.com/smpp-connector/smpp-connector/connector/operator"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// fleetAdmin is the admin API's view of the fleet (connector/admin.Fleet).
type fleetAdmin struct {
	f       *fleet
	st      *store.Store
	replica string
}

var _ admin.Fleet = (*fleetAdmin)(nil)

func replicaName() string {
	h, _ := os.Hostname()
	return h
}

func (a *fleetAdmin) runner(id string) (*operator.Runner, error) {
	a.f.mu.Lock()
	defer a.f.mu.Unlock()
	fr, ok := a.f.runners[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", admin.ErrUnknownOperator, id)
	}
	return fr.r, nil
}

// List lists this replica's operators: settings, pause, binds, and who owns
// each (the lease's holder, asked of PostgreSQL).
func (a *fleetAdmin) List(ctx context.Context) (admin.Listing, error) {
	pauses, err := a.st.Pauses(ctx)
	if err != nil {
		return admin.Listing{}, err
	}
	_, version := a.f.current()
	a.f.mu.Lock()
	drained := a.f.drained
	a.f.mu.Unlock()
	l := admin.Listing{Replica: a.replica, Drained: drained, Operators: []admin.Operator{}}
	for _, r := range a.f.runnerList() {
		oc := r.Settings()
		o := admin.Operator{ID: r.ID(), Owner: r.Owner(), ConfigVersion: version, TPS: oc.TPS, Window: oc.Window,
			Binds: []admin.Bind{}, CheckedAt: time.Now().UTC()}
		if p, ok := pauses[r.ID()]; ok {
			o.Paused = &admin.Pause{Reason: p.Reason, By: p.By, Since: p.Since}
		}
		if o.Holder, err = a.f.leaseOf(r.ID()).Holder(ctx); err != nil {
			o.Holder = "unknown: " + err.Error()
		}
		for _, b := range r.Binds() {
			o.Binds = append(o.Binds, admin.Bind(b))
		}
		l.Operators = append(l.Operators, o)
	}
	return l, nil
}

// Pause records the pause in PostgreSQL, where every replica reads it
// (watchPauses), and applies it here at once; the pause lock keeps a read
// of the table taken before it from undoing it.
func (a *fleetAdmin) Pause(ctx context.Context, id, reason, by string) error {
	r, err := a.runner(id)
	if err != nil {
		return err
	}
	if by == "" {
		by = "admin API"
	}
	a.f.pauseMu.Lock()
	defer a.f.pauseMu.Unlock()
	if err := a.st.PauseOperator(ctx, id, reason, by); err != nil {
		return err
	}
	a.f.setPause(id, &store.Pause{Operator: id, Reason: reason, By: by, Since: time.Now()})
	r.SetPaused(true)
	return nil
}

// Resume deletes the pause and applies it here at once. An operator this
// replica does not run (removed from the configuration while paused) can
// be resumed too: its pause would otherwise stay for ever.
func (a *fleetAdmin) Resume(ctx context.Context, id string) (bool, error) {
	a.f.pauseMu.Lock()
	defer a.f.pauseMu.Unlock()
	was, err := a.st.ResumeOperator(ctx, id)
	if err != nil {
		return false, err
	}
	a.f.setPause(id, nil)
	if r, err := a.runner(id); err == nil {
		r.SetPaused(false)
	} else if !was {
		return false, err
	}
	return was, nil
}

// notOwner names the replica to ask instead.
func (a *fleetAdmin) notOwner(ctx context.Context, id string) error {
	h, err := a.f.leaseOf(id).Holder(ctx)
	if err != nil {
		h = "(unknown: " + err.Error() + ")"
	}
	return &admin.NotOwner{Holder: h}
}

func (a *fleetAdmin) Rebind(ctx context.Context, id string) error {
	r, err := a.runner(id)
	if err != nil {
		return err
	}
	if err := r.Rebind(); errors.Is(err, operator.ErrNotOwner) {
		return a.notOwner(ctx, id)
	} else if err != nil {
		return err
	}
	return nil
}

func (a *fleetAdmin) FailBack(ctx context.Context, id string) (bool, error) {
	r, err := a.runner(id)
	if err != nil {
		return false, err
	}
	moved, err := r.FailBack()
	if errors.Is(err, operator.ErrNotOwner) {
		return false, a.notOwner(ctx, id)
	}
	return moved, err
}

func (a *fleetAdmin) Drain(ctx context.Context) error   { return a.f.drain(ctx) }
func (a *fleetAdmin) Undrain(ctx context.Context) error { return a.f.undrain(ctx) }

// loadPauses reads the pause table and applies it to the runners: once
// before they start (a paused operator must not send after a restart: an
// error stops the start-up), then every poll (watchPauses).
func (f *fleet) loadPauses(ctx context.Context, st *store.Store) error {
	f.pauseMu.Lock()
	defer f.pauseMu.Unlock()
	ps, err := st.Pauses(ctx)
	if err != nil {
		return err
	}
	f.pausesMu.Lock()
	f.pauses = ps
	f.pausesMu.Unlock()
	for _, r := range f.runnerList() {
		_, paused := ps[r.ID()]
		r.SetPaused(paused)
	}
	return nil
}

// watchPauses applies the pauses recorded in PostgreSQL to this replica's
// runners every poll until ctx ends: a pause made through any replica, or
// before this one started, holds here too. A failed read changes nothing.
func watchPauses(ctx context.Context, f *fleet, st *store.Store, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := f.loadPauses(ctx, st)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			failing = true
			f.log.Warn("cannot read the paused operators: pauses stay as they were", "err", err)
		case err == nil && failing:
			failing = false
			f.log.Info("paused operators read again")
		}
	}
}
