package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/meter"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"github.com/smpp-connector/smpp-connector/smscsim/scenario"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

// route is one endpoint: what it does and how it is documented.
type route struct {
	method, path string
	id, summary  string
	handler      http.HandlerFunc
	request      any      // a value of the JSON body type, or nil
	requestTypes []string // body content types when not JSON
	status       int      // success status
	response     any      // a value of the JSON response type, or nil
	responseType string   // response content type when not JSON
	query        []param
	errors       []int // error statuses besides 401
}

type param struct {
	name, typ, format, desc string
}

// routeTable is the single list the mux is built from and the OpenAPI
// document is generated from.
func (a *API) routeTable() []route {
	return []route{
		{method: "GET", path: "/operators", id: "listOperators", summary: "List operators with their listener, quirk profile, accounts and session counts",
			handler: a.listOperators, status: 200, response: []Operator{}},
		{method: "GET", path: "/operators/{id}", id: "getOperator", summary: "Get one operator",
			handler: a.getOperator, status: 200, response: Operator{}, errors: []int{404}},
		{method: "PUT", path: "/operators/{id}/accounts/{account}/passwords", id: "setPasswords",
			summary: "Replace the passwords an account accepts; give the old and the new one for a rotation overlap (binds already up stay up)",
			handler: a.setPasswords, request: Passwords{}, status: 204, errors: []int{400, 404}},
		{method: "POST", path: "/operators/{id}/mo", id: "injectMO", summary: "Queue a mobile-originated message (deliver_sm, segmented as asked) for the account's receiver binds",
			handler: a.injectMO, request: faults.MO{}, status: 202, response: MOQueued{}, errors: []int{400, 404}},

		{method: "GET", path: "/faults", id: "listFaults", summary: "List active faults in the order they act, with their hits",
			handler: a.listFaults, status: 200, response: []Fault{}},
		{method: "POST", path: "/faults", id: "addFault", summary: "Add a fault; invalid specs are refused naming the field",
			handler: a.addFault, request: faults.Spec{}, status: 201, response: Fault{}, errors: []int{400, 409}},
		{method: "GET", path: "/faults/types", id: "listFaultTypes", summary: "List the registered fault types",
			handler: a.faultTypes, status: 200, response: []FaultType{}},
		{method: "GET", path: "/faults/{name}", id: "getFault", summary: "Get an active fault",
			handler: a.getFault, status: 200, response: Fault{}, errors: []int{404}},
		{method: "DELETE", path: "/faults/{name}", id: "removeFault", summary: "Remove a fault (its runner, if any, stops first)",
			handler: a.removeFault, status: 204, errors: []int{404}},

		{method: "GET", path: "/stats", id: "getStats", summary: "Counters by operator, account, command and outcome; sessions; receipt queues",
			handler: a.stats, status: 200, response: server.Snapshot{}},
		{method: "GET", path: "/meter", id: "getMeter", summary: "TPS audit per account, as the operator counts breaches",
			handler: a.meter, status: 200, response: []meter.Report{}, errors: []int{400, 404},
			query: []param{{"account", "string", "", "operator/account, e.g. demo/test"}}},
		{method: "GET", path: "/pdus", id: "listPDUs", summary: "Query the bounded recorder of received PDUs, oldest first",
			handler: a.pdus, status: 200, response: PDUs{}, errors: []int{400},
			query: []param{
				{"operator", "string", "", "operator id"},
				{"account", "string", "", "system_id"},
				{"command", "string", "", "SMPP command name, e.g. submit_sm"},
				{"destination", "string", "", "destination address prefix"},
				{"since", "string", "date-time", "records at or after this time (RFC 3339)"},
				{"until", "string", "date-time", "records before this time (RFC 3339)"},
				{"afterSeq", "integer", "int64", "records with seq greater than this (for polling)"},
				{"limit", "integer", "int32", "at most this many, the newest"},
			}},
		{method: "POST", path: "/reset", id: "reset", summary: "Stop a running scenario and clear faults, counters, the recorder and the meter; sessions stay up",
			handler: a.reset, status: 204},

		{method: "POST", path: "/scenario", id: "loadScenario", summary: "Load a scenario (YAML or JSON) and start its timeline",
			handler: a.loadScenario, requestTypes: []string{"application/yaml", "application/json"}, status: 201, response: scenario.Status{}, errors: []int{400, 409},
			query: []param{{"replace", "boolean", "", "stop a running scenario first instead of answering 409"}}},
		{method: "GET", path: "/scenario", id: "getScenario", summary: "Progress of the scenario loaded last",
			handler: a.scenarioStatus, status: 200, response: scenario.Status{}, errors: []int{404}},
		{method: "DELETE", path: "/scenario", id: "stopScenario", summary: "Stop the scenario's timeline (faults it added stay until removed or reset)",
			handler: a.stopScenario, status: 204, errors: []int{404}},

		{method: "GET", path: "/metrics", id: "metrics", summary: "Prometheus metrics (smscsim_*, go_*, process_*)",
			handler: a.metrics.ServeHTTP, status: 200, responseType: "text/plain"},
		{method: "GET", path: "/healthz", id: "health", summary: "Liveness; needs no token",
			handler: a.health, status: 200, response: Health{}},
		{method: "GET", path: "/openapi.json", id: "openapi", summary: "This document",
			handler: a.serveOpenAPI, status: 200, responseType: "application/json"},
	}
}

