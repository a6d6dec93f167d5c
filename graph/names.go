package graph

import (
	"context"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/application"
	"github.com/meridianplane/meridian/ent/cluster"
	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/appspec"
)

// appID resolves an application named by ID or by name (exactly one); by
// name, create makes a missing application.
func (r *Resolver) appID(ctx context.Context, id *int, name *string, create bool) (int, error) {
	switch {
	case id != nil && name != nil:
		return 0, apierr.BadInput("applicationName", "give applicationID or applicationName, not both")
	case id != nil:
		return *id, nil
	case name != nil:
		app, err := r.appNamed(ctx, "applicationName", *name, create)
		if err != nil {
			return 0, err
		}
		return app.ID, nil
	}
	return 0, apierr.BadInput("applicationID", "give applicationID or applicationName")
}

// appNamed finds the caller's application by name, creating it when asked;
// field is the input field that names it.
func (r *Resolver) appNamed(ctx context.Context, field, appName string, create bool) (*ent.Application, error) {
	db := r.db(ctx)
	app, err := db.Application.Query().Where(application.Name(appName)).Only(ctx)
	switch {
	case err == nil:
		return app, nil
	case ent.IsNotSingular(err):
		return nil, apierr.For(apierr.Conflict, field, "several tenants' applications are named %s: use applicationID", appName)
	case !ent.IsNotFound(err):
		return nil, err
	case !create:
		return nil, apierr.For(apierr.NotFound, field, "no application %q", appName)
	}
	if err := application.NameValidator(appName); err != nil {
		return nil, apierr.BadInput(field, "%q is not a DNS label (lowercase letters, digits and -, at most 53)", appName)
	}
	return db.Application.Create().SetName(appName).Save(ctx)
}

// clusterID resolves a cluster named by ID or by name (exactly one).
func (r *Resolver) clusterID(ctx context.Context, id *int, clusterName *string) (int, error) {
	switch {
	case id != nil && clusterName != nil:
		return 0, apierr.BadInput("clusterName", "give clusterID or clusterName, not both")
	case id != nil:
		return *id, nil
	case clusterName != nil:
		c, err := r.db(ctx).Cluster.Query().Where(cluster.Name(*clusterName)).Only(ctx)
		switch {
		case ent.IsNotFound(err):
			return 0, apierr.For(apierr.NotFound, "clusterName", "no cluster %q", *clusterName)
		case ent.IsNotSingular(err):
			return 0, apierr.For(apierr.Conflict, "clusterName", "several clusters are named %s: use clusterID", *clusterName)
		case err != nil:
			return 0, err
		}
		return c.ID, nil
	}
	return 0, apierr.BadInput("clusterID", "give clusterID or clusterName")
}

// projectOf is the Meridian registry project a workload's image comes
// from, or "" when it comes from another registry (or is a chart).
func projectOf(registryHost string, spec *appspec.Workload) string {
	if spec == nil {
		return ""
	}
	ref, err := name.ParseReference(spec.Image, name.WeakValidation)
	if err != nil || ref.Context().RegistryStr() != registryHost {
		return ""
	}
	project, _, _ := strings.Cut(ref.Context().RepositoryStr(), "/")
	return project
}
