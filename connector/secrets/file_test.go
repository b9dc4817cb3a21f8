package secrets

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestFileGetFormats(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		want          Credential
	}{
		{"json", `{"system_id": "acme", "password": "s3cret", "system_type": "VMA", "rotated": "2026-04-01"}`,
			Credential{SystemID: "acme", Password: "s3cret", SystemType: "VMA"}},
		{"json with BOM and newline", "\xef\xbb\xbf{\"system_id\":\"acme\",\"password\":\"s3cret\"}\n",
			Credential{SystemID: "acme", Password: "s3cret"}},
		{"key=value", "# rendered by Vault Agent\nsystem_id=acme\npassword = s3cret\n\nsystem_type=VMA\nextra=ignored\n",
			Credential{SystemID: "acme", Password: "s3cret", SystemType: "VMA"}},
		{"quoted and CRLF", "system_id=\"acme\"\r\npassword=\"a=b \\\"c\"\r\n",
			Credential{SystemID: "acme", Password: `a=b "c`}},
		{"value with =", "system_id=acme\npassword=a=b=c\n", Credential{SystemID: "acme", Password: "a=b=c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			writeFile(t, p, tc.content)
			f := &File{Paths: map[string]string{"mno-a": p}}
			c, err := f.Get(context.Background(), "mno-a")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(c.Version, "hmac:") {
				t.Errorf("version %q", c.Version)
			}
			c.Version = ""
			if c != tc.want {
				t.Errorf("got %#v, want %#v (passwords %q, %q)", c, tc.want, c.Password, tc.want.Password)
			}
		})
	}
}

func TestFileGetErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content, want string
		is                  error
	}{
		{"empty", "", "parse %s: invalid credential: empty file", ErrInvalid},
		{"no password", "system_id=acme\n", "parse %s: invalid credential: password: missing", ErrInvalid},
		{"no system_id", `{"password":"hunter2"}`, "system_id: missing", ErrInvalid},
		{"long password", "system_id=acme\npassword=hunter2hunter2\n", "password: longer than SMPP's 8 characters", ErrInvalid},
		{"long system_id", "system_id=acme-corporation-x\npassword=hunter2\n", "system_id: 18 characters, longer than SMPP's 15", ErrInvalid},
		{"not key=value", "system_id=acme\nhunter2\n", "line 2: want key=value", ErrInvalid},
		{"twice", "system_id=acme\npassword=a\npassword=hunter2\n", "line 3: password: given twice", ErrInvalid},
		{"json number", `{"system_id":"acme","password":12345}`, "password: want a string, got a number", ErrInvalid},
		{"truncated json", `{"system_id":"acme","password":"hunt`, "JSON: truncated", ErrInvalid},
		{"json garbage", `{"system_id":"acme","password":"hunter2"} {"x":1}`, "JSON: data after the object", ErrInvalid},
		{"json syntax", `{"system_id":"acme","password":hunter2}`, "JSON: invalid character at byte", ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			writeFile(t, p, tc.content)
			f := &File{Paths: map[string]string{"mno-a": p}}
			_, err := f.Get(context.Background(), "mno-a")
			want := tc.want
			if strings.Contains(want, "%s") {
				want = strings.Replace(want, "%s", p, 1)
			}
			if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, tc.is) {
				t.Fatalf("got %v, want %q", err, want)
			}
			if !strings.HasPrefix(err.Error(), `file: operator "mno-a": `) {
				t.Errorf("error does not name the operator: %v", err)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "hunt") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}

	f := &File{Paths: map[string]string{"mno-a": filepath.Join(dir, "missing")}}
	_, err := f.Get(context.Background(), "mno-a")
	if err == nil || err.Error() != `file: operator "mno-a": read `+filepath.Join(dir, "missing")+`: not found` || !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing file: %v", err)
	}
	_, err = f.Get(context.Background(), "mno-z")
	if !errors.Is(err, ErrUnknownOperator) {
		t.Fatalf("unknown operator: %v", err)
	}
}

// next returns the next credential or fails after wait.
func next(t *testing.T, ch <-chan Credential, wait time.Duration) Credential {
	t.Helper()
	select {
	case c, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		return c
	case <-time.After(wait):
		t.Fatalf("nothing sent within %s", wait)
	}
	return Credential{}
}

func closed(t *testing.T, ch <-chan Credential) {
	t.Helper()
	select {
	case c, ok := <-ch:
		if ok {
			t.Fatalf("sent %v after the context ended", c)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("channel not closed when the context ended")
	}
}

func TestRouter(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a"), "system_id=a\npassword=pa\n")
	writeFile(t, filepath.Join(dir, "b"), "system_id=b\npassword=pb\n")
	r := &Router{
		Sources: map[string]Source{"mno-b": &File{Paths: map[string]string{"mno-b": filepath.Join(dir, "b")}}},
		Default: &File{Paths: map[string]string{"mno-a": filepath.Join(dir, "a")}},
	}
	ctx := context.Background()
	if c, err := r.Get(ctx, "mno-a"); err != nil || c.SystemID != "a" {
		t.Fatalf("mno-a: %v %v", c, err)
	}
	if c, err := r.Get(ctx, "mno-b"); err != nil || c.SystemID != "b" {
		t.Fatalf("mno-b: %v %v", c, err)
	}
	if _, err := (&Router{}).Get(ctx, "mno-c"); !errors.Is(err, ErrUnknownOperator) {
		t.Fatalf("no source: %v", err)
	}
	wctx, cancel := context.WithCancel(ctx)
	ch := (&Router{}).Watch(wctx, "mno-c", time.Millisecond)
	cancel()
	closed(t, ch)
}

// A rendered file may carry the secret's KV v2 metadata (a Vault Agent
// template's version and created_time): the credential's revision and age.
// Malformed metadata is refused with the key named, never a value.
func TestFileCarriesTheSecretsMetadata(t *testing.T) {
	c, err := parseCredentialFile([]byte("system_id=acme\npassword=s3cret\nversion=7\ncreated_time=2026-09-01T10:00:00.123456Z\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 9, 1, 10, 0, 0, 123456000, time.UTC); c.Revision != 7 || !c.Created.Equal(want) {
		t.Fatalf("revision %d created %s, want 7 and %s", c.Revision, c.Created, want)
	}
	c, err = parseCredentialFile([]byte(`{"system_id":"acme","password":"s3cret","version":8}`))
	if err != nil || c.Revision != 8 || !c.Created.IsZero() {
		t.Fatalf("JSON: revision %d created %s err %v, want 8, unknown", c.Revision, c.Created, err)
	}
	for in, want := range map[string]string{
		"system_id=acme\npassword=s3cret\nversion=seven\n":          "version: want a whole number",
		"system_id=acme\npassword=s3cret\ncreated_time=yesterday\n": "created_time: want an RFC 3339 time",
		`{"system_id":"acme","password":"s3cret","version":true}`:   "version: want a number, got a boolean",
	} {
		_, err := parseCredentialFile([]byte(in))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: got %v, want ErrInvalid naming %q and no password", in, err, want)
		}
	}
	// A Vault secret's data is the operator's: a "version" among it is not
	// the metadata, and does not fail the read.
	c, err = fromMap(map[string]any{"system_id": "acme", "password": "s3cret", "version": "v2-final"})
	if err != nil || c.Revision != 0 {
		t.Fatalf("Vault data with a version key: revision %d err %v, want 0, nil", c.Revision, err)
	}
}
