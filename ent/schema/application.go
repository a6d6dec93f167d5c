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

// Application is something deployable: a workload or a Helm chart, in
// immutable versions.
type Application struct{ ent.Schema }

// Mixin of the Application.
func (Application) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}, TenantMixin{}} }

// Policy of the Application.
func (Application) Policy() ent.Policy { return policy.TenantOwned() }

// Fields of the Application.
func (Application) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(53).Match(dnsLabelRE).Immutable().
			Annotations(entgql.OrderField("NAME")).
			Comment("A DNS label: it names the Kubernetes objects."),
		field.Enum("type").Values("app", "service", "resource", "resource_instance").Default("app"),
		field.String("description").Default("").MaxLen(1024),
	}
}

// Edges of the Application.
func (Application) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("versions", ApplicationVersion.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.To("deployments", Deployment.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the Application.
func (Application) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "name").Unique()}
}

// Annotations of the Application.
func (Application) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection(), entgql.Mutations(entgql.MutationCreate())}
}

// ApplicationVersion is an immutable version of an application: a workload
// spec, or a Helm chart archive with its values.
type ApplicationVersion struct{ ent.Schema }

// Mixin of the ApplicationVersion.
func (ApplicationVersion) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Parents: []string{"application"}}, CreatorMixin{}}
}

// Policy of the ApplicationVersion.
func (ApplicationVersion) Policy() ent.Policy { return policy.TenantOwned() }

// Fields of the ApplicationVersion.
func (ApplicationVersion) Fields() []ent.Field {
	return []ent.Field{
		field.Int("application_id").Immutable(),
		field.String("version").NotEmpty().MaxLen(32).Immutable().
			Annotations(entgql.OrderField("VERSION")).
			Comment("x.y.N: the client's main version x.y and a number counted per main version."),
		field.String("main_version").NotEmpty().MaxLen(16).Immutable(),
		field.Int("sequence").Positive().Immutable().Comment("N of x.y.N."),
		field.Enum("kind").Values("workload", "chart").Immutable(),
		field.JSON("spec", &appspec.Workload{}).Optional().Immutable().
			Annotations(entgql.Type("WorkloadSpec")).
			Comment("The workload (kind workload)."),
		field.Bytes("chart").Optional().Immutable().
			Annotations(entgql.Skip()).
			Comment("The chart archive (kind chart)."),
		field.String("chart_name").Default("").MaxLen(253).Immutable(),
		field.String("chart_version").Default("").MaxLen(64).Immutable(),
		field.Text("values").Default("").Immutable().
			Comment("Helm values (YAML) for a chart."),
		field.Int("external_registry_id").Optional().Nillable().Immutable().
			Comment("The external registry whose credentials pull the image (OTE-Stack's repositoryId)."),
	}
}

// Edges of the ApplicationVersion.
func (ApplicationVersion) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("application", Application.Type).Ref("versions").Field("application_id").Unique().Required().Immutable(),
		edge.From("external_registry", ExternalRegistry.Type).Ref("versions").Field("external_registry_id").Unique().Immutable(),
	}
}

// Indexes of the ApplicationVersion.
func (ApplicationVersion) Indexes() []ent.Index {
	return []ent.Index{index.Fields("application_id", "version").Unique()}
}

// Annotations of the ApplicationVersion.
func (ApplicationVersion) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}
