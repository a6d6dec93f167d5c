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

// ContainerManager is how Meridian reaches a cluster: a kubeconfig, an API
// server URL with a token and CA, or the built-in simulator. Credentials are
// sealed (internal/secret) and never leave the server.
type ContainerManager struct{ ent.Schema }

// Mixin of the ContainerManager.
func (ContainerManager) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}, TenantMixin{}} }

// Policy of the ContainerManager: anyone may run a simulated cluster; only
// admins register real ones (Meridian connects to what they name).
func (ContainerManager) Policy() ent.Policy { return policy.TenantOwned(policy.RealClustersByAdmins()) }

// Fields of the ContainerManager.
func (ContainerManager) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(63).Match(nameRE).Annotations(entgql.OrderField("NAME")),
		field.Enum("kind").Values("kubeconfig", "token", "simulator").
			Comment("kubeconfig: a kubeconfig file; token: API server URL, bearer token and CA; simulator: the built-in simulated cluster."),
		field.String("api_server").Default("").MaxLen(2048).
			Comment("API server URL (kind token; read from the kubeconfig otherwise)."),
		field.Text("ca_cert").Default("").MaxLen(65536).
			Comment("PEM CA bundle for the API server (kind token)."),
		field.Bool("insecure_skip_tls_verify").Default(false),
		field.Bytes("kubeconfig_sealed").Optional().Sensitive().
			Annotations(entgql.Skip()),
		field.Bytes("token_sealed").Optional().Sensitive().
			Annotations(entgql.Skip()),
	}
}

// Edges of the ContainerManager.
func (ContainerManager) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("clusters", Cluster.Type).Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the ContainerManager.
func (ContainerManager) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "name").Unique()}
}

// Annotations of the ContainerManager.
func (ContainerManager) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}
