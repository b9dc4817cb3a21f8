package control

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

func newAPI(t *testing.T, token string) *API {
	t.Helper()
	cfg := server.Config{Operators: []server.OperatorConfig{{ID: "demo", Listen: "127.0.0.1:0",
		Accounts: []server.AccountConfig{{SystemID: "test", Password: "test"}}}}}
	sim, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	a := New(sim, Options{Token: token, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(a.Close)
	return a
}

// TestOpenAPICoversRoutes: every route the mux serves is in the document,
// and every operation in the document is routed to its own pattern.
func TestOpenAPICoversRoutes(t *testing.T) {
	a := newAPI(t, "")
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, rec.Body.Bytes()); err != nil {
		t.Fatal(err)
	}
	body := compact.String()
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("openapi.json: %v\n%s", err, rec.Body)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	var inDoc, registered []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			m := strings.ToUpper(method)
			inDoc = append(inDoc, m+" "+path)
			// Fill the path's wildcards and ask the mux where it goes.
			url := regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(path, "x")
			if _, pattern := a.mux.Handler(httptest.NewRequest(m, url, nil)); pattern != m+" "+path {
				t.Errorf("%s %s is documented but the mux routes it to %q", m, path, pattern)
			}
			if op["operationId"] == nil || op["responses"] == nil {
				t.Errorf("%s %s: no operationId or responses", m, path)
			}
		}
	}
	for _, rt := range a.routes {
		registered = append(registered, rt.method+" "+rt.path)
	}
	sort.Strings(inDoc)
	sort.Strings(registered)
	if strings.Join(inDoc, "\n") != strings.Join(registered, "\n") {
		t.Fatalf("documented:\n%s\nregistered:\n%s", strings.Join(inDoc, "\n"), strings.Join(registered, "\n"))
	}
	for _, want := range []string{"GET /operators", "PUT /operators/{id}/accounts/{account}/passwords", "POST /faults",
		"GET /faults/types", "DELETE /faults/{name}", "POST /operators/{id}/mo", "GET /pdus", "POST /reset",
		"POST /scenario", "GET /scenario", "DELETE /scenario", "GET /metrics", "GET /healthz", "GET /openapi.json"} {
		if sort.SearchStrings(registered, want) == len(registered) || registered[sort.SearchStrings(registered, want)] != want {
			t.Errorf("route %s missing", want)
		}
	}
	// Every $ref resolves.
	refs := regexp.MustCompile(`"\$ref":"#/components/schemas/([^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(refs) < 10 {
		t.Fatalf("only %d $refs found", len(refs))
	}
	for _, ref := range refs {
		if doc.Components.Schemas[ref[1]] == nil {
			t.Errorf("$ref %s does not resolve", ref[1])
		}
	}
	for _, s := range []string{"Spec", "Fault", "Operator", "Snapshot", "Report", "PDUs", "Record", "Status", "ErrorBody", "MO"} {
		if doc.Components.Schemas[s] == nil {
			t.Errorf("schema %s missing (have %v)", s, keys(doc.Components.Schemas))
		}
	}
	if !strings.Contains(body, `"enum":["blackhole",`) {
		t.Errorf("fault types not listed in the Spec schema")
	}
}

func keys(m map[string]any) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

func TestUnknownRouteAndMethodAreJSON(t *testing.T) {
	a := newAPI(t, "")
	for _, tc := range []struct {
		method, path string
		status       int
		msg, allow   string
	}{
		{"GET", "/nope", 404, "no route GET /nope", ""},
		{"DELETE", "/stats", 405, "method DELETE not allowed on /stats", "GET, HEAD"},
		{"PATCH", "/faults/x", 405, "not allowed", "DELETE, GET, HEAD"},
	} {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		var eb ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil {
			t.Fatalf("%s %s: not JSON: %q", tc.method, tc.path, rec.Body)
		}
		if rec.Code != tc.status || !strings.Contains(eb.Error, tc.msg) || rec.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d %q Allow %q", tc.method, tc.path, rec.Code, eb.Error, rec.Header().Get("Allow"))
		}
	}
}

func TestTokenGuardsUnknownRoutesToo(t *testing.T) {
	a := newAPI(t, "tok")
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("GET", "/nope", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("unknown route without token: %d", rec.Code)
	}
	req := httptest.NewRequest("GET", "/healthz", nil)
	rec = httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("healthz: %d", rec.Code)
	}
}

func TestBodyLimit(t *testing.T) {
	a := newAPI(t, "")
	a.opts.MaxBody = 64
	body := `{"type":"receipt_drop","name":"` + strings.Repeat("x", 100) + `"}`
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("POST", "/faults", strings.NewReader(body)))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("big body: %d %s", rec.Code, rec.Body)
	}
}
