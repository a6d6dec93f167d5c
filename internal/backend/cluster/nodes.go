package cluster

import (
	"context"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/deployment"
	"github.com/meridianplane/meridian/ent/node"
	"github.com/meridianplane/meridian/ent/nodelabel"
	"github.com/meridianplane/meridian/ent/predicate"
)

func nodeOfCluster(id int) predicate.Node { return node.ClusterID(id) }

// upsertNode writes a Kubernetes node into its Node record and labels.
// With prev (an update), labels follow what changed between prev and n, so
// that a label Meridian just recorded and is still writing to the node is
// not undone; without prev, missing labels are added and, when full is set
// (a resync on connect), labels the node lacks are removed.
func (m *Manager) upsertNode(ctx context.Context, c *Conn, prev, n *corev1.Node, full bool) error {
	ctx = sys(ctx)
	now := time.Now()
	id, err := m.client.Node.Create().
		SetClusterID(c.ClusterID).SetName(n.Name).
		SetAddress(nodeIP(n)).
		SetOperatingSystem(n.Status.NodeInfo.OperatingSystem).
		SetKernelVersion(n.Status.NodeInfo.KernelVersion).
		SetReady(nodeIsReady(n)).
		SetCpus(quantity(n, corev1.ResourceCPU, 1)).
		SetMemory(quantity(n, corev1.ResourceMemory, 1<<20)).
		SetSpace(quantity(n, corev1.ResourceEphemeralStorage, 1<<20)).
		SetLastCheck(now).
		OnConflictColumns(node.FieldClusterID, node.FieldName).
		UpdateNewValues().
		ID(ctx)
	if err != nil {
		return err
	}
	want := NodeLabels(n)
	have, err := m.client.NodeLabel.Query().Where(nodelabel.NodeID(id)).All(ctx)
	if err != nil {
		return err
	}
	var removed []string
	switch {
	case prev != nil:
		for _, l := range NodeLabels(prev) {
			if !slices.Contains(want, l) {
				removed = append(removed, l)
			}
		}
	case full:
		for _, l := range have {
			if !slices.Contains(want, l.Name) {
				removed = append(removed, l.Name)
			}
		}
	}
	for _, l := range have {
		if slices.Contains(removed, l.Name) {
			if err := m.client.NodeLabel.DeleteOne(l).Exec(ctx); err != nil {
				return err
			}
		}
	}
	for _, name := range want {
		if slices.ContainsFunc(have, func(l *ent.NodeLabel) bool { return l.Name == name }) {
			continue
		}
		err := m.client.NodeLabel.Create().SetNodeID(id).SetName(name).
			OnConflictColumns(nodelabel.FieldNodeID, nodelabel.FieldName).DoNothing().Exec(ctx)
		if err != nil && !isNoRows(err) {
			return err
		}
	}
	return nil
}

// deleteNode removes a node's record, or, when a deployment is pinned to
// the node, keeps it marked not ready (so the pin is not lost and the
// deployment does not spread to every node).
func (m *Manager) deleteNode(ctx context.Context, c *Conn, name string) error {
	ctx = sys(ctx)
	pinned, err := m.client.Deployment.Query().Where(deployment.HasNodeWith(node.ClusterID(c.ClusterID), node.Name(name))).Exist(ctx)
	if err != nil {
		return err
	}
	if pinned {
		return m.client.Node.Update().Where(node.ClusterID(c.ClusterID), node.Name(name)).SetReady(false).SetLastCheck(time.Now()).Exec(ctx)
	}
	if _, err := m.client.NodeLabel.Delete().Where(nodelabel.HasNodeWith(node.ClusterID(c.ClusterID), node.Name(name))).Exec(ctx); err != nil {
		return err
	}
	_, err = m.client.Node.Delete().Where(node.ClusterID(c.ClusterID), node.Name(name)).Exec(ctx)
	return err
}
