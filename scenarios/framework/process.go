package framework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2" //nolint:revive

	"github.com/smpp-connector/smpp-connector/internal/testutil"
)

// BuildConnector compiles cmd/smpp-connector into dir and returns the
// binary's path: the fault suites run the connector as its own process, as a
// deployment does, so that a kill -9 is a real one.
func BuildConnector(ctx context.Context, dir string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "smpp-connector")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/smpp-connector")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build smpp-connector: %w\n%s", err, out)
	}
	return bin, nil
}

// ConnectorProcess is a connector running as its own process.
type ConnectorProcess struct {
	Name string
	HTTP string // address of /readyz and /metrics
	Logs *testutil.LogBuffer
	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done is closed
}

// ProcessSettings are what the README's `smpp-connector run` takes: the
// operators file and the SMPP_* environment.
type ProcessSettings struct {
	Binary        string
	OperatorsFile string
	NATSURL       string
	PostgresDSN   string
	// Env adds or overrides SMPP_* variables.
	Env []string
}

// StartConnectorProcess starts `smpp-connector run -migrate` with the
// settings in its environment (streams created when missing, logs at warn
// level into Logs). It does not wait for readiness (WaitReady does).
func StartConnectorProcess(name string, s ProcessSettings) (*ConnectorProcess, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("pick an HTTP port: %w", err)
	}
	httpAddr := ln.Addr().String()
	ln.Close()
	p := &ConnectorProcess{Name: name, HTTP: httpAddr, Logs: &testutil.LogBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(s.Binary, "run", "-migrate")
	p.cmd.Env = append(os.Environ(), "SMPP_OPERATORS_FILE="+s.OperatorsFile, "SMPP_NATS_URL="+s.NATSURL,
		"SMPP_NATS_CREATE_STREAMS=true", "SMPP_POSTGRES_DSN="+s.PostgresDSN, "SMPP_HTTP_LISTEN="+httpAddr,
		"SMPP_LOG_LEVEL=warn", "SMPP_LOG_FORMAT=text")
	p.cmd.Env = append(p.cmd.Env, s.Env...)
	p.cmd.Stdout, p.cmd.Stderr = p.Logs, p.Logs
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id.
func (p *ConnectorProcess) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *ConnectorProcess) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Kill sends SIGKILL (kill -9) and waits until the process is gone.
func (p *ConnectorProcess) Kill() error {
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill -9 %s: %w", p.Name, err)
	}
	<-p.done
	return nil
}

// Stop sends SIGTERM and waits up to timeout for a clean exit, then kills.
func (p *ConnectorProcess) Stop(timeout time.Duration) error {
	if p.Exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("%s did not shut down cleanly: %w", p.Name, p.err)
		}
		return nil
	case <-time.After(timeout):
		_ = p.Kill()
		return fmt.Errorf("%s still running %s after SIGTERM (killed)", p.Name, timeout)
	}
}

// Readiness is the connector's /readyz answer.
type Readiness struct {
	Ready   bool
	Status  int
	Standby []string
	Body    string
}

// Readyz asks the process's /readyz.
func (p *ConnectorProcess) Readyz(ctx context.Context) (Readiness, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.HTTP+"/readyz", nil)
	if err != nil {
		return Readiness{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Readiness{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var v struct{ Standby []string }
	_ = json.Unmarshal(body, &v)
	return Readiness{Ready: resp.StatusCode == http.StatusOK, Status: resp.StatusCode, Standby: v.Standby, Body: string(body)}, nil
}

// WaitReady waits until /readyz answers 200 and, with owner set, the process
// owns every operator (stands by for none); it fails the spec with the
// process's output if it exits or is not ready within timeout.
func (p *ConnectorProcess) WaitReady(ctx context.Context, owner bool, timeout time.Duration) {
	GinkgoHelper()
	err := testutil.Poll(ctx, timeout, 50*time.Millisecond, func() error {
		if p.Exited() {
			return fmt.Errorf("%s exited: %v", p.Name, p.err)
		}
		r, err := p.Readyz(ctx)
		if err != nil {
			return err
		}
		if !r.Ready || (owner && len(r.Standby) > 0) {
			return fmt.Errorf("/readyz %d: %s", r.Status, r.Body)
		}
		return nil
	})
	if err != nil {
		Fail(fmt.Sprintf("%s not ready: %v\n%s", p.Name, err, p.Logs.String()))
	}
}
