package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// watchNodes tells the Observer of node changes.
func (m *Manager) watchNodes(ctx context.Context, c *Conn) {
	inf := c.factory.Core().V1().Nodes().Informer()
	changed := func(old, obj any) {
		n, ok := obj.(*corev1.Node)
		if !ok {
			return
		}
		var prev *Node
		if o, ok := old.(*corev1.Node); ok {
			p := observeNode(o)
			prev = &p
		}
		if err := m.obs.NodeChanged(ctx, c.ClusterID, prev, observeNode(n)); err != nil && ctx.Err() == nil {
			m.log.Warn("cluster: syncing node", "cluster", c.ClusterID, "node", n.Name, "err", err)
		}
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { changed(nil, obj) },
		UpdateFunc: changed,
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if n, ok := obj.(*corev1.Node); ok {
				if err := m.obs.NodeGone(ctx, c.ClusterID, n.Name); err != nil && ctx.Err() == nil {
					m.log.Warn("cluster: removing node", "cluster", c.ClusterID, "node", n.Name, "err", err)
				}
			}
		},
	})
}

// nodes lists the cluster's nodes from the informer cache.
func (c *Conn) nodes() ([]Node, error) {
	ns, err := c.factory.Core().V1().Nodes().Lister().List(labels.Everything())
	if err != nil {
		return nil, err
	}
	out := make([]Node, len(ns))
	for i, n := range ns {
		out[i] = observeNode(n)
	}
	return out, nil
}

// observeNode is what Meridian keeps of a Kubernetes node.
func observeNode(n *corev1.Node) Node {
	return Node{
		Name: n.Name, Address: nodeIP(n),
		OperatingSystem: n.Status.NodeInfo.OperatingSystem, KernelVersion: n.Status.NodeInfo.KernelVersion,
		Ready: nodeIsReady(n),
		CPUs:  quantity(n, corev1.ResourceCPU, 1), MemoryMiB: quantity(n, corev1.ResourceMemory, 1<<20),
		StorageMiB: quantity(n, corev1.ResourceEphemeralStorage, 1<<20),
		Labels:     NodeLabels(n),
	}
}

func nodeIP(n *corev1.Node) string {
	for _, t := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP, corev1.NodeHostName} {
		for _, a := range n.Status.Addresses {
			if a.Type == t {
				return a.Address
			}
		}
	}
	return ""
}

func nodeIsReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func quantity(n *corev1.Node, r corev1.ResourceName, unit int64) int {
	q, ok := n.Status.Capacity[r]
	if !ok {
		return 0
	}
	return int(q.Value() / unit)
}

// NodeLabels returns the Meridian labels of a Kubernetes node.
func NodeLabels(n *corev1.Node) []string {
	var out []string
	for k, v := range n.Labels {
		if name, ok := strings.CutPrefix(k, NodeLabelPrefix); ok && name != "" && v == "true" {
			out = append(out, name)
		}
	}
	return out
}

// LabelNodes sets (add) or removes a Meridian label on Kubernetes nodes.
func (c *Conn) LabelNodes(ctx context.Context, label string, nodes []string, add bool) error {
	var value any
	if add {
		value = "true"
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]any{NodeLabelPrefix + label: value}}})
	if err != nil {
		return err
	}
	for _, n := range nodes {
		_, err := c.Kube.CoreV1().Nodes().Patch(ctx, n, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: FieldManager})
		if ignoreNotFound(err) != nil {
			return fmt.Errorf("node %s: %w", n, err)
		}
	}
	return nil
}
