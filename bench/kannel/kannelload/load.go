package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smpp-connector/smpp-connector/internal/procstat"
	"github.com/smpp-connector/smpp-connector/smscsim/meter"
)

// runConfig is one Kannel run.
type runConfig struct {
	SendSMS, User, Pass string
	From, To, Text      string
	N, Concurrency      int
	// Rate is requests per second; 0 sends as fast as the clients go.
	Rate      float64
	DLRMask   int
	DLRListen string
	Idle      time.Duration
	PIDs      []namedPID
}

// result is what a run measured; compare.sh keeps it as JSON for the table.
type result struct {
	N           int     `json:"n"`
	Rate        float64 `json:"rate"`
	Concurrency int     `json:"concurrency"`
	DLRMask     int     `json:"dlrMask"`
	// ElapsedS is from the first sendsms request to the last final DLR callback.
	ElapsedS float64 `json:"elapsedS"`
	MsgPerS  float64 `json:"msgPerS"`
	// DLR latency: from the request's send (its due time in a paced run, so
	// that a client falling behind counts) to the callback's arrival.
	DLRP50Ms float64 `json:"dlrP50Ms"`
	DLRP99Ms float64 `json:"dlrP99Ms"`
	DLRMaxMs float64 `json:"dlrMaxMs"`
	// Accept latency: request to smsbox's HTTP answer.
	AcceptP50Ms float64 `json:"acceptP50Ms"`
	AcceptP99Ms float64 `json:"acceptP99Ms"`
	// SendLagP99Ms: how late requests left against the pace (0 unpaced).
	SendLagP99Ms float64 `json:"sendLagP99Ms"`
	// CPUMsPerMsg per process named by -pid, and "total".
	CPUMsPerMsg map[string]float64 `json:"cpuMsPerMsg"`
	Rejected    int                `json:"rejected"`
	Missing     int                `json:"missing"`
	Duplicates  int64              `json:"duplicates"`
	// DLRTypes counts callbacks by Kannel's %d (1 delivered, 2 undelivered, 16 SMSC reject...).
	DLRTypes map[string]int `json:"dlrTypes"`
}

// finalDLR reports whether a Kannel DLR type (%d) is a final state:
// delivered (1), undelivered (2) or rejected by the SMSC (16).
func finalDLR(t int) bool { return t == 1 || t == 2 || t == 16 }

// receiver records the first final DLR callback of each message.
type receiver struct {
	t0   time.Time
	got  []atomic.Int64 // ns after t0 of the first final callback; 0 none
	done atomic.Int64
	dups atomic.Int64
	last atomic.Int64 // ns after t0 of the latest new final callback
	all  chan struct{}

	mu    sync.Mutex
	types map[string]int
}

func newReceiver(n int, t0 time.Time) *receiver {
	return &receiver{t0: t0, got: make([]atomic.Int64, n), all: make(chan struct{}), types: map[string]int{}}
}

