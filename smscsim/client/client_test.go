package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/api"
	"github.com/smpp-connector/smpp-connector/smscsim/client"
	"github.com/smpp-connector/smpp-connector/smscsim/control"
	"github.com/smpp-connector/smpp-connector/smscsim/scenario"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

const wait = 3 * time.Second

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type env struct {
	sim *server.Sim
	ctl *control.API
	url string
	c   *client.Client
}

// start runs a simulator with operators acme (accounts shop, other) and beta
// (account b) on random ports, and the control API over httptest.
// mutate adjusts the config.
func start(t *testing.T, token string, mutate ...func(*server.Config)) *env {
	t.Helper()
	cfg := server.Config{Seed: 3, Operators: []server.OperatorConfig{
		{ID: "acme", Listen: "127.0.0.1:0", Accounts: []server.AccountConfig{
			{SystemID: "shop", Password: "test", TPS: 100}, {SystemID: "other", Password: "test"}}},
		{ID: "beta", Listen: "127.0.0.1:0", Accounts: []server.AccountConfig{{SystemID: "b", Password: "test"}}},
	}}
	for _, m := range mutate {
		m(&cfg)
	}
	sim, err := server.New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	ctl := control.New(sim, control.Options{Token: token, Logger: quiet()})
	t.Cleanup(ctl.Close)
	srv := httptest.NewServer(ctl)
	t.Cleanup(srv.Close)
	return &env{sim: sim, ctl: ctl, url: srv.URL, c: client.New(srv.URL, token)}
}

