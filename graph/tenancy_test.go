package graph_test

import (
	"testing"

	"github.com/meridianplane/meridian/internal/testenv"
)

// seed creates, as the given user, a cluster with a labelled node and a
// business, and returns their IDs.
func seed(t *testing.T, e *testenv.Env, token, prefix string) map[string]string {
	t.Helper()
	ids := map[string]string{}
	r := e.GQL(token, `mutation($n: String!) { createCluster(input: {name: $n, ready: true}) { id } }`, map[string]any{"n": prefix + "-c"})
	r.OK()
	ids["cluster"] = r.Str("createCluster.id")
	r = e.GQL(token, `mutation($c: ID!, $n: String!) { createClusterNode(input: {clusterID: $c, name: $n, address: "10.0.0.1", ready: true}) { id } }`,
		map[string]any{"c": ids["cluster"], "n": prefix + "-n"})
	r.OK()
	ids["node"] = r.Str("createClusterNode.id")
	r = e.GQL(token, `mutation($c: String!) { addClusterLabel(input: {label: "edge", clusterNames: [$c]}) { id } }`, map[string]any{"c": prefix + "-c"})
	r.OK()
	ids["clusterLabel"] = r.Str("addClusterLabel.0.id")
	r = e.GQL(token, `mutation($c: String!, $n: String!) { addNodeLabel(input: {label: "gpu", clusterName: $c, nodeNames: [$n]}) { id } }`,
		map[string]any{"c": prefix + "-c", "n": prefix + "-n"})
	r.OK()
	ids["nodeLabel"] = r.Str("addNodeLabel.0.id")
	r = e.GQL(token, `mutation($n: String!) { createBusiness(input: {name: $n}) { id } }`, map[string]any{"n": prefix + "-b"})
	r.OK()
	ids["business"] = r.Str("createBusiness.id")
	return ids
}

