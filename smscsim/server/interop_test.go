package server

import (
	"net"
	"os"
	"os/exec"
	"regexp"
	"testing"

	"github.com/smpp-connector/smpp-connector/smscsim/profile"
)

// TestInteropNetSMPP runs Perl's Net::SMPP, an SMPP implementation that shares
// no code with gosmpp, against the simulator: bind, submit, receipt, unbind.
func TestInteropNetSMPP(t *testing.T) {
	if err := exec.Command("perl", "-MNet::SMPP", "-e", "1").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Net::SMPP missing in CI (apt-get install libnet-smpp-perl): %v", err)
		}
		t.Skip("Net::SMPP not installed: apt-get install libnet-smpp-perl")
	}
	_, addr := start(t, profile.Profile{})
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command("perl", "testdata/netsmpp_client.pl", host, port, "test", "test").CombinedOutput()
	if err != nil {
		t.Fatalf("Net::SMPP client: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`submitted (\S+)\nreceipt id:(\S+) .*stat:DELIVRD`).FindSubmatch(out)
	if m == nil || string(m[1]) != string(m[2]) {
		t.Fatalf("unexpected dialogue:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^unbound$`).Match(out) {
		t.Fatalf("no clean unbind:\n%s", out)
	}
}
