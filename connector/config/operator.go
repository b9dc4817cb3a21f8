// Package config holds the connector's configuration: the operators file
// (YAML: one entry per mobile operator, see testdata/operators.yaml) and the
// service settings (flags and SMPP_* environment variables, see Service).
//
// Secrets never live here: the operators file says where an operator's SMPP
// credential is (a Vault KV v2 path or a file rendered by Vault Agent / the
// CSI driver) and package secrets reads it.
//
// Every problem is reported with the operator and the field it concerns, and
// the line when the value came from a file:
//
//	operators.yaml:14: operator "mno-b": tps: must be > 0, got 0
package config

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smpp-connector/smpp-connector/internal/yamlcheck"
)

// AfterCrash policies: what becomes of a part a dead process may have sent.
const (
	AfterCrashUnknown = "unknown" // reported unknown: at most once (the default)
	AfterCrashResend  = "resend"  // sent again: at least once
)

// Bind types.
const (
	// BindTransceiver is one bind_transceiver per session (the default).
	BindTransceiver = "transceiver"
	// BindTransmitterReceiver is a bind_transmitter plus a bind_receiver per
	// session, for SMSCs that do not offer transceiver binds.
	BindTransmitterReceiver = "transmitter+receiver"
)

// Long-message strategies: how text that needs more than one submit_sm is
// split.
const (
	LongUDH8    = "udh8"    // concatenation UDH, 8-bit reference (the default)
	LongUDH16   = "udh16"   // concatenation UDH, 16-bit reference
	LongSAR     = "sar"     // sar_msg_ref_num / sar_total_segments / sar_segment_seqnum TLVs
	LongPayload = "payload" // one submit_sm with the whole text in message_payload
)

// Alphabets the SMSC assumes for data_coding 0.
const (
	AlphabetGSM7   = "gsm7" // the default
	AlphabetLatin1 = "latin1"
	AlphabetASCII  = "ascii"
)

// Message-id formats, the values of the connector's dlr.IDFormat: how an
// SMSC writes the id of one message in submit_sm_resp and in its receipts.
const (
	IDDecimal = "decimal"
	IDHex     = "hex"
	IDRaw     = "raw" // compared as received (the default)
	IDUUID    = "uuid"
)

// Which parts of a multipart message get a receipt.
const (
	ReceiptEachPart  = "each" // the default
	ReceiptFirstPart = "first"
	ReceiptLastPart  = "last"
)

// How receipts carry their data (informational: the connector reads both).
const (
	ReceiptAsText = "text" // "id:... stat:... err:..." in short_message (the default)
	ReceiptAsTLV  = "tlv"  // receipted_message_id / message_state / network_error_code
	ReceiptAsBoth = "both"
)

// DefaultVaultPath is where an operator's credential is in the KV v2 mount
// unless credentials says otherwise; {id} is the operator id.
const DefaultVaultPath = "smpp/operators/{id}"

// Value sets, in the order error messages list them.
var (
	bindTypes     = []string{BindTransceiver, BindTransmitterReceiver}
	longStrats    = []string{LongUDH8, LongUDH16, LongSAR, LongPayload}
	alphabets     = []string{AlphabetGSM7, AlphabetLatin1, AlphabetASCII}
	afterCrash    = []string{AfterCrashUnknown, AfterCrashResend}
	idFormats     = []string{IDDecimal, IDHex, IDRaw, IDUUID}
	receiptParts  = []string{ReceiptEachPart, ReceiptFirstPart, ReceiptLastPart}
	receiptAsVals = []string{ReceiptAsText, ReceiptAsTLV, ReceiptAsBoth}
)

