package policy_test

import (
	"context"
	"slices"
	"testing"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/privacy"
	"github.com/meridianplane/meridian/internal/policy"
	"github.com/meridianplane/meridian/internal/viewer"
)

// Every policy ends in a deny, for queries and mutations: the last rule
// refuses even the super-admin (earlier rules are what allow).
func TestPoliciesEndInDeny(t *testing.T) {
	c := ent.NewClient()
	super := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: 1, TenantID: 1, Role: viewer.RoleSuperAdmin})
	policies := map[string]ent.Policy{
		"TenantOwned":            policy.TenantOwned(),
		"TenantOwned(UserWrite)": policy.TenantOwned(policy.UserWrite()),
		"PublicRead":             policy.PublicRead([]string{"project"}, policy.BusinessAudit()),
		"TenantRow":              policy.TenantRow(),
		"ServerOnly":             policy.ServerOnly(),
	}
	for name, p := range policies {
		pp, ok := p.(privacy.Policy)
		if !ok || len(pp.Query) == 0 || len(pp.Mutation) == 0 {
			t.Errorf("%s: %T with %v; want a privacy.Policy with query and mutation rules", name, p, p)
			continue
		}
		if got := decision(pp.Query[len(pp.Query)-1].EvalQuery(super, c.Cluster.Query())); got != "deny" {
			t.Errorf("%s: the last query rule says %s to the super-admin, want deny", name, got)
		}
		if got := decision(pp.Mutation[len(pp.Mutation)-1].EvalMutation(super, c.Cluster.Create().Mutation())); got != "deny" {
			t.Errorf("%s: the last mutation rule says %s to the super-admin, want deny", name, got)
		}
	}
}

// The policies as the schemas declare them, through the client: each role
// on its own tenant's rows, another tenant's, and public ones.
func TestSchemaPolicies(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		f.byName["server"] = f.sys
		type want struct {
			reads  []int  // nil with readErr
			read   string // ok, or the refusal
			update string
		}
		check := func(t *testing.T, what string, ids func(context.Context) ([]int, error), update func(context.Context) error, cases map[string]want) {
			t.Helper()
			for caller, w := range cases {
				ctx := f.as(caller)
				got, err := ids(ctx)
				if o := outcome(err); o != w.read || !slices.Equal(sorted(got), sorted(w.reads)) {
					t.Errorf("%s read by %s: %v %s; want %v %s", what, caller, got, o, w.reads, w.read)
				}
				if o := outcome(update(ctx)); o != w.update {
					t.Errorf("%s update by %s: %s, want %s", what, caller, o, w.update)
				}
			}
		}
		denied := want{read: "deny", update: "deny"}
		t.Run("TenantOwned", func(t *testing.T) {
			both := []int{f.clusterA, f.clusterB}
			check(t, "cluster A", func(ctx context.Context) ([]int, error) { return f.c.Cluster.Query().IDs(ctx) }, f.updateCluster(f.clusterA),
				map[string]want{
					"super-admin":  {both, "ok", "ok"},
					"admin":        {both, "ok", "ok"},
					"normal":       {[]int{f.clusterA}, "ok", "ok"},
					"guest":        {[]int{f.clusterA}, "ok", "deny"},
					"normal of B":  {[]int{f.clusterB}, "ok", "not found"},
					"guest of B":   {[]int{f.clusterB}, "ok", "deny"},
					"anonymous":    denied,
					"unknown role": denied,
				})
		})
		t.Run("PublicRead", func(t *testing.T) {
			all := []int{f.projectA, f.publicA, f.projectB}
			publish := func(ctx context.Context) error {
				return f.c.RegistryProject.UpdateOneID(f.publicA).SetPublic(true).Exec(ctx)
			}
			check(t, "A's public project", func(ctx context.Context) ([]int, error) { return f.c.RegistryProject.Query().IDs(ctx) }, publish,
				map[string]want{
					"super-admin":  {all, "ok", "ok"},
					"normal":       {[]int{f.projectA, f.publicA}, "ok", "ok"},
					"guest":        {[]int{f.projectA, f.publicA}, "ok", "deny"},
					"normal of B":  {[]int{f.publicA, f.projectB}, "ok", "not found"},
					"guest of B":   {[]int{f.publicA, f.projectB}, "ok", "deny"},
					"anonymous":    denied,
					"unknown role": denied,
				})
		})
		t.Run("TenantRow", func(t *testing.T) {
			all := must(f.c.Tenant.Query().IDs(f.sys))
			alert := func(ctx context.Context) error {
				return f.c.Tenant.UpdateOneID(f.tenantA).SetEnableAlert(true).Exec(ctx)
			}
			check(t, "tenant A", func(ctx context.Context) ([]int, error) { return f.c.Tenant.Query().IDs(ctx) }, alert,
				map[string]want{
					"super-admin":  {all, "ok", "ok"},
					"admin":        {all, "ok", "ok"},
					"normal":       {[]int{f.tenantA}, "ok", "deny"},
					"guest":        {[]int{f.tenantA}, "ok", "deny"},
					"normal of B":  {[]int{f.tenantB}, "ok", "deny"},
					"anonymous":    denied,
					"unknown role": denied,
				})
		})
		t.Run("ServerOnly", func(t *testing.T) {
			revoke := func(ctx context.Context) error {
				return f.c.Session.UpdateOneID(f.sessionOfAlice).SetRevokedAt(must(f.c.Tenant.Get(f.sys, f.tenantA)).CreatedAt).Exec(ctx)
			}
			check(t, "alice's session", func(ctx context.Context) ([]int, error) { return f.c.Session.Query().IDs(ctx) }, revoke,
				map[string]want{
					"server":       {[]int{f.sessionOfAlice}, "ok", "ok"},
					"super-admin":  denied,
					"normal":       denied,
					"anonymous":    denied,
					"unknown role": denied,
				})
		})
	})
}
