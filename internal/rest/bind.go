package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/auth"
)

// readBody decodes a JSON object body. An empty body is an empty object.
func readBody(r *http.Request) (map[string]any, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, apierr.BadInput("body", "request body larger than %d bytes", mb.Limit)
		}
		return nil, apierr.BadInput("body", "cannot read request body")
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, apierr.BadInput("body", "malformed JSON: %s", jsonErr(err))
	}
	if dec.More() {
		return nil, apierr.BadInput("body", "malformed JSON: more than one value")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, apierr.BadInput("body", "must be a JSON object")
	}
	return obj, nil
}

func jsonErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at offset %d", se.Error(), se.Offset)
	}
	return err.Error()
}

// checkContentType answers 415 when the endpoint takes one content type
// and the request's body is of another (or says none).
func (ep *Endpoint) checkContentType(r *http.Request) error {
	if ep.Consumes == "" {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != ep.Consumes {
		return &apierr.Error{Code: apierr.UnsupportedMediaType, Field: "Content-Type",
			Message: fmt.Sprintf("Content-Type: the body must be %s, not %q", ep.Consumes, r.Header.Get("Content-Type"))}
	}
	return nil
}

// readForm parses a multipart/form-data body: its text fields become
// strings, its files graphql.Upload values.
func readForm(r *http.Request) (map[string]any, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return nil, &apierr.Error{Code: apierr.UnsupportedMediaType, Field: "Content-Type",
			Message: fmt.Sprintf("Content-Type: the body must be multipart/form-data, not %q", r.Header.Get("Content-Type"))}
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, apierr.BadInput("body", "request body larger than %d bytes", mb.Limit)
		}
		return nil, apierr.BadInput("body", "malformed multipart form: %s", err.Error())
	}
	out := map[string]any{}
	for k, vs := range r.MultipartForm.Value {
		if len(vs) > 0 {
			out[k] = vs[0]
		}
	}
	for k, fs := range r.MultipartForm.File {
		if len(fs) == 0 {
			continue
		}
		f, err := fs[0].Open()
		if err != nil {
			return nil, apierr.BadInput(k, "cannot read the uploaded file")
		}
		out[k] = graphql.Upload{File: f, Filename: fs[0].Filename, Size: fs[0].Size, ContentType: fs[0].Header.Get("Content-Type")}
	}
	return out, nil
}

// raw returns the parameter's value as sent, and whether it was sent.
func (p *Param) raw(r *http.Request, body map[string]any) (any, bool) {
	switch p.In {
	case "path":
		v := chi.URLParam(r, p.Name)
		return v, v != ""
	case "query":
		q := r.URL.Query()
		if p.Type == "array" {
			vs := q[p.Name]
			if len(vs) == 1 && strings.Contains(vs[0], ",") {
				vs = strings.Split(vs[0], ",")
			}
			out := make([]any, len(vs))
			for i, s := range vs {
				out[i] = s
			}
			return out, len(vs) > 0
		}
		if !q.Has(p.Name) {
			return nil, false
		}
		return q.Get(p.Name), true
	case "header":
		v, ok := auth.HeaderValue(r.Header, p.Name)
		if ok && p.Type == "array" {
			var out []any
			for _, s := range strings.Split(v, ",") {
				out = append(out, strings.TrimSpace(s))
			}
			return out, true
		}
		return v, ok
	case "client":
		v := ClientIP(r)
		return v, v != ""
	default:
		v, ok := body[p.Name]
		if ok && v == nil {
			return nil, false // null counts as absent
		}
		return v, ok
	}
}

// bind reads, converts and validates the parameter. It returns the GraphQL
// value and whether there is one.
func (p *Param) bind(r *http.Request, body map[string]any) (any, bool, error) {
	v, ok := p.raw(r, body)
	if !ok {
		if p.Required {
			return nil, false, apierr.BadInput(p.Name, "is required")
		}
		if p.Default == nil {
			return nil, false, nil
		}
		v = p.Default
	}
	if s, isStr := v.(string); isStr && slices.Contains(p.Omit, s) {
		return nil, false, nil
	}
	fromText := p.In != "body"
	if p.Type == "file" {
		up, ok := v.(graphql.Upload)
		if !ok {
			return nil, false, apierr.BadInput(p.Name, "must be a file (a multipart/form-data file field)")
		}
		return up, true, nil
	}
	if _, isFile := v.(graphql.Upload); isFile {
		return nil, false, apierr.BadInput(p.Name, "must be a text field, not a file")
	}
	val, err := convert(p.Name, p.Type, v, fromText)
	if err != nil {
		return nil, false, err
	}
	if p.Type == "array" {
		items, _ := val.([]any)
		if p.MinItems != nil && len(items) < *p.MinItems {
			return nil, false, apierr.BadInput(p.Name, "must have at least %d item(s)", *p.MinItems)
		}
		if p.MaxItems != nil && len(items) > *p.MaxItems {
			return nil, false, apierr.BadInput(p.Name, "must have at most %d items", *p.MaxItems)
		}
		for i, it := range items {
			name := fmt.Sprintf("%s[%d]", p.Name, i)
			cv, err := convert(name, p.Items, it, fromText)
			if err != nil {
				return nil, false, err
			}
			if err := p.check(name, cv); err != nil {
				return nil, false, err
			}
			if items[i], err = p.mapValue(name, cv); err != nil {
				return nil, false, err
			}
		}
		return items, true, nil
	}
	if err := p.check(p.Name, val); err != nil {
		return nil, false, err
	}
	mv, err := p.mapValue(p.Name, val)
	return mv, true, err
}

