// Package preflight is the check an engineer runs after loading an
// operator's SMPP credentials (Phase 1 of the migration plan), before the
// connector carries its traffic: for every operator of the operators file,
//
//   - credential: the credential is where the file says (Vault path or
//     rendered file) with the keys a bind needs, and its age is within the
//     operator's rotation schedule (credentials.maxAge: a warning past it);
//   - policy (once, as operator "vault"): the connector's Vault identity
//     cannot read beside the operators' credentials (a probe of a path no
//     operator uses must be refused: a policy that allows it leaks every
//     secret of the mount);
//   - tcp: each primary and backup endpoint accepts a TCP connection;
//   - bind (Options.Bind): each endpoint accepts a bind with the credential,
//     over TLS where the endpoint says so, and is unbound at once.
//
// It prints a table, one line per check, and fails when a check failed.
// It reads no secret into its output: a credential is named by its version.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
	"github.com/smpp-connector/smpp-connector/connector/session"
)

// Options tune the checks.
type Options struct {
	// Bind also binds to each endpoint with the credential (and unbinds).
	// Off by default: a bind counts against the MNO's bind limit, and some
	// MNOs alert on binds from addresses they do not expect.
	Bind bool
	// Timeout bounds each check (default 10 s).
	Timeout time.Duration
	// Operators limits the checks to these ids (default every operator).
	Operators []string
	// Now is the clock for credential ages (default time.Now).
	Now func() time.Time
}

// Prober is the Vault side of the policy check (secrets.Vault.Probe).
type Prober interface {
	Probe(ctx context.Context, relPath string) error
}

// Status of a check.
const (
	OK   = "ok"
	Warn = "warn"
	Fail = "FAIL"
)

// Result is one check of one operator.
type Result struct {
	Operator string
	Check    string // credential, policy, tcp ADDR, bind ADDR
	Status   string // OK, Warn, Fail
	Detail   string
}

// Run checks every operator of ops: credentials from creds, the Vault
// policy through vault (nil when no operator's credential is in Vault).
func Run(ctx context.Context, ops *config.File, creds secrets.Source, vault Prober, o Options) []Result {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var out []Result
	policyChecked := false // one identity reads every operator's credential
	for _, id := range ops.IDs() {
		if len(o.Operators) > 0 && !slices.Contains(o.Operators, id) {
			continue
		}
		oc, _ := ops.Operator(id)
		cred, r := checkCredential(ctx, oc, creds, o)
		out = append(out, r)
		if oc.Credentials.VaultPath != "" && vault != nil && !policyChecked {
			out = append(out, checkPolicy(ctx, vault, o))
			policyChecked = true
		}
		primary, backup := oc.Endpoints.For(false)
		for _, ep := range append(primary, backup...) {
			tcp := checkTCP(ctx, oc, ep, o)
			out = append(out, tcp)
			if o.Bind {
				out = append(out, checkBind(ctx, oc, ep, cred, tcp.Status == OK && r.Status != Fail, o))
			}
		}
	}
	return out
}

