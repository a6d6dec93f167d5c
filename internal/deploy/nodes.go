package deploy

import (
	"context"
	"slices"
	"time"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/deployment"
	"github.com/meridianplane/meridian/ent/node"
	"github.com/meridianplane/meridian/ent/nodelabel"
	"github.com/meridianplane/meridian/internal/backend/cluster"
	"github.com/meridianplane/meridian/internal/policy"
)

// The Service is the cluster backend's Observer: it writes the Node rows
// and their labels from what the backend observes.

// NodesListed writes every node of a cluster at (re)connection: labels a
// node lacks are removed, and the records of nodes the cluster no longer
// has are removed.
func (s *Service) NodesListed(ctx context.Context, clusterID int, nodes []cluster.Node) error {
	ctx = policy.System(ctx)
	have := map[string]bool{}
	for _, n := range nodes {
		have[n.Name] = true
		if err := s.upsertNode(ctx, clusterID, nil, n, true); err != nil {
			return err
		}
	}
	rows, err := s.client.Node.Query().Where(node.ClusterID(clusterID)).All(ctx)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if !have[r.Name] {
			if err := s.NodeGone(ctx, clusterID, r.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// NodeChanged writes a node that appeared (prev nil) or changed.
func (s *Service) NodeChanged(ctx context.Context, clusterID int, prev *cluster.Node, n cluster.Node) error {
	return s.upsertNode(policy.System(ctx), clusterID, prev, n, false)
}

// upsertNode writes a node into its Node record and labels. With prev (an
// update), labels follow what changed between prev and n, so that a label
// Meridian just recorded and is still writing to the node is not undone;
// without prev, missing labels are added and, when full is set (a resync on
// connect), labels the node lacks are removed.
func (s *Service) upsertNode(ctx context.Context, clusterID int, prev *cluster.Node, n cluster.Node, full bool) error {
	id, err := s.client.Node.Create().
		SetClusterID(clusterID).SetName(n.Name).
		SetAddress(n.Address).
		SetOperatingSystem(n.OperatingSystem).
		SetKernelVersion(n.KernelVersion).
		SetReady(n.Ready).
		SetCpus(n.CPUs).
		SetMemory(n.MemoryMiB).
		SetSpace(n.StorageMiB).
		SetLastCheck(time.Now()).
		OnConflictColumns(node.FieldClusterID, node.FieldName).
		UpdateNewValues().
		ID(ctx)
	if err != nil {
		return err
	}
	have, err := s.client.NodeLabel.Query().Where(nodelabel.NodeID(id)).All(ctx)
	if err != nil {
		return err
	}
	var removed []string
	switch {
	case prev != nil:
		for _, l := range prev.Labels {
			if !slices.Contains(n.Labels, l) {
				removed = append(removed, l)
			}
		}
	case full:
		for _, l := range have {
			if !slices.Contains(n.Labels, l.Name) {
				removed = append(removed, l.Name)
			}
		}
	}
	for _, l := range have {
		if slices.Contains(removed, l.Name) {
			if err := s.client.NodeLabel.DeleteOne(l).Exec(ctx); err != nil {
				return err
			}
		}
	}
	for _, name := range n.Labels {
		if slices.ContainsFunc(have, func(l *ent.NodeLabel) bool { return l.Name == name }) {
			continue
		}
		err := s.client.NodeLabel.Create().SetNodeID(id).SetName(name).
			OnConflictColumns(nodelabel.FieldNodeID, nodelabel.FieldName).DoNothing().Exec(ctx)
		if err != nil && !isNoRows(err) {
			return err
		}
	}
	return nil
}

// NodeGone removes a node's record, or, when a deployment is pinned to the
// node, keeps it marked not ready (so the pin is not lost and the
// deployment does not spread to every node).
func (s *Service) NodeGone(ctx context.Context, clusterID int, name string) error {
	ctx = policy.System(ctx)
	pinned, err := s.client.Deployment.Query().Where(deployment.HasNodeWith(node.ClusterID(clusterID), node.Name(name))).Exist(ctx)
	if err != nil {
		return err
	}
	if pinned {
		return s.client.Node.Update().Where(node.ClusterID(clusterID), node.Name(name)).SetReady(false).SetLastCheck(time.Now()).Exec(ctx)
	}
	if _, err := s.client.NodeLabel.Delete().Where(nodelabel.HasNodeWith(node.ClusterID(clusterID), node.Name(name))).Exec(ctx); err != nil {
		return err
	}
	_, err = s.client.Node.Delete().Where(node.ClusterID(clusterID), node.Name(name)).Exec(ctx)
	return err
}
