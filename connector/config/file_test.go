package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoadSample(t *testing.T) {
	f, err := Load("testdata/operators.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.IDs(); !reflect.DeepEqual(got, []string{"mno-a", "mno-b"}) {
		t.Fatalf("ids = %v", got)
	}

	a, ok := f.Operator("mno-a")
	if !ok {
		t.Fatal("mno-a not found")
	}
	want := DefaultOperator("mno-a")
	want.Endpoints = Endpoints{Primary: []Endpoint{{Address: "127.0.0.1:2775"}}}
	want.TPS = 100
	want.Quirks.MessageIDResp, want.Quirks.MessageIDReceipt = IDDecimal, IDDecimal
	want.Credentials.VaultPath = "smpp/operators/mno-a"
	if !reflect.DeepEqual(a, want) {
		t.Errorf("mno-a:\n got %+v\nwant %+v", a, want)
	}

	b, _ := f.Operator("mno-b")
	if b.Endpoints.Primary[0].Address != "127.0.0.1:2776" || b.TPS != 50 {
		t.Errorf("mno-b endpoints/tps: %+v %d", b.Endpoints, b.TPS)
	}
	if b.Quirks != (Quirks{MessageIDResp: IDHex, MessageIDReceipt: IDDecimal, ReceiptParts: ReceiptLastPart, ReceiptAs: ReceiptAsTLV, RegisteredDelivery: 1}) {
		t.Errorf("mno-b quirks: %+v", b.Quirks)
	}
	if b.Encoding != (Encoding{DefaultAlphabet: AlphabetLatin1, UCS2: true}) || b.Source.Address != (Address{TON: 5}) {
		t.Errorf("mno-b encoding/source: %+v %+v", b.Encoding, b.Source)
	}
	if b.EnquireLinkInterval != 30*time.Second || b.Rebind != (Backoff{time.Second, time.Minute}) {
		t.Errorf("mno-b timers: %v %+v", b.EnquireLinkInterval, b.Rebind)
	}
	if _, ok := f.Operator("mno-c"); ok {
		t.Error("mno-c found")
	}
	if err := f.CheckMode(false); err != nil {
		t.Errorf("live mode: %v", err)
	}
	if err := f.CheckMode(true); err == nil || !strings.Contains(err.Error(), `operator "mno-a": endpoints.primary: no primary endpoint marked shadow`) {
		t.Errorf("shadow mode: %v", err)
	}
}

// minimal is a valid operator that tests change one thing in.
const minimal = `operators:
  - id: mno-b
    endpoints:
      primary:
        - address: 127.0.0.1:2776
    tps: 50
`

