package faults

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/linxGnu/gosmpp/data"

	"github.com/smpp-connector/smpp-connector/smscsim/meter"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// throttle enforces a TPS limit per account the way an operator does: arrivals
// are counted in a 1 s window (sliding or fixed to the wall-clock second) and
// the ones over the limit are answered with ESME_RTHROTTLED, ESME_RMSGQFUL or
// a generic_nack, depending on the operator.
type throttle struct {
	tps           int
	mode          meter.Mode
	reject        reject
	count         map[data.CommandIDType]bool
	countRejected bool

	mu      sync.Mutex
	windows map[string]*meter.Window // per account
}

type throttleParams struct {
	TPS    int    `json:"tps"`
	Window string `json:"window,omitempty"`
	rejectParams
	Count []string `json:"count,omitempty"`
	// CountRejected is a pointer because its default is true.
	CountRejected *bool `json:"countRejected,omitempty"`
}

// defaultCounted are the commands that carry messages: what operators bill and limit.
var defaultCounted = []string{"submit_sm", "data_sm", "submit_multi"}

func init() {
	Register(Type{
		Name:        "throttle",
		Description: "TPS limit per account over a fixed or sliding 1 s window; answers the excess with a status (ESME_RTHROTTLED) or generic_nack",
		New:         newThrottle,
	})
}

func newThrottle(raw json.RawMessage) (Fault, error) {
	var p throttleParams
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	if p.TPS <= 0 {
		return nil, paramErr("tps", "must be > 0, got %d", p.TPS)
	}
	mode, err := meter.ParseMode(p.Window)
	if err != nil {
		return nil, paramErr("window", "must be sliding or fixed, got %q", p.Window)
	}
	rej, err := p.build(data.ESME_RTHROTTLED)
	if err != nil {
		return nil, err
	}
	names := p.Count
	if len(names) == 0 {
		names = defaultCounted
	}
	count := map[data.CommandIDType]bool{}
	for i, n := range names {
		id, err := wire.ParseCommand(n)
		if err != nil {
			return nil, paramErr(fmt.Sprintf("count[%d]", i), "%v", err)
		}
		count[id] = true
	}
	return &throttle{
		tps: p.TPS, mode: mode, reject: rej, count: count,
		countRejected: p.CountRejected == nil || *p.CountRejected,
		windows:       map[string]*meter.Window{},
	}, nil
}

// OnRequest counts the arrival and rejects it when the window is over the limit.
func (t *throttle) OnRequest(in *Instance, ev *Event, act *Action) {
	if !t.count[ev.Command] {
		return
	}
	// With countRejected=false the operator only counts what it accepts, so
	// a request already refused by the server or an earlier fault is not counted.
	if !t.countRejected && (act.Rejected() || ev.Status != data.ESME_ROK) {
		return
	}
	now := eventTime(ev)
	t.mu.Lock()
	w := t.windows[ev.Account]
	if w == nil {
		w = meter.NewWindow(t.mode)
		t.windows[ev.Account] = w
	}
	var over bool
	if t.countRejected {
		// Every arrival takes a slot: a client that retries at once stays throttled.
		over = w.Add(now) > t.tps
	} else if over = w.Count(now) >= t.tps; !over {
		w.Add(now)
	}
	t.mu.Unlock()
	if over {
		t.reject.apply(in, act)
	}
}
