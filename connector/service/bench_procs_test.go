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
	ctx, c, done := dbConn(b, dsn)
	defer done()
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

// dbWork is what the database has done: transactions committed (in the
// connector's database: the benchmark's own) and WAL written (the whole
// server's). Each commit costs a WAL flush and a fixed share of CPU
// whatever its rows, which dominates at moderate rates.
type dbWork struct {
	commits  int64
	walBytes float64
}

func (w dbWork) sub(v dbWork) dbWork { return dbWork{w.commits - v.commits, w.walBytes - v.walBytes} }

// readDBWork reads dbWork (pg_stat_database, pg_stat_wal: PostgreSQL 14 or
// later). The statistics are flushed by each backend at most every second
// and at its transaction ends: read after the run, they lag by that.
func readDBWork(b testing.TB, dsn string) dbWork {
	ctx, c, done := dbConn(b, dsn)
	defer done()
	var w dbWork
	err := c.QueryRow(ctx, `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),
		(SELECT wal_bytes::float8 FROM pg_stat_wal)`).Scan(&w.commits, &w.walBytes)
	if err != nil {
		b.Fatalf("read the database's commits and WAL: %v", err)
	}
	return w
}

// envBenchStatements set to 1 prints the database's statements after the
// run, by total time, with their calls, rows and WAL (records, full-page
// images, bytes): where PostgreSQL's share of a message goes. It needs the
// server started with pg_stat_statements preloaded:
// SMPP_TEST_PG_SETTINGS=shared_preload_libraries=pg_stat_statements.
const envBenchStatements = "SMPP_BENCH_STATEMENTS"

// resetStatements empties pg_stat_statements before the run (creating the
// extension in the benchmark's database); it reports whether it can.
func resetStatements(b testing.TB, dsn string) bool {
	if os.Getenv(envBenchStatements) != "1" {
		return false
	}
	ctx, c, done := dbConn(b, dsn)
	defer done()
	if _, err := c.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		b.Fatalf("%s=1: %v (start PostgreSQL with SMPP_TEST_PG_SETTINGS=shared_preload_libraries=pg_stat_statements)", envBenchStatements, err)
	}
	if _, err := c.Exec(ctx, "SELECT pg_stat_statements_reset()"); err != nil {
		b.Fatal(err)
	}
	return true
}

// printStatements writes the run's statements to stderr, per message.
func printStatements(b testing.TB, dsn string, n int) {
	ctx, c, done := dbConn(b, dsn)
	defer done()
	rows, err := c.Query(ctx, `SELECT calls, rows, total_exec_time, wal_records, wal_fpi, wal_bytes::float8,
		regexp_replace(left(query, 110), '\s+', ' ', 'g')
		FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		ORDER BY total_exec_time DESC LIMIT 25`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	per := func(v float64) float64 { return v / float64(n) }
	fmt.Fprintf(os.Stderr, "%8s %8s %9s %8s %8s %9s  %s\n", "calls/k", "rows/msg", "ms/kmsg", "walrec", "fpi/kmsg", "walB/msg", "statement")
	for rows.Next() {
		var (
			calls, nrows, recs, fpi int64
			ms, bytes               float64
			q                       string
		)
		if err := rows.Scan(&calls, &nrows, &ms, &recs, &fpi, &bytes, &q); err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(os.Stderr, "%8.1f %8.2f %9.1f %8.2f %8.1f %9.0f  %s\n", per(float64(calls))*1000, per(float64(nrows)),
			per(ms)*1000, per(float64(recs)), per(float64(fpi))*1000, per(bytes), q)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	// Row writes per message by table: an update that is not HOT writes
	// an entry in every index of its table.
	// Sequential scans, and the rows they read, say which table a
	// statement reads whole (a queue bloated with deleted rows).
	trows, err := c.Query(ctx, `SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del, seq_scan, seq_tup_read
		FROM pg_stat_user_tables WHERE schemaname = 'smpp' AND n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY relname`)
	if err != nil {
		b.Fatal(err)
	}
	defer trows.Close()
	fmt.Fprintf(os.Stderr, "%-24s %8s %8s %8s %8s %8s %9s  (per message, whole database life)\n", "table", "ins", "upd", "hot", "del", "seqscan", "seqrows")
	for trows.Next() {
		var (
			name                string
			ins, upd, hot, dels int64
			seq, seqRows        int64
		)
		if err := trows.Scan(&name, &ins, &upd, &hot, &dels, &seq, &seqRows); err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(os.Stderr, "%-24s %8.2f %8.2f %8.2f %8.2f %8.3f %9.1f\n", name, per(float64(ins)), per(float64(upd)), per(float64(hot)),
			per(float64(dels)), per(float64(seq)), per(float64(seqRows)))
	}
}

// dbConn connects to the benchmark's database for a few queries; done
// closes the connection.
func dbConn(b testing.TB, dsn string) (ctx context.Context, c *pgx.Conn, done func()) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	return ctx, c, func() { c.Close(ctx); cancel() }
}
