// Command smscsim runs the SMPP 3.4 SMSC simulator and steers it through its
// control API.
//
//	smscsim serve                                   # demo operator on 127.0.0.1:2775 (test/test), API on 127.0.0.1:8775
//	smscsim faults add --type throttle --params '{"tps":10}'
//	smscsim mo --from 447700900001 --to ACME --text STOP
//	smscsim pdus --command submit_sm
//	smscsim load --system-id test --password test -n 10000
//
// Run "smscsim help" for every command.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/smpp-connector/smpp-connector/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal kills at once
	}()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "smscsim:", err)
		if errors.Is(err, context.Canceled) {
			os.Exit(130)
		}
		os.Exit(1)
	}
}

// app carries the streams, so that tests can run commands in process.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing command")
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "serve":
		err = a.serve(ctx, rest)
	case "operators":
		err = a.operators(ctx, rest)
	case "faults":
		err = a.faults(ctx, rest)
	case "mo":
		err = a.mo(ctx, rest)
	case "stats":
		err = a.stats(ctx, rest)
	case "meter":
		err = a.meter(ctx, rest)
	case "pdus":
		err = a.pdus(ctx, rest)
	case "reset":
		err = a.reset(ctx, rest)
	case "scenario":
		err = a.scenario(ctx, rest)
	case "load":
		err = a.load(ctx, rest)
	case "replay":
		err = a.replay(rest)
	case "version":
		fmt.Fprintln(stdout, version.Get().String("smscsim"))
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

const usage = `smscsim: a programmable SMPP 3.4 SMSC simulator

Usage:
  smscsim serve [--config FILE] [--control ADDR] [--token T] [--seed N] [--scenario FILE]
                [--log-format text|json] [--log-level LEVEL]
  smscsim operators
  smscsim faults list | types
  smscsim faults add --type T [--name N] [--probability P] [--operator O] [--account A]
                     [--dest-prefix P] [--command C] [--params JSON]
  smscsim faults add -f spec.json        (- reads standard input)
  smscsim faults remove NAME
  smscsim mo [--operator O] [--account A] --from X --to Y --text T [--encoding gsm7|ucs2|latin1|auto]
             [--segmentation udh8|udh16|sar|payload]
  smscsim stats
  smscsim meter [--account OPERATOR/ACCOUNT]
  smscsim pdus [--operator O] [--account A] [--command C] [--dest-prefix P] [--since T] [--until T]
               [--after-seq N] [--limit N] [--jsonl]
  smscsim reset
  smscsim scenario load FILE [--replace] | status | stop
  smscsim load [load flags]              SMPP load generator; "smscsim load -h" lists its flags
  smscsim replay -in capture.pcapng [-smsc-port 2775] [-speed 1] [-operator O] -out scenario.yaml
                                         a recorded session (pcap, pcapng, pdus --jsonl) as a scenario
  smscsim version                        version, commit, build date and Go version

serve reads two addresses from the environment when its flags are not given (the image
sets both to all interfaces; on a laptop they stay on loopback):
  SMSCSIM_CONTROL       control API listen address (default 127.0.0.1:8775)
  SMSCSIM_DEMO_LISTEN   the demo operator's SMPP address when there is no --config (default 127.0.0.1:2775)

Commands that call the control API take:
  --api URL     control API (default $SMSCSIM_API, else http://127.0.0.1:8775)
  --token T     bearer token (default $SMSCSIM_TOKEN)
  --json        print JSON instead of tables
  --timeout D   request timeout (default 10s)
`
