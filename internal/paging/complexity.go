package paging

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// ComplexityLimit refuses an operation whose complexity (computed as
// gqlgen's complexity package does, from the schema's complexity functions)
// is over Func's limit, and tells the client which connection to bound: the
// error names the path of the most expensive connection and its page size,
// with extensions code COMPLEXITY_LIMIT_EXCEEDED, complexity, limit,
// connection (the path) and field ("first" or "last").
//
// It replaces gqlgen's extension.ComplexityLimit (and records the same
// statistics); add it after Bounds.
type ComplexityLimit struct {
	Func func(ctx context.Context, oc *graphql.OperationContext) int
	es   graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &ComplexityLimit{}

// ExtensionName implements graphql.HandlerExtension; the name is gqlgen's,
// so extension.GetComplexityStats reads the statistics.
func (*ComplexityLimit) ExtensionName() string { return "ComplexityLimit" }

// Validate implements graphql.HandlerExtension.
func (c *ComplexityLimit) Validate(es graphql.ExecutableSchema) error {
	if c.Func == nil {
		return errors.New("paging.ComplexityLimit needs Func")
	}
	c.es = es
	return nil
}

// MutateOperationContext implements graphql.OperationContextMutator.
func (c *ComplexityLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	cost := Cost(ctx, c.es, oc.Operation, oc.Variables)
	limit := c.Func(ctx, oc)
	oc.Stats.SetExtension("ComplexityLimit", &extension.ComplexityStats{Complexity: cost.Total, ComplexityLimit: limit})
	if cost.Total <= limit {
		return nil
	}
	ext := map[string]any{"code": Code, "complexity": cost.Total, "limit": limit}
	conn := cost.Heaviest()
	if conn == nil {
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d; select fewer fields", cost.Total, limit)
		err.Extensions = ext
		return err
	}
	ext["connection"], ext["field"] = conn.Path.String(), conn.Arg
	err := gqlerror.ErrorPosf(conn.Position,
		"operation has complexity %d, which exceeds the limit of %d; the most expensive connection is %s (%s: %d, complexity %d): add or lower its %s: argument",
		cost.Total, limit, conn.Path.String(), conn.Arg, conn.Size, conn.Cost, conn.Arg)
	err.Extensions = ext
	return err
}

// Costs is an operation's complexity and that of each connection in it.
type Costs struct {
	Total       int
	Connections []*ConnectionCost // the outermost ones
}

// ConnectionCost is the complexity of one connection field, its children
// included.
type ConnectionCost struct {
	Path     ast.Path
	Position *ast.Position
	Arg      string // "first" or "last"
	Size     int    // its value
	Cost     int
	Inner    []*ConnectionCost
}

// Heaviest returns the connection a client should bound: the most
// expensive one, or, when its page size is already 1, the most expensive
// connection inside it.
func (c *Costs) Heaviest() *ConnectionCost {
	best := heaviest(c.Connections)
	for best != nil && best.Size <= 1 {
		inner := heaviest(best.Inner)
		if inner == nil {
			break
		}
		best = inner
	}
	return best
}

func heaviest(cs []*ConnectionCost) *ConnectionCost {
	var best *ConnectionCost
	for _, c := range cs {
		if best == nil || c.Cost > best.Cost {
			best = c
		}
	}
	return best
}

// Cost computes an operation's complexity the way gqlgen's complexity
// package does, keeping the cost of each connection.
func Cost(ctx context.Context, es graphql.ExecutableSchema, op *ast.OperationDefinition, vars map[string]any) *Costs {
	w := walker{ctx: ctx, es: es, schema: es.Schema(), vars: vars}
	out := &Costs{}
	out.Total = w.selections(op.SelectionSet, nil, &out.Connections)
	return out
}

type walker struct {
	ctx    context.Context
	es     graphql.ExecutableSchema
	schema *ast.Schema
	vars   map[string]any
}

func (w walker) selections(set ast.SelectionSet, path ast.Path, conns *[]*ConnectionCost) int {
	total := 0
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			total = add(total, w.field(s, path, conns))
		case *ast.FragmentSpread:
			if s.Definition != nil {
				total = add(total, w.selections(s.Definition.SelectionSet, path, conns))
			}
		case *ast.InlineFragment:
			total = add(total, w.selections(s.SelectionSet, path, conns))
		}
	}
	return total
}

func (w walker) field(f *ast.Field, parent ast.Path, conns *[]*ConnectionCost) int {
	if f.Definition == nil || f.ObjectDefinition == nil {
		return 0
	}
	typ := w.schema.Types[f.Definition.Type.Name()]
	if typ == nil || typ.Name == "__Schema" {
		return 0
	}
	path := append(append(ast.Path{}, parent...), ast.PathName(f.Alias))
	var conn *ConnectionCost
	inner := conns
	if IsConnection(f.Definition) {
		conn = &ConnectionCost{Path: path, Position: f.Position}
		inner = &conn.Inner
	}
	child := 0
	switch typ.Kind {
	case ast.Object, ast.Interface, ast.Union:
		child = w.selections(f.SelectionSet, path, inner)
	}
	args := f.ArgumentMap(w.vars)
	cost := 0
	if f.ObjectDefinition.Kind == ast.Interface {
		for _, t := range w.schema.GetPossibleTypes(f.ObjectDefinition) {
			cost = max(cost, w.fieldCost(t.Name, f.Name, child, args))
		}
	} else {
		cost = w.fieldCost(f.ObjectDefinition.Name, f.Name, child, args)
	}
	if conn != nil {
		conn.Arg, conn.Size = "first", DefaultFirst
		if n, ok := toInt(args["first"]); ok {
			conn.Size = n
		} else if n, ok := toInt(args["last"]); ok {
			conn.Arg, conn.Size = "last", n
		}
		conn.Cost = cost
		*conns = append(*conns, conn)
	}
	return cost
}

func (w walker) fieldCost(typeName, field string, child int, args map[string]any) int {
	if c, ok := w.es.Complexity(w.ctx, typeName, field, child, args); ok && c >= 1 {
		return c
	}
	return add(1, child)
}

// add is a saturating addition that ignores negative operands (as gqlgen's).
func add(a, b int) int {
	a, b = max(a, 0), max(b, 0)
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// String describes a connection's cost, for logs and tests.
func (c *ConnectionCost) String() string {
	return fmt.Sprintf("%s(%s: %d) = %d", c.Path.String(), c.Arg, c.Size, c.Cost)
}
