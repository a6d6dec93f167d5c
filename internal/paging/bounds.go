package paging

import (
	"context"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Bounds is the gqlgen extension that puts a page size on every connection
// field. A connection asked for without first or last gets first:
// DefaultFirst written into the operation, so the resolver, entgql's eager
// loading of nested connections (CollectFields) and the complexity limit all
// see the same bound; first or last above Max(ctx) is refused with
// BAD_USER_INPUT naming the argument. The operation document is cached and
// shared, so the rewrite works on a copy.
//
// Add it before ComplexityLimit.
type Bounds struct {
	// Max is the largest first/last for the request (MaxFirst when nil).
	Max func(ctx context.Context) int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = Bounds{}

// ExtensionName implements graphql.HandlerExtension.
func (Bounds) ExtensionName() string { return "PageBounds" }

// Validate implements graphql.HandlerExtension.
func (Bounds) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (b Bounds) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Doc == nil {
		return nil
	}
	limit := MaxFirst
	if b.Max != nil {
		limit = b.Max(ctx)
	}
	rw := &rewriter{vars: oc.Variables, max: limit, doc: oc.Doc, frags: map[string]*ast.FragmentDefinition{}}
	op := *oc.Operation
	op.SelectionSet = rw.selections(oc.Operation.SelectionSet, nil)
	if rw.err != nil {
		return rw.err
	}
	if !rw.changed {
		return nil
	}
	doc := *oc.Doc
	doc.Operations = make(ast.OperationList, len(oc.Doc.Operations))
	for i, o := range oc.Doc.Operations {
		if o == oc.Operation {
			o = &op
		}
		doc.Operations[i] = o
	}
	doc.Fragments = make(ast.FragmentDefinitionList, len(oc.Doc.Fragments))
	for i, f := range oc.Doc.Fragments {
		if g := rw.frags[f.Name]; g != nil {
			f = g
		}
		doc.Fragments[i] = f
	}
	oc.Doc, oc.Operation = &doc, &op
	return nil
}

type rewriter struct {
	vars    map[string]any
	max     int
	doc     *ast.QueryDocument
	frags   map[string]*ast.FragmentDefinition
	changed bool
	err     *gqlerror.Error
}

// IsConnection reports whether a field is a Relay connection (it takes
// first, last, after and before).
func IsConnection(def *ast.FieldDefinition) bool {
	if def == nil {
		return false
	}
	a := def.Arguments
	return a.ForName("first") != nil && a.ForName("last") != nil && a.ForName("after") != nil && a.ForName("before") != nil
}

func (rw *rewriter) selections(set ast.SelectionSet, path ast.Path) ast.SelectionSet {
	if set == nil || rw.err != nil {
		return set
	}
	out := make(ast.SelectionSet, len(set))
	for i, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			out[i] = rw.field(s, path)
		case *ast.InlineFragment:
			c := *s
			c.SelectionSet = rw.selections(s.SelectionSet, path)
			out[i] = &c
		case *ast.FragmentSpread:
			c := *s
			c.Definition = rw.fragment(s.Name, s.Definition, path)
			out[i] = &c
		default:
			out[i] = s
		}
	}
	return out
}

func (rw *rewriter) fragment(name string, def *ast.FragmentDefinition, path ast.Path) *ast.FragmentDefinition {
	if def == nil {
		def = rw.doc.Fragments.ForName(name)
	}
	if def == nil {
		return nil
	}
	if f, ok := rw.frags[name]; ok {
		return f
	}
	c := *def
	rw.frags[name] = &c // before the walk: fragments cannot recurse, but be safe
	c.SelectionSet = rw.selections(def.SelectionSet, path)
	return &c
}

func (rw *rewriter) field(f *ast.Field, parent ast.Path) *ast.Field {
	c := *f
	path := append(append(ast.Path{}, parent...), ast.PathName(f.Alias))
	if IsConnection(f.Definition) {
		c.Arguments = rw.bound(f, path)
	}
	c.SelectionSet = rw.selections(f.SelectionSet, path)
	return &c
}

// bound checks first and last and writes the default page size when
// neither has a value.
func (rw *rewriter) bound(f *ast.Field, path ast.Path) ast.ArgumentList {
	given := false
	for _, name := range []string{"first", "last"} {
		arg := f.Arguments.ForName(name)
		if arg == nil {
			continue
		}
		v, err := arg.Value.Value(rw.vars)
		if err != nil || v == nil {
			continue
		}
		given = true
		n, ok := toInt(v)
		switch {
		case !ok:
			rw.fail(f, path, name, "must be an integer")
		case n < 0:
			rw.fail(f, path, name, "must be at least 0")
		case n > rw.max:
			rw.fail(f, path, name, "must be at most "+strconv.Itoa(rw.max)+" (got "+strconv.Itoa(n)+"); page with after/before")
		}
	}
	if given || rw.err != nil {
		return f.Arguments
	}
	rw.changed = true
	def := &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(DefaultFirst), Position: f.Position}
	if a := f.Definition.Arguments.ForName("first"); a != nil {
		def.ExpectedType = a.Type
	}
	args := make(ast.ArgumentList, 0, len(f.Arguments)+1)
	for _, a := range f.Arguments {
		if a.Name != "first" { // a variable that is null
			args = append(args, a)
		}
	}
	return append(args, &ast.Argument{Name: "first", Value: def, Position: f.Position})
}

func (rw *rewriter) fail(f *ast.Field, path ast.Path, arg, msg string) {
	if rw.err != nil {
		return
	}
	err := gqlerror.ErrorPosf(f.Position, "%s: %s: %s", path.String(), arg, msg)
	err.Path = path
	err.Extensions = map[string]any{"code": "BAD_USER_INPUT", "field": arg}
	rw.err = err
}
