package policy_test

import (
	"context"
	"testing"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/business"
	"github.com/meridianplane/meridian/ent/containermanager"
	"github.com/meridianplane/meridian/ent/deployment"
	"github.com/meridianplane/meridian/ent/privacy"
	"github.com/meridianplane/meridian/ent/user"
	"github.com/meridianplane/meridian/internal/policy"
)

// The rules of one schema each, for every role they tell apart.

// mutationCase is a mutation a caller tries, and the rule's decision.
type mutationCase struct {
	name, caller string
	exec         func(context.Context) error
	want         string
}

func checkRule(t *testing.T, f *fixture, rule privacy.MutationRule, cases []mutationCase) {
	t.Helper()
	for _, c := range cases {
		if got, _ := f.probe(f.as(c.caller), rule, false, c.exec); got != c.want {
			t.Errorf("%s by %s: %s, want %s", c.name, c.caller, got, c.want)
		}
	}
}

func TestUserWrite(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		update := func(id int, set func(*ent.UserUpdateOne)) func(context.Context) error {
			return func(ctx context.Context) error {
				u := f.c.User.UpdateOneID(id)
				set(u)
				return u.Exec(ctx)
			}
		}
		name := func(u *ent.UserUpdateOne) { u.SetRealName("x") }
		role := func(r user.Role) func(*ent.UserUpdateOne) { return func(u *ent.UserUpdateOne) { u.SetRole(r) } }
		password := func(u *ent.UserUpdateOne) { u.SetPasswordHash("y") }
		verified := func(ctx context.Context) context.Context { return policy.WithVerifiedPassword(ctx, f.alice) }
		createUser := func(r user.Role) func(context.Context) error {
			return func(ctx context.Context) error {
				return f.c.User.Create().SetUsername("new").SetPasswordHash("x").SetRole(r).SetTenantID(f.tenantA).Exec(ctx)
			}
		}
		bulk := func(ctx context.Context) error {
			return f.c.User.Update().Where(user.TenantID(f.tenantX)).SetPhone("1").Exec(ctx)
		}
		f.byName["normal, password verified"] = verified(f.as("normal"))
		cases := []mutationCase{
			// Your own account: name and phone; the password with proof; never role or status.
			{"own name", "normal", update(f.alice, name), "skip"},
			{"own name", "guest", update(f.gina, name), "skip"},
			{"own role", "normal", update(f.alice, role(user.RoleAdmin)), "deny"},
			{"own status", "normal", update(f.alice, func(u *ent.UserUpdateOne) { u.SetStatus(user.StatusDisabled) }), "deny"},
			{"own role", "admin", update(f.ada, role(user.RoleSuperAdmin)), "deny"},
			{"own password unproven", "normal", update(f.alice, password), "deny"},
			{"own password proven", "normal, password verified", update(f.alice, password), "skip"},
			{"another's password, proven for self", "normal, password verified", update(f.gina, password), "deny"},
			// Others' accounts: admins only; admin accounts and roles: the super-admin only.
			{"another user", "normal", update(f.gina, name), "deny"},
			{"another tenant's user", "normal of B", update(f.alice, name), "deny"},
			{"create a user", "normal", createUser(user.RoleNormal), "deny"},
			{"create a user", "admin", createUser(user.RoleNormal), "skip"},
			{"create an admin", "admin", createUser(user.RoleAdmin), "deny"},
			{"create an admin", "super-admin", createUser(user.RoleAdmin), "skip"},
			{"a normal user", "admin", update(f.alice, name), "skip"},
			{"make a user admin", "admin", update(f.alice, role(user.RoleAdmin)), "deny"},
			{"make a user admin", "super-admin", update(f.alice, role(user.RoleAdmin)), "skip"},
			{"another admin", "admin", update(f.ann, name), "deny"},
			{"another admin", "super-admin", update(f.ann, name), "skip"},
			{"the super-admin", "admin", update(f.root, func(u *ent.UserUpdateOne) { u.SetStatus(user.StatusDisabled) }), "deny"},
			{"bulk change including self", "super-admin", bulk, "deny"},
			{"anything", "anonymous", update(f.alice, name), "deny"},
			{"anything", "unknown role", update(f.gina, name), "deny"},
		}
		checkRule(t, f, policy.UserWrite(), cases)
	})
}

