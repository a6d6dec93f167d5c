package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/go-chi/chi/v5"

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
	if p.In != "body" { // path, query and form values arrive as text
		var err error
		if v, err = p.fromText(v); err != nil {
			return nil, false, err
		}
	}
	if err := p.validate(v); err != nil {
		return nil, false, err
	}
	if p.Type == "array" {
		items := append([]any(nil), v.([]any)...)
		for i, it := range items {
			var err error
			if items[i], err = p.value(fmt.Sprintf("%s[%d]", p.Name, i), p.Items, it); err != nil {
				return nil, false, err
			}
		}
		return items, true, nil
	}
	val, err := p.value(p.Name, p.Type, v)
	return val, true, err
}

// fromText turns a text value (or a list of them) into the JSON value of
// the parameter's type, for the schema to check.
func (p *Param) fromText(v any) (any, error) {
	if p.Type != "array" {
		return textValue(p.Name, p.Type, v)
	}
	list, ok := v.([]any)
	if !ok {
		return v, nil // the schema names the type
	}
	out := make([]any, len(list))
	for i, it := range list {
		var err error
		if out[i], err = textValue(fmt.Sprintf("%s[%d]", p.Name, i), p.Items, it); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func textValue(name, typ string, v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return v, nil
	}
	switch typ {
	case "integer":
		if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
			return nil, apierr.BadInput(name, "must be an integer")
		}
		return json.Number(strings.TrimSpace(s)), nil
	case "boolean":
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, apierr.BadInput(name, "must be true or false")
		}
		return b, nil
	}
	return s, nil
}

// value turns a validated scalar into the GraphQL value (integers as
// int64) and applies the parameter's map.
func (p *Param) value(name, typ string, v any) (any, error) {
	if typ == "integer" {
		var err error
		if v, err = toInt64(name, v); err != nil {
			return nil, err
		}
	}
	if typ == "array" || typ == "object" || len(p.Map) == 0 {
		return v, nil
	}
	return p.Map[fmt.Sprint(v)], nil // the schema's enum holds only map keys
}

func toInt64(name string, v any) (int64, error) {
	switch t := v.(type) {
	case int:
		return int64(t), nil
	case int64:
		return t, nil
	case float64:
		v = json.Number(strconv.FormatFloat(t, 'f', -1, 64))
	}
	n, _ := v.(json.Number)
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, apierr.BadInput(name, "must be an integer")
	}
	return int64(f), nil
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
