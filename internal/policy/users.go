package policy

import (
	"context"
	"slices"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/business"
	"github.com/meridianplane/meridian/ent/privacy"
	"github.com/meridianplane/meridian/ent/user"
	"github.com/meridianplane/meridian/internal/viewer"
)

// selfEditable are the user fields a non-admin may change on their own row.
var selfEditable = []string{user.FieldPasswordHash, user.FieldRealName, user.FieldPhone, user.FieldUpdatedAt}

// UserWrite governs changes to users: admins manage users (only the
// super-admin grants admin roles or touches a super-admin); anyone else may
// only edit their own name, phone and password.
func UserWrite() privacy.MutationRule {
	return privacy.UserMutationRuleFunc(func(ctx context.Context, m *ent.UserMutation) error {
		v := viewer.FromContext(ctx)
		if v == nil {
			return privacy.Denyf("unauthenticated")
		}
		if v.IsAdmin() {
			if r, ok := m.Role(); ok && viewer.Role(r).Rank() >= viewer.RoleAdmin.Rank() && !v.IsSuperAdmin() {
				return privacy.Denyf("only the super-admin grants admin roles")
			}
			if m.Op().Is(ent.OpCreate) || v.IsSuperAdmin() {
				return privacy.Skip
			}
			ids, err := m.IDs(ctx)
			if err != nil {
				return err
			}
			n, err := m.Client().User.Query().Where(user.IDIn(ids...), user.RoleIn(user.RoleAdmin, user.RoleSuperAdmin)).Count(ctx)
			if err != nil {
				return err
			}
			if n > 0 {
				return privacy.Denyf("only the super-admin changes admin accounts")
			}
			return privacy.Skip
		}
		if !m.Op().Is(ent.OpUpdateOne) {
			return privacy.Denyf("admin role required")
		}
		if id, ok := m.ID(); !ok || id != v.UserID {
			return privacy.Denyf("users may only change their own account")
		}
		for _, f := range m.Fields() {
			if !slices.Contains(selfEditable, f) {
				return privacy.Denyf("field %q can only be changed by an admin", f)
			}
		}
		return privacy.Skip
	})
}

// BusinessAudit lets only admins set a business's status and comment. A new
// business starts pending with no comment.
func BusinessAudit() privacy.MutationRule {
	return privacy.BusinessMutationRuleFunc(func(ctx context.Context, m *ent.BusinessMutation) error {
		if viewer.FromContext(ctx).IsAdmin() {
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

// AssignOwner sets a new business's user_id to the viewer.
func AssignOwner() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			bm, ok := m.(*ent.BusinessMutation)
			if ok && m.Op().Is(ent.OpCreate) {
				if _, set := bm.UserID(); !set {
					if v := viewer.FromContext(ctx); v != nil {
						bm.SetUserID(v.UserID)
					}
				}
			}
			return next.Mutate(ctx, m)
		})
	}
}
