package policy_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/applicationversion"
	"github.com/meridianplane/meridian/ent/containermanager"
	"github.com/meridianplane/meridian/ent/deployment"
	"github.com/meridianplane/meridian/ent/privacy"
	"github.com/meridianplane/meridian/ent/user"
	"github.com/meridianplane/meridian/internal/db"
	"github.com/meridianplane/meridian/internal/policy"
	"github.com/meridianplane/meridian/internal/testenv"
	"github.com/meridianplane/meridian/internal/viewer"
)

// fixture is a database with three tenants: A and B of normal users and
// guests, and the admins' tenant X. A has a private and a public registry
// project, B a private one; each tenant has a cluster.
type fixture struct {
	c   *ent.Client
	sys context.Context

	tenantA, tenantB, tenantX int
	// Users: alice (normal, A), gina (guest, A), bob (normal, B), ada
	// (admin, X), ann (admin, A), root (super-admin, X).
	alice, gina, bob, ada, ann, root int

	clusterA, clusterB   int
	projectA, publicA    int // private and public projects of A
	projectB             int
	imageA, imagePublicA int
	tagA, tagPublicA     int
	app, version         int // of A
	awaiting, running    int // deployments of A
	managerA             int // a simulated container manager of A
	businessA, businessB int
	autoDeployTenant     int // a tenant whose deployments need no audit
	autoDeployUser       int // its normal user
	sessionOfAlice       int
	roles                []role
	byName               map[string]context.Context
}

// role is a caller: each platform role, anonymous, and a viewer whose role
// no rule knows.
type role struct {
	name string
	ctx  context.Context
}

// eachDB runs test on a fresh fixture on SQLite, and on PostgreSQL when
// MERIDIAN_TEST_POSTGRES is set.
func eachDB(t *testing.T, test func(t *testing.T, f *fixture)) {
	testenv.Each(t, func(t *testing.T, d testenv.Database) { test(t, newFixture(t, d.DSN(t))) })
}

