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

// Spec is one API's declaration file.
type Spec struct {
	API         string `yaml:"api"`
	Title       string `yaml:"title"`
	Version     string `yaml:"version"`
	Description string `yaml:"description"`
	Package     string `yaml:"package"`
	// Prefix starts every endpoint's path ("/v1").
	Prefix    string          `yaml:"prefix"`
	Envelope  EnvelopeSpec    `yaml:"envelope"`
	Endpoints []rest.Endpoint `yaml:"endpoints"`

	dir    string
	schema *ast.Schema
	docs   []*ast.QueryDocument
}

// EnvelopeSpec documents the API's envelope for OpenAPI.
type EnvelopeSpec struct {
	// Fields every answer carries besides the declared response keys.
	Fields map[string]FieldDoc `yaml:"fields"`
	// Errors are the status codes every protected route may answer.
	Errors map[int]string `yaml:"errors"`
}

// FieldDoc is a documented envelope field.
type FieldDoc struct {
	Type        string `yaml:"type"`
	Description string `yaml:"description"`
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
	if err := keepOrder(raw, &s); err != nil {
		return nil, err
	}
	s.dir = dir
	s.schema = schema
	if !strings.HasPrefix(s.Prefix, "/") || strings.HasSuffix(s.Prefix, "/") {
		return nil, fmt.Errorf("%s/api.yaml: prefix %q must start and not end with /", dir, s.Prefix)
	}
	names := map[string]bool{}
	routes := map[string]bool{}
	for i := range s.Endpoints {
		ep := &s.Endpoints[i]
		if names[ep.Name] {
			return nil, fmt.Errorf("%s: endpoint %q declared twice", dir, ep.Name)
		}
		names[ep.Name] = true
		key := ep.Method + " " + ep.Path
		if routes[key] {
			return nil, fmt.Errorf("%s: route %s declared twice", dir, key)
		}
		routes[key] = true
		doc, err := check(dir, s.Prefix, ep, schema)
		if err != nil {
			return nil, fmt.Errorf("%s: endpoint %s (%s): %w", dir, ep.Name, key, err)
		}
		s.docs = append(s.docs, doc)
	}
	return &s, nil
}

// keepOrder records the declaration order of response keys, which yaml
// decoding into maps loses.
func keepOrder(raw []byte, s *Spec) error {
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return err
	}
	eps := findKey(root.Content[0], "endpoints")
	if eps == nil {
		return nil
	}
	for i, n := range eps.Content {
		if i >= len(s.Endpoints) {
			break
		}
		if resp := findKey(n, "response"); resp != nil {
			for j := 0; j < len(resp.Content); j += 2 {
				s.Endpoints[i].Order = append(s.Endpoints[i].Order, resp.Content[j].Value)
			}
		}
	}
	return nil
}

func findKey(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
