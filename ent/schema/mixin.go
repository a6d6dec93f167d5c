package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
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

// TenantMixin makes a schema tenant-owned: a tenant_id column, the tenant edge,
// and the tenant isolation policy (see policy.go).
type TenantMixin struct {
	mixin.Schema
	// FromParent, when set, names the edge whose target's tenant a new row
	// inherits (a node inherits its cluster's tenant). Otherwise a new row
	// belongs to the viewer's tenant unless an admin names another.
	FromParent string
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

// PublicReadMixin is a TenantMixin whose rows every viewer may read when
// they are public: the row's own public field, or the one at the end of the
// Via edges (an image is public when its project is). See policy.go.
type PublicReadMixin struct {
	TenantMixin
	FromParent string
	Via        []string
}

// Hooks of the PublicReadMixin: new rows get their tenant.
func (m PublicReadMixin) Hooks() []ent.Hook { return TenantMixin{FromParent: m.FromParent}.Hooks() }
