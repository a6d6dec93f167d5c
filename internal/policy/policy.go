// Package policy holds the privacy rules and hooks that the ent schemas use
// for tenant isolation and roles. No handler or resolver checks tenants or
// roles itself: every read and write goes through these rules.
//
// A rule here never allows outright; it denies or skips, so that rules later in
// a schema's policy still apply. A context carrying privacy.Allow (see System)
// bypasses every policy: the server uses it only for its own bookkeeping
// (login, token checks, bootstrap).
package policy

import (
	"context"

	"entgo.io/ent/entql"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/privacy"
	"github.com/meridianplane/meridian/internal/viewer"
)

// System returns a context that bypasses privacy, for the server's own work.
func System(ctx context.Context) context.Context {
	return privacy.DecisionContext(ctx, privacy.Allow)
}

// tenantFilter is implemented by the entql filters of tenant-owned entities.
type tenantFilter interface{ WhereTenantID(entql.IntP) }

// tenantMutation is implemented by the mutations of tenant-owned entities.
type tenantMutation interface {
	TenantID() (int, bool)
	SetTenantID(int)
}

// RequireViewer denies any query or mutation without an authenticated viewer.
func RequireViewer() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if viewer.FromContext(ctx) == nil {
			return privacy.Denyf("unauthenticated")
		}
		return privacy.Skip
	})
}

// DenyReadOnly denies mutations by guests, but for edits of their own
// account (UserWrite limits those to name, phone and password).
func DenyReadOnly() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		if v == nil {
			return privacy.Denyf("unauthenticated")
		}
		if !v.ReadOnly() {
			return privacy.Skip
		}
		if um, ok := m.(*ent.UserMutation); ok && m.Op().Is(ent.OpUpdateOne) {
			if id, ok := um.ID(); ok && id == v.UserID {
				return privacy.Skip
			}
		}
		return privacy.Denyf("read-only access")
	})
}

// AdminOnlyMutation denies mutations by non-admin viewers.
func AdminOnlyMutation() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, _ ent.Mutation) error {
		if !viewer.FromContext(ctx).IsAdmin() {
			return privacy.Denyf("admin role required")
		}
		return privacy.Skip
	})
}

// TenantFilter limits a non-admin viewer to the rows of their tenant: queries,
// counts, updates and deletes get a tenant_id predicate, and a create naming
// another tenant is denied. Admins see every tenant.
func TenantFilter() privacy.QueryMutationRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v, err := confined(ctx)
		if v == nil {
			return err
		}
		tf, ok := f.(tenantFilter)
		if !ok {
			return privacy.Denyf("policy: %T is not tenant-owned", f)
		}
		tf.WhereTenantID(entql.IntEQ(v.TenantID))
		return privacy.Skip
	})
}

// DenyForeignCreate denies a non-admin's create that names another tenant.
func DenyForeignCreate() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if !m.Op().Is(ent.OpCreate) {
			return privacy.Skip
		}
		v := viewer.FromContext(ctx)
		tm, ok := m.(tenantMutation)
		if !ok || v == nil {
			return privacy.Denyf("policy: cannot check tenant of %s", m.Type())
		}
		if tid, set := tm.TenantID(); set && tid != v.TenantID && !v.IsAdmin() {
			return privacy.Denyf("cannot create rows in another tenant")
		}
		return privacy.Skip
	})
}

// TenantIsViewer limits non-admins to their own Tenant row.
func TenantIsViewer() privacy.QueryMutationRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v := viewer.FromContext(ctx)
		if v == nil {
			return privacy.Denyf("unauthenticated")
		}
		tf, ok := f.(*ent.TenantFilter)
		if !ok {
			return privacy.Denyf("policy: unexpected filter %T", f)
		}
		if !v.IsAdmin() {
			tf.WhereID(entql.IntEQ(v.TenantID))
		}
		return privacy.Skip
	})
}

// TenantOrPublic limits a non-admin viewer to the rows of their tenant and
// the public ones: rows whose public field is true, or, with via, whose row
// at the end of those edges is public.
func TenantOrPublic(via ...string) privacy.QueryRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v, err := confined(ctx)
		if v == nil {
			return err
		}
		public := entql.FieldEQ("public", true)
		for i := len(via) - 1; i >= 0; i-- {
			public = entql.HasEdgeWith(via[i], public)
		}
		f.Where(entql.Or(entql.FieldEQ("tenant_id", v.TenantID), public))
		return privacy.Skip
	})
}

// confined returns the viewer whose rows a filter must confine to their
// tenant; nil with Skip for an admin (every tenant), nil with a denial for
// no viewer.
func confined(ctx context.Context) (*viewer.Viewer, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return nil, privacy.Denyf("unauthenticated")
	case v.IsAdmin():
		return nil, privacy.Skip
	}
	return v, nil
}
