package deploy_test

import (
	"context"
	"slices"
	"testing"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/node"
	"github.com/meridianplane/meridian/ent/operation"
	"github.com/meridianplane/meridian/internal/backend/cluster"
	"github.com/meridianplane/meridian/internal/deploy"
	"github.com/meridianplane/meridian/internal/testenv"
	"github.com/meridianplane/meridian/internal/viewer"
)

func TestLabels(t *testing.T) {
	testenv.Each(t, func(t *testing.T, d testenv.Database) {
		f := setup(t, d)
		admin := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: 1, Username: "admin", TenantID: f.tenant.ID, Role: viewer.RoleSuperAdmin})
		if err := f.backend.obs.NodesListed(f.sys, f.cluster.ID, []cluster.Node{{Name: "n1"}, {Name: "n2"}}); err != nil {
			t.Fatal(err)
		}
		nodes := f.client.Node.Query().Where(node.ClusterID(f.cluster.ID)).Order(node.ByName()).AllX(f.sys)

		// Twice: the second add changes no row but still writes Kubernetes.
		for range 2 {
			ls, err := f.svc.AddNodeLabel(admin, nodes, "gpu")
			if err != nil {
				t.Fatal(err)
			}
			if len(ls) != 2 {
				t.Fatalf("%d gpu labels, want 2", len(ls))
			}
		}
		if got := f.nodeLabels(t, "n2"); !slices.Equal(got, []string{"gpu"}) {
			t.Fatalf("n2 labels: %v", got)
		}
		n, err := f.svc.RemoveNodeLabel(admin, nodes[:1], "gpu", false)
		if err != nil || n != 1 {
			t.Fatalf("remove: %d, %v", n, err)
		}
		ops := f.client.Operation.Query().Where(operation.Kind(deploy.KindNodeLabels)).Order(ent.Asc(operation.FieldID)).AllX(f.sys)
		if len(ops) != 3 {
			t.Fatalf("%d node label operations, want 3 (add, add, remove)", len(ops))
		}
		if last := ops[2].Payload; last["add"] != false || last["label"] != "gpu" || len(last["nodes"].([]any)) != 1 {
			t.Fatalf("the remove's operation: %v", last)
		}

		// A record-only cluster keeps labels as rows only.
		paper := f.client.Cluster.Create().SetTenantID(f.tenant.ID).SetName("paper").SaveX(f.sys)
		pn := f.client.Node.Create().SetTenantID(f.tenant.ID).SetClusterID(paper.ID).SetName("p1").SaveX(f.sys)
		if _, err := f.svc.AddNodeLabel(admin, []*ent.Node{pn}, "gpu"); err != nil {
			t.Fatal(err)
		}
		if n := f.client.Operation.Query().Where(operation.ClusterID(paper.ID)).CountX(f.sys); n != 0 {
			t.Fatalf("%d operations for a record-only cluster", n)
		}
		if _, err := f.svc.AddNodeLabel(admin, []*ent.Node{nodes[0], pn}, "gpu"); err == nil {
			t.Fatal("nodes of two clusters labelled in one call")
		}

		cls := []*ent.Cluster{f.cluster, paper}
		for range 2 {
			ls, err := f.svc.AddClusterLabel(admin, cls, "prod")
			if err != nil || len(ls) != 2 {
				t.Fatalf("cluster labels: %d, %v", len(ls), err)
			}
		}
		if n, err := f.svc.RemoveClusterLabel(admin, cls[:1], "prod"); err != nil || n != 1 {
			t.Fatalf("remove cluster label: %d, %v", n, err)
		}
	})
}