func (e *env) addr(id string) string {
	op, _ := e.sim.Operator(id)
	return op.Addr()
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// apiErr asserts err is an *APIError with status and field.
func apiErr(t *testing.T, err error, status int, field string) *client.APIError {
	t.Helper()
	var e *client.APIError
	if !errors.As(err, &e) {
		t.Fatalf("want *APIError %d, got %T %v", status, err, err)
	}
	if e.Status != status || e.Field != field {
		t.Fatalf("got %d field %q (%s), want %d field %q", e.Status, e.Field, e.Message, status, field)
	}
	return e
}

func spec(typ, name string, params string, m api.Match) api.Spec {
	s := api.Spec{Type: typ, Name: name, Match: m}
	if params != "" {
		s.Params = json.RawMessage(params)
	}
	return s
}

func bind(t *testing.T, addr, user, pass string) (*smpptest.Raw, data.CommandStatusType) {
	t.Helper()
	c := smpptest.Dial(t, addr)
	r := c.Bind(pdu.Transceiver, user, pass)
	return c, r.CommandStatus
}

func TestOperators(t *testing.T) {
	e := start(t, "")
	c := ctx(t)
	conn, st := bind(t, e.addr("acme"), "shop", "test")
	if st != data.ESME_ROK {
		t.Fatalf("bind: %s", wire.StatusName(st))
	}
	ops, err := e.c.Operators(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 2 || ops[0].ID != "acme" || ops[1].ID != "beta" {
		t.Fatalf("operators: %+v", ops)
	}
	acme := ops[0]
	if acme.Addr != e.addr("acme") || acme.Down || acme.Sessions != 1 || acme.Profile.Name != "default" {
		t.Fatalf("acme: %+v", acme)
	}
	if len(acme.Accounts) != 2 || acme.Accounts[0].SystemID != "shop" || acme.Accounts[0].Sessions != 1 || acme.Accounts[1].Sessions != 0 {
		t.Fatalf("acme accounts: %+v", acme.Accounts)
	}
	one, err := e.c.Operator(c, "beta")
	if err != nil || one.ID != "beta" || one.Sessions != 0 {
		t.Fatalf("beta: %+v %v", one, err)
	}
	_, err = e.c.Operator(c, "nope")
	apiErr(t, err, 404, "operator")
	_ = conn
}

func TestSetPasswordsRotation(t *testing.T) {
	e := start(t, "")
	c := ctx(t)
	up, _ := bind(t, e.addr("acme"), "shop", "test")
	if err := e.c.SetPasswords(c, "acme", "shop", "test", "new"); err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"test", "new"} {
		if _, st := bind(t, e.addr("acme"), "shop", pw); st != data.ESME_ROK {
			t.Fatalf("overlap: bind with %q: %s", pw, wire.StatusName(st))
		}
	}
	if err := e.c.SetPasswords(c, "acme", "shop", "new"); err != nil {
		t.Fatal(err)
	}
	if _, st := bind(t, e.addr("acme"), "shop", "test"); st == data.ESME_ROK {
		t.Fatal("old password still accepted after the overlap")
	}
	// The bind made before the rotation stays up.
	up.Send(pdu.NewEnquireLink())
	up.Expect(data.ENQUIRE_LINK_RESP, wait)

	apiErr(t, e.c.SetPasswords(c, "acme", "nobody", "x"), 404, "account")
	apiErr(t, e.c.SetPasswords(c, "nope", "shop", "x"), 404, "operator")
	apiErr(t, e.c.SetPasswords(c, "acme", "shop"), 400, "passwords")
	apiErr(t, e.c.SetPasswords(c, "acme", "shop", "ok", "waytoolong"), 400, "passwords[1]")
}

func TestFaultsRoundTrip(t *testing.T) {
	e := start(t, "")
	c := ctx(t)
	f, err := e.c.AddFault(c, spec("throttle", "", `{"tps":5}`, api.Match{Operator: "acme", Command: "submit_sm"}))
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "throttle" || f.Type != "throttle" || f.Match.Operator != "acme" || string(f.Params) != `{"tps":5}` || f.Added.IsZero() {
		t.Fatalf("added: %+v", f)
	}
	if _, err := e.c.AddFault(c, spec("error", "syserr", `{"status":"ESME_RSYSERR"}`, api.Match{})); err != nil {
		t.Fatal(err)
	}
	list, err := e.c.Faults(c)
	if err != nil || len(list) != 2 || list[0].Name != "throttle" || list[1].Name != "syserr" {
		t.Fatalf("list: %+v %v", list, err)
	}
	got, err := e.c.GetFault(c, "syserr")
	if err != nil || got.Type != "error" || got.Hits != 0 {
		t.Fatalf("get: %+v %v", got, err)
	}
	_, err = e.c.AddFault(c, spec("error", "syserr", `{"status":8}`, api.Match{}))
	apiErr(t, err, 409, "name")

	if err := e.c.RemoveFault(c, "syserr"); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.GetFault(c, "syserr")
	apiErr(t, err, 404, "name")
	apiErr(t, e.c.RemoveFault(c, "syserr"), 404, "name")
	if list, _ := e.c.Faults(c); len(list) != 1 {
		t.Fatalf("after remove: %+v", list)
	}

	types, err := e.c.FaultTypes(c)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]string{}
	for _, ty := range types {
		byName[ty.Name] = ty.Description
	}
	for _, want := range []string{"throttle", "window", "error", "latency", "outage", "mo", "receipt_drop"} {
		if byName[want] == "" {
			t.Errorf("type %q missing or undescribed in %v", want, byName)
		}
	}

	// A fault acts, and its hits are reported.
	conn, _ := bind(t, e.addr("acme"), "shop", "test")
	if _, err := e.c.AddFault(c, spec("error", "all", `{"status":"ESME_RSYSERR"}`, api.Match{Command: "submit_sm"})); err != nil {
		t.Fatal(err)
	}
	conn.Submit("447700900001", "hi", 0)
	if r := conn.Expect(data.SUBMIT_SM_RESP, wait); r.GetHeader().CommandStatus != data.ESME_RSYSERR {
		t.Fatalf("submit: %s", wire.StatusName(r.GetHeader().CommandStatus))
	}
	if got, _ := e.c.GetFault(c, "all"); got.Hits != 1 {
		t.Fatalf("hits: %d", got.Hits)
	}
}

