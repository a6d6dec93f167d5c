// Package imagerepo is the image repository workflow (OTE-Stack's
// "Repository Management"): registry projects, images and tags kept in step
// with an OCI registry, registry accounts, and external registries whose
// credentials pull images into clusters. Reads and writes of rows go
// through the caller's privacy; work on the registry runs in operations.
package imagerepo

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/externalregistry"
	"github.com/meridianplane/meridian/ent/image"
	"github.com/meridianplane/meridian/ent/imagetag"
	"github.com/meridianplane/meridian/ent/registryaccount"
	"github.com/meridianplane/meridian/ent/registryproject"
	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/auth"
	"github.com/meridianplane/meridian/internal/backend/registry"
	"github.com/meridianplane/meridian/internal/operations"
	"github.com/meridianplane/meridian/internal/policy"
	"github.com/meridianplane/meridian/internal/secret"
)

// Operation kinds.
const (
	// KindSync brings projects' images and tags in step with the registry.
	KindSync = "registry.sync"
	// KindDelete deletes images or tags in the registry, then their rows.
	KindDelete = "registry.delete"
)

// The workflow's operation kinds, with their payloads and results.
var (
	Sync   = operations.NewKind[operations.None, SyncResult](KindSync)
	Delete = operations.NewKind[DeleteArgs, DeleteResult](KindDelete)
)

// SyncResult is what a registry.sync found.
type SyncResult struct {
	Images int `json:"images"`
}

// DeleteArgs is the payload of a registry.delete: whole images, or tags of
// one image.
type DeleteArgs struct {
	Images []string `json:"images,omitempty"`
	Image  string   `json:"image,omitempty"`
	Tags   []string `json:"tags,omitempty"`
}

// DeleteResult names what a registry.delete deleted.
type DeleteResult struct {
	Deleted []string `json:"deleted"`
}

// Service runs the repository workflow.
type Service struct {
	client *ent.Client
	ops    *operations.Runner
	reg    *registry.Client
	box    *secret.Box
	log    *slog.Logger
}

// New returns the Service and registers its operation kinds with ops.
func New(client *ent.Client, ops *operations.Runner, reg *registry.Client, box *secret.Box, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{client: client, ops: ops, reg: reg, box: box, log: log}
	Sync.Handle(ops, operations.Handler[operations.None, SyncResult]{Run: s.runSync})
	Delete.Handle(ops, operations.Handler[DeleteArgs, DeleteResult]{Run: s.runDelete})
	return s
}

// Host is the registry's host[:port]: image addresses start with it.
func (s *Service) Host() string { return s.reg.Host() }

// Address is the address of an image ("project/image") in the registry.
func (s *Service) Address(imageName string) string { return s.reg.Host() + "/" + imageName }

func (s *Service) db(ctx context.Context) *ent.Client {
	if c := ent.FromContext(ctx); c != nil {
		return c
	}
	return s.client
}

// ---------------------------------------------------------------- projects

// CreateProject adds a project. Names are unique in the registry, across
// tenants.
func (s *Service) CreateProject(ctx context.Context, name string, public bool) (*ent.RegistryProject, error) {
	if err := registryproject.NameValidator(name); err != nil {
		return nil, apierr.BadInput("name", "%q is not a project name: lowercase letters and digits, separated by single . _ or -", name)
	}
	taken, err := s.db(ctx).RegistryProject.Query().Where(registryproject.Name(name)).Exist(policy.System(ctx))
	if err != nil {
		return nil, err
	}
	if taken {
		return nil, apierr.For(apierr.Conflict, "name", "project %s already exists", name)
	}
	return s.db(ctx).RegistryProject.Create().SetName(name).SetPublic(public).Save(ctx)
}

// DeleteProjects deletes empty projects; a project with images is refused.
func (s *Service) DeleteProjects(ctx context.Context, ids []int) (int, error) {
	db := s.db(ctx)
	for _, id := range ids {
		p, err := db.RegistryProject.Get(ctx, id)
		if err != nil {
			return 0, apierr.NotFoundOr("ids", err)
		}
		n, err := p.QueryImages().Count(ctx)
		if err != nil {
			return 0, err
		}
		if n > 0 {
			return 0, apierr.For(apierr.Conflict, "ids", "project %s still holds %d image(s); delete them first", p.Name, n)
		}
		if err := db.RegistryProject.DeleteOneID(id).Exec(ctx); err != nil {
			return 0, apierr.NotFoundOr("ids", err)
		}
	}
	return len(ids), nil
}

