package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/testcontainers/testcontainers-go"
)

// ErrNoDocker is returned (wrapped) when no Docker engine answers.
var ErrNoDocker = errors.New("no Docker engine reachable")

// ErrImageMissing is returned (wrapped) when a local look-alike image is absent.
var ErrImageMissing = errors.New("image missing")

// dockerPingTimeout bounds the preflight: a missing engine is reported at once,
// not after a container start has timed out.
const dockerPingTimeout = 10 * time.Second

// CheckDocker answers whether a Docker engine is reachable (the way
// testcontainers-go finds it: DOCKER_HOST, docker contexts, the default socket)
// and whether the given images are there. A local look-alike image (smpp-ci/...)
// that is missing is an error naming the command that builds it; other images
// are left for testcontainers-go to pull.
func CheckDocker(ctx context.Context, images ...string) error {
	ctx, cancel := context.WithTimeout(ctx, dockerPingTimeout)
	defer cancel()
	cli, err := newDockerClient(ctx)
	if err == nil {
		defer cli.Close()
		_, err = cli.Ping(ctx)
	}
	if err != nil {
		return fmt.Errorf("%w (%s): %v\n"+
			"Start Docker (or point DOCKER_HOST at a running engine), or run the suites against "+
			"services that already run: %s=%s with %s, %s, %s and %s",
			ErrNoDocker, dockerHostForMessage(), err, EnvProvider, ProviderExternal,
			EnvPostgresDSN, EnvVaultAddr, EnvVaultToken, EnvNATSURL)
	}
	var missing []string
	for _, img := range images {
		if !strings.HasPrefix(img, localImagePrefix) {
			continue
		}
		if _, err := cli.ImageInspect(ctx, img); err != nil {
			if errdefs.IsNotFound(err) {
				missing = append(missing, img)
				continue
			}
			return fmt.Errorf("inspect image %s: %w", img, err)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s not found locally: run `make images` (ci/build-images.sh) to build "+
			"the look-alike images, or set %s/%s/%s to images a registry serves",
			ErrImageMissing, strings.Join(missing, ", "), EnvPostgresImage, EnvVaultImage, EnvNATSImage)
	}
	return nil
}

// newDockerClient returns testcontainers-go's client; it panics on some
// configuration errors, which are turned into errors here.
func newDockerClient(ctx context.Context) (cli *testcontainers.DockerClient, err error) {
	defer func() {
		if r := recover(); r != nil {
			cli, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return testcontainers.NewDockerClientWithOpts(ctx)
}

func dockerHostForMessage() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return "DOCKER_HOST=" + h
	}
	return "DOCKER_HOST unset"
}
