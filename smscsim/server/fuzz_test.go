package server

import (
	"io"
	"net"
	"testing"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// FuzzSession feeds arbitrary bytes to a live session (bind state machine,
// handlers, faults off): whatever arrives, the simulator must neither panic
// nor hang, and every session ends when its peer goes away.
func FuzzSession(f *testing.F) {
	bind := pdu.NewBindRequest(pdu.Transceiver)
	bind.SystemID, bind.Password = "test", "test"
	bind.SetSequenceNumber(1)
	sm := smpptest.NewSubmit(f, "A", "447700900123", "fuzz", 1)
	sm.SetSequenceNumber(2)
	udh := smpptest.NewSubmit(f, "A", "447700900123", "part", 1)
	udh.EsmClass = 0x40
	udh.Message.SetUDH(pdu.UDH{pdu.NewIEConcatMessage(2, 1, 7)})
	q := pdu.NewQuerySM().(*pdu.QuerySM)
	q.MessageID = "1"
	for _, seed := range [][]byte{
		wire.Encode(bind),
		append(wire.Encode(bind), wire.Encode(sm)...),
		append(append(wire.Encode(bind), wire.Encode(udh)...), wire.Encode(q)...),
		append(wire.Encode(bind), wire.HeaderOnly(data.UNBIND, 0, 3)...),
		wire.HeaderOnly(data.DELIVER_SM_RESP, 0, 9),
	} {
		f.Add(seed)
	}
	s, err := New(Config{RecorderSize: 100, Operators: []OperatorConfig{{
		ID: "op", Listen: "127.0.0.1:0", Profile: profile.Profile{},
		Accounts: []AccountConfig{{SystemID: "test", Password: "test"}},
	}}}, quietLog())
	if err != nil {
		f.Fatal(err)
	}
	op, _ := s.Operator("op")
	f.Cleanup(s.Close)
	f.Fuzz(func(t *testing.T, in []byte) {
		client, srv := net.Pipe()
		ss := newSession(op, srv)
		done := make(chan struct{})
		go func() { ss.run(); close(done) }()
		go io.Copy(io.Discard, client)
		client.Write(in)
		client.Close()
		<-done
		// The session recovers from handler panics to protect the process;
		// for the fuzzer any recovered panic is a failure.
		if n := s.Stats().Sum("op", "", "session", "panic"); n > 0 {
			t.Fatalf("handler panicked on %x", in)
		}
	})
}
