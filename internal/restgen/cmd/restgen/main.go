// Command restgen compiles rest/<api>/api.yaml declarations; see package restgen.
//
//	go run ./internal/restgen/cmd/restgen -schema 'graph/*.graphql' rest/otestack ...
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/meridianplane/meridian/internal/restgen"
)

func main() {
	schemaGlob := flag.String("schema", "graph/*.graphql", "GraphQL schema files")
	flag.Parse()
	if err := run(*schemaGlob, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "restgen:", err)
		os.Exit(1)
	}
}

func run(glob string, dirs []string) error {
	schema, err := restgen.LoadSchema(glob)
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	for _, dir := range dirs {
		spec, err := restgen.Load(dir, schema)
		if err != nil {
			return err
		}
		if err := spec.Generate(); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
	}
	return nil
}
