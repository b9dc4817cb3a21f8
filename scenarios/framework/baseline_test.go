package framework

import (
	"strings"
	"testing"
)

func TestMixReproducesTheBaseline(t *testing.T) {
	bl, err := ParseBaseline([]byte("submitSuccess: 98.0\nreceiptRate: 96.0\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1000, 1234, 50} {
		m := bl.Mix(n)
		var rejected, lost int
		for i := range n {
			switch d := m.Destination(i); {
			case strings.HasPrefix(d, RejectPrefix):
				rejected++
			case strings.HasPrefix(d, NoReceiptPrefix):
				lost++
			}
		}
		if rejected != m.Rejected || lost != m.NoReceipt {
			t.Errorf("n=%d: %d rejected, %d without receipt; the mix says %+v", n, rejected, lost, m)
		}
		if d := m.SubmitSuccess() - bl.SubmitSuccess; n >= 1000 && (d > 0.1 || d < -0.1) {
			t.Errorf("n=%d: submit success %.2f vs %.2f", n, m.SubmitSuccess(), bl.SubmitSuccess)
		}
		if d := m.ReceiptRate() - bl.ReceiptRate; n >= 1000 && (d > 0.1 || d < -0.1) {
			t.Errorf("n=%d: receipt rate %.2f vs %.2f", n, m.ReceiptRate(), bl.ReceiptRate)
		}
	}
	for _, bad := range []string{"submitSuccess: 0\nreceiptRate: 96\n", "submitSuccess: 98\nreceiptRate: 101\n", "submitSuccess: [\n"} {
		if _, err := ParseBaseline([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
