// Command kannelload is the Kannel side of the side-by-side benchmark
// (bench/kannel/compare.sh): it submits messages through smsbox's sendsms
// HTTP interface, receives the DLR callbacks on its own HTTP listener, and
// measures throughput, callback latency and the CPU of bearerbox and smsbox.
// It also waits for Kannel to be ready and prints the comparison table.
//
//	kannelload wait  -status URL                      # until the SMSC is online and an smsbox connected
//	kannelload run   -sendsms URL -pid bearerbox=PID -pid smsbox=PID [-n 20000] [-rate 0] > result.json
//	kannelload table -dir RESULTS                     # Kannel's and our figures, pair by pair
//
// It is an optional tool, not part of `make test` or CI.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "kannelload:", err)
		os.Exit(1)
	}
}

const usage = `kannelload: the Kannel side of bench/kannel/compare.sh
  kannelload wait  -status URL [-timeout 60s]
  kannelload run   -sendsms URL -user U -pass P -pid NAME=PID ... [-n N] [-rate R] [-concurrency C]
  kannelload table -dir RESULTS
`

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing command")
	}
	switch args[0] {
	case "wait":
		return cmdWait(ctx, args[1:], stderr)
	case "run":
		return cmdRun(ctx, args[1:], stdout, stderr)
	case "table":
		return cmdTable(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// pidFlags collects repeated -pid name=PID.
type pidFlags []namedPID

type namedPID struct {
	name string
	pid  int
}

func (p *pidFlags) String() string { return fmt.Sprint(*p) }

func (p *pidFlags) Set(v string) error {
	name, num, ok := strings.Cut(v, "=")
	pid, err := strconv.Atoi(num)
	if !ok || name == "" || err != nil || pid <= 0 {
		return fmt.Errorf("want NAME=PID, got %q", v)
	}
	*p = append(*p, namedPID{name, pid})
	return nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg runConfig
	var pids pidFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.SendSMS, "sendsms", "http://127.0.0.1:13013/cgi-bin/sendsms", "smsbox's sendsms URL")
	fs.StringVar(&cfg.User, "user", "bench", "sendsms-user username")
	fs.StringVar(&cfg.Pass, "pass", "bench", "sendsms-user password")
	fs.StringVar(&cfg.From, "from", "ACME", "sender")
	fs.StringVar(&cfg.To, "to", "447700900123", "receiver")
	fs.StringVar(&cfg.Text, "text", "benchmark", "message text")
	fs.IntVar(&cfg.N, "n", 20000, "messages")
	fs.IntVar(&cfg.Concurrency, "concurrency", 100, "concurrent sendsms HTTP clients")
	fs.Float64Var(&cfg.Rate, "rate", 0, "requests per second (0: as fast as the clients go)")
	fs.IntVar(&cfg.DLRMask, "dlr-mask", 19, "Kannel dlr-mask (19 = 1 delivered + 2 undelivered + 16 rejected by the SMSC: final states only)")
	fs.StringVar(&cfg.DLRListen, "dlr-listen", "127.0.0.1:0", "address of the DLR callback receiver")
	fs.DurationVar(&cfg.Idle, "idle", 30*time.Second, "give up after this long without a new DLR")
	fs.Var(&pids, "pid", "NAME=PID of a process whose CPU is counted (repeat: bearerbox, smsbox)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.N <= 0 || cfg.Concurrency <= 0 || cfg.Rate < 0 {
		return errors.New("run: -n and -concurrency must be positive, -rate not negative")
	}
	cfg.PIDs = pids
	res, err := runLoad(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	if res.Missing > 0 {
		fmt.Fprintf(stderr, "kannelload: WARNING: %d of %d final DLRs never arrived (%d sendsms requests rejected)\n", res.Missing, res.N, res.Rejected)
	}
	if res.Missing == res.N {
		return errors.New("run: no DLR arrived")
	}
	return nil
}

func cmdTable(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("table", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "results directory written by compare.sh")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("table: -dir is required")
	}
	runs, err := loadRuns(*dir)
	if err != nil {
		return err
	}
	printTable(stdout, runs)
	return nil
}
