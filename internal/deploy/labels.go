package deploy

import (
	"context"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/clusterlabel"
	"github.com/meridianplane/meridian/ent/nodelabel"
	"github.com/meridianplane/meridian/internal/apierr"
)

var (
	errNoNodes             = apierr.BadInput("nodeNames", "at least one node name is required")
	errNodesAcrossClusters = apierr.BadInput("nodeNames", "the nodes must be of one cluster")
)

// AddNodeLabel puts a Meridian label on nodes of one cluster: the label
// rows now, and on the Kubernetes nodes of a connected cluster in an
// operation. It returns the nodes' labels of that name.
func (s *Service) AddNodeLabel(ctx context.Context, nodes []*ent.Node, label string) ([]*ent.NodeLabel, error) {
	cl, err := s.clusterOf(ctx, nodes)
	if err != nil {
		return nil, err
	}
	db := s.db(ctx)
	for _, n := range nodes {
		err := db.NodeLabel.Create().SetNodeID(n.ID).SetName(label).
			OnConflictColumns(nodelabel.FieldNodeID, nodelabel.FieldName).DoNothing().Exec(ctx)
		if err != nil && !isNoRows(err) {
			return nil, err
		}
	}
	if _, err := s.LabelNodes(ctx, cl, label, nodeNames(nodes), true); err != nil {
		return nil, err
	}
	return db.NodeLabel.Query().Where(nodelabel.Name(label), nodelabel.NodeIDIn(entIDs(nodes, nodeIDOf)...)).All(ctx)
}

// RemoveNodeLabel takes a Meridian label off nodes of one cluster (rows now,
// Kubernetes nodes in an operation) and, with deleteDeployments, deletes
// the cluster's deployments placed by that label. It returns how many
// label rows it removed.
func (s *Service) RemoveNodeLabel(ctx context.Context, nodes []*ent.Node, label string, deleteDeployments bool) (int, error) {
	cl, err := s.clusterOf(ctx, nodes)
	if err != nil {
		return 0, err
	}
	n, err := s.db(ctx).NodeLabel.Delete().Where(nodelabel.Name(label), nodelabel.NodeIDIn(entIDs(nodes, nodeIDOf)...)).Exec(ctx)
	if err != nil {
		return 0, err
	}
	if deleteDeployments {
		if err := s.DeleteByNodeLabel(ctx, cl.ID, label); err != nil {
			return 0, err
		}
	}
	_, err = s.LabelNodes(ctx, cl, label, nodeNames(nodes), false)
	return n, err
}

// AddClusterLabel puts a label on clusters and returns the clusters'
// labels of that name.
func (s *Service) AddClusterLabel(ctx context.Context, clusters []*ent.Cluster, label string) ([]*ent.ClusterLabel, error) {
	db := s.db(ctx)
	for _, c := range clusters {
		err := db.ClusterLabel.Create().SetClusterID(c.ID).SetName(label).
			OnConflictColumns(clusterlabel.FieldClusterID, clusterlabel.FieldName).DoNothing().Exec(ctx)
		if err != nil && !isNoRows(err) {
			return nil, err
		}
	}
	return db.ClusterLabel.Query().Where(clusterlabel.Name(label), clusterlabel.ClusterIDIn(entIDs(clusters, clusterIDOf)...)).All(ctx)
}

// RemoveClusterLabel takes a label off clusters; it returns how many label
// rows it removed.
func (s *Service) RemoveClusterLabel(ctx context.Context, clusters []*ent.Cluster, label string) (int, error) {
	return s.db(ctx).ClusterLabel.Delete().Where(clusterlabel.Name(label), clusterlabel.ClusterIDIn(entIDs(clusters, clusterIDOf)...)).Exec(ctx)
}

// DeleteNode deletes a node's record and its labels.
func (s *Service) DeleteNode(ctx context.Context, id int) error {
	db := s.db(ctx)
	if _, err := db.NodeLabel.Delete().Where(nodelabel.NodeID(id)).Exec(ctx); err != nil {
		return err
	}
	return db.Node.DeleteOneID(id).Exec(ctx)
}

// clusterOf returns the one cluster that nodes (at least one) belong to.
func (s *Service) clusterOf(ctx context.Context, nodes []*ent.Node) (*ent.Cluster, error) {
	if len(nodes) == 0 {
		return nil, errNoNodes
	}
	for _, n := range nodes[1:] {
		if n.ClusterID != nodes[0].ClusterID {
			return nil, errNodesAcrossClusters
		}
	}
	return s.db(ctx).Cluster.Get(ctx, nodes[0].ClusterID)
}

func nodeNames(ns []*ent.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Name
	}
	return out
}

// entIDs returns the IDs of ent entities.
func entIDs[T any](xs []T, id func(T) int) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func clusterIDOf(c *ent.Cluster) int { return c.ID }
func nodeIDOf(n *ent.Node) int       { return n.ID }
