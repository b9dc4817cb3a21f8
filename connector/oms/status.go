package oms

import (
	"fmt"
	"time"
)

// Status is the state of the source, for /readyz and metrics.
type Status struct {
	// URL is the operators URL asked.
	URL string
	// Reachable says that the last request got an HTTP answer over mutual
	// TLS (even one refused: see LastError).
	Reachable bool
	// LastAttempt and LastSuccess are when the service was last asked and
	// last gave a usable answer (200 valid, or 304); zero when never.
	LastAttempt, LastSuccess time.Time
	// LastError is why the last request failed ("" when it did not), and
	// LastErrorReason its Reason* constant.
	LastError, LastErrorReason string
	// Version and Operators describe the configuration in force ("" and 0
	// before the first).
	Version   string
	Operators int
	// FromDisk says that the configuration in force was read from the last
	// good file at start, the service not having answered since.
	FromDisk bool
	// CacheFile is the last good file; CacheError why it could not be
	// written the last time ("" when it was).
	CacheFile, CacheError string
}

// Status returns the source's state.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Problem says in a sentence what is wrong, "" when nothing is: what
// /readyz shows. A configuration in force keeps the connector working
// (degraded, not unready); none at all is a reason not to be ready.
func (s Status) Problem() string {
	switch {
	case s.Version == "":
		return fmt.Sprintf("no operators configuration from operator-management-service yet: %s", s.LastError)
	case s.FromDisk:
		return fmt.Sprintf("operator-management-service cannot be used (%s): running version %s from the last good file %s", s.LastError, s.Version, s.CacheFile)
	case s.LastError != "":
		return fmt.Sprintf("operator-management-service: the last request failed (%s): version %s stays in force", s.LastError, s.Version)
	case s.CacheError != "":
		return fmt.Sprintf("cannot keep the last good configuration in %s: %s", s.CacheFile, s.CacheError)
	}
	return ""
}

// record updates the status after a fetch.
func (c *Client) record(res Result, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	s := &c.status
	s.LastAttempt = now
	if err != nil {
		s.LastError = err.Error()
		s.LastErrorReason = ReasonUnreachable
		if e, ok := err.(*Error); ok {
			s.LastErrorReason = e.Reason
		}
		s.Reachable = s.LastErrorReason == ReasonHTTP || s.LastErrorReason == ReasonInvalid
		return
	}
	s.Reachable, s.LastSuccess, s.LastError, s.LastErrorReason = true, now, "", ""
	s.FromDisk, s.Version, s.Operators = false, res.Version, len(res.File.Operators)
}

// recordFromDisk updates the status once the last good file is in force.
func (c *Client) recordFromDisk(res Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status.FromDisk, c.status.Version, c.status.Operators = true, res.Version, len(res.File.Operators)
}
