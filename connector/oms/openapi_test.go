package oms

import (
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/smpp-connector/smpp-connector/connector/config"
)

// The contract (openapi.yaml) cannot drift from the code: it is a valid
// OpenAPI document, its example answer is valid by its own schema and by
// config.Parse (and the client takes it from a service), its schema has
// exactly the operators file's fields, of the same types, and each value its
// enums allow is one config.Parse accepts.

func loadContract(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile("openapi.yaml")
	if err != nil {
		t.Fatalf("openapi.yaml does not load: %v", err)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// okContent is the application/json content of the 200 answer.
func okContent(t *testing.T, doc *openapi3.T) *openapi3.MediaType {
	t.Helper()
	item := doc.Paths.Value(OperatorsPath)
	if item == nil || item.Get == nil {
		t.Fatalf("no GET %s in the contract", OperatorsPath)
	}
	for _, code := range []string{"200", "304"} {
		if item.Get.Responses.Value(code) == nil {
			t.Fatalf("no %s answer", code)
		}
	}
	if item.Get.Responses.Value("200").Value.Headers["ETag"] == nil {
		t.Error("the 200 answer has no ETag header")
	}
	mt := item.Get.Responses.Value("200").Value.Content.Get("application/json")
	if mt == nil || mt.Example == nil || mt.Schema == nil {
		t.Fatal("the 200 answer has no application/json schema and example")
	}
	return mt
}

func TestContractExampleIsValidOperators(t *testing.T) {
	doc := loadContract(t)
	mt := okContent(t, doc)
	if err := mt.Schema.Value.VisitJSON(mt.Example); err != nil {
		t.Fatalf("the example does not match the schema: %v", err)
	}
	body, err := json.Marshal(mt.Example)
	if err != nil {
		t.Fatal(err)
	}
	f, err := config.Parse(body)
	if err != nil {
		t.Fatalf("the example is refused by config.Parse:\n%v", err)
	}
	if f.Version != "2024-06-01.3" || !slices.Equal(f.IDs(), []string{"mno-a", "mno-b"}) {
		t.Fatalf("example: version %q operators %v", f.Version, f.IDs())
	}

	// Served by a service, the client takes it.
	p := newPKI(t)
	res, err := newClient(t, p.options(startOMS(t, p, string(body)))).Fetch(context.Background())
	if err != nil || res.Version != "2024-06-01.3" || len(res.File.Operators) != 2 {
		t.Fatalf("fetched example: %+v %v", res, err)
	}

	// The schema refuses what config.Parse refuses.
	bad := strings.Replace(string(body), `"tps":50`, `"tps":0`, 1)
	var v any
	if err := json.Unmarshal([]byte(bad), &v); err != nil || bad == string(body) {
		t.Fatalf("cannot make a bad example: %v", err)
	}
	if err := mt.Schema.Value.VisitJSON(v); err == nil {
		t.Error("the schema accepts tps 0")
	}
	if _, err := config.Parse([]byte(bad)); err == nil {
		t.Error("config.Parse accepts tps 0")
	}
}

func TestContractSchemaHasTheFileFields(t *testing.T) {
	doc := loadContract(t)
	sameShape(t, "OperatorsDocument", okContent(t, doc).Schema.Value, reflect.TypeFor[config.File]())
}

// sameShape compares a schema with the Go type config.Parse decodes into.
func sameShape(t *testing.T, path string, s *openapi3.Schema, typ reflect.Type) {
	t.Helper()
	want := ""
	switch {
	case typ == reflect.TypeFor[time.Duration]():
		want = "string"
		if s.Pattern == "" {
			t.Errorf("%s: a duration without a pattern", path)
		}
	case typ.Kind() == reflect.String:
		want = "string"
	case typ.Kind() == reflect.Bool:
		want = "boolean"
	case typ.Kind() >= reflect.Int && typ.Kind() <= reflect.Uint64:
		want = "integer"
	case typ.Kind() == reflect.Slice:
		want = "array"
	case typ.Kind() == reflect.Struct:
		want = "object"
	default:
		t.Fatalf("%s: Go type %s not handled by the test", path, typ)
	}
	if !s.Type.Is(want) {
		t.Errorf("%s: type %v in the contract, the file has %s (%s)", path, s.Type, want, typ)
		return
	}
	switch want {
	case "array":
		sameShape(t, path+"[]", s.Items.Value, typ.Elem())
	case "object":
		if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
			t.Errorf("%s: additionalProperties must be false (config.Parse refuses unknown fields)", path)
		}
		fields := yamlFields(typ)
		for _, name := range slices.Sorted(maps.Keys(fields)) {
			p, ok := s.Properties[name]
			if !ok {
				t.Errorf("%s.%s: in the operators file, not in openapi.yaml", path, name)
				continue
			}
			sameShape(t, path+"."+name, p.Value, fields[name])
		}
		for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
			if _, ok := fields[name]; !ok {
				t.Errorf("%s.%s: in openapi.yaml, not in the operators file", path, name)
			}
		}
	}
}

// yamlFields are a struct's fields by yaml name, inline ones flattened.
func yamlFields(typ reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range typ.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if strings.Contains(opts, "inline") {
			maps.Copy(out, yamlFields(f.Type))
			continue
		}
		out[name] = f.Type
	}
	return out
}

// Each value an enum of the contract allows, config.Parse accepts; a value
// outside it, config.Parse refuses.
func TestContractEnumsAgreeWithTheParser(t *testing.T) {
	doc := loadContract(t)
	op := okContent(t, doc).Schema.Value.Properties["operators"].Value.Items.Value
	n := 0
	var walk func(path []string, s *openapi3.Schema)
	walk = func(path []string, s *openapi3.Schema) {
		for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
			walk(append(slices.Clone(path), name), s.Properties[name].Value)
		}
		if len(s.Enum) == 0 {
			return
		}
		field := strings.Join(path, ".")
		for _, v := range s.Enum {
			n++
			if _, err := config.Parse(operatorWith(t, path, v)); err != nil {
				t.Errorf("%s: %v is in the contract's enum but config.Parse refuses it: %v", field, v, err)
			}
		}
		outside := any("not-in-the-enum")
		if s.Type.Is("integer") {
			outside = 99
		}
		if _, err := config.Parse(operatorWith(t, path, outside)); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v is outside the contract's enum, config.Parse says %v", field, outside, err)
		}
	}
	walk(nil, op)
	if n < 20 {
		t.Fatalf("only %d enum values found: the walk is broken", n)
	}
}

// operatorWith is a valid document whose one operator has v at path.
func operatorWith(t *testing.T, path []string, v any) []byte {
	t.Helper()
	o := map[string]any{"id": "mno-x", "endpoints": map[string]any{"primary": []any{map[string]any{"address": "smsc:2775"}}}, "tps": 1}
	m := o
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
	b, err := json.Marshal(map[string]any{"version": "x", "operators": []any{o}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
