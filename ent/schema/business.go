package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/meridianplane/meridian/internal/policy"
)

// Business is a business case a user submits and an admin audits.
type Business struct{ ent.Schema }

// Mixin of the Business.
func (Business) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}, TenantMixin{}} }

// Policy of the Business: only admins audit.
func (Business) Policy() ent.Policy { return policy.TenantOwned(policy.BusinessAudit()) }

// Hooks of the Business: its user is the one who submits it.
func (Business) Hooks() []ent.Hook { return []ent.Hook{policy.AssignCreator("user_id")} }

// Fields of the Business.
func (Business) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(128).Annotations(entgql.OrderField("NAME")),
		field.Text("introduce").Default("").MaxLen(4096),
		field.Text("objective").Default("").MaxLen(4096),
		field.String("scale").Default("").MaxLen(256),
		field.Enum("status").Values("pending", "approved", "rejected").Default("pending").
			Annotations(entgql.OrderField("STATUS"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.String("comment").Default("").MaxLen(1024).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Int("user_id").Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Edges of the Business.
func (Business) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("businesses").Field("user_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Annotations of the Business.
func (Business) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate()),
	}
}
