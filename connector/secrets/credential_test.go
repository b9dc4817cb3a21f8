package secrets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const pw = "Pz9!qXw7"

func TestCredentialNeverShowsPassword(t *testing.T) {
	c := Credential{SystemID: "acme", Password: pw, SystemType: "VMA", Version: "3"}
	type Session struct {
		Operator string
		Cred     Credential
		Ptr      *Credential
	}
	s := Session{Operator: "mno-a", Cred: c, Ptr: &c}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"} {
		out = append(out, fmt.Sprintf(verb, c), fmt.Sprintf(verb, &c), fmt.Sprintf(verb, s),
			fmt.Sprintf(verb, []Credential{c}), fmt.Sprintf(verb, map[string]Credential{"a": c}), fmt.Sprintf(verb, any(c)))
	}
	out = append(out, fmt.Sprint(c), fmt.Sprintln(c, &c), c.String(), c.GoString())

	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
		l := slog.New(h)
		l.Info("bind", "cred", c, "ptr", &c)
		l.Info("bind", slog.Any("cred", c), slog.Group("g", "cred", c))
	}
	out = append(out, logs.String())

	j, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, string(j))

	for _, o := range out {
		if strings.Contains(o, pw) || strings.Contains(o, fmt.Sprintf("%x", pw)) || strings.Contains(o, fmt.Sprintf("%X", pw)) {
			t.Errorf("password shown: %s", o)
		}
	}
	if got := c.String(); got != `{SystemID:"acme" SystemType:"VMA" Password:[redacted] Version:"3"}` {
		t.Errorf("String() = %s", got)
	}
	if !strings.Contains(logs.String(), `"systemId":"acme"`) || !strings.Contains(string(j), `"version":"3"`) {
		t.Errorf("redaction lost the rest:\n%s\n%s", logs.String(), j)
	}
	if strings.Contains(string(j), "password") {
		t.Errorf("json has a password field: %s", j)
	}
	if (Credential{SystemID: "x"}).String() != `{SystemID:"x" SystemType:"" Password: Version:""}` {
		t.Errorf("an empty password should show as empty: %s", Credential{SystemID: "x"})
	}
}

func TestCredentialValidate(t *testing.T) {
	for _, tc := range []struct {
		c    Credential
		want string
	}{
		{Credential{SystemID: "acme", Password: "12345678"}, ""},
		{Credential{SystemID: "123456789012345", Password: "x", SystemType: "123456789012"}, ""},
		{Credential{Password: "x"}, "system_id: missing"},
		{Credential{SystemID: "acme"}, "password: missing"},
		{Credential{SystemID: "1234567890123456", Password: "x"}, "system_id: 16 characters, longer than SMPP's 15"},
		{Credential{SystemID: "acme", Password: "123456789"}, "password: longer than SMPP's 8 characters"},
		{Credential{SystemID: "acme", Password: "x", SystemType: "1234567890123"}, "system_type: 13 characters, longer than SMPP's 12"},
		{Credential{SystemID: "acme", Password: "pässwd"}, "password: SMPP allows printable ASCII only"},
		{Credential{SystemID: "ac\x00me", Password: "x"}, "system_id: SMPP allows printable ASCII only"},
	} {
		err := tc.c.Validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.c, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%v: got %v, want %q", tc.c, err, tc.want)
		}
		if tc.c.Password != "" && tc.c.Password != "x" && err != nil && strings.Contains(err.Error(), tc.c.Password) {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	err := &Error{Source: "vault", Operator: "mno-a", Op: "read", Path: "secret/smpp/operators/mno-a", Err: ErrPermissionDenied}
	if err.Error() != `vault: operator "mno-a": read secret/smpp/operators/mno-a: permission denied` || !errors.Is(err, ErrPermissionDenied) {
		t.Fatal(err)
	}
}
