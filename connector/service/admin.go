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
// (watchPauses), and applies it here at once.
func (a *fleetAdmin) Pause(ctx context.Context, id, reason, by string) error {
	r, err := a.runner(id)
	if err != nil {
		return err
	}
	if by == "" {
		by = "admin API"
	}
	if err := a.st.PauseOperator(ctx, id, reason, by); err != nil {
		return err
	}
	r.SetPaused(true)
	return nil
}

// Resume deletes the pause and applies it here at once.
func (a *fleetAdmin) Resume(ctx context.Context, id string) (bool, error) {
	r, err := a.runner(id)
	if err != nil {
		return false, err
	}
	was, err := a.st.ResumeOperator(ctx, id)
	if err != nil {
		return false, err
	}
	r.SetPaused(false)
	return was, nil
}

// notOwner names the replica to ask instead.
func (a *fleetAdmin) notOwner(ctx context.Context, id string) error {
	h, _ := a.f.leaseOf(id).Holder(ctx)
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

// watchPauses applies the pauses recorded in PostgreSQL to this replica's
// runners every poll until ctx ends: a pause made through any replica, or
// before this one started, holds here too.
func watchPauses(ctx context.Context, f *fleet, st *store.Store, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		ps, err := st.Pauses(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			failing = true
			f.log.Warn("cannot read the paused operators: pauses stay as they were", "err", err)
		case err == nil:
			if failing {
				failing = false
				f.log.Info("paused operators read again")
			}
			for _, r := range f.runnerList() {
				_, paused := ps[r.ID()]
				r.SetPaused(paused)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
