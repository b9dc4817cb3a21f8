package secrets

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MaxFileSize bounds a rendered credential file.
const MaxFileSize = 64 << 10

// File reads credentials from files rendered by Vault Agent or the Secrets
// Store CSI driver, one per operator, either JSON
//
//	{"system_id": "acme", "password": "s3cret", "system_type": "VMA"}
//
// or key=value lines (blank lines and lines starting with # are skipped;
// spaces around keys and values are trimmed; a value in double quotes is
// unquoted like a Go string):
//
//	system_id=acme
//	password=s3cret
//
// The keys version and created_time, when present, are the secret's KV v2
// metadata (Credential.Revision and Created: the age the rotation schedule
// watches), as a Vault Agent template writes them:
//
//	version={{ .Data.metadata.version }}
//	created_time={{ .Data.metadata.created_time }}
//
// Other keys are ignored. The Version of a credential identifies the file's
// content: an HMAC-SHA256 with a key drawn at start, so that versions can be
// compared within the process but a logged version cannot be used to guess
// a short password offline.
type File struct {
	// Paths maps operator ids to their credential file (SetPath changes
	// one while the connector runs).
	Paths map[string]string
	// Logger for rotations and unreadable files (default slog.Default()).
	Logger *slog.Logger

	mu sync.RWMutex
}

// SetPath points the operator at another credential file ("": none).
func (f *File) SetPath(operatorID, path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if path == "" {
		delete(f.Paths, operatorID)
		return
	}
	if f.Paths == nil {
		f.Paths = map[string]string{}
	}
	f.Paths[operatorID] = path
}

// Get retries this often, this far apart, when a file does not parse: it
// may be caught in the middle of a rotation.
const (
	fileGetAttempts = 3
	fileGetPause    = 50 * time.Millisecond
)

// Get implements Source.
func (f *File) Get(ctx context.Context, operatorID string) (Credential, error) {
	for attempt := 1; ; attempt++ {
		c, _, err := f.read(operatorID)
		if err == nil || !errors.Is(err, ErrInvalid) || attempt == fileGetAttempts {
			return c, err
		}
		select {
		case <-ctx.Done():
			return Credential{}, err
		case <-time.After(fileGetPause):
		}
	}
}

func (f *File) path(operatorID string) (string, error) {
	f.mu.RLock()
	p, ok := f.Paths[operatorID]
	f.mu.RUnlock()
	if !ok || p == "" {
		return "", &Error{Source: "file", Operator: operatorID, Op: "read", Err: fmt.Errorf("%w: no credential file configured", ErrUnknownOperator)}
	}
	return p, nil
}

// read reads and parses the operator's file; info is the file's (followed
// symlinks) state before reading.
func (f *File) read(operatorID string) (Credential, fs.FileInfo, error) {
	p, err := f.path(operatorID)
	if err != nil {
		return Credential{}, nil, err
	}
	fail := func(op string, err error) error {
		return &Error{Source: "file", Operator: operatorID, Op: op, Path: p, Err: err}
	}
	info, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Credential{}, nil, fail("read", ErrNotFound)
		}
		return Credential{}, nil, fail("read", pathless(err))
	}
	b, err := readBounded(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Credential{}, nil, fail("read", ErrNotFound)
		}
		return Credential{}, nil, fail("read", pathless(err))
	}
	c, err := parseCredentialFile(b)
	if err != nil {
		return Credential{}, nil, fail("parse", err)
	}
	c.Version = contentVersion(b)
	return c, info, nil
}

func readBounded(p string) ([]byte, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalid, MaxFileSize)
	}
	return b, nil
}

