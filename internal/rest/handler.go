package rest

import (
	"bytes"
	"encoding/json"

	"log/slog"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/go-chi/chi/v5"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/auth"
)

// Envelope writes one legacy API's answers. Each API has exactly one.
type Envelope interface {
	// Success writes a successful answer; body holds the declared response keys.
	Success(w http.ResponseWriter, status int, body *Object)
	// Failure writes an error in the API's shape, with the API's status code.
	Failure(w http.ResponseWriter, e *apierr.Error)
}

// API is one legacy API: its declarations and its envelope.
type API struct {
	Name string
	// Prefix is the path every endpoint starts with ("/v1"); unknown paths
	// and methods under it are answered in the API's envelope.
	Prefix    string
	Endpoints []Endpoint
	Envelope  Envelope
}

// Mount adds the API's routes to r; gql is the GraphQL server they run through.
func Mount(r chi.Router, api API, gql http.Handler) {
	r.Route(api.Prefix, func(sub chi.Router) {
		for i := range api.Endpoints {
			ep := &api.Endpoints[i]
			path := strings.TrimPrefix(ep.Path, api.Prefix)
			if path == "" {
				path = "/"
			}
			sub.Method(ep.Method, path, &route{ep: ep, env: api.Envelope, gql: gql})
		}
		sub.NotFound(func(w http.ResponseWriter, r *http.Request) {
			api.Envelope.Failure(w, apierr.New(apierr.NotFound, "no endpoint at %s", r.URL.Path))
		})
		sub.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			api.Envelope.Failure(w, apierr.New(apierr.NotFound, "no %s endpoint at %s", r.Method, r.URL.Path))
		})
	})
}

type route struct {
	ep  *Endpoint
	env Envelope
	gql http.Handler
}

func (rt *route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !rt.ep.Public {
		if _, err := auth.Require(ctx); err != nil {
			rt.fail(w, r, err)
			return
		}
	}
	defer func() {
		if r.MultipartForm != nil {
			_ = r.MultipartForm.RemoveAll()
		}
	}()
	vars, page, err := rt.bind(r)
	if err != nil {
		rt.fail(w, r, err)
		return
	}
	if page != nil {
		ctx = page.apply(ctx, vars, rt.ep.Page)
	}
	resp := Execute(ctx, rt.gql, r, rt.ep.Operation, rt.ep.OperationName, vars)
	if len(resp.Errors) > 0 || resp.Data == nil {
		rt.fail(w, r, rt.graphError(resp.Errors))
		return
	}
	dec := json.NewDecoder(bytes.NewReader(resp.Data))
	dec.UseNumber()
	var data any
	if err := dec.Decode(&data); err != nil {
		rt.fail(w, r, err)
		return
	}
	if rt.ep.Found != "" && empty(lookup(data, rt.ep.Found)) {
		rt.fail(w, r, apierr.New(apierr.NotFound, "not found"))
		return
	}
	body := &Object{}
	for _, k := range rt.ep.responseKeys() {
		v, err := rt.ep.Response[k].apply(data)
		if err != nil {
			rt.fail(w, r, err)
			return
		}
		body.Set(k, v)
	}
	status := rt.ep.Status
	if status == 0 {
		status = http.StatusOK
	}
	rt.env.Success(w, status, body)
}

func (ep *Endpoint) responseKeys() []string { return OrderedKeys(ep.Order, ep.Response) }

// bind validates every parameter and builds the operation's variables.
func (rt *route) bind(r *http.Request) (map[string]any, *window, error) {
	var body map[string]any
	for _, p := range rt.ep.Params {
		if p.In == "form" {
			b, err := readForm(r)
			if err != nil {
				return nil, nil, err
			}
			body = b
			break
		}
		if p.In == "body" {
			if err := rt.ep.checkContentType(r); err != nil {
				return nil, nil, err
			}
			b, err := readBody(r)
			if err != nil {
				return nil, nil, err
			}
			body = b
			break
		}
	}
	vars := map[string]any{}
	for _, path := range sortedKeys(rt.ep.Set) {
		setPath(vars, path, rt.ep.Set[path])
	}
	for i := range rt.ep.Params {
		p := &rt.ep.Params[i]
		v, ok, err := p.bind(r, body)
		if err != nil {
			return nil, nil, err
		}
		if ok && p.Var != "" {
			setPath(vars, p.Var, v)
			for _, also := range p.Also {
				setPath(vars, also, v)
			}
		}
	}
	var w *window
	if pg := rt.ep.Page; pg != nil {
		var err error
		if w, err = readWindow(r, pg); err != nil {
			return nil, nil, err
		}
	}
	return vars, w, nil
}

// graphError turns GraphQL errors into the one error the envelope reports,
// naming the REST parameter rather than the GraphQL field.
func (rt *route) graphError(errs gqlerror.List) error {
	if len(errs) == 0 {
		return apierr.New(apierr.Internal, "operation returned no data")
	}
	ge := errs[0]
	e := &apierr.Error{Code: apierr.Internal, Message: ge.Message}
	if c, ok := ge.Extensions["code"].(string); ok {
		e.Code = apierr.Code(c)
	}
	switch e.Code {
	case apierr.Unauthenticated, apierr.Forbidden, apierr.NotFound, apierr.BadUserInput,
		apierr.Conflict, apierr.PreconditionFailed, apierr.Internal:
	case "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED", "COMPLEXITY_LIMIT_EXCEEDED", "DEPTH_LIMIT_EXCEEDED":
		e.Code = apierr.BadUserInput
	case "INTROSPECTION_DISABLED":
		e.Code = apierr.Forbidden
	default:
		e.Code = apierr.Internal
	}
	if f, ok := ge.Extensions["field"].(string); ok {
		e.Field = rt.ep.paramFor(f)
		if e.Field != f {
			e.Message = strings.Replace(e.Message, f+":", e.Field+":", 1)
		}
	}
	return e
}

// paramFor names the parameter whose variable holds a GraphQL field.
func (ep *Endpoint) paramFor(field string) string {
	if ep.Page != nil && field == ep.Page.firstVar() {
		return "pageSize"
	}
	for _, p := range ep.Params {
		if p.Var == field || strings.HasSuffix(p.Var, "."+field) {
			return p.Name
		}
	}
	return field
}

func (rt *route) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := apierr.Classify(r.Context(), err)
	if e.Code == apierr.Internal {
		cause := err
		if e.Err != nil {
			cause = e.Err
		}
		slog.ErrorContext(r.Context(), "rest: internal error", "route", rt.ep.Name, "err", cause)
		e = &apierr.Error{Code: apierr.Internal, Message: "internal error"}
	}
	rt.env.Failure(w, e)
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

var _ graphql.Transport = Transport{}

// empty reports whether a result value holds nothing.
func empty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case bool:
		return !t
	case json.Number:
		return t == "0"
	case string:
		return t == ""
	case []any:
		return len(t) == 0
	case map[string]any:
		return len(t) == 0
	}
	return false
}
