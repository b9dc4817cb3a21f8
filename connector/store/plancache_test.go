package store_test

import (
	"testing"

	"github.com/smpp-connector/smpp-connector/connector/store"
)

// TestGenericPlansUseIndexesAtTheThreshold checks the rule of
// store.GenericPlanRows both ways: on a new deployment's empty table the
// store plans every statement with its values, and once
// message_correlations' statistics count GenericPlanRows rows its writer's
// statements on the table may use generic plans, which at that size
// already probe the indexes. The sessions themselves keep force_custom_plan
// (the queue tables' statements: TestQueueStatementsKeepCustomPlans).
func TestGenericPlansUseIndexesAtTheThreshold(t *testing.T) {
	if testing.Short() {
		t.Skip("fills tables with 400,000 rows")
	}
	dsn := env.FreshDatabase(t, true)
	open := func(o store.Options) (generic bool, session string) {
		t.Helper()
		s, err := store.Open(ctxT(t), dsn, o)
		ok(t, err)
		defer s.Close()
		session, err = s.Setting(ctxT(t), "plan_cache_mode")
		ok(t, err)
		return s.GenericPlans(), session
	}
	if generic, session := open(store.Options{}); generic || session != "force_custom_plan" {
		t.Fatalf("empty table: generic plans %v, sessions %s; want false, force_custom_plan", generic, session)
	}

	fill(t, dsn, store.GenericPlanRows) // and ANALYZE
	if generic, session := open(store.Options{}); !generic || session != "force_custom_plan" {
		t.Fatalf("%d rows analysed: generic plans %v, sessions %s; want true, force_custom_plan",
			store.GenericPlanRows, generic, session)
	}
	// A mode set in Options (or the DSN) holds for every statement.
	if generic, session := open(store.Options{PlanCacheMode: "auto"}); generic || session != "auto" {
		t.Fatalf("Options.PlanCacheMode auto: generic plans %v, sessions %s; want false (no switching), auto", generic, session)
	}
	// The statements the writer runs under plan_cache_mode auto.
	hot := map[string]bool{"prepare": true, "prepareSelect": true, "steal": true, "outcome": true,
		"lookup": true, "siblings": true, "receiptUpdate": true, "hold": true}
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
}
