package server

import (
	"context"
	"testing"

	"github.com/smpp-connector/smpp-connector/smscsim/load"
)

// BenchmarkSubmitWithReceipts drives the simulator with the load generator:
// one transceiver bind, window 100, a receipt for every message. It reports
// submit_sm/s and receipts/s as custom metrics; go test -bench prints them.
func BenchmarkSubmitWithReceipts(b *testing.B) {
	s, err := New(Config{RecorderSize: 10000, Operators: []OperatorConfig{{
		ID: "op", Listen: "127.0.0.1:0", Accounts: []AccountConfig{{SystemID: "test", Password: "test"}},
	}}}, quietLog())
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	op, _ := s.Operator("op")
	cfg := load.DefaultConfig()
	cfg.Addr, cfg.SystemID, cfg.Password = op.Addr(), "test", "test"
	cfg.N = int64(b.N)
	b.ResetTimer()
	res, err := load.Run(context.Background(), cfg, quietLog())
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if res.Receipts != res.Accepted || res.Accepted+res.Rejected != uint64(b.N) {
		b.Fatalf("accepted %d rejected %d receipts %d of %d", res.Accepted, res.Rejected, res.Receipts, b.N)
	}
	b.ReportMetric(res.SubmitRate, "submit/s")
	b.ReportMetric(res.ReceiptRate, "receipts/s")
	b.ReportMetric(float64(res.Rejected), "ESME_RMSGQFUL")
}
