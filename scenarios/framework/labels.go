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
	// LabelNegative marks a spec in a phase suite that provokes on purpose
	// the failure its gate must catch (e.g. every bind of an operator down,
	// to see the critical alert): its alerts and faults are meant, it runs
	// its own replicas and records no criterion, so it never counts against
	// the gate of the healthy run; --label-filter='phase3 && !negative'
	// runs the gate alone.
	LabelNegative = "negative"
)
