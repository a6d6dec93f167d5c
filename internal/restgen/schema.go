package restgen

import (
	"errors"
	"fmt"
	"sort"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/meridianplane/meridian/internal/rest"
)

// jsonSchema is an OpenAPI schema object.
type jsonSchema = map[string]any

// resolveMapping checks a response mapping against the selection it reads
// and returns the OpenAPI schema of the value it produces.
func resolveMapping(m *rest.Mapping, set ast.SelectionSet, schema *ast.Schema) (jsonSchema, error) {
	switch {
	case m == nil:
		return nil, errors.New("empty mapping")
	case m.Object != nil:
		props := jsonSchema{}
		for _, k := range rest.OrderedKeys(m.Order, m.Object) {
			s, err := resolveMapping(m.Object[k], set, schema)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			props[k] = s
		}
		switch m.As {
		case "":
		case "json":
			return jsonSchema{"type": "string", "description": "A JSON object as a string."}, nil
		default:
			return nil, fmt.Errorf("an object converts only to json, not %q", m.As)
		}
		return jsonSchema{"type": "object", "properties": props}, nil
	case m.Each != "":
		f, err := fieldAt(set, m.Each)
		if err != nil {
			return nil, err
		}
		if f.Definition.Type.Elem == nil {
			return nil, fmt.Errorf("each: %s is not a list", m.Each)
		}
		if m.Item == nil {
			return nil, fmt.Errorf("each: %s has no item mapping", m.Each)
		}
		items, err := resolveMapping(m.Item, f.SelectionSet, schema)
		if err != nil {
			return nil, fmt.Errorf("%s[]: %w", m.Each, err)
		}
		return jsonSchema{"type": "array", "items": items}, nil
	case m.From != "":
		f, err := fieldAt(set, m.From)
		if err != nil {
			return nil, err
		}
		return convertSchema(m, f.Definition.Type, schema)
	}
	return constSchema(m.Const), nil
}

func constSchema(v any) jsonSchema {
	switch v.(type) {
	case bool:
		return jsonSchema{"type": "boolean", "enum": []any{v}}
	case int, int64, float64:
		return jsonSchema{"type": "integer", "enum": []any{v}}
	case string:
		return jsonSchema{"type": "string", "enum": []any{v}}
	case []any:
		return jsonSchema{"type": "array"}
	}
	return jsonSchema{}
}

