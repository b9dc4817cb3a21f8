package framework

// Labels of the scenario suites, for `ginkgo --label-filter` (e.g.
// --label-filter='phase2 && !slow'; `make gates` selects the four phases).
// Each phase suite labels itself with its phase; specs add Slow where it
// applies. A label is declared here only once a spec carries it
// (TestEveryLabelIsCarried): the quirks suite of DESIGN.md brings its own when
// it is written.
const (
	LabelPhase1 = "phase1" // infrastructure
	LabelPhase2 = "phase2" // shadow run
	LabelPhase3 = "phase3" // cutover
	LabelPhase4 = "phase4" // hardening
	LabelSlow   = "slow"   // takes minutes; left out of quick local runs
	LabelFaults = "faults" // the fault matrix (scenarios/faults): the connector under kills, restarts and storms
	LabelSmoke  = "smoke"  // the staging smoke suite (scenarios/smoke): against a deployment, starts nothing
)
