package service

import (
	"context"
	"errors"

	"github.com/smpp-connector/smpp-connector/connector/config"
)

// Running is a started connector: its HTTP address, and the way to stop it
// and wait until it has.
type Running struct {
	addr string
	stop context.CancelFunc
	done chan struct{}
	err  error
}

// Start starts the connector and returns once it runs (every operator's
// runner started, the HTTP endpoints listening), or with the error that
// stopped it starting. It runs until ctx ends or Stop is called. Options'
// Ready and HTTPAddr are Run's; Start's caller has the handle instead.
func Start(ctx context.Context, svc config.Service, ops *config.File, o Options) (*Running, error) {
	runCtx, cancel := context.WithCancel(ctx)
	c := &Running{stop: cancel, done: make(chan struct{})}
	started := make(chan string, 1)
	go func() {
		defer close(c.done)
		c.err = run(runCtx, svc, ops, o, func(addr string) { started <- addr })
	}()
	select {
	case c.addr = <-started:
		return c, nil
	case <-c.done:
		cancel()
		if c.err == nil {
			c.err = errors.New("connector stopped before it was running")
		}
		return nil, c.err
	}
}

// HTTPAddr is the address the HTTP endpoints (health, readiness, metrics)
// listen on.
func (c *Running) HTTPAddr() string { return c.addr }

// Stop shuts the connector down gracefully (in-flight messages are answered
// and stored, binds closed) and returns what Wait returns.
func (c *Running) Stop() error {
	c.stop()
	return c.Wait()
}

// Wait waits until the connector has stopped (its context ended or Stop was
// called) and returns why it stopped, nil for a clean shutdown.
func (c *Running) Wait() error {
	<-c.done
	return c.err
}

// Done is closed once the connector has stopped.
func (c *Running) Done() <-chan struct{} { return c.done }
