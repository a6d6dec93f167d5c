package server_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/meridianplane/meridian/graph"
	"github.com/meridianplane/meridian/internal/config"
	"github.com/meridianplane/meridian/internal/paging"
	"github.com/meridianplane/meridian/internal/testenv"
)

// readmeOperations returns every operation of the README's graphql blocks,
// each as its own document.
func readmeOperations(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, m := range regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		src := m[1]
		doc, err := parser.ParseQuery(&ast.Source{Input: src})
		if err != nil {
			t.Fatalf("README block does not parse: %v\n%s", err, src)
		}
		for i, op := range doc.Operations {
			end := len(src)
			if i+1 < len(doc.Operations) {
				end = doc.Operations[i+1].Position.Start
			}
			ops = append(ops, src[op.Position.Start:end])
		}
	}
	if len(ops) < 8 {
		t.Fatalf("found %d operations in README.md's graphql blocks", len(ops))
	}
	return ops
}

// TestReadmeGraphQL: every GraphQL operation the README prints validates,
// keeps within the connection bounds and the default complexity limit, and
// the queries that need no data or variables run as printed.
func TestReadmeGraphQL(t *testing.T) {
	es := graph.NewSchema(nil, nil, nil, nil, nil)
	limit := config.Default().Complexity
	bounds := paging.Bounds{}
	cl := &paging.ComplexityLimit{Func: func(context.Context, *graphql.OperationContext) int { return limit }}
	if err := cl.Validate(es); err != nil {
		t.Fatal(err)
	}
	e := testenv.Start(t, sqlite())
	tok := e.AdminToken()
	ran := 0
	for _, src := range readmeOperations(t) {
		qd := mustParse(t, src)
		if errs := validator.Validate(es.Schema(), qd); errs != nil {
			t.Errorf("README operation does not validate: %v\n%s", errs, src)
			continue
		}
		oc := &graphql.OperationContext{Doc: qd, Operation: qd.Operations[0], Variables: map[string]any{}}
		ctx := graphql.WithOperationContext(context.Background(), oc)
		if err := bounds.MutateOperationContext(ctx, oc); err != nil {
			t.Errorf("README operation breaks the connection bounds: %v\n%s", err, src)
			continue
		}
		if err := cl.MutateOperationContext(ctx, oc); err != nil {
			t.Errorf("README operation is over the default complexity limit: %v\n%s", err, src)
			continue
		}
		if op := qd.Operations[0]; op.Operation == ast.Query && len(op.VariableDefinitions) == 0 {
			e.GQL(tok, src, nil).OK()
			ran++
		}
	}
	if ran < 2 {
		t.Fatalf("ran %d README queries", ran)
	}
}

func mustParse(t *testing.T, src string) *ast.QueryDocument {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: strings.TrimSpace(src)})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}
