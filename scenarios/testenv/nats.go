package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/natscontract"
)

// NATS is a nats-server with JetStream running inside this process.
type NATS struct {
	srv *server.Server
	dir string
}

// StartNATS starts a JetStream-enabled nats-server on host:port (port 0 or
// -1 picks a free one), storing streams under dir (a temporary directory when
// empty, removed on Shutdown).
func StartNATS(host string, port int, dir string) (*NATS, error) {
	e := &NATS{}
	if dir == "" {
		d, err := os.MkdirTemp("", "smpp-nats-*")
		if err != nil {
			return nil, fmt.Errorf("nats: temp dir: %w", err)
		}
		dir, e.dir = d, d
	}
	srv, err := server.NewServer(&server.Options{
		Host: host, Port: port, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true,
		JetStreamMaxMemory: 256 << 20, JetStreamMaxStore: 4 << 30,
	})
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("nats: embedded server not ready within 10s")
	}
	e.srv = srv
	return e, nil
}

// URL is the client URL of the server.
func (e *NATS) URL() string { return e.srv.ClientURL() }

// Shutdown stops the server and removes a temporary store.
func (e *NATS) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	if e.dir != "" {
		os.RemoveAll(e.dir)
	}
}

// JetStream starts an embedded server for one test, on a free port, and
// returns it with a JetStream context on a connection of its own; both end
// with the test. Streams are the test's to create (natscontract).
func JetStream(t TB) (*NATS, jetstream.JetStream) {
	t.Helper()
	srv, err := StartNATS("127.0.0.1", -1, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(fmt.Errorf("connect to the embedded NATS: %w", err))
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(fmt.Errorf("jetstream: %w", err))
	}
	return srv, js
}

// ContractJetStream is JetStream with the contract's streams provisioned the
// way the connector provisions them (natscontract.EnsureStreams).
func ContractJetStream(t TB) (*NATS, jetstream.JetStream) {
	t.Helper()
	srv, js := JetStream(t)
	if err := natscontract.EnsureStreams(context.Background(), js, natscontract.DefaultNames()); err != nil {
		t.Fatal(err)
	}
	return srv, js
}
