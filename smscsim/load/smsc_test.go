package load

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// testSMSC is a small SMSC on top of wire: binds, answers submit_sm with
// increasing decimal ids and sends a deliver_sm receipt per message.
type testSMSC struct {
	t        testing.TB
	ln       net.Listener
	password string

	// options, set before the first connection
	rejectEvery  int                    // every n-th submit_sm is answered with rejectStatus
	rejectStatus data.CommandStatusType // default ESME_RTHROTTLED
	nackEvery    int                    // every n-th submit_sm is answered with generic_nack ESME_RINVCMDLEN
	silent       bool                   // never answer submit_sm
	closeAfter   int64                  // close the connection after this many submit_sm
	hexRespIDs   bool                   // submit_sm_resp ids in hex, receipt ids in decimal
	noTLV        bool                   // receipts without receipted_message_id
	receiptDelay time.Duration          // receipts are sent this long after the resp
	decode       bool                   // decode every submit_sm with wire.Decode and check it

	ids        atomic.Uint64
	submits    atomic.Int64
	dlrResps   atomic.Int64
	badSubmits atomic.Int64

	mu    sync.Mutex
	conns []*smscConn // bound sessions that can take deliver_sm
	rr    int
}

type smscConn struct {
	out     chan []byte
	rx      bool // may receive deliver_sm
	closed  chan struct{}
	outSeq  atomic.Uint32
	closeMu sync.Once
}

func newTestSMSC(t testing.TB) *testSMSC {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testSMSC{t: t, ln: ln, password: "secret", rejectStatus: data.ESME_RTHROTTLED, decode: true}
	t.Cleanup(func() { ln.Close() })
	go s.serve()
	return s
}

func (s *testSMSC) addr() string { return s.ln.Addr().String() }

func (s *testSMSC) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.handle(c)
	}
}

func (s *testSMSC) handle(c net.Conn) {
	sc := &smscConn{out: make(chan []byte, 4096), closed: make(chan struct{})}
	written := make(chan struct{}) // closed when the writer has returned
	defer func() {
		// The writer flushes what was queued (a bind_resp refusing the
		// password, the answers before closeAfter, an unbind_resp) and
		// returns; then the connection goes. Bounded: a client that does not
		// read must not keep the connection.
		sc.closeMu.Do(func() { close(sc.closed) })
		select {
		case <-written:
		case <-time.After(time.Second):
		}
		c.Close()
	}()
	go func() { // writer: batches and flushes when idle
		defer close(written)
		bw := bufio.NewWriterSize(c, 64<<10)
		for {
			select {
			case b := <-sc.out:
				bw.Write(b)
				if len(sc.out) == 0 {
					if bw.Flush() != nil {
						return
					}
				}
			case <-sc.closed:
				for {
					select {
					case b := <-sc.out:
						bw.Write(b)
					default:
						bw.Flush()
						return
					}
				}
			}
		}
	}()
	send := func(b []byte) {
		select {
		case sc.out <- b:
		case <-sc.closed:
		}
	}
	br := bufio.NewReaderSize(c, 64<<10)
	var n int64
	for {
		f, err := wire.ReadFrame(br, 0)
		if err != nil {
			return
		}
		h := f.Header
		switch h.CommandID {
		case data.BIND_TRANSCEIVER, data.BIND_TRANSMITTER, data.BIND_RECEIVER:
			p, err := wire.Decode(f)
			if err != nil {
				send(wire.GenericNack(data.ESME_RINVCMDLEN, h.SequenceNumber))
				continue
			}
			req := p.(*pdu.BindRequest)
			resp := pdu.NewBindResp(*req)
			resp.SetSequenceNumber(h.SequenceNumber)
			if req.Password != s.password {
				resp.CommandStatus = data.ESME_RINVPASWD
				send(wire.Encode(resp))
				return // the deferred close flushes it first
			}
			send(wire.Encode(resp))
			if h.CommandID != data.BIND_TRANSMITTER {
				sc.rx = true
				s.mu.Lock()
				s.conns = append(s.conns, sc)
				s.mu.Unlock()
				defer s.drop(sc)
			}
		case data.SUBMIT_SM:
			n++
			global := s.submits.Add(1)
			reg := byte(1)
			if s.decode {
				p, err := wire.Decode(f)
				if err != nil {
					s.badSubmits.Add(1)
					send(wire.GenericNack(data.ESME_RINVCMDLEN, h.SequenceNumber))
					continue
				}
				reg = p.(*pdu.SubmitSM).RegisteredDelivery
			}
			if s.closeAfter > 0 && n > s.closeAfter {
				return // the deferred close flushes the answers so far
			}
			switch {
			case s.silent:
			case s.nackEvery > 0 && global%int64(s.nackEvery) == 0:
				send(wire.GenericNack(data.ESME_RINVCMDLEN, h.SequenceNumber))
			case s.rejectEvery > 0 && global%int64(s.rejectEvery) == 0:
				send(wire.HeaderOnly(data.SUBMIT_SM_RESP, s.rejectStatus, h.SequenceNumber))
			default:
				id := s.ids.Add(1)
				respID := strconv.FormatUint(id, 10)
				if s.hexRespIDs {
					respID = strconv.FormatUint(id, 16)
				}
				send(submitResp(h.SequenceNumber, respID))
				if reg&1 == 1 {
					s.receipt(sc, strconv.FormatUint(id, 10), respID)
				}
			}
		case data.DELIVER_SM_RESP:
			s.dlrResps.Add(1)
		case data.ENQUIRE_LINK:
			send(wire.HeaderOnly(data.ENQUIRE_LINK_RESP, 0, h.SequenceNumber))
		case data.UNBIND:
			send(wire.HeaderOnly(data.UNBIND_RESP, 0, h.SequenceNumber))
			return // the deferred close flushes it
		default:
			if !wire.IsResponse(h.CommandID) {
				send(wire.GenericNack(data.ESME_RINVCMDID, h.SequenceNumber))
			}
		}
	}
}

