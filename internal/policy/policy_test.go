package policy_test

import (
	"context"
	"slices"
	"testing"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/cluster"
	"github.com/meridianplane/meridian/ent/privacy"
	"github.com/meridianplane/meridian/internal/policy"
)

// Each generic rule on its own: its decision for every role, and for the
// filtering rules the rows the query or mutation is left with.

func TestRequireViewer(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		rule := policy.RequireViewer()
		want := map[string]string{
			"super-admin": "skip", "admin": "skip", "normal": "skip", "guest": "skip",
			"unknown role": "skip", "anonymous": "deny",
		}
		for _, r := range f.roles {
			if got := decision(rule.EvalQuery(r.ctx, f.c.Cluster.Query())); got != want[r.name] {
				t.Errorf("%s query: %s, want %s", r.name, got, want[r.name])
			}
			if got, _ := f.probe(r.ctx, rule, false, f.createCluster(0)); got != want[r.name] {
				t.Errorf("%s mutation: %s, want %s", r.name, got, want[r.name])
			}
		}
	})
}

func TestDenyReadOnly(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		rule := policy.DenyReadOnly()
		mutations := map[string]func(context.Context) error{
			"create":            f.createCluster(0),
			"update":            f.updateCluster(f.clusterA),
			"bulk update":       func(ctx context.Context) error { return f.c.Cluster.Update().Exec(ctx) },
			"delete":            f.deleteCluster(f.clusterA),
			"update gina":       func(ctx context.Context) error { return f.c.User.UpdateOneID(f.gina).SetPhone("1").Exec(ctx) },
			"update alice":      func(ctx context.Context) error { return f.c.User.UpdateOneID(f.alice).SetPhone("1").Exec(ctx) },
			"bulk update users": func(ctx context.Context) error { return f.c.User.Update().SetPhone("1").Exec(ctx) },
		}
		writer := map[string]string{
			"create": "skip", "update": "skip", "bulk update": "skip", "delete": "skip",
			"update gina": "skip", "update alice": "skip", "bulk update users": "skip",
		}
		allDenied := map[string]string{
			"create": "deny", "update": "deny", "bulk update": "deny", "delete": "deny",
			"update gina": "deny", "update alice": "deny", "bulk update users": "deny",
		}
		want := map[string]map[string]string{
			"super-admin": writer, "admin": writer, "normal": writer,
			// A guest edits their own account (UserWrite says which fields), nothing else.
			"guest": {
				"create": "deny", "update": "deny", "bulk update": "deny", "delete": "deny",
				"update gina": "skip", "update alice": "deny", "bulk update users": "deny",
			},
			"anonymous": allDenied,
			// The unknown role is alice's ID: not even her own account.
			"unknown role": allDenied,
		}
		for _, r := range f.roles {
			for name, m := range mutations {
				if got, _ := f.probe(r.ctx, rule, false, m); got != want[r.name][name] {
					t.Errorf("%s %s: %s, want %s", r.name, name, got, want[r.name][name])
				}
			}
		}
	})
}

func TestAllowAdmin(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		rule := policy.AllowAdmin()
		want := map[string]string{
			"super-admin": "allow", "admin": "allow", "normal": "skip", "guest": "skip",
			"unknown role": "skip", "anonymous": "skip",
		}
		for _, r := range f.roles {
			if got := decision(rule.EvalQuery(r.ctx, f.c.Cluster.Query())); got != want[r.name] {
				t.Errorf("%s query: %s, want %s", r.name, got, want[r.name])
			}
			if got, _ := f.probe(r.ctx, rule, false, f.deleteCluster(f.clusterB)); got != want[r.name] {
				t.Errorf("%s mutation: %s, want %s", r.name, got, want[r.name])
			}
		}
	})
}

