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

// Cluster is a Kubernetes cluster Meridian drives.
type Cluster struct{ ent.Schema }

// Mixin of the Cluster.
func (Cluster) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Parents: []string{"container_manager"}}}
}

// Policy of the Cluster.
func (Cluster) Policy() ent.Policy { return policy.TenantOwned() }

// Fields of the Cluster.
func (Cluster) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(63).Match(nameRE).
			Annotations(entgql.OrderField("NAME")),
		field.String("description").Default("").MaxLen(1024),
		field.Bool("ready").Default(false).
			Annotations(entgql.OrderField("READY")),
		field.String("kubernetes_version").Default("").MaxLen(64),
		field.Int("container_manager_id").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.String("last_error").Default("").MaxLen(4096).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)).
			Comment("Why the cluster is not reachable, when it is not."),
		field.Time("connected_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)).
			Comment("When Meridian last reached the cluster."),
	}
}

// Edges of the Cluster.
func (Cluster) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("nodes", Node.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.To("labels", ClusterLabel.Type).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.From("container_manager", ContainerManager.Type).Ref("clusters").Field("container_manager_id").Unique().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.To("deployments", Deployment.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the Cluster.
func (Cluster) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "name").Unique()}
}

// Annotations of the Cluster.
func (Cluster) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
