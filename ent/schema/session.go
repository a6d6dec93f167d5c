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

// Session is an issued token. Tokens carry the session's token_id; a revoked
// or expired session makes every token naming it invalid.
type Session struct{ ent.Schema }

// Mixin of the Session.
func (Session) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Policy of the Session: only the server itself (policy.System) reads or writes sessions.
func (Session) Policy() ent.Policy { return policy.ServerOnly() }

// Fields of the Session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.String("token_id").NotEmpty().Immutable().Unique(),
		field.Int("user_id").Immutable(),
		field.Time("expires_at").Comment("After this the session cannot be refreshed."),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// Edges of the Session.
func (Session) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("sessions").Field("user_id").Unique().Required().Immutable(),
	}
}

// Indexes of the Session.
func (Session) Indexes() []ent.Index { return []ent.Index{index.Fields("user_id")} }

// Annotations of the Session.
func (Session) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
