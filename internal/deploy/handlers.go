// The operation handlers of deployments: what a worker runs for KindApply
// and KindDelete. The requests that enqueue them are in deployments.go.

package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/applicationversion"
	"github.com/meridianplane/meridian/ent/deployment"
	"github.com/meridianplane/meridian/ent/deploymentrevision"
	"github.com/meridianplane/meridian/ent/operation"
	"github.com/meridianplane/meridian/ent/workload"
	"github.com/meridianplane/meridian/internal/backend/cluster"
	"github.com/meridianplane/meridian/internal/operations"
)

// target is what the backend applies for a deployment at a version.
func target(d *ent.Deployment, ver *ent.ApplicationVersion, replicas int) (*cluster.Target, error) {
	if ver == nil || ver.Spec == nil {
		return nil, errors.New("the version has no workload spec")
	}
	appName := ""
	if d.Edges.Application != nil {
		appName = d.Edges.Application.Name
	}
	t := &cluster.Target{DeploymentID: d.ID, Name: d.Name, Namespace: d.Namespace, Application: appName,
		Version: ver.Version, NodeLabel: d.NodeLabel, Spec: ver.Spec, Replicas: replicas}
	if d.Edges.Node != nil {
		t.NodeName = d.Edges.Node.Name
	}
	return t, nil
}

// runApply applies a deployment at the operation's version and waits for
// the rollout.
func (s *Service) runApply(ctx context.Context, op *ent.Operation) (map[string]any, error) {
	d, err := s.client.Deployment.Query().Where(deployment.ID(*op.DeploymentID)).WithApplication().WithNode().Only(ctx)
	if err != nil {
		return nil, operations.Permanent(err)
	}
	ver, err := s.client.ApplicationVersion.Get(ctx, payloadInt(op, "version"))
	if err != nil {
		return nil, operations.Permanent(err)
	}
	if err := s.client.Deployment.UpdateOne(d).SetStatus(deployment.StatusDeploying).SetMessage("").Exec(ctx); err != nil {
		return nil, err
	}
	s.notify(d.ID)
	c, err := s.clusters.Conn(ctx, d.ClusterID)
	if err != nil {
		return nil, err
	}
	wait, expect, err := s.apply(ctx, c, d, ver, op)
	if err != nil {
		return nil, err
	}
	if !wait {
		// A chart without Deployments or DaemonSets: nothing rolls out.
	} else if err := s.clusters.WaitRollout(ctx, d.ClusterID, d.ID, d.Namespace, ver.Version, expect); err != nil {
		var re *cluster.RolloutError
		if errors.As(err, &re) {
			return nil, operations.Permanent(err)
		}
		return nil, err
	}
	now := time.Now()
	if err := s.client.Deployment.UpdateOne(d).SetVersionID(ver.ID).SetStatus(deployment.StatusRunning).SetMessage("").Exec(ctx); err != nil {
		return nil, err
	}
	if rev := payloadInt(op, "revision"); rev != 0 {
		if err := s.client.DeploymentRevision.UpdateOneID(rev).SetResult(deploymentrevision.ResultSucceeded).SetFinishedAt(now).Exec(ctx); err != nil {
			return nil, err
		}
	}
	return map[string]any{"version": ver.Version}, nil
}

// apply puts a deployment's version on the cluster: server-side apply for a
// workload, Helm for a chart (a rollback through Helm's own rollback). It
// reports whether there is a rollout to wait for, and the replicas it asked
// of its workloads where it knows them.
func (s *Service) apply(ctx context.Context, c cluster.Cluster, d *ent.Deployment, ver *ent.ApplicationVersion, op *ent.Operation) (bool, map[string]int, error) {
	if ver.Kind == applicationversion.KindChart {
		if op.Payload["action"] == string(deploymentrevision.ActionRollback) {
			wait, err := c.HelmRollback(ctx, d.Name, d.Namespace, ver.Version)
			if err == nil {
				return wait, nil, nil
			}
			s.log.Warn("deploy: helm rollback failed; upgrading to the version's chart instead", "deployment", d.ID, "err", err)
		}
		wait, err := c.HelmApply(ctx, &cluster.ChartTarget{DeploymentID: d.ID, Release: d.Name, Namespace: d.Namespace,
			Version: ver.Version, Archive: ver.Chart, Values: ver.Values})
		return wait, nil, err
	}
	t, err := target(d, ver, payloadInt(op, "replicas"))
	if err != nil {
		return false, nil, operations.Permanent(err)
	}
	if ver.ExternalRegistryID != nil {
		if s.pull == nil {
			return false, nil, operations.Permanent(errors.New("no registry credentials source configured"))
		}
		if t.Pull, err = s.pull(ctx, *ver.ExternalRegistryID); err != nil {
			return false, nil, fmt.Errorf("image pull credentials: %w", err)
		}
	}
	return true, t.Expect(), c.Apply(ctx, t)
}

// applyFinished records a failed or cancelled rollout: the deployment is
// failed with the reason, its version (the previous revision) unchanged.
func (s *Service) applyFinished(ctx context.Context, op *ent.Operation, status operation.Status, runErr error) error {
	if status == operation.StatusSucceeded {
		return nil
	}
	msg := op.LastError
	if msg == "" && runErr != nil {
		msg = runErr.Error()
	}
	result := deploymentrevision.ResultFailed
	if status == operation.StatusCancelled {
		result = deploymentrevision.ResultCancelled
	}
	if rev := payloadInt(op, "revision"); rev != 0 {
		if err := s.db(ctx).DeploymentRevision.UpdateOneID(rev).SetResult(result).SetMessage(operations.Clip(msg)).SetFinishedAt(time.Now()).Exec(ctx); err != nil {
			return err
		}
	}
	return s.db(ctx).Deployment.UpdateOneID(*op.DeploymentID).SetStatus(deployment.StatusFailed).SetMessage(operations.Clip(msg)).Exec(ctx)
}

// runDelete removes the deployment's objects from the cluster.
func (s *Service) runDelete(ctx context.Context, op *ent.Operation) (map[string]any, error) {
	d, err := s.client.Deployment.Get(ctx, *op.DeploymentID)
	if err != nil {
		return nil, operations.Permanent(err)
	}
	c, err := s.clusters.Conn(ctx, d.ClusterID)
	if err != nil {
		return nil, err
	}
	if ver, err := s.client.ApplicationVersion.Get(ctx, d.VersionID); err == nil && ver.Kind == applicationversion.KindChart {
		if err := c.HelmUninstall(ctx, d.Name, d.Namespace); err != nil {
			return nil, err
		}
	}
	if err := c.Delete(ctx, d.Namespace, d.Name); err != nil {
		return nil, err
	}
	if _, err := s.client.Workload.Delete().Where(workload.DeploymentID(d.ID)).Exec(ctx); err != nil {
		return nil, err
	}
	err = s.client.Deployment.UpdateOne(d).SetStatus(deployment.StatusDeleted).
		SetRunningPods(0).SetErrorPods(0).SetTotalPods(0).SetMessage("").Exec(ctx)
	if err != nil {
		return nil, err
	}
	if rev := payloadInt(op, "revision"); rev != 0 {
		err = s.client.DeploymentRevision.UpdateOneID(rev).SetResult(deploymentrevision.ResultSucceeded).SetFinishedAt(time.Now()).Exec(ctx)
	}
	return nil, err
}

func (s *Service) deleteFinished(ctx context.Context, op *ent.Operation, status operation.Status, runErr error) error {
	if status == operation.StatusSucceeded {
		return nil
	}
	return s.applyFinished(ctx, op, status, runErr)
}
