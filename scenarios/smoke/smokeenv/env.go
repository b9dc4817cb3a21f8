// Package smokeenv reads the environment of the staging smoke suite
// (scenarios/smoke): where the deployed connector, the simulator and NATS are
// and which operators to try. The suite finds the deployment through these
// variables only, so a variable missing or wrong must stop it at once, named,
// rather than surface minutes later as a timeout.
package smokeenv

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The variables (deploy/staging/staging.sh up writes them to deploy/staging/.env).
const (
	// EnvNATSURL is NATS (nats:// or tls://; user:password@ in the URL when
	// the server wants them). Required.
	EnvNATSURL = "SMPP_SMOKE_NATS_URL"
	// EnvNATSCreds is a NATS credentials file (JWT + seed). Optional.
	EnvNATSCreds = "SMPP_SMOKE_NATS_CREDS"
	// EnvSimURL is the simulator's control API (http:// or https://). Required.
	EnvSimURL = "SMPP_SMOKE_SIM_URL"
	// EnvSimToken is the control API's bearer token (the staging overlay's
	// Secret smscsim-token). Required: off loopback the API always wants one.
	EnvSimToken = "SMPP_SMOKE_SIM_TOKEN"
	// EnvConnectorURLs are the connector replicas' HTTP bases (/readyz,
	// /metrics), comma-separated. Required.
	EnvConnectorURLs = "SMPP_SMOKE_CONNECTOR_URLS"
	// EnvOperators are the operators under test, comma-separated: an id, or
	// id=simulatorOperator when the simulator names the SMSC otherwise
	// (its faults are matched by the simulator's id). Required.
	EnvOperators = "SMPP_SMOKE_OPERATORS"
	// EnvReceiptParts says, per operator, which parts of a multipart message
	// the SMSC sends a receipt for (the operator's quirks.receiptParts):
	// id=each|first|last, comma-separated; default each. Optional.
	EnvReceiptParts = "SMPP_SMOKE_RECEIPT_PARTS"
	// EnvTimeout bounds each wait for receipts (Go duration; default 3m).
	EnvTimeout = "SMPP_SMOKE_TIMEOUT"
)

// Receipt styles (quirks.receiptParts).
const (
	ReceiptsEach  = "each"
	ReceiptsFirst = "first"
	ReceiptsLast  = "last"
)

// DefaultTimeout is EnvTimeout's default: staging machines are shared and slow.
const DefaultTimeout = 3 * time.Minute

// Operator is one operator under test.
type Operator struct {
	ID           string // the connector's id: NATS subjects, /readyz, metrics
	SimOperator  string // the simulator's id of its SMSC (faults match it)
	ReceiptParts string // each, first or last
}

// Config is the parsed environment.
type Config struct {
	NATSURL       string
	NATSCreds     string
	SimURL        string
	SimToken      string
	ConnectorURLs []string
	Operators     []Operator
	Timeout       time.Duration
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// FromEnv is Parse(os.Getenv).
func FromEnv() (Config, error) { return Parse(os.Getenv) }

// Parse reads the variables through getenv. The error names every variable
// that is missing or wrong, with what is wrong with it.
func Parse(getenv func(string) string) (Config, error) {
	var (
		c    = Config{Timeout: DefaultTimeout}
		errs []error
	)
	bad := func(name, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, a...)...))
	}
	required := func(name string) string {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			bad(name, "not set")
		}
		return v
	}
	checkURL := func(name, v string, schemes ...string) bool {
		u, err := url.Parse(v)
		switch {
		case err != nil:
			// Not the value, nor url's error quoting it: it may hold a password.
			bad(name, "not a URL: want a %s URL", strings.Join(schemes, " or "))
		case !slices.Contains(schemes, u.Scheme):
			bad(name, "%q: want a %s URL", redact(v), strings.Join(schemes, " or "))
		case u.Host == "":
			bad(name, "%q has no host", redact(v))
		default:
			return true
		}
		return false
	}

	if v := required(EnvNATSURL); v != "" && checkURL(EnvNATSURL, v, "nats", "tls") {
		c.NATSURL = v
	}
	if v := strings.TrimSpace(getenv(EnvNATSCreds)); v != "" {
		if _, err := os.Stat(v); err != nil {
			bad(EnvNATSCreds, "%v", err)
		}
		c.NATSCreds = v
	}
	if v := required(EnvSimURL); v != "" && checkURL(EnvSimURL, v, "http", "https") {
		c.SimURL = strings.TrimRight(v, "/")
	}
	c.SimToken = required(EnvSimToken)
	if v := required(EnvConnectorURLs); v != "" {
		for _, u := range strings.Split(v, ",") {
			u = strings.TrimSpace(u)
			if u == "" {
				bad(EnvConnectorURLs, "%q has an empty entry", v)
				continue
			}
			if checkURL(EnvConnectorURLs, u, "http", "https") {
				c.ConnectorURLs = append(c.ConnectorURLs, strings.TrimRight(u, "/"))
			}
		}
	}
	seen := map[string]bool{}
	if v := required(EnvOperators); v != "" {
		for _, e := range strings.Split(v, ",") {
			id, sim, _ := strings.Cut(strings.TrimSpace(e), "=")
			if sim == "" {
				sim = id
			}
			switch {
			case !idRE.MatchString(id) || !idRE.MatchString(sim):
				bad(EnvOperators, "%q: want id or id=simulatorOperator (letters, digits, '-', '_')", e)
			case seen[id]:
				bad(EnvOperators, "operator %q listed twice", id)
			default:
				seen[id] = true
				c.Operators = append(c.Operators, Operator{ID: id, SimOperator: sim, ReceiptParts: ReceiptsEach})
			}
		}
	}
	if v := strings.TrimSpace(getenv(EnvReceiptParts)); v != "" {
		for _, e := range strings.Split(v, ",") {
			id, style, _ := strings.Cut(strings.TrimSpace(e), "=")
			i := indexOf(c.Operators, id)
			switch {
			case style != ReceiptsEach && style != ReceiptsFirst && style != ReceiptsLast:
				bad(EnvReceiptParts, "%q: want id=each, id=first or id=last", e)
			case i < 0:
				bad(EnvReceiptParts, "operator %q is not in %s", id, EnvOperators)
			default:
				c.Operators[i].ReceiptParts = style
			}
		}
	}
	if v := strings.TrimSpace(getenv(EnvTimeout)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			bad(EnvTimeout, "%q: want a positive Go duration such as 3m", v)
		}
		c.Timeout = d
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("smoke suite environment: %w", errors.Join(errs...))
	}
	return c, nil
}

func indexOf(ops []Operator, id string) int {
	for i, o := range ops {
		if o.ID == id {
			return i
		}
	}
	return -1
}

// redact drops a URL's password from error messages (a NATS URL may carry one).
func redact(v string) string {
	if u, err := url.Parse(v); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
	}
	return v
}