func TestAddFaultInvalid(t *testing.T) {
	e := start(t, "")
	c := ctx(t)
	for _, tc := range []struct {
		name  string
		spec  api.Spec
		field string
		msg   string
	}{
		{"no type", api.Spec{}, "type", "type: required"},
		{"unknown type", spec("trottle", "", "", api.Match{}), "type", `unknown fault type "trottle"`},
		{"probability", api.Spec{Type: "receipt_drop", Probability: 1.5}, "probability", "outside [0,1]"},
		{"command", spec("receipt_drop", "", "", api.Match{Command: "submit"}), "match.command", "match.command"},
		{"operator", spec("receipt_drop", "", "", api.Match{Operator: "acmee"}), "match.operator", `unknown operator "acmee"`},
		{"param value", spec("throttle", "", `{"tps":0}`, api.Match{}), "params.tps", "params.tps: must be > 0"},
		{"param unknown", spec("throttle", "", `{"tps":1,"tpss":2}`, api.Match{}), "params.tpss", `unknown field "tpss"`},
		{"nested param", spec("latency", "", `{"distribution":{"kind":"gauss"}}`, api.Match{}), "params.distribution.kind", "params.distribution.kind"},
		{"reserved name", spec("receipt_drop", "types", "", api.Match{}), "name", `name "types"`},
		{"slash name", spec("receipt_drop", "a/b", "", api.Match{}), "name", `name "a/b"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.c.AddFault(c, tc.spec)
			ae := apiErr(t, err, 400, tc.field)
			if !strings.Contains(ae.Message, tc.msg) {
				t.Fatalf("message %q does not contain %q", ae.Message, tc.msg)
			}
		})
	}

	// Bodies the client would never send.
	for _, tc := range []struct{ body, field, msg string }{
		{`{"type": "throttle", "params": {"tps": 5}`, "", "unexpected end"},
		{`{"type": "throttle",, }`, "", "invalid JSON at offset 21"},
		{`{"type": "throttle", "probability": "high"}`, "probability", "probability: want a number, got string (offset"},
		{`{"type": "throttle", "match": {"operator": 5}}`, "match.operator", "match.operator: want a string"},
		{`{"type": "receipt_drop", "probabilty": 0.5}`, "probabilty", "probabilty: unknown field"},
		{`{"type": "receipt_drop"} {"type": "receipt_drop"}`, "", "unexpected data after the object at offset"},
		{``, "", "request body is empty"},
		{`[1]`, "", "want an object"},
	} {
		resp, err := http.Post(e.url+"/faults", "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		var eb api.ErrorBody
		_ = json.NewDecoder(resp.Body).Decode(&eb)
		resp.Body.Close()
		if resp.StatusCode != 400 || eb.Field != tc.field || !strings.Contains(eb.Error, tc.msg) {
			t.Errorf("POST %s: %d %+v, want 400 field %q containing %q", tc.body, resp.StatusCode, eb, tc.field, tc.msg)
		}
	}
	if list, _ := e.c.Faults(c); len(list) != 0 {
		t.Fatalf("invalid specs were added: %+v", list)
	}
}

func TestInjectMO(t *testing.T) {
	e := start(t, "")
	c := ctx(t)
	rx, _ := bind(t, e.addr("acme"), "other", "test")
	q, err := e.c.InjectMO(c, "acme", api.MO{Account: "other", Source: "447700900001", Dest: "ACME", Text: "STOP"})
	if err != nil || q.Operator != "acme" || q.Account != "other" {
		t.Fatalf("inject: %+v %v", q, err)
	}
	d := rx.Expect(data.DELIVER_SM, wait).(*pdu.DeliverSM)
	if txt, _ := d.Message.GetMessage(); txt != "STOP" || d.SourceAddr.Address() != "447700900001" {
		t.Fatalf("deliver_sm: %q from %q", txt, d.SourceAddr.Address())
	}
	rx.AckDeliver(d, data.ESME_ROK)

	// The default account is the operator's first.
	if q, err := e.c.InjectMO(c, "acme", api.MO{Source: "1", Dest: "2", Text: "x"}); err != nil || q.Account != "shop" {
		t.Fatalf("default account: %+v %v", q, err)
	}
	_, err = e.c.InjectMO(c, "nope", api.MO{Source: "1", Dest: "2"})
	apiErr(t, err, 404, "operator")
	_, err = e.c.InjectMO(c, "acme", api.MO{Account: "nobody", Source: "1", Dest: "2"})
	apiErr(t, err, 404, "account")
	_, err = e.c.InjectMO(c, "acme", api.MO{Dest: "2"})
	apiErr(t, err, 400, "source")
	_, err = e.c.InjectMO(c, "acme", api.MO{Source: "1", Dest: "2", Encoding: "utf8"})
	apiErr(t, err, 400, "encoding")
	_, err = e.c.InjectMO(c, "acme", api.MO{Source: "1", Dest: "2", Text: "☃"})
	apiErr(t, err, 400, "text")
}

// traffic binds shop on acme and submits to three destinations.
func traffic(t *testing.T, e *env) {
	t.Helper()
	conn, st := bind(t, e.addr("acme"), "shop", "test")
	if st != data.ESME_ROK {
		t.Fatalf("bind: %s", wire.StatusName(st))
	}
	for _, d := range []string{"447700900001", "447700900002", "336000000001"} {
		conn.Submit(d, "hello", 0)
		conn.Expect(data.SUBMIT_SM_RESP, wait)
	}
}

func TestObservation(t *testing.T) {
	e := start(t, "")
	c := ctx(t)
	t0 := time.Now()
	traffic(t, e)

	snap, err := e.c.Stats(c)
	if err != nil {
		t.Fatal(err)
	}
	var submits uint64
	for _, n := range snap.Counts {
		if n.Operator == "acme" && n.Account == "shop" && n.Command == "submit_sm" {
			submits += n.Count
		}
	}
	if submits != 3 || len(snap.Sessions) != 1 {
		t.Fatalf("stats: %d submits, %d sessions: %+v", submits, len(snap.Sessions), snap)
	}

	reps, err := e.c.Meter(c, "acme/shop")
	if err != nil || len(reps) != 1 || reps[0].Arrivals != 3 || reps[0].Limit != 100 {
		t.Fatalf("meter: %+v %v", reps, err)
	}
	all, err := e.c.Meter(c, "")
	if err != nil || len(all) < 3 {
		t.Fatalf("meter all: %+v %v", all, err)
	}
	_, err = e.c.Meter(c, "acme/nobody")
	apiErr(t, err, 404, "account")
	_, err = e.c.Meter(c, "shop")
	apiErr(t, err, 400, "account")

	count := func(f api.Filter) int {
		t.Helper()
		p, err := e.c.PDUs(c, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Records)
	}
	p, err := e.c.PDUs(c, api.Filter{Command: "submit_sm"})
	if err != nil || len(p.Records) != 3 || p.Capacity != 10000 || p.Total < 4 || p.Evicted != 0 {
		t.Fatalf("pdus: %+v %v", p, err)
	}
	if r := p.Records[0]; r.Dest != "447700900001" || r.Text != "hello" || r.Status != "ESME_ROK" || r.Operator != "acme" || r.Account != "shop" {
		t.Fatalf("record: %+v", r)
	}
	for _, tc := range []struct {
		f    api.Filter
		want int
	}{
		{api.Filter{Command: "submit_sm", DestPrefix: "4477"}, 2},
		{api.Filter{DestPrefix: "33"}, 1},
		{api.Filter{Operator: "beta"}, 0},
		{api.Filter{Account: "shop", Command: "submit_sm"}, 3},
		{api.Filter{Command: "bind_transceiver"}, 1},
		{api.Filter{Command: "submit_sm", AfterSeq: p.Records[1].Seq}, 1},
		{api.Filter{Command: "submit_sm", Limit: 2}, 2},
		{api.Filter{Since: t0.Add(-time.Minute), Until: time.Now().Add(time.Minute), Command: "submit_sm"}, 3},
		{api.Filter{Since: time.Now().Add(time.Hour)}, 0},
	} {
		if got := count(tc.f); got != tc.want {
			t.Errorf("pdus %+v: %d records, want %d", tc.f, got, tc.want)
		}
	}
	if p, _ := e.c.PDUs(c, api.Filter{Command: "submit_sm", Limit: 1}); p.Records[0].Dest != "336000000001" {
		t.Errorf("limit keeps the newest: %+v", p.Records)
	}
	for q, field := range map[string]string{"since=yesterday": "since", "limit=-1": "limit", "afterSeq=x": "afterSeq", "dest=44": "dest"} {
		resp, err := http.Get(e.url + "/pdus?" + q)
		if err != nil {
			t.Fatal(err)
		}
		var eb api.ErrorBody
		_ = json.NewDecoder(resp.Body).Decode(&eb)
		resp.Body.Close()
		if resp.StatusCode != 400 || eb.Field != field {
			t.Errorf("GET /pdus?%s: %d %+v, want 400 field %q", q, resp.StatusCode, eb, field)
		}
	}

	m, err := e.c.Metrics(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`smscsim_pdus_total{account="shop",command="submit_sm",operator="acme",outcome="ESME_ROK"} 3`,
		`smscsim_sessions{bind_type="transceiver",operator="acme"} 1`,
		"go_goroutines", "process_",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestReset(t *testing.T) {
	e := start(t, "")
	c := ctx(t)
	traffic(t, e)
	if _, err := e.c.AddFault(c, spec("receipt_drop", "", "", api.Match{})); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.LoadScenario(c, []byte("steps:\n  - {at: 1h, reset: true}\n"), false); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Reset(c); err != nil {
		t.Fatal(err)
	}
	if l, _ := e.c.Faults(c); len(l) != 0 {
		t.Errorf("faults after reset: %+v", l)
	}
	if s, _ := e.c.Stats(c); len(s.Counts) != 0 || len(s.Sessions) != 1 {
		t.Errorf("stats after reset: %d counts, %d sessions (sessions stay up)", len(s.Counts), len(s.Sessions))
	}
	if p, _ := e.c.PDUs(c, api.Filter{}); len(p.Records) != 0 || p.Total != 0 {
		t.Errorf("pdus after reset: %+v", p)
	}
	if r, _ := e.c.Meter(c, "acme/shop"); len(r) != 1 || r[0].Arrivals != 0 || r[0].Limit != 100 {
		t.Errorf("meter after reset: %+v", r)
	}
	if st, _ := e.c.ScenarioStatus(c); st.State != scenario.StateStopped {
		t.Errorf("scenario after reset: %s", st.State)
	}
}

func TestScenarioRoutes(t *testing.T) {
	e := start(t, "")
	c := ctx(t)
	_, err := e.c.ScenarioStatus(c)
	apiErr(t, err, 404, "")
	apiErr(t, e.c.StopScenario(c), 404, "")

	file := []byte(`name: two-steps
seed: 3
steps:
  - at: 0s
    add: {name: slow, type: latency, params: {distribution: {kind: fixed, value: 10ms}}}
  - at: 1h
    remove: slow
`)
	st, err := e.c.LoadScenario(c, file, false)
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "two-steps" || st.Seed != 3 || st.State != scenario.StateRunning || len(st.Steps) != 2 {
		t.Fatalf("loaded: %+v", st)
	}
	smpptest.Eventually(t, wait, 10*time.Millisecond, func() error {
		if _, err := e.c.GetFault(c, "slow"); err != nil {
			return err
		}
		return nil
	})
	st, err = e.c.ScenarioStatus(c)
	if err != nil || st.Done != 1 || st.Pending != 1 || st.Next == nil || st.Next.D != time.Hour {
		t.Fatalf("status: %+v %v", st, err)
	}
	_, err = e.c.LoadScenario(c, file, false)
	apiErr(t, err, 409, "")
	if st, err = e.c.LoadScenario(c, []byte("steps:\n  - {at: 1h, reset: true}\n"), true); err != nil || st.Pending != 1 {
		t.Fatalf("replace: %+v %v", st, err)
	}
	if err := e.c.StopScenario(c); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.c.ScenarioStatus(c); st.State != scenario.StateStopped {
		t.Fatalf("after stop: %s", st.State)
	}

	_, err = e.c.LoadScenario(c, []byte("steps:\n  - at: 1s\n    add:\n      type: throttle\n      params: {tps: 0}\n"), false)
	ae := apiErr(t, err, 400, "steps[0].add.params.tps")
	if ae.Line != 5 || !strings.Contains(ae.Message, "line 5: steps[0].add.params.tps: must be > 0") {
		t.Fatalf("error: %+v", ae)
	}
	if _, err = e.c.LoadScenario(c, []byte("seed: 4\nsteps:\n  - {at: 0s, reset: true}\n"), true); err != nil {
		t.Fatalf("a scenario with its own seed: %v", err)
	}
	if st, _ := e.c.ScenarioStatus(c); st.Seed != 4 {
		t.Fatalf("scenario seed not applied: %+v", st)
	}
	if err := e.c.StopScenario(c); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.LoadScenario(c, []byte(`{"steps":[{"at":"1s","mo":{"operator":"zeta","source":"1","destination":"2"}}]}`), false)
	apiErr(t, err, 400, "steps[0].mo.operator")
	_, err = e.c.LoadScenario(c, nil, false)
	apiErr(t, err, 400, "")
}

func TestToken(t *testing.T) {
	e := start(t, "s3cret")
	c := ctx(t)
	if _, err := e.c.Stats(c); err != nil {
		t.Fatalf("with token: %v", err)
	}
	for _, tok := range []string{"", "wrong", "s3cret2"} {
		anon := client.New(e.url, tok)
		_, err := anon.Stats(c)
		apiErr(t, err, 401, "")
		_, err = anon.Metrics(c)
		apiErr(t, err, 401, "")
		_, err = anon.OpenAPI(c)
		apiErr(t, err, 401, "")
		if h, err := anon.Health(c); err != nil || h.Status != "ok" {
			t.Fatalf("healthz needs no token: %+v %v", h, err)
		}
	}
	req, _ := http.NewRequest("GET", e.url+"/faults", nil)
	req.Header.Set("Authorization", "bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("scheme is case-insensitive: %d", resp.StatusCode)
	}
	resp, _ = http.Get(e.url + "/faults")
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("401 with WWW-Authenticate: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

func TestHealthAndOpenAPI(t *testing.T) {
	e := start(t, "")
	c := ctx(t)
	h, err := e.c.Health(c)
	if err != nil || h.Status != "ok" {
		t.Fatalf("health: %+v %v", h, err)
	}
	doc, err := e.c.OpenAPI(c)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil || d.OpenAPI != "3.0.3" || d.Paths["/faults/{name}"]["delete"] == nil {
		t.Fatalf("openapi: %v %+v", err, d)
	}
}

func TestAPIErrorText(t *testing.T) {
	e := &client.APIError{Status: 400, Message: "type: required", Field: "type"}
	if e.Error() != "smscsim API: 400 Bad Request: type: required" {
		t.Fatalf("%q", e.Error())
	}
	e = &client.APIError{Status: 404, Message: "nope", Field: "name"}
	if e.Error() != "smscsim API: 404 Not Found: nope (field name)" || !client.IsNotFound(e) {
		t.Fatalf("%q", e.Error())
	}
}