func TestAllowOwnTenantQuery(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		rule := policy.AllowOwnTenant()
		cases := []struct {
			caller, want string
			sees         []string // clusters the filtered query returns
		}{
			// The rule confines whoever it sees: AllowAdmin, before it in
			// every policy, is what lets admins see every tenant.
			{"super-admin", "allow", nil},
			{"admin", "allow", nil},
			{"admin of A", "allow", []string{"ca"}},
			{"normal", "allow", []string{"ca"}},
			{"guest", "allow", []string{"ca"}},
			{"normal of B", "allow", []string{"cb"}},
			{"guest of B", "allow", []string{"cb"}},
			// Skipped: left to the policy's final deny.
			{"unknown role", "skip", []string{"ca", "cb"}},
			{"anonymous", "skip", []string{"ca", "cb"}},
		}
		for _, c := range cases {
			q := f.c.Cluster.Query()
			if got := decision(rule.EvalQuery(f.as(c.caller), q)); got != c.want {
				t.Errorf("%s: %s, want %s", c.caller, got, c.want)
			}
			if got := clusterNames(t, f, q); !slices.Equal(got, c.sees) {
				t.Errorf("%s sees clusters %v, want %v", c.caller, got, c.sees)
			}
		}
		// A schema without a tenant is refused, not read unfiltered.
		if got := decision(rule.EvalQuery(f.as("normal"), f.c.Tenant.Query())); got != "deny" {
			t.Errorf("normal on the tenants: %s, want deny", got)
		}
	})
}

func TestAllowOwnTenantMutation(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		rule := policy.AllowOwnTenant()
		spare := must(f.c.Cluster.Create().SetName("spare").SetTenantID(f.tenantA).Save(f.sys)).ID
		cases := []struct {
			name, caller string
			exec         func(context.Context) error
			want, result string // the rule's decision; the mutation run after it
		}{
			{"create, no tenant named", "normal", f.createCluster(0), "allow", ""},
			{"create in own tenant", "normal", f.createCluster(f.tenantA), "allow", ""},
			{"create in another tenant", "normal", f.createCluster(f.tenantB), "deny", ""},
			{"create in another tenant", "guest of B", f.createCluster(f.tenantA), "deny", ""},
			{"create, unknown role", "unknown role", f.createCluster(f.tenantA), "skip", ""},
			{"create, anonymous", "anonymous", f.createCluster(0), "skip", ""},
			{"update own row", "normal", f.updateCluster(f.clusterA), "allow", "ok"},
			{"update another tenant's row", "normal", f.updateCluster(f.clusterB), "allow", "not found"},
			{"update another tenant's row", "normal of B", f.updateCluster(f.clusterA), "allow", "not found"},
			{"delete another tenant's row", "normal", f.deleteCluster(f.clusterB), "allow", "not found"},
			{"update, unknown role: not confined", "unknown role", f.updateCluster(f.clusterB), "skip", "ok"},
			{"delete own row", "normal", f.deleteCluster(spare), "allow", "ok"},
		}
		for _, c := range cases {
			got, result := f.probe(f.as(c.caller), rule, c.result != "", c.exec)
			if got != c.want || result != c.result {
				t.Errorf("%s by %s: %s, %q; want %s, %q", c.name, c.caller, got, result, c.want, c.result)
			}
		}
		// A bulk update by a member of B touches B's rows only.
		var n int
		got, result := f.probe(f.as("normal of B"), rule, true, func(ctx context.Context) (err error) {
			n, err = f.c.Cluster.Update().SetDescription("bulk").Save(ctx)
			return err
		})
		if got != "allow" || result != "ok" || n != 1 {
			t.Errorf("bob's bulk update: %s, %s, %d rows; want allow, ok, his 1 row", got, result, n)
		}
		if d := must(f.c.Cluster.Query().Where(cluster.Description("bulk")).OnlyID(f.sys)); d != f.clusterB {
			t.Errorf("bulk update changed cluster %d, want %d", d, f.clusterB)
		}
	})
}