// --- helpers

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg, field string) {
	writeJSON(w, status, ErrorBody{Error: msg, Field: field})
}

// apiError is an error with its status and field.
type apiError struct {
	status int
	msg    string
	field  string
	line   int
}

func (e *apiError) write(w http.ResponseWriter) {
	writeJSON(w, e.status, ErrorBody{Error: e.msg, Field: e.field, Line: e.line})
}

func badRequest(field, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...), field: field}
}

// decodeJSON reads one JSON object strictly: unknown fields, wrong types,
// trailing data and bodies over the limit are errors that name the field or
// the offset.
func (a *API) decodeJSON(w http.ResponseWriter, r *http.Request, v any) *apiError {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, a.opts.MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, a.opts.MaxBody)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("", "invalid JSON: unexpected data after the object at offset %d", dec.InputOffset())
	}
	return nil
}

func jsonError(err error, limit int64) *apiError {
	var (
		syn  *json.SyntaxError
		typ  *json.UnmarshalTypeError
		big  *http.MaxBytesError
		name string
	)
	switch {
	case errors.Is(err, io.EOF):
		return badRequest("", "request body is empty: want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "invalid JSON: unexpected end of the body")
	case errors.As(err, &big):
		return &apiError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("request body larger than %d bytes", limit)}
	case errors.As(err, &syn):
		return badRequest("", "invalid JSON at offset %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("", "invalid JSON at offset %d: want an object, got %s", typ.Offset, typ.Value)
		}
		return badRequest(typ.Field, "%s: want %s, got %s (offset %d)", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value, typ.Offset)
	}
	if _, err := fmt.Sscanf(err.Error(), "json: unknown field %q", &name); err == nil {
		return badRequest(name, "%s: unknown field", name)
	}
	// Errors from custom decoders (durations, statuses) name their field.
	field, rest := scenario.SplitField(strings.TrimPrefix(err.Error(), "json: "))
	return badRequest(field, "%s", joinMsg(field, rest))
}

func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"):
		return "an integer"
	case strings.HasPrefix(k, "float"):
		return "a number"
	case k == "slice" || k == "array":
		return "a list"
	case k == "struct" || k == "map":
		return "an object"
	case k == "bool":
		return "a boolean"
	}
	return "a " + k
}

func joinMsg(field, msg string) string {
	if field == "" {
		return msg
	}
	return field + ": " + msg
}

// checkQuery refuses query parameters the route does not know, so that a
// misspelt filter is an error rather than a silently wider answer.
func checkQuery(q url.Values, known ...string) *apiError {
	for k := range q {
		if !slices.Contains(known, k) {
			return badRequest(k, "unknown query parameter %q (want %s)", k, strings.Join(known, ", "))
		}
	}
	return nil
}

func (a *API) operator(w http.ResponseWriter, r *http.Request) (*server.Operator, bool) {
	id := r.PathValue("id")
	op, ok := a.sim.Operator(id)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown operator %q (have %s)", id, strings.Join(a.sim.Operators(), ", ")), "operator")
	}
	return op, ok
}

// --- operators

func (a *API) operatorInfo(op *server.Operator, sessions []server.SessionInfo) Operator {
	o := Operator{ID: op.ID(), Addr: op.Addr(), Down: op.Down(), TLS: op.TLS(), Profile: op.Profile(), Accounts: []Account{}}
	queued := op.QueueDepth()
	for _, acc := range op.Accounts() {
		a := Account{SystemID: acc, Queued: queued[acc]}
		for _, s := range sessions {
			if s.Operator == o.ID && s.Account == acc {
				a.Sessions++
			}
		}
		o.Accounts = append(o.Accounts, a)
	}
	for _, s := range sessions {
		if s.Operator == o.ID {
			o.Sessions++
		}
	}
	return o
}

