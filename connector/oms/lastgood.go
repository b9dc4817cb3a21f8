package oms

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"

	"github.com/smpp-connector/smpp-connector/connector/config"
)

// saveLastGood keeps an answer that was put in force, as it came (an
// operators document: `smpp-connector check-config FILE` reads it), so that
// a start while the service cannot be reached has a configuration. Failing
// to write it does not refuse the configuration: it is logged and shown in
// the status.
func (c *Client) saveLastGood(body []byte) {
	err := writeAtomic(c.opts.CacheFile, body)
	c.mu.Lock()
	c.status.CacheError = ""
	if err != nil {
		c.status.CacheError = err.Error()
	}
	c.mu.Unlock()
	if err != nil {
		c.log.Error("operator-management-service: cannot keep the last good configuration: a start while the service is unreachable will have none",
			"file", c.opts.CacheFile, "error", err)
	}
}

// loadLastGood reads and validates the last good file.
func (c *Client) loadLastGood() (Result, [sha256.Size]byte, error) {
	path := c.opts.CacheFile
	body, err := os.ReadFile(path)
	if err != nil {
		return Result{}, [sha256.Size]byte{}, fmt.Errorf("no last good configuration in %s: %w", path, err)
	}
	f, err := config.Parse(body)
	if err != nil {
		return Result{}, [sha256.Size]byte{}, fmt.Errorf("last good configuration %s is not valid: %w", path, err)
	}
	sum := sha256.Sum256(body)
	return Result{File: f, Version: versionOf(f.Version, "", sum), Changed: true, FromDisk: true}, sum, nil
}

// writeAtomic replaces path with data, mode 0600, so that a reader (or a
// crash) sees the old file or the new one, never half of one: a temporary
// file in the same directory, synced, renamed over path, the directory
// synced.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // the rename itself durable; not all filesystems allow it
		_ = d.Close()
	}
	return nil
}
