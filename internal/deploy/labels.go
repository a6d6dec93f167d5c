package deploy

import (
	"context"

	"github.com/meridianplane/meridian/ent"
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
	return db.NodeLabel.Query().Where(nodelabel.Name(label), nodelabel.NodeIDIn(nodeIDs(nodes)...)).All(ctx)
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
	n, err := s.db(ctx).NodeLabel.Delete().Where(nodelabel.Name(label), nodelabel.NodeIDIn(nodeIDs(nodes)...)).Exec(ctx)
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

func nodeIDs(ns []*ent.Node) []int {
	out := make([]int, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}
