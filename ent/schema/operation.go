package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/meridianplane/meridian/internal/policy"
)

// Operation is durable work against a backend, written in the transaction of
// the request that asks for it and carried out by a worker
// (internal/operations): pending -> running -> succeeded | failed, or
// cancelled.
type Operation struct{ ent.Schema }

// Mixin of the Operation.
func (Operation) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Parents: []string{"deployment", "cluster"}}, CreatorMixin{}}
}

// Policy of the Operation.
func (Operation) Policy() ent.Policy { return policy.TenantOwned() }

// Fields of the Operation.
func (Operation) Fields() []ent.Field {
	return []ent.Field{
		field.String("kind").NotEmpty().MaxLen(64).Immutable().Annotations(entgql.OrderField("KIND")).
			Comment("What the operation does, e.g. deployment.install or cluster.connect."),
		field.Enum("status").Values("pending", "running", "succeeded", "failed", "cancelled").Default("pending").
			Annotations(entgql.OrderField("STATUS")),
		field.Int("attempts").Default(0).NonNegative(),
		field.Int("max_attempts").Default(3).Positive(),
		field.String("last_error").Default("").MaxLen(4096),
		field.JSON("payload", map[string]any{}).Optional().Immutable().Annotations(entgql.Type("Map")),
		field.JSON("result", map[string]any{}).Optional().Annotations(entgql.Type("Map")),
		field.Int("deployment_id").Optional().Nillable().Immutable(),
		field.Int("cluster_id").Optional().Nillable().Immutable(),
		field.Bool("cancel_requested").Default(false),
		field.String("claimed_by").Default("").MaxLen(128).Annotations(entgql.Skip()),
		field.Time("lease_until").Optional().Nillable().Annotations(entgql.Skip()),
		field.Time("run_after").Default(time.Now).Annotations(entgql.Skip()),
		field.JSON("checkpoint", map[string]any{}).Optional().Annotations(entgql.Skip()).
			Comment("What a snoozed operation keeps for its next check (operations.Snooze)."),
		field.String("unique_key").Optional().Nillable().Unique().Immutable().MaxLen(128).Annotations(entgql.Skip()).
			Comment("Set on the one row of a periodic kind (operations.Runner.Every)."),
		field.Time("started_at").Optional().Nillable(),
		field.Time("finished_at").Optional().Nillable(),
	}
}

// Edges of the Operation.
func (Operation) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("deployment", Deployment.Type).Ref("operations").Field("deployment_id").Unique().Immutable(),
		edge.To("cluster", Cluster.Type).Field("cluster_id").Unique().Immutable(),
	}
}

// Indexes of the Operation.
func (Operation) Indexes() []ent.Index {
	return []ent.Index{index.Fields("status", "run_after"), index.Fields("deployment_id")}
}

// Annotations of the Operation.
func (Operation) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}
