// Command gatereport renders reports/index.html again from the files the
// scenario suites left in the reports directory (<suite>.gates.json,
// <suite>.gates.prev.json, <suite>.run.json), without running a suite: after
// a template change, or to gather the pages of suites run one by one.
//
//	go run ./scenarios/cmd/gatereport [-dir reports]      (make report)
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/smpp-connector/smpp-connector/scenarios/framework/htmlreport"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gatereport:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("gatereport", flag.ContinueOnError)
	dir := fs.String("dir", defaultDir(), "the reports directory (SMPP_REPORT_DIR, else reports)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	suites, err := htmlreport.Load(*dir)
	if err != nil && len(suites) == 0 {
		return err
	}
	if len(suites) == 0 {
		return fmt.Errorf("%s holds no suite report (*%s, *%s): run a suite first", *dir, htmlreport.SummarySuffix, htmlreport.RunSuffix)
	}
	if err := htmlreport.Write(*dir, time.Now()); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s: %d suite(s)\n", filepath.Join(*dir, htmlreport.IndexFile), len(suites))
	return err
}

// defaultDir is where the suites write (framework.ReportDir, without
// importing the framework and the connector with it).
func defaultDir() string {
	if d := os.Getenv("SMPP_REPORT_DIR"); d != "" {
		return d
	}
	return "reports"
}
