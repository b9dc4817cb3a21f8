package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/container"
)

// ContainerCPU is the CPU time a service's container ("postgres", "vault",
// "nats") has used since it started: the engine's cumulative figure of the
// container's cgroup (every process in it, backends that have exited
// included), in nanoseconds. Load measurements read it before and after a
// run.
func (p *ContainersProvider) ContainerCPU(ctx context.Context, service string) (time.Duration, error) {
	id, err := p.containerID(ctx, service)
	if err != nil {
		return 0, err
	}
	cli, err := newDockerClient(ctx)
	if err != nil {
		return 0, fmt.Errorf("docker client: %w", err)
	}
	defer cli.Close()
	r, err := cli.ContainerStatsOneShot(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("stats of the %s container: %w", service, err)
	}
	defer r.Body.Close()
	var s container.StatsResponse
	if err := json.NewDecoder(r.Body).Decode(&s); err != nil {
		return 0, fmt.Errorf("stats of the %s container: %w", service, err)
	}
	return time.Duration(s.CPUStats.CPUUsage.TotalUsage), nil
}

// containerID finds the container Start made for a service by its label.
func (p *ContainersProvider) containerID(ctx context.Context, service string) (string, error) {
	p.mu.Lock()
	cs := append(p.containers[:0:0], p.containers...)
	p.mu.Unlock()
	for _, c := range cs {
		in, err := c.Inspect(ctx)
		if err != nil {
			return "", fmt.Errorf("inspect container %s: %w", c.GetContainerID(), err)
		}
		if in.Config != nil && in.Config.Labels[LabelKeyService] == service {
			return c.GetContainerID(), nil
		}
	}
	return "", fmt.Errorf("no %s container in session %s", service, p.session)
}

// ContainerCPU is ContainersProvider.ContainerCPU for the environment's
// provider; services an external provider reaches have no container to read.
func (e *TestEnv) ContainerCPU(ctx context.Context, service string) (time.Duration, error) {
	p, ok := e.provider.(*ContainersProvider)
	if !ok {
		return 0, fmt.Errorf("%s runs outside a container this test environment started (%s=%s)", service, EnvProvider, e.provider.Name())
	}
	return p.ContainerCPU(ctx, service)
}