func TestBusinessAudit(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		create := func(st business.Status, comment string) func(context.Context) error {
			return func(ctx context.Context) error {
				b := f.c.Business.Create().SetName("b").SetUserID(f.alice)
				if st != "" {
					b.SetStatus(st)
				}
				if comment != "" {
					b.SetComment(comment)
				}
				return b.Exec(ctx)
			}
		}
		audit := func(ctx context.Context) error {
			return f.c.Business.UpdateOneID(f.businessA).SetStatus(business.StatusApproved).SetComment("ok").Exec(ctx)
		}
		rename := func(ctx context.Context) error { return f.c.Business.UpdateOneID(f.businessA).SetName("n").Exec(ctx) }
		cases := []mutationCase{
			{"submit", "normal", create("", ""), "skip"},
			{"submit pending", "normal", create(business.StatusPending, ""), "skip"},
			{"submit approved", "normal", create(business.StatusApproved, ""), "deny"},
			{"submit with a comment", "normal", create("", "self-approved"), "deny"},
			{"edit", "normal", rename, "skip"},
			{"audit", "normal", audit, "deny"},
			{"audit", "guest", audit, "deny"},
			{"audit", "normal of B", audit, "deny"},
			{"audit", "admin", audit, "skip"},
			{"audit", "super-admin", audit, "skip"},
			{"submit approved", "admin of A", create(business.StatusApproved, ""), "skip"},
		}
		checkRule(t, f, policy.BusinessAudit(), cases)
	})
}

func TestRealClustersByAdmins(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		create := func(k containermanager.Kind) func(context.Context) error {
			return func(ctx context.Context) error {
				return f.c.ContainerManager.Create().SetName("m").SetKind(k).Exec(ctx)
			}
		}
		update := func(ctx context.Context) error {
			return f.c.ContainerManager.UpdateOneID(f.managerA).SetAPIServer("https://example.com").Exec(ctx)
		}
		remove := func(ctx context.Context) error { return f.c.ContainerManager.DeleteOneID(f.managerA).Exec(ctx) }
		cases := []mutationCase{
			{"a simulator", "normal", create(containermanager.KindSimulator), "skip"},
			{"a kubeconfig", "normal", create(containermanager.KindKubeconfig), "deny"},
			{"a token", "normal", create(containermanager.KindToken), "deny"},
			{"change how it is reached", "normal", update, "deny"},
			{"delete", "normal", remove, "skip"},
			{"a kubeconfig", "admin", create(containermanager.KindKubeconfig), "skip"},
			{"change how it is reached", "admin", update, "skip"},
			{"a token", "super-admin", create(containermanager.KindToken), "skip"},
		}
		checkRule(t, f, policy.RealClustersByAdmins(), cases)
	})
}

func TestDeploymentAudit(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		create := func(set func(*ent.DeploymentCreate)) func(context.Context) error {
			return func(ctx context.Context) error {
				b := f.c.Deployment.Create().SetName("d").SetApplicationID(f.app).SetVersionID(f.version).
					SetClusterID(f.clusterA).SetNamespace("ns")
				set(b)
				return b.Exec(ctx)
			}
		}
		status := func(s deployment.Status) func(*ent.DeploymentCreate) {
			return func(b *ent.DeploymentCreate) { b.SetStatus(s) }
		}
		move := func(id int, s deployment.Status) func(context.Context) error {
			return func(ctx context.Context) error { return f.c.Deployment.UpdateOneID(id).SetStatus(s).Exec(ctx) }
		}
		auditBy := func(ctx context.Context) error {
			return f.c.Deployment.UpdateOneID(f.awaiting).SetAuditedBy(f.alice).Exec(ctx)
		}
		comment := func(ctx context.Context) error {
			return f.c.Deployment.UpdateOneID(f.running).SetAuditComment("").Exec(ctx)
		}
		cases := []mutationCase{
			// The default status is pending: the workflow asks for awaiting_audit.
			{"create with the default status", "normal", create(func(*ent.DeploymentCreate) {}), "deny"},
			{"create with the default status", "normal, auto", create(func(*ent.DeploymentCreate) {}), "skip"},
			{"create awaiting audit", "normal", create(status(deployment.StatusAwaitingAudit)), "skip"},
			{"create pending in a tenant with audit", "normal", create(status(deployment.StatusPending)), "deny"},
			{"create pending in a tenant without audit", "normal, auto", create(status(deployment.StatusPending)), "skip"},
			{"create with an audit comment", "normal", create(func(b *ent.DeploymentCreate) { b.SetAuditComment("fine") }), "deny"},
			{"create audited", "normal, auto", create(func(b *ent.DeploymentCreate) { b.SetAuditedBy(f.alice) }), "deny"},
			{"record an audit", "normal", auditBy, "deny"},
			{"clear the audit comment", "normal", comment, "deny"},
			{"approve own deployment", "normal", move(f.awaiting, deployment.StatusPending), "deny"},
			{"withdraw a deployment awaiting audit", "normal", move(f.awaiting, deployment.StatusDeleted), "skip"},
			{"a running deployment fails", "normal", move(f.running, deployment.StatusFailed), "skip"},
			{"approve", "admin", move(f.awaiting, deployment.StatusPending), "skip"},
			{"record an audit", "super-admin", auditBy, "skip"},
			{"create pending", "admin of A", create(status(deployment.StatusPending)), "skip"},
		}
		checkRule(t, f, policy.DeploymentAudit(), cases)
	})
}
