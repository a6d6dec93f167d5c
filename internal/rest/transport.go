package rest

import (
	"context"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Transport is the gqlgen transport that runs REST routes' operations
// in-process. Add it to the GraphQL server before the HTTP transports; it
// only takes requests that Execute marked.
type Transport struct{}

type callKey struct{}

type call struct {
	params *graphql.RawParams
	resp   *graphql.Response
}

// Supports implements graphql.Transport.
func (Transport) Supports(r *http.Request) bool { return Trusted(r.Context()) }

// Do implements graphql.Transport: it runs the operation and keeps the
// response for Execute instead of writing it.
func (Transport) Do(_ http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	c := r.Context().Value(callKey{}).(*call)
	ctx := r.Context()
	start := graphql.Now()
	c.params.ReadTime = graphql.TraceTiming{Start: start, End: start}
	c.params.Headers = r.Header
	rc, errs := exec.CreateOperationContext(ctx, c.params)
	if errs != nil {
		c.resp = exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	c.resp = responses(ctx)
}

// Execute runs a GraphQL operation through gql (the /graphql server) with
// the request's context (and so its viewer).
func Execute(ctx context.Context, gql http.Handler, r *http.Request, query, opName string, vars map[string]any) *graphql.Response {
	c := &call{params: &graphql.RawParams{Query: query, OperationName: opName, Variables: vars}}
	req := r.Clone(context.WithValue(ctx, callKey{}, c))
	req.Body = http.NoBody
	gql.ServeHTTP(discard{}, req)
	if c.resp == nil { // the GraphQL server recovered from a panic
		err := gqlerror.Errorf("internal error")
		err.Extensions = map[string]any{"code": "INTERNAL"}
		return &graphql.Response{Errors: gqlerror.List{err}}
	}
	return c.resp
}

// Trusted reports whether ctx belongs to an operation a REST route runs.
// Those documents are declared in the repository and checked at generation
// (an allow-list), so they have their own limits instead of the ones meant
// for ad-hoc queries: a list's page of up to DefaultMaxPageSize rows, and a
// complexity budget of ComplexityLimit.
func Trusted(ctx context.Context) bool {
	_, ok := ctx.Value(callKey{}).(*call)
	return ok
}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
