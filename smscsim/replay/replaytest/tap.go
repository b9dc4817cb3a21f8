// Package replaytest records an SMPP session the way a capture would and
// writes it as pcap or pcapng, for tests of smscsim replay: a Tap is a TCP
// proxy on loopback that records every read in each direction with its time,
// and WritePcap/WritePcapng turn what it saw into TCP/IP packets with the
// roughness of a real capture. Any ESME can be put behind a Tap (the
// simulator's own smpptest client, or the connector), so the same capture
// path is proved with each.
//
// It uses the standard library and gopacket only: the simulator's tree never
// imports connector code.
package replaytest

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Event is what the Tap saw: bytes in one direction of a connection, or
// that direction's end (FIN).
type Event struct {
	Time     time.Time
	Conn     int  // 1 for the first connection accepted, and so on
	ToServer bool // ESME -> SMSC
	Data     []byte
	FIN      bool
}

// Tap is a TCP proxy on loopback in front of an SMSC: point the ESME at
// Addr; every connection is forwarded to the target and recorded.
type Tap struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	events []Event
	conns  []net.Conn
	closed bool
	wg     sync.WaitGroup
}

// Start listens on a free loopback port and forwards to target until the
// test ends (Close runs in the test's cleanup).
func Start(tb testing.TB, target string) *Tap {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tp := &Tap{ln: ln, target: target}
	tp.wg.Add(1)
	go tp.accept()
	tb.Cleanup(tp.Close)
	return tp
}

// Addr is the address the ESME dials.
func (tp *Tap) Addr() string { return tp.ln.Addr().String() }

// Close stops listening, closes the connections still open and waits for
// the proxy's goroutines. Events stay readable.
func (tp *Tap) Close() {
	tp.mu.Lock()
	if tp.closed {
		tp.mu.Unlock()
		return
	}
	tp.closed = true
	conns := tp.conns
	tp.mu.Unlock()
	tp.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	tp.wg.Wait()
}

func (tp *Tap) accept() {
	defer tp.wg.Done()
	for n := 1; ; n++ {
		c, err := tp.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.DialTimeout("tcp", tp.target, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		tp.mu.Lock()
		if tp.closed {
			tp.mu.Unlock()
			c.Close()
			s.Close()
			return
		}
		tp.conns = append(tp.conns, c, s)
		tp.wg.Add(2)
		tp.mu.Unlock()
		go tp.pipe(n, c, s, true)
		go tp.pipe(n, s, c, false)
	}
}

func (tp *Tap) pipe(conn int, from, to net.Conn, toServer bool) {
	defer tp.wg.Done()
	buf := make([]byte, 4096)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			tp.record(Event{Time: time.Now(), Conn: conn, ToServer: toServer, Data: append([]byte(nil), buf[:n]...)})
			if _, werr := to.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			tp.record(Event{Time: time.Now(), Conn: conn, ToServer: toServer, FIN: true})
			if tc, ok := to.(*net.TCPConn); ok && errors.Is(err, io.EOF) {
				tc.CloseWrite()
			} else {
				to.Close()
			}
			from.Close()
			return
		}
	}
}

func (tp *Tap) record(e Event) {
	tp.mu.Lock()
	tp.events = append(tp.events, e)
	tp.mu.Unlock()
}

// Events is a copy of what the Tap saw so far, in the order it saw it.
func (tp *Tap) Events() []Event {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]Event(nil), tp.events...)
}

// FINs counts the directions that ended so far (an SMSC that closes after
// an unbind makes one).
func (tp *Tap) FINs() int {
	n := 0
	for _, e := range tp.Events() {
		if e.FIN {
			n++
		}
	}
	return n
}