// pathless drops the path from an *fs.PathError: Error names it already.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parseCredentialFile reads JSON or key=value lines. Errors name lines and
// keys, never values.
func parseCredentialFile(b []byte) (Credential, error) {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	if len(trimmed) == 0 {
		return Credential{}, fmt.Errorf("%w: empty file", ErrInvalid)
	}
	m := map[string]any{}
	if trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		if err := dec.Decode(&m); err != nil {
			// json's messages quote at most a character of the input.
			var se *json.SyntaxError
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return Credential{}, fmt.Errorf("%w: JSON: truncated", ErrInvalid)
			}
			if errors.As(err, &se) {
				return Credential{}, fmt.Errorf("%w: JSON: %s at byte %d", ErrInvalid, jsonSyntaxMsg(se), se.Offset)
			}
			return Credential{}, fmt.Errorf("%w: JSON: not an object of strings", ErrInvalid)
		}
		if dec.More() {
			return Credential{}, fmt.Errorf("%w: JSON: data after the object", ErrInvalid)
		}
		return fromFileMap(m)
	}
	for i, line := range strings.Split(string(trimmed), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return Credential{}, fmt.Errorf("%w: line %d: want key=value", ErrInvalid, i+1)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			u, err := strconv.Unquote(v)
			if err != nil {
				return Credential{}, fmt.Errorf("%w: line %d: %s: bad quoted value", ErrInvalid, i+1, k)
			}
			v = u
		}
		if _, dup := m[k]; dup {
			return Credential{}, fmt.Errorf("%w: line %d: %s: given twice", ErrInvalid, i+1, k)
		}
		m[k] = v
	}
	return fromFileMap(m)
}

// jsonSyntaxMsg keeps json's message but never a quoted piece of input.
func jsonSyntaxMsg(se *json.SyntaxError) string {
	msg := se.Error()
	if i := strings.Index(msg, "'"); i >= 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	return msg
}

// versionKey makes file versions unguessable outside this process.
var versionKey = func() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("secrets: no randomness: " + err.Error())
	}
	return k
}()

func contentVersion(b []byte) string {
	m := hmac.New(sha256.New, versionKey)
	m.Write(b)
	return "hmac:" + hex.EncodeToString(m.Sum(nil))[:16]
}

// Watch implements Source by polling. fsnotify is not used: Kubernetes
// updates mounted Secrets and CSI volumes by swapping a "..data" symlink to a
// new directory, an event inotify watches on the file itself miss. Each poll
// stats the file through its symlinks and reads it when its identity, size
// or mtime changed, or when the last read may have raced a write within the
// file system's timestamp granularity; a changed content hash is a new
// version. A file that does not parse, or holds an invalid credential, is
// taken for a rotation caught half-way: nothing is sent and it is read again
// at the next poll (and logged if it stays so).
func (f *File) Watch(ctx context.Context, operatorID string, every time.Duration) <-chan Credential {
	log := f.Logger
	if log == nil {
		log = slog.Default()
	}
	p, _ := f.path(operatorID)
	log = log.With("component", "secrets-file", "operator", operatorID, "path", p)

	var (
		lastVersion string
		lastInfo    fs.FileInfo // of the last successful read
		lastRead    time.Time
		failures    int
		lastErr     string
	)
	poll := func() (Credential, bool) {
		if lastInfo != nil {
			info, err := os.Stat(p)
			if err == nil && sameState(info, lastInfo) && lastRead.Sub(info.ModTime()) > racyWindow {
				return Credential{}, false // unchanged
			}
		}
		started := time.Now()
		c, info, err := f.read(operatorID)
		if err != nil {
			failures++
			msg := err.Error()
			// One failed read is expected mid-rotation; say so when it stays.
			if failures >= 3 && msg != lastErr && ctx.Err() == nil {
				log.Warn("secrets: credential file unusable; retrying", "error", err, "polls", failures)
				lastErr = msg
			}
			lastInfo = nil
			return Credential{}, false
		}
		failures, lastErr = 0, ""
		lastInfo, lastRead = info, started
		if c.Version == lastVersion {
			return Credential{}, false
		}
		lastVersion = c.Version
		return c, true
	}
	poll() // the baseline
	return watch(ctx, every, func() (Credential, bool) {
		c, changed := poll()
		if changed {
			log.Info("secrets: new credential file version", "version", c.Version)
		}
		return c, changed
	})
}

// racyWindow: a file modified less than this before it was read may be
// written again with the same mtime and size (coarse timestamps); it is read
// again at the next poll.
const racyWindow = 2 * time.Second

func sameState(a, b fs.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
