package testenv

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ContainerCPU reads a service container's cumulative CPU time: it grows
// with the work the container does (a query that keeps PostgreSQL busy),
// which is what the connector benchmark reads before and after its run.
func TestContainerCPUGrowsWithTheContainersWork(t *testing.T) {
	if os.Getenv(EnvProvider) == ProviderExternal {
		t.Skip("SMPP_TEST_ENV=external: no Docker expected")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p := NewContainersProvider(NewSessionID(), ImagesFromEnv())
	defer func() {
		if err := p.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	e, err := p.Start(ctx, Services{Postgres: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.ContainerCPU(ctx, "nats"); err == nil {
		t.Fatal("CPU of a service that was not started")
	}
	before, err := p.ContainerCPU(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, e.PostgresDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// About 100 ms of one core on this machine: far above the cgroup's
	// nanosecond resolution, whatever the load.
	if _, err := conn.Exec(ctx, "SELECT count(*) FROM generate_series(1, 3000000)"); err != nil {
		t.Fatal(err)
	}
	after, err := p.ContainerCPU(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	if before <= 0 || after <= before {
		t.Fatalf("CPU before %v, after a query %v", before, after)
	}
	t.Logf("postgres CPU: %v before, %v after the query", before, after)
}