// Operator is one mobile operator's SMSC and how to talk to it.
type Operator struct {
	// ID names the operator everywhere: NATS subjects (smpp.operator.{id}),
	// the Vault path, metrics and logs. Letters, digits, '-' and '_'.
	ID        string    `yaml:"id" json:"id"`
	Endpoints Endpoints `yaml:"endpoints" json:"endpoints"`
	// BindType is transceiver (default) or transmitter+receiver.
	BindType string `yaml:"bindType" json:"bindType"`
	// Binds is how many sessions (each a transceiver, or a transmitter and
	// receiver pair) to keep bound (default 1).
	Binds int `yaml:"binds" json:"binds"`
	// TPS is the contracted submit_sm rate for the whole account, shared by
	// all its binds.
	TPS int `yaml:"tps" json:"tps"`
	// Window is the number of submit_sm awaiting their resp, per bind
	// (default 10).
	Window int `yaml:"window" json:"window"`
	// EnquireLinkInterval is how often a session sends enquire_link (default
	// 30s); one unanswered within responseTimeout makes the bind dead.
	EnquireLinkInterval time.Duration `yaml:"enquireLinkInterval" json:"enquireLinkInterval"`
	// ResponseTimeout bounds the wait for any *_resp (default 10s).
	ResponseTimeout time.Duration `yaml:"responseTimeout" json:"responseTimeout"`
	// DialTimeout bounds the TCP (and TLS) connect (default 5s).
	DialTimeout time.Duration `yaml:"dialTimeout" json:"dialTimeout"`
	// BindTimeout bounds the wait for bind_*_resp (default 5s).
	BindTimeout time.Duration `yaml:"bindTimeout" json:"bindTimeout"`
	// Rebind is the backoff between attempts to bind again (1s doubling to 60s).
	Rebind Backoff `yaml:"rebind" json:"rebind"`
	// DeadBind says when a bind that answers nothing is dropped and renewed.
	DeadBind DeadBind `yaml:"deadBind" json:"deadBind"`
	// LongMessageStrategy is udh8 (default), udh16, sar or payload.
	LongMessageStrategy string `yaml:"longMessageStrategy" json:"longMessageStrategy"`
	// MaxParts caps the submit_sm of one message (default 10, at most 255):
	// a longer text goes to the dead letter instead of out in many parts.
	MaxParts int `yaml:"maxParts" json:"maxParts"`
	// AfterCrash is what becomes of a part a dead process may have sent
	// (prepared, no outcome, not handed back): unknown (default: reported
	// unknown, never sent twice: at most once) or resend (at least once).
	AfterCrash string `yaml:"afterCrash" json:"afterCrash"`
	// ReceiptHorizon is how old a part a receipt may be attributed to
	// (default 72h, at least 1m): a receipt is matched only to a part whose
	// submit was answered within it, and in the current id epoch (since the
	// binds last came up after all were down: the SMSC may have restarted
	// and reused its ids). Set it beyond the validity period of what the
	// connector sends (receipts come at most that late).
	ReceiptHorizon time.Duration `yaml:"receiptHorizon" json:"receiptHorizon"`
	Encoding       Encoding      `yaml:"encoding" json:"encoding"`
	// Source holds the TON/NPI of the source address when a dispatch
	// command gives none (default 0/0), and the operator's rules for
	// alphanumeric senders.
	Source SourceAddress `yaml:"source" json:"source"`
	// Destination holds the TON/NPI of the destination address when a
	// dispatch command gives none (default 1/1: international, E.164).
	Destination Address `yaml:"destination" json:"destination"`
	// TLS secures the endpoints marked tls: true (tls.go).
	TLS    TLS    `yaml:"tls,omitempty" json:"tls,omitempty"`
	Quirks Quirks `yaml:"quirks" json:"quirks"`
	// Notes is free text for the people who run the operator: its habits,
	// who to call, why a setting is what it is (Phase 4: quirks documented
	// in the config). The connector does not read it.
	Notes       string      `yaml:"notes,omitempty" json:"notes,omitempty"`
	Credentials Credentials `yaml:"credentials" json:"credentials"`
}

// Endpoints are an operator's SMSC addresses: the connector binds to a
// primary one and falls back to the backups when none of those answers.
type Endpoints struct {
	Primary []Endpoint `yaml:"primary" json:"primary"`
	Backup  []Endpoint `yaml:"backup,omitempty" json:"backup,omitempty"`
}

// Endpoint is one SMSC address.
type Endpoint struct {
	// Address is host:port.
	Address string `yaml:"address" json:"address"`
	// Shadow marks a target for shadow mode (Phase 2: e.g. the simulator):
	// in shadow mode only shadow endpoints are used, otherwise only the others.
	Shadow bool `yaml:"shadow,omitempty" json:"shadow,omitempty"`
	// TLS wraps the session in TLS (crypto/tls, TLS 1.2 or later): the
	// SMSC's certificate is verified against the operator's tls.caFile (else
	// the system roots) for ServerName, and the operator's client
	// certificate, if any, is presented (tls.go).
	TLS bool `yaml:"tls,omitempty" json:"tls,omitempty"`
	// ServerName is the name the SMSC's certificate must carry (only with
	// tls: true; default: the host of Address, a name or an IP address).
	ServerName string `yaml:"serverName,omitempty" json:"serverName,omitempty"`
}