func convertSchema(m *rest.Mapping, t *ast.Type, schema *ast.Schema) (jsonSchema, error) {
	s := typeSchema(t, schema)
	if len(m.Map) > 0 {
		keys := make([]string, 0, len(m.Map))
		for k := range m.Map {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		def := schema.Types[t.Name()]
		var vals []any
		allInt := true
		for _, k := range keys {
			if def != nil && def.Kind == ast.Enum && def.EnumValues.ForName(k) == nil {
				return nil, fmt.Errorf("map: %s is not a value of %s", k, def.Name)
			}
			v := m.Map[k]
			vals = append(vals, v)
			if _, ok := v.(int); !ok {
				allInt = false
			}
		}
		s = jsonSchema{"type": "string", "enum": vals}
		if allInt {
			s["type"] = "integer"
		}
	}
	switch m.As {
	case "":
	case "int", "unix":
		if t.Elem != nil {
			return nil, fmt.Errorf("%s: %s cannot convert a list", m.From, m.As)
		}
		s = jsonSchema{"type": "integer", "format": "int64"}
		if m.As == "unix" {
			s["description"] = "Unix time in seconds"
		}
	case "string", "json":
		s = jsonSchema{"type": "string"}
	case "hundredths":
		if t.Elem != nil || (t.NamedType != "Int" && t.NamedType != "Float") {
			return nil, fmt.Errorf("%s: hundredths converts a number", m.From)
		}
		s = jsonSchema{"type": "number"}
	default:
		return nil, fmt.Errorf("%s: unknown conversion %q", m.From, m.As)
	}
	if !t.NonNull {
		s["nullable"] = true
	}
	return s, nil
}

func typeSchema(t *ast.Type, schema *ast.Schema) jsonSchema {
	if t.Elem != nil {
		return jsonSchema{"type": "array", "items": typeSchema(t.Elem, schema)}
	}
	switch t.NamedType {
	case "Int":
		return jsonSchema{"type": "integer"}
	case "Float":
		return jsonSchema{"type": "number"}
	case "Boolean":
		return jsonSchema{"type": "boolean"}
	case "String", "ID", "Cursor":
		return jsonSchema{"type": "string"}
	case "Time":
		return jsonSchema{"type": "string", "format": "date-time"}
	}
	if def := schema.Types[t.NamedType]; def != nil && def.Kind == ast.Enum {
		var vals []any
		for _, v := range def.EnumValues {
			vals = append(vals, v.Name)
		}
		return jsonSchema{"type": "string", "enum": vals}
	}
	return jsonSchema{"type": "object"}
}

// shapeSchema is the schema of a shape filled with vars' schemas; nil for
// the "empty" shape (no body).
func shapeSchema(sh *rest.Shape, vars map[string]jsonSchema) jsonSchema {
	if sh == nil {
		return nil
	}
	switch sh.Kind {
	case rest.ShapeVar:
		return vars[sh.Var]
	case rest.ShapeObject:
		props := jsonSchema{}
		var required []string
		for _, f := range sh.Fields {
			fs := shapeSchema(f.Value, vars)
			if f.Name == rest.Spread {
				sp, _ := fs["properties"].(jsonSchema)
				for k, v := range sp {
					props[k] = v
				}
				if req, ok := fs["required"].([]string); ok {
					required = append(required, req...)
				}
				continue
			}
			props[f.Name] = fs
			required = append(required, f.Name)
		}
		out := jsonSchema{"type": "object", "properties": props}
		if len(required) > 0 {
			sort.Strings(required)
			out["required"] = required
		}
		return out
	}
	if sh.Const == nil {
		return jsonSchema{"nullable": true}
	}
	return constSchema(sh.Const)
}

// successSchema is the schema of endpoint i's successful answer: its shape
// filled with its response; nil when it answers no body.
func (s *Spec) successSchema(i int) (jsonSchema, error) {
	ep := &s.Endpoints[i]
	name := ep.Shape
	if name == "" {
		name = s.Shape
	}
	sh, _ := rest.LookupShape(s.Shapes, name)
	resp := jsonSchema{"nullable": true}
	if ep.Response != nil {
		var err error
		if resp, err = resolveMapping(ep.Response, s.docs[i].Operations[0].SelectionSet, s.schema); err != nil {
			return nil, err
		}
	}
	return shapeSchema(sh, map[string]jsonSchema{
		"response": resp,
		"status":   {"type": "integer", "description": "The HTTP status of the answer."},
		"message":  {"type": "string", "enum": []any{ep.Message}},
		"url":      {"type": "string", "description": "The request's path."},
	}), nil
}

// errorSchema is the schema of an error answered in the named shape; nil
// when errors answer no body.
func (s *Spec) errorSchema(name string) jsonSchema {
	sh, _ := rest.LookupShape(s.Shapes, name)
	codes := make([]any, 0, len(rest.DefaultStatus))
	for c := range rest.DefaultStatus {
		codes = append(codes, string(c))
	}
	sort.Slice(codes, func(i, j int) bool { return codes[i].(string) < codes[j].(string) })
	return shapeSchema(sh, map[string]jsonSchema{
		"status":  {"type": "integer", "description": "The HTTP status of the answer."},
		"message": {"type": "string", "description": "What went wrong, naming the parameter at fault."},
		"code":    {"type": "string", "enum": codes, "description": "The error code."},
		"field":   {"type": "string", "nullable": true, "description": "The parameter at fault, if one is."},
		"url":     {"type": "string", "description": "The request's path."},
	})
}
