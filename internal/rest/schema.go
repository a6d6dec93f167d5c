package rest

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/meridianplane/meridian/internal/apierr"
)

// Schema is the parameter's value schema: the one restgen writes into the
// API's OpenAPI document and the one bind validates every value with.
// Descriptions are the document's business (restgen adds them).
func (p *Param) Schema() *openapi3.Schema {
	if p.Type == "file" {
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}, Format: "binary"}
	}
	s := &openapi3.Schema{Type: &openapi3.Types{p.Type}, Default: p.Default, Example: p.Example}
	elem, elemType := s, p.Type // where the scalar constraints go
	if p.Type == "array" {
		elem, elemType = &openapi3.Schema{Type: &openapi3.Types{p.Items}}, p.Items
		s.Items = openapi3.NewSchemaRef("", elem)
		if p.MinItems != nil {
			s.MinItems = uint64(*p.MinItems)
		}
		if p.MaxItems != nil {
			s.MaxItems = ptr(uint64(*p.MaxItems))
		}
	}
	if p.MinLength != nil {
		elem.MinLength = uint64(*p.MinLength)
	}
	if p.MaxLength != nil {
		elem.MaxLength = ptr(uint64(*p.MaxLength))
	}
	elem.Min, elem.Max = p.Minimum, p.Maximum
	elem.Format, elem.Pattern = p.Format, p.Pattern
	elem.Enum = p.Enum
	if len(p.Map) > 0 { // the legacy values the map translates
		elem.Enum = nil
		keys := make([]string, 0, len(p.Map))
		for k := range p.Map {
			keys = append(keys, k)
		}
		sortStrings(keys)
		for _, k := range keys {
			elem.Enum = append(elem.Enum, typedLiteral(k, elemType))
		}
	}
	return s
}

// typedLiteral turns a map key (text) into a value of the parameter type.
func typedLiteral(k, typ string) any {
	switch typ {
	case "integer":
		if n, err := strconv.ParseInt(k, 10, 64); err == nil {
			return n
		}
	case "boolean":
		if b, err := strconv.ParseBool(k); err == nil {
			return b
		}
	}
	return k
}

// Formats are the string formats a parameter may declare, as validators.
var Formats = map[string]openapi3.StringFormatValidator{
	"uuid": openapi3.NewCallbackValidator(func(s string) error {
		_, err := uuid.Parse(s)
		return err
	}),
	"ip": openapi3.NewCallbackValidator(func(s string) error {
		if net.ParseIP(s) == nil {
			return errors.New("not an IP address")
		}
		return nil
	}),
}

var formatMessages = map[string]string{"uuid": "must be a UUID", "ip": "must be an IP address"}

// validate checks a decoded value (JSON types; text already converted)
// against the parameter's schema. A failure is a BAD_USER_INPUT naming the
// parameter, or the element of it that failed ("ports[2]").
func (p *Param) validate(v any) error {
	err := p.Schema().VisitJSON(v, openapi3.VisitAsRequest(), openapi3.WithStringFormatValidators(Formats))
	if err == nil {
		return nil
	}
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return apierr.BadInput(p.Name, "%s", err.Error())
	}
	name := p.Name
	for _, seg := range se.JSONPointer() {
		if _, numErr := strconv.Atoi(seg); numErr == nil {
			name += "[" + seg + "]"
		} else {
			name += "." + seg
		}
	}
	return apierr.BadInput(name, "%s", schemaMessage(se))
}

// schemaMessage words a schema failure the way OTE-Stack clients read it.
func schemaMessage(se *openapi3.SchemaError) string {
	s := se.Schema
	switch se.SchemaField {
	case "type":
		switch {
		case s.Type.Is(openapi3.TypeInteger):
			return "must be an integer"
		case s.Type.Is(openapi3.TypeNumber):
			return "must be a number"
		case s.Type.Is(openapi3.TypeBoolean):
			return "must be true or false"
		case s.Type.Is(openapi3.TypeArray):
			return "must be an array"
		case s.Type.Is(openapi3.TypeObject):
			return "must be an object"
		}
		return "must be a string"
	case "enum":
		return "must be one of " + enumList(s.Enum)
	case "minLength":
		if s.MinLength == 1 {
			return "must not be empty"
		}
		return fmt.Sprintf("must be at least %d characters", s.MinLength)
	case "maxLength":
		return fmt.Sprintf("must be at most %d characters", *s.MaxLength)
	case "minimum":
		return fmt.Sprintf("must be at least %v", *s.Min)
	case "maximum":
		return fmt.Sprintf("must be at most %v", *s.Max)
	case "minItems":
		return fmt.Sprintf("must have at least %d item(s)", s.MinItems)
	case "maxItems":
		return fmt.Sprintf("must have at most %d items", *s.MaxItems)
	case "pattern":
		return "must match " + s.Pattern
	case "format":
		if m, ok := formatMessages[s.Format]; ok {
			return m
		}
		return "must be a " + s.Format
	}
	return se.Reason
}

func enumList(vs []any) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprint(v)
	}
	sortStrings(s)
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// ptr is a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }
