package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/api"
	"github.com/smpp-connector/smpp-connector/smscsim/client"
)

var errHelp = flag.ErrHelp

func (a *app) flagSet(name, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {
		fmt.Fprintf(a.stderr, "%s\n\nFlags:\n", summary)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags that may come before or after positional arguments
// ("faults remove NAME --api URL").
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// After "--" everything is positional.
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// apiFlags are the flags of every command that calls the control API.
type apiFlags struct {
	api, token string
	json       bool
	timeout    time.Duration
}

func (f *apiFlags) register(fs *flag.FlagSet) {
	def := os.Getenv("SMSCSIM_API")
	if def == "" {
		def = "http://" + defaultControl
	}
	fs.StringVar(&f.api, "api", def, "control API URL (default $SMSCSIM_API)")
	fs.StringVar(&f.token, "token", os.Getenv("SMSCSIM_TOKEN"), "bearer token (default $SMSCSIM_TOKEN)")
	fs.BoolVar(&f.json, "json", false, "print JSON")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "request timeout")
}

func (f *apiFlags) client() *client.Client {
	c := client.New(f.api, f.token)
	c.HTTP.Timeout = f.timeout
	return c
}

// apiCommand parses a command's flags and wants exactly nargs positional
// arguments (-1: any).
func (a *app) apiCommand(name, summary string, args []string, nargs int, extra func(*flag.FlagSet)) (*apiFlags, []string, error) {
	fs := a.flagSet(name, summary)
	var f apiFlags
	f.register(fs)
	if extra != nil {
		extra(fs)
	}
	pos, err := parse(fs, args)
	if err != nil {
		return nil, nil, err
	}
	if nargs >= 0 && len(pos) != nargs {
		fs.Usage()
		if len(pos) > nargs {
			return nil, nil, fmt.Errorf("%s: unexpected argument %q", name, pos[nargs])
		}
		return nil, nil, fmt.Errorf("%s: missing argument", name)
	}
	return &f, pos, nil
}

func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (a *app) operators(ctx context.Context, args []string) error {
	f, _, err := a.apiCommand("operators", "smscsim operators: list the operators", args, 0, nil)
	if err != nil {
		return err
	}
	ops, err := f.client().Operators(ctx)
	if err != nil {
		return err
	}
	if f.json {
		return a.printJSON(ops)
	}
	printOperators(a.stdout, ops)
	return nil
}

func (a *app) faults(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(a.stderr, "usage: smscsim faults list | types | add ... | remove NAME\n")
		return errors.New("faults: missing subcommand")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "list":
		f, _, err := a.apiCommand("faults list", "smscsim faults list: list the active faults", rest, 0, nil)
		if err != nil {
			return err
		}
		list, err := f.client().Faults(ctx)
		if err != nil {
			return err
		}
		if f.json {
			return a.printJSON(list)
		}
		printFaults(a.stdout, list)
		return nil
	case "types":
		f, _, err := a.apiCommand("faults types", "smscsim faults types: list the fault types", rest, 0, nil)
		if err != nil {
			return err
		}
		types, err := f.client().FaultTypes(ctx)
		if err != nil {
			return err
		}
		if f.json {
			return a.printJSON(types)
		}
		printFaultTypes(a.stdout, types)
		return nil
	case "add":
		return a.faultsAdd(ctx, rest)
	case "remove", "rm":
		f, pos, err := a.apiCommand("faults remove", "smscsim faults remove NAME: remove a fault", rest, 1, nil)
		if err != nil {
			return err
		}
		if err := f.client().RemoveFault(ctx, pos[0]); err != nil {
			return err
		}
		if !f.json {
			fmt.Fprintf(a.stdout, "removed %s\n", pos[0])
		}
		return nil
	default:
		return fmt.Errorf("faults: unknown subcommand %q (want list, types, add or remove)", sub)
	}
}

