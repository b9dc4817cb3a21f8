// Package images tests the product images that `make images` builds
// (ci/build-images.sh, deploy/images/): smpp-connector and smscsim run from an
// image print their stamped version and exit 0, run as a non-root user, carry
// the OCI labels, and listen on all interfaces in a container.
//
// The images are named by SMPP_CONNECTOR_IMAGE and SMSCSIM_IMAGE, by default
// the :latest tags the script moves to what it built last.
package images

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// projectLabel lets ci/cleanup-containers.sh remove a container a killed
// test left behind.
const projectLabel = "smpp-connector.project=smpp-connector"

var ociLabels = []string{
	"org.opencontainers.image.title",
	"org.opencontainers.image.version",
	"org.opencontainers.image.revision",
	"org.opencontainers.image.created",
	"org.opencontainers.image.source",
}

type imageConfig struct {
	User       string
	Env        []string
	Entrypoint []string
	Labels     map[string]string
}

func imageName(t *testing.T, env, def string) string {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("no docker CLI")
	}
	if v := os.Getenv(env); v != "" {
		return v
	}
	return def
}

func inspect(t *testing.T, image string) imageConfig {
	t.Helper()
	out, err := exec.Command("docker", "image", "inspect", "--format", "{{json .Config}}", image).CombinedOutput()
	if err != nil {
		t.Fatalf("docker image inspect %s: %v: %s\n(the product images are built by `make images`)", image, err, out)
	}
	var c imageConfig
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("%s: %v: %s", image, err, out)
	}
	return c
}

func docker(t *testing.T, timeout time.Duration, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	return string(out), err
}

// checkImage: version printed and exit 0, non-root user, OCI labels,
// entrypoint the binary.
func checkImage(t *testing.T, image, program string) imageConfig {
	c := inspect(t, image)
	for _, l := range ociLabels {
		if c.Labels[l] == "" {
			t.Errorf("%s: label %s missing", image, l)
		}
	}
	if got := c.Labels["org.opencontainers.image.title"]; got != program {
		t.Errorf("%s: title label %q, want %q", image, got, program)
	}
	if len(c.Entrypoint) != 1 || c.Entrypoint[0] != "/"+program {
		t.Errorf("%s: entrypoint %q, want [/%s]", image, c.Entrypoint, program)
	}
	uid, _, _ := strings.Cut(c.User, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("%s: user %q: want a numeric non-root uid (Kubernetes' runAsNonRoot checks it)", image, c.User)
	}

	out, err := docker(t, time.Minute, "run", "--rm", "--label", projectLabel, image, "version")
	if err != nil {
		t.Fatalf("docker run --rm %s version: %v: %s", image, err, out)
	}
	version := c.Labels["org.opencontainers.image.version"]
	want := fmt.Sprintf("%s %s (commit %s, built %s, go", program, version,
		c.Labels["org.opencontainers.image.revision"], c.Labels["org.opencontainers.image.created"])
	if !strings.HasPrefix(out, want) || strings.Count(out, "\n") != 1 {
		t.Errorf("docker run --rm %s version printed %q, want one line starting %q", image, out, want)
	}
	if version == "dev" || c.Labels["org.opencontainers.image.revision"] == "unknown" {
		t.Errorf("%s: no version stamped (labels %v)", image, c.Labels)
	}
	return c
}

func hasEnv(c imageConfig, kv string) bool {
	for _, e := range c.Env {
		if e == kv {
			return true
		}
	}
	return false
}

func TestConnectorImage(t *testing.T) {
	image := imageName(t, "SMPP_CONNECTOR_IMAGE", "smpp-connector:latest")
	c := checkImage(t, image, "smpp-connector")
	if !hasEnv(c, "SMPP_HTTP_LISTEN=:8080") {
		t.Errorf("%s: env %q lacks SMPP_HTTP_LISTEN=:8080 (metrics and probes on all interfaces)", image, c.Env)
	}
	// The settings the image sets are valid: check-config parses the
	// environment first; a missing file is the only complaint.
	out, err := docker(t, time.Minute, "run", "--rm", "--label", projectLabel, image, "check-config", "/nonexistent.yaml")
	if err == nil || !strings.Contains(out, "nonexistent.yaml") {
		t.Errorf("check-config in %s: %v: %s", image, err, out)
	}
}

