package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/admin"
	"github.com/smpp-connector/smpp-connector/connector/config"
)

const ctlUsage = `smpp-connector ctl [-addr URL] [-token-file FILE] [-json] COMMAND
  operators                       list the replica's operators: owner, binds and endpoints, pause, version
  pause ID [-reason TEXT] [-by NAME]  pause an operator's sending (its commands wait in JetStream)
  resume ID                       resume it
  rebind ID                       renew its binds (ask the owning replica)
  failback ID                     bring its binds back to the primary endpoint (ask the owning replica)
  drain                           leave this replica's operators to the other replicas
  undrain                         let it take operators again
The token comes from SMPP_ADMIN_TOKEN, or the file of -token-file (SMPP_ADMIN_TOKEN_FILE).`

// runCtl is `smpp-connector ctl`: the admin API (connector/admin) from a
// shell, against one replica.
func runCtl(ctx context.Context, args []string, stdout, stderr io.Writer, svc config.Service) error {
	fs := flag.NewFlagSet("smpp-connector ctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, ctlUsage) }
	addr := fs.String("addr", "http://"+svc.HTTPListen, "the replica's HTTP address (SMPP_HTTP_LISTEN)")
	tokenFile := fs.String("token-file", svc.Admin.TokenFile, "file holding the admin token (SMPP_ADMIN_TOKEN_FILE)")
	asJSON := fs.Bool("json", false, "print the API's JSON answer")
	timeout := fs.Duration("timeout", 2*time.Minute, "bound on the request (a drain waits for in-flight submits)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	token, err := config.Admin{Token: svc.Admin.Token, TokenFile: *tokenFile}.ReadToken()
	if err != nil {
		return fmt.Errorf("ctl: %w", err)
	}
	if token == "" {
		return errors.New("ctl: no admin token: set SMPP_ADMIN_TOKEN or -token-file")
	}
	if fs.NArg() == 0 {
		return errors.New("ctl: missing command\n" + ctlUsage)
	}
	base := *addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	c := &admin.Client{Base: base, Token: token, HTTP: &http.Client{Timeout: *timeout}}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	if cmd == "operators" {
		l, err := c.List(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(l)
		}
		return printListing(stdout, l)
	}
	var res admin.Result
	switch cmd {
	case "pause":
		pfs := flag.NewFlagSet("smpp-connector ctl pause", flag.ContinueOnError)
		pfs.SetOutput(stderr)
		reason := pfs.String("reason", "", "why (shown by ctl operators and /readyz)")
		by := pfs.String("by", os.Getenv("USER"), "who")
		id, err := oneID(cmd, rest, pfs)
		if err != nil {
			return err
		}
		res, err = c.Pause(ctx, id, *reason, *by)
		if err != nil {
			return err
		}
	case "resume", "rebind", "failback":
		id, err := oneID(cmd, rest, flag.NewFlagSet("smpp-connector ctl "+cmd, flag.ContinueOnError))
		if err != nil {
			return err
		}
		do := map[string]func(context.Context, string) (admin.Result, error){"resume": c.Resume, "rebind": c.Rebind, "failback": c.FailBack}[cmd]
		if res, err = do(ctx, id); err != nil {
			return err
		}
	case "drain", "undrain":
		if len(rest) > 0 {
			return fmt.Errorf("ctl %s: unexpected argument %q", cmd, rest[0])
		}
		do := map[string]func(context.Context) (admin.Result, error){"drain": c.Drain, "undrain": c.Undrain}[cmd]
		if res, err = do(ctx); err != nil {
			return err
		}
	default:
		return fmt.Errorf("ctl: unknown command %q\n%s", cmd, ctlUsage)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintln(stdout, res.Message)
	return nil
}

// oneID parses a command's flags (given before or after the id) and its one
// operator id.
func oneID(cmd string, args []string, fs *flag.FlagSet) (string, error) {
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return "", fmt.Errorf("ctl %s: unexpected argument %q", cmd, fs.Arg(0))
	}
	if id == "" {
		return "", fmt.Errorf("ctl %s: want an operator id", cmd)
	}
	return id, nil
}

// printListing prints one line per bind (an operator without binds on
// this replica, one line).
func printListing(w io.Writer, l admin.Listing) error {
	fmt.Fprintf(w, "replica %s", l.Replica)
	if l.Drained {
		fmt.Fprint(w, " (drained)")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OPERATOR\tOWNER\tTPS\tWINDOW\tPAUSED\tBIND\tSTATE\tENDPOINT\tOUTSTANDING\tVERSION")
	for _, o := range l.Operators {
		owner := o.Holder
		if o.Owner {
			owner += " (this replica)"
		}
		if owner == "" {
			owner = "-"
		}
		paused := "-"
		if o.Paused != nil {
			paused = fmt.Sprintf("since %s by %s", o.Paused.Since.UTC().Format(time.RFC3339), o.Paused.By)
			if o.Paused.Reason != "" {
				paused += ": " + o.Paused.Reason
			}
		}
		if len(o.Binds) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t-\t-\t-\t-\t%s\n", o.ID, owner, o.TPS, o.Window, paused, o.ConfigVersion)
		}
		for _, b := range o.Binds {
			state := b.State
			if b.Error != "" {
				state += ": " + b.Error
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%d/%d\t%s\n", o.ID, owner, o.TPS, o.Window, paused,
				b.Name, state, orDash(b.Endpoint), b.Outstanding, b.Window, o.ConfigVersion)
		}
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
