package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/go-connections/nat"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/testcontainers/testcontainers-go"
)

// Restartable is a service container that a fault test kills (SIGKILL, as a
// crashed node) and starts again on the same data: its data lives on an
// anonymous volume, kept while the container exists, and its port is
// published on a fixed loopback port, so clients reconnect to the same
// address after the restart. (Containers of ContainersProvider keep their
// data on tmpfs, lost on a restart, and get a new host port at each start.)
//
// It is labelled like every testenv container, and Remove deletes it with its
// volume; ci/cleanup-containers.sh does too after a killed run.
type Restartable struct {
	ID       string
	Service  string
	HostPort int
	cli      *testcontainers.DockerClient
	ready    func(context.Context) error
}

// RestartableSpec says what to run.
type RestartableSpec struct {
	Session string // smpp-connector.session label
	Service string // smpp-connector.service label: nats, postgres
	Image   string
	Port    string   // container port, e.g. "4222/tcp"
	Env     []string // KEY=value
	Cmd     []string
	DataDir string // where the anonymous volume is mounted
	// Ready answers whether the service takes requests on the host port.
	Ready func(ctx context.Context, hostPort int) error
}

// StartRestartable creates and starts the container and waits until it is
// ready (at most two minutes).
func StartRestartable(ctx context.Context, s RestartableSpec) (*Restartable, error) {
	if err := CheckDocker(ctx, s.Image); err != nil {
		return nil, err
	}
	cli, err := newDockerClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	port, err := freeLoopbackPort()
	if err != nil {
		cli.Close()
		return nil, err
	}
	cport := nat.Port(s.Port)
	created, err := cli.ContainerCreate(ctx, &container.Config{
		Image: s.Image, Env: s.Env, Cmd: s.Cmd,
		ExposedPorts: nat.PortSet{cport: {}},
		Labels:       map[string]string{LabelKeyProject: projectLabel, LabelKeySession: s.Session, LabelKeyService: s.Service},
	}, &container.HostConfig{
		PortBindings: nat.PortMap{cport: {{HostIP: "127.0.0.1", HostPort: strconv.Itoa(port)}}},
		// Anonymous: removed with the container (docker rm -v).
		Mounts: []mount.Mount{{Type: mount.TypeVolume, Target: s.DataDir}},
	}, nil, nil, "")
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("create %s container (%s): %w", s.Service, s.Image, err)
	}
	r := &Restartable{ID: created.ID, Service: s.Service, HostPort: port, cli: cli,
		ready: func(ctx context.Context) error { return s.Ready(ctx, port) }}
	if err := r.Start(ctx); err != nil {
		return r, err
	}
	return r, nil
}

// Kill sends SIGKILL to the container's main process (the service dies at
// once, without a shutdown of its own) and waits until it has stopped.
func (r *Restartable) Kill(ctx context.Context) error {
	if err := r.cli.ContainerKill(ctx, r.ID, "KILL"); err != nil {
		return fmt.Errorf("kill %s: %w", r.Service, err)
	}
	wait, errc := r.cli.ContainerWait(ctx, r.ID, container.WaitConditionNotRunning)
	select {
	case <-wait:
		return nil
	case err := <-errc:
		return fmt.Errorf("wait for %s to stop: %w", r.Service, err)
	}
}

// Start starts the (stopped) container on its data and waits until the
// service is ready, at most two minutes.
func (r *Restartable) Start(ctx context.Context) error {
	if err := r.cli.ContainerStart(ctx, r.ID, container.StartOptions{}); err != nil {
		return fmt.Errorf("start %s: %w", r.Service, err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := r.ready(cctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s not ready on 127.0.0.1:%d: %w", r.Service, r.HostPort, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Exec runs a command in the container and returns its exit code.
func (r *Restartable) Exec(ctx context.Context, cmd ...string) (int, error) {
	ex, err := r.cli.ContainerExecCreate(ctx, r.ID, container.ExecOptions{Cmd: cmd})
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", r.Service, err)
	}
	if err := r.cli.ContainerExecStart(ctx, ex.ID, container.ExecStartOptions{}); err != nil {
		return -1, fmt.Errorf("exec in %s: %w", r.Service, err)
	}
	for {
		in, err := r.cli.ContainerExecInspect(ctx, ex.ID)
		if err != nil {
			return -1, fmt.Errorf("exec in %s: %w", r.Service, err)
		}
		if !in.Running {
			return in.ExitCode, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Remove deletes the container and its volume, even when ctx is done.
func (r *Restartable) Remove(ctx context.Context) error {
	if r == nil {
		return nil
	}
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
	}
	err := r.cli.ContainerRemove(ctx, r.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
	r.cli.Close()
	if err != nil {
		return fmt.Errorf("remove %s container: %w", r.Service, err)
	}
	return nil
}

func freeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// StartRestartableNATS runs the NATS image with JetStream storing its
// streams on the volume, and returns it with its client URL.
func StartRestartableNATS(ctx context.Context, session string) (*Restartable, string, error) {
	r, err := StartRestartable(ctx, RestartableSpec{
		Session: session, Service: "nats", Image: ImagesFromEnv().NATS, Port: "4222/tcp",
		Cmd: []string{"--jetstream", "--store_dir", "/data"}, DataDir: "/data",
		Ready: func(ctx context.Context, port int) error {
			nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", port), nats.Timeout(2*time.Second))
			if err != nil {
				return err
			}
			defer nc.Close()
			// JetStream answers only once its store is recovered.
			_, err = nc.Request("$JS.API.INFO", nil, 2*time.Second)
			return err
		},
	})
	if r == nil {
		return nil, "", err
	}
	return r, fmt.Sprintf("nats://127.0.0.1:%d", r.HostPort), err
}

// StartRestartablePostgres runs the PostgreSQL image with its cluster on the
// volume and the production's durability settings (fsync and
// synchronous_commit on: the defaults), and returns it with the admin DSN.
func StartRestartablePostgres(ctx context.Context, session string) (*Restartable, string, error) {
	password := randomHex(12)
	var dsn string
	r, err := StartRestartable(ctx, RestartableSpec{
		Session: session, Service: "postgres", Image: ImagesFromEnv().Postgres, Port: "5432/tcp",
		Env:     []string{"POSTGRES_USER=smpp", "POSTGRES_PASSWORD=" + password, "POSTGRES_DB=postgres"},
		Cmd:     []string{"postgres", "-c", "max_connections=200"},
		DataDir: "/var/lib/postgresql/data",
		Ready: func(ctx context.Context, port int) error {
			dsn = fmt.Sprintf("postgres://smpp:%s@127.0.0.1:%d/postgres?sslmode=disable", password, port)
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			var fsync string
			if err := conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil {
				return err
			}
			if fsync != "on" {
				return errors.New("fsync is " + fsync)
			}
			return nil
		},
	})
	if r == nil {
		return nil, "", err
	}
	return r, dsn, err
}
