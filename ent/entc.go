//go:build ignore

// entc generates the ent ORM and graph/ent.graphql. Run through `make generate`
// from the repository root.
package main

import (
	"log"
	"strconv"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithConfigPath("gqlgen.yml"),
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("graph/ent.graphql"),
		entgql.WithWhereInputs(true),
		entgql.WithRelaySpec(true),
		entgql.WithSchemaHook(maxLengthDirectives),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Target:  "./ent",
		Package: "github.com/meridianplane/meridian/ent",
		Features: []gen.Feature{
			gen.FeaturePrivacy,
			gen.FeatureEntQL,
			gen.FeatureIntercept,
			gen.FeatureGlobalID,
			gen.FeatureLock,
			gen.FeatureUpsert,
			gen.FeatureModifier,
		},
	}, entc.Extensions(ex), entc.TemplateFiles("./ent/template/tenant_parent.tmpl"))
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}

// maxLengthDirectives states each string field's MaxLen on its GraphQL
// field as @maxLength(n: N): the REST declarations (restgen) read limits
// there, so that ent/schema states them once.
func maxLengthDirectives(g *gen.Graph, s *ast.Schema) error {
	s.Directives["maxLength"] = &ast.DirectiveDefinition{
		Name:        "maxLength",
		Description: "The most characters the field holds (the ent field's MaxLen).",
		Arguments:   ast.ArgumentDefinitionList{{Name: "n", Type: ast.NonNullNamedType("Int", nil)}},
		Locations:   []ast.DirectiveLocation{ast.LocationFieldDefinition},
	}
	camel := gen.Funcs["camel"].(func(string) string)
	for _, t := range g.Nodes {
		name := t.Name
		var ant entgql.Annotation
		if err := ant.Decode(t.Annotations[ant.Name()]); err == nil && ant.Type != "" {
			name = ant.Type // renamed in GraphQL (Node is ClusterNode)
		}
		def := s.Types[name]
		if def == nil {
			continue
		}
		for _, f := range t.Fields {
			fd := def.Fields.ForName(camel(f.Name))
			if !f.IsString() || f.Column().Size == 0 || fd == nil {
				continue
			}
			fd.Directives = append(fd.Directives, &ast.Directive{Name: "maxLength", Arguments: ast.ArgumentList{
				{Name: "n", Value: &ast.Value{Kind: ast.IntValue, Raw: strconv.FormatInt(f.Column().Size, 10)}},
			}})
		}
	}
	return nil
}
