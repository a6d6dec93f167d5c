package schema

import (
	"entgo.io/ent"

	"github.com/meridianplane/meridian/ent/privacy"
	"github.com/meridianplane/meridian/internal/policy"
)

// Policy of every tenant-owned schema: an authenticated viewer, no writes by
// guests, and non-admins confined to their tenant.
func (TenantMixin) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			policy.RequireViewer(),
			policy.DenyReadOnly(),
			policy.DenyForeignCreate(),
			policy.TenantFilter(),
		},
		Query: privacy.QueryPolicy{
			policy.RequireViewer(),
			policy.TenantFilter(),
		},
	}
}

// Hooks of every tenant-owned schema: new rows get their tenant.
func (m TenantMixin) Hooks() []ent.Hook {
	return []ent.Hook{policy.AssignTenant(m.FromParent)}
}

// Policy of the public-read schemas: as the tenant policy, but any viewer
// reads public rows.
func (m PublicReadMixin) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			policy.RequireViewer(),
			policy.DenyReadOnly(),
			policy.DenyForeignCreate(),
			policy.TenantFilter(),
		},
		Query: privacy.QueryPolicy{
			policy.RequireViewer(),
			policy.TenantOrPublic(m.Via...),
		},
	}
}

// Policy of the Tenant: admins manage tenants; others read their own.
func (Tenant) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{policy.RequireViewer(), policy.AdminOnlyMutation()},
		Query:    privacy.QueryPolicy{policy.RequireViewer(), policy.TenantIsViewer()},
	}
}

// Policy of the User, on top of the tenant policy.
func (User) Policy() ent.Policy {
	return privacy.Policy{Mutation: privacy.MutationPolicy{policy.UserWrite()}}
}

// Policy of the Business, on top of the tenant policy.
func (Business) Policy() ent.Policy {
	return privacy.Policy{Mutation: privacy.MutationPolicy{policy.BusinessAudit()}}
}

// Hooks of the Business.
func (Business) Hooks() []ent.Hook { return []ent.Hook{policy.AssignOwner()} }

// Policy of the Deployment, on top of the tenant policy.
func (Deployment) Policy() ent.Policy {
	return privacy.Policy{Mutation: privacy.MutationPolicy{policy.DeploymentAudit()}}
}

// Policy of the Session: only the server itself (policy.System) reads or writes sessions.
func (Session) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{privacy.AlwaysDenyRule()},
		Query:    privacy.QueryPolicy{privacy.AlwaysDenyRule()},
	}
}

// Policy of the Setting: only the server itself reads or writes settings.
func (Setting) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{privacy.AlwaysDenyRule()},
		Query:    privacy.QueryPolicy{privacy.AlwaysDenyRule()},
	}
}

// Policy of the ContainerManager: anyone may run a simulated cluster; only
// admins register real ones (Meridian connects to what they name).
func (ContainerManager) Policy() ent.Policy {
	return privacy.Policy{Mutation: privacy.MutationPolicy{policy.RealClustersByAdmins()}}
}