func newFixture(t *testing.T, dsn string) *fixture {
	t.Helper()
	d, err := db.Open(dsn, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	sys := policy.System(context.Background())
	if err := d.Migrate(sys); err != nil {
		t.Fatal(err)
	}
	f := &fixture{c: d.Client, sys: sys}
	c := f.c
	tenant := func(name string, auto bool) int {
		return must(c.Tenant.Create().SetName(name).SetEnableAdminAutoDeploy(auto).Save(sys)).ID
	}
	f.tenantA, f.tenantB, f.tenantX = tenant("a", false), tenant("b", false), tenant("x", false)
	f.autoDeployTenant = tenant("auto", true)
	newUser := func(name string, tid int, r user.Role) int {
		return must(c.User.Create().SetUsername(name).SetPasswordHash("x").SetTenantID(tid).
			SetRole(r).SetStatus(user.StatusActive).Save(sys)).ID
	}
	f.alice = newUser("alice", f.tenantA, user.RoleNormal)
	f.gina = newUser("gina", f.tenantA, user.RoleGuest)
	f.bob = newUser("bob", f.tenantB, user.RoleNormal)
	f.ada = newUser("ada", f.tenantX, user.RoleAdmin)
	f.ann = newUser("ann", f.tenantA, user.RoleAdmin)
	f.root = newUser("root", f.tenantX, user.RoleSuperAdmin)
	f.autoDeployUser = newUser("otto", f.autoDeployTenant, user.RoleNormal)

	f.clusterA = must(c.Cluster.Create().SetName("ca").SetTenantID(f.tenantA).Save(sys)).ID
	f.clusterB = must(c.Cluster.Create().SetName("cb").SetTenantID(f.tenantB).Save(sys)).ID
	project := func(name string, tid int, public bool) int {
		return must(c.RegistryProject.Create().SetName(name).SetPublic(public).SetTenantID(tid).Save(sys)).ID
	}
	f.projectA, f.publicA, f.projectB = project("pa", f.tenantA, false), project("puba", f.tenantA, true), project("pb", f.tenantB, false)
	f.imageA = must(c.Image.Create().SetName("pa/app").SetProjectID(f.projectA).Save(sys)).ID
	f.imagePublicA = must(c.Image.Create().SetName("puba/app").SetProjectID(f.publicA).Save(sys)).ID
	f.tagA = must(c.ImageTag.Create().SetName("v1").SetImageID(f.imageA).Save(sys)).ID
	f.tagPublicA = must(c.ImageTag.Create().SetName("v1").SetImageID(f.imagePublicA).Save(sys)).ID
	f.app = must(c.Application.Create().SetName("app").SetTenantID(f.tenantA).Save(sys)).ID
	f.version = must(c.ApplicationVersion.Create().SetApplicationID(f.app).SetVersion("1.0.1").SetMainVersion("1.0").
		SetSequence(1).SetKind(applicationversion.KindWorkload).Save(sys)).ID
	dep := func(name string, st deployment.Status) int {
		return must(c.Deployment.Create().SetName(name).SetApplicationID(f.app).SetVersionID(f.version).
			SetClusterID(f.clusterA).SetNamespace("ns").SetStatus(st).Save(sys)).ID
	}
	f.awaiting, f.running = dep("waits", deployment.StatusAwaitingAudit), dep("runs", deployment.StatusRunning)
	f.managerA = must(c.ContainerManager.Create().SetName("sim").SetKind(containermanager.KindSimulator).
		SetTenantID(f.tenantA).Save(sys)).ID
	f.businessA = must(c.Business.Create().SetName("ba").SetUserID(f.alice).SetTenantID(f.tenantA).Save(sys)).ID
	f.businessB = must(c.Business.Create().SetName("bb").SetUserID(f.bob).SetTenantID(f.tenantB).Save(sys)).ID
	f.sessionOfAlice = must(c.Session.Create().SetTokenID("s1").SetUserID(f.alice).
		SetExpiresAt(time.Now().Add(time.Hour)).Save(sys)).ID

	as := func(id, tid int, r viewer.Role) context.Context {
		return viewer.NewContext(context.Background(), &viewer.Viewer{UserID: id, TenantID: tid, Role: r})
	}
	f.roles = []role{
		{"super-admin", as(f.root, f.tenantX, viewer.RoleSuperAdmin)},
		{"admin", as(f.ada, f.tenantX, viewer.RoleAdmin)},
		{"normal", as(f.alice, f.tenantA, viewer.RoleNormal)},
		{"guest", as(f.gina, f.tenantA, viewer.RoleGuest)},
		{"anonymous", context.Background()},
		{"unknown role", as(f.alice, f.tenantA, "auditor")},
	}
	f.byName = map[string]context.Context{
		"admin of A":   as(f.ann, f.tenantA, viewer.RoleAdmin),
		"normal of B":  as(f.bob, f.tenantB, viewer.RoleNormal),
		"guest of B":   as(f.bob, f.tenantB, viewer.RoleGuest),
		"normal, auto": as(f.autoDeployUser, f.autoDeployTenant, viewer.RoleNormal),
	}
	for _, r := range f.roles {
		f.byName[r.name] = r.ctx
	}
	c.Use(probeHook)
	return f
}

// A probe evaluates one mutation rule on a real mutation, in a client hook
// that runs before the schema's own hooks (privacy first among them).
type probe struct {
	caller   context.Context
	rule     privacy.MutationRule
	run      bool
	decision error
}

type probeKey struct{}

var errProbed = errors.New("probed")

func probeHook(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		p, ok := ctx.Value(probeKey{}).(*probe)
		if !ok {
			return next.Mutate(ctx, m)
		}
		p.decision = p.rule.EvalMutation(p.caller, m)
		if !p.run {
			return nil, errProbed
		}
		// What the server gets after the rule: privacy bypassed, the
		// rule's filters kept on the mutation.
		return next.Mutate(policy.System(ctx), m)
	})
}

// probe runs exec (a create, update or delete) with rule evaluated on its
// mutation as caller would be. It returns the rule's decision and, with run,
// the outcome of the mutation run after the rule ("" without).
func (f *fixture) probe(caller context.Context, rule privacy.MutationRule, run bool, exec func(context.Context) error) (string, string) {
	p := &probe{caller: caller, rule: rule, run: run}
	err := exec(context.WithValue(context.Background(), probeKey{}, p))
	if !run {
		if !errors.Is(err, errProbed) {
			panic(fmt.Sprintf("probe: the mutation did not reach the probe: %v", err))
		}
		return decision(p.decision), ""
	}
	return decision(p.decision), outcome(err)
}

// as returns the context of a named caller (a role, or "normal of B"...).
func (f *fixture) as(name string) context.Context {
	ctx, ok := f.byName[name]
	if !ok {
		panic("no caller " + name)
	}
	return ctx
}

// must returns v, and panics (failing the test) on err: for fixtures and the
// server's own reads, not for what a test checks.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// decision names a rule's answer: allow, deny or skip.
func decision(err error) string {
	switch {
	case err == nil, errors.Is(err, privacy.Skip):
		return "skip"
	case errors.Is(err, privacy.Allow):
		return "allow"
	case errors.Is(err, privacy.Deny):
		return "deny"
	}
	return fmt.Sprintf("error %v", err)
}

// outcome names the result of running a query or mutation through the
// whole policy: ok, deny, not found, or the error.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, privacy.Deny):
		return "deny"
	case ent.IsNotFound(err):
		return "not found"
	}
	return fmt.Sprintf("error %v", err)
}

func sorted[T cmp.Ordered](s []T) []T {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
