package restgen

import (
	"fmt"
	"net/http"

	"sort"
	"strings"

	"github.com/meridianplane/meridian/internal/rest"
)

// OpenAPI returns the API's OpenAPI 3 document.
func (s *Spec) OpenAPI() (map[string]any, error) {
	paths := map[string]map[string]any{}
	for i := range s.Endpoints {
		ep := &s.Endpoints[i]
		op, err := s.operation(i, ep)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ep.Name, err)
		}
		p := paths[ep.Path]
		if p == nil {
			p = map[string]any{}
			paths[ep.Path] = p
		}
		p[strings.ToLower(ep.Method)] = op
		for n, alias := range ep.Aliases { // the same operation on its other paths
			ap := paths[alias]
			if ap == nil {
				ap = map[string]any{}
				paths[alias] = ap
			}
			aop := map[string]any{}
			for k, v := range op {
				aop[k] = v
			}
			aop["operationId"] = fmt.Sprintf("%s_alias%d", ep.Name, n+1)
			ap[strings.ToLower(ep.Method)] = aop
		}
	}
	schemes := map[string]any{}
	var security []any
	for _, a := range s.Auth {
		name, sch := securityScheme(a)
		schemes[name] = sch
		security = append(security, map[string]any{name: []any{}})
	}
	schemas := map[string]any{}
	if e := s.errorSchema(s.Errors.Shape); e != nil {
		schemas["Error"] = e
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       s.Title,
			"version":     s.Version,
			"description": s.Description,
		},
		"paths":      paths,
		"components": map[string]any{"schemas": schemas, "securitySchemes": schemes},
	}
	if len(security) > 0 {
		doc["security"] = security
	}
	return doc, nil
}

// securityScheme names and describes one declared way to authenticate.
func securityScheme(a rest.AuthScheme) (string, map[string]any) {
	switch a.Type {
	case rest.AuthBearer:
		return "bearer", map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": a.Description}
	case rest.AuthBasic:
		return "basic", map[string]any{"type": "http", "scheme": "basic", "description": a.Description}
	}
	return a.Name, map[string]any{"type": "apiKey", "in": "header", "name": a.Name, "description": a.Description}
}

func (s *Spec) operation(i int, ep *rest.Endpoint) (map[string]any, error) {
	op := map[string]any{
		"operationId": ep.Name,
		"summary":     ep.Summary,
		"description": strings.TrimSpace(ep.Description + "\n\nRuns the GraphQL operation:\n\n```graphql\n" + ep.Operation + "```"),
	}
	var params []any
	body := jsonSchema{}
	var bodyRequired []string
	bodyType := "application/json"
	for _, p := range ep.Params {
		if p.In == "client" {
			op["description"] = fmt.Sprintf("%s\n\n`%s` is the caller's IP address.", op["description"], p.Name)
			continue
		}
		ps := paramSchema(&p)
		if p.In == "form" {
			bodyType = "multipart/form-data"
		}
		if p.In == "body" || p.In == "form" {
			body[p.Name] = ps
			if p.Required {
				bodyRequired = append(bodyRequired, p.Name)
			}
			continue
		}
		params = append(params, map[string]any{
			"name": p.Name, "in": p.In, "required": p.Required, "schema": ps, "description": p.Description,
		})
	}
	if ep.Page != nil {
		size := ep.Page.MaxSize
		if size == 0 {
			size = rest.DefaultMaxPageSize
		}
		params = append(params,
			map[string]any{"name": "page", "in": "query", "schema": jsonSchema{"type": "integer", "minimum": 1, "maximum": rest.MaxPage, "default": 1}, "description": rest.PageDoc},
			map[string]any{"name": "pageSize", "in": "query", "schema": jsonSchema{"type": "integer", "minimum": 0, "maximum": size, "default": ep.Page.DefaultSize}, "description": rest.PageSizeDoc(size)},
		)
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if len(body) > 0 {
		bs := jsonSchema{"type": "object", "properties": body}
		if len(bodyRequired) > 0 {
			bs["required"] = bodyRequired
		}
		op["requestBody"] = map[string]any{
			"required": len(bodyRequired) > 0,
			"content":  map[string]any{bodyType: map[string]any{"schema": bs}},
		}
	}
	// Success: the endpoint's shape with its response.
	props, err := s.successSchema(i)
	if err != nil {
		return nil, err
	}
	status := ep.Status
	if status == 0 {
		status = http.StatusOK
	}
	success := map[string]any{"description": http.StatusText(status)}
	if props != nil {
		success["content"] = map[string]any{"application/json": map[string]any{"schema": props}}
	}
	responses := map[string]any{fmt.Sprint(status): success}
	var errSchema any // nil: errors answer no body
	if ep.ErrorShape != "" {
		if sc := s.errorSchema(ep.ErrorShape); sc != nil {
			errSchema = sc
		}
	} else if s.errorSchema(s.Errors.Shape) != nil {
		errSchema = map[string]any{"$ref": "#/components/schemas/Error"}
	}
	errs := map[int]string{}
	for code, d := range s.Errors.Documented {
		if ep.Public && code == http.StatusUnauthorized {
			continue
		}
		errs[code] = d
	}
	for code, d := range ep.Errors {
		errs[code] = d
	}
	for code, d := range errs {
		r := map[string]any{"description": d}
		if errSchema != nil {
			r["content"] = map[string]any{"application/json": map[string]any{"schema": errSchema}}
		}
		responses[fmt.Sprint(code)] = r
	}
	op["responses"] = responses
	if ep.Public {
		op["security"] = []any{} // no credentials needed
	}
	return op, nil
}

func paramSchema(p *rest.Param) jsonSchema {
	s := jsonSchema{"type": p.Type}
	if p.Type == "file" {
		return jsonSchema{"type": "string", "format": "binary"}
	}
	elem := s // where element constraints go
	if p.Type == "array" {
		elem = jsonSchema{"type": p.Items}
		s["items"] = elem
	}
	if p.MinLength != nil {
		elem["minLength"] = *p.MinLength
	}
	if p.MaxLength != nil {
		elem["maxLength"] = *p.MaxLength
	}
	if p.Minimum != nil {
		elem["minimum"] = *p.Minimum
	}
	if p.Maximum != nil {
		elem["maximum"] = *p.Maximum
	}
	if p.Format != "" {
		elem["format"] = p.Format
	}
	if p.MinItems != nil {
		s["minItems"] = *p.MinItems
	}
	if p.MaxItems != nil {
		s["maxItems"] = *p.MaxItems
	}
	if p.Default != nil {
		s["default"] = p.Default
	}
	enum := p.Enum
	if len(p.Map) > 0 {
		enum = nil
		keys := make([]string, 0, len(p.Map))
		for k := range p.Map {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if p.Type == "integer" || p.Items == "integer" {
				var n int
				fmt.Sscan(k, &n)
				enum = append(enum, n)
			} else {
				enum = append(enum, k)
			}
		}
	}
	if len(enum) > 0 {
		elem["enum"] = enum
	}
	if p.Description != "" {
		s["description"] = p.Description
	}
	return s
}
