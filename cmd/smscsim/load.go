package main

import (
	"context"
	"fmt"

	"github.com/smpp-connector/smpp-connector/internal/logging"
	"github.com/smpp-connector/smpp-connector/smscsim/load"
)

// load runs the SMPP load generator (package smscsim/load) against any SMSC.
func (a *app) load(ctx context.Context, args []string) error {
	var cfg load.Config
	fs := a.flagSet("load", "smscsim load [flags]: SMPP load generator; opens binds, sends submit_sm, reports throughput and latency")
	load.RegisterFlags(fs, &cfg)
	verbose := fs.Bool("v", false, "log progress to stderr")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		fs.Usage()
		return fmt.Errorf("load: unexpected argument %q", pos[0])
	}
	level := "warn"
	if *verbose {
		level = "info"
	}
	logger, err := logging.New(a.stderr, level, "text")
	if err != nil {
		return err
	}
	res, err := load.Run(ctx, cfg, logger)
	if res.Binds > 0 { // bound: report what was done, even on error
		if cfg.JSON {
			if perr := res.PrintJSON(a.stdout); perr != nil && err == nil {
				err = perr
			}
		} else {
			res.Print(a.stdout)
		}
	}
	return err
}
