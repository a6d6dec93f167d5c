package restgen

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/meridianplane/meridian/internal/rest"
)

// schemaOf is a schema of one JSON type.
func schemaOf(typ string) *openapi3.Schema {
	return &openapi3.Schema{Type: &openapi3.Types{typ}}
}

// resolveMapping checks a response mapping against the selection it reads
// and returns the OpenAPI schema of the value it produces.
func resolveMapping(m *rest.Mapping, set ast.SelectionSet, schema *ast.Schema) (*openapi3.Schema, error) {
	switch {
	case m == nil:
		return nil, errors.New("empty mapping")
	case m.Object != nil:
		o := openapi3.NewObjectSchema()
		for _, k := range rest.OrderedKeys(m.Order, m.Object) {
			s, err := resolveMapping(m.Object[k], set, schema)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			o.Properties[k] = s.NewRef()
			o.Required = append(o.Required, k)
		}
		sort.Strings(o.Required)
		switch m.As {
		case "":
		case "json":
			s := schemaOf(openapi3.TypeString)
			s.Description = "A JSON object as a string."
			return s, nil
		default:
			return nil, fmt.Errorf("an object converts only to json, not %q", m.As)
		}
		return o, nil
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
		return openapi3.NewArraySchema().WithItems(items), nil
	case m.From != "":
		f, err := fieldAt(set, m.From)
		if err != nil {
			return nil, err
		}
		return convertSchema(m, f.Definition.Type, schema)
	}
	s, err := literalSchema(m.Const)
	if err != nil {
		return nil, fmt.Errorf("const: %w", err)
	}
	s.Enum = []any{m.Const}
	return s, nil
}

// literalType is the JSON type of a declared literal (a const, a map value).
func literalType(v any) (string, error) {
	switch t := v.(type) {
	case bool:
		return openapi3.TypeBoolean, nil
	case int, int64:
		return openapi3.TypeInteger, nil
	case float64:
		if t == math.Trunc(t) {
			return openapi3.TypeInteger, nil
		}
		return openapi3.TypeNumber, nil
	case string:
		return openapi3.TypeString, nil
	case []any:
		return openapi3.TypeArray, nil
	case map[string]any:
		return openapi3.TypeObject, nil
	}
	return "", fmt.Errorf("%v (%T) is not a JSON literal", v, v)
}

// literalSchema is the schema of a literal's type: an array's items are of
// its elements' one type (any type when it is empty), an object's
// properties of its values'.
func literalSchema(v any) (*openapi3.Schema, error) {
	typ, err := literalType(v)
	if err != nil {
		return nil, err
	}
	s := schemaOf(typ)
	switch t := v.(type) {
	case []any:
		items, err := sameTypeSchema(t)
		if err != nil {
			return nil, err
		}
		s.Items = items.NewRef()
	case map[string]any:
		s.Properties = openapi3.Schemas{}
		for k, x := range t {
			ps, err := literalSchema(x)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			s.Properties[k] = ps.NewRef()
		}
	}
	return s, nil
}

// sameTypeSchema is the schema of values that must share one JSON type
// (map values, array elements; integers widen to numbers); no values give
// the empty schema, which any value fits.
func sameTypeSchema(vals []any) (*openapi3.Schema, error) {
	if len(vals) == 0 {
		return &openapi3.Schema{}, nil
	}
	s, err := literalSchema(vals[0])
	if err != nil {
		return nil, err
	}
	for _, v := range vals[1:] {
		typ, err := literalType(v)
		if err != nil {
			return nil, err
		}
		switch {
		case s.Type.Is(typ), s.Type.Is(openapi3.TypeNumber) && typ == openapi3.TypeInteger:
		case s.Type.Is(openapi3.TypeInteger) && typ == openapi3.TypeNumber:
			s.Type = &openapi3.Types{openapi3.TypeNumber}
		default:
			return nil, fmt.Errorf("values mix %s and %s", s.Type.Slice()[0], typ)
		}
	}
	return s, nil
}

func convertSchema(m *rest.Mapping, t *ast.Type, schema *ast.Schema) (*openapi3.Schema, error) {
	s := typeSchema(t, schema)
	if len(m.Map) > 0 {
		def := schema.Types[t.Name()]
		var vals []any
		for _, k := range rest.SortedKeys(m.Map) {
			if def != nil && def.Kind == ast.Enum && def.EnumValues.ForName(k) == nil {
				return nil, fmt.Errorf("map: %s is not a value of %s", k, def.Name)
			}
			vals = append(vals, m.Map[k])
		}
		var err error
		if s, err = sameTypeSchema(vals); err != nil {
			return nil, fmt.Errorf("map: %w", err)
		}
		s.Enum = uniqueLiterals(vals)
	}
	switch m.As {
	case "":
	case "int", "unix":
		if t.Elem != nil {
			return nil, fmt.Errorf("%s: %s cannot convert a list", m.From, m.As)
		}
		s = &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeInteger}, Format: "int64"}
		if m.As == "unix" {
			s.Description = "Unix time in seconds"
		}
	case "string", "json":
		s = schemaOf(openapi3.TypeString)
	case "hundredths":
		if t.Elem != nil || (t.NamedType != "Int" && t.NamedType != "Float") {
			return nil, fmt.Errorf("%s: hundredths converts a number", m.From)
		}
		s = schemaOf(openapi3.TypeNumber)
	default:
		return nil, fmt.Errorf("%s: unknown conversion %q", m.From, m.As)
	}
	if !t.NonNull {
		s.Nullable = true
	}
	return s, nil
}

