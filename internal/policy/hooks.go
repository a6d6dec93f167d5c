package policy

import (
	"context"
	"fmt"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/privacy"
	"github.com/meridianplane/meridian/internal/viewer"
)

// parentTenanter is implemented by every generated mutation (see
// ent/template/tenant_parent.tmpl): the tenant of the row a unique edge of
// the mutation points at, loaded under the caller's privacy.
type parentTenanter interface {
	ParentTenant(ctx context.Context, edge string) (tenant int, set bool, err error)
}

// AssignTenant gives a new row its tenant: the tenant of the rows its parents
// edges point at (all that are set must agree), else the tenant it names
// (admins and the server only: AllowOwnTenant denies others), else the
// viewer's. A parent is loaded under the caller's privacy, so a parent the
// caller cannot see is not found, and a non-admin cannot hang a row under
// another tenant's (a public project's, say).
func AssignTenant(parents ...string) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			if !m.Op().Is(ent.OpCreate) {
				return next.Mutate(ctx, m)
			}
			tm, ok := m.(tenantMutation)
			if !ok {
				return nil, fmt.Errorf("policy: %s is not tenant-owned", m.Type())
			}
			tid, err := ownerTenant(ctx, m, tm, parents)
			if err != nil {
				return nil, err
			}
			if v := viewer.FromContext(ctx); !isSystem(ctx) && !v.IsAdmin() && (v == nil || tid != v.TenantID) {
				return nil, privacy.Denyf("cannot create a %s in another tenant", m.Type())
			}
			tm.SetTenantID(tid)
			return next.Mutate(ctx, m)
		})
	}
}

// ownerTenant is the tenant a new row belongs to (see AssignTenant).
func ownerTenant(ctx context.Context, m ent.Mutation, tm tenantMutation, parents []string) (int, error) {
	tid, named := tm.TenantID()
	from := "tenant_id"
	if len(parents) > 0 {
		pm, ok := m.(parentTenanter)
		if !ok {
			return 0, fmt.Errorf("policy: %s cannot load its parents", m.Type())
		}
		for _, p := range parents {
			pt, set, err := pm.ParentTenant(ctx, p)
			switch {
			case err != nil:
				return 0, err
			case !set:
				continue
			case named && pt != tid:
				return 0, fmt.Errorf("policy: a %s must belong to the tenant of its %s (the %s names another)", m.Type(), p, from)
			}
			tid, named, from = pt, true, p
		}
	}
	if named {
		return tid, nil
	}
	if v := viewer.FromContext(ctx); v != nil && v.TenantID != 0 {
		return v.TenantID, nil
	}
	return 0, fmt.Errorf("policy: no tenant for the new %s", m.Type())
}

// AssignCreator sets field (an int: created_by, or a user_id edge field) of
// a new row to the viewer when the mutation leaves it unset. Only admins and
// the server record someone else.
func AssignCreator(field string) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			if !m.Op().Is(ent.OpCreate) {
				return next.Mutate(ctx, m)
			}
			v := viewer.FromContext(ctx)
			switch set, ok := m.Field(field); {
			case !ok && v != nil && v.UserID != 0:
				if err := m.SetField(field, v.UserID); err != nil {
					return nil, fmt.Errorf("policy: creator of %s: %w", m.Type(), err)
				}
			case ok && !isSystem(ctx) && !v.IsAdmin() && (v == nil || set != v.UserID):
				return nil, privacy.Denyf("cannot create a %s on behalf of another user", m.Type())
			}
			return next.Mutate(ctx, m)
		})
	}
}