// checkCredential reads the operator's credential: it must be there with
// system_id and password (secrets validates the keys); its age is held
// against the rotation schedule when the source tells it.
func checkCredential(ctx context.Context, oc config.Operator, creds secrets.Source, o Options) (secrets.Credential, Result) {
	r := Result{Operator: oc.ID, Check: "credential"}
	where := "file " + oc.Credentials.File
	if oc.Credentials.VaultPath != "" {
		where = "vault " + oc.Credentials.VaultPath
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	c, err := creds.Get(ctx, oc.ID)
	if err != nil {
		r.Status, r.Detail = Fail, err.Error()
		return c, r
	}
	r.Status = OK
	r.Detail = fmt.Sprintf("%s: system_id %s, version %s", where, c.SystemID, c.Version)
	switch {
	case c.Created.IsZero():
		r.Detail += ", age unknown"
	case o.Now().Sub(c.Created) > oc.Credentials.MaxAge:
		r.Status = Warn
		r.Detail += fmt.Sprintf(", %d days old: past its rotation schedule (credentials.maxAge %s)",
			int(o.Now().Sub(c.Created).Hours()/24), oc.Credentials.MaxAge)
	default:
		r.Detail += fmt.Sprintf(", %d days old", int(o.Now().Sub(c.Created).Hours()/24))
	}
	return c, r
}

// checkPolicy probes a path of the KV mount that no operator uses: Vault
// must refuse it. Allowed (found or not found), the
// connector's policy reads more than the operators' credentials.
func checkPolicy(ctx context.Context, vault Prober, o Options) Result {
	r := Result{Operator: "vault", Check: "policy"}
	// At the mount's top level, where no operator's credential is (KV
	// paths do not resolve ".."), under a name no one uses.
	probe := fmt.Sprintf("preflight-probe-%d", o.Now().UnixNano())
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	err := vault.Probe(ctx, probe)
	switch {
	case errors.Is(err, secrets.ErrPermissionDenied):
		r.Status, r.Detail = OK, "a read beside the operators' credentials ("+probe+") is refused"
	case err == nil || errors.Is(err, secrets.ErrNotFound):
		r.Status, r.Detail = Fail, "the connector's Vault identity may read "+probe+
			": its policy should allow reading only the operators' credentials (e.g. <mount>/data/smpp/operators/*)"
	default:
		r.Status, r.Detail = Warn, "could not tell: "+err.Error()
	}
	return r
}

// checkTCP connects to the endpoint (no TLS handshake, no PDU).
func checkTCP(ctx context.Context, oc config.Operator, ep config.Endpoint, o Options) Result {
	r := Result{Operator: oc.ID, Check: "tcp " + ep.Address}
	d := net.Dialer{Timeout: min(o.Timeout, oc.DialTimeout)}
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp", ep.Address)
	if err != nil {
		r.Status, r.Detail = Fail, err.Error()
		return r
	}
	_ = c.Close()
	r.Status, r.Detail = OK, fmt.Sprintf("connected in %s", time.Since(start).Round(time.Millisecond))
	return r
}

// checkBind binds one session to the endpoint with the credential (the
// operator's bind type, over TLS where the endpoint says so) and closes it.
func checkBind(ctx context.Context, oc config.Operator, ep config.Endpoint, cred secrets.Credential, can bool, o Options) Result {
	r := Result{Operator: oc.ID, Check: "bind " + ep.Address}
	if !can {
		r.Status, r.Detail = Fail, "not tried: no credential or no TCP connection"
		return r
	}
	// transmitter+receiver: the transmitter stands for the pair (the same
	// credential; its receiver is bound the same way).
	bt := session.Transceiver
	if oc.BindType == config.BindTransmitterReceiver {
		bt = session.Transmitter
	}
	cfg := session.Config{Operator: oc.ID + "-preflight", Addr: ep.Address, BindType: bt, Window: 1,
		EnquireLink: oc.EnquireLinkInterval, ResponseTimeout: oc.ResponseTimeout, DialTimeout: oc.DialTimeout,
		BindTimeout: oc.BindTimeout, BackoffInitial: time.Hour, BackoffMax: time.Hour, TLS: oc.ClientTLSFor,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	auth := session.Auth{SystemID: cred.SystemID, Password: cred.Password, SystemType: cred.SystemType, Version: cred.Version}
	pool := session.NewPool(cfg, 1, func(context.Context) (session.Auth, error) { return auth, nil })
	pool.Start()
	defer pool.Close()
	b := pool.Binds()[0]
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	start := time.Now()
	for {
		changed := b.Changed()
		st, err := b.State()
		switch st {
		case session.StateBound:
			r.Status, r.Detail = OK, fmt.Sprintf("bound as %s (%s) in %s", cred.SystemID, bt, time.Since(start).Round(time.Millisecond))
			return r
		case session.StateAuthFailed, session.StateBackoff, session.StateDead, session.StateClosed:
			if err != nil {
				r.Status, r.Detail = Fail, err.Error()
				return r
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			r.Status, r.Detail = Fail, fmt.Sprintf("no bind within %s (state %s)", o.Timeout, st)
			return r
		}
	}
}

// Print writes the results as a table and returns an error naming the
// failed checks, if any.
func Print(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OPERATOR\tCHECK\tSTATUS\tDETAIL")
	var failed []string
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Operator, r.Check, r.Status, r.Detail)
		if r.Status == Fail {
			failed = append(failed, r.Operator+" "+r.Check)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("preflight: %d check(s) failed: %s", len(failed), strings.Join(failed, ", "))
	}
	return nil
}
