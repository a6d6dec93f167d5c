// Package policy holds the privacy rules, policies and hooks that the ent
// schemas use for tenant isolation and roles. No handler or resolver checks
// tenants or roles itself: every read and write goes through these rules.
//
// Privacy denies by default. Every policy built here (see policies.go) ends in
// privacy.AlwaysDenyRule: a rule allows only what it grants (AllowAdmin,
// AllowOwnTenant...), denies what it forbids (RequireViewer, DenyReadOnly,
// UserWrite...), and skips otherwise; a query or mutation that no rule allows
// is denied. A context carrying privacy.Allow (see System) bypasses every
// policy: the server uses it only for its own bookkeeping (login, token
// checks, bootstrap, workers).
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

// isSystem reports whether ctx bypasses privacy (see System).
func isSystem(ctx context.Context) bool {
	d, ok := privacy.DecisionFromContext(ctx)
	return ok && d == nil
}

// tenantFilter is implemented by the entql filters of tenant-owned entities.
type tenantFilter interface{ WhereTenantID(entql.IntP) }

// tenantMutation is implemented by the mutations of tenant-owned entities.
type tenantMutation interface {
	TenantID() (int, bool)
	SetTenantID(int)
}

// member returns the viewer when they belong to a tenant with a known role
// (guest and up), or nil: an anonymous caller, or a viewer without a tenant
// or with a role no rule knows, is granted nothing by the tenant rules.
func member(ctx context.Context) *viewer.Viewer {
	v := viewer.FromContext(ctx)
	if v == nil || v.TenantID == 0 || v.Role.Rank() == 0 {
		return nil
	}
	return v
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

// DenyReadOnly denies mutations by guests (and viewers of no known role),
// but for edits of their own account (UserWrite limits those to name, phone
// and password).
func DenyReadOnly() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		if v == nil {
			return privacy.Denyf("unauthenticated")
		}
		if !v.ReadOnly() {
			return privacy.Skip
		}
		if um, ok := m.(*ent.UserMutation); ok && m.Op().Is(ent.OpUpdateOne) && v.Role.Rank() > 0 {
			if id, ok := um.ID(); ok && id == v.UserID {
				return privacy.Skip
			}
		}
		return privacy.Denyf("read-only access")
	})
}

// AllowAdmin allows admins and the super-admin what the rules before it did
// not deny: they see and change every tenant's rows.
func AllowAdmin() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if viewer.FromContext(ctx).IsAdmin() {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowOwnTenant allows a member of a tenant the rows of their tenant:
// queries, counts, updates and deletes are confined to tenant_id = theirs,
// and a create may name no tenant (AssignTenant then gives it theirs or its
// parent's, which must be theirs) or their own. A create naming another
// tenant is denied; anyone else skips.
func AllowOwnTenant() privacy.QueryMutationRule { return ownTenant{} }

type ownTenant struct{}

// EvalQuery confines the query to the viewer's tenant.
func (ownTenant) EvalQuery(ctx context.Context, q ent.Query) error {
	return privacy.FilterFunc(confineToTenant).EvalQuery(ctx, q)
}

// EvalMutation checks a create's tenant and confines other mutations.
func (ownTenant) EvalMutation(ctx context.Context, m ent.Mutation) error {
	if !m.Op().Is(ent.OpCreate) {
		return privacy.FilterFunc(confineToTenant).EvalMutation(ctx, m)
	}
	v := member(ctx)
	if v == nil {
		return privacy.Skip
	}
	tm, ok := m.(tenantMutation)
	if !ok {
		return privacy.Denyf("policy: %s is not tenant-owned", m.Type())
	}
	if tid, set := tm.TenantID(); set && tid != v.TenantID {
		return privacy.Denyf("cannot create rows in another tenant")
	}
	return privacy.Allow
}

func confineToTenant(ctx context.Context, f privacy.Filter) error {
	v := member(ctx)
	if v == nil {
		return privacy.Skip
	}
	tf, ok := f.(tenantFilter)
	if !ok {
		return privacy.Denyf("policy: %T is not tenant-owned", f)
	}
	tf.WhereTenantID(entql.IntEQ(v.TenantID))
	return privacy.Allow
}

// AllowOwnTenantOrPublic allows a member of a tenant to read the rows of
// their tenant and the public ones: rows whose public field is true, or,
// with via, whose row at the end of those edges is public (an image is
// public when its project is).
func AllowOwnTenantOrPublic(via ...string) privacy.QueryRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v := member(ctx)
		if v == nil {
			return privacy.Skip
		}
		public := entql.FieldEQ("public", true)
		for i := len(via) - 1; i >= 0; i-- {
			public = entql.HasEdgeWith(via[i], public)
		}
		f.Where(entql.Or(entql.FieldEQ("tenant_id", v.TenantID), public))
		return privacy.Allow
	})
}

// AllowOwnTenantRow allows a member of a tenant to read their own Tenant row.
func AllowOwnTenantRow() privacy.QueryRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v := member(ctx)
		if v == nil {
			return privacy.Skip
		}
		tf, ok := f.(*ent.TenantFilter)
		if !ok {
			return privacy.Denyf("policy: %T is not the tenant", f)
		}
		tf.WhereID(entql.IntEQ(v.TenantID))
		return privacy.Allow
	})
}
