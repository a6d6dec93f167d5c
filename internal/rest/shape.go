package rest

import (
	"net/http"
	"sort"

	"github.com/meridianplane/meridian/internal/apierr"
)

// The variables a shape may use: SuccessVars in success shapes, ErrorVars
// in error shapes (see Shape).
var (
	SuccessVars = []string{"response", "status", "message", "url"}
	ErrorVars   = []string{"status", "message", "code", "field", "url"}
)

// DefaultStatus is the HTTP status of each error code an API's
// ErrorConvention does not map. An unknown code answers 500.
var DefaultStatus = map[apierr.Code]int{
	apierr.Unauthenticated:      http.StatusUnauthorized,
	apierr.Forbidden:            http.StatusForbidden,
	apierr.NotFound:             http.StatusNotFound,
	apierr.BadUserInput:         http.StatusBadRequest,
	apierr.Conflict:             http.StatusConflict,
	apierr.PreconditionFailed:   http.StatusPreconditionFailed,
	apierr.UnsupportedMediaType: http.StatusUnsupportedMediaType,
	apierr.MethodNotAllowed:     http.StatusMethodNotAllowed,
	apierr.Internal:             http.StatusInternalServerError,
}

// builtinShapes are the shapes every API has.
var builtinShapes = map[string]*Shape{
	ShapeBare:  {Kind: ShapeVar, Var: "response"},
	ShapeEmpty: nil,
}

// LookupShape returns the shape a name means in an API: a built-in or one
// of shapes. ok is false for an unknown name; the "empty" shape is nil.
func LookupShape(shapes map[string]*Shape, name string) (s *Shape, ok bool) {
	if name == "" {
		name = ShapeBare
	}
	if s, ok := builtinShapes[name]; ok {
		return s, true
	}
	s, ok = shapes[name]
	return s, ok
}

// Vars lists the variables a shape uses, in order, each once.
func (s *Shape) Vars() []string {
	var out []string
	seen := map[string]bool{}
	var walk func(*Shape)
	walk = func(s *Shape) {
		if s == nil {
			return
		}
		switch s.Kind {
		case ShapeVar:
			if !seen[s.Var] {
				seen[s.Var] = true
				out = append(out, s.Var)
			}
		case ShapeObject:
			for _, f := range s.Fields {
				walk(f.Value)
			}
		}
	}
	walk(s)
	return out
}

// answer is what fills a shape's variables.
type answer struct {
	response any
	status   int
	message  string
	url      string
	code     apierr.Code
	field    string
}

func (a *answer) value(name string) any {
	switch name {
	case "response":
		return a.response
	case "status":
		return a.status
	case "message":
		return a.message
	case "url":
		return a.url
	case "code":
		return string(a.code)
	case "field":
		if a.field == "" {
			return nil
		}
		return a.field
	}
	return nil
}

// render builds the JSON value of the shape.
func (s *Shape) render(a *answer) any {
	switch s.Kind {
	case ShapeVar:
		return a.value(s.Var)
	case ShapeObject:
		o := &Object{Keys: []string{}}
		for _, f := range s.Fields {
			v := f.Value.render(a)
			if f.Name == Spread {
				spread(o, v)
				continue
			}
			o.Set(f.Name, v)
		}
		return o
	}
	return s.Const
}

// spread sets the keys of an object value on o.
func spread(o *Object, v any) {
	switch t := v.(type) {
	case *Object:
		for _, k := range t.Keys {
			o.Set(k, t.Values[k])
		}
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			o.Set(k, t[k])
		}
	}
}

// write answers status with the shape filled from a; the "empty" shape
// (nil) writes no body.
func (s *Shape) write(w http.ResponseWriter, a *answer) {
	if s == nil {
		w.WriteHeader(a.status)
		return
	}
	WriteJSON(w, a.status, s.render(a))
}