// ------------------------------------------------------- images and tags

// DeleteImages marks images deleting and enqueues their deletion from the
// registry. Only the owning tenant (or an admin) may delete an image.
func (s *Service) DeleteImages(ctx context.Context, names []string) (*ent.Operation, error) {
	_, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	db := s.db(ctx)
	for _, n := range names {
		img, err := db.Image.Query().Where(image.Name(n)).Only(ctx)
		if err != nil {
			return nil, apierr.For(apierr.NotFound, "names", "no image %q", n)
		}
		if img.Deleting {
			return nil, apierr.For(apierr.Conflict, "names", "image %s is already being deleted", n)
		}
		// The update runs under the tenant policy: another tenant's public
		// image is readable but not changed.
		if k, err := db.Image.Update().Where(image.ID(img.ID)).SetDeleting(true).Save(ctx); err != nil {
			return nil, err
		} else if k == 0 {
			return nil, apierr.New(apierr.Forbidden, "names: image %s belongs to another tenant", n)
		}
	}
	return enqueue(ctx, s, Delete, DeleteArgs{Images: names})
}

// DeleteTags marks tags of an image deleting and enqueues their deletion.
func (s *Service) DeleteTags(ctx context.Context, imageName string, tags []string) (*ent.Operation, error) {
	_, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	db := s.db(ctx)
	img, err := db.Image.Query().Where(image.Name(imageName)).Only(ctx)
	if err != nil {
		return nil, apierr.For(apierr.NotFound, "image", "no image %q", imageName)
	}
	if img.Deleting {
		return nil, apierr.For(apierr.Conflict, "image", "%s is being deleted", imageName)
	}
	for _, t := range tags {
		tag, err := db.ImageTag.Query().Where(imagetag.ImageID(img.ID), imagetag.Name(t)).Only(ctx)
		if err != nil {
			return nil, apierr.For(apierr.NotFound, "tags", "image %s has no tag %q", imageName, t)
		}
		if tag.Deleting {
			return nil, apierr.For(apierr.Conflict, "tags", "%s:%s is already being deleted", imageName, t)
		}
		if k, err := db.ImageTag.Update().Where(imagetag.ID(tag.ID)).SetDeleting(true).Save(ctx); err != nil {
			return nil, err
		} else if k == 0 {
			return nil, apierr.New(apierr.Forbidden, "tags: image %s belongs to another tenant", imageName)
		}
	}
	return enqueue(ctx, s, Delete, DeleteArgs{Image: imageName, Tags: tags})
}

// Sync enqueues a sync with the registry.
func (s *Service) Sync(ctx context.Context) (*ent.Operation, error) {
	_, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	return enqueue(ctx, s, Sync, operations.None{})
}

func enqueue[A, R any](ctx context.Context, s *Service, kind operations.Kind[A, R], args A) (*ent.Operation, error) {
	return kind.Enqueue(ctx, s.ops, s.db(ctx).Operation.Create(), args)
}

func (s *Service) runSync(ctx context.Context, _ *operations.Job[operations.None]) (SyncResult, error) {
	n, err := s.SyncNow(ctx)
	return SyncResult{Images: n}, err
}

// Schedule makes the registry sync a periodic operation, every interval
// (0: only on demand), run once per interval across all replicas. Call it
// before the runner runs.
func (s *Service) Schedule(every time.Duration) error {
	return Sync.Every(s.ops, every, operations.None{})
}

// SyncNow brings the images and tags of every project in step with the
// registry: repositories "<project>/..." of a known project become images,
// their tags become tags with their digests, and rows of what the registry
// no longer holds are removed. It returns the number of images.
func (s *Service) SyncNow(ctx context.Context) (int, error) {
	ctx = policy.System(ctx)
	repos, err := s.reg.Catalog(ctx)
	if err != nil {
		return 0, fmt.Errorf("registry catalog: %w", err)
	}
	projects, err := s.client.RegistryProject.Query().All(ctx)
	if err != nil {
		return 0, err
	}
	byName := make(map[string]*ent.RegistryProject, len(projects))
	for _, p := range projects {
		byName[p.Name] = p
	}
	seen := map[string]bool{}
	for _, repo := range repos {
		proj, _, ok := strings.Cut(repo, "/")
		p := byName[proj]
		if !ok || p == nil {
			continue // not in a Meridian project
		}
		tags, err := s.reg.Tags(ctx, repo)
		if err != nil {
			return 0, fmt.Errorf("registry tags of %s: %w", repo, err)
		}
		if len(tags) == 0 {
			continue // every tag deleted: the image is gone
		}
		if err := s.syncImage(ctx, p, repo, tags); err != nil {
			return 0, err
		}
		seen[repo] = true
	}
	stale, err := s.client.Image.Query().All(ctx)
	if err != nil {
		return 0, err
	}
	for _, img := range stale {
		if seen[img.Name] {
			continue
		}
		if err := s.dropImage(ctx, img.ID); err != nil {
			return 0, err
		}
	}
	return len(seen), nil
}

