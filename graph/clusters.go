package graph

import (
	"context"
	"strings"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/clusterlabel"
	"github.com/meridianplane/meridian/ent/node"
	"github.com/meridianplane/meridian/internal/apierr"
)

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
