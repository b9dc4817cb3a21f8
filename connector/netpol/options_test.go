package netpol

import (
	"flag"
	"io"
	"strings"
	"testing"
)

func TestFlagErrorsNameTheFlag(t *testing.T) {
	for _, args := range [][]string{
		{"-nats", "10.0.0.1"},
		{"-nats", "10.0.0.1:99999"},
		{"-postgres", "pod:db"},
		{"-vault", "pod:Bad_NS/app=vault:8200"},
		{"-oms", "pod:ops/app=oms=x:443"},
		{"-dns", "pod:kube-system/k8s-app=kube-dns:x"},
		{"-metrics-port", "0"},
		{"-metrics-from", "monitoring"},
		{"-pod-labels", ""},
		{"-pod-labels", "app"},
		{"-in-cluster", "smsc.example"},
		{"-in-cluster", "smsc.example=10.0.0.0/8"},
	} {
		var o Options
		fs := flag.NewFlagSet("netpol", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		o.Register(fs)
		err := fs.Parse(args)
		if err == nil || !strings.Contains(err.Error(), args[0]+":") {
			t.Errorf("%v: %v, want an error naming %s", args, err, args[0])
		}
	}
}

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1:4222":                               "10.0.0.1/32:4222",
		"[2001:db8::1]:4222":                          "2001:db8::1/128:4222",
		"10.0.0.7/24:5432":                            "10.0.0.0/24:5432",
		"[fd00::1/8]:5432":                            "fd00::/8:5432",
		"nats.example:4222":                           "nats.example:4222",
		"pod:nats/:4222":                              "pod:nats/:4222",
		"pod:data/b=2,a=1:5432":                       "pod:data/a=1,b=2:5432",
		"pod:vault/app.kubernetes.io/name=vault:8200": "pod:vault/app.kubernetes.io/name=vault:8200",
	} {
		got, err := ParseTarget(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if s := got.Peer.String() + ":" + itoa(got.Port); s != want {
			t.Errorf("%s: %s, want %s", in, s, want)
		}
	}
}

func itoa(n int32) string { return portValue{&n}.String() }

// Repeating a flag adds targets; the first use replaces the default and
// an empty value leaves none (no DNS rule).
func TestRepeatedFlags(t *testing.T) {
	o := options(t, "-nats", "10.0.0.1:4222", "-nats", "pod:nats/:4222", "-dns", "")
	if len(o.NATS) != 2 || len(o.DNS) != 0 {
		t.Fatalf("nats %v dns %v", o.NATS, o.DNS)
	}
	o = options(t, "-dns", "10.96.0.10:53")
	if len(o.DNS) != 1 || o.DNS[0].Prefix.String() != "10.96.0.10/32" {
		t.Fatalf("dns %v", o.DNS)
	}
}
