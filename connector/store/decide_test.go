package store

import (
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
)

// The receipt rules, alone: the state a part is in, when the receipt that
// set it was received, and the next receipt.
func TestDecide(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	before, after := t0.Add(-time.Millisecond), t0.Add(time.Millisecond)
	for _, c := range []struct {
		name    string
		current dlr.Status
		next    dlr.Status
		nextAt  time.Time
		want    Disposition
	}{
		{"first receipt", "", dlr.Enroute, after, Applied},
		{"first receipt, clock behind", "", dlr.Delivered, before, Applied},
		{"newer intermediate state", dlr.Enroute, dlr.Accepted, after, Applied},
		{"older intermediate state, applied second", dlr.Accepted, dlr.Enroute, before, Stale},
		{"repeat of the intermediate state", dlr.Enroute, dlr.Enroute, after, Duplicate},
		{"final over intermediate", dlr.Accepted, dlr.Delivered, after, Applied},
		{"final over a newer intermediate", dlr.Accepted, dlr.Expired, before, Applied},
		{"intermediate after final", dlr.Delivered, dlr.Enroute, after, Stale},
		{"intermediate received before final", dlr.Delivered, dlr.Accepted, before, Stale},
		{"second final", dlr.Delivered, dlr.Undeliverable, after, Duplicate},
		{"repeat of the final", dlr.Delivered, dlr.Delivered, after, Duplicate},
		{"definite final after UNKNOWN", dlr.Unknown, dlr.Delivered, after, Duplicate},
		{"definite final received before UNKNOWN", dlr.Unknown, dlr.Undeliverable, before, Duplicate},
		{"UNKNOWN again", dlr.Unknown, dlr.Unknown, after, Duplicate},
		{"UNKNOWN after a definite final", dlr.Delivered, dlr.Unknown, after, Duplicate},
		{"intermediate after UNKNOWN", dlr.Unknown, dlr.Enroute, after, Stale},
	} {
		if got := decide(c.current, t0, c.next, c.nextAt); got != c.want {
			t.Errorf("%s: decide(%s, %s) = %s, want %s", c.name, c.current, c.next, got, c.want)
		}
	}
}
