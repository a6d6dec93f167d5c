package graph_test

import (
	"fmt"
	"testing"

	"github.com/meridianplane/meridian/internal/testenv"
)

const clusterTree = `{
  clusters(first: 100) {
    totalCount
    edges { node {
      id name ready
      labels { name createdAt }
      tenant { name }
      nodes(first: 10) {
        totalCount
        edges { node { id name address labels { name } cluster { name } } }
      }
    } }
  }
}`

// populate creates n clusters, each with three nodes carrying a label, and
// two cluster labels, directly through ent (as the admin's tenant).
func populate(t testing.TB, e *testenv.Env, n int) {
	t.Helper()
	ctx := e.Sys()
	tid := e.Client.Tenant.Query().FirstIDX(ctx)
	for i := 0; i < n; i++ {
		c := e.Client.Cluster.Create().SetTenantID(tid).SetName(fmt.Sprintf("c%03d", i)).SaveX(ctx)
		for _, l := range []string{"edge", "zone-a"} {
			e.Client.ClusterLabel.Create().SetTenantID(tid).SetClusterID(c.ID).SetName(l).ExecX(ctx)
		}
		for j := 0; j < 3; j++ {
			nd := e.Client.Node.Create().SetTenantID(tid).SetClusterID(c.ID).SetName(fmt.Sprintf("c%03d-n%d", i, j)).SetAddress("10.0.0.1").SaveX(ctx)
			e.Client.NodeLabel.Create().SetTenantID(tid).SetNodeID(nd.ID).SetName("gpu").ExecX(ctx)
		}
	}
}

// statementsFor runs the cluster tree query over n clusters and returns how
// many SQL statements it took.
func statementsFor(t *testing.T, db testenv.Database, n int) int64 {
	e := testenv.Start(t, db)
	token := e.AdminToken()
	populate(t, e, n)
	before := e.Statements()
	r := e.GQL(token, clusterTree, nil).OK()
	if got := r.Num("clusters.totalCount"); int(got) != n {
		t.Fatalf("totalCount = %v, want %d", got, n)
	}
	if got := len(asList(r.Get("clusters.edges.0.node.nodes.edges"))); got != 3 {
		t.Fatalf("first cluster has %d nodes, want 3", got)
	}
	return e.Statements() - before
}

// TestClusterTreeStatementCount: 50 clusters with their nodes and labels cost
// the same number of SQL statements as 5 (eager loading, no N+1).
func TestClusterTreeStatementCount(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		five := statementsFor(t, db, 5)
		fifty := statementsFor(t, db, 50)
		t.Logf("SQL statements: %d for 5 clusters, %d for 50", five, fifty)
		if fifty != five {
			t.Fatalf("50 clusters took %d statements, 5 took %d: a nested field loads per row", fifty, five)
		}
		if five > 20 {
			t.Fatalf("the cluster tree takes %d statements; expected a small constant", five)
		}
	})
}
