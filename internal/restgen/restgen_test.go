package restgen_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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

// conventions are the API-level declarations of most test APIs.
const conventions = "errors: {shape: empty}\nauth: [{type: header, name: Authorization}]\n"

const head = "api: t\npackage: t\nprefix: /v1\ntitle: T\nversion: \"1\"\n" + conventions + "endpoints:\n"

// envelopeHead declares an API answering in an OTE-Stack-like envelope.
const envelopeHead = "api: t\npackage: t\nprefix: /v1\ntitle: T\nversion: \"1\"\n" +
	"shapes: {env: {code: $status, message: success, ...: $response}}\nshape: env\n" + conventions + "endpoints:\n"

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

// TestRejectsBadConventions: each wrong API-level or answer declaration
// fails generation, naming what is wrong.
func TestRejectsBadConventions(t *testing.T) {
	const ep = `
  - {name: x, method: GET, path: /v1/x, operation: op.graphql, response: {total: clusters.totalCount}}`
	const shapes = "shapes: {env: {code: $status, ...: $response}, err: {message: $message}, msg: {msg: $message, data: $response}}\n"
	cases := []struct {
		name, conventions, endpoints, want string
	}{
		{"no error shape", "auth: [{type: basic}]\n", ep, "errors.shape"},
		{"unknown default shape", "shape: nope\n" + conventions, ep, `no shape "nope"`},
		{"unknown endpoint shape", conventions, ep[:len(ep)-1] + ", shape: nope}", `no shape "nope"`},
		{"redefined built-in", "shapes: {bare: {a: 1}}\n" + conventions, ep, "built-in shape name"},
		{"unknown variable", "shapes: {s: {a: $nope}}\nshape: s\n" + conventions, ep, "$nope is not one of"},
		{"spread in an error shape", shapes + "errors: {shape: env}\nauth: [{type: basic}]\n", ep, "spreads only $response, in a success shape"},
		{"response in an error shape", "shapes: {e: {data: $response}}\nerrors: {shape: e}\nauth: [{type: basic}]\n", ep, "$response is not one of $status, $message, $code, $field, $url"},
		{"spread of something else", "shapes: {s: {...: $message}}\nshape: s\n" + conventions, ep, "spreads only $response"},
		{"spread of a list", shapes + "shape: env\n" + conventions, `
  - {name: x, method: GET, path: /v1/x, operation: op.graphql, response: {each: clusters.edges, item: {n: node.name}}}`, "must be an object of keys"},
		{"spread key clash", shapes + "shape: env\n" + conventions, `
  - {name: x, method: GET, path: /v1/x, operation: op.graphql, response: {code: clusters.totalCount}}`, "key code is a field of shape env"},
		{"message missing", shapes + "shape: msg\n" + conventions, ep, "answers $message; declare it"},
		{"message unused", conventions, ep[:len(ep)-1] + ", message: hi}", "does not answer $message"},
		{"response unused", "shape: empty\n" + conventions, ep, "does not answer $response"},
		{"unknown error code", "errors: {shape: empty, status: {TEAPOT: 418}}\nauth: [{type: basic}]\n", ep, "unknown error code TEAPOT"},
		{"success status as error", "errors: {shape: empty, status: {NOT_FOUND: 200}}\nauth: [{type: basic}]\n", ep, "not an HTTP error status"},
		{"endpoint error status", conventions, ep[:len(ep)-1] + ", errorStatus: {NOT_FOUND: 99}}", "errorStatus: NOT_FOUND"},
		{"unknown auth type", "errors: {shape: empty}\nauth: [{type: cookie}]\n", ep, "header, bearer or basic"},
		{"header scheme without header", "errors: {shape: empty}\nauth: [{type: header}]\n", ep, "names its header"},
		{"scheme twice", "errors: {shape: empty}\nauth: [{type: basic}, {type: basic}]\n", ep, "declared twice"},
		{"no auth for a protected endpoint", "errors: {shape: empty}\n", ep, "declares no auth"},
		{"hook not a function name", "hook: tenant-in-path\n" + conventions, ep, "not a Go function name"},
		{"unknown trailing slash option", "trailingSlash: always\n" + conventions, ep, "trailingSlash"},
		{"header parameter of an object", conventions, `
  - name: x
    method: GET
    path: /v1/x
    operation: op.graphql
    params:
      - {name: X-Filter, in: header, type: object, description: unused}`, "a header parameter"},
		{"client address as an integer", conventions, `
  - name: x
    method: GET
    path: /v1/x
    operation: op.graphql
    params:
      - {name: addr, in: client, type: integer, description: unused}`, "the client's address is a string"},
		{"unknown parameter source", conventions, `
  - name: x
    method: GET
    path: /v1/x
    operation: op.graphql
    params:
      - {name: addr, in: cookie, type: string, description: unused}`, "in must be path, query, header, body, form or client"},
		{"alias outside the prefix", conventions, ep[:len(ep)-1] + ", aliases: [/v2/x]}", "must start with the API prefix"},
		{"alias with other parameters", conventions, `
  - name: x
    method: GET
    path: /v1/x/{id}
    aliases: ["/v1/y/{key}"]
    operation: op.graphql
    params:
      - {name: id, in: path, type: string, required: true, var: id}`, "must have the path parameters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			yaml := "api: t\npackage: t\nprefix: /v1\ntitle: T\nversion: \"1\"\n" + c.conventions + "endpoints:\n" + c.endpoints
			err := load(t, yaml, map[string]string{"op.graphql": `query C($id: ID) { clusters(where: {id: $id}) { totalCount edges { node { name } } } }`})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
		})
	}
}

