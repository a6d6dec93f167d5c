// Package restgen compiles the legacy REST declarations (rest/<api>/api.yaml
// and the GraphQL operations they name) into chi routes (zz_generated.go) and
// an OpenAPI 3 document (openapi.json). It checks every operation against the
// GraphQL schema: a declaration whose operation does not validate, whose
// variables or response paths do not exist, or whose path parameter feeds no
// variable fails generation.
package restgen

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"gopkg.in/yaml.v3"

	"github.com/meridianplane/meridian/internal/rest"
)

// Spec is one API's declaration file: its identity, its conventions (answer
// shapes, error mapping, authentication, hook, trailing slash; see
// rest.Conventions) and its endpoints.
type Spec struct {
	API         string `yaml:"api"`
	Title       string `yaml:"title"`
	Version     string `yaml:"version"`
	Description string `yaml:"description"`
	Package     string `yaml:"package"`
	// Prefix starts every endpoint's path ("/v1").
	Prefix           string `yaml:"prefix"`
	rest.Conventions `yaml:",inline"`
	Endpoints        []rest.Endpoint `yaml:"endpoints"`

	dir    string
	schema *ast.Schema
	docs   []*ast.QueryDocument
	// routes are every method and path the endpoints answer on.
	routes []rest.Route
}

// LoadSchema reads the GraphQL schema files.
func LoadSchema(glob string) (*ast.Schema, error) {
	files, err := filepath.Glob(glob)
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var srcs []*ast.Source
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, &ast.Source{Name: f, Input: string(b)})
	}
	s, gerr := gqlparser.LoadSchema(srcs...)
	if gerr != nil {
		return nil, gerr
	}
	return s, nil
}

// Load reads dir/api.yaml and the operations it names, and checks them
// against schema.
func Load(dir string, schema *ast.Schema) (*Spec, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "api.yaml"))
	if err != nil {
		return nil, err
	}
	var s Spec
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s/api.yaml: %w", dir, err)
	}
	s.dir = dir
	s.schema = schema
	if !strings.HasPrefix(s.Prefix, "/") || strings.HasSuffix(s.Prefix, "/") {
		return nil, fmt.Errorf("%s/api.yaml: prefix %q must start and not end with /", dir, s.Prefix)
	}
	if err := s.checkConventions(); err != nil {
		return nil, fmt.Errorf("%s/api.yaml: %w", dir, err)
	}
	names := map[string]bool{}
	for i := range s.Endpoints {
		ep := &s.Endpoints[i]
		if names[ep.Name] {
			return nil, fmt.Errorf("%s: endpoint %q declared twice", dir, ep.Name)
		}
		names[ep.Name] = true
		doc, err := check(dir, s.Prefix, ep, schema)
		if err == nil {
			err = s.checkAnswers(ep, doc)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: endpoint %s (%s %s): %w", dir, ep.Name, ep.Method, ep.Path, err)
		}
		s.docs = append(s.docs, doc)
	}
	if s.routes, err = rest.Routes(s.Endpoints, s.TrailingSlash); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return &s, nil
}
