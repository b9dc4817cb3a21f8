package service

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"

	"github.com/smpp-connector/smpp-connector/internal/procstat"
	"github.com/smpp-connector/smpp-connector/internal/testutil"
)

// The benchmark's modes, chosen in the environment.
const (
	// envBenchProcesses=1 runs NATS as its own process (the nats-server of
	// the root module's tool directive) next to the connector's, and
	// PostgreSQL durable (fsync and synchronous_commit on: TestMain sets
	// testenv.EnvPostgresDurable), and reports each one's CPU per message.
	envBenchProcesses = "SMPP_BENCH_PROCESSES"
	// envBenchRate=N publishes N commands a second instead of as fast as
	// possible (latencies at a steady load rather than under a backlog).
	envBenchRate = "SMPP_BENCH_RATE"
)

func benchProcesses() bool { return os.Getenv(envBenchProcesses) == "1" }

// benchRate is the steady publishing rate, 0 for as fast as possible.
func benchRate(b testing.TB) int {
	v := os.Getenv(envBenchRate)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number of commands a second", envBenchRate, v)
	}
	return n
}

// natsProcess is a nats-server running as its own process.
type natsProcess struct {
	url string
	pid int
}

// startNATSProcess builds the nats-server the root module pins (go.mod's
// tool directive: the same version as the embedded one and the CI image) and
// runs it with JetStream on, its file store in a temporary directory, the
// embedded server's limits; it is stopped with SIGTERM when b ends.
func startNATSProcess(b testing.TB) *natsProcess {
	dir := b.TempDir()
	bin := filepath.Join(dir, "nats-server")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2").CombinedOutput(); err != nil {
		b.Fatalf("build nats-server: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	conf := filepath.Join(dir, "nats.conf")
	store := filepath.Join(dir, "jetstream")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("listen: %q\njetstream {\n  store_dir: %q\n  max_memory_store: 256MB\n  max_file_store: 4GB\n}\n",
		addr, store)), 0o600); err != nil {
		b.Fatal(err)
	}
	logs := &testutil.LogBuffer{}
	cmd := exec.Command(bin, "-c", conf)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			b.Errorf("nats-server still running 30s after SIGTERM\n%s", logs.String())
		}
	})
	url := "nats://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			b.Fatalf("nats-server exited at start: %v\n%s", err, logs.String())
		default:
		}
		nc, err := nats.Connect(url)
		if err == nil {
			nc.Close()
			return &natsProcess{url: url, pid: cmd.Process.Pid}
		}
		if time.Now().After(deadline) {
			b.Fatalf("nats-server not accepting connections after 30s: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// requireDurable fails unless the database flushes every commit: the
// processes mode promises production's durability, which TestMain asks the
// test environment for (an external PostgreSQL may have other settings).
func requireDurable(b testing.TB, dsn string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	for _, name := range []string{"fsync", "synchronous_commit"} {
		var v string
		if err := c.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
			b.Fatal(err)
		}
		if v != "on" {
			b.Fatalf("PostgreSQL has %s=%s: %s=1 measures with every commit flushed", name, v, envBenchProcesses)
		}
	}
}

// cpuUse is the CPU time each process has used, in seconds.
type cpuUse struct{ connector, nats, postgres float64 }

func (u cpuUse) sub(v cpuUse) cpuUse {
	return cpuUse{u.connector - v.connector, u.nats - v.nats, u.postgres - v.postgres}
}

// readCPU reads the connector's and NATS's CPU time from /proc (NATS only
// when it is a process of its own: natsPID 0 otherwise) and PostgreSQL's
// from its container's cgroup (0 when it is not a container this test
// environment started).
func readCPU(b testing.TB, connectorPID, natsPID int) cpuUse {
	u := cpuUse{connector: cpuSeconds(connectorPID)}
	if natsPID != 0 {
		u.nats = cpuSeconds(natsPID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if d, err := env.ContainerCPU(ctx, "postgres"); err == nil {
		u.postgres = d.Seconds()
	} else if benchProcesses() {
		b.Fatalf("PostgreSQL's CPU: %v", err)
	}
	return u
}

// cpuSeconds is the user+system CPU time a process has used (0 when it
// cannot be read).
func cpuSeconds(pid int) float64 {
	s, _ := procstat.CPU(pid)
	return s
}
