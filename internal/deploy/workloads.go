package deploy

import (
	"context"
	"database/sql"
	"errors"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/deployment"
	"github.com/meridianplane/meridian/ent/workload"
	"github.com/meridianplane/meridian/internal/backend/cluster"
	"github.com/meridianplane/meridian/internal/policy"
)

// WorkloadsObserved rewrites a deployment's Workload rows and pod counts
// from what the cluster backend observed, and tells the OnChange
// listeners. Objects of a deployment Meridian no longer has, or that sit
// elsewhere than the deployment's cluster and namespace, are ignored.
func (s *Service) WorkloadsObserved(ctx context.Context, clusterID, deploymentID int, namespace string, ws []cluster.Workload) error {
	ctx = policy.System(ctx)
	d, err := s.client.Deployment.Get(ctx, deploymentID)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if d.ClusterID != clusterID || d.Namespace != namespace {
		return nil
	}
	names := make([]string, 0, len(ws))
	running, failing, total := 0, 0, 0
	for _, w := range ws {
		names = append(names, w.Name)
		running, failing, total = running+w.Running, failing+w.Failing, total+len(w.Pods)
		err = s.client.Workload.Create().SetDeploymentID(d.ID).SetName(w.Name).
			SetKind(workload.Kind(w.Kind)).SetReplicas(w.Replicas).SetCPU(w.CPUMilli).SetMemory(w.MemoryMiB).
			SetRunningPods(w.Running).SetErrorPods(w.Failing).SetTotalPods(len(w.Pods)).SetPods(w.Pods).
			OnConflictColumns(workload.FieldDeploymentID, workload.FieldName).UpdateNewValues().Exec(ctx)
		if err != nil {
			return err
		}
	}
	if _, err := s.client.Workload.Delete().Where(workload.DeploymentID(d.ID), workload.NameNotIn(names...)).Exec(ctx); err != nil {
		return err
	}
	err = s.client.Deployment.Update().Where(deployment.ID(d.ID)).
		SetRunningPods(running).SetErrorPods(failing).SetTotalPods(total).Exec(ctx)
	if err != nil {
		return err
	}
	s.notify(d.ID)
	return nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
