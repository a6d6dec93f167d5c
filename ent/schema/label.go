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

// ClusterLabel is a label placed on one cluster.
type ClusterLabel struct{ ent.Schema }

// Mixin of the ClusterLabel.
func (ClusterLabel) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Parents: []string{"cluster"}}}
}

// Policy of the ClusterLabel.
func (ClusterLabel) Policy() ent.Policy { return policy.TenantOwned() }

// Fields of the ClusterLabel.
func (ClusterLabel) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(63).Match(labelRE).Immutable().
			Annotations(entgql.OrderField("NAME")),
		field.Int("cluster_id").Immutable(),
	}
}

// Edges of the ClusterLabel.
func (ClusterLabel) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("cluster", Cluster.Type).Ref("labels").Field("cluster_id").Unique().Required().Immutable(),
	}
}

// Indexes of the ClusterLabel.
func (ClusterLabel) Indexes() []ent.Index {
	return []ent.Index{index.Fields("cluster_id", "name").Unique(), index.Fields("tenant_id", "name")}
}

// Annotations of the ClusterLabel.
func (ClusterLabel) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}

// NodeLabel is a label placed on one node.
type NodeLabel struct{ ent.Schema }

// Mixin of the NodeLabel.
func (NodeLabel) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Parents: []string{"node"}}}
}

// Policy of the NodeLabel.
func (NodeLabel) Policy() ent.Policy { return policy.TenantOwned() }

// Fields of the NodeLabel.
func (NodeLabel) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(63).Match(labelRE).Immutable().
			Annotations(entgql.OrderField("NAME")),
		field.Int("node_id").Immutable(),
	}
}

// Edges of the NodeLabel.
func (NodeLabel) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("node", Node.Type).Ref("labels").Field("node_id").Unique().Required().Immutable(),
	}
}

// Indexes of the NodeLabel.
func (NodeLabel) Indexes() []ent.Index {
	return []ent.Index{index.Fields("node_id", "name").Unique(), index.Fields("tenant_id", "name")}
}

// Annotations of the NodeLabel.
func (NodeLabel) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}
