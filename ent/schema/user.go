package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/meridianplane/meridian/internal/policy"
)

// User is a person who signs in to Meridian.
type User struct{ ent.Schema }

// Mixin of the User.
func (User) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}, TenantMixin{}} }

// Policy of the User: see policy.UserWrite.
func (User) Policy() ent.Policy { return policy.TenantOwned(policy.UserWrite()) }

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("username").NotEmpty().MaxLen(64).Immutable().
			Match(usernameRE).
			Annotations(entgql.OrderField("USERNAME")),
		field.String("password_hash").Sensitive().NotEmpty().
			Annotations(entgql.Skip()),
		field.String("real_name").Default("").MaxLen(128),
		field.String("phone").Default("").MaxLen(32),
		field.Enum("status").Values("pending", "active", "rejected", "disabled").Default("pending").
			Annotations(entgql.OrderField("STATUS"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Enum("role").Values("guest", "normal", "admin", "super_admin").Default("normal").
			Annotations(entgql.OrderField("ROLE"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Edges of the User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("sessions", Session.Type).Annotations(entgql.Skip()),
		edge.To("businesses", Business.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.To("registry_account", RegistryAccount.Type).Unique().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the User.
func (User) Indexes() []ent.Index {
	return []ent.Index{index.Fields("username").Unique()}
}

// Annotations of the User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationUpdate()),
	}
}