// TestTenantIsolation: a normal user of tenant A cannot read, list, count,
// update or delete tenant B's rows, whatever filter, ordering or node ID they
// use; an admin can.
func TestTenantIsolation(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		e := testenv.Start(t, db)
		alice, aliceID := e.NewUser("alice", "normal")
		bob, bobID := e.NewUser("bob", "normal")
		a := seed(t, e, alice, "a")
		b := seed(t, e, bob, "b")
		bobTenant := e.GQL(bob, `{ me { tenant { id } } }`, nil).OK().Str("me.tenant.id")
		before := e.Snapshot()

		// Lists and counts, with filters and orderings aimed at B's rows.
		lists := []struct{ name, query string }{
			{"clusters", `{ x: clusters(orderBy: {field: NAME, direction: DESC}) { totalCount edges { node { id name } } } }`},
			{"clusters by tenant", `query($t: ID!) { x: clusters(where: {tenantID: $t}) { totalCount edges { node { id } } } }`},
			{"clusters by name", `{ x: clusters(where: {nameHasPrefix: "b"}) { totalCount edges { node { id } } } }`},
			{"nodes", `{ x: clusterNodes(orderBy: {field: NAME}) { totalCount edges { node { id } } } }`},
			{"nodes by cluster", `{ x: clusterNodes(where: {hasClusterWith: [{name: "b-c"}]}) { totalCount edges { node { id } } } }`},
			{"cluster labels", `{ x: clusterLabels { totalCount edges { node { id } } } }`},
			{"node labels", `{ x: nodeLabels { totalCount edges { node { id } } } }`},
			{"businesses", `{ x: businesses(orderBy: {field: CREATED_AT}) { totalCount edges { node { id } } } }`},
			{"users", `{ x: users { totalCount edges { node { id username } } } }`},
			{"users by name", `{ x: users(where: {username: "bob"}) { totalCount edges { node { id } } } }`},
			{"tenants", `query($t: ID!) { x: tenants(where: {id: $t}) { totalCount edges { node { id } } } }`},
		}
		for _, l := range lists {
			r := e.GQL(alice, l.query, map[string]any{"t": bobTenant})
			r.OK()
			for _, edge := range asList(r.Get("x.edges")) {
				id := testenv.Path(edge, "node.id")
				for _, bid := range b {
					if id == bid {
						t.Errorf("%s: alice sees bob's %v", l.name, id)
					}
				}
				if id == bobID {
					t.Errorf("%s: alice sees bob", l.name)
				}
			}
			if n := r.Num("x.totalCount"); l.name != "users" && l.name != "tenants" && n > 1 {
				t.Errorf("%s: alice counts %v rows, want her own only", l.name, n)
			}
			// The admin sees both tenants' rows.
			ra := e.GQL(e.AdminToken(), l.query, map[string]any{"t": bobTenant})
			ra.OK()
			if ra.Num("x.totalCount") < 1 {
				t.Errorf("%s: admin sees nothing", l.name)
			}
		}

		// Direct reads by node ID.
		for kind, id := range b {
			r := e.GQL(alice, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
			if r.Code() != "NOT_FOUND" || r.Get("node") != nil {
				t.Errorf("node(%s of bob): got %v %v, want NOT_FOUND", kind, r.Code(), r.Get("node"))
			}
			r = e.GQL(alice, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{a["cluster"], id}})
			if got := r.Get("nodes.1"); got != nil {
				t.Errorf("nodes([.., %s of bob]) = %v", kind, got)
			}
			ra := e.GQL(e.AdminToken(), `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
			ra.OK()
			if ra.Str("node.id") != id {
				t.Errorf("admin node(%s) = %v", kind, ra.Get("node"))
			}
		}
		if r := e.GQL(alice, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": bobID}); r.Code() != "NOT_FOUND" {
			t.Errorf("node(bob) = %v", r.Code())
		}

		// Updates and deletes of B's rows fail and change nothing.
		writes := []struct{ name, query, id string }{
			{"update cluster", `mutation($id: ID!) { updateCluster(id: $id, input: {description: "x"}) { id } }`, b["cluster"]},
			{"delete cluster", `mutation($id: ID!) { deleteCluster(id: $id) }`, b["cluster"]},
			{"update node", `mutation($id: ID!) { updateClusterNode(id: $id, input: {ready: false}) { id } }`, b["node"]},
			{"delete node", `mutation($id: ID!) { deleteClusterNode(id: $id) }`, b["node"]},
			{"node under B's cluster", `mutation($id: ID!) { createClusterNode(input: {clusterID: $id, name: "sneaky"}) { id } }`, b["cluster"]},
			{"label B's cluster", `mutation { addClusterLabel(input: {label: "x", clusterNames: ["b-c"]}) { id } }`, ""},
			{"unlabel B's cluster", `mutation { removeClusterLabel(input: {label: "edge", clusterNames: ["b-c"]}) }`, ""},
			{"label B's node", `mutation { addNodeLabel(input: {label: "x", clusterName: "b-c", nodeNames: ["b-n"]}) { id } }`, ""},
			{"update bob", `mutation($id: ID!) { updateUser(id: $id, input: {realName: "x"}) { id } }`, bobID},
			{"delete bob", `mutation($id: ID!) { deleteUser(id: $id) }`, bobID},
			{"reset bob's password", `mutation($id: ID!) { resetPassword(id: $id, password: "hijacked1") { id } }`, bobID},
			{"approve self", `mutation($id: ID!) { setUserStatus(id: $id, status: active) { id } }`, aliceID},
			{"update B's tenant", `mutation($id: ID!) { updateTenant(id: $id, input: {enableAlert: true}) { id } }`, bobTenant},
			{"audit B's business", `mutation($id: ID!) { auditBusiness(id: $id, input: {status: approved}) { id } }`, b["business"]},
		}
		for _, w := range writes {
			r := e.GQL(alice, w.query, map[string]any{"id": w.id})
			switch r.Code() {
			case "NOT_FOUND", "FORBIDDEN":
			default:
				t.Errorf("%s: got %q %v, want NOT_FOUND or FORBIDDEN", w.name, r.Code(), r.Data)
			}
		}
		if after := e.Snapshot(); after != before {
			t.Errorf("alice's failed writes changed the database:\nbefore %s\nafter  %s", before, after)
		}

		// The admin can.
		e.GQL(e.AdminToken(), `mutation($id: ID!) { updateCluster(id: $id, input: {description: "by admin"}) { id } }`, map[string]any{"id": b["cluster"]}).OK()
		e.GQL(e.AdminToken(), `mutation($id: ID!) { deleteCluster(id: $id) }`, map[string]any{"id": b["cluster"]}).OK()
		if n := e.GQL(bob, `{ clusters { totalCount } }`, nil).OK().Num("clusters.totalCount"); n != 0 {
			t.Errorf("bob still has %v clusters after the admin deleted his", n)
		}
	})
}

// TestGuestIsReadOnly: a guest reads their tenant and writes nothing.
func TestGuestIsReadOnly(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		e := testenv.Start(t, db)
		guest, _ := e.NewUser("gina", "guest")
		e.GQL(guest, `{ clusters { totalCount } me { role } }`, nil).OK()
		r := e.GQL(guest, `mutation { createCluster(input: {name: "g"}) { id } }`, nil)
		if r.Code() != "FORBIDDEN" {
			t.Fatalf("guest createCluster: %q, want FORBIDDEN", r.Code())
		}
	})
}

// TestRoleEscalation: admins cannot mint admins; only the super-admin can.
func TestRoleEscalation(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		e := testenv.Start(t, db)
		admin, _ := e.NewUser("ada", "admin")
		r := e.GQL(admin, `mutation { createSubUser(input: {username: "eve", password: "password1", role: admin}) { id } }`, nil)
		if r.Code() != "FORBIDDEN" {
			t.Fatalf("admin creating an admin: %q, want FORBIDDEN", r.Code())
		}
		r = e.GQL(admin, `mutation { createSubUser(input: {username: "nick", password: "password1"}) { id } }`, nil)
		r.OK()
		superID := e.GQL(e.AdminToken(), `{ me { user { id } } }`, nil).OK().Str("me.user.id")
		r = e.GQL(admin, `mutation($id: ID!) { setUserStatus(id: $id, status: disabled) { id } }`, map[string]any{"id": superID})
		if r.Code() != "FORBIDDEN" {
			t.Fatalf("admin disabling the super-admin: %q, want FORBIDDEN", r.Code())
		}
	})
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
