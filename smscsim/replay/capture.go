// Package replay turns a recorded SMPP session into a simulator scenario:
// from a pcap or pcapng capture of SMPP over TCP, or from the simulator's
// own recorder export, it extracts what the SMSC side did (response statuses
// and delays, receipts and their style, MO, refused binds, disconnects) and
// writes it as steps of the scenario format (smscsim/scenario) that add
// response_script and receipt_script faults.
//
// Captures are read with gopacket's pure-Go pcapgo and layers packages: no
// libpcap, no cgo, so the simulator stays one static binary.
package replay

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Segment is one TCP segment of a capture.
type Segment struct {
	Time     time.Time
	Src, Dst netip.AddrPort
	Seq      uint32
	SYN, ACK bool
	FIN, RST bool
	Payload  []byte
}

// packetSource is what pcapgo's two readers have in common.
type packetSource interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// ErrNotCapture is returned for input that is neither pcap nor pcapng.
var ErrNotCapture = errors.New("not a pcap or pcapng file")

// maxPackets bounds a capture so that a huge file fails clearly rather
// than filling memory; an SMPP session worth replaying is far smaller.
const maxPackets = 5_000_000

// ReadCapture reads the TCP segments of a pcap or pcapng capture, in
// capture order. Packets that are not TCP over IPv4/IPv6 (on Ethernet,
// Linux cooked capture, BSD loopback or raw IP) are skipped.
func ReadCapture(r io.Reader) ([]Segment, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotCapture, err)
	}
	var src packetSource
	var link layers.LinkType
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, fmt.Errorf("pcapng: %w", err)
		}
		src, link = ng, ng.LinkType()
	} else {
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotCapture, err)
		}
		src, link = pr, pr.LinkType()
	}
	var out []Segment
	for n := 0; ; n++ {
		if n >= maxPackets {
			return nil, fmt.Errorf("capture has more than %d packets: cut it to the session to replay (tshark/editcap)", maxPackets)
		}
		b, ci, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			// A capture cut short (tcpdump killed) ends with a partial
			// packet: keep what was read, as Wireshark does.
			if len(out) > 0 && (errors.Is(err, io.ErrUnexpectedEOF)) {
				return out, nil
			}
			return nil, fmt.Errorf("packet %d: %w", n+1, err)
		}
		if s, ok := decodeSegment(b, link, ci.Timestamp); ok {
			out = append(out, s)
		}
	}
}

// decodeSegment decodes one packet down to TCP.
func decodeSegment(b []byte, link layers.LinkType, ts time.Time) (Segment, bool) {
	var first gopacket.Decoder = link
	switch link {
	case layers.LinkTypeRaw, layers.LinkType(12): // raw IP (12 on some BSDs)
		if len(b) == 0 {
			return Segment{}, false
		}
		if b[0]>>4 == 6 {
			first = layers.LayerTypeIPv6
		} else {
			first = layers.LayerTypeIPv4
		}
	case layers.LinkTypeIPv4:
		first = layers.LayerTypeIPv4
	case layers.LinkTypeIPv6:
		first = layers.LayerTypeIPv6
	}
	p := gopacket.NewPacket(b, first, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	tl, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if tl == nil {
		return Segment{}, false
	}
	var src, dst netip.Addr
	switch ip := p.NetworkLayer().(type) {
	case *layers.IPv4:
		src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
	case *layers.IPv6:
		src, _ = netip.AddrFromSlice(ip.SrcIP)
		dst, _ = netip.AddrFromSlice(ip.DstIP)
	default:
		return Segment{}, false
	}
	return Segment{
		Time: ts,
		Src:  netip.AddrPortFrom(src, uint16(tl.SrcPort)),
		Dst:  netip.AddrPortFrom(dst, uint16(tl.DstPort)),
		Seq:  tl.Seq, SYN: tl.SYN, ACK: tl.ACK, FIN: tl.FIN, RST: tl.RST,
		Payload: append([]byte(nil), tl.Payload...),
	}, true
}