func (a *API) listOperators(w http.ResponseWriter, r *http.Request) {
	sessions := a.sim.Sessions()
	out := []Operator{}
	for _, id := range a.sim.Operators() {
		op, _ := a.sim.Operator(id)
		out = append(out, a.operatorInfo(op, sessions))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) getOperator(w http.ResponseWriter, r *http.Request) {
	if op, ok := a.operator(w, r); ok {
		writeJSON(w, http.StatusOK, a.operatorInfo(op, a.sim.Sessions()))
	}
}

func (a *API) setPasswords(w http.ResponseWriter, r *http.Request) {
	op, ok := a.operator(w, r)
	if !ok {
		return
	}
	acc := r.PathValue("account")
	if !slices.Contains(op.Accounts(), acc) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("operator %q has no account %q (have %s)", op.ID(), acc, strings.Join(op.Accounts(), ", ")), "account")
		return
	}
	var body Passwords
	if e := a.decodeJSON(w, r, &body); e != nil {
		e.write(w)
		return
	}
	if len(body.Passwords) == 0 {
		writeError(w, http.StatusBadRequest, "passwords: at least one password is required", "passwords")
		return
	}
	for i, p := range body.Passwords {
		if p == "" || len(p) > 8 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("passwords[%d]: must be 1..8 characters (SMPP's limit), got %d", i, len(p)), fmt.Sprintf("passwords[%d]", i))
			return
		}
	}
	if err := op.SetPasswords(acc, body.Passwords); err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), "passwords")
		return
	}
	a.log.Info("account passwords replaced", "operator", op.ID(), "account", acc, "count", len(body.Passwords))
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) injectMO(w http.ResponseWriter, r *http.Request) {
	op, ok := a.operator(w, r)
	if !ok {
		return
	}
	var m faults.MO
	if e := a.decodeJSON(w, r, &m); e != nil {
		e.write(w)
		return
	}
	acc := m.Account
	if acc == "" {
		if accs := op.Accounts(); len(accs) > 0 {
			acc = accs[0]
		}
	} else if !slices.Contains(op.Accounts(), acc) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("operator %q has no account %q (have %s)", op.ID(), acc, strings.Join(op.Accounts(), ", ")), "account")
		return
	}
	if field, msg := scenario.CheckMO(m); msg != "" {
		writeError(w, http.StatusBadRequest, joinMsg(field, msg), field)
		return
	}
	if err := a.sim.InjectMO(op.ID(), m); err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), "")
		return
	}
	writeJSON(w, http.StatusAccepted, MOQueued{Operator: op.ID(), Account: acc})
}

// --- faults

func faultOf(in *faults.Instance) Fault {
	f := Fault{Spec: in.Spec, Hits: in.Hits(), Added: in.Added}
	if m, ok := in.Fault.(*faults.MOFault); ok {
		f.MO = &MOProgress{Sent: m.Sent(), Errors: m.Errors(), LastError: m.LastError()}
	}
	return f
}

func (a *API) listFaults(w http.ResponseWriter, r *http.Request) {
	out := []Fault{}
	for _, in := range a.sim.Faults.List() {
		out = append(out, faultOf(in))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) addFault(w http.ResponseWriter, r *http.Request) {
	var s faults.Spec
	if e := a.decodeJSON(w, r, &s); e != nil {
		e.write(w)
		return
	}
	if e := a.checkFault(&s); e != nil {
		e.write(w)
		return
	}
	in, err := a.sim.Faults.Add(s)
	if err != nil {
		if errors.Is(err, faults.ErrExists) {
			writeError(w, http.StatusConflict, err.Error(), "name")
			return
		}
		field, _ := scenario.SplitField(strings.TrimPrefix(err.Error(), s.Type+": "))
		writeError(w, http.StatusBadRequest, err.Error(), field)
		return
	}
	a.log.Info("fault added", "name", in.Spec.Name, "type", in.Spec.Type)
	writeJSON(w, http.StatusCreated, faultOf(in))
}

// checkFault refuses names the routes cannot address and operators that do
// not exist (the registry would accept them and never match).
func (a *API) checkFault(s *faults.Spec) *apiError {
	if s.Name == "types" || strings.ContainsAny(s.Name, "/?#%") || strings.TrimSpace(s.Name) != s.Name {
		return badRequest("name", "name %q: must not be \"types\", contain / ? # %% or surrounding spaces (it is used in URLs)", s.Name)
	}
	if op := s.Match.Operator; op != "" {
		if _, ok := a.sim.Operator(op); !ok {
			return badRequest("match.operator", "match.operator: unknown operator %q (have %s)", op, strings.Join(a.sim.Operators(), ", "))
		}
	}
	return nil
}

func (a *API) getFault(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	in, ok := a.sim.Faults.Get(name)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("fault %q not found", name), "name")
		return
	}
	writeJSON(w, http.StatusOK, faultOf(in))
}

