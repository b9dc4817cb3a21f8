// Command smppload is an SMPP 3.4 load generator that works against any SMSC.
//
//	smppload -addr 127.0.0.1:2775 -system-id test -password test -binds 2 -window 100 -n 100000
//
// It prints sent/accepted/rejected counts, submit/s, submit_sm_resp and receipt
// latency (or, with -json, one JSON object). Ctrl-C stops sending and still
// prints what was done.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/smpp-connector/smpp-connector/internal/logging"
	"github.com/smpp-connector/smpp-connector/smscsim/load"
)

func main() {
	var cfg load.Config
	fs := flag.NewFlagSet("smppload", flag.ExitOnError)
	load.RegisterFlags(fs, &cfg)
	verbose := fs.Bool("v", false, "log progress to stderr")
	_ = fs.Parse(os.Args[1:])

	level := "warn"
	if *verbose {
		level = "info"
	}
	logger, err := logging.New(os.Stderr, level, "text")
	if err != nil {
		fmt.Fprintln(os.Stderr, "smppload:", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := load.Run(ctx, cfg, logger)
	if res.Binds > 0 { // bound: report what was done, even on error
		if cfg.JSON {
			_ = res.PrintJSON(os.Stdout)
		} else {
			res.Print(os.Stdout)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "smppload:", err)
		if errors.Is(err, context.Canceled) {
			os.Exit(130)
		}
		os.Exit(1)
	}
}
