package testenv

import (
	"context"
	"net"
	"net/url"
	"os"

	"github.com/docker/docker/api/types/network"
)

// EnvHostOverride is testcontainers-go's variable for the address at which
// published container ports are reached.
const EnvHostOverride = "TESTCONTAINERS_HOST_OVERRIDE"

// configureContainerHost makes the published ports be reached on the loopback
// address when the tests share the Docker engine's network namespace but look,
// to testcontainers-go, as if they ran inside a container (a /.dockerenv file):
// it would then use the bridge network's gateway, or, when the bridge has no
// gateway recorded (Docker 20.10), the machine's default route, which is not
// where the ports are. An explicit TESTCONTAINERS_HOST_OVERRIDE always wins,
// and so does a tcp:// DOCKER_HOST (testcontainers-go uses its host then).
func configureContainerHost(ctx context.Context) {
	if os.Getenv(EnvHostOverride) != "" {
		return
	}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		if u, err := url.Parse(h); err == nil && u.Scheme != "unix" && u.Scheme != "npipe" {
			return
		}
	}
	if _, err := os.Stat("/.dockerenv"); err != nil {
		return // not "in a container": testcontainers-go uses localhost already
	}
	cli, err := newDockerClient(ctx)
	if err != nil {
		return
	}
	defer cli.Close()
	bridge, err := cli.NetworkInspect(ctx, "bridge", network.InspectOptions{})
	if err != nil {
		return
	}
	name := bridge.Options["com.docker.network.bridge.name"]
	if name == "" {
		name = "docker0"
	}
	if _, err := net.InterfaceByName(name); err != nil {
		return // the engine's bridge is not here: a container of its own; keep testcontainers' choice
	}
	os.Setenv(EnvHostOverride, "127.0.0.1")
	Logf("the Docker engine shares this network namespace (%s is local): reaching containers at 127.0.0.1 (%s)",
		name, EnvHostOverride)
}
