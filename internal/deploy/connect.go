package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/applicationversion"
	entcluster "github.com/meridianplane/meridian/ent/cluster"
	"github.com/meridianplane/meridian/ent/containermanager"
	"github.com/meridianplane/meridian/ent/deployment"
	"github.com/meridianplane/meridian/ent/operation"
	"github.com/meridianplane/meridian/internal/backend/cluster"
	"github.com/meridianplane/meridian/internal/operations"
	"github.com/meridianplane/meridian/internal/policy"
)

// The Service is the cluster backend's Inventory (how to reach a cluster,
// from its ContainerManager row) and the Observer of its connections.

// Access says how to reach a cluster: its container manager, with the
// credentials opened.
func (s *Service) Access(ctx context.Context, clusterID int) (*cluster.Access, error) {
	cl, err := s.client.Cluster.Query().Where(entcluster.ID(clusterID)).WithContainerManager().Only(policy.System(ctx))
	if err != nil {
		return nil, err
	}
	cm := cl.Edges.ContainerManager
	if cm == nil {
		return nil, fmt.Errorf("cluster %s has no container manager: it is a record only", cl.Name)
	}
	a := &cluster.Access{Name: cl.Name}
	switch cm.Kind {
	case containermanager.KindSimulator:
		a.Simulator, a.SimulatorKey = true, cm.ID
	case containermanager.KindKubeconfig:
		if a.Kubeconfig, err = s.box.Open(cm.KubeconfigSealed); err != nil {
			return nil, err
		}
	case containermanager.KindToken:
		tok, err := s.box.Open(cm.TokenSealed)
		if err != nil {
			return nil, err
		}
		a.APIServer, a.Token, a.CACert, a.InsecureSkipTLSVerify = cm.APIServer, string(tok), cm.CaCert, cm.InsecureSkipTLSVerify
	default:
		return nil, fmt.Errorf("cluster %s: container manager kind %q", cl.Name, cm.Kind)
	}
	return a, nil
}

// Reachable lists the clusters with a container manager.
func (s *Service) Reachable(ctx context.Context) ([]int, error) {
	return s.client.Cluster.Query().Where(entcluster.ContainerManagerIDNotNil()).IDs(policy.System(ctx))
}

// Connected marks the cluster ready with its Kubernetes version, then puts
// back what should run there (reapply).
func (s *Service) Connected(ctx context.Context, c *cluster.Conn) error {
	ctx = policy.System(ctx)
	err := s.client.Cluster.UpdateOneID(c.ClusterID).SetReady(true).SetKubernetesVersion(c.Version).
		SetConnectedAt(time.Now()).SetLastError("").Exec(ctx)
	s.reapply(ctx, c)
	return err
}

// Down records why a cluster cannot be reached.
func (s *Service) Down(ctx context.Context, clusterID int, cause error) {
	err := s.client.Cluster.UpdateOneID(clusterID).SetReady(false).SetLastError(operations.Clip(cause.Error())).Exec(policy.System(ctx))
	if err != nil && !ent.IsNotFound(err) {
		s.log.Warn("deploy: recording a cluster outage", "cluster", clusterID, "err", err)
	}
}

// Healthy marks a cluster that answered a health check ready again.
func (s *Service) Healthy(ctx context.Context, clusterID int) {
	err := s.client.Cluster.Update().Where(entcluster.ID(clusterID), entcluster.Ready(false)).
		SetReady(true).SetLastError("").Exec(policy.System(ctx))
	if err != nil {
		s.log.Warn("deploy: recording a cluster back", "cluster", clusterID, "err", err)
	}
}

// runConnect connects to the cluster (the Manager then syncs its nodes and
// runs reapply).
func (s *Service) runConnect(ctx context.Context, job *operations.Job[ConnectArgs]) (ConnectResult, error) {
	c, err := s.clusters.Conn(ctx, job.Args.Cluster)
	if err != nil {
		return ConnectResult{}, err
	}
	return ConnectResult{KubernetesVersion: c.Version}, nil
}

// reapply puts back, after a (re)connection, the deployments that should be
// running on the cluster: a simulated cluster starts empty, and a real one
// may have drifted while it was away. Server-side apply is idempotent; a
// chart is reinstalled only if its release is missing. Deployments with an
// operation in progress are left to it.
func (s *Service) reapply(ctx context.Context, c *cluster.Conn) {
	ds, err := s.client.Deployment.Query().Where(deployment.ClusterID(c.ClusterID), deployment.StatusEQ(deployment.StatusRunning),
		deployment.Not(deployment.HasOperationsWith(operation.StatusIn(operation.StatusPending, operation.StatusRunning)))).
		WithVersion().WithApplication().WithNode().All(ctx)
	if err != nil {
		s.log.Warn("deploy: listing deployments to re-apply", "cluster", c.ClusterID, "err", err)
		return
	}
	for _, d := range ds {
		ver := d.Edges.Version
		if ver.Kind == applicationversion.KindChart {
			if ok, err := c.HelmReleaseExists(d.Name, d.Namespace); err != nil || ok {
				continue
			}
		}
		if _, _, err := s.apply(ctx, c, d, ver, ApplyArgs{}); err != nil {
			s.log.Warn("deploy: re-applying", "deployment", d.ID, "err", err)
		}
	}
}