func TestValidateNamesOperatorAndField(t *testing.T) {
	o := DefaultOperator("mno-b")
	o.Endpoints.Primary = []Endpoint{{Address: "127.0.0.1:2776"}}
	o.Credentials.VaultPath = "smpp/operators/mno-b"
	o.TPS = 50
	f := &File{Operators: []Operator{o}}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	f.Operators[0].TPS = 0
	err := f.Validate()
	if err == nil || err.Error() != `operator "mno-b": tps: must be > 0, got 0` {
		t.Fatalf("got %v", err)
	}
	var ce *Error
	if !errors.As(err, &ce) || ce.Operator != "mno-b" || ce.Field != "tps" {
		t.Fatalf("not an *Error naming the operator and field: %#v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"tps zero", strings.Replace(minimal, "tps: 50", "tps: 0", 1), `line 6: operator "mno-b": tps: must be > 0, got 0`},
		{"tps missing", strings.Replace(minimal, "    tps: 50\n", "", 1), `operator "mno-b": tps: must be > 0, got 0`},
		{"explicit zero window is not the default", minimal + "    window: 0\n", `line 7: operator "mno-b": window: must be > 0, got 0`},
		{"binds", minimal + "    binds: -1\n", `operator "mno-b": binds: must be > 0, got -1`},
		{"bind type", minimal + "    bindType: trx\n", `operator "mno-b": bindType: must be one of transceiver, transmitter+receiver, got "trx"`},
		{"duration type", minimal + "    enquireLinkInterval: 30\n", `line 7: operator "mno-b": enquireLinkInterval: want a duration such as "30s" or "1m30s", got the number 30`},
		{"duration syntax", minimal + "    responseTimeout: 10 seconds\n", `operator "mno-b": responseTimeout: want a duration such as "30s" or "1m30s", got "10 seconds"`},
		{"negative duration", minimal + "    dialTimeout: -1s\n", `operator "mno-b": dialTimeout: must be > 0, got -1s`},
		{"backoff order", minimal + "    rebind: {initial: 10s, max: 1s}\n", `operator "mno-b": rebind.max: must be >= rebind.initial (10s), got 1s`},
		{"int type", strings.Replace(minimal, "tps: 50", "tps: fifty", 1), `line 6: operator "mno-b": tps: want a whole number, got the string "fifty"`},
		{"bool type", minimal + "    encoding: {ucs2: maybe}\n", `operator "mno-b": encoding.ucs2: want true or false, got the string "maybe"`},
		{"ton range", minimal + "    source: {ton: 7}\n", `operator "mno-b": source.ton: must be 0-6 (SMPP 3.4 type of number), got 7`},
		{"npi range", minimal + "    source: {npi: 300}\n", `operator "mno-b": source.npi: want a number 0-255, got the number 300`},
		{"npi value", minimal + "    source: {npi: 2}\n", `operator "mno-b": source.npi: must be one of 0, 1, 3, 4, 6, 8, 9, 10, 14, 18`},
		{"long message", minimal + "    longMessageStrategy: udh\n", `operator "mno-b": longMessageStrategy: must be one of udh8, udh16, sar, payload, got "udh"`},
		{"alphabet", minimal + "    encoding: {defaultAlphabet: utf8}\n", `operator "mno-b": encoding.defaultAlphabet: must be one of gsm7, latin1, ascii, got "utf8"`},
		{"id format", minimal + "    quirks: {messageIdResp: HEX}\n", `line 7: operator "mno-b": quirks.messageIdResp: must be one of decimal, hex, raw, uuid, got "HEX"`},
		{"receipt parts", minimal + "    quirks: {receiptParts: all}\n", `operator "mno-b": quirks.receiptParts: must be one of each, first, last, got "all"`},
		{"receipt as", minimal + "    quirks: {receiptAs: pdu}\n", `operator "mno-b": quirks.receiptAs: must be one of text, tlv, both, got "pdu"`},
		{"no endpoint", strings.Replace(minimal, "        - address: 127.0.0.1:2776\n", "", 1), `operator "mno-b": endpoints.primary: at least one endpoint is required`},
		{"bad address", strings.Replace(minimal, "127.0.0.1:2776", "127.0.0.1", 1), `line 5: operator "mno-b": endpoints.primary[0].address: "127.0.0.1": want host:port`},
		{"bad port", strings.Replace(minimal, "127.0.0.1:2776", "smsc:99999", 1), `operator "mno-b": endpoints.primary[0].address: "smsc:99999": port must be 1-65535`},
		{"same address twice", strings.Replace(minimal, "    tps: 50\n", "      backup:\n        - address: 127.0.0.1:2776\n    tps: 50\n", 1), `operator "mno-b": endpoints.backup[0].address: 127.0.0.1:2776 is already endpoints.primary[0].address`},
		{"both credential sources", minimal + "    credentials: {vaultPath: a/b, file: /run/secrets/mno-b}\n", `operator "mno-b": credentials: set vaultPath or file, not both`},
		{"vault path with data/", minimal + "    credentials: {vaultPath: data/smpp/mno-b}\n", `operator "mno-b": credentials.vaultPath: "data/smpp/mno-b": leave out "data/"`},
		{"vault path placeholder", minimal + "    credentials: {vaultPath: \"smpp/{operator}\"}\n", `unknown placeholder`},
		{"unknown field", minimal + "    tsp: 50\n", `line 7: operator "mno-b": tsp: unknown field (did you mean "tps"?)`},
		{"unknown nested field", minimal + "    quirks:\n      messageIdRsp: hex\n", `line 8: operator "mno-b": quirks.messageIdRsp: unknown field (did you mean "messageIdResp"?)`},
		{"unknown top-level field", "revision: 2\n" + minimal, `line 1: revision: unknown field`},
		{"case matters", minimal + "    TPS: 5\n", `operator "mno-b": TPS: unknown field (did you mean "tps"?)`},
		{"missing id", strings.Replace(minimal, "id: mno-b", "window: 3", 1), `operators[0].id: required`},
		{"bad id", strings.Replace(minimal, "id: mno-b", "id: mno.b", 1), `operators[0].id: "mno.b": want 1-64 letters`},
		{"bad id still names fields", strings.Replace(minimal, "id: mno-b", "id: mno b", 1) + "    foo: 1\n", `line 7: operators[0].foo: unknown field`},
		{"duplicate id", minimal + strings.TrimPrefix(minimal, "operators:\n"), `operator "mno-b": id: used by another operator already`},
		{"no operators", "operators: []\n", `operators: at least one operator is required`},
		{"not a list", "operators: {id: x}\n", `line 1: operators: want a list, got a mapping`},
		{"empty", "", `empty operators file`},
		{"comment only", "# nothing\n", `empty operators file`},
		{"two documents", minimal + "---\n" + minimal, `line 7: only one YAML document is allowed`},
		{"invalid yaml", "operators:\n  - id: [\n", `invalid YAML`},
		{"duplicate key", minimal + "    tps: 60\n", `line 7: operator "mno-b": tps: duplicate key (first on line 6)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error; parsed %+v", f)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error does not contain %q:\n%v", tc.want, err)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	y := `operators:
  - id: mno-a
    endpoints: {primary: [{address: a:1}]}
    tps: 0
    window: -2
  - id: mno-b
    endpoints: {primary: [{address: b:2}]}
    tps: 5
    quirks: {receiptParts: some}
`
	_, err := Parse([]byte(y))
	want := `line 4: operator "mno-a": tps: must be > 0, got 0
line 5: operator "mno-a": window: must be > 0, got -2
line 9: operator "mno-b": quirks.receiptParts: must be one of each, first, last, got "some"`
	if err == nil || err.Error() != want {
		t.Fatalf("got:\n%v\nwant:\n%s", err, want)
	}
}

func TestPasswordsAreRefused(t *testing.T) {
	for _, tc := range []struct{ name, yaml, field string }{
		{"in credentials", minimal + "    credentials:\n      password: hunter2\n", `line 8: operator "mno-b": credentials.password`},
		{"at operator level", minimal + "    password: hunter2\n", `line 7: operator "mno-b": password`},
		{"top level", "password: hunter2\n" + minimal, `line 1: password`},
		{"under an unknown key", minimal + "    account:\n      smppPassword: hunter2\n", `line 8: operator "mno-b": account.smppPassword`},
		{"in a list under an unknown key", minimal + "    accounts:\n      - {systemId: x, Password: hunter2}\n", `operator "mno-b": accounts.Password`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatal("a password was accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.field+": secrets do not belong in the operators file: put the credential in Vault") ||
				!strings.Contains(msg, "credentials.file") {
				t.Fatalf("unclear error:\n%s", msg)
			}
			if strings.Contains(msg, "hunter2") {
				t.Fatalf("the error shows the password:\n%s", msg)
			}
		})
	}
}

func TestParseDefaultsAndCredentials(t *testing.T) {
	f, err := Parse([]byte(minimal + `    credentials: {vaultPath: "smpp/prod/{id}"}
  - id: mno-c
    endpoints:
      primary: [{address: "[::1]:2777", tls: true}, {address: "sim:2775", shadow: true}]
      backup: [{address: "backup.example:2775"}]
    tps: 1
    bindType: transmitter+receiver
    encoding: {ucs2: false, allowLatin1: true}
    credentials: {file: /vault/secrets/mno-c}
`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := f.Operator("mno-b")
	if b.Credentials != (Credentials{VaultPath: "smpp/prod/mno-b", MaxAge: DefaultCredentialMaxAge}) {
		t.Errorf("mno-b credentials: %+v", b.Credentials)
	}
	c, _ := f.Operator("mno-c")
	if c.Credentials != (Credentials{File: "/vault/secrets/mno-c", MaxAge: DefaultCredentialMaxAge}) {
		t.Errorf("mno-c credentials: %+v", c.Credentials)
	}
	if c.Encoding != (Encoding{DefaultAlphabet: AlphabetGSM7, AllowLatin1: true}) || c.BindType != BindTransmitterReceiver {
		t.Errorf("mno-c: %+v %s", c.Encoding, c.BindType)
	}
	live, liveBackup := c.Endpoints.For(false)
	shadow, shadowBackup := c.Endpoints.For(true)
	if len(live) != 1 || !live[0].TLS || len(liveBackup) != 1 || len(shadow) != 1 || shadow[0].Address != "sim:2775" || len(shadowBackup) != 0 {
		t.Errorf("For: live %v %v shadow %v %v", live, liveBackup, shadow, shadowBackup)
	}
	if err := f.CheckMode(true); err == nil || !strings.Contains(err.Error(), `operator "mno-b"`) || strings.Contains(err.Error(), "mno-c") {
		t.Errorf("shadow mode: %v", err)
	}
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	f, err := Parse([]byte(`x-defaults: &defaults
  tps: 20
  window: 4
operators:
  - <<: *defaults
    id: a
    endpoints: {primary: [{address: "a:1"}]}
  - <<: *defaults
    id: b
    endpoints: {primary: [{address: "b:1"}]}
    window: 8
`))
	if err == nil {
		t.Fatalf("top-level x-defaults accepted: %+v", f)
	}
	if !strings.Contains(err.Error(), "line 1: x-defaults: unknown field") {
		t.Fatal(err)
	}
	// Anchors defined inside a known field are fine.
	f, err = Parse([]byte(`operators:
  - &a
    id: a
    endpoints: {primary: [{address: "a:1"}]}
    tps: 20
    window: 4
  - <<: *a
    id: b
    endpoints: {primary: [{address: "b:1"}]}
    window: 8
    typo: 1
`))
	if err == nil || !strings.Contains(err.Error(), `line 11: operator "b": typo: unknown field`) {
		t.Fatalf("merged operator: %v", err)
	}
	f, err = Parse([]byte(`operators:
  - &a
    id: a
    endpoints: {primary: [{address: "a:1"}]}
    tps: 20
    window: 4
  - <<: *a
    id: b
    endpoints: {primary: [{address: "b:1"}]}
    window: 8
`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := f.Operator("b")
	if b.TPS != 20 || b.Window != 8 || b.Endpoints.Primary[0].Address != "b:1" {
		t.Fatalf("merged: %+v", b)
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ops.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(minimal, "tps: 50", "tps: 0", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || err.Error() != path+`:6: operator "mno-b": tps: must be > 0, got 0` {
		t.Fatalf("got %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "operators file:") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestExpand(t *testing.T) {
	for in, want := range map[string]string{
		"smpp/operators/{id}":        "smpp/operators/mno-a",
		"smpp.outcome.{operatorId}":  "smpp.outcome.mno-a",
		"sms.dlr.inbound":            "sms.dlr.inbound",
		"{id}/{operatorId}/{other}":  "mno-a/mno-a/{other}",
		"smpp.operator.{operatorId}": "smpp.operator.mno-a",
	} {
		if got := Expand(in, "mno-a"); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	b, err := os.ReadFile("testdata/operators.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(minimal))
	f.Add([]byte("operators: [&a {id: x, <<: *a}]"))
	f.Add([]byte("a: &a [*a, *a]\noperators: *a"))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err == nil {
			if verr := file.Validate(); verr != nil {
				t.Fatalf("Parse accepted what Validate refuses: %v", verr)
			}
			return
		}
		if err.Error() == "" {
			t.Fatal("empty error")
		}
	})
}
