package paging

import (
	"context"
	"sync/atomic"

	"entgo.io/ent"
	"github.com/99designs/gqlgen/graphql"

	"github.com/meridianplane/meridian/ent/intercept"
)

// A REST list asks for page p of size n as a connection's first n rows
// after skipping (p-1)*n. Connections page by cursor (entgql's Paginate),
// so the skip cannot be a GraphQL argument without touching every resolver;
// instead the REST layer puts the window in the request's context
// (WithOffset) and one ent interceptor (Interceptor, registered on the
// client) adds OFFSET to exactly one query: the page query of the connection
// field at that path, recognised by its LIMIT of first+1 (entgql fetches one
// extra row to learn whether a next page exists). totalCount is a separate
// COUNT query, which the interceptor leaves alone, so it stays the number of
// every visible row; nested eager loads run after the offset is spent.

type offsetKey struct{}

type window struct {
	path   string // the connection field's response path ("users")
	first  int
	offset int
	used   atomic.Bool
}

// WithOffset makes the connection field at path (its response path, e.g.
// "deployments") skip offset rows; first is the page size the operation
// passes to that connection.
func WithOffset(ctx context.Context, path string, first, offset int) context.Context {
	if offset <= 0 {
		return ctx
	}
	return context.WithValue(ctx, offsetKey{}, &window{path: path, first: first, offset: offset})
}

// Interceptor applies WithOffset windows; register it once on the ent
// client (client.Intercept).
func Interceptor() ent.Interceptor {
	return intercept.Func(func(ctx context.Context, q intercept.Query) error {
		w, _ := ctx.Value(offsetKey{}).(*window)
		if w == nil {
			return nil
		}
		qc := ent.QueryFromContext(ctx)
		if qc == nil || qc.Op != ent.OpQueryAll || qc.Limit == nil || *qc.Limit != w.first+1 {
			return nil
		}
		fc := graphql.GetFieldContext(ctx)
		if fc == nil || fc.Path().String() != w.path || !w.used.CompareAndSwap(false, true) {
			return nil
		}
		q.Offset(w.offset)
		return nil
	})
}