func (s *Service) syncImage(ctx context.Context, p *ent.RegistryProject, repo string, tags []string) error {
	img, err := s.client.Image.Query().Where(image.Name(repo)).Only(ctx)
	if ent.IsNotFound(err) {
		img, err = s.client.Image.Create().SetProjectID(p.ID).SetName(repo).Save(ctx)
	}
	if err != nil {
		return err
	}
	have, err := img.QueryTags().All(ctx)
	if err != nil {
		return err
	}
	rows := map[string]*ent.ImageTag{}
	for _, t := range have {
		rows[t.Name] = t
	}
	want := map[string]bool{}
	for _, t := range tags {
		want[t] = true
		digest, err := s.reg.Digest(ctx, repo, t)
		if err != nil {
			return fmt.Errorf("registry digest of %s:%s: %w", repo, t, err)
		}
		switch row := rows[t]; {
		case row == nil:
			err = s.client.ImageTag.Create().SetImageID(img.ID).SetName(t).SetDigest(digest).Exec(ctx)
		case row.Digest != digest:
			err = s.client.ImageTag.UpdateOne(row).SetDigest(digest).Exec(ctx)
		}
		if err != nil {
			return err
		}
	}
	for name, row := range rows {
		if !want[name] {
			if err := s.client.ImageTag.DeleteOne(row).Exec(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Service) dropImage(ctx context.Context, id int) error {
	if _, err := s.client.ImageTag.Delete().Where(imagetag.ImageID(id)).Exec(ctx); err != nil {
		return err
	}
	return s.client.Image.DeleteOneID(id).Exec(ctx)
}

// runDelete deletes images or tags in the registry, then their rows.
func (s *Service) runDelete(ctx context.Context, job *operations.Job[DeleteArgs]) (DeleteResult, error) {
	ctx = policy.System(ctx)
	if names := job.Args.Images; len(names) > 0 {
		for _, n := range names {
			img, err := s.client.Image.Query().Where(image.Name(n)).Only(ctx)
			if ent.IsNotFound(err) {
				continue // already gone (a sync saw it disappear)
			}
			if err != nil {
				return DeleteResult{}, err
			}
			if err := s.reg.DeleteImage(ctx, n); err != nil {
				return DeleteResult{}, fmt.Errorf("deleting %s in the registry: %w", n, err)
			}
			if err := s.dropImage(ctx, img.ID); err != nil {
				return DeleteResult{}, err
			}
		}
		return DeleteResult{Deleted: names}, nil
	}
	repo, tags := job.Args.Image, job.Args.Tags
	img, err := s.client.Image.Query().Where(image.Name(repo)).Only(ctx)
	if err != nil {
		return DeleteResult{}, operations.Permanent(err)
	}
	for _, t := range tags {
		if err := s.reg.DeleteTag(ctx, repo, t); err != nil {
			return DeleteResult{}, fmt.Errorf("deleting %s:%s in the registry: %w", repo, t, err)
		}
		if _, err := s.client.ImageTag.Delete().Where(imagetag.ImageID(img.ID), imagetag.Name(t)).Exec(ctx); err != nil {
			return DeleteResult{}, err
		}
	}
	if left, err := img.QueryTags().Count(ctx); err == nil && left == 0 {
		err = s.dropImage(ctx, img.ID)
		if err != nil {
			return DeleteResult{}, err
		}
	}
	return DeleteResult{Deleted: tags}, nil
}

// ---------------------------------------------------------------- accounts

// CreateAccount gives the caller an account in Meridian's registry.
func (s *Service) CreateAccount(ctx context.Context, username, password string) (*ent.RegistryAccount, error) {
	v, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	if err := registryaccount.UsernameValidator(username); err != nil {
		return nil, apierr.BadInput("username", "%q is not a user name: letters, digits and . _ -", username)
	}
	if err := auth.CheckPasswordPolicy("password", password); err != nil {
		return nil, err
	}
	sys := policy.System(ctx)
	if has, err := s.db(ctx).RegistryAccount.Query().Where(registryaccount.UserID(v.UserID)).Exist(sys); err != nil {
		return nil, err
	} else if has {
		return nil, apierr.New(apierr.Conflict, "you already have a registry account; change its password instead")
	}
	if taken, err := s.db(ctx).RegistryAccount.Query().Where(registryaccount.Username(username)).Exist(sys); err != nil {
		return nil, err
	} else if taken {
		return nil, apierr.For(apierr.Conflict, "username", "registry user %s exists", username)
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, err
	}
	return s.db(ctx).RegistryAccount.Create().SetUsername(username).SetPasswordHash(hash).Save(ctx)
}

// ChangeAccountPassword sets the password of the caller's registry account.
func (s *Service) ChangeAccountPassword(ctx context.Context, password string) (*ent.RegistryAccount, error) {
	v, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	if err := auth.CheckPasswordPolicy("password", password); err != nil {
		return nil, err
	}
	acc, err := s.db(ctx).RegistryAccount.Query().Where(registryaccount.UserID(v.UserID)).Only(ctx)
	if err != nil {
		return nil, apierr.NotFoundOr("registry account", err)
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, err
	}
	return s.db(ctx).RegistryAccount.UpdateOne(acc).SetPasswordHash(hash).Save(ctx)
}

// ------------------------------------------------------ external registries

// CreateExternal records a third-party registry; its password is sealed.
func (s *Service) CreateExternal(ctx context.Context, name, address, username, password string) (*ent.ExternalRegistry, error) {
	if err := externalregistry.NameValidator(name); err != nil {
		return nil, apierr.BadInput("name", "%q is not a registry id: letters, digits and . _ -", name)
	}
	if _, err := registry.New(address, "", ""); err != nil {
		return nil, apierr.BadInput("address", "%s", err.Error())
	}
	if taken, err := s.db(ctx).ExternalRegistry.Query().Where(externalregistry.Name(name)).Exist(ctx); err != nil {
		return nil, err
	} else if taken {
		return nil, apierr.For(apierr.Conflict, "name", "external registry %s exists", name)
	}
	c := s.db(ctx).ExternalRegistry.Create().SetName(name).SetAddress(address).SetUsername(username)
	if password != "" {
		sealed, err := s.box.Seal([]byte(password))
		if err != nil {
			return nil, err
		}
		c.SetSealedPassword(sealed)
	}
	return c.Save(ctx)
}

// DeleteExternal deletes external registries by name; one that an
// application version pulls with is refused.
func (s *Service) DeleteExternal(ctx context.Context, names []string) (int, error) {
	db := s.db(ctx)
	for _, n := range names {
		r, err := db.ExternalRegistry.Query().Where(externalregistry.Name(n)).Only(ctx)
		if err != nil {
			return 0, apierr.For(apierr.NotFound, "names", "no external registry %q", n)
		}
		used, err := r.QueryVersions().Count(policy.System(ctx))
		if err != nil {
			return 0, err
		}
		if used > 0 {
			return 0, apierr.For(apierr.Conflict, "names", "%d application version(s) pull images with %s", used, n)
		}
		if err := db.ExternalRegistry.DeleteOne(r).Exec(ctx); err != nil {
			return 0, err
		}
	}
	return len(names), nil
}

// PullSecret is the credentials of an external registry, for an image pull
// secret.
type PullSecret struct{ Server, Username, Password string }

// Credentials opens an external registry's credentials (the server's own
// work: privacy is bypassed).
func (s *Service) Credentials(ctx context.Context, id int) (*PullSecret, error) {
	r, err := s.client.ExternalRegistry.Get(policy.System(ctx), id)
	if err != nil {
		return nil, err
	}
	ps := &PullSecret{Server: r.Address, Username: r.Username}
	if len(r.SealedPassword) > 0 {
		pw, err := s.box.Open(r.SealedPassword)
		if err != nil {
			return nil, err
		}
		ps.Password = string(pw)
	}
	return ps, nil
}