// uniqueLiterals drops repeated values (an enum lists each once), keeping
// the first's place.
func uniqueLiterals(vals []any) []any {
	var out []any
	seen := map[string]bool{}
	for _, v := range vals {
		k := fmt.Sprintf("%T:%v", v, v)
		if !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out
}

func typeSchema(t *ast.Type, schema *ast.Schema) *openapi3.Schema {
	if t.Elem != nil {
		items := typeSchema(t.Elem, schema)
		items.Nullable = !t.Elem.NonNull
		return openapi3.NewArraySchema().WithItems(items)
	}
	switch t.NamedType {
	case "Int":
		return schemaOf(openapi3.TypeInteger)
	case "Float":
		return schemaOf(openapi3.TypeNumber)
	case "Boolean":
		return schemaOf(openapi3.TypeBoolean)
	case "String", "ID", "Cursor":
		return schemaOf(openapi3.TypeString)
	case "Time":
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}, Format: "date-time"}
	}
	if def := schema.Types[t.NamedType]; def != nil && def.Kind == ast.Enum {
		s := schemaOf(openapi3.TypeString)
		for _, v := range def.EnumValues {
			s.Enum = append(s.Enum, v.Name)
		}
		return s
	}
	return schemaOf(openapi3.TypeObject)
}

// shapeSchema is the schema of a shape filled with vars' schemas; nil for
// the "empty" shape (no body).
func shapeSchema(sh *rest.Shape, vars map[string]*openapi3.Schema) (*openapi3.Schema, error) {
	if sh == nil {
		return nil, nil
	}
	switch sh.Kind {
	case rest.ShapeVar:
		v := vars[sh.Var]
		if v == nil {
			return nil, fmt.Errorf("shape variable $%s has no schema", sh.Var)
		}
		return v, nil
	case rest.ShapeObject:
		o := openapi3.NewObjectSchema()
		for _, f := range sh.Fields {
			fs, err := shapeSchema(f.Value, vars)
			if err != nil {
				return nil, err
			}
			if f.Name == rest.Spread {
				for k, v := range fs.Properties {
					o.Properties[k] = v
				}
				o.Required = append(o.Required, fs.Required...)
				continue
			}
			o.Properties[f.Name] = fs.NewRef()
			o.Required = append(o.Required, f.Name)
		}
		sort.Strings(o.Required)
		return o, nil
	}
	if sh.Const == nil {
		return &openapi3.Schema{Nullable: true}, nil
	}
	s, err := literalSchema(sh.Const)
	if err != nil {
		return nil, err
	}
	s.Enum = []any{sh.Const}
	return s, nil
}

// describedSchema is a schema of one JSON type with a description.
func describedSchema(typ, description string) *openapi3.Schema {
	s := schemaOf(typ)
	s.Description = description
	return s
}

// successSchema is the schema of endpoint i's successful answer: its shape
// filled with its response; nil when it answers no body.
func (s *Spec) successSchema(i int) (*openapi3.Schema, error) {
	ep := &s.Endpoints[i]
	name := ep.Shape
	if name == "" {
		name = s.Shape
	}
	sh, _ := rest.LookupShape(s.Shapes, name)
	resp := &openapi3.Schema{Nullable: true}
	if ep.Response != nil {
		var err error
		if resp, err = resolveMapping(ep.Response, s.docs[i].Operations[0].SelectionSet, s.schema); err != nil {
			return nil, err
		}
	}
	message := schemaOf(openapi3.TypeString)
	message.Enum = []any{ep.Message}
	return shapeSchema(sh, map[string]*openapi3.Schema{
		"response": resp,
		"status":   describedSchema(openapi3.TypeInteger, "The HTTP status of the answer."),
		"message":  message,
		"url":      describedSchema(openapi3.TypeString, "The request's path."),
	})
}

// errorSchema is the schema of an error answered in the named shape; nil
// when errors answer no body.
func (s *Spec) errorSchema(name string) (*openapi3.Schema, error) {
	sh, _ := rest.LookupShape(s.Shapes, name)
	codes := make([]string, 0, len(rest.DefaultStatus))
	for c := range rest.DefaultStatus {
		codes = append(codes, string(c))
	}
	sort.Strings(codes)
	code := describedSchema(openapi3.TypeString, "The error code.")
	for _, c := range codes {
		code.Enum = append(code.Enum, c)
	}
	field := describedSchema(openapi3.TypeString, "The parameter at fault, if one is.")
	field.Nullable = true
	return shapeSchema(sh, map[string]*openapi3.Schema{
		"status":  describedSchema(openapi3.TypeInteger, "The HTTP status of the answer."),
		"message": describedSchema(openapi3.TypeString, "What went wrong, naming the parameter at fault."),
		"code":    code,
		"field":   field,
		"url":     describedSchema(openapi3.TypeString, "The request's path."),
	})
}
