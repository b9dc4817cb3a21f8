package oms

import (
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
)

// Beside config.Parse (fuzzed in connector/config, FuzzParse), an answer
// goes through the client's own handling: its hash, the version read from a
// refused document for the message, the ETag. Whatever the body, the answer
// is either taken whole (a valid configuration with a version) or refused
// with ReasonInvalid, the configuration in force unchanged.
func FuzzAnswer(f *testing.F) {
	f.Add([]byte(operators("v1", 100, "mno-a")), `"1"`)
	f.Add([]byte(operators("", 0, "mno-a")), `W/"x"`)
	f.Add([]byte(`{"version": ["x"], "operators": []}`), "")
	f.Add([]byte("version: &a [*a]\noperators: *a"), `""`)
	f.Add([]byte{0xff, 0xfe, '{'}, "\x00")
	dir := f.TempDir()
	c, err := New(Options{URL: "https://oms.test", CacheFile: filepath.Join(dir, "cache.json"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	good := []byte(operators("good", 1, "mno-a"))
	f.Fuzz(func(t *testing.T, body []byte, etag string) {
		if _, err := c.take(good, ""); err != nil {
			t.Fatal(err)
		}
		before, _ := c.Current()
		res, err := c.take(body, etag)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Reason != ReasonInvalid {
				t.Fatalf("refused without ReasonInvalid: %v", err)
			}
			if cur, _ := c.Current(); cur.File != before.File {
				t.Fatal("a refused answer changed the configuration in force")
			}
			return
		}
		if res.File == nil || res.Version == "" || res.File.Validate() != nil {
			t.Fatalf("taken: %+v", res)
		}
	})
}
