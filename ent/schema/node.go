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

// Node is a machine: a Kubernetes node, a MEC host or a host managed over SSH.
type Node struct{ ent.Schema }

// Mixin of the Node.
func (Node) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Parents: []string{"cluster"}}}
}

// Policy of the Node.
func (Node) Policy() ent.Policy { return policy.TenantOwned() }

// Fields of the Node.
func (Node) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(253).Match(nameRE).
			Annotations(entgql.OrderField("NAME")),
		field.Int("cluster_id").Immutable(),
		field.String("address").Default("").MaxLen(253).
			Comment("IP address or host name the node is reached at."),
		field.String("operating_system").Default("").MaxLen(64).
			Comment("Kernel family as Kubernetes reports it, e.g. linux."),
		field.String("kernel_version").Default("").MaxLen(128),
		field.Bool("ready").Default(false).Annotations(entgql.OrderField("READY")),
		field.Enum("os").Values("atomic", "rhel", "centos", "fedora").Optional().Nillable().
			Comment("Distribution of a host managed over SSH."),
		field.Int("cpus").Default(0).NonNegative(),
		field.Int("memory").Default(0).NonNegative().Comment("Memory in MiB."),
		field.Int("space").Default(0).NonNegative().Comment("Disk space in MiB."),
		field.Time("last_check").Optional().Nillable(),
		field.Enum("status").Values("investigating", "bootstrapping", "disassociated", "active", "failed").Optional().Nillable().
			Comment("Lifecycle of a host managed over SSH."),
	}
}

// Edges of the Node.
func (Node) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("cluster", Cluster.Type).Ref("nodes").Field("cluster_id").Unique().Required().Immutable(),
		edge.To("labels", NodeLabel.Type).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the Node.
func (Node) Indexes() []ent.Index {
	return []ent.Index{index.Fields("cluster_id", "name").Unique(), index.Fields("tenant_id")}
}

// Annotations of the Node.
func (Node) Annotations() []schema.Annotation {
	return []schema.Annotation{
		// "Node" is the Relay interface; the entity is ClusterNode in the graph.
		entgql.Type("ClusterNode"),
		entgql.QueryField("clusterNodes"),
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
