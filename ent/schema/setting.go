package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"

	"github.com/meridianplane/meridian/internal/policy"
)

// Setting is a server-wide key/value, such as the generated JWT signing key.
// Only the server itself reads and writes settings.
type Setting struct{ ent.Schema }

// Mixin of the Setting.
func (Setting) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Policy of the Setting: only the server itself reads or writes settings.
func (Setting) Policy() ent.Policy { return policy.ServerOnly() }

// Fields of the Setting.
func (Setting) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").NotEmpty().Unique().Immutable(),
		field.Text("value").Sensitive(),
	}
}

// Annotations of the Setting.
func (Setting) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
