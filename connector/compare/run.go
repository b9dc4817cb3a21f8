package compare

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Options are the subcommand's flags.
type Options struct {
	Legacy, Connector string // files ("-" reads standard input)
	Format            string // text or json
	Mapping           string // the legacy log's mapping file; empty: the defaults
	MinMatch          float64
	AllowInvalid      bool // compare without the invalid lines instead of failing
}

// Register defines the subcommand's flags on fs.
func (o *Options) Register(fs *flag.FlagSet) {
	fs.StringVar(&o.Legacy, "legacy", "", "the legacy dispatcher's outcome log: CSV with a header, or JSON lines (- for stdin)")
	fs.StringVar(&o.Connector, "connector", "", "the connector's outcome log: JSON lines (- for stdin)")
	fs.StringVar(&o.Format, "format", "text", "report format: text or json")
	fs.StringVar(&o.Mapping, "mapping", "", "the legacy log's column mapping, YAML or JSON (default: message_id, operator, outcome, error_code)")
	fs.Float64Var(&o.MinMatch, "min-match", DefaultMinMatch, "fail when a smaller share of messages match")
	fs.BoolVar(&o.AllowInvalid, "allow-invalid", false, "compare without the lines that cannot be read (reported) instead of failing")
}

// DefaultMinMatch is the Phase 2 exit criterion: 99.5% of messages matching.
const DefaultMinMatch = 0.995

// ThresholdError is Run's error when the match rate is below the minimum.
type ThresholdError struct {
	Matched, Total int
	Rate, Min      float64
}

func (e *ThresholdError) Error() string {
	return fmt.Sprintf("compare: match rate %s (%d of %d messages matched) is below -min-match %s",
		percent(e.Rate), e.Matched, e.Total, percent(e.Min))
}

// Run reads both logs, writes the report to w and fails when a log has
// invalid lines (unless AllowInvalid) or the match rate is below MinMatch.
func Run(o Options, w io.Writer) error {
	switch {
	case o.Legacy == "":
		return errors.New("compare: no legacy log: set -legacy FILE")
	case o.Connector == "":
		return errors.New("compare: no connector log: set -connector FILE")
	case o.Legacy == "-" && o.Connector == "-":
		return errors.New("compare: -legacy and -connector cannot both read standard input")
	case o.Format != "text" && o.Format != "json":
		return fmt.Errorf("compare: -format %q: want text or json", o.Format)
	case !(o.MinMatch >= 0 && o.MinMatch <= 1):
		return fmt.Errorf("compare: -min-match %v: want a share between 0 and 1 (0.995 is 99.5%%)", o.MinMatch)
	}
	m, err := LoadMapping(o.Mapping)
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	legacy, err := readFile(o.Legacy, func(name string, r io.Reader) (*Log, error) { return ReadLegacy(name, r, m) })
	if err != nil {
		return fmt.Errorf("compare: legacy log: %w", err)
	}
	connector, err := readFile(o.Connector, ReadConnector)
	if err != nil {
		return fmt.Errorf("compare: connector log: %w", err)
	}
	if !o.AllowInvalid {
		if err := invalidError(legacy, connector); err != nil {
			return err
		}
	}
	rep := NewReport(legacy, connector, o.MinMatch)
	if o.Format == "json" {
		err = rep.WriteJSON(w)
	} else {
		err = rep.WriteText(w)
	}
	if err != nil {
		return err
	}
	if rep.Total == 0 {
		return errors.New("compare: no messages in either log")
	}
	if !rep.Pass {
		return &ThresholdError{Matched: rep.Matched, Total: rep.Total, Rate: rep.MatchRate, Min: o.MinMatch}
	}
	return nil
}

func readFile(path string, read func(string, io.Reader) (*Log, error)) (*Log, error) {
	if path == "-" {
		return read("stdin", os.Stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return read(path, f)
}

// invalidError lists the invalid lines of both logs (the first ten of each).
func invalidError(logs ...*Log) error {
	var b strings.Builder
	n := 0
	for _, l := range logs {
		n += len(l.Invalid)
		for i, e := range l.Invalid {
			if i == 10 {
				fmt.Fprintf(&b, "\n  ... and %d more in %s", len(l.Invalid)-i, l.File)
				break
			}
			fmt.Fprintf(&b, "\n  %v", e)
		}
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("compare: %d invalid line(s), nothing compared (-allow-invalid compares without them, and reports them):%s", n, b.String())
}
