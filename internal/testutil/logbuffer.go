package testutil

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// LogBuffer is a bytes.Buffer behind a mutex: a logger (or a process's
// stdout) writes to it from its own goroutines while the test reads it. The
// zero value is ready to use.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Contains reports whether s has been written.
func (l *LogBuffer) Contains(s string) bool { return strings.Contains(l.String(), s) }

// WaitFor waits up to timeout for s to be written; the error shows what was
// written instead.
func (l *LogBuffer) WaitFor(s string, timeout time.Duration) error {
	err := Poll(context.Background(), timeout, 10*time.Millisecond, func() error {
		if l.Contains(s) {
			return nil
		}
		return fmt.Errorf("%q not written", s)
	})
	if err != nil {
		return fmt.Errorf("%w; written:\n%s", err, l.String())
	}
	return nil
}