func (a *app) faultsAdd(ctx context.Context, args []string) error {
	var (
		s      api.Spec
		params string
		file   string
	)
	f, _, err := a.apiCommand("faults add", "smscsim faults add --type T [...] | -f spec.json: add a fault", args, 0, func(fs *flag.FlagSet) {
		fs.StringVar(&s.Type, "type", "", "fault type (smscsim faults types)")
		fs.StringVar(&s.Name, "name", "", "fault name (default: the type)")
		fs.Float64Var(&s.Probability, "probability", 0, "probability in [0,1] that the fault acts (0: always)")
		fs.StringVar(&s.Match.Operator, "operator", "", "match: operator id")
		fs.StringVar(&s.Match.Account, "account", "", "match: account (system_id)")
		fs.StringVar(&s.Match.DestinationPrefix, "dest-prefix", "", "match: destination address prefix")
		fs.StringVar(&s.Match.Command, "command", "", "match: SMPP command (submit_sm, ...; bind for the binds)")
		fs.StringVar(&params, "params", "", "the type's parameters as JSON, e.g. '{\"tps\":10}'")
		fs.StringVar(&file, "f", "", "read the whole spec (JSON) from this file; - reads standard input")
	})
	if err != nil {
		return err
	}
	if file != "" {
		if s.Type != "" || s.Name != "" || s.Probability != 0 || s.Match != (api.Match{}) || params != "" {
			return errors.New("faults add: -f takes the whole spec; leave out --type, --name, --probability, --operator, --account, --dest-prefix, --command and --params")
		}
		if s, err = a.readSpec(file); err != nil {
			return err
		}
	} else {
		if s.Type == "" {
			return errors.New("faults add: --type is required (smscsim faults types lists them), or -f spec.json")
		}
		if params != "" {
			if !json.Valid([]byte(params)) {
				return fmt.Errorf("faults add: --params %q is not valid JSON", params)
			}
			s.Params = json.RawMessage(params)
		}
	}
	added, err := f.client().AddFault(ctx, s)
	if err != nil {
		return err
	}
	if f.json {
		return a.printJSON(added)
	}
	fmt.Fprintf(a.stdout, "added %s (%s)\n", added.Name, added.Type)
	return nil
}

func (a *app) readSpec(file string) (api.Spec, error) {
	var b []byte
	var err error
	if file == "-" {
		b, err = io.ReadAll(a.stdin)
	} else {
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return api.Spec{}, fmt.Errorf("faults add: %w", err)
	}
	var s api.Spec
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("faults add: %s: %w", file, err)
	}
	return s, nil
}

func (a *app) mo(ctx context.Context, args []string) error {
	var (
		m  api.MO
		op string
	)
	f, _, err := a.apiCommand("mo", "smscsim mo --from X --to Y --text T: inject an MO message", args, 0, func(fs *flag.FlagSet) {
		fs.StringVar(&op, "operator", "", "operator id (default: the only operator)")
		fs.StringVar(&m.Account, "account", "", "account whose receivers get it (default: the operator's first)")
		fs.StringVar(&m.Source, "from", "", "source address (the handset), e.g. 447700900001")
		fs.StringVar(&m.Dest, "to", "", "destination address (the short code or sender id)")
		fs.StringVar(&m.Text, "text", "", "message text")
		fs.StringVar(&m.Encoding, "encoding", "", "data_coding 0 in the operator's alphabet (default), gsm7, ucs2, latin1 or auto")
		fs.StringVar(&m.Segmentation, "segmentation", "", "for long texts: udh8 (default), udh16, sar or payload")
	})
	if err != nil {
		return err
	}
	c := f.client()
	if op == "" {
		ops, err := c.Operators(ctx)
		if err != nil {
			return err
		}
		if len(ops) != 1 {
			ids := make([]string, len(ops))
			for i, o := range ops {
				ids[i] = o.ID
			}
			return fmt.Errorf("mo: --operator is required with several operators (%s)", strings.Join(ids, ", "))
		}
		op = ops[0].ID
	}
	q, err := c.InjectMO(ctx, op, m)
	if err != nil {
		return err
	}
	if f.json {
		return a.printJSON(q)
	}
	fmt.Fprintf(a.stdout, "queued MO on %s for account %s\n", q.Operator, q.Account)
	return nil
}

func (a *app) stats(ctx context.Context, args []string) error {
	f, _, err := a.apiCommand("stats", "smscsim stats: counters, sessions and receipt queues", args, 0, nil)
	if err != nil {
		return err
	}
	snap, err := f.client().Stats(ctx)
	if err != nil {
		return err
	}
	if f.json {
		return a.printJSON(snap)
	}
	printStats(a.stdout, snap)
	return nil
}

func (a *app) meter(ctx context.Context, args []string) error {
	var account string
	f, _, err := a.apiCommand("meter", "smscsim meter: the TPS audit per account", args, 0, func(fs *flag.FlagSet) {
		fs.StringVar(&account, "account", "", "one account, as operator/account")
	})
	if err != nil {
		return err
	}
	reps, err := f.client().Meter(ctx, account)
	if err != nil {
		return err
	}
	if f.json {
		return a.printJSON(reps)
	}
	printMeter(a.stdout, reps)
	return nil
}

