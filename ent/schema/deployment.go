package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/meridianplane/meridian/internal/appspec"
	"github.com/meridianplane/meridian/internal/policy"
)

// Deployment is an application version placed on a cluster, on the nodes
// with a label (or every node), or on one node.
type Deployment struct{ ent.Schema }

// Mixin of the Deployment.
func (Deployment) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Parents: []string{"application", "cluster"}}}
}

// Policy of the Deployment: only admins audit.
func (Deployment) Policy() ent.Policy { return policy.TenantOwned(policy.DeploymentAudit()) }

// Fields of the Deployment.
func (Deployment) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(53).Match(dnsLabelRE).Immutable().
			Annotations(entgql.OrderField("NAME")),
		field.Int("application_id").Immutable(),
		field.Int("version_id"),
		field.Int("cluster_id").Immutable(),
		field.String("namespace").NotEmpty().MaxLen(63).Immutable(),
		field.String("node_label").Default("all").MaxLen(63).
			Comment(`Run on the nodes with this label; "all" for every node.`),
		field.Int("node_id").Optional().Nillable().Comment("Run on this node only."),
		field.Enum("status").
			Values("awaiting_audit", "rejected", "pending", "deploying", "running", "failed", "deleting", "deleted").
			Default("pending").
			Annotations(entgql.OrderField("STATUS")).
			Comment("awaiting_audit: created by a normal user, waiting for an admin; rejected: the admin said no (it never touched the cluster); pending: waiting for its operation; deploying: being applied or rolling out; running: every pod ready; failed: see message; deleting; deleted."),
		field.Enum("action").Values("install", "upgrade", "rollback", "delete").Default("install").
			Comment("What the deployment's latest revision does or did."),
		field.String("audit_comment").Default("").MaxLen(1024).Comment("The admin's comment at audit."),
		field.Int("audited_by").Optional().Nillable().Comment("The admin who audited the deployment."),
		field.String("message").Default("").MaxLen(4096).Comment("Why the deployment failed, when it did."),
		field.Int("running_pods").Default(0).NonNegative(),
		field.Int("error_pods").Default(0).NonNegative(),
		field.Int("total_pods").Default(0).NonNegative(),
		field.String("comment").Default("").MaxLen(1024),
	}
}

// Edges of the Deployment.
func (Deployment) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("application", Application.Type).Ref("deployments").Field("application_id").Unique().Required().Immutable(),
		edge.To("version", ApplicationVersion.Type).Field("version_id").Unique().Required(),
		edge.From("cluster", Cluster.Type).Ref("deployments").Field("cluster_id").Unique().Required().Immutable(),
		edge.To("node", Node.Type).Field("node_id").Unique(),
		edge.To("revisions", DeploymentRevision.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.To("workloads", Workload.Type).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.To("operations", Operation.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the Deployment.
func (Deployment) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("cluster_id", "namespace", "name").Unique(),
		index.Fields("tenant_id", "name"),
		index.Fields("status"),
	}
}

// Annotations of the Deployment.
func (Deployment) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}

// DeploymentRevision is one step of a deployment's history.
type DeploymentRevision struct{ ent.Schema }

// Mixin of the DeploymentRevision.
func (DeploymentRevision) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Parents: []string{"deployment"}}}
}

// Policy of the DeploymentRevision.
func (DeploymentRevision) Policy() ent.Policy { return policy.TenantOwned() }

// Hooks of the DeploymentRevision: its user is the one who asked for it.
func (DeploymentRevision) Hooks() []ent.Hook { return []ent.Hook{policy.AssignCreator("user_id")} }

// Fields of the DeploymentRevision.
func (DeploymentRevision) Fields() []ent.Field {
	return []ent.Field{
		field.Int("deployment_id").Immutable(),
		field.Int("revision").Positive().Immutable().Annotations(entgql.OrderField("REVISION")),
		field.Enum("action").Values("install", "upgrade", "rollback", "delete").Immutable(),
		field.Int("from_version_id").Optional().Nillable().Immutable(),
		field.Int("to_version_id").Optional().Nillable().Immutable(),
		field.Int("user_id").Optional().Nillable().Immutable(),
		field.Enum("result").Values("pending", "succeeded", "failed", "cancelled").Default("pending"),
		field.String("message").Default("").MaxLen(4096),
		field.Time("finished_at").Optional().Nillable(),
	}
}

// Edges of the DeploymentRevision.
func (DeploymentRevision) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("deployment", Deployment.Type).Ref("revisions").Field("deployment_id").Unique().Required().Immutable(),
		edge.To("from_version", ApplicationVersion.Type).Field("from_version_id").Unique().Immutable(),
		edge.To("to_version", ApplicationVersion.Type).Field("to_version_id").Unique().Immutable(),
		edge.To("user", User.Type).Field("user_id").Unique().Immutable(),
	}
}

// Indexes of the DeploymentRevision.
func (DeploymentRevision) Indexes() []ent.Index {
	return []ent.Index{index.Fields("deployment_id", "revision").Unique()}
}

// Annotations of the DeploymentRevision.
func (DeploymentRevision) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}

// Workload is one component of a deployment as it runs: a Kubernetes
// Deployment or DaemonSet with its pods.
type Workload struct{ ent.Schema }

// Mixin of the Workload.
func (Workload) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Parents: []string{"deployment"}}}
}

// Policy of the Workload.
func (Workload) Policy() ent.Policy { return policy.TenantOwned() }

// Fields of the Workload.
func (Workload) Fields() []ent.Field {
	return []ent.Field{
		field.Int("deployment_id").Immutable(),
		field.String("name").NotEmpty().MaxLen(253).Immutable(),
		field.Enum("kind").Values("Deployment", "DaemonSet").Immutable(),
		field.Int("replicas").Default(0).NonNegative().Comment("Desired pods."),
		field.Int("cpu").Default(0).NonNegative().Comment("CPU request per pod in millicores."),
		field.Int("memory").Default(0).NonNegative().Comment("Memory request per pod in MiB."),
		field.Int("running_pods").Default(0).NonNegative(),
		field.Int("error_pods").Default(0).NonNegative(),
		field.Int("total_pods").Default(0).NonNegative(),
		field.JSON("pods", []appspec.Pod{}).Optional().Annotations(entgql.Type("[Pod!]")),
	}
}

// Edges of the Workload.
func (Workload) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("deployment", Deployment.Type).Ref("workloads").Field("deployment_id").Unique().Required().Immutable(),
	}
}

// Indexes of the Workload.
func (Workload) Indexes() []ent.Index {
	return []ent.Index{index.Fields("deployment_id", "name").Unique()}
}

// Annotations of the Workload.
func (Workload) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}
