package policy

import (
	"context"
	"slices"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/business"
	"github.com/meridianplane/meridian/ent/containermanager"
	"github.com/meridianplane/meridian/ent/deployment"
	"github.com/meridianplane/meridian/ent/privacy"
	"github.com/meridianplane/meridian/ent/user"
	"github.com/meridianplane/meridian/internal/viewer"
)

type verifiedKey struct{}

// WithVerifiedPassword marks ctx as carrying proof that the user typed their
// current password: only then may they set a new one on their own account.
func WithVerifiedPassword(ctx context.Context, userID int) context.Context {
	return context.WithValue(ctx, verifiedKey{}, userID)
}

func passwordVerified(ctx context.Context, userID int) bool {
	id, ok := ctx.Value(verifiedKey{}).(int)
	return ok && id == userID
}

// UserWrite governs changes to users. Anyone may edit their own name and
// phone, and their own password after proving the current one; nobody
// changes their own role or status. Admins manage other users; only the
// super-admin grants admin roles or changes an admin's account.
func UserWrite() privacy.MutationRule {
	return privacy.UserMutationRuleFunc(func(ctx context.Context, m *ent.UserMutation) error {
		v := viewer.FromContext(ctx)
		if v == nil {
			return privacy.Denyf("unauthenticated")
		}
		if id, ok := m.ID(); ok && id == v.UserID && m.Op().Is(ent.OpUpdateOne) {
			return selfUpdate(ctx, m, v)
		}
		if !v.IsAdmin() {
			return privacy.Denyf("admin role required")
		}
		if r, ok := m.Role(); ok && viewer.Role(r).Rank() >= viewer.RoleAdmin.Rank() && !v.IsSuperAdmin() {
			return privacy.Denyf("only the super-admin grants admin roles")
		}
		if m.Op().Is(ent.OpCreate) {
			return privacy.Skip
		}
		ids, err := m.IDs(ctx)
		if err != nil {
			return err
		}
		if slices.Contains(ids, v.UserID) {
			return privacy.Denyf("change your own account one field at a time, not in a bulk change")
		}
		if v.IsSuperAdmin() {
			return privacy.Skip
		}
		n, err := m.Client().User.Query().Where(user.IDIn(ids...), user.RoleIn(user.RoleAdmin, user.RoleSuperAdmin)).Count(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return privacy.Denyf("only the super-admin changes admin accounts")
		}
		return privacy.Skip
	})
}

func selfUpdate(ctx context.Context, m *ent.UserMutation, v *viewer.Viewer) error {
	for _, f := range m.Fields() {
		switch f {
		case user.FieldRealName, user.FieldPhone, user.FieldUpdatedAt:
		case user.FieldPasswordHash:
			if !passwordVerified(ctx, v.UserID) {
				return privacy.Denyf("your own password changes only with the current one (changePassword)")
			}
		default:
			return privacy.Denyf("you cannot change your own %s", f)
		}
	}
	return privacy.Skip
}

// BusinessAudit lets only admins set a business's status and comment. A new
// business starts pending with no comment.
func BusinessAudit() privacy.MutationRule {
	return privacy.BusinessMutationRuleFunc(func(ctx context.Context, m *ent.BusinessMutation) error {
		if viewer.FromContext(ctx).MayAudit() {
			return privacy.Skip
		}
		s, st := m.Status()
		c, cm := m.Comment()
		if m.Op().Is(ent.OpCreate) {
			st, cm = st && s != business.StatusPending, cm && c != ""
		}
		if st || cm {
			return privacy.Denyf("only an admin audits a business")
		}
		return privacy.Skip
	})
}

// RealClustersByAdmins lets only admins register or change container
// managers that reach a real cluster; anyone may have a simulated one.
func RealClustersByAdmins() privacy.MutationRule {
	return privacy.ContainerManagerMutationRuleFunc(func(ctx context.Context, m *ent.ContainerManagerMutation) error {
		if viewer.FromContext(ctx).IsAdmin() {
			return privacy.Skip
		}
		if k, ok := m.Kind(); ok && k != containermanager.KindSimulator {
			return privacy.Denyf("only an admin registers a real cluster")
		}
		if m.Op().Is(ent.OpUpdate | ent.OpUpdateOne) {
			return privacy.Denyf("only an admin changes how a cluster is reached")
		}
		return privacy.Skip
	})
}

// DeploymentAudit keeps the admin audit of deployments to admins: a
// non-admin's new deployment waits for audit unless the tenant runs its
// deployments without one (enable_admin_auto_deploy); only an admin moves a
// deployment out of awaiting audit (but to deleted) or records an audit.
func DeploymentAudit() privacy.MutationRule {
	return privacy.DeploymentMutationRuleFunc(func(ctx context.Context, m *ent.DeploymentMutation) error {
		v := viewer.FromContext(ctx)
		if v.MayAudit() {
			return privacy.Skip
		}
		if _, ok := m.AuditedBy(); ok {
			return privacy.Denyf("only an admin audits a deployment")
		}
		if c, ok := m.AuditComment(); ok && (c != "" || !m.Op().Is(ent.OpCreate)) {
			return privacy.Denyf("only an admin audits a deployment")
		}
		st, set := m.Status()
		switch {
		case m.Op().Is(ent.OpCreate):
			if !set || st == deployment.StatusAwaitingAudit {
				return privacy.Skip
			}
			tid, _ := m.TenantID()
			if tid == 0 {
				tid = v.TenantID
			}
			t, err := m.Client().Tenant.Get(System(ctx), tid)
			if err != nil {
				return privacy.Denyf("tenant of the deployment: %v", err)
			}
			if v.AwaitsAudit(t.EnableAdminAutoDeploy) {
				return privacy.Denyf("a deployment waits for admin audit")
			}
		case m.Op().Is(ent.OpUpdateOne) && set && st != deployment.StatusDeleted && st != deployment.StatusAwaitingAudit:
			old, err := m.OldStatus(ctx)
			if err != nil {
				return privacy.Denyf("deployment status: %v", err)
			}
			if old == deployment.StatusAwaitingAudit {
				return privacy.Denyf("the deployment waits for admin audit")
			}
		}
		return privacy.Skip
	})
}