// Backoff is an exponential backoff: Initial, doubling up to Max.
type Backoff struct {
	Initial time.Duration `yaml:"initial" json:"initial"`
	Max     time.Duration `yaml:"max" json:"max"`
}

// Encoding says which data codings the operator accepts.
type Encoding struct {
	// DefaultAlphabet is what the SMSC assumes for data_coding 0: gsm7
	// (default), latin1 or ascii.
	DefaultAlphabet string `yaml:"defaultAlphabet" json:"defaultAlphabet"`
	// AllowLatin1 sends data_coding 3 when text fits Latin-1 but not GSM 7-bit.
	AllowLatin1 bool `yaml:"allowLatin1" json:"allowLatin1"`
	// UCS2 allows data_coding 8 for the rest (default true). With ucs2:
	// false, text that fits none of the operator's alphabets (GSM 7-bit on a
	// gsm7 SMSC, Latin-1 when allowed or when data_coding 0 means it), and a
	// command asking for "ucs2", go to the dead letter with the reason:
	// never out as UCS2.
	UCS2 bool `yaml:"ucs2" json:"ucs2"`
}

// Address holds the default type of number and numbering plan of an address.
type Address struct {
	TON uint8 `yaml:"ton" json:"ton"`
	NPI uint8 `yaml:"npi" json:"npi"`
}

// SourceAddress is Address for source addresses, with the rules for
// alphanumeric senders (a name such as "ACME" rather than a number).
type SourceAddress struct {
	Address `yaml:",inline"`
	// Alphanumeric holds the TON/NPI of a source address with a character
	// other than a digit or a leading '+' when the command gives none
	// (default 5/0: alphanumeric, unknown plan). SMSCs reject or mangle an
	// alphanumeric sender sent as 0/0 or 1/1.
	Alphanumeric Address `yaml:"alphanumeric" json:"alphanumeric"`
	// MaxAlphanumeric is the longest alphanumeric sender the operator takes
	// (default 11: what fits the GSM 03.40 originating address). A longer
	// one is a bad command (dead letter naming it), not an SMSC refusal.
	MaxAlphanumeric int `yaml:"maxAlphanumeric" json:"maxAlphanumeric"`
}

// Quirks are the operator's protocol habits. The message-id formats are the
// values of dlr.IDFormat (decimal, hex, raw, uuid): dlr.IDRule{Resp:
// dlr.IDFormat(q.MessageIDResp), Receipt: dlr.IDFormat(q.MessageIDReceipt)}.
type Quirks struct {
	// MessageIDResp is the format of message_id in submit_sm_resp (default raw).
	MessageIDResp string `yaml:"messageIdResp" json:"messageIdResp"`
	// MessageIDReceipt is the format of the id in receipts (default raw).
	MessageIDReceipt string `yaml:"messageIdReceipt" json:"messageIdReceipt"`
	// ReceiptParts says which parts of a multipart message get a receipt:
	// each (default), first or last.
	ReceiptParts string `yaml:"receiptParts" json:"receiptParts"`
	// ReceiptAs is how receipts carry their data: text (default), tlv or both.
	// Informational: the connector reads either.
	ReceiptAs string `yaml:"receiptAs" json:"receiptAs"`
	// RegisteredDelivery is the registered_delivery sent with a command
	// that asks for a receipt (default 1: a receipt on success and on
	// failure). 2 asks for failures only (the connector then has no
	// receipt for delivered messages), 17 and 18 add intermediate
	// notifications (ENROUTE, ACCEPTD...) that some SMSCs send only when
	// asked. SME acknowledgements (bits 2-3) are not asked: nothing reads
	// them.
	RegisteredDelivery int `yaml:"registeredDelivery" json:"registeredDelivery"`
	// ReceiptsWithEsmClass0 reads a deliver_sm or data_sm whose esm_class
	// does not say receipt (and that has no receipted_message_id) as a
	// receipt when its text matches the receipt grammar (dlr.LooksLikeReceipt),
	// instead of publishing it as an MO: some SMSCs send every receipt with
	// esm_class 0. A part of a concatenated message (UDHI, SAR TLVs) is
	// never taken for one. Off by default: an MO that happened to look like
	// a receipt would then be taken for one.
	ReceiptsWithEsmClass0 bool `yaml:"receiptsWithEsmClass0" json:"receiptsWithEsmClass0"`
}

