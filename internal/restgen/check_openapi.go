package restgen

import (
	"context"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

// LoadOpenAPI reads an OpenAPI document and validates it with kin-openapi
// (the document's examples included).
func LoadOpenAPI(path string) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc, nil
}
