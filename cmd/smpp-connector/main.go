// Command smpp-connector carries SMS from NATS JetStream to operators' SMSCs
// over SMPP 3.4 and brings delivery receipts back.
//
//	smpp-connector run [-operators FILE|-oms URL] [flags]   run the service (settings also from SMPP_* env)
//	smpp-connector migrate [-postgres-dsn DSN]      apply the smpp schema migrations
//	smpp-connector check-config FILE                validate an operators file
//	smpp-connector rematch-receipts -operator ID    re-apply receipts given up for want of a part
//	smpp-connector compare -legacy F -connector F   compare submit outcomes with the legacy dispatcher's log
//	smpp-connector netpol -operators FILE [flags]   print the NetworkPolicy the operators file implies
//	smpp-connector preflight -operators FILE|-oms URL [-bind] check each operator's credential, Vault policy and endpoints
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/compare"
	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/netpol"
	"github.com/smpp-connector/smpp-connector/connector/oms"
	"github.com/smpp-connector/smpp-connector/connector/preflight"
	"github.com/smpp-connector/smpp-connector/connector/service"
	"github.com/smpp-connector/smpp-connector/connector/store"
	"github.com/smpp-connector/smpp-connector/internal/logging"
	"github.com/smpp-connector/smpp-connector/internal/version"
	"github.com/smpp-connector/smpp-connector/migrations"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "smpp-connector:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  smpp-connector run [-operators FILE|-oms URL] [-migrate] [flags]   run the connector (flags and SMPP_* environment)
  smpp-connector migrate [-postgres-dsn DSN]                 apply the smpp schema migrations
  smpp-connector streams [-update] [-replicas N]             create the JetStream streams of the NATS contract, or
                                                             report how existing ones differ (-update: apply it)
  smpp-connector check-config FILE                           validate an operators file
  smpp-connector rematch-receipts -operator ID [-limit N]    give receipts kept unmatched (no_part) whose id a
                                                             part now holds back to the receipt inbox
  smpp-connector compare -legacy FILE -connector FILE [-format text|json] [-mapping FILE] [-min-match 0.995]
                         [-allow-invalid]                    compare submit outcomes, message by message, with the
                                                             legacy dispatcher's log (connector/compare/README.md)
  smpp-connector netpol -operators FILE -nats PEER -postgres PEER [-vault PEER] [flags]
                                                             print the Kubernetes NetworkPolicy the operators file
                                                             implies (-h for the flags and the PEER syntax)
  smpp-connector preflight -operators FILE|-oms URL [-bind] [-operator ID,...] [-timeout 10s]
                                                             check each operator's credential (where the file says,
                                                             with its keys and age), the Vault policy (nothing
                                                             readable beside the credentials), and its endpoints
                                                             (TCP; with -bind a bind with the credential)
  smpp-connector ctl [-addr URL] COMMAND                     the admin API of a replica: operators, pause ID,
                                                             resume ID, rebind ID, failback ID, drain, undrain
                                                             (token: SMPP_ADMIN_TOKEN or -token-file)
  smpp-connector version                                     print the version, commit, build date and Go version`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("missing command\n" + usage)
	}
	cmd, args := args[0], args[1:]
	svc, err := config.ServiceFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("smpp-connector "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch cmd {
	case "run":
		tuneGC(os.Getenv)
		config.RegisterFlags(fs, &svc)
		migrate := fs.Bool("migrate", false, "apply the schema migrations before starting")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if err := svc.Validate(); err != nil {
			return err
		}
		ops, source, log, err := loadOperators(ctx, "run", svc, stderr)
		if err != nil {
			return err
		}
		if source != nil {
			defer source.Close()
		}
		log.Info("starting", "settings", svc)
		return service.Run(ctx, svc, ops, service.Options{Log: log, Migrate: *migrate, OMS: source})
	case "migrate":
		config.RegisterFlags(fs, &svc)
		if err := fs.Parse(args); err != nil {
			return err
		}
		if svc.PostgresDSN == "" {
			return errors.New("migrate: no database: set -postgres-dsn or SMPP_POSTGRES_DSN")
		}
		res, err := migrations.Apply(ctx, svc.PostgresDSN)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "schema at version %d (%d migration(s) applied)\n", res.Version, len(res.Applied))
		return nil
	case "check-config":
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return errors.New("check-config: want exactly one operators file")
		}
		ops, err := config.Load(fs.Arg(0))
		if err != nil {
			return err
		}
		for _, id := range ops.IDs() {
			o, _ := ops.Operator(id)
			primary, backup := o.Endpoints.For(false)
			fmt.Fprintf(stdout, "operator %-12s tps %-5d binds %d window %-3d endpoints %d+%d backup  long messages %s\n",
				id, o.TPS, o.Binds, o.Window, len(primary), len(backup), o.LongMessageStrategy)
		}
		fmt.Fprintf(stdout, "%s: %d operator(s), valid\n", fs.Arg(0), len(ops.IDs()))
		return nil
	case "rematch-receipts":
		config.RegisterFlags(fs, &svc)
		operator := fs.String("operator", "", "the operator whose receipts to re-match")
		limit := fs.Int("limit", 10000, "re-match at most this many receipts")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if svc.PostgresDSN == "" {
			return errors.New("rematch-receipts: no database: set -postgres-dsn or SMPP_POSTGRES_DSN")
		}
		if *operator == "" {
			return errors.New("rematch-receipts: no operator: set -operator")
		}
		return rematch(ctx, stdout, svc, *operator, *limit)
	case "compare":
		var o compare.Options
		o.Register(fs)
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("compare: unexpected argument %q", fs.Arg(0))
		}
		return compare.Run(o, stdout)
	case "netpol":
		var o netpol.Options
		o.Register(fs)
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("netpol: unexpected argument %q", fs.Arg(0))
		}
		return netpol.Run(ctx, o, stdout)
	case "preflight":
		config.RegisterFlags(fs, &svc)
		var o preflight.Options
		fs.BoolVar(&o.Bind, "bind", false, "also bind to each endpoint with the credential (counts against the MNO's bind limit)")
		fs.DurationVar(&o.Timeout, "timeout", 10*time.Second, "bound on each check")
		only := fs.String("operator", "", "check only these operators (comma-separated ids)")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if *only != "" {
			o.Operators = strings.Split(*only, ",")
		}
		return runPreflight(ctx, stdout, stderr, svc, o)
	case "ctl":
		return runCtl(ctx, args, stdout, stderr, svc)
	case "streams": // create or check the JetStream streams (streams.go)
		return streamsCommand(ctx, fs, args, svc, stdout)
	case "version":
		fmt.Fprintln(stdout, version.Get().String("smpp-connector"))
		return nil
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

// loadOperators reads the operators configuration the settings name (the
// file, or operator-management-service: then its client is returned too,
// for run to follow), checks the Vault settings when an operator's
// credential is in Vault, and makes the logger: what run and preflight both
// start from.
func loadOperators(ctx context.Context, cmd string, svc config.Service, stderr io.Writer) (*config.File, *oms.Client, *slog.Logger, error) {
	log, err := newLogger(stderr, svc)
	if err != nil {
		return nil, nil, nil, err
	}
	var ops *config.File
	var source *oms.Client
	switch {
	case svc.OMS.URL != "":
		o := oms.OptionsFrom(svc.OMS)
		o.Logger = log
		// What this replica could not run is refused by the client: never
		// in force, never kept as the last good it would restart from.
		o.Check = func(f *config.File) error { return service.CheckRunnable(f, svc.Shadow) }
		if source, err = oms.New(o); err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", cmd, err)
		}
		res, err := source.Load(ctx)
		if err != nil {
			source.Close()
			return nil, nil, nil, fmt.Errorf("%s: operators from %s: %w", cmd, svc.OMS.URL, err)
		}
		ops = res.File
	case svc.OperatorsFile != "":
		if ops, err = config.Load(svc.OperatorsFile); err != nil {
			return nil, nil, nil, err
		}
	default:
		return nil, nil, nil, errors.New(cmd + ": no operators: set -operators (SMPP_OPERATORS_FILE) or -oms (SMPP_OMS_URL)")
	}
	if ops.UsesVault() {
		if err := svc.ValidateVault(); err != nil {
			if source != nil {
				source.Close()
			}
			return nil, nil, nil, err
		}
	}
	return ops, source, log, nil
}

// runPreflight runs the onboarding checks (connector/preflight) with the
// credential sources the service would use.
func runPreflight(ctx context.Context, stdout, stderr io.Writer, svc config.Service, o preflight.Options) error {
	ops, source, log, err := loadOperators(ctx, "preflight", svc, stderr)
	if err != nil {
		return err
	}
	from := svc.OperatorsFile
	if source != nil {
		source.Close()
		from = svc.OMS.URL
	}
	for _, id := range o.Operators {
		if _, ok := ops.Operator(id); !ok {
			return fmt.Errorf("preflight: operator %q is not in %s", id, from)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // closes the Vault client
	creds, vault, err := service.BuildSecrets(ctx, svc, ops, log)
	if err != nil {
		return fmt.Errorf("preflight: %w", err)
	}
	var prober preflight.Prober
	if vault != nil {
		prober = vault
	}
	return preflight.Print(stdout, preflight.Run(ctx, ops, creds, prober, o))
}

// rematch moves the operator's receipts given up for want of a part (reason
// no_part in smpp.unmatched_receipts) whose id a part now holds back to the
// receipt inbox, where a running connector applies them by the usual rules
// and publishes their events: the on-call step after fixing an operator's
// id format or storing late responses (connector/store, RematchUnmatched).
func rematch(ctx context.Context, stdout io.Writer, svc config.Service, operator string, limit int) error {
	s, err := store.Open(ctx, svc.PostgresDSN, store.Options{Shadow: svc.Shadow})
	if err != nil {
		return fmt.Errorf("rematch-receipts: %w", err)
	}
	defer s.Close()
	n, err := s.RematchUnmatched(ctx, operator, limit)
	if err != nil {
		return fmt.Errorf("rematch-receipts: operator %q: %w", operator, err)
	}
	fmt.Fprintf(stdout, "operator %s: %d receipt(s) back in the receipt inbox: a running connector applies them\n", operator, n)
	return nil
}

func newLogger(w io.Writer, svc config.Service) (*slog.Logger, error) {
	return logging.New(w, svc.LogLevel, svc.LogFormat)
}

// defaultGCPercent is the connector's GOGC unless the environment sets one.
// Its live heap is small (about 10 MB under full load) and short-lived
// garbage dominates (PDUs, rows, events): at Go's default of 100 the
// collector ran so often that it took about a fifth of the connector's
// CPU. 400 cut the connector's CPU per message by 10-15 % in
// `make connector-load` for about 25 MB more resident memory (39 -> 65 MB).
// GOGC (and GOMEMLIMIT, for a hard cap) override it.
const defaultGCPercent = 400

func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}