// Credentials say where the operator's SMPP credential (system_id, password,
// optional system_type) is. Exactly one of VaultPath and File is set; with
// neither, VaultPath is DefaultVaultPath.
type Credentials struct {
	// VaultPath is the secret's path inside the KV v2 mount (Service
	// Vault.KVMount), without the mount and without "data/"; {id} is replaced
	// by the operator id.
	VaultPath string `yaml:"vaultPath,omitempty" json:"vaultPath,omitempty"`
	// File is a file rendered by Vault Agent or the Secrets Store CSI driver,
	// JSON or key=value lines.
	File string `yaml:"file,omitempty" json:"file,omitempty"`
	// MaxAge is the rotation schedule: a credential version older than
	// this (by its creation time in Vault, or the created_time of a
	// rendered file) is overdue for rotation (default DefaultCredentialMaxAge,
	// a quarter). The connector still binds with it: it exports the age
	// and the schedule (smpp_credential_created_timestamp_seconds,
	// smpp_credential_max_age_seconds), and alert
	// SMPPCredentialRotationOverdue says so.
	MaxAge time.Duration `yaml:"maxAge,omitempty" json:"maxAge,omitempty"`
}

// DefaultCredentialMaxAge is Credentials.MaxAge unless set: the quarterly
// rotation of the migration plan's Phase 4.
const DefaultCredentialMaxAge = 90 * 24 * time.Hour

// DefaultOperator is an operator with every default applied; only ID,
// Endpoints and TPS remain to be set.
func DefaultOperator(id string) Operator {
	return Operator{
		ID:                  id,
		BindType:            BindTransceiver,
		Binds:               1,
		Window:              10,
		EnquireLinkInterval: 30 * time.Second,
		ResponseTimeout:     10 * time.Second,
		DialTimeout:         5 * time.Second,
		BindTimeout:         5 * time.Second,
		Rebind:              Backoff{Initial: time.Second, Max: 60 * time.Second},
		LongMessageStrategy: LongUDH8,
		MaxParts:            10,
		AfterCrash:          AfterCrashUnknown,
		ReceiptHorizon:      DefaultReceiptHorizon,
		DeadBind:            DeadBind{ResponseTimeouts: 3},
		Encoding:            Encoding{DefaultAlphabet: AlphabetGSM7, UCS2: true},
		Destination:         Address{TON: 1, NPI: 1},
		Source:              SourceAddress{Alphanumeric: Address{TON: 5}, MaxAlphanumeric: 11},
		Credentials:         Credentials{MaxAge: DefaultCredentialMaxAge},
		Quirks: Quirks{
			RegisteredDelivery: 1,
			MessageIDResp:      IDRaw,
			MessageIDReceipt:   IDRaw,
			ReceiptParts:       ReceiptEachPart,
			ReceiptAs:          ReceiptAsText,
		},
	}
}

// DefaultReceiptHorizon is Operator.ReceiptHorizon unless set.
const DefaultReceiptHorizon = 72 * time.Hour

// minReceiptHorizon: a shorter horizon would hold the receipts of ordinary
// traffic (seconds to minutes after the submit).
const minReceiptHorizon = time.Minute

// ReceiptHold is how long a receipt held by its id epoch (only a part from
// before the epoch held its key) waits for a newer part to take the key
// before it is attributed to the older part (the binds had dropped for a
// network cut, not a restart): twice the response timeout, at least 30 s.
// A new part's response comes within the response timeout of its submit,
// which comes before its receipt.
func (o Operator) ReceiptHold() time.Duration {
	return max(2*o.ResponseTimeout, 30*time.Second)
}

// defaultCredentials fills in the Vault path when no source is given and
// expands {id}.
func (o *Operator) defaultCredentials() {
	if o.Credentials.VaultPath == "" && o.Credentials.File == "" {
		o.Credentials.VaultPath = DefaultVaultPath
	}
	o.Credentials.VaultPath = Expand(o.Credentials.VaultPath, o.ID)
}

// Expand replaces the placeholders {id} and {operatorId} in a template (a
// Vault path or a NATS subject) with the operator id.
func Expand(template, operatorID string) string {
	if !strings.Contains(template, "{") {
		return template
	}
	return strings.NewReplacer("{id}", operatorID, "{operatorId}", operatorID).Replace(template)
}

