package control

import (
	"encoding"
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
)

// openAPIDoc builds the OpenAPI 3.0 document from the route table; schemas
// are derived from the Go types the handlers serve, so they follow them.
func (a *API) openAPIDoc() map[string]any {
	g := &schemaGen{comps: map[string]any{}, names: map[reflect.Type]string{}}
	errRef := g.of(reflect.TypeOf(ErrorBody{}))
	paths := map[string]any{}
	for _, rt := range a.routes {
		item, _ := paths[rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.path] = item
		}
		op := map[string]any{"operationId": rt.id, "summary": rt.summary}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range rt.query {
			s := map[string]any{"type": q.typ}
			if q.format != "" {
				s["format"] = q.format
			}
			params = append(params, map[string]any{"name": q.name, "in": "query", "description": q.desc, "schema": s})
		}
		if params != nil {
			op["parameters"] = params
		}
		switch {
		case rt.request != nil:
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": g.of(reflect.TypeOf(rt.request))}}}
		case rt.requestTypes != nil:
			content := map[string]any{}
			for _, ct := range rt.requestTypes {
				content[ct] = map[string]any{"schema": map[string]any{"type": "string", "description": "scenario file: name, seed, steps (see package smscsim/scenario)"}}
			}
			op["requestBody"] = map[string]any{"required": true, "content": content}
		}
		ok := map[string]any{"description": http.StatusText(rt.status)}
		switch {
		case rt.response != nil:
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": g.of(reflect.TypeOf(rt.response))}}
		case rt.responseType != "":
			ok["content"] = map[string]any{rt.responseType: map[string]any{"schema": map[string]any{"type": "string"}}}
		}
		responses := map[string]any{strconv.Itoa(rt.status): ok}
		errs := rt.errors
		if rt.path != "/healthz" {
			errs = append(errs, http.StatusUnauthorized)
		} else {
			op["security"] = []any{}
		}
		for _, code := range errs {
			responses[strconv.Itoa(code)] = map[string]any{"description": http.StatusText(code),
				"content": map[string]any{"application/json": map[string]any{"schema": errRef}}}
		}
		op["responses"] = responses
		item[strings.ToLower(rt.method)] = op
	}

	// The fault types are known: list them in the schemas that carry a spec.
	var names []any
	desc := []string{"The fault type:"}
	for _, t := range faults.Types() {
		names = append(names, t.Name)
		desc = append(desc, t.Name+": "+t.Description)
	}
	for _, schema := range []string{"Spec", "Fault"} {
		if s, ok := g.comps[schema].(map[string]any); ok {
			props := s["properties"].(map[string]any)
			props["type"] = map[string]any{"type": "string", "enum": names, "description": strings.Join(desc, "\n")}
			props["params"] = map[string]any{"type": "object", "description": "the type's parameters (GET /faults/types, smscsim/faults/README.md)"}
		}
	}

	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "smscsim control API",
			"version":     "1",
			"description": "Steer the SMPP simulator at runtime: faults (Toxiproxy-style), MO injection, counters, TPS audit, received PDUs, scenarios, metrics.",
		},
		"paths":    paths,
		"security": []any{map[string]any{"bearer": []any{}}},
		"components": map[string]any{
			"schemas":         g.comps,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
	}
}

var pathParam = regexp.MustCompile(`\{([A-Za-z0-9_]+)\}`)

// schemaGen derives JSON schemas from Go types by their json tags.
type schemaGen struct {
	comps map[string]any
	names map[reflect.Type]string
}

var (
	timeType       = reflect.TypeOf(time.Time{})
	rawType        = reflect.TypeOf(json.RawMessage{})
	jsonMarshaler  = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	textMarshaler  = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
	schemaRefStart = "#/components/schemas/"
)

func (g *schemaGen) of(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{"description": "any JSON value"}
	case t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler),
		t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler):
		return map[string]any{"type": "string"} // durations and the like
	}
	switch t.Kind() {
	case reflect.Struct:
		name := g.name(t)
		if _, done := g.comps[name]; !done {
			g.comps[name] = nil // recursion guard
			g.comps[name] = g.object(t)
		}
		return map[string]any{"$ref": schemaRefStart + name}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "byte"}
		}
		return map[string]any{"type": "array", "items": g.of(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.of(t.Elem())}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	}
	return map[string]any{}
}

func (g *schemaGen) name(t reflect.Type) string {
	if n, ok := g.names[t]; ok {
		return n
	}
	n := t.Name()
	for _, other := range g.names {
		if other == n {
			pkg := t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:]
			n = strings.ToUpper(pkg[:1]) + pkg[1:] + n
			break
		}
	}
	g.names[t] = n
	return n
}

func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	g.fields(t, props, &required)
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func (g *schemaGen) fields(t reflect.Type, props map[string]any, required *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				g.fields(ft, props, required)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = g.of(f.Type)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") && f.Type.Kind() != reflect.Pointer {
			*required = append(*required, name)
		}
	}
}
