package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/auth"
)

// answers is how one endpoint answers: success in its shape and status,
// errors in its error shape with the API's (or its own) statuses.
type answers struct {
	ep         *Endpoint
	success    *Shape // nil: no body
	status     int
	message    string
	failure    *Shape
	errStatus  map[apierr.Code]int
	basicRealm string // set when the API takes HTTP Basic: 401s ask for it
}

type route struct {
	ep   *Endpoint
	out  *answers
	gql  http.Handler
	hook Hook
}

func (rt *route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !rt.ep.Public {
		if _, err := auth.Require(ctx); err != nil {
			rt.out.fail(w, r, err)
			return
		}
	}
	defer func() {
		if r.MultipartForm != nil {
			_ = r.MultipartForm.RemoveAll()
		}
	}()
	call, page, err := rt.bind(r)
	if err != nil {
		rt.out.fail(w, r, err)
		return
	}
	if rt.hook != nil {
		if err := rt.hook(ctx, call); err != nil {
			rt.out.fail(w, r, err)
			return
		}
	}
	if page != nil {
		ctx = page.apply(ctx, call.Vars, rt.ep.Page)
	}
	resp := Execute(ctx, rt.gql, r, rt.ep.Operation, rt.ep.OperationName, call.Vars)
	if len(resp.Errors) > 0 || resp.Data == nil {
		rt.out.fail(w, r, rt.graphError(resp.Errors))
		return
	}
	dec := json.NewDecoder(bytes.NewReader(resp.Data))
	dec.UseNumber()
	var data any
	if err := dec.Decode(&data); err != nil {
		rt.out.fail(w, r, err)
		return
	}
	if rt.ep.Found != "" && empty(lookup(data, rt.ep.Found)) {
		rt.out.fail(w, r, apierr.New(apierr.NotFound, "not found"))
		return
	}
	var body any
	if rt.ep.Response != nil {
		if body, err = rt.ep.Response.apply(data); err != nil {
			rt.out.fail(w, r, err)
			return
		}
	}
	rt.out.success.write(w, &answer{response: body, status: rt.out.status, message: rt.out.message, url: r.URL.Path})
}

// fail answers err in the error shape, with the status its code maps to.
func (a *answers) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := apierr.Classify(r.Context(), err)
	if _, known := a.errStatus[e.Code]; !known || e.Code == apierr.Internal {
		cause := err
		if e.Err != nil {
			cause = e.Err
		}
		slog.ErrorContext(r.Context(), "rest: internal error", "route", a.ep.Name, "code", e.Code, "err", cause)
		e = &apierr.Error{Code: apierr.Internal, Message: "internal error"}
	}
	status := a.errStatus[e.Code]
	if status == http.StatusUnauthorized && a.basicRealm != "" {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q", a.basicRealm))
	}
	a.failure.write(w, &answer{status: status, message: e.Error(), code: e.Code, field: e.Field, url: r.URL.Path})
}

// bind validates every parameter and builds the operation's variables.
func (rt *route) bind(r *http.Request) (*Call, *window, error) {
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
	params := map[string]any{}
	for _, path := range SortedKeys(rt.ep.Set) {
		setPath(vars, path, rt.ep.Set[path])
	}
	for i := range rt.ep.Params {
		p := &rt.ep.Params[i]
		v, ok, err := p.bind(r, body)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			params[p.Name] = v
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
	return &Call{Request: r, Endpoint: rt.ep, Params: params, Vars: vars}, w, nil
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