// TestRejectsDuplicateRoutes: two declarations that take the same requests
// fail generation, whichever way they are spelled.
func TestRejectsDuplicateRoutes(t *testing.T) {
	const op = `query C($id: ID) { clusters(where: {id: $id}) { totalCount } }`
	endpoint := func(name, method, path string, extra string) string {
		param := ""
		if m := regexp.MustCompile(`\{(\w+)\}`).FindStringSubmatch(path); m != nil {
			param = "\n    params:\n      - {name: " + m[1] + ", in: path, type: string, required: true, var: id}"
		}
		return "\n  - name: " + name + "\n    method: " + method + "\n    path: " + path + "\n    operation: op.graphql" + extra + param
	}
	cases := []struct {
		name, trailing, endpoints, want string
	}{
		{"the same path twice", "", endpoint("a", "GET", "/v1/a", "") + endpoint("b", "GET", "/v1/a", ""), "GET /v1/a (endpoint b) takes the same requests as GET /v1/a (endpoint a)"},
		{"parameters of other names", "", endpoint("a", "GET", "/v1/a/{x}", "") + endpoint("b", "GET", "/v1/a/{y}", ""), "GET /v1/a/{y} (endpoint b) takes the same requests as GET /v1/a/{x}"},
		{"an alias on another's path", "", endpoint("a", "GET", "/v1/a", "\n    aliases: [/v1/b]") + endpoint("b", "GET", "/v1/b", ""), "GET /v1/b (endpoint b) takes the same requests as GET /v1/b (endpoint a)"},
		{"an alias of its own path", "", endpoint("a", "DELETE", "/v1/a", "\n    aliases: [/v1/a]"), "DELETE /v1/a (endpoint a) takes the same requests as DELETE /v1/a (endpoint a)"},
		// OpenAPI knows one path template, whatever the method.
		{"parameters of other names on other methods", "", endpoint("a", "GET", "/v1/a/{x}", "") + endpoint("b", "DELETE", "/v1/a/{y}", ""), `conflicting paths "/v1/a/{y}" and "/v1/a/{x}"`},
		{"trailing-slash variants", "trailingSlash: optional\n", endpoint("a", "GET", "/v1/a/", "") + endpoint("b", "GET", "/v1/a", ""), "GET /v1/a (endpoint b) takes the same requests as GET /v1/a/ (endpoint a)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			yaml := "api: t\npackage: t\nprefix: /v1\ntitle: T\nversion: \"1\"\n" + c.trailing + conventions + "endpoints:" + c.endpoints + "\n"
			err := load(t, yaml, map[string]string{"op.graphql": op})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
		})
	}
	// Without the option the slash makes another path; other methods on
	// one path are not duplicates either.
	yaml := "api: t\npackage: t\nprefix: /v1\ntitle: T\nversion: \"1\"\n" + conventions + "endpoints:" +
		endpoint("a", "GET", "/v1/a/", "") + endpoint("b", "GET", "/v1/a", "") + endpoint("c", "PUT", "/v1/a", "") +
		endpoint("d", "GET", "/v1/a/{x}", "") + endpoint("e", "DELETE", "/v1/a/{x}", "") + endpoint("f", "GET", "/v1/a/static", "") + "\n"
	if err := load(t, yaml, map[string]string{"op.graphql": op}); err != nil {
		t.Fatal(err)
	}
}