func (a *API) removeFault(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := a.sim.Faults.Remove(name); err != nil {
		if errors.Is(err, faults.ErrNotFound) {
			writeError(w, http.StatusNotFound, fmt.Sprintf("fault %q not found", name), "name")
			return
		}
		writeError(w, http.StatusInternalServerError, err.Error(), "")
		return
	}
	a.log.Info("fault removed", "name", name)
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) faultTypes(w http.ResponseWriter, r *http.Request) {
	out := []FaultType{}
	for _, t := range faults.Types() {
		out = append(out, FaultType{Name: t.Name, Description: t.Description})
	}
	writeJSON(w, http.StatusOK, out)
}

// --- observation

func (a *API) stats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.sim.Snapshot())
}

func (a *API) meter(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if e := checkQuery(q, "account"); e != nil {
		e.write(w)
		return
	}
	reports := a.sim.Meter.Reports(time.Now())
	if acc := q.Get("account"); acc != "" {
		if !strings.Contains(acc, "/") {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("account %q: want operator/account, e.g. demo/test", acc), "account")
			return
		}
		i := slices.IndexFunc(reports, func(rep meter.Report) bool { return rep.Account == acc })
		if i < 0 {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no meter for account %q", acc), "account")
			return
		}
		reports = reports[i : i+1]
	}
	writeJSON(w, http.StatusOK, reports)
}

func parseFilter(q url.Values) (recorder.Filter, *apiError) {
	var f recorder.Filter
	if e := checkQuery(q, "operator", "account", "command", "destination", "since", "until", "afterSeq", "limit"); e != nil {
		return f, e
	}
	f.Operator, f.Account, f.Command, f.DestPrefix = q.Get("operator"), q.Get("account"), q.Get("command"), q.Get("destination")
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(t.name); v != "" {
			tm, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, badRequest(t.name, "%s: want an RFC 3339 time like 2006-01-02T15:04:05Z, got %q", t.name, v)
			}
			*t.dst = tm
		}
	}
	if v := q.Get("afterSeq"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return f, badRequest("afterSeq", "afterSeq: want a non-negative integer, got %q", v)
		}
		f.AfterSeq = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return f, badRequest("limit", "limit: want a non-negative integer, got %q", v)
		}
		f.Limit = n
	}
	return f, nil
}

func (a *API) pdus(w http.ResponseWriter, r *http.Request) {
	f, e := parseFilter(r.URL.Query())
	if e != nil {
		e.write(w)
		return
	}
	recs := a.sim.Recorder.Query(f)
	if recs == nil {
		recs = []recorder.Record{}
	}
	capacity, total, evicted := a.sim.Recorder.Stats()
	writeJSON(w, http.StatusOK, PDUs{Records: recs, Capacity: capacity, Total: total, Evicted: evicted})
}

func (a *API) reset(w http.ResponseWriter, r *http.Request) {
	a.StopScenario()
	a.sim.Reset()
	a.log.Info("simulator reset")
	w.WriteHeader(http.StatusNoContent)
}

// --- scenario

func (a *API) loadScenario(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if e := checkQuery(q, "replace"); e != nil {
		e.write(w)
		return
	}
	replace := false
	if v := q.Get("replace"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("replace: want true or false, got %q", v), "replace")
			return
		}
		replace = b
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, scenario.MaxSize))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("scenario larger than %d bytes", scenario.MaxSize), "")
		return
	}
	sc, err := scenario.Parse(body)
	if err != nil {
		scenarioError(w, err)
		return
	}
	run, err := a.StartScenario(sc, replace)
	if err != nil {
		if errors.Is(err, ErrScenarioRunning) {
			writeError(w, http.StatusConflict, err.Error(), "")
			return
		}
		scenarioError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, run.Status())
}

func scenarioError(w http.ResponseWriter, err error) {
	var se *scenario.Error
	if errors.As(err, &se) {
		(&apiError{status: http.StatusBadRequest, msg: se.Error(), field: se.Field, line: se.Line}).write(w)
		return
	}
	writeError(w, http.StatusBadRequest, err.Error(), "")
}

func (a *API) scenarioStatus(w http.ResponseWriter, r *http.Request) {
	run := a.Scenario()
	if run == nil {
		writeError(w, http.StatusNotFound, "no scenario loaded (POST /scenario)", "")
		return
	}
	writeJSON(w, http.StatusOK, run.Status())
}

func (a *API) stopScenario(w http.ResponseWriter, r *http.Request) {
	if !a.StopScenario() {
		writeError(w, http.StatusNotFound, "no scenario loaded", "")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- service

func (a *API) health(w http.ResponseWriter, r *http.Request) {
	h := Health{Status: "ok"}
	if t := a.sim.Started(); !t.IsZero() {
		h.Uptime = time.Since(t).Round(time.Second).String()
	}
	writeJSON(w, http.StatusOK, h)
}

func (a *API) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(a.openapi)
}
