package store_test

import (
	"testing"

	"github.com/smpp-connector/smpp-connector/connector/store"
)

// TestGenericPlansUseIndexesAtTheThreshold checks the rule of
// store.GenericPlanRows both ways: on a new deployment's empty table the
// store's sessions plan every statement with its values, and once
// message_correlations' statistics count GenericPlanRows rows the sessions
// opened then reuse generic plans, which at that size already probe the
// indexes for every statement of a message's life (a plan cached from
// these statistics stays right as the table grows: a bigger table only
// makes an index probe cheaper than a scan, by comparison).
func TestGenericPlansUseIndexesAtTheThreshold(t *testing.T) {
	if testing.Short() {
		t.Skip("fills tables with 400,000 rows")
	}
	dsn := env.FreshDatabase(t, true)
	mode := func() string {
		t.Helper()
		s, err := store.Open(ctxT(t), dsn, store.Options{})
		ok(t, err)
		defer s.Close()
		v, err := s.Setting(ctxT(t), "plan_cache_mode")
		ok(t, err)
		return v
	}
	if got := mode(); got != "force_custom_plan" {
		t.Fatalf("empty table: plan_cache_mode %s, want force_custom_plan", got)
	}

	fill(t, dsn, store.GenericPlanRows) // and ANALYZE
	if got := mode(); got != "auto" {
		t.Fatalf("%d rows analysed: plan_cache_mode %s, want auto", store.GenericPlanRows, got)
	}
	hot := map[string]bool{"prepare": true, "prepareSelect": true, "steal": true, "outcome": true,
		"held": true, "lookup": true, "siblings": true, "receiptUpdate": true, "hold": true,
		"drain": true, "claim": true, "outboxSelect": true}
	var cases []planCase
	for _, tc := range planCases() {
		if hot[tc.name] {
			cases = append(cases, tc)
		}
	}
	if len(cases) != len(hot) {
		t.Fatalf("found %d statements of %d: a case was renamed", len(cases), len(hot))
	}
	checkPlans(t, connect(t, dsn), cases, "generic")

	// A DSN or Options that set the mode win over the rule.
	s, err := store.Open(ctxT(t), dsn, store.Options{PlanCacheMode: "force_custom_plan"})
	ok(t, err)
	defer s.Close()
	v, err := s.Setting(ctxT(t), "plan_cache_mode")
	ok(t, err)
	if v != "force_custom_plan" {
		t.Errorf("Options.PlanCacheMode force_custom_plan: session has %s", v)
	}
}
