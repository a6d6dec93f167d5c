package paging

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

var testSchema = gqlparser.MustLoadSchema(&ast.Source{Input: `
scalar Cursor
type Query { things(after: Cursor, first: Int, before: Cursor, last: Int): ThingConnection! }
type ThingConnection { totalCount: Int! edges: [ThingEdge] }
type ThingEdge { node: Thing }
type Thing { name: String! parts(after: Cursor, first: Int, before: Cursor, last: Int): ThingConnection! }
`})

func firstArg(f *ast.Field) string {
	if a := f.Arguments.ForName("first"); a != nil {
		return a.Value.String()
	}
	return ""
}

// The cached document is shared between requests: Bounds rewrites a copy.
func TestBoundsLeavesTheCachedDocumentAlone(t *testing.T) {
	doc := gqlparser.MustLoadQuery(testSchema, `query($n: Int) { things(first: $n) { ...F } } fragment F on ThingConnection { edges { node { parts { totalCount } } } }`)
	oc := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0], Variables: map[string]any{}}
	if err := (Bounds{}).MutateOperationContext(context.Background(), oc); err != nil {
		t.Fatal(err)
	}
	orig := doc.Operations[0].SelectionSet[0].(*ast.Field)
	if got := firstArg(orig); got != "$n" {
		t.Fatalf("the cached document changed: first = %q", got)
	}
	if doc.Fragments[0].SelectionSet[0].(*ast.Field).SelectionSet[0].(*ast.Field).SelectionSet[0].(*ast.Field).Arguments.ForName("first") != nil {
		t.Fatalf("the cached fragment changed")
	}
	things := oc.Operation.SelectionSet[0].(*ast.Field)
	if got := firstArg(things); got != "50" {
		t.Fatalf("things: first = %q, want the default", got)
	}
	// The spread and the document's fragment list both lead to the bounded copy.
	spread := things.SelectionSet[0].(*ast.FragmentSpread)
	for _, frag := range []*ast.FragmentDefinition{spread.Definition, oc.Doc.Fragments.ForName("F")} {
		parts := frag.SelectionSet[0].(*ast.Field).SelectionSet[0].(*ast.Field).SelectionSet[0].(*ast.Field)
		if got := firstArg(parts); got != "50" {
			t.Fatalf("parts in the fragment: first = %q", got)
		}
	}
	if oc.Doc.Operations.ForName("") != oc.Operation {
		t.Fatalf("the document's operation is not the rewritten one")
	}
}

func TestBoundsRefuses(t *testing.T) {
	for _, c := range []struct {
		query string
		vars  map[string]any
		max   int
		ok    bool
	}{
		{`{ things(first: 100) { totalCount } }`, nil, 100, true},
		{`{ things(first: 101) { totalCount } }`, nil, 100, false},
		{`{ things(first: 1000) { totalCount } }`, nil, 1000, true}, // a declared REST operation's page
		{`query($n: Int) { things(last: $n) { totalCount } }`, map[string]any{"n": int64(101)}, 100, false},
		{`{ things(first: 1) { edges { node { parts(first: 101) { totalCount } } } } }`, nil, 100, false},
	} {
		doc := gqlparser.MustLoadQuery(testSchema, c.query)
		oc := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0], Variables: c.vars}
		err := Bounds{Max: func(context.Context) int { return c.max }}.MutateOperationContext(context.Background(), oc)
		if (err == nil) != c.ok {
			t.Errorf("%s (max %d): %v", c.query, c.max, err)
		}
	}
}