// generateTestdata generates a copy of testdata/<name> and returns its
// generated Go source and OpenAPI document.
func generateTestdata(t *testing.T, name string) (string, map[string]any) {
	t.Helper()
	schema, err := restgen.LoadSchema("../../graph/*.graphql")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", name))); err != nil {
		t.Fatal(err)
	}
	spec, err := restgen.Load(dir, schema)
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.Generate(); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(dir, "zz_generated.go"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return string(src), doc
}

// at follows slash-separated keys through a decoded JSON document.
func at(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// TestAPPOShapedDeclarations: the access_token header, a hook, bare,
// {"response"} and {"data", "retCode", "message", "params"} answers, an
// endpoint's own error shape, a header parameter, a public endpoint.
func TestAPPOShapedDeclarations(t *testing.T) {
	src, doc := generateTestdata(t, "appo")
	for _, want := range []string{`Hook: tenantInPath}`, `Name:\s+"app_instance_id",\s+In:\s+"header"`} {
		if !regexp.MustCompile(want).MatchString(src) {
			t.Errorf("generated code lacks %s", want)
		}
	}
	if at(doc, "components", "securitySchemes", "access_token", "in") != "header" ||
		at(doc, "components", "securitySchemes", "access_token", "name") != "access_token" {
		t.Errorf("security schemes: %v", at(doc, "components", "securitySchemes"))
	}
	if sec, ok := at(doc, "paths", "/appo/v1/health", "get", "security").([]any); !ok || len(sec) != 0 {
		t.Errorf("a public operation has security %v, want []", sec)
	}
	if c := at(doc, "paths", "/appo/v1/health", "get", "responses", "200", "content"); c != nil {
		t.Errorf("the empty shape has content %v", c)
	}
	list := at(doc, "paths", "/appo/v1/tenants/{tenant_id}/app_instance_infos", "get", "responses", "200", "content", "application/json", "schema")
	if at(list, "type") != "array" || at(list, "items", "properties", "appName", "type") != "string" {
		t.Errorf("bare list schema: %v", list)
	}
	resp := at(doc, "paths", "/appo/v1/tenants/{tenant_id}/app_instances/{app_instance_id}", "get", "responses", "200", "content", "application/json", "schema")
	if at(resp, "properties", "response", "properties", "appInstanceId", "type") != "string" {
		t.Errorf(`{"response"} schema: %v`, resp)
	}
	vim := at(doc, "paths", "/appo/v1/tenants/{tenant_id}/hosts/{host_ip}/flavors", "get", "responses")
	if at(vim, "200", "content", "application/json", "schema", "properties", "retCode", "enum") == nil ||
		at(vim, "200", "content", "application/json", "schema", "properties", "data", "type") != "array" {
		t.Errorf("VIM schema: %v", at(vim, "200"))
	}
	if at(vim, "401", "content", "application/json", "schema", "properties", "retCode", "type") != "integer" {
		t.Errorf("the endpoint's own error shape: %v", at(vim, "401"))
	}
	// The router answers 405 in the API's error shape, not the endpoint's.
	if at(vim, "405", "content", "application/json", "schema", "$ref") != "#/components/schemas/Error" ||
		at(vim, "405", "headers", "Allow") == nil {
		t.Errorf("405: %v", at(vim, "405"))
	}
	params, _ := at(doc, "paths", "/appo/v1/tenants/{tenant_id}/app_instances", "get", "parameters").([]any)
	found := false
	for _, p := range params {
		found = found || (at(p, "in") == "header" && at(p, "name") == "app_instance_id")
	}
	if !found {
		t.Errorf("header parameter missing: %v", params)
	}
}

// TestLAINShapedDeclarations: {"<key>", "msg", "url"} answers, the
// access-token header, aliases.
func TestLAINShapedDeclarations(t *testing.T) {
	src, doc := generateTestdata(t, "lain")
	if !strings.Contains(src, `TrailingSlash: "optional"`) {
		t.Error("generated code lacks the trailing-slash option")
	}
	get := at(doc, "paths", "/api/v1/repos/{appName}/", "get")
	alias := at(doc, "paths", "/api/v1/apps/{appName}/", "get")
	if get == nil || alias == nil || at(alias, "operationId") != "getRepo_alias1" || at(alias, "summary") != at(get, "summary") {
		t.Errorf("alias: %v", alias)
	}
	s := at(get, "responses", "200", "content", "application/json", "schema")
	if at(s, "properties", "msg", "enum") == nil || at(s, "properties", "url", "type") != "string" || at(s, "properties", "app", "type") != "object" {
		t.Errorf("LAIN shape: %v", s)
	}
	if at(doc, "components", "securitySchemes", "access-token", "name") != "access-token" {
		t.Errorf("security schemes: %v", at(doc, "components", "securitySchemes"))
	}
}

// TestCommissaireShapedDeclarations: bare objects and lists of scalars, the
// client's address, HTTP Basic and bearer tokens, errors without a body.
func TestCommissaireShapedDeclarations(t *testing.T) {
	src, doc := generateTestdata(t, "commissaire")
	if !regexp.MustCompile(`In:\s+"client"`).MatchString(src) {
		t.Error("generated code lacks the client parameter")
	}
	hosts := at(doc, "paths", "/api/v0/cluster/{NAME}/hosts", "get", "responses", "200", "content", "application/json", "schema")
	if at(hosts, "type") != "array" || at(hosts, "items", "type") != "string" {
		t.Errorf("list of addresses: %v", hosts)
	}
	self := at(doc, "paths", "/api/v0/host", "put")
	if self == nil || at(self, "parameters") != nil || !strings.Contains(at(self, "description").(string), "`address` is the caller's IP address") {
		t.Errorf("the client's address is no OpenAPI parameter: %v", self)
	}
	if at(self, "responses", "201") == nil {
		t.Errorf("status 201: %v", at(self, "responses"))
	}
	if at(doc, "components", "securitySchemes", "basic", "scheme") != "basic" || at(doc, "components", "securitySchemes", "bearer", "scheme") != "bearer" {
		t.Errorf("security schemes: %v", at(doc, "components", "securitySchemes"))
	}
	if sec, _ := at(doc, "security").([]any); len(sec) != 2 {
		t.Errorf("security: %v", at(doc, "security"))
	}
	if at(doc, "components", "schemas", "Error") != nil {
		t.Errorf("errors without a body have no schema: %v", at(doc, "components", "schemas", "Error"))
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

// document generates the OpenAPI document of one declared endpoint of an
// API answering in an envelope.
func document(t *testing.T, endpoint, op string) (map[string]any, error) {
	t.Helper()
	s, err := restgen.LoadSchema("../../graph/*.graphql")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "api.yaml"), []byte(envelopeHead+endpoint), 0o644); err != nil {
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
