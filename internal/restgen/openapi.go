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
	}
	envelope := jsonSchema{}
	var required []string
	for k, f := range s.Envelope.Fields {
		envelope[k] = jsonSchema{"type": f.Type, "description": f.Description}
		required = append(required, k)
	}
	sort.Strings(required)
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       s.Title,
			"version":     s.Version,
			"description": s.Description,
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": map[string]any{
				"Error": jsonSchema{"type": "object", "properties": envelope, "required": required},
			},
			"securitySchemes": map[string]any{
				"token": map[string]any{"type": "apiKey", "in": "header", "name": "Authorization",
					"description": "The JWT from login, raw or as `Bearer <token>`; `access_token` and `access-token` headers and HTTP Basic are accepted too."},
			},
		},
	}, nil
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
	// Success: the envelope with the declared keys.
	props := jsonSchema{}
	for k, f := range s.Envelope.Fields {
		props[k] = jsonSchema{"type": f.Type, "description": f.Description}
	}
	set := s.docs[i].Operations[0].SelectionSet
	for _, k := range ep.Order {
		sch, err := resolveMapping(ep.Response[k], set, s.schema)
		if err != nil {
			return nil, err
		}
		props[k] = sch
	}
	status := ep.Status
	if status == 0 {
		status = http.StatusOK
	}
	responses := map[string]any{
		fmt.Sprint(status): map[string]any{
			"description": http.StatusText(status),
			"content": map[string]any{"application/json": map[string]any{
				"schema": jsonSchema{"type": "object", "properties": props},
			}},
		},
	}
	errs := map[int]string{}
	for code, d := range s.Envelope.Errors {
		if ep.Public && code == http.StatusUnauthorized {
			continue
		}
		errs[code] = d
	}
	for code, d := range ep.Errors {
		errs[code] = d
	}
	for code, d := range errs {
		responses[fmt.Sprint(code)] = map[string]any{
			"description": d,
			"content": map[string]any{"application/json": map[string]any{
				"schema": map[string]any{"$ref": "#/components/schemas/Error"},
			}},
		}
	}
	op["responses"] = responses
	if !ep.Public {
		op["security"] = []any{map[string]any{"token": []any{}}}
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
