// Command openapicheck validates OpenAPI documents with kin-openapi:
//
//	go run ./internal/restgen/cmd/openapicheck rest/otestack/openapi.json
//
// It prints one line per document and exits 1 when any is invalid.
package main

import (
	"fmt"
	"os"

	"github.com/meridianplane/meridian/internal/restgen"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: openapicheck openapi.json ...")
		os.Exit(2)
	}
	failed := false
	for _, path := range os.Args[1:] {
		doc, err := restgen.LoadOpenAPI(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "invalid:", err)
			failed = true
			continue
		}
		fmt.Printf("valid: %s (%s, OpenAPI %s, %d paths)\n", path, doc.Info.Title, doc.OpenAPI, doc.Paths.Len())
	}
	if failed {
		os.Exit(1)
	}
}
