package api

import (
	"net/http"
	"reflect"
	"strings"
	"time"
)

// openAPI answers with the OpenAPI 3 document of every route.
func (a *API) openAPI(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, a.Document())
}

// Document builds the OpenAPI 3.0 document from the route table, with
// JSON schemas derived from the wire types in package client.
func (a *API) Document() map[string]any {
	schemas := map[string]any{}
	paths := map[string]map[string]any{}
	errResp := map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{
		"schema": map[string]any{"$ref": "#/components/schemas/ErrorBody"}}}}
	schemaRef(reflect.TypeOf(errorBodyExample()), schemas)
	for _, rt := range a.table() {
		op := map[string]any{"summary": rt.Summary, "operationId": operationID(rt)}
		var params []any
		for _, seg := range strings.Split(rt.Path, "/") {
			if strings.HasPrefix(seg, "{") {
				name := strings.Trim(seg, "{}")
				typ := "integer"
				if name == "email" {
					typ = "string"
				}
				params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": typ}})
			}
		}
		for _, h := range rt.Headers {
			params = append(params, map[string]any{"name": h, "in": "header", "schema": map[string]any{"type": "string", "maxLength": maxIdempotencyKey}})
		}
		for _, q := range rt.Query {
			typ := "string"
			if q == "limit" || q == "offset" || q == "list" || q == "before" {
				typ = "integer"
			}
			params = append(params, map[string]any{"name": q, "in": "query", "schema": map[string]any{"type": typ}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.Body != "" {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{rt.Body: map[string]any{"schema": map[string]any{"type": "string"}}}}
		} else if rt.In != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{
				"schema": schemaRef(reflect.TypeOf(rt.In), schemas)}}}
		}
		responses := map[string]any{"default": errResp}
		switch {
		case rt.Produces != "":
			responses["200"] = map[string]any{"description": "OK", "content": map[string]any{rt.Produces: map[string]any{"schema": map[string]any{"type": "string"}}}}
		case rt.Out != nil:
			code := "200"
			if rt.Method == "POST" && (strings.Count(rt.Path, "/") == 2) && rt.Path != "/api/imports" && rt.Path != "/api/subscribers/bulk" {
				code = "201"
			}
			responses[code] = map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{
				"schema": schemaRef(reflect.TypeOf(rt.Out), schemas)}}}
		case rt.Method == "DELETE":
			responses["204"] = map[string]any{"description": "Done"}
		default:
			responses["200"] = map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}
		}
		op["responses"] = responses
		if !rt.Public {
			op["security"] = []any{map[string]any{"token": []any{}}}
			op["x-herald-permission"] = string(rt.Permission)
		}
		p := strings.TrimPrefix(rt.Path, "/api")
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "Herald API", "version": "1",
			"description": "Subscribers, lists, imports, editions, campaigns, suppressions and transactional messages. Send an API token as a bearer token; listings page with limit and offset. " +
				"Every change made through the API is recorded in the audit log under the token's name (GET /audit, owners; it pages with before). " +
				"POST /messages takes an Idempotency-Key header: the first answer to a key is kept for 24 hours per token and given back to retries (with Idempotent-Replayed: true), and the key with another body is refused (422)."},
		"servers":    []any{map[string]any{"url": "/api"}},
		"paths":      paths,
		"components": map[string]any{"schemas": schemas, "securitySchemes": map[string]any{"token": map[string]any{"type": "http", "scheme": "bearer"}}},
	}
}

func operationID(rt Route) string {
	p := strings.NewReplacer("/api/", "", "/", "_", "{", "", "}", "", ".", "_").Replace(rt.Path)
	return strings.ToLower(rt.Method) + "_" + p
}

var timeType = reflect.TypeOf(time.Time{})

// schemaRef returns a schema for t, adding named structs to schemas.
func schemaRef(t reflect.Type, schemas map[string]any) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.String:
		return map[string]any{"type": "string"}
	case t.Kind() == reflect.Bool:
		return map[string]any{"type": "boolean"}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return map[string]any{"type": "integer"}
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return map[string]any{"type": "number"}
	case t.Kind() == reflect.Slice:
		return map[string]any{"type": "array", "items": schemaRef(t.Elem(), schemas)}
	case t.Kind() == reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": true}
	case t.Kind() == reflect.Interface:
		return map[string]any{}
	case t.Kind() != reflect.Struct:
		return map[string]any{}
	}
	name := schemaName(t)
	ref := map[string]any{"$ref": "#/components/schemas/" + name}
	if _, ok := schemas[name]; ok {
		return ref
	}
	schemas[name] = nil // placeholder against recursion
	props := map[string]any{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		jname, _, _ := strings.Cut(tag, ",")
		if jname == "-" {
			continue
		}
		if jname == "" {
			jname = f.Name
		}
		props[jname] = schemaRef(f.Type, schemas)
	}
	schemas[name] = map[string]any{"type": "object", "properties": props}
	return ref
}

// schemaName names a type in the document: "List", "Page_List".
func schemaName(t reflect.Type) string {
	n := t.Name()
	if i := strings.Index(n, "["); i >= 0 {
		inner := n[i+1 : len(n)-1]
		if j := strings.LastIndex(inner, "."); j >= 0 {
			inner = inner[j+1:]
		}
		n = n[:i] + "_" + inner
	}
	return n
}
