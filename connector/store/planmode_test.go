package store

import (
	"strings"
	"testing"
)

// With generic plans on, a transaction's statements on
// message_correlations run under plan_cache_mode auto and those on the
// queue tables under force_custom_plan (firstRound says why); with them
// off, no statement changes the session's mode.
func TestQueueStatementsKeepCustomPlans(t *testing.T) {
	table := map[string]string{stealSQL: "steal", outcomeSQL: "outcome", lookupSQL: "lookup", prepareSQL: "prepare"}
	queue := map[string]string{claimSQL: "claim", heldSQL: "held", sweepSQL: "sweep"}
	batch := func() []*request {
		return []*request{
			{receipt: &Receipt{inboxID: 1, OperatorID: "mno-a", SMSCKey: "k1"}},
			{outcome: &Outcome{Kind: Accepted, OperatorID: "mno-a", SMSCKey: "k2", MessageID: "m1", Part: 1}},
			{prepare: &prepareRequest{msg: MessageRef{OperatorID: "mno-a", MessageID: "m2", PartCount: 1}, parts: []PartRef{{Number: 1}}}},
			{sweep: &sweepRequest{op: []string{"mno-a"}, key: []string{"k3"}}},
		}
	}
	for _, generic := range []bool{true, false} {
		tx := &txn{s: &Store{}, batch: batch(), steal: true, generic: generic, keyLocks: map[int32]bool{},
			rowsByID: map[int64]*part{}, res: make([]response, 4)}
		tx.sortByKind()
		mode, seen := queuePlans, map[string]bool{}
		for _, st := range tx.firstRound() {
			if m, ok := strings.CutPrefix(st.sql, "SET LOCAL plan_cache_mode = "); ok {
				if !generic {
					t.Fatalf("generic plans off: %q", st.sql)
				}
				mode = m
				continue
			}
			want := ""
			if name, ok := table[st.sql]; ok {
				seen[name], want = true, tablePlans
			}
			if name, ok := queue[st.sql]; ok {
				seen[name], want = true, queuePlans
			}
			if want == "" {
				continue
			}
			if !generic {
				want = queuePlans
			}
			if mode != want {
				t.Errorf("generic %v: %.40q runs under %s, want %s", generic, st.sql, mode, want)
			}
		}
		if len(seen) != len(table)+len(queue) {
			t.Fatalf("generic %v: saw %v of the statements: the batch no longer makes each", generic, seen)
		}
	}
}
