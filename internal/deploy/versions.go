package deploy

import (
	"context"
	"fmt"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/applicationversion"
	"github.com/meridianplane/meridian/ent/deployment"
	"github.com/meridianplane/meridian/ent/deploymentrevision"
	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/appspec"
	"github.com/meridianplane/meridian/internal/auth"
	"github.com/meridianplane/meridian/internal/backend/chart"
)

// CreateVersion adds version x.y.N of an application, N counted per x.y.
func (s *Service) CreateVersion(ctx context.Context, appID int, mainVersion string, spec *appspec.Workload, registryID *int) (*ent.ApplicationVersion, error) {
	_, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	if err := appspec.CheckMainVersion("version", mainVersion); err != nil {
		return nil, err
	}
	if spec == nil {
		return nil, apierr.BadInput("spec", "is required")
	}
	if err := spec.Validate("spec."); err != nil {
		return nil, err
	}
	c, err := s.newVersion(ctx, appID, mainVersion)
	if err != nil {
		return nil, err
	}
	return c.SetKind(applicationversion.KindWorkload).SetSpec(spec).
		SetNillableExternalRegistryID(registryID).Save(ctx)
}

// UploadChart adds version x.y.N of an application from a Helm chart
// archive, validated with Helm's loader and linter, and its values (YAML).
func (s *Service) UploadChart(ctx context.Context, appID int, mainVersion string, archive []byte, values string) (*ent.ApplicationVersion, error) {
	_, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	if err := appspec.CheckMainVersion("version", mainVersion); err != nil {
		return nil, err
	}
	if _, err := chart.Values(values); err != nil {
		return nil, apierr.BadInput("values", "%s", err.Error())
	}
	ch, err := chart.Load(archive, values)
	if err != nil {
		return nil, apierr.BadInput("chart", "%s", err.Error())
	}
	c, err := s.newVersion(ctx, appID, mainVersion)
	if err != nil {
		return nil, err
	}
	return c.SetKind(applicationversion.KindChart).SetChart(archive).SetChartName(ch.Name()).
		SetChartVersion(ch.Metadata.Version).SetValues(values).Save(ctx)
}

// newVersion starts version x.y.N of an application the caller can see.
func (s *Service) newVersion(ctx context.Context, appID int, mainVersion string) (*ent.ApplicationVersionCreate, error) {
	db := s.db(ctx)
	app, err := db.Application.Get(ctx, appID)
	if err != nil {
		return nil, apierr.NotFoundOr("applicationID", err)
	}
	seq, err := nextSequence(ctx, db, app.ID, mainVersion)
	if err != nil {
		return nil, err
	}
	return db.ApplicationVersion.Create().SetApplicationID(app.ID).
		SetMainVersion(mainVersion).SetSequence(seq).SetVersion(fmt.Sprintf("%s.%d", mainVersion, seq)), nil
}

// nextSequence is N for the next version x.y.N.
func nextSequence(ctx context.Context, db *ent.Client, appID int, mainVersion string) (int, error) {
	last, err := db.ApplicationVersion.Query().
		Where(applicationversion.ApplicationID(appID), applicationversion.MainVersion(mainVersion)).
		Order(ent.Desc(applicationversion.FieldSequence)).First(ctx)
	switch {
	case err == nil:
		return last.Sequence + 1, nil
	case ent.IsNotFound(err):
		return 1, nil
	}
	return 0, err
}

func versionOf(ctx context.Context, db *ent.Client, appID int, version string) (*ent.ApplicationVersion, error) {
	v, err := db.ApplicationVersion.Query().Where(applicationversion.ApplicationID(appID), applicationversion.Version(version)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apierr.For(apierr.NotFound, "version", "the application has no version %q", version)
	}
	return v, err
}

// DeleteVersions deletes application versions that no live deployment
// runs or ran last; an application left without versions is deleted too.
func (s *Service) DeleteVersions(ctx context.Context, ids []int) (int, error) {
	if len(ids) == 0 {
		return 0, apierr.BadInput("ids", "name at least one version")
	}
	db := s.db(ctx)
	for _, id := range ids {
		ver, err := db.ApplicationVersion.Get(ctx, id)
		if err != nil {
			return 0, apierr.NotFoundOr("ids", err)
		}
		used, err := db.Deployment.Query().Where(deployment.VersionID(id)).Exist(ctx)
		if err != nil {
			return 0, err
		}
		if used {
			return 0, apierr.For(apierr.Conflict, "ids", "version %s is used by a deployment", ver.Version)
		}
		revs, err := db.DeploymentRevision.Query().Where(deploymentrevision.Or(
			deploymentrevision.FromVersionID(id), deploymentrevision.ToVersionID(id))).Exist(ctx)
		if err != nil {
			return 0, err
		}
		if revs {
			return 0, apierr.For(apierr.Conflict, "ids", "version %s is in a deployment's history", ver.Version)
		}
		if err := db.ApplicationVersion.DeleteOne(ver).Exec(ctx); err != nil {
			return 0, err
		}
		left, err := db.ApplicationVersion.Query().Where(applicationversion.ApplicationID(ver.ApplicationID)).Exist(ctx)
		if err != nil {
			return 0, err
		}
		if !left {
			gone, err := db.Deployment.Query().Where(deployment.ApplicationID(ver.ApplicationID)).Exist(ctx)
			if err != nil {
				return 0, err
			}
			if !gone {
				if err := db.Application.DeleteOneID(ver.ApplicationID).Exec(ctx); err != nil {
					return 0, err
				}
			}
		}
	}
	return len(ids), nil
}
