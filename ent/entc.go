//go:build ignore

// entc generates the ent ORM and graph/ent.graphql. Run through `make generate`
// from the repository root.
package main

import (
	"log"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithConfigPath("gqlgen.yml"),
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("graph/ent.graphql"),
		entgql.WithWhereInputs(true),
		entgql.WithRelaySpec(true),
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
