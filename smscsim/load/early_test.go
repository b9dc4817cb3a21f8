package load

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

// Every receipt reaches smppload before its submit_sm_resp: the simulator's
// receipt_early fault sends it on the receiver bind and holds the resp back.
// smppload must hold each such receipt until the resp names its message and
// match them all (on a busy machine some receipts beat their resp anyway).
func TestReceiptsBeforeTheirResps(t *testing.T) {
	sim, err := server.New(server.Config{Operators: []server.OperatorConfig{{ID: "mno", Listen: "127.0.0.1:0",
		Accounts: []server.AccountConfig{{SystemID: "test", Password: "secret"}}}}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	if _, err := sim.Faults.Add(faults.Spec{Type: "receipt_early", Params: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	op, _ := sim.Operator("mno")
	cfg := testConfig(op.Addr())
	cfg.BindType, cfg.Binds, cfg.Window, cfg.N = BindTX, 2, 200, 2000
	res, err := run(t, context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2000 || res.Receipts != 2000 || res.ReceiptsMatched != 2000 {
		t.Errorf("accepted %d receipts %d matched %d, want 2000", res.Accepted, res.Receipts, res.ReceiptsMatched)
	}
}
