package scenario

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

// Runner states.
const (
	StateRunning  = "running"
	StateFinished = "finished" // every step ran (some may have failed)
	StateStopped  = "stopped"  // stopped before the last step
)

// Status is a runner's progress, served on GET /scenario.
type Status struct {
	Name    string    `json:"name,omitempty"`
	Seed    uint64    `json:"seed"` // the seed the timeline's faults draw from
	State   string    `json:"state"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
	Elapsed string    `json:"elapsed"`
	Done    int       `json:"done"`    // steps run, failed ones included
	Pending int       `json:"pending"` // steps not run yet
	Failed  int       `json:"failed"`  // steps whose action returned an error
	// Next is the offset of the next pending step.
	Next  *Duration    `json:"next,omitempty"`
	Steps []StepStatus `json:"steps"`
}

// StepStatus is one step of the timeline, in the order it runs.
type StepStatus struct {
	Index  int       `json:"index"` // position in the file: steps[Index]
	Line   int       `json:"line,omitempty"`
	At     Duration  `json:"at"`
	Action string    `json:"action"` // add, remove, mo, reset
	Target string    `json:"target,omitempty"`
	Done   bool      `json:"done"`
	Ran    time.Time `json:"ran,omitzero"`
	Error  string    `json:"error,omitempty"`
}

// Runner plays a scenario's timeline against a simulator.
type Runner struct {
	sim    *server.Sim
	sc     *Scenario
	steps  []Step
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}

	mu sync.Mutex
	st Status
}

// CheckSim checks what only the simulator knows: that the operators and
// accounts the steps name exist.
func (sc *Scenario) CheckSim(sim *server.Sim) error {
	for _, st := range sc.timeline() {
		field := fmt.Sprintf("steps[%d]", st.Index)
		var opID, opField string
		switch {
		case st.Add != nil && st.Add.Match.Operator != "":
			opID, opField = st.Add.Match.Operator, field+".add.match.operator"
		case st.MO != nil:
			opID, opField = st.MO.Operator, field+".mo.operator"
		default:
			continue
		}
		op, ok := sim.Operator(opID)
		if !ok {
			return &Error{Line: st.Line, Field: opField, Msg: fmt.Sprintf("unknown operator %q (have %v)", opID, sim.Operators())}
		}
		if st.MO != nil && st.MO.Account != "" && !slices.Contains(op.Accounts(), st.MO.Account) {
			return &Error{Line: st.Line, Field: field + ".mo.account", Msg: fmt.Sprintf("operator %q has no account %q (have %v)", opID, st.MO.Account, op.Accounts())}
		}
	}
	return nil
}

// timeline returns the steps sorted by offset (stable), each with Index set
// to its position in the file (Parse) or in Steps (a scenario built in Go).
func (sc *Scenario) timeline() []Step {
	steps := slices.Clone(sc.Steps)
	parsed := false
	for _, s := range steps {
		if s.Index != 0 || s.Line != 0 {
			parsed = true
			break
		}
	}
	if !parsed {
		for i := range steps {
			steps[i].Index = i
		}
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].At < steps[j].At })
	return steps
}

// Start validates the scenario against the simulator and plays its timeline
// in the background, from now. Cancelling ctx or calling Stop ends it.
func Start(ctx context.Context, sim *server.Sim, sc *Scenario, log *slog.Logger) (*Runner, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	if err := sc.CheckSim(sim); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	if sc.Seed != 0 {
		// Faults the timeline adds draw from the scenario's seed, so a run repeats.
		sim.Reseed(sc.Seed)
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &Runner{sim: sim, sc: sc, steps: sc.timeline(), log: log.With("scenario", sc.Name), cancel: cancel, done: make(chan struct{})}
	r.st = Status{Name: sc.Name, Seed: sim.Seed(), State: StateRunning, Started: time.Now(), Pending: len(r.steps)}
	for _, s := range r.steps {
		r.st.Steps = append(r.st.Steps, StepStatus{Index: s.Index, Line: s.Line, At: s.At, Action: s.Kind(), Target: s.Target()})
	}
	r.log.Info("scenario started", "steps", len(r.steps), "seed", sim.Seed())
	go r.run(ctx)
	return r, nil
}

func (r *Runner) run(ctx context.Context) {
	defer close(r.done)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for i := range r.steps {
		st := &r.steps[i]
		if d := time.Until(r.st.Started.Add(st.At.D())); d > 0 {
			t.Reset(d)
			select {
			case <-ctx.Done():
				r.finish(StateStopped)
				return
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			r.finish(StateStopped)
			return
		}
		err := r.exec(st)
		r.mu.Lock()
		ss := &r.st.Steps[i]
		ss.Done, ss.Ran = true, time.Now()
		r.st.Done++
		r.st.Pending--
		if err != nil {
			ss.Error = err.Error()
			r.st.Failed++
		}
		r.mu.Unlock()
		if err != nil {
			r.log.Warn("scenario step failed", "step", st.Index, "action", st.String(), "err", err)
		} else {
			r.log.Info("scenario step", "step", st.Index, "action", st.String())
		}
	}
	r.finish(StateFinished)
}

func (r *Runner) exec(st *Step) error {
	switch {
	case st.Add != nil:
		_, err := r.sim.Faults.Add(*st.Add)
		return err
	case st.Remove != "":
		return r.sim.Faults.Remove(st.Remove)
	case st.MO != nil:
		return r.sim.InjectMO(st.MO.Operator, st.MO.MO)
	case st.Reset:
		r.sim.Reset()
	}
	return nil
}

func (r *Runner) finish(state string) {
	r.mu.Lock()
	r.st.State, r.st.Ended = state, time.Now()
	done, failed := r.st.Done, r.st.Failed
	r.mu.Unlock()
	r.log.Info("scenario "+state, "done", done, "failed", failed)
}

// Stop ends the timeline and waits for it; steps already run are not undone
// (faults they added stay active until removed or reset).
func (r *Runner) Stop() {
	r.cancel()
	<-r.done
}

// Done is closed when the timeline has ended.
func (r *Runner) Done() <-chan struct{} { return r.done }

// Wait waits for the timeline to end or ctx to be done.
func (r *Runner) Wait(ctx context.Context) error {
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Scenario is the scenario being played.
func (r *Runner) Scenario() *Scenario { return r.sc }

// Status reports the progress.
func (r *Runner) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.st
	st.Steps = slices.Clone(r.st.Steps)
	end := st.Ended
	if end.IsZero() {
		end = time.Now()
	}
	st.Elapsed = end.Sub(st.Started).Round(time.Millisecond).String()
	for i := range st.Steps {
		if !st.Steps[i].Done {
			at := st.Steps[i].At
			st.Next = &at
			break
		}
	}
	return st
}
