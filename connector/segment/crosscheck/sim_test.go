package crosscheck

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// Operators of the simulator, by what they take data_coding 0 to mean.
const (
	opGSM    = "mno-gsm"
	opLatin1 = "mno-latin1"
)

// startSim runs the real simulator in-process with one GSM and one Latin-1
// operator and returns it with a transceiver bound to each.
func startSim(t *testing.T) (*server.Sim, map[string]*smpptest.Raw) {
	t.Helper()
	acc := []server.AccountConfig{{SystemID: "acme", Password: "secret1"}}
	sim, err := server.New(server.Config{RecorderSize: 100000, Operators: []server.OperatorConfig{
		{ID: opGSM, Listen: "127.0.0.1:0", Profile: profile.Profile{DataCoding0: "gsm7"}, Accounts: acc},
		{ID: opLatin1, Listen: "127.0.0.1:0", Profile: profile.Profile{DataCoding0: "latin1"}, Accounts: acc},
	}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	binds := map[string]*smpptest.Raw{}
	for _, id := range []string{opGSM, opLatin1} {
		op, _ := sim.Operator(id)
		r := smpptest.Dial(t, op.Addr())
		if resp := r.Bind(pdu.Transceiver, "acme", "secret1"); resp.CommandStatus != 0 {
			t.Fatalf("bind %s: %v", id, resp.CommandStatus)
		}
		binds[id] = r
	}
	return sim, binds
}
