package policy

import (
	"github.com/meridianplane/meridian/ent"

	"github.com/meridianplane/meridian/ent/privacy"
)

// The policies of the schemas. Each one ends in privacy.AlwaysDenyRule, so
// what its rules do not allow is denied; a schema passes its own mutation
// rules (they deny or skip), which run after the generic denials and before
// anything is allowed.

// TenantOwned is the policy of a tenant-owned schema (see TenantMixin):
// an authenticated viewer; no writes by guests; then the schema's own
// mutation rules; admins everywhere, everyone else in their tenant only.
func TenantOwned(mutation ...privacy.MutationRule) ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			RequireViewer(),
			AllowAdmin(),
			AllowOwnTenant(),
			privacy.AlwaysDenyRule(),
		},
		Mutation: ownedMutations(mutation),
	}
}

// PublicRead is TenantOwned where every member of a tenant also reads the
// public rows: those whose public field is true, or whose row at the end of
// the via edges is public.
func PublicRead(via []string, mutation ...privacy.MutationRule) ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			RequireViewer(),
			AllowAdmin(),
			AllowOwnTenantOrPublic(via...),
			privacy.AlwaysDenyRule(),
		},
		Mutation: ownedMutations(mutation),
	}
}

func ownedMutations(own []privacy.MutationRule) privacy.MutationPolicy {
	p := privacy.MutationPolicy{RequireViewer(), DenyReadOnly()}
	p = append(p, own...)
	return append(p, AllowAdmin(), AllowOwnTenant(), privacy.AlwaysDenyRule())
}

// TenantRow is the policy of the Tenant: admins manage tenants; a member
// reads their own.
func TenantRow() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			RequireViewer(),
			AllowAdmin(),
			AllowOwnTenantRow(),
			privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			RequireViewer(),
			DenyReadOnly(),
			AllowAdmin(),
			privacy.AlwaysDenyRule(),
		},
	}
}

// ServerOnly is the policy of rows only the server itself reads and writes
// (under System): sessions, settings.
func ServerOnly() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{privacy.AlwaysDenyRule()},
	}
}
