package graph

import (
	"context"
	"strings"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/clusterlabel"
	"github.com/meridianplane/meridian/ent/deployment"
	"github.com/meridianplane/meridian/ent/deploymentrevision"
	"github.com/meridianplane/meridian/ent/node"
	"github.com/meridianplane/meridian/ent/nodelabel"
	"github.com/meridianplane/meridian/ent/operation"
	"github.com/meridianplane/meridian/ent/workload"
	"github.com/meridianplane/meridian/graph/model"
	"github.com/meridianplane/meridian/internal/apierr"
)

// deleteCluster deletes a cluster with its nodes, labels, how it is reached
// and the history of its deleted deployments; Meridian disconnects from it.
// A cluster still running deployments is refused.
func (r *Resolver) deleteCluster(ctx context.Context, id int) error {
	db := r.db(ctx)
	cl, err := db.Cluster.Get(ctx, id)
	if err != nil {
		return err
	}
	live, err := db.Deployment.Query().Where(deployment.ClusterID(id), deployment.StatusNEQ(deployment.StatusDeleted)).Count(ctx)
	if err != nil {
		return err
	}
	if live > 0 {
		return apierr.New(apierr.Conflict, "cluster %s still has %d deployment(s); delete them first", cl.Name, live)
	}
	gone := deployment.ClusterID(id)
	if _, err := db.Workload.Delete().Where(workload.HasDeploymentWith(gone)).Exec(ctx); err != nil {
		return err
	}
	if _, err := db.DeploymentRevision.Delete().Where(deploymentrevision.HasDeploymentWith(gone)).Exec(ctx); err != nil {
		return err
	}
	if _, err := db.Operation.Delete().Where(operation.Or(operation.ClusterID(id), operation.HasDeploymentWith(gone))).Exec(ctx); err != nil {
		return err
	}
	if _, err := db.Deployment.Delete().Where(gone).Exec(ctx); err != nil {
		return err
	}
	if _, err := db.NodeLabel.Delete().Where(nodelabel.HasNodeWith(node.ClusterID(id))).Exec(ctx); err != nil {
		return err
	}
	if _, err := db.Node.Delete().Where(node.ClusterID(id)).Exec(ctx); err != nil {
		return err
	}
	if _, err := db.ClusterLabel.Delete().Where(clusterlabel.ClusterID(id)).Exec(ctx); err != nil {
		return err
	}
	if err := db.Cluster.DeleteOneID(id).Exec(ctx); err != nil {
		return err
	}
	if cl.ContainerManagerID != nil {
		if err := db.ContainerManager.DeleteOneID(*cl.ContainerManagerID).Exec(ctx); err != nil {
			return err
		}
		r.deploy.Forget(ctx, id)
	}
	return nil
}

// nodesByName resolves node names within one visible cluster.
func (r *Resolver) nodesByName(ctx context.Context, clusterName string, names []string) ([]*ent.Node, error) {
	cs, err := r.clustersByName(ctx, "clusterName", []string{clusterName})
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, apierr.BadInput("nodeNames", "at least one node name is required")
	}
	uniq := dedupe(names)
	ns, err := r.db(ctx).Node.Query().Where(node.ClusterID(cs[0].ID), node.NameIn(uniq...)).All(ctx)
	if err != nil {
		return nil, err
	}
	found := map[string]bool{}
	for _, n := range ns {
		found[n.Name] = true
	}
	var missing []string
	for _, n := range uniq {
		if !found[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, &apierr.Error{Code: apierr.NotFound, Field: "nodeNames", Message: "node not found in cluster " + clusterName + ": " + strings.Join(missing, ", ")}
	}
	return ns, nil
}

// checkLabel validates a label name the way the label schemas do.
func checkLabel(field, name string) error {
	if err := clusterlabel.NameValidator(name); err != nil {
		if name == "" || len(name) > 63 {
			return apierr.BadInput(field, "must be 1 to 63 characters")
		}
		return apierr.BadInput(field, "must be letters, digits, '.', '_' or '-', beginning and ending with a letter or digit")
	}
	return nil
}

// ids returns the IDs of ent entities.
func ids[T any](xs []T, id func(T) int) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func clusterID(c *ent.Cluster) int { return c.ID }
func nodeID(n *ent.Node) int       { return n.ID }

// labelKubeNodes carries a node label change to the cluster's Kubernetes
// nodes, when the cluster is connected.
func (r *Resolver) labelKubeNodes(ctx context.Context, in model.NodeLabelInput, add bool) error {
	cs, err := r.clustersByName(ctx, "clusterName", []string{in.ClusterName})
	if err != nil {
		return err
	}
	_, err = r.deploy.LabelNodes(ctx, cs[0], in.Label, dedupe(in.NodeNames), add)
	return err
}
