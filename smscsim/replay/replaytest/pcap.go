package replaytest

import (
	"io"
	"net"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Ports the capture gives the two sides: the SMSC listens on SMSCPort (pass
// it to replay.FromFlows), connection n of the ESME comes from ESMEPort+n.
// The ESME is 127.0.0.1, the SMSC 127.0.0.2.
const (
	ESMEPort = 40000
	SMSCPort = 2775
)

// WritePcap writes the events as a pcap file of raw IPv4 packets.
func WritePcap(out io.Writer, events []Event) error {
	pw := pcapgo.NewWriter(out)
	if err := pw.WriteFileHeader(65536, layers.LinkTypeRaw); err != nil {
		return err
	}
	return (&captureWriter{link: layers.LinkTypeRaw, write: pw.WritePacket}).writeAll(events)
}

// WritePcapng writes the events as a pcapng file of Ethernet frames.
func WritePcapng(out io.Writer, events []Event) error {
	nw, err := pcapgo.NewNgWriter(out, layers.LinkTypeEthernet)
	if err != nil {
		return err
	}
	if err := (&captureWriter{link: layers.LinkTypeEthernet, write: nw.WritePacket}).writeAll(events); err != nil {
		return err
	}
	return nw.Flush()
}

// captureWriter turns tap events into TCP/IP packets, the way tcpdump
// would have seen them, with the roughness of a real capture: every data
// read is cut in two segments (PDUs span segments; reads already carry
// several PDUs), every third segment is sent twice (a retransmission),
// every fifth pair is swapped (out of order), and the initial sequence
// numbers sit near the wrap so that sequence arithmetic wraps.
type captureWriter struct {
	write func(ci gopacket.CaptureInfo, b []byte) error
	link  layers.LinkType
	seq   map[[2]int]uint32 // (conn, toServer) -> next seq
	n     int
	held  *heldPkt
}

type heldPkt struct {
	ci gopacket.CaptureInfo
	b  []byte
}

func (w *captureWriter) packet(conn int, toServer bool, flags string, payload []byte, seq uint32) ([]byte, error) {
	cli := net.IPv4(127, 0, 0, 1)
	srv := net.IPv4(127, 0, 0, 2)
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: cli, DstIP: srv}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(ESMEPort + conn), DstPort: SMSCPort, Seq: seq, Window: 65535, ACK: flags != "S"}
	if !toServer {
		ip.SrcIP, ip.DstIP = srv, cli
		tcp.SrcPort, tcp.DstPort = SMSCPort, layers.TCPPort(ESMEPort+conn)
	}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'F':
			tcp.FIN = true
		}
	}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		return nil, err
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	var ls []gopacket.SerializableLayer
	if w.link == layers.LinkTypeEthernet {
		ls = append(ls, &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4})
	}
	ls = append(ls, ip, tcp, gopacket.Payload(payload))
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (w *captureWriter) emit(ts time.Time, b []byte, mayHold bool) error {
	ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(b), Length: len(b)}
	w.n++
	if mayHold && w.held == nil && w.n%5 == 0 {
		w.held = &heldPkt{ci, b} // goes out after the next one
		return nil
	}
	if err := w.write(ci, b); err != nil {
		return err
	}
	if h := w.held; h != nil {
		w.held = nil
		return w.write(h.ci, h.b)
	}
	return nil
}

func (w *captureWriter) writeAll(events []Event) error {
	w.seq = map[[2]int]uint32{}
	opened := map[int]bool{}
	send := func(ts time.Time, conn int, toServer bool, flags string, payload []byte, seq uint32, mayHold bool) ([]byte, error) {
		p, err := w.packet(conn, toServer, flags, payload, seq)
		if err != nil {
			return nil, err
		}
		return p, w.emit(ts, p, mayHold)
	}
	for _, e := range events {
		if !opened[e.Conn] {
			opened[e.Conn] = true
			// Handshake: ISNs near the wrap so that sequence arithmetic wraps.
			cs, ss := uint32(0xFFFFFF00)+uint32(e.Conn), uint32(1000*e.Conn)
			if _, err := send(e.Time, e.Conn, true, "S", nil, cs, false); err != nil {
				return err
			}
			if _, err := send(e.Time, e.Conn, false, "S", nil, ss, false); err != nil {
				return err
			}
			w.seq[[2]int{e.Conn, 1}], w.seq[[2]int{e.Conn, 0}] = cs+1, ss+1
		}
		k := [2]int{e.Conn, 0}
		if e.ToServer {
			k[1] = 1
		}
		if e.FIN {
			if _, err := send(e.Time, e.Conn, e.ToServer, "F", nil, w.seq[k], false); err != nil {
				return err
			}
			continue
		}
		half := len(e.Data) / 2
		for _, part := range [][]byte{e.Data[:half], e.Data[half:]} {
			if len(part) == 0 {
				continue
			}
			p, err := send(e.Time, e.Conn, e.ToServer, "", part, w.seq[k], true)
			if err != nil {
				return err
			}
			if w.n%3 == 0 {
				if err := w.emit(e.Time.Add(time.Millisecond), p, false); err != nil { // retransmission
					return err
				}
			}
			w.seq[k] += uint32(len(part))
		}
	}
	if h := w.held; h != nil {
		w.held = nil
		return w.write(h.ci, h.b)
	}
	return nil
}
