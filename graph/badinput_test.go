package graph_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/meridianplane/meridian/internal/testenv"
)

// TestGraphQLBadInput: every kind of bad input gets a clear error naming the
// field, never INTERNAL, and leaves the database unchanged.
func TestGraphQLBadInput(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		e := testenv.Start(t, db)
		alice, _ := e.NewUser("alice", "normal")
		admin := e.AdminToken()
		cid := e.GQL(alice, `mutation { createCluster(input: {name: "c1"}) { id } }`, nil).OK().Str("createCluster.id")
		e.GQL(alice, `mutation($c: ID!) { createClusterNode(input: {clusterID: $c, name: "n1"}) { id } }`, map[string]any{"c": cid}).OK()
		bid := e.GQL(alice, `mutation { createBusiness(input: {name: "b"}) { id } }`, nil).OK().Str("createBusiness.id")
		long := strings.Repeat("x", 300)
		adminID := e.GQL(admin, `{ me { user { id } } }`, nil).OK().Str("me.user.id")
		cases := []struct {
			name, token, query string
			vars               map[string]any
			code, field        string // field: extensions.field, or text the message must hold
		}{
			{"missing required field", alice, `mutation { createCluster(input: {}) { id } }`, nil, "GRAPHQL_VALIDATION_FAILED", "name"},
			{"missing required variable field", alice, `mutation($i: CreateClusterInput!) { createCluster(input: $i) { id } }`, map[string]any{"i": map[string]any{}}, "GRAPHQL_VALIDATION_FAILED", "name"},
			{"wrong type", alice, `mutation { createCluster(input: {name: 5}) { id } }`, nil, "GRAPHQL_VALIDATION_FAILED", "String"},
			{"wrong variable type", alice, `mutation($i: CreateClusterInput!) { createCluster(input: $i) { id } }`, map[string]any{"i": map[string]any{"name": []int{1}}}, "GRAPHQL_VALIDATION_FAILED", "name"},
			{"too long", alice, `mutation($n: String!) { createCluster(input: {name: $n}) { id } }`, map[string]any{"n": long}, "BAD_USER_INPUT", "name"},
			{"invalid name", alice, `mutation { createCluster(input: {name: "no spaces allowed"}) { id } }`, nil, "BAD_USER_INPUT", "name"},
			{"duplicate name", alice, `mutation { createCluster(input: {name: "c1"}) { id } }`, nil, "CONFLICT", ""},
			{"negative memory", alice, `mutation($c: ID!) { createClusterNode(input: {clusterID: $c, name: "n2", memory: -1}) { id } }`, map[string]any{"c": cid}, "BAD_USER_INPUT", "memory"},
			{"unknown enum", admin, `mutation { setUserStatus(id: 1, status: bogus) { id } }`, nil, "GRAPHQL_VALIDATION_FAILED", "bogus"},
			{"unknown enum variable", admin, `mutation($s: UserStatus!) { setUserStatus(id: 1, status: $s) { id } }`, map[string]any{"s": "bogus"}, "GRAPHQL_VALIDATION_FAILED", "bogus"},
			{"unknown cluster", alice, `mutation { createClusterNode(input: {clusterID: 4294967999, name: "n3"}) { id } }`, nil, "NOT_FOUND", ""},
			{"business name too long", alice, `mutation($n: String!) { createBusiness(input: {name: $n}) { id } }`, map[string]any{"n": long}, "BAD_USER_INPUT", "name"},
			{"register short password", "", `mutation { register(input: {username: "newbie", password: "x"}) { id } }`, nil, "BAD_USER_INPUT", "password"},
			{"register long user name", "", `mutation($u: String!) { register(input: {username: $u, password: "password1"}) { id } }`, map[string]any{"u": long}, "BAD_USER_INPUT", "username"},
			{"register taken", "", `mutation { register(input: {username: "alice", password: "password1"}) { id } }`, nil, "CONFLICT", "username"},
			{"audit to pending", admin, `mutation($b: ID!) { auditBusiness(id: $b, input: {status: pending}) { id } }`, map[string]any{"b": bid}, "BAD_USER_INPUT", "status"},
			{"empty cluster list", alice, `mutation { addClusterLabel(input: {label: "x", clusterNames: []}) { id } }`, nil, "BAD_USER_INPUT", "clusterNames"},
			{"bad label", alice, `mutation { addClusterLabel(input: {label: "a b", clusterNames: ["c1"]}) { id } }`, nil, "BAD_USER_INPUT", "label"},
			{"no token", "", `mutation { createCluster(input: {name: "c9"}) { id } }`, nil, "UNAUTHENTICATED", ""},
			{"no token read", "", `{ clusters { totalCount } }`, nil, "UNAUTHENTICATED", ""},
			{"no token me", "", `{ me { displayName } }`, nil, "UNAUTHENTICATED", ""},
			{"bad token", "not.a.token", `mutation { createCluster(input: {name: "c9"}) { id } }`, nil, "UNAUTHENTICATED", ""},
			{"wrong old password", alice, `mutation { changePassword(input: {oldPassword: "nope", password: "password2"}) }`, nil, "BAD_USER_INPUT", "oldPassword"},
			{"normal user deletes a user", alice, `mutation($id: ID!) { deleteUser(id: $id) }`, map[string]any{"id": adminID}, "NOT_FOUND", ""},
		}
		before := e.Snapshot()
		for _, c := range cases {
			r := e.GQL(c.token, c.query, c.vars)
			if r.Code() != c.code {
				t.Errorf("%s: code %q, want %q (%+v)", c.name, r.Code(), c.code, r.Errors)
				continue
			}
			if c.field != "" && r.Field() != c.field && !strings.Contains(r.Errors[0].Message, c.field) {
				t.Errorf("%s: error %+v does not name %q", c.name, r.Errors[0], c.field)
			}
		}
		// Malformed JSON never reaches a resolver.
		for _, body := range []string{`{"query": `, `[]`, `{"query": 5}`} {
			res := e.Do("POST", "/graphql", body, "Authorization", "Bearer "+alice)
			if res.Status != http.StatusBadRequest && res.Status != http.StatusUnprocessableEntity {
				t.Errorf("malformed body %q: %d %s", body, res.Status, res.Raw)
			}
		}
		if after := e.Snapshot(); after != before {
			t.Errorf("bad input changed the database:\nbefore %s\nafter  %s", before, after)
		}
	})
}

// TestGraphQLOverGET: queries work over GET; mutations do not.
func TestGraphQLOverGET(t *testing.T) {
	e := testenv.Start(t, testenv.Databases()[0])
	r := e.Do("GET", "/graphql?query=%7B%20me%20%7B%20displayName%20%7D%20%7D", nil, "Authorization", "Bearer "+e.AdminToken())
	if r.Status != 200 || testenv.Path(r.Body, "data.me.displayName") != "Administrator" {
		t.Fatalf("GET query: %d %s", r.Status, r.Raw)
	}
	r = e.Do("GET", "/graphql?query=mutation%20%7B%20logout%20%7D", nil, "Authorization", "Bearer "+e.AdminToken())
	if r.Status == 200 && testenv.Path(r.Body, "data.logout") == true {
		t.Fatalf("a mutation ran over GET")
	}
}
