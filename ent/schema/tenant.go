package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/meridianplane/meridian/internal/policy"
)

// Tenant is an isolation unit: every owned row belongs to exactly one. Each
// user has a tenant of their own (OTE-Stack's user namespace).
type Tenant struct{ ent.Schema }

// Mixin of the Tenant.
func (Tenant) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Policy of the Tenant: admins manage tenants; members read their own.
func (Tenant) Policy() ent.Policy { return policy.TenantRow() }

// Fields of the Tenant.
func (Tenant) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Unique().NotEmpty().MaxLen(64).
			Annotations(entgql.OrderField("NAME")),
		field.Bool("private_project").Default(true).
			Comment("New registry projects of this tenant are private."),
		field.Bool("enable_ingress").Default(false),
		field.Bool("enable_alert").Default(false),
		field.Bool("enable_admin_auto_deploy").Default(false).
			Comment("Deployments of this tenant run without waiting for admin audit."),
	}
}

// Edges of the Tenant.
func (Tenant) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("businesses", Business.Type).Ref("tenant").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Annotations of the Tenant.
func (Tenant) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationUpdate()),
	}
}