// ServeHTTP takes GET /dlr?id=I&type=T, T being what Kannel put for %d.
func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := max(time.Since(r.t0).Nanoseconds(), 1)
	q := req.URL.Query()
	id, err := strconv.Atoi(q.Get("id"))
	typ, terr := strconv.Atoi(q.Get("type"))
	if err != nil || terr != nil || id < 0 || id >= len(r.got) {
		http.Error(w, "want id and type", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.types[q.Get("type")]++
	r.mu.Unlock()
	if finalDLR(typ) {
		if r.got[id].CompareAndSwap(0, at) {
			r.last.Store(max(r.last.Load(), at)) // callbacks race; a late store of a smaller value is off by microseconds
			if r.done.Add(1) == int64(len(r.got)) {
				close(r.all)
			}
		} else {
			r.dups.Add(1)
		}
	}
	w.WriteHeader(http.StatusOK)
}

// runLoad sends cfg.N sendsms requests, each asking for final DLRs to our
// receiver, and waits for the callbacks.
func runLoad(ctx context.Context, cfg runConfig, logw io.Writer) (result, error) {
	base, err := url.Parse(cfg.SendSMS)
	if err != nil {
		return result{}, fmt.Errorf("-sendsms: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.DLRListen)
	if err != nil {
		return result{}, fmt.Errorf("DLR receiver: %w", err)
	}
	t0 := time.Now()
	recv := newReceiver(cfg.N, t0)
	srv := &http.Server{Handler: recv, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	dlrBase := "http://" + ln.Addr().String() + "/dlr"

	cpu0, err := cpuOf(cfg.PIDs)
	if err != nil {
		return result{}, err
	}
	sent := make([]atomic.Int64, cfg.N) // ns after t0: due time (paced) or send time
	accept := make([]float64, cfg.N)
	lag := make([]float64, 0, cfg.N)
	var rejected atomic.Int64
	var firstErr atomic.Value

	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		MaxIdleConns: cfg.Concurrency, MaxIdleConnsPerHost: cfg.Concurrency, MaxConnsPerHost: cfg.Concurrency}}
	defer client.CloseIdleConnections()
	type job struct {
		i   int
		due time.Time
	}
	jobs := make(chan job, cfg.N)
	go func() {
		defer close(jobs)
		for i := 0; i < cfg.N; i++ {
			j := job{i: i}
			if cfg.Rate > 0 {
				j.due = t0.Add(time.Duration(float64(i) / cfg.Rate * float64(time.Second)))
				select {
				case <-time.After(time.Until(j.due)):
				case <-ctx.Done():
					return
				}
			}
			jobs <- j
		}
	}()
	var lagMu, logMu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				start := time.Now()
				if !j.due.IsZero() {
					sent[j.i].Store(max(j.due.Sub(t0).Nanoseconds(), 1))
					lagMu.Lock()
					lag = append(lag, start.Sub(j.due).Seconds())
					lagMu.Unlock()
				} else {
					sent[j.i].Store(max(start.Sub(t0).Nanoseconds(), 1))
				}
				err := sendOne(ctx, client, base, cfg, j.i, dlrBase)
				accept[j.i] = time.Since(start).Seconds()
				if err != nil {
					if rejected.Add(1) <= 3 {
						logMu.Lock()
						fmt.Fprintf(logw, "kannelload: message %d: %v\n", j.i, err)
						logMu.Unlock()
					}
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	wg.Wait()

	// All requests answered: wait for the callbacks, as long as they keep coming.
	progress, lastSeen := recv.done.Load(), time.Now()
	for waiting := true; waiting; {
		select {
		case <-recv.all:
			waiting = false
		case <-ctx.Done():
			return result{}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
			if p := recv.done.Load(); p != progress {
				progress, lastSeen = p, time.Now()
			} else if time.Since(lastSeen) > cfg.Idle || recv.done.Load()+rejected.Load() == int64(cfg.N) && time.Since(lastSeen) > 2*time.Second {
				waiting = false
			}
		}
	}
	cpu1, err := cpuOf(cfg.PIDs)
	if err != nil {
		return result{}, err
	}

	res := result{N: cfg.N, Rate: cfg.Rate, Concurrency: cfg.Concurrency, DLRMask: cfg.DLRMask,
		Rejected: int(rejected.Load()), Duplicates: recv.dups.Load(), CPUMsPerMsg: map[string]float64{}}
	recv.mu.Lock()
	res.DLRTypes = recv.types
	recv.mu.Unlock()
	var lat []float64
	for i := range recv.got {
		if g := recv.got[i].Load(); g != 0 {
			lat = append(lat, float64(g-sent[i].Load())/1e9)
		}
	}
	res.Missing = cfg.N - len(lat)
	first := sent[0].Load()
	for i := range sent {
		if s := sent[i].Load(); s != 0 && s < first {
			first = s
		}
	}
	if len(lat) > 0 {
		res.ElapsedS = float64(recv.last.Load()-first) / 1e9
		res.MsgPerS = float64(len(lat)) / res.ElapsedS
	}
	res.DLRP50Ms, res.DLRP99Ms, res.DLRMaxMs = quantileMs(lat, 0.5), quantileMs(lat, 0.99), quantileMs(lat, 1)
	res.AcceptP50Ms, res.AcceptP99Ms = quantileMs(accept, 0.5), quantileMs(accept, 0.99)
	res.SendLagP99Ms = quantileMs(lag, 0.99)
	total := 0.0
	for _, p := range cfg.PIDs {
		ms := (cpu1[p.name] - cpu0[p.name]) * 1000 / float64(cfg.N)
		res.CPUMsPerMsg[p.name] = ms
		total += ms
	}
	if len(cfg.PIDs) > 0 {
		res.CPUMsPerMsg["total"] = total
	}
	if res.Rejected == cfg.N {
		return res, fmt.Errorf("every sendsms request failed, the first: %v", firstErr.Load())
	}
	return res, nil
}

// sendOne asks smsbox to send message i with final DLRs to dlrBase; Kannel
// fills in %d (the DLR type) when it calls back.
func sendOne(ctx context.Context, client *http.Client, base *url.URL, cfg runConfig, i int, dlrBase string) error {
	q := url.Values{}
	q.Set("username", cfg.User)
	q.Set("password", cfg.Pass)
	q.Set("from", cfg.From)
	q.Set("to", cfg.To)
	q.Set("text", cfg.Text)
	q.Set("dlr-mask", strconv.Itoa(cfg.DLRMask))
	q.Set("dlr-url", dlrBase+"?id="+strconv.Itoa(i)+"&type=%d")
	u := *base
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	// smsbox answers 202 "0: Accepted for delivery" (200 in some versions).
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sendsms: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// quantileMs is the q-quantile of seconds, in milliseconds, by nearest rank:
// the definition the simulator and the connector benchmark use
// (meter.NearestRank), so that both sides of the table are read alike.
func quantileMs(s []float64, q float64) float64 {
	if len(s) == 0 {
		return 0
	}
	c := append([]float64(nil), s...)
	sort.Float64s(c)
	return meter.NearestRank(c, q) * 1000
}

// cpuOf reads each process's user+system CPU seconds.
func cpuOf(pids []namedPID) (map[string]float64, error) {
	out := map[string]float64{}
	for _, p := range pids {
		s, err := procstat.CPU(p.pid)
		if err != nil {
			return nil, fmt.Errorf("CPU of %s: %w", p.name, err)
		}
		out[p.name] = s
	}
	return out, nil
}