// For returns the endpoints used in shadow mode (shadow true) or live mode.
func (e Endpoints) For(shadow bool) (primary, backup []Endpoint) {
	pick := func(in []Endpoint) []Endpoint {
		var out []Endpoint
		for _, ep := range in {
			if ep.Shadow == shadow {
				out = append(out, ep)
			}
		}
		return out
	}
	return pick(e.Primary), pick(e.Backup)
}

// registeredDeliveryVals are the registered_delivery values an operator
// may ask for: an SMSC delivery receipt (bits 0-1: 1 or 2), with or
// without intermediate notifications (bit 4).
var registeredDeliveryVals = []int{1, 2, 17, 18}

// maxNotes bounds an operator's notes (text for people, in every replica's
// memory and in the operator-management-service's answers).
const maxNotes = 8192

var operatorID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// validate returns every problem of the operator; where names it in errors
// without an id ("operators[2]").
func (o *Operator) validate(where string) []*Error {
	var errs []*Error
	add := func(field, format string, args ...any) {
		e := &Error{Operator: o.ID, Field: field, Msg: fmt.Sprintf(format, args...)}
		if o.ID == "" || !operatorID.MatchString(o.ID) {
			e.Operator, e.Field = "", joinField(where, field)
		}
		errs = append(errs, e)
	}
	switch {
	case o.ID == "":
		add("id", "required")
	case !operatorID.MatchString(o.ID):
		add("id", "%q: want 1-64 letters, digits, '-' or '_' (it becomes a NATS subject token and a Vault path segment)", o.ID)
	}

	if len(o.Endpoints.Primary) == 0 {
		add("endpoints.primary", "at least one endpoint is required")
	}
	seen := map[string]string{}
	for _, list := range []struct {
		name string
		eps  []Endpoint
	}{{"endpoints.primary", o.Endpoints.Primary}, {"endpoints.backup", o.Endpoints.Backup}} {
		for i, ep := range list.eps {
			field := fmt.Sprintf("%s[%d].address", list.name, i)
			if err := checkHostPort(ep.Address); err != nil {
				add(field, "%v", err)
				continue
			}
			if prev, dup := seen[ep.Address]; dup {
				add(field, "%s is already %s", ep.Address, prev)
				continue
			}
			seen[ep.Address] = field
		}
	}

	oneOf(add, "bindType", o.BindType, bindTypes)
	positive(add, "binds", o.Binds)
	positive(add, "tps", o.TPS)
	positive(add, "window", o.Window)
	positiveDuration(add, "enquireLinkInterval", o.EnquireLinkInterval)
	positiveDuration(add, "responseTimeout", o.ResponseTimeout)
	positiveDuration(add, "dialTimeout", o.DialTimeout)
	positiveDuration(add, "bindTimeout", o.BindTimeout)
	positiveDuration(add, "rebind.initial", o.Rebind.Initial)
	positiveDuration(add, "rebind.max", o.Rebind.Max)
	if o.Rebind.Initial > 0 && o.Rebind.Max > 0 && o.Rebind.Max < o.Rebind.Initial {
		add("rebind.max", "must be >= rebind.initial (%s), got %s", o.Rebind.Initial, o.Rebind.Max)
	}
	if o.DeadBind.ResponseTimeouts < 0 {
		add("deadBind.responseTimeouts", "must be >= 0 (0: the default, 3), got %d", o.DeadBind.ResponseTimeouts)
	}
	oneOf(add, "longMessageStrategy", o.LongMessageStrategy, longStrats)
	if o.MaxParts < 1 || o.MaxParts > 255 {
		add("maxParts", "must be 1-255, got %d", o.MaxParts)
	}
	oneOf(add, "afterCrash", o.AfterCrash, afterCrash)
	if o.ReceiptHorizon < minReceiptHorizon {
		add("receiptHorizon", "must be at least %s, got %s", minReceiptHorizon, o.ReceiptHorizon)
	}
	oneOf(add, "encoding.defaultAlphabet", o.Encoding.DefaultAlphabet, alphabets)
	checkAddress(add, "source", o.Source.Address)
	checkAddress(add, "source.alphanumeric", o.Source.Alphanumeric)
	if o.Source.MaxAlphanumeric < 1 || o.Source.MaxAlphanumeric > 20 {
		add("source.maxAlphanumeric", "must be 1-20 (source_addr holds 20 characters), got %d", o.Source.MaxAlphanumeric)
	}
	checkAddress(add, "destination", o.Destination)
	o.validateTLS(add) // tls.go
	oneOf(add, "quirks.messageIdResp", o.Quirks.MessageIDResp, idFormats)
	oneOf(add, "quirks.messageIdReceipt", o.Quirks.MessageIDReceipt, idFormats)
	oneOf(add, "quirks.receiptParts", o.Quirks.ReceiptParts, receiptParts)
	oneOf(add, "quirks.receiptAs", o.Quirks.ReceiptAs, receiptAsVals)
	if !slices.Contains(registeredDeliveryVals, o.Quirks.RegisteredDelivery) {
		add("quirks.registeredDelivery", "must be one of %v (1: success and failure, 2: failure only, +16: intermediate notifications), got %d",
			registeredDeliveryVals, o.Quirks.RegisteredDelivery)
	}
	if len(o.Notes) > maxNotes {
		add("notes", "%d bytes: at most %d", len(o.Notes), maxNotes)
	}

	c := o.Credentials
	if c.MaxAge < 24*time.Hour {
		add("credentials.maxAge", "must be at least 24h (a rotation schedule, in hours: 2160h is 90 days), got %s", c.MaxAge)
	}
	switch {
	case c.VaultPath != "" && c.File != "":
		add("credentials", "set vaultPath or file, not both")
	case c.VaultPath == "" && c.File == "":
		add("credentials", "vaultPath or file is required")
	case c.VaultPath != "":
		if msg := checkVaultPath(c.VaultPath); msg != "" {
			add("credentials.vaultPath", "%q: %s", c.VaultPath, msg)
		}
	}
	return errs
}