func TestSimulatorImage(t *testing.T) {
	image := imageName(t, "SMSCSIM_IMAGE", "smscsim:latest")
	c := checkImage(t, image, "smscsim")
	for _, kv := range []string{"SMSCSIM_CONTROL=:8775", "SMSCSIM_DEMO_LISTEN=:2775"} {
		if !hasEnv(c, kv) {
			t.Errorf("%s: env %q lacks %s", image, c.Env, kv)
		}
	}

	// serve as the image runs it: the control API and the demo operator
	// listen on all interfaces, so published ports reach both.
	name := fmt.Sprintf("smscsim-imagetest-%d", os.Getpid())
	out, err := docker(t, time.Minute, "run", "-d", "--rm", "--name", name, "--label", projectLabel,
		"-e", "SMSCSIM_TOKEN=imagetest", "-p", "127.0.0.1::8775", "-p", "127.0.0.1::2775", image)
	if err != nil {
		t.Fatalf("docker run %s: %v: %s", image, err, out)
	}
	t.Cleanup(func() { _, _ = docker(t, time.Minute, "rm", "-f", name) })

	port := func(p string) string {
		out, err := docker(t, time.Minute, "port", name, p+"/tcp")
		if err != nil {
			t.Fatalf("docker port %s %s: %v: %s", name, p, err, out)
		}
		return strings.TrimSpace(strings.Split(out, "\n")[0])
	}
	control, smpp := port("8775"), port("2775")
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + control + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			err = fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		if time.Now().After(deadline) {
			logs, _ := docker(t, time.Minute, "logs", name)
			t.Fatalf("GET http://%s/healthz: %v\ncontainer log:\n%s", control, err, logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Off loopback the API still wants its token for everything but /healthz.
	resp, err := http.Get("http://" + control + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /stats without the token: status %d, want 401", resp.StatusCode)
	}
	// A bind through the published port: docker's proxy accepts a
	// connection whatever the container listens on, a bind_transceiver_resp
	// comes only from the simulator.
	if err := bind(smpp, "test", "test"); err != nil {
		logs, _ := docker(t, time.Minute, "logs", name)
		t.Fatalf("bind to the demo operator at %s: %v\ncontainer log:\n%s", smpp, err, logs)
	}
}

// bind sends an SMPP 3.4 bind_transceiver and wants a bind_transceiver_resp
// with status 0.
func bind(addr, systemID, password string) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	body := append([]byte(systemID), 0)
	body = append(body, password...)
	body = append(body, 0, 0, 0x34, 0, 0, 0) // system_type "", interface_version 3.4, ton, npi, address_range ""
	pdu := binary.BigEndian.AppendUint32(nil, uint32(16+len(body)))
	pdu = binary.BigEndian.AppendUint32(pdu, 0x00000009) // bind_transceiver
	pdu = binary.BigEndian.AppendUint32(pdu, 0)
	pdu = binary.BigEndian.AppendUint32(pdu, 1)
	if _, err := conn.Write(append(pdu, body...)); err != nil {
		return err
	}
	var head [16]byte
	if _, err := io.ReadFull(conn, head[:]); err != nil {
		return fmt.Errorf("reading the response: %w", err)
	}
	id, status := binary.BigEndian.Uint32(head[4:]), binary.BigEndian.Uint32(head[8:])
	if id != 0x80000009 || status != 0 {
		return fmt.Errorf("response command_id %#08x status %#08x, want bind_transceiver_resp status 0", id, status)
	}
	return nil
}
