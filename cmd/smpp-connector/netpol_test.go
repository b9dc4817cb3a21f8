package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// netpol prints a policy that decodes strictly and lists the operators'
// endpoints; bad flags and host names fail naming the flag, the operator and
// the endpoint.
func TestNetpol(t *testing.T) {
	var out, errs bytes.Buffer
	args := []string{"netpol", "-operators", "../../connector/netpol/testdata/three.yaml",
		"-nats", "pod:nats/app.kubernetes.io/name=nats:4222", "-postgres", "10.20.0.6:5432", "-namespace", "smpp"}
	if err := run(context.Background(), args, &out, &errs); err != nil {
		t.Fatal(err)
	}
	var np networkingv1.NetworkPolicy
	if err := yaml.UnmarshalStrict(out.Bytes(), &np); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, s := range []string{"cidr: 10.1.1.1/32", "cidr: 2001:db8::10/128", "port: 3550", "kubernetes.io/metadata.name: nats"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("no %q in\n%s", s, out.String())
		}
	}
	if np.Namespace != "smpp" || len(np.Spec.Ingress) != 1 {
		t.Fatalf("%+v", np)
	}

	for bad, want := range map[string]string{
		"-nats 10.0.0.1":                            "-nats",
		"-metrics-port 70000":                       "-metrics-port",
		"-nats 10.0.0.1:4222 -postgres db:5432":     "-postgres db:5432",
		"-nats 10.0.0.1:4222 -postgres 1.2.3.4:1 x": "unexpected argument",
	} {
		err := run(context.Background(), append([]string{"netpol", "-operators", "../../connector/netpol/testdata/three.yaml"}, strings.Fields(bad)...), &out, &errs)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", bad, err, want)
		}
	}
	err := run(context.Background(), []string{"netpol", "-operators", "../../connector/config/testdata/operators.yaml",
		"-nats", "10.0.0.1:4222", "-postgres", "10.0.0.2:5432", "-vault", "10.0.0.3:8200", "-in-cluster", "x=pod:a/"}, &out, &errs)
	if err != nil {
		t.Fatalf("the demo operators (127.0.0.1): %v", err)
	}
}