// CheckMode reports the operators that have no primary endpoint for the mode
// the service runs in (shadow: only endpoints marked shadow are used).
func (f *File) CheckMode(shadow bool) error {
	var errs []*Error
	for _, o := range f.Operators {
		if p, _ := o.Endpoints.For(shadow); len(p) == 0 {
			msg := "no primary endpoint for live mode: every one is marked shadow"
			if shadow {
				msg = "no primary endpoint marked shadow: in shadow mode only those are used"
			}
			errs = append(errs, &Error{Operator: o.ID, Field: "endpoints.primary", Msg: msg})
		}
	}
	return yamlcheck.Join(errs)
}

func oneOf(add func(string, string, ...any), field, v string, allowed []string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	add(field, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
}

func positive(add func(string, string, ...any), field string, v int) {
	if v <= 0 {
		add(field, "must be > 0, got %d", v)
	}
}

func positiveDuration(add func(string, string, ...any), field string, v time.Duration) {
	if v <= 0 {
		add(field, "must be > 0, got %s", v)
	}
}

// checkAddress checks a default TON/NPI pair against SMPP 3.4.
func checkAddress(add func(string, string, ...any), field string, a Address) {
	if a.TON > 6 {
		add(field+".ton", "must be 0-6 (SMPP 3.4 type of number), got %d", a.TON)
	}
	switch a.NPI {
	case 0, 1, 3, 4, 6, 8, 9, 10, 14, 18:
	default:
		add(field+".npi", "must be one of 0, 1, 3, 4, 6, 8, 9, 10, 14, 18 (SMPP 3.4 numbering plan), got %d", a.NPI)
	}
}

func checkHostPort(addr string) error {
	if addr == "" {
		return fmt.Errorf("required (host:port)")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return fmt.Errorf("%q: want host:port", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port must be 1-65535", addr)
	}
	return nil
}

func checkVaultPath(p string) string {
	if strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
		return "no leading or trailing '/': the path is relative to the KV mount"
	}
	if strings.HasPrefix(p, "data/") || strings.HasPrefix(p, "metadata/") {
		return `leave out "data/": the path is relative to the KV v2 mount`
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "empty, '.' and '..' segments are not allowed"
		}
	}
	if strings.ContainsAny(p, "{}") {
		return "unknown placeholder: only {id} is replaced"
	}
	return ""
}

func joinField(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "." + b
}

// DeadBind is when a bind is declared dead: ResponseTimeouts submit_sm in a
// row without their resp (default 3, capped at the window so that a black
// hole costs at most one window), or an enquire_link without its resp within
// responseTimeout (always on).
type DeadBind struct {
	ResponseTimeouts int `yaml:"responseTimeouts" json:"responseTimeouts"`
}
