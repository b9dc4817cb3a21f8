package manifests

import (
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/smpp-connector/smpp-connector/connector/config"
)

// applyFirst selects the Jobs that prepare PostgreSQL and NATS: the README
// tells to apply them with this selector and wait for them before the rest
// of the overlay. TestSetupJobs holds the README to it.
const applyFirst = "app.kubernetes.io/component in (migration,streams)"

// The streams Job runs `smpp-connector streams` with the image, NATS and
// stream names of the connector it prepares, and the connector does not
// create or change streams itself; the README's apply-first selector takes
// exactly the two setup Jobs.
func TestSetupJobs(t *testing.T) {
	readme, err := os.ReadFile(root + "/README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "-l '"+applyFirst+"'") {
		t.Errorf("deploy/kubernetes/README.md does not apply the setup Jobs first with -l '%s'", applyFirst)
	}
	sel, err := labels.Parse(applyFirst)
	if err != nil {
		t.Fatal(err)
	}
	known := append(config.EnvNames(), runtimeEnv...)
	for _, o := range overlays {
		t.Run(o.name, func(t *testing.T) {
			b := build(t, o.name)
			d := b.deployments["smpp-connector"]
			c := container(t, d.Spec.Template.Spec, "smpp-connector")
			env := envOf(t, c, known)
			if v := env["SMPP_NATS_CREATE_STREAMS"]; v != "" && v != "false" {
				t.Errorf("the connector has SMPP_NATS_CREATE_STREAMS=%s: the streams Job provisions them", v)
			}

			j := b.jobs["smpp-connector-streams"]
			if j == nil {
				t.Fatal("no Job smpp-connector-streams")
			}
			pod := j.Spec.Template.Spec
			checkPodSecurity(t, "Job smpp-connector-streams", pod)
			if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
				t.Error("the streams Job mounts a service-account token it does not need")
			}
			jc := container(t, pod, "streams")
			if len(jc.Args) == 0 || jc.Args[0] != "streams" || slices.Contains(jc.Args, "-update") || jc.Image != c.Image {
				t.Errorf("streams Job runs %s %v, want %s streams (never -update: changing a stream is a person's decision)", jc.Image, jc.Args, c.Image)
			}
			jenv := envOf(t, jc, known)
			// Every NATS setting of the connector, the same in the Job.
			for name, v := range env {
				if strings.HasPrefix(name, "SMPP_NATS_") && name != "SMPP_NATS_CREATE_STREAMS" && jenv[name] != v {
					t.Errorf("the streams Job has %s=%q, the connector %q", name, jenv[name], v)
				}
			}
			for name := range jenv {
				if _, ok := env[name]; !ok && strings.HasPrefix(name, "SMPP_NATS_") {
					t.Errorf("the streams Job sets %s, the connector does not", name)
				}
			}
			if env["SMPP_NATS_URL"] == "" {
				t.Error("the connector has no SMPP_NATS_URL")
			}

			// The selector takes the two setup Jobs and nothing else.
			var first []string
			for name, job := range b.jobs {
				if sel.Matches(labels.Set(job.Labels)) {
					first = append(first, "Job/"+name)
				}
			}
			for name, x := range b.deployments {
				if sel.Matches(labels.Set(x.Labels)) {
					first = append(first, "Deployment/"+name)
				}
			}
			for name, x := range b.configMaps {
				if sel.Matches(labels.Set(x.Labels)) {
					first = append(first, "ConfigMap/"+name)
				}
			}
			for name, x := range b.services {
				if sel.Matches(labels.Set(x.Labels)) {
					first = append(first, "Service/"+name)
				}
			}
			sort.Strings(first)
			if want := []string{"Job/smpp-connector-migrate", "Job/smpp-connector-streams"}; !slices.Equal(first, want) {
				t.Errorf("-l '%s' selects %v, want %v", applyFirst, first, want)
			}
		})
	}
}
