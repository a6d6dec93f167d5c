package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"

	"github.com/meridianplane/meridian/internal/policy"
)

// TimeMixin adds created_at and updated_at, both orderable in GraphQL.
type TimeMixin struct{ mixin.Schema }

// Fields of the TimeMixin.
func (TimeMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Default(time.Now).Immutable().
			Annotations(entgql.OrderField("CREATED_AT"), entgql.Skip(entgql.SkipMutationCreateInput)),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now).
			Annotations(entgql.OrderField("UPDATED_AT"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// TenantMixin makes a schema tenant-owned: a tenant_id column, the tenant
// edge, and a hook that gives every new row its tenant (policy.AssignTenant):
// the tenant of the rows its Parents edges point at, or else the viewer's.
// No workflow sets tenant_id by hand, and no list outside the schema names
// the parents. Who may read and write the rows is the schema's Policy
// (policy.TenantOwned or policy.PublicRead).
type TenantMixin struct {
	mixin.Schema
	// Parents names unique edges to tenant-owned rows (a node's "cluster"):
	// a new row belongs to their tenant, every parent it sets must be in the
	// same tenant, and a non-admin may hang rows only under their own.
	Parents []string
}

// Fields of the TenantMixin.
func (TenantMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Int("tenant_id").Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Edges of the TenantMixin.
func (TenantMixin) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("tenant", Tenant.Type).Field("tenant_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Hooks of the TenantMixin: new rows get their tenant.
func (m TenantMixin) Hooks() []ent.Hook {
	return []ent.Hook{policy.AssignTenant(m.Parents...)}
}

// CreatorMixin records who created a row: created_by, set to the viewer by
// a hook (policy.AssignCreator); empty for rows the server creates itself.
// Clients never set it.
type CreatorMixin struct{ mixin.Schema }

// Fields of the CreatorMixin.
func (CreatorMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Int("created_by").Optional().Nillable().Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)).
			Comment("The user who created the row."),
	}
}

// Hooks of the CreatorMixin.
func (CreatorMixin) Hooks() []ent.Hook {
	return []ent.Hook{policy.AssignCreator("created_by")}
}
