package replay

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// tapEvent is what the tapping proxy saw: bytes in one direction, or a close.
type tapEvent struct {
	t        time.Time
	conn     int
	toServer bool
	data     []byte
	fin      bool
}

// tap is a TCP proxy on loopback that records every read in each
// direction with its time, as a capture would see it on the wire.
type tap struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	events []tapEvent
	wg     sync.WaitGroup
}

func startTap(t *testing.T, target string) *tap {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tp := &tap{ln: ln, target: target}
	go tp.accept()
	t.Cleanup(func() { ln.Close(); tp.wg.Wait() })
	return tp
}

func (tp *tap) addr() string { return tp.ln.Addr().String() }

func (tp *tap) accept() {
	for n := 1; ; n++ {
		c, err := tp.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", tp.target)
		if err != nil {
			c.Close()
			continue
		}
		tp.wg.Add(2)
		go tp.pipe(n, c, s, true)
		go tp.pipe(n, s, c, false)
	}
}

func (tp *tap) pipe(conn int, from, to net.Conn, toServer bool) {
	defer tp.wg.Done()
	buf := make([]byte, 4096)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			tp.record(tapEvent{t: time.Now(), conn: conn, toServer: toServer, data: append([]byte(nil), buf[:n]...)})
			if _, werr := to.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			tp.record(tapEvent{t: time.Now(), conn: conn, toServer: toServer, fin: true})
			if err == io.EOF {
				to.(*net.TCPConn).CloseWrite()
			} else {
				to.Close()
			}
			from.Close()
			return
		}
	}
}

func (tp *tap) record(e tapEvent) {
	tp.mu.Lock()
	tp.events = append(tp.events, e)
	tp.mu.Unlock()
}

func (tp *tap) snapshot() []tapEvent {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]tapEvent(nil), tp.events...)
}

// captureWriter turns tap events into TCP/IP packets, the way tcpdump
// would have seen them, with the roughness of a real capture: every data
// read is cut in two segments (PDUs span segments; reads already carry
// several PDUs), every third segment is sent twice (a retransmission) and
// every fifth pair is swapped (out of order).
type captureWriter struct {
	write func(ci gopacket.CaptureInfo, b []byte) error
	link  layers.LinkType
	seq   map[[2]int]uint32 // (conn, toServer) -> next seq
	n     int
	held  *heldPkt
	t     *testing.T
}

type heldPkt struct {
	ci gopacket.CaptureInfo
	b  []byte
}

const (
	esmePort = 40000
	smscPort = 2775
)

func (w *captureWriter) packet(ts time.Time, conn int, toServer bool, flags string, payload []byte, seq uint32) []byte {
	cli := net.IPv4(127, 0, 0, 1)
	srv := net.IPv4(127, 0, 0, 2)
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: cli, DstIP: srv}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(esmePort + conn), DstPort: smscPort, Seq: seq, Window: 65535, ACK: flags != "S"}
	if !toServer {
		ip.SrcIP, ip.DstIP = srv, cli
		tcp.SrcPort, tcp.DstPort = smscPort, layers.TCPPort(esmePort+conn)
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
		w.t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	var ls []gopacket.SerializableLayer
	if w.link == layers.LinkTypeEthernet {
		ls = append(ls, &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4})
	}
	ls = append(ls, ip, tcp, gopacket.Payload(payload))
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		w.t.Fatal(err)
	}
	return buf.Bytes()
}

func (w *captureWriter) emit(ts time.Time, b []byte, mayHold bool) {
	ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(b), Length: len(b)}
	w.n++
	if mayHold && w.held == nil && w.n%5 == 0 {
		w.held = &heldPkt{ci, b} // goes out after the next one
		return
	}
	if err := w.write(ci, b); err != nil {
		w.t.Fatal(err)
	}
	if w.held != nil {
		h := w.held
		w.held = nil
		if err := w.write(h.ci, h.b); err != nil {
			w.t.Fatal(err)
		}
	}
}

func (w *captureWriter) writeAll(events []tapEvent) {
	w.seq = map[[2]int]uint32{}
	opened := map[int]bool{}
	for _, e := range events {
		if !opened[e.conn] {
			opened[e.conn] = true
			// Handshake: ISNs near the wrap so that sequence arithmetic wraps.
			cs, ss := uint32(0xFFFFFF00)+uint32(e.conn), uint32(1000*e.conn)
			w.emit(e.t, w.packet(e.t, e.conn, true, "S", nil, cs), false)
			w.emit(e.t, w.packet(e.t, e.conn, false, "S", nil, ss), false)
			w.seq[[2]int{e.conn, 1}], w.seq[[2]int{e.conn, 0}] = cs+1, ss+1
		}
		k := [2]int{e.conn, 0}
		if e.toServer {
			k[1] = 1
		}
		if e.fin {
			w.emit(e.t, w.packet(e.t, e.conn, e.toServer, "F", nil, w.seq[k]), false)
			continue
		}
		half := len(e.data) / 2
		for _, part := range [][]byte{e.data[:half], e.data[half:]} {
			if len(part) == 0 {
				continue
			}
			p := w.packet(e.t, e.conn, e.toServer, "", part, w.seq[k])
			w.emit(e.t, p, true)
			if w.n%3 == 0 {
				w.emit(e.t.Add(time.Millisecond), p, false) // retransmission
			}
			w.seq[k] += uint32(len(part))
		}
	}
	if w.held != nil {
		w.emit(w.held.ci.Timestamp, w.held.b, false)
	}
}

// writePcap writes the events as a pcap file with raw IPv4 packets.
func writePcap(t *testing.T, out io.Writer, events []tapEvent) {
	pw := pcapgo.NewWriter(out)
	if err := pw.WriteFileHeader(65536, layers.LinkTypeRaw); err != nil {
		t.Fatal(err)
	}
	(&captureWriter{t: t, link: layers.LinkTypeRaw, write: pw.WritePacket}).writeAll(events)
}

// writePcapng writes the events as a pcapng file with Ethernet frames.
func writePcapng(t *testing.T, out io.Writer, events []tapEvent) {
	nw, err := pcapgo.NewNgWriter(out, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	(&captureWriter{t: t, link: layers.LinkTypeEthernet, write: nw.WritePacket}).writeAll(events)
	if err := nw.Flush(); err != nil {
		t.Fatal(err)
	}
}
