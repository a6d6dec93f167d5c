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

// runApply applies a deployment at the operation's version, then checks
// the rollout, snoozing between checks (operations.Snooze) so that the
// wait holds no worker.
func (s *Service) runApply(ctx context.Context, job *operations.Job[ApplyArgs]) (ApplyResult, error) {
	op, args := job.Operation, job.Args
	d, err := s.client.Deployment.Query().Where(deployment.ID(*op.DeploymentID)).WithApplication().WithNode().Only(ctx)
	if err != nil {
		return ApplyResult{}, operations.Permanent(err)
	}
	ver, err := s.client.ApplicationVersion.Get(ctx, args.Version)
	if err != nil {
		return ApplyResult{}, operations.Permanent(err)
	}
	var ro rollout
	resumed := job.Checkpoint(&ro)
	if resumed && ro.By != s.ops.ID() {
		// Another process applied (a restart, another replica): its
		// cluster connection may not hold what it applied (a simulated
		// cluster starts empty). Apply again if nothing is there.
		if resumed, err = s.clusters.HasWorkloads(ctx, d.ClusterID, d.ID, d.Namespace); err != nil {
			return ApplyResult{}, err
		}
	}
	if !resumed { // the first run (or a retry): apply
		if err := s.client.Deployment.UpdateOne(d).SetStatus(deployment.StatusDeploying).SetMessage("").Exec(ctx); err != nil {
			return ApplyResult{}, err
		}
		s.notify(d.ID)
		c, err := s.clusters.Conn(ctx, d.ClusterID)
		if err != nil {
			return ApplyResult{}, err
		}
		wait, expect, err := s.apply(ctx, c, d, ver, args)
		if err != nil {
			return ApplyResult{}, err
		}
		if wait { // else a chart without Deployments or DaemonSets: nothing rolls out
			ro = rollout{Applied: time.Now(), Expect: expect, By: s.ops.ID()}
		}
	}
	if !ro.Applied.IsZero() {
		done, err := s.clusters.RolloutDone(ctx, d.ClusterID, d.ID, d.Namespace, ver.Version, ro.Expect, ro.Applied)
		var re *cluster.RolloutError
		if errors.As(err, &re) {
			return ApplyResult{}, operations.Permanent(err)
		}
		if err != nil {
			return ApplyResult{}, err
		}
		if !done {
			ro.Checks++
			return ApplyResult{}, operations.Snooze(ro.recheck(), ro)
		}
	}
	// applyFinished records the success with the operation's.
	return ApplyResult{Version: ver.Version}, nil
}

// apply puts a deployment's version on the cluster: server-side apply for a
// workload, Helm for a chart (a rollback through Helm's own rollback). It
// reports whether there is a rollout to wait for, and the replicas it asked
// of its workloads where it knows them.
func (s *Service) apply(ctx context.Context, c cluster.Cluster, d *ent.Deployment, ver *ent.ApplicationVersion, args ApplyArgs) (bool, map[string]int, error) {
	if ver.Kind == applicationversion.KindChart {
		if args.Action == string(deploymentrevision.ActionRollback) {
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
	t, err := target(d, ver, args.Replicas)
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

// applyFinished records how a rollout ended: a success as the deployment
// running the version, a failure or cancellation as the deployment failed
// with the reason, its version (the previous revision) unchanged.
func (s *Service) applyFinished(ctx context.Context, job *operations.Job[ApplyArgs], status operation.Status, runErr error) error {
	if status == operation.StatusSucceeded {
		// The deployment runs the version: recorded in the transaction
		// that ends the operation, so neither is seen without the other.
		err := s.db(ctx).Deployment.UpdateOneID(*job.DeploymentID).SetVersionID(job.Args.Version).
			SetStatus(deployment.StatusRunning).SetMessage("").Exec(ctx)
		if err == nil && job.Args.Revision != 0 {
			err = s.db(ctx).DeploymentRevision.UpdateOneID(job.Args.Revision).SetResult(deploymentrevision.ResultSucceeded).
				SetFinishedAt(time.Now()).Exec(ctx)
		}
		return err
	}
	return s.failed(ctx, job.Operation, job.Args.Revision, status, runErr)
}

func (s *Service) failed(ctx context.Context, op *ent.Operation, rev int, status operation.Status, runErr error) error {
	msg := op.LastError
	if msg == "" && runErr != nil {
		msg = runErr.Error()
	}
	result := deploymentrevision.ResultFailed
	if status == operation.StatusCancelled {
		result = deploymentrevision.ResultCancelled
	}
	if rev != 0 {
		if err := s.db(ctx).DeploymentRevision.UpdateOneID(rev).SetResult(result).SetMessage(operations.Clip(msg)).SetFinishedAt(time.Now()).Exec(ctx); err != nil {
			return err
		}
	}
	return s.db(ctx).Deployment.UpdateOneID(*op.DeploymentID).SetStatus(deployment.StatusFailed).SetMessage(operations.Clip(msg)).Exec(ctx)
}

// runDelete removes the deployment's objects from the cluster.
func (s *Service) runDelete(ctx context.Context, job *operations.Job[DeleteArgs]) (operations.None, error) {
	none := operations.None{}
	d, err := s.client.Deployment.Get(ctx, *job.DeploymentID)
	if err != nil {
		return none, operations.Permanent(err)
	}
	c, err := s.clusters.Conn(ctx, d.ClusterID)
	if err != nil {
		return none, err
	}
	if ver, err := s.client.ApplicationVersion.Get(ctx, d.VersionID); err == nil && ver.Kind == applicationversion.KindChart {
		if err := c.HelmUninstall(ctx, d.Name, d.Namespace); err != nil {
			return none, err
		}
	}
	if err := c.Delete(ctx, d.Namespace, d.Name); err != nil {
		return none, err
	}
	if _, err := s.client.Workload.Delete().Where(workload.DeploymentID(d.ID)).Exec(ctx); err != nil {
		return none, err
	}
	err = s.client.Deployment.UpdateOne(d).SetStatus(deployment.StatusDeleted).
		SetRunningPods(0).SetErrorPods(0).SetTotalPods(0).SetMessage("").Exec(ctx)
	if err != nil {
		return none, err
	}
	if rev := job.Args.Revision; rev != 0 {
		err = s.client.DeploymentRevision.UpdateOneID(rev).SetResult(deploymentrevision.ResultSucceeded).SetFinishedAt(time.Now()).Exec(ctx)
	}
	return none, err
}

func (s *Service) deleteFinished(ctx context.Context, job *operations.Job[DeleteArgs], status operation.Status, runErr error) error {
	if status == operation.StatusSucceeded {
		return nil
	}
	return s.failed(ctx, job.Operation, job.Args.Revision, status, runErr)
}
