package schema

import (
	"regexp"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/meridianplane/meridian/internal/policy"
)

// projectRE: a registry project name, as the first segment of a repository
// path in the distribution protocol.
var projectRE = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// RegistryProject is a namespace of images in Meridian's registry. Public
// projects are readable by every user; private ones by their tenant.
type RegistryProject struct{ ent.Schema }

// Mixin of the RegistryProject.
func (RegistryProject) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{}}
}

// Policy of the RegistryProject: public projects are read by everyone.
func (RegistryProject) Policy() ent.Policy { return policy.PublicRead(nil) }

// Fields of the RegistryProject.
func (RegistryProject) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Unique().NotEmpty().MaxLen(63).Match(projectRE).Immutable().
			Annotations(entgql.OrderField("NAME")).
			Comment("Unique in the registry: image addresses are <registry>/<project>/<image>."),
		field.Bool("public").Default(false),
	}
}

// Edges of the RegistryProject.
func (RegistryProject) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("images", Image.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Annotations of the RegistryProject.
func (RegistryProject) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}

// Image is a repository of the registry ("project/image"), kept in step with
// the registry by the registry sync.
type Image struct{ ent.Schema }

// Mixin of the Image.
func (Image) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Parents: []string{"project"}}}
}

// Policy of the Image: public with its project.
func (Image) Policy() ent.Policy { return policy.PublicRead([]string{"project"}) }

// Fields of the Image.
func (Image) Fields() []ent.Field {
	return []ent.Field{
		field.Int("project_id").Immutable(),
		field.String("name").NotEmpty().MaxLen(255).Immutable().
			Annotations(entgql.OrderField("NAME")).
			Comment("The repository path: project/image."),
		field.Bool("deleting").Default(false).
			Comment("Being deleted from the registry by an operation."),
	}
}

// Edges of the Image.
func (Image) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("project", RegistryProject.Type).Ref("images").Field("project_id").Unique().Required().Immutable(),
		edge.To("tags", ImageTag.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the Image.
func (Image) Indexes() []ent.Index { return []ent.Index{index.Fields("name").Unique()} }

// Annotations of the Image.
func (Image) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}

// ImageTag is a tag of an image and the manifest digest it points at.
type ImageTag struct{ ent.Schema }

// Mixin of the ImageTag.
func (ImageTag) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Parents: []string{"image"}}}
}

// Policy of the ImageTag: public with its image's project.
func (ImageTag) Policy() ent.Policy { return policy.PublicRead([]string{"image", "project"}) }

// Fields of the ImageTag.
func (ImageTag) Fields() []ent.Field {
	return []ent.Field{
		field.Int("image_id").Immutable(),
		field.String("name").NotEmpty().MaxLen(128).Immutable().
			Annotations(entgql.OrderField("NAME")),
		field.String("digest").Default("").MaxLen(128),
		field.Bool("deleting").Default(false).
			Comment("Being deleted from the registry by an operation."),
	}
}

// Edges of the ImageTag.
func (ImageTag) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("image", Image.Type).Ref("tags").Field("image_id").Unique().Required().Immutable(),
	}
}

// Indexes of the ImageTag.
func (ImageTag) Indexes() []ent.Index { return []ent.Index{index.Fields("image_id", "name").Unique()} }

// Annotations of the ImageTag.
func (ImageTag) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}

// RegistryAccount is a user's account in Meridian's registry (OTE-Stack's
// repository user): the embedded registry authenticates pushes and pulls
// with it.
type RegistryAccount struct{ ent.Schema }

// Mixin of the RegistryAccount.
func (RegistryAccount) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}, TenantMixin{}} }

// Policy of the RegistryAccount.
func (RegistryAccount) Policy() ent.Policy { return policy.TenantOwned() }

// Hooks of the RegistryAccount: it is the account of the user who creates it.
func (RegistryAccount) Hooks() []ent.Hook { return []ent.Hook{policy.AssignCreator("user_id")} }

// Fields of the RegistryAccount.
func (RegistryAccount) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").Unique().Immutable(),
		field.String("username").Unique().NotEmpty().MaxLen(64).Match(usernameRE).Immutable(),
		field.String("password_hash").Sensitive().NotEmpty().Annotations(entgql.Skip()),
	}
}

// Edges of the RegistryAccount.
func (RegistryAccount) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("registry_account").Field("user_id").Unique().Required().Immutable(),
	}
}

// Annotations of the RegistryAccount.
func (RegistryAccount) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}

// ExternalRegistry is a third-party registry whose credentials become the
// image pull secret of the application versions that name it.
type ExternalRegistry struct{ ent.Schema }

// Mixin of the ExternalRegistry.
func (ExternalRegistry) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}, TenantMixin{}} }

// Policy of the ExternalRegistry.
func (ExternalRegistry) Policy() ent.Policy { return policy.TenantOwned() }

// Fields of the ExternalRegistry.
func (ExternalRegistry) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(64).Match(nameRE).Immutable().
			Annotations(entgql.OrderField("NAME")).
			Comment("OTE-Stack's repositoryId."),
		field.String("address").NotEmpty().MaxLen(255),
		field.String("username").Default("").MaxLen(255),
		field.Bytes("sealed_password").Sensitive().Optional().Annotations(entgql.Skip()).
			Comment("The password, encrypted with the server's secret key; never returned."),
	}
}

// Edges of the ExternalRegistry.
func (ExternalRegistry) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("versions", ApplicationVersion.Type).
			Annotations(entgql.Skip()),
	}
}

// Indexes of the ExternalRegistry.
func (ExternalRegistry) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "name").Unique()}
}

// Annotations of the ExternalRegistry.
func (ExternalRegistry) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}
