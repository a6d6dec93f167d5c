package restgen_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meridianplane/meridian/internal/restgen"
)

// load writes an api.yaml and operations into a temporary directory and
// loads it against the real graph schema.
func load(t *testing.T, yaml string, ops map[string]string) error {
	t.Helper()
	s, err := restgen.LoadSchema("../../graph/*.graphql")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "api.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, text := range ops {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec, err := restgen.Load(dir, s)
	if err != nil {
		return err
	}
	return spec.Generate()
}

const head = "api: t\npackage: t\nprefix: /v1\ntitle: T\nenvelope: {fields: {code: {type: integer}}}\nendpoints:\n"

const clustersOp = `query Clusters($first: Int) { clusters(first: $first) { totalCount edges { node { id name } } } }`

func TestGenerates(t *testing.T) {
	err := load(t, head+`
  - name: list
    method: GET
    path: /v1/c/{id}
    operation: op.graphql
    params:
      - {name: id, in: path, type: integer, required: true, var: id}
    response:
      data: {from: node.id, as: int}
`, map[string]string{"op.graphql": `query One($id: ID!) { node(id: $id) { id } }`})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRejectsBadDeclarations(t *testing.T) {
	cases := []struct {
		name, yaml, op, want string
	}{
		{"operation does not validate", `
  - {name: x, method: GET, path: /v1/x, operation: op.graphql}`, `query X { clusters { nope } }`, "does not validate"},
		{"unnamed operation", `
  - {name: x, method: GET, path: /v1/x, operation: op.graphql}`, `{ clusters { totalCount } }`, "must be named"},
		{"path parameter feeds no variable", `
  - name: x
    method: GET
    path: /v1/x/{id}
    operation: op.graphql
    params:
      - {name: id, in: path, type: integer, required: true}`, clustersOp, "feeds no variable"},
		{"undeclared path parameter", `
  - {name: x, method: GET, path: "/v1/x/{id}", operation: op.graphql}`, clustersOp, "not declared"},
		{"unknown variable", `
  - name: x
    method: GET
    path: /v1/x
    operation: op.graphql
    params:
      - {name: q, in: query, type: string, var: nope}`, clustersOp, "no variable $nope"},
		{"wrong parameter type", `
  - name: x
    method: GET
    path: /v1/x
    operation: op.graphql
    params:
      - {name: q, in: query, type: string, var: first}`, clustersOp, "cannot feed"},
		{"response path not selected", `
  - name: x
    method: GET
    path: /v1/x
    operation: op.graphql
    response:
      data: clusters.nothing`, clustersOp, "not selected"},
		{"required variable unfed", `
  - {name: x, method: GET, path: /v1/x, operation: op.graphql}`, `query One($id: ID!) { node(id: $id) { id } }`, "fed by no required parameter"},
		{"map value not in enum", `
  - name: x
    method: PUT
    path: /v1/x
    operation: op.graphql
    params:
      - {name: id, in: body, type: integer, required: true, var: id}
      - {name: s, in: body, type: integer, required: true, var: status, map: {"0": nope}}`, `mutation S($id: ID!, $status: UserStatus!) { setUserStatus(id: $id, status: $status) { id } }`, "not a value of UserStatus"},
		{"paging a non-connection", `
  - {name: x, method: GET, path: /v1/x, operation: op.graphql, page: {connection: me}}`, `query M($first: Int) { me { displayName } c: clusters(first: $first) { totalCount } }`, "not a connection"},
		{"unknown format", `
  - name: x
    method: GET
    path: /v1/x
    operation: op.graphql
    params:
      - {name: q, in: query, type: string, format: ipv4, description: "unused"}`, clustersOp, "unknown format"},
		{"enum of the wrong type", `
  - name: x
    method: GET
    path: /v1/x
    operation: op.graphql
    params:
      - {name: q, in: query, type: integer, enum: [a], description: "unused"}`, clustersOp, "is not a integer"},
		{"path outside the prefix", `
  - {name: x, method: GET, path: /v2/x, operation: op.graphql}`, clustersOp, "API prefix"},
		{"unknown field in yaml", `
  - {name: x, method: GET, path: /v1/x, operation: op.graphql, bogus: 1}`, clustersOp, "bogus"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := load(t, head+c.yaml, map[string]string{"op.graphql": c.op})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
		})
	}
}
