package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/auth"
	"github.com/meridianplane/meridian/internal/paging"
	"github.com/meridianplane/meridian/internal/rest"
	"github.com/meridianplane/meridian/internal/viewer"
)

// GraphQLOptions limit what one operation may ask for.
type GraphQLOptions struct {
	Complexity    int
	Depth         int
	Introspection bool
	MaxUpload     int64
}

// newGraphQL builds the one GraphQL server that /graphql and every REST route use.
func newGraphQL(schema graphql.ExecutableSchema, client *ent.Client, authn *auth.Service, o GraphQLOptions) *handler.Server {
	srv := handler.New(schema)
	srv.AddTransport(rest.Transport{}) // in-process REST calls; first, it only takes marked requests
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 15 * time.Second,
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			if viewer.FromContext(ctx) != nil { // authenticated by the upgrade request's headers
				return ctx, &p, nil
			}
			tok := strings.TrimSpace(p.Authorization())
			if tok == "" {
				tok = p.GetString("token")
			}
			if len(tok) > 7 && strings.EqualFold(tok[:7], "bearer ") {
				tok = strings.TrimSpace(tok[7:])
			}
			if tok == "" {
				return ctx, &p, nil // anonymous: subscriptions answer UNAUTHENTICATED
			}
			v, err := authn.Authenticate(ctx, tok)
			if err != nil {
				return ctx, nil, err
			}
			return viewer.NewContext(ctx, v), &p, nil
		},
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.AddTransport(transport.MultipartForm{MaxUploadSize: o.MaxUpload, MaxMemory: 32 << 20})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if o.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.Use(noIntrospection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	// Connections get a page size (paging.DefaultFirst) when the query names
	// none and may not ask for more than paging.MaxFirst rows; a declared
	// REST operation's list may ask for a page of up to rest.DefaultMaxPageSize.
	// Then the complexity limit: --complexity-limit for ad-hoc queries,
	// rest.ComplexityLimit for the declared operations.
	srv.Use(paging.Bounds{Max: func(ctx context.Context) int {
		if rest.Trusted(ctx) {
			return rest.DefaultMaxPageSize
		}
		return paging.MaxFirst
	}})
	srv.Use(&paging.ComplexityLimit{Func: func(ctx context.Context, _ *graphql.OperationContext) int {
		if rest.Trusted(ctx) {
			return rest.ComplexityLimit
		}
		return o.Complexity
	}})
	srv.Use(DepthLimit{Max: o.Depth})
	srv.Use(transactioner{entgql.Transactioner{TxOpener: client}})
	srv.SetErrorPresenter(presentError)
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		slog.ErrorContext(ctx, "graphql: panic", "panic", p)
		return apierr.New(apierr.Internal, "internal error")
	})
	return srv
}

// presentError is the GraphQL side of the one error mapping (apierr).
func presentError(ctx context.Context, err error) *gqlerror.Error {
	var ge *gqlerror.Error
	if errors.As(err, &ge) && ge.Err == nil {
		// Parse and validation errors keep gqlgen's codes; a variable's
		// error names the input field it is about.
		if len(ge.Path) >= 2 && ge.Path[0] == ast.PathName("variable") {
			if f, ok := ge.Path[len(ge.Path)-1].(ast.PathName); ok {
				if ge.Extensions == nil {
					ge.Extensions = map[string]any{}
				}
				ge.Extensions["field"] = string(f)
				ge.Message = fmt.Sprintf("%s: %s", ge.Path.String(), ge.Message)
			}
		}
		return ge
	}
	out := graphql.DefaultErrorPresenter(ctx, err)
	e := apierr.Classify(ctx, err)
	if e.Code == apierr.Internal {
		cause := err
		if e.Err != nil {
			cause = e.Err
		}
		slog.ErrorContext(ctx, "graphql: internal error", "path", out.Path.String(), "err", cause)
		e = &apierr.Error{Code: apierr.Internal, Message: "internal error"}
	}
	out.Message = e.Error()
	if out.Extensions == nil {
		out.Extensions = map[string]any{}
	}
	out.Extensions["code"] = string(e.Code)
	if e.Field != "" {
		out.Extensions["field"] = e.Field
	}
	return out
}

// DepthLimit refuses operations whose selections nest deeper than Max.
type DepthLimit struct{ Max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = DepthLimit{}

// ExtensionName implements graphql.HandlerExtension.
func (DepthLimit) ExtensionName() string { return "DepthLimit" }

// Validate implements graphql.HandlerExtension.
func (d DepthLimit) Validate(graphql.ExecutableSchema) error {
	if d.Max < 1 {
		return fmt.Errorf("depth limit must be positive, not %d", d.Max)
	}
	return nil
}

// MutateOperationContext implements graphql.OperationContextMutator.
func (d DepthLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || rest.Trusted(ctx) {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet, 0); depth > d.Max {
		err := gqlerror.Errorf("operation is nested %d levels deep; the limit is %d", depth, d.Max)
		err.Extensions = map[string]any{"code": "DEPTH_LIMIT_EXCEEDED"}
		return err
	}
	return nil
}

func selectionDepth(set ast.SelectionSet, seen int) int {
	if seen > 1000 {
		return seen
	}
	deepest := 0
	for _, s := range set {
		var d int
		switch s := s.(type) {
		case *ast.Field:
			if len(s.SelectionSet) > 0 {
				d = 1 + selectionDepth(s.SelectionSet, seen+1)
			} else {
				d = 1
			}
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, seen)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				d = selectionDepth(s.Definition.SelectionSet, seen)
			}
		}
		deepest = max(deepest, d)
	}
	return deepest
}

// transactioner is entgql's Transactioner for requests that have an
// operation: a request refused before parsing (malformed JSON) has none, and
// entgql's would panic looking for it.
type transactioner struct{ entgql.Transactioner }

func (t transactioner) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	return t.Transactioner.InterceptResponse(ctx, next)
}

// noIntrospection refuses __schema and __type queries with a clear error
// (gqlgen's own refusal surfaces as an unclassified error).
type noIntrospection struct{}

func (noIntrospection) ExtensionName() string                   { return "NoIntrospection" }
func (noIntrospection) Validate(graphql.ExecutableSchema) error { return nil }

func (noIntrospection) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, nil) {
		if f.Name == "__schema" || f.Name == "__type" {
			err := gqlerror.Errorf("introspection is disabled on this server")
			err.Extensions = map[string]any{"code": "INTROSPECTION_DISABLED"}
			return err
		}
	}
	return nil
}
