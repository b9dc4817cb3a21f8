package operator

import (
	"testing"

	"github.com/smpp-connector/smpp-connector/connector/config"
)

// Four commands in hand per window slot, capped by what the TPS sends in
// half the ack wait (a buffered command has no heartbeat), never fewer than
// the two per slot that may be sending.
func TestCommandsInFlight(t *testing.T) {
	cases := []struct {
		binds, window, tps int
		want, sending      int
	}{
		{1, 100, 1_000_000, 400, 200}, // the benchmark: four per slot
		{2, 10, 100, 80, 40},          // 100 TPS sends 500 in 5 s: four per slot
		{1, 100, 60, 300, 200},        // capped by the TPS: 60 x 5 s
		{1, 100, 10, 200, 200},        // never below two per slot
		{1, 1, 1, 8, 4},               // the floors
	}
	for _, c := range cases {
		oc := config.Operator{Binds: c.binds, Window: c.window, TPS: c.tps}
		if got := commandsInFlight(oc); got != c.want {
			t.Errorf("binds %d window %d tps %d: %d commands in hand, want %d", c.binds, c.window, c.tps, got, c.want)
		}
		if got := commandsSending(oc); got != c.sending {
			t.Errorf("binds %d window %d tps %d: %d sending, want %d", c.binds, c.window, c.tps, got, c.sending)
		}
	}
}