// convert checks a value's type. Path and query values arrive as text.
func convert(name, typ string, v any, fromText bool) (any, error) {
	switch typ {
	case "string":
		s, ok := v.(string)
		if !ok {
			return nil, apierr.BadInput(name, "must be a string")
		}
		return s, nil
	case "integer":
		var n json.Number
		switch t := v.(type) {
		case json.Number:
			n = t
		case string:
			if !fromText {
				return nil, apierr.BadInput(name, "must be an integer")
			}
			n = json.Number(strings.TrimSpace(t))
		case int:
			return int64(t), nil
		case float64:
			n = json.Number(strconv.FormatFloat(t, 'f', -1, 64))
		default:
			return nil, apierr.BadInput(name, "must be an integer")
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(string(n), 64)
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
				return nil, apierr.BadInput(name, "must be an integer")
			}
			i = int64(f)
		}
		return i, nil
	case "boolean":
		switch t := v.(type) {
		case bool:
			return t, nil
		case string:
			if fromText {
				if b, err := strconv.ParseBool(t); err == nil {
					return b, nil
				}
			}
		}
		return nil, apierr.BadInput(name, "must be true or false")
	case "array":
		a, ok := v.([]any)
		if !ok {
			return nil, apierr.BadInput(name, "must be an array")
		}
		return append([]any(nil), a...), nil
	case "object":
		o, ok := v.(map[string]any)
		if !ok {
			return nil, apierr.BadInput(name, "must be an object")
		}
		return o, nil
	}
	return nil, apierr.New(apierr.Internal, "rest: parameter %s has unknown type %q", name, typ)
}

// check applies the declared constraints to a converted scalar.
func (p *Param) check(name string, v any) error {
	switch t := v.(type) {
	case string:
		n := utf8.RuneCountInString(t)
		if p.MinLength != nil && n < *p.MinLength {
			if *p.MinLength == 1 {
				return apierr.BadInput(name, "must not be empty")
			}
			return apierr.BadInput(name, "must be at least %d characters", *p.MinLength)
		}
		if p.MaxLength != nil && n > *p.MaxLength {
			return apierr.BadInput(name, "must be at most %d characters", *p.MaxLength)
		}
		switch p.Format {
		case "uuid":
			if _, err := uuid.Parse(t); err != nil {
				return apierr.BadInput(name, "must be a UUID")
			}
		case "ip":
			if net.ParseIP(t) == nil {
				return apierr.BadInput(name, "must be an IP address")
			}
		}
	case int64:
		if p.Minimum != nil && float64(t) < *p.Minimum {
			return apierr.BadInput(name, "must be at least %v", *p.Minimum)
		}
		if p.Maximum != nil && float64(t) > *p.Maximum {
			return apierr.BadInput(name, "must be at most %v", *p.Maximum)
		}
	}
	if len(p.Enum) > 0 {
		s := fmt.Sprint(v)
		for _, e := range p.Enum {
			if fmt.Sprint(e) == s {
				return nil
			}
		}
		return apierr.BadInput(name, "must be one of %s", enumList(p.Enum))
	}
	return nil
}

func (p *Param) mapValue(name string, v any) (any, error) {
	if len(p.Map) == 0 {
		return v, nil
	}
	if mv, ok := p.Map[fmt.Sprint(v)]; ok {
		return mv, nil
	}
	keys := make([]any, 0, len(p.Map))
	for k := range p.Map {
		keys = append(keys, k)
	}
	return nil, apierr.BadInput(name, "must be one of %s", enumList(keys))
}

func enumList(vs []any) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprint(v)
	}
	sortStrings(s)
	return strings.Join(s, ", ")
}

// setPath sets vars[a][b][c] = v for path "a.b.c"; "a[].b" sets
// vars[a] = [{b: v}].
func setPath(vars map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	m := vars
	for _, k := range parts[:len(parts)-1] {
		if name, ok := strings.CutSuffix(k, "[]"); ok {
			list, _ := m[name].([]any)
			if len(list) == 0 {
				list = []any{map[string]any{}}
				m[name] = list
			}
			m = list[0].(map[string]any)
			continue
		}
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}