func (a *app) pdus(ctx context.Context, args []string) error {
	var (
		flt          api.Filter
		since, until string
		jsonl        bool
	)
	f, _, err := a.apiCommand("pdus", "smscsim pdus [filters]: PDUs the simulator received, oldest first", args, 0, func(fs *flag.FlagSet) {
		fs.StringVar(&flt.Operator, "operator", "", "operator id")
		fs.StringVar(&flt.Account, "account", "", "account (system_id)")
		fs.StringVar(&flt.Command, "command", "", "SMPP command, e.g. submit_sm")
		fs.StringVar(&flt.DestPrefix, "dest-prefix", "", "destination address prefix")
		fs.StringVar(&since, "since", "", "records at or after: RFC 3339 time, or a duration ago (5m)")
		fs.StringVar(&until, "until", "", "records before: RFC 3339 time, or a duration ago")
		fs.Uint64Var(&flt.AfterSeq, "after-seq", 0, "records with seq greater than this")
		fs.IntVar(&flt.Limit, "limit", 50, "at most this many, the newest (0: all)")
		fs.BoolVar(&jsonl, "jsonl", false, "print one record a line (JSON lines): the recorder export smscsim replay reads")
	})
	if err != nil {
		return err
	}
	now := time.Now()
	if flt.Since, err = parseWhen("--since", since, now); err != nil {
		return err
	}
	if flt.Until, err = parseWhen("--until", until, now); err != nil {
		return err
	}
	p, err := f.client().PDUs(ctx, flt)
	if err != nil {
		return err
	}
	if jsonl {
		// api.Record has the recorder's JSON shape: one encoded record a
		// line is recorder.WriteJSONL's format.
		enc := json.NewEncoder(a.stdout)
		for i := range p.Records {
			if err := enc.Encode(&p.Records[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if f.json {
		return a.printJSON(p)
	}
	printPDUs(a.stdout, p)
	return nil
}

// parseWhen reads an RFC 3339 time or a duration before now.
func parseWhen(flag, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%s %q: want an RFC 3339 time (2006-01-02T15:04:05Z) or a duration ago (5m)", flag, s)
}

func (a *app) reset(ctx context.Context, args []string) error {
	f, _, err := a.apiCommand("reset", "smscsim reset: stop the scenario, clear faults, counters, recorder and meter", args, 0, nil)
	if err != nil {
		return err
	}
	if err := f.client().Reset(ctx); err != nil {
		return err
	}
	if !f.json {
		fmt.Fprintln(a.stdout, "reset")
	}
	return nil
}

func (a *app) scenario(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(a.stderr, "usage: smscsim scenario load FILE [--replace] | status | stop\n")
		return errors.New("scenario: missing subcommand")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "load":
		var replace bool
		f, pos, err := a.apiCommand("scenario load", "smscsim scenario load FILE: load a scenario and start its timeline", rest, 1, func(fs *flag.FlagSet) {
			fs.BoolVar(&replace, "replace", false, "stop a running scenario first")
		})
		if err != nil {
			return err
		}
		b, err := os.ReadFile(pos[0])
		if err != nil {
			return fmt.Errorf("scenario load: %w", err)
		}
		st, err := f.client().LoadScenario(ctx, b, replace)
		if err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		if f.json {
			return a.printJSON(st)
		}
		printScenario(a.stdout, st)
		return nil
	case "status":
		f, _, err := a.apiCommand("scenario status", "smscsim scenario status: progress of the scenario", rest, 0, nil)
		if err != nil {
			return err
		}
		st, err := f.client().ScenarioStatus(ctx)
		if err != nil {
			return err
		}
		if f.json {
			return a.printJSON(st)
		}
		printScenario(a.stdout, st)
		return nil
	case "stop":
		f, _, err := a.apiCommand("scenario stop", "smscsim scenario stop: stop the scenario's timeline", rest, 0, nil)
		if err != nil {
			return err
		}
		if err := f.client().StopScenario(ctx); err != nil {
			return err
		}
		if !f.json {
			fmt.Fprintln(a.stdout, "stopped")
		}
		return nil
	default:
		return fmt.Errorf("scenario: unknown subcommand %q (want load, status or stop)", sub)
	}
}