func TestAllowOwnTenantOrPublic(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		cases := []struct {
			caller, want     string
			projects, images []int
			tags             []int
		}{
			{"normal", "allow", []int{f.projectA, f.publicA}, []int{f.imageA, f.imagePublicA}, []int{f.tagA, f.tagPublicA}},
			{"guest", "allow", []int{f.projectA, f.publicA}, []int{f.imageA, f.imagePublicA}, []int{f.tagA, f.tagPublicA}},
			// Another tenant reads A's public project, its image and tag; not the private ones.
			{"normal of B", "allow", []int{f.publicA, f.projectB}, []int{f.imagePublicA}, []int{f.tagPublicA}},
			{"guest of B", "allow", []int{f.publicA, f.projectB}, []int{f.imagePublicA}, []int{f.tagPublicA}},
			{"unknown role", "skip", nil, nil, nil},
			{"anonymous", "skip", nil, nil, nil},
		}
		for _, c := range cases {
			ctx := f.as(c.caller)
			pq, iq, tq := f.c.RegistryProject.Query(), f.c.Image.Query(), f.c.ImageTag.Query()
			for _, e := range []struct {
				rule privacy.QueryRule
				q    ent.Query
			}{
				{policy.AllowOwnTenantOrPublic(), pq},
				{policy.AllowOwnTenantOrPublic("project"), iq},
				{policy.AllowOwnTenantOrPublic("image", "project"), tq},
			} {
				if got := decision(e.rule.EvalQuery(ctx, e.q)); got != c.want {
					t.Errorf("%s on %T: %s, want %s", c.caller, e.q, got, c.want)
				}
			}
			if c.want == "skip" {
				continue // unfiltered: the policy's final deny refuses them
			}
			if got := sorted(must(pq.IDs(f.sys))); !slices.Equal(got, sorted(c.projects)) {
				t.Errorf("%s reads projects %v, want %v", c.caller, got, c.projects)
			}
			if got := sorted(must(iq.IDs(f.sys))); !slices.Equal(got, sorted(c.images)) {
				t.Errorf("%s reads images %v, want %v", c.caller, got, c.images)
			}
			if got := sorted(must(tq.IDs(f.sys))); !slices.Equal(got, sorted(c.tags)) {
				t.Errorf("%s reads tags %v, want %v", c.caller, got, c.tags)
			}
		}
	})
}

func TestAllowOwnTenantRow(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		rule := policy.AllowOwnTenantRow()
		cases := []struct {
			caller, want string
			sees         []int
		}{
			{"normal", "allow", []int{f.tenantA}},
			{"guest", "allow", []int{f.tenantA}},
			{"normal of B", "allow", []int{f.tenantB}},
			{"admin", "allow", []int{f.tenantX}}, // AllowAdmin comes first in TenantRow
			{"unknown role", "skip", nil},
			{"anonymous", "skip", nil},
		}
		for _, c := range cases {
			q := f.c.Tenant.Query()
			if got := decision(rule.EvalQuery(f.as(c.caller), q)); got != c.want {
				t.Errorf("%s: %s, want %s", c.caller, got, c.want)
			}
			if c.want == "skip" {
				continue
			}
			if got := must(q.IDs(f.sys)); !slices.Equal(got, c.sees) {
				t.Errorf("%s reads tenants %v, want %v", c.caller, got, c.sees)
			}
		}
		if got := decision(rule.EvalQuery(f.as("normal"), f.c.Cluster.Query())); got != "deny" {
			t.Errorf("on clusters: %s, want deny", got)
		}
	})
}

func clusterNames(t *testing.T, f *fixture, q *ent.ClusterQuery) []string {
	t.Helper()
	cs := must(q.All(f.sys))
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return sorted(out)
}

func (f *fixture) createCluster(tenant int) func(context.Context) error {
	return func(ctx context.Context) error {
		b := f.c.Cluster.Create().SetName("new")
		if tenant != 0 {
			b.SetTenantID(tenant)
		}
		return b.Exec(ctx)
	}
}

func (f *fixture) updateCluster(id int) func(context.Context) error {
	return func(ctx context.Context) error {
		return f.c.Cluster.UpdateOneID(id).SetDescription("changed").Exec(ctx)
	}
}

func (f *fixture) deleteCluster(id int) func(context.Context) error {
	return func(ctx context.Context) error { return f.c.Cluster.DeleteOneID(id).Exec(ctx) }
}
