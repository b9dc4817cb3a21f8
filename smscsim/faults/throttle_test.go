package faults

import (
	"sync"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
)

// t0 is a second boundary, so that fixed windows are easy to reason about.
var t0 = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

// outcome summarises an action: "ok", a status name, "nack:<status>", "drop"...
func outcome(a Action) string {
	switch {
	case a.Raw != nil:
		return "raw"
	case a.Drop && a.Close:
		return "drop+close"
	case a.Drop:
		return "drop"
	case a.Close:
		return "close"
	case a.GenericNack:
		return "nack:" + a.Status.String()
	case a.Status != nil:
		return a.Status.String()
	}
	return "ok"
}

func TestThrottle(t *testing.T) {
	const thr, full = "ESME_RTHROTTLED", "ESME_RMSGQFUL"
	type arrival struct {
		at      int // ms after t0
		account string
		cmd     data.CommandIDType
		want    string
	}
	sub := data.SUBMIT_SM
	tests := []struct {
		name, params string
		arrivals     []arrival
	}{
		{"sliding: third in a second is over", `{"tps":2}`, []arrival{
			{0, "a", sub, "ok"}, {100, "a", sub, "ok"}, {200, "a", sub, thr},
			// at 1050 the arrival at 0 has left, those at 100 and 200 are still in
			{1050, "a", sub, thr},
			// at 1250 all three left: one slot in use (1050) plus this one
			{1250, "a", sub, "ok"},
		}},
		{"sliding: a burst across the second boundary is caught", `{"tps":2}`, []arrival{
			{900, "a", sub, "ok"}, {950, "a", sub, "ok"}, {1000, "a", sub, thr}, {1050, "a", sub, thr},
		}},
		{"fixed: the same burst passes, windows reset on the second", `{"tps":2,"window":"fixed"}`, []arrival{
			{900, "a", sub, "ok"}, {950, "a", sub, "ok"}, {1000, "a", sub, "ok"}, {1050, "a", sub, "ok"}, {1100, "a", sub, thr},
		}},
		{"per account", `{"tps":1}`, []arrival{
			{0, "a", sub, "ok"}, {1, "b", sub, "ok"}, {2, "a", sub, thr}, {3, "b", sub, thr},
		}},
		{"enquire_link is not counted", `{"tps":1}`, []arrival{
			{0, "a", data.ENQUIRE_LINK, "ok"}, {1, "a", data.ENQUIRE_LINK, "ok"}, {2, "a", sub, "ok"}, {3, "a", data.ENQUIRE_LINK, "ok"}, {4, "a", sub, thr},
		}},
		{"data_sm and submit_multi count by default", `{"tps":2}`, []arrival{
			{0, "a", data.DATA_SM, "ok"}, {1, "a", data.SUBMIT_MULTI, "ok"}, {2, "a", sub, thr},
		}},
		{"count narrows the commands", `{"tps":1,"count":["data_sm"]}`, []arrival{
			{0, "a", sub, "ok"}, {1, "a", sub, "ok"}, {2, "a", data.DATA_SM, "ok"}, {3, "a", data.DATA_SM, thr},
		}},
		{"countRejected (default): retries keep the client throttled", `{"tps":2}`, []arrival{
			{0, "a", sub, "ok"}, {500, "a", sub, "ok"}, {600, "a", sub, thr}, {700, "a", sub, thr},
			// 0 has left but 500, 600 and 700 are in: rejected arrivals count
			{1100, "a", sub, thr},
		}},
		{"countRejected false: only accepted arrivals count", `{"tps":2,"countRejected":false}`, []arrival{
			{0, "a", sub, "ok"}, {500, "a", sub, "ok"}, {600, "a", sub, thr}, {700, "a", sub, thr},
			{1100, "a", sub, "ok"},
		}},
		{"status", `{"tps":1,"status":"ESME_RMSGQFUL"}`, []arrival{{0, "a", sub, "ok"}, {1, "a", sub, full}}},
		{"status by number", `{"tps":1,"status":20}`, []arrival{{0, "a", sub, "ok"}, {1, "a", sub, full}}},
		{"genericNack", `{"tps":1,"genericNack":true}`, []arrival{{0, "a", sub, "ok"}, {1, "a", sub, "nack:" + thr}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRegistry(1, nil)
			in := add(t, r, spec("throttle", tc.params))
			rejected := 0
			for i, a := range tc.arrivals {
				got := outcome(request(r, Event{Account: a.account, Command: a.cmd, Now: ms(a.at)}))
				if got != a.want {
					t.Errorf("arrival %d (%s at %dms): got %s, want %s", i, a.account, a.at, got, a.want)
				}
				if got != "ok" {
					rejected++
				}
			}
			if in.Hits() != uint64(rejected) {
				t.Errorf("hits = %d, want %d", in.Hits(), rejected)
			}
		})
	}
}

// The rejecting fault is named in the action, for the recorder and logs.
func TestThrottleNamesItself(t *testing.T) {
	r := NewRegistry(1, nil)
	add(t, r, Spec{Name: "acme-tps", Type: "throttle", Params: []byte(`{"tps":1}`)})
	request(r, Event{Command: data.SUBMIT_SM, Now: ms(0)})
	act := request(r, Event{Command: data.SUBMIT_SM, Now: ms(1)})
	if len(act.By) != 1 || act.By[0] != "acme-tps" {
		t.Fatalf("By = %v", act.By)
	}
}

// With countRejected=false a request an earlier fault already refused is not counted.
func TestThrottleIgnoresRejectedByOthers(t *testing.T) {
	r := NewRegistry(1, nil)
	add(t, r, Spec{Name: "err", Type: "error", Params: []byte(`{"status":"ESME_RSYSERR"}`), Match: Match{Account: "x"}})
	add(t, r, spec("throttle", `{"tps":1,"countRejected":false}`))
	request(r, Event{Account: "x", Command: data.SUBMIT_SM, Now: ms(0)})
	request(r, Event{Account: "x", Command: data.SUBMIT_SM, Now: ms(1), Status: data.ESME_RINVDSTADR})
	if got := outcome(request(r, Event{Command: data.SUBMIT_SM, Now: ms(2)})); got != "ok" {
		t.Fatalf("got %s, want ok", got)
	}
}

// Concurrent sessions of one account share one window: exactly tps pass.
func TestThrottleConcurrent(t *testing.T) {
	r := NewRegistry(1, nil)
	add(t, r, spec("throttle", `{"tps":50}`))
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				act := request(r, Event{Account: "a", Command: data.SUBMIT_SM, Now: ms(g*25 + i), SessionID: uint64(g)})
				if !act.Rejected() {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if ok != 50 {
		t.Fatalf("%d accepted, want 50", ok)
	}
}
