package oms

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Load is the start: the service's configuration, or when the service
// cannot be used (unreachable, refused, an invalid answer) the last good one
// from disk, with FromDisk. It fails only when neither is there.
func (c *Client) Load(ctx context.Context) (Result, error) {
	res, err := c.Fetch(ctx)
	if err == nil {
		return res, nil
	}
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	disk, sum, derr := c.loadLastGood()
	if derr != nil {
		return Result{}, fmt.Errorf("%w\nand %w", err, derr)
	}
	c.setCurrent(disk, sum)
	c.recordFromDisk(disk)
	c.log.Warn("operator-management-service cannot be used at start: running the last good configuration from disk",
		"file", c.opts.CacheFile, "version", disk.Version, "operators", len(disk.File.Operators), "error", err)
	return disk, nil
}

// Poll asks the service every period (±10%, so that replicas spread out)
// until ctx ends, and calls apply with each configuration that changed.
// Failures are logged once each (an invalid answer at ERROR: refused whole,
// the running configuration stays), and the return of the service once.
// It returns ctx's error.
func (c *Client) Poll(ctx context.Context, every time.Duration, apply func(Result)) error {
	t := time.NewTimer(jitter(every))
	defer t.Stop()
	var failing string
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		res, err := c.Fetch(ctx)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			if err.Error() != failing {
				failing = err.Error()
				var e *Error
				if errors.As(err, &e) && e.Reason == ReasonInvalid {
					c.log.Error("operator-management-service: new configuration refused", "reason", e.Reason, "error", err)
				} else {
					c.log.Warn("operator-management-service: request failed, the configuration in force stays", "reason", reasonOf(err), "error", err)
				}
			}
		default:
			if failing != "" {
				failing = ""
				c.log.Info("operator-management-service answers again", "version", res.Version)
			}
			if res.Changed {
				c.log.Info("operator-management-service: new configuration", "version", res.Version, "operators", len(res.File.Operators))
				apply(res)
			}
		}
		t.Reset(jitter(every))
	}
}

func reasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ReasonUnreachable
}

// jitter is d ± 10%.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Second
	}
	return d - d/10 + rand.N(d/5+1)
}
