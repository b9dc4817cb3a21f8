package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/scenario"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// tinyCapture is a pcap of one session on port 2776: a bind (with its
// password), two submits, one accepted and one throttled.
func tinyCapture(t *testing.T) []byte {
	t.Helper()
	bind := pdu.NewBindRequest(pdu.Transceiver)
	bind.SystemID, bind.Password = "shop", "pw123456"
	bind.SetSequenceNumber(1)
	sub := func(seq int32) []byte {
		s := pdu.NewSubmitSM().(*pdu.SubmitSM)
		_ = s.Message.SetMessageWithEncoding("hi", data.GSM7BIT)
		s.SetSequenceNumber(seq)
		return wire.Encode(s)
	}
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	seq := map[bool]uint32{true: 100, false: 5000}
	t0 := time.Unix(1700000000, 0)
	for i, p := range []struct {
		toSMSC bool
		b      []byte
	}{
		{true, wire.Encode(bind)},
		{false, wire.HeaderOnly(data.BIND_TRANSCEIVER_RESP, 0, 1)},
		{true, append(sub(2), sub(3)...)},
		{false, wire.MessageIDResp(nil, data.SUBMIT_SM_RESP, 0, 2, "1")},
		{false, wire.HeaderOnly(data.SUBMIT_SM_RESP, data.ESME_RTHROTTLED, 3)},
	} {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IPv4(127, 0, 0, 1), DstIP: net.IPv4(127, 0, 0, 2)}
		tcp := &layers.TCP{SrcPort: 40000, DstPort: 2776, Seq: seq[p.toSMSC], ACK: true}
		if !p.toSMSC {
			ip.SrcIP, ip.DstIP, tcp.SrcPort, tcp.DstPort = ip.DstIP, ip.SrcIP, 2776, 40000
		}
		seq[p.toSMSC] += uint32(len(p.b))
		_ = tcp.SetNetworkLayerForChecksum(ip)
		sb := gopacket.NewSerializeBuffer()
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(p.b)); err != nil {
			t.Fatal(err)
		}
		ts := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(sb.Bytes()), Length: len(sb.Bytes())}, sb.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestReplayCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "session.pcap")
	capture := tinyCapture(t)
	if !bytes.Contains(capture, []byte("pw123456")) {
		t.Fatal("the capture should carry the password")
	}
	if err := os.WriteFile(in, capture, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "scenario.yaml")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"replay", "-in", in, "-smsc-port", "2776", "-speed", "2", "-out", out}, nil, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	yml, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scenario.Parse(yml); err != nil {
		t.Fatalf("scenario does not parse: %v\n%s", err, yml)
	}
	s := string(yml)
	// Answers 10 ms and 20 ms after their submits, at speed 2: 5 ms and 10 ms.
	for _, want := range []string{"response_script", "{status: ESME_ROK, delay: 5ms}", "{status: ESME_RTHROTTLED, delay: 10ms}"} {
		if !strings.Contains(s, want) {
			t.Errorf("scenario lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "pw123456") || strings.Contains(s, "shop") {
		t.Errorf("scenario holds the password or the system_id:\n%s", s)
	}

	// Asked to, the header names the system_id; the password never.
	stdout.Reset()
	if err := run(context.Background(), []string{"replay", "-in", in, "-with-system-id"}, nil, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "shop") || strings.Contains(stdout.String(), "pw123456") {
		t.Errorf("with -with-system-id:\n%s", stdout.String())
	}

	// A recorder export (smscsim pdus --jsonl) replays its statuses in order.
	jsonl := `{"seq":1,"time":"2024-01-01T00:00:00Z","operator":"acme","account":"shop","sessionId":1,"command":"bind_transceiver","sequenceNumber":1,"responseStatus":"ESME_RINVPASWD"}
{"seq":2,"time":"2024-01-01T00:00:01Z","operator":"acme","account":"shop","sessionId":2,"command":"bind_transceiver","sequenceNumber":1,"responseStatus":"ESME_ROK"}
{"seq":3,"time":"2024-01-01T00:00:02Z","operator":"acme","account":"shop","sessionId":2,"command":"submit_sm","sequenceNumber":2,"responseStatus":"generic_nack ESME_RTHROTTLED"}
`
	stdout.Reset()
	if err := run(context.Background(), []string{"replay", "-in", "-"}, strings.NewReader(jsonl), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"recorded-binds", "ESME_RINVPASWD", "genericNack: true", "then: pass"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("recorder replay lacks %q:\n%s", want, stdout.String())
		}
	}

	if err := run(context.Background(), []string{"replay", "-in", "-"}, strings.NewReader("hello"), &stdout, &stderr); err == nil {
		t.Error("garbage input accepted")
	}
}
