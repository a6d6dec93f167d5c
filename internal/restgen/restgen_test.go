package restgen_test

import (
	"encoding/json"
	"fmt"
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

const head = "api: t\npackage: t\nprefix: /v1\ntitle: T\nversion: \"1\"\nenvelope: {fields: {code: {type: integer}}}\nendpoints:\n"

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
		{"a limit stated twice", `
  - name: x
    method: GET
    path: /v1/x
    operation: op.graphql
    params:
      - {name: q, in: query, type: string, maxLength: 3, maxLengthOf: User.username, description: "unused"}`, clustersOp, "state the limit once"},
		{"a limit from a field without MaxLen", `
  - name: x
    method: GET
    path: /v1/x
    operation: op.graphql
    params:
      - {name: q, in: query, type: string, maxLengthOf: User.role, description: "unused"}`, clustersOp, "has no @maxLength"},
		{"a limit from an unknown field", `
  - name: x
    method: GET
    path: /v1/x
    operation: op.graphql
    params:
      - {name: q, in: query, type: string, maxLengthOf: User.nope, description: "unused"}`, clustersOp, "User has no field nope"},
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

// TestDocuments validates every API's committed openapi.json with
// kin-openapi and checks that it is what its declarations generate now.
func TestDocuments(t *testing.T) {
	files, err := filepath.Glob("../../rest/*/openapi.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no rest/*/openapi.json: %v", err)
	}
	schema, err := restgen.LoadSchema("../../graph/*.graphql")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, err := restgen.LoadOpenAPI(f); err != nil {
			t.Errorf("invalid: %v", err)
		}
		spec, err := restgen.Load(filepath.Dir(f), schema)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := spec.OpenAPI()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		want, err := restgen.MarshalOpenAPI(doc)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(f); string(got) != string(want) {
			t.Errorf("%s is not what its api.yaml generates: run make generate", f)
		}
	}
}

// document generates the OpenAPI document of one declared endpoint.
func document(t *testing.T, endpoint, op string) (map[string]any, error) {
	t.Helper()
	s, err := restgen.LoadSchema("../../graph/*.graphql")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "api.yaml"), []byte(head+endpoint), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "op.graphql"), []byte(op), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, err := restgen.Load(dir, s)
	if err != nil {
		return nil, err
	}
	doc, err := spec.OpenAPI()
	if err != nil {
		return nil, err
	}
	b, err := restgen.MarshalOpenAPI(doc)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m, nil
}

const deploysOp = `query D($first: Int) { deployments(first: $first) { edges { node { status } } } }`

// TestLiteralTypes: consts and mapped values are typed by their JSON type.
func TestLiteralTypes(t *testing.T) {
	m, err := document(t, `
  - name: x
    method: GET
    path: /v1/x
    operation: op.graphql
    response:
      none: {const: []}
      ratio: {const: 1.5}
      editable: {from: deployments.edges.0.node.status, map: {running: true, failed: true, pending: false}}
      share: {from: deployments.edges.0.node.status, map: {running: 1, failed: 0.5}}
`, deploysOp)
	if err != nil {
		t.Fatal(err)
	}
	props := m["paths"].(map[string]any)["/v1/x"].(map[string]any)["get"].(map[string]any)["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)["properties"].(map[string]any)
	want := map[string]string{
		"none":     `{"enum":[[]],"items":{},"type":"array"}`,
		"ratio":    `{"enum":[1.5],"type":"number"}`,
		"editable": `{"enum":[true,false],"type":"boolean"}`,
		"share":    `{"enum":[0.5,1],"type":"number"}`,
	}
	for k, w := range want {
		if got, _ := json.Marshal(props[k]); string(got) != w {
			t.Errorf("%s: got %s, want %s", k, got, w)
		}
	}
	_, err = document(t, `
  - name: x
    method: GET
    path: /v1/x
    operation: op.graphql
    response:
      mixed: {from: deployments.edges.0.node.status, map: {running: true, failed: "no"}}
`, deploysOp)
	if err == nil || !strings.Contains(err.Error(), "values mix string and boolean") {
		t.Fatalf("a map mixing types: %v", err)
	}
}

// TestExamples: a parameter's example goes into the request body's
// example; an endpoint's example answer must fit the response schema.
func TestExamples(t *testing.T) {
	ep := `
  - name: x
    method: POST
    path: /v1/x
    operation: op.graphql
    params:
      - {name: label, in: body, type: string, required: true, maxLengthOf: ClusterLabel.name, var: input.label, example: label1}
      - {name: cluster, in: body, type: array, items: string, required: true, var: input.clusterNames, example: [GuangZhou]}
    response: {}
    example: %s
`
	op := `mutation L($input: ClusterLabelInput!) { addClusterLabel(input: $input) { id } }`
	m, err := document(t, fmt.Sprintf(ep, `{code: 200, message: success}`), op)
	if err != nil {
		t.Fatal(err)
	}
	post := m["paths"].(map[string]any)["/v1/x"].(map[string]any)["post"].(map[string]any)
	body := post["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
	if got, _ := json.Marshal(body["example"]); string(got) != `{"cluster":["GuangZhou"],"label":"label1"}` {
		t.Errorf("request example %s", got)
	}
	// maxLengthOf reads the ent field's MaxLen (ClusterLabel.name: 63).
	if got, _ := json.Marshal(body["properties"].(map[string]any)["label"]); string(got) != `{"example":"label1","maxLength":63,"type":"string"}` {
		t.Errorf("label schema %s", got)
	}
	if _, err := document(t, fmt.Sprintf(ep, `{code: "200", message: success}`), op); err == nil || !strings.Contains(err.Error(), "example") {
		t.Errorf("an example answer of the wrong type: %v", err)
	}
	bad := strings.Replace(fmt.Sprintf(ep, `{code: 200, message: success}`), "example: label1", "example: 7", 1)
	if _, err := document(t, bad, op); err == nil {
		t.Error("a parameter example of the wrong type generated")
	}
}