func (s *testSMSC) drop(sc *smscConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, c := range s.conns {
		if c == sc {
			s.conns = append(s.conns[:i], s.conns[i+1:]...)
			return
		}
	}
}

// receipt sends a receipt on the submitting session when it can take one,
// otherwise on the next receiver (round robin).
func (s *testSMSC) receipt(from *smscConn, textID, tlvID string) {
	to := from
	if !from.rx {
		s.mu.Lock()
		if len(s.conns) == 0 {
			s.mu.Unlock()
			return
		}
		s.rr++
		to = s.conns[s.rr%len(s.conns)]
		s.mu.Unlock()
	}
	if s.noTLV {
		tlvID = ""
	}
	b := deliverReceipt(to.outSeq.Add(1), textID, tlvID)
	deliver := func() {
		select {
		case to.out <- b:
		case <-to.closed:
		}
	}
	if s.receiptDelay > 0 {
		time.AfterFunc(s.receiptDelay, deliver)
		return
	}
	deliver()
}

func submitResp(seq int32, id string) []byte {
	b := make([]byte, 16, 17+len(id))
	b = append(b, id...)
	b = append(b, 0)
	binary.BigEndian.PutUint32(b[0:], uint32(len(b)))
	binary.BigEndian.PutUint32(b[4:], cmdSubmitSMResp)
	binary.BigEndian.PutUint32(b[12:], uint32(seq))
	return b
}

func deliverReceipt(seq uint32, textID, tlvID string) []byte {
	text := fmt.Sprintf("id:%s sub:001 dlvrd:001 submit date:2601011200 done date:2601011200 stat:DELIVRD err:000 text:", textID)
	b := make([]byte, 16, 128)
	b = append(b, 0)                      // service_type
	b = append(b, 1, 1, '4', '4', '1', 0) // source
	b = append(b, 5, 0, 'L', 'O', 'A', 'D', 0)
	b = append(b, 0x04, 0, 0, 0, 0, 0, 0, 0, 0) // esm_class .. sm_default_msg_id
	b = append(b, byte(len(text)))
	b = append(b, text...)
	if tlvID != "" {
		b = binary.BigEndian.AppendUint16(b, tagReceiptedMessageID)
		b = binary.BigEndian.AppendUint16(b, uint16(len(tlvID)+1))
		b = append(b, tlvID...)
		b = append(b, 0)
		b = binary.BigEndian.AppendUint16(b, 0x0427) // message_state
		b = binary.BigEndian.AppendUint16(b, 1)
		b = append(b, 2)
	}
	binary.BigEndian.PutUint32(b[0:], uint32(len(b)))
	binary.BigEndian.PutUint32(b[4:], cmdDeliverSM)
	binary.BigEndian.PutUint32(b[12:], seq)
	return b
}
