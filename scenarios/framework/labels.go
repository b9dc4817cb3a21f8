package framework

// Labels of the scenario suites, for `ginkgo --label-filter` (e.g.
// --label-filter='phase2 && !slow'). Each phase suite labels itself with its
// phase; specs add Quirks, Smoke or Slow where they apply.
const (
	LabelPhase1 = "phase1" // infrastructure
	LabelPhase2 = "phase2" // shadow run
	LabelPhase3 = "phase3" // cutover
	LabelPhase4 = "phase4" // hardening
	LabelQuirks = "quirks" // per-operator protocol quirks
	LabelSmoke  = "smoke"  // safe against a staging deployment (external provider)
	LabelSlow   = "slow"   // takes minutes; left out of quick local runs
)
