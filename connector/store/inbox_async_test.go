package store

import "testing"

// Only a batch of inbox receipts may commit without waiting for its WAL
// flush: a prepare must be durable before its submit_sm goes, an outcome
// before its command is acked, and a receipt not from the inbox (or a
// sweep of held receipts) has no durable copy to be drained again from.
func TestOnlyABatchOfInboxReceiptsCommitsAsynchronously(t *testing.T) {
	inbox := func(id int64) *request { return &request{receipt: &Receipt{inboxID: id}} }
	cases := []struct {
		name  string
		batch []*request
		want  bool
	}{
		{"inbox receipts", []*request{inbox(1), inbox(2)}, true},
		{"with a prepare", []*request{inbox(1), {prepare: &prepareRequest{}}}, false},
		{"with an outcome", []*request{{outcome: &Outcome{}}, inbox(1)}, false},
		{"with a receipt not from the inbox", []*request{inbox(1), {receipt: &Receipt{}}}, false},
		{"with a sweep", []*request{inbox(1), {sweep: &sweepRequest{}}}, false},
		{"empty", nil, false},
	}
	for _, tc := range cases {
		if got := (&txn{batch: tc.batch}).onlyInbox(); got != tc.want {
			t.Errorf("%s: onlyInbox %v, want %v", tc.name, got, tc.want)
		}
	}
}
