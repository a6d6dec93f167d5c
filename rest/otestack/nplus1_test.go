package otestack_test

import (
	"fmt"
	"testing"

	"github.com/meridianplane/meridian/ent/applicationversion"
	"github.com/meridianplane/meridian/internal/appspec"
	"github.com/meridianplane/meridian/internal/testenv"
)

// listStatements stores n application versions, each deployed once, with an
// external registry, and returns the SQL statements of GET /v1/deploy and
// GET /v1/app (each page of every row).
func listStatements(t *testing.T, db testenv.Database, n int) (deploys, apps int64) {
	e := testenv.Start(t, db)
	ctx := e.Sys()
	tid := e.Client.Tenant.Query().FirstIDX(ctx)
	reg := e.Client.ExternalRegistry.Create().SetTenantID(tid).SetName("yq01").SetAddress("r.example.com").SaveX(ctx)
	cl := e.Client.Cluster.Create().SetTenantID(tid).SetName("c1").SaveX(ctx)
	spec := &appspec.Workload{DeployType: appspec.Deployment, Image: "nginx", MinCPU: 10, MaxCPU: 20, MinMemory: 1, MaxMemory: 2}
	for i := 0; i < n; i++ {
		app := e.Client.Application.Create().SetTenantID(tid).SetName(fmt.Sprintf("a%03d", i)).SaveX(ctx)
		v := e.Client.ApplicationVersion.Create().SetTenantID(tid).SetApplicationID(app.ID).SetVersion("1.0.1").SetMainVersion("1.0").
			SetSequence(1).SetKind(applicationversion.KindWorkload).SetSpec(spec).SetExternalRegistryID(reg.ID).SaveX(ctx)
		e.Client.Deployment.Create().SetTenantID(tid).SetName(fmt.Sprintf("d%03d", i)).SetApplicationID(app.ID).SetVersionID(v.ID).
			SetClusterID(cl.ID).SetNamespace("ns").ExecX(ctx)
	}
	tok := e.AdminToken()
	count := func(path, key string) int64 {
		before := e.Statements()
		r := e.Do("GET", path, nil, testenv.Auth(tok)...)
		if r.Status != 200 || len(r.Body[key].([]any)) != n {
			t.Fatalf("%s: %d %s", path, r.Status, r.Raw)
		}
		return e.Statements() - before
	}
	return count("/v1/deploy?pageSize=0", "data"), count("/v1/app?pageSize=0", "apps")
}

// TestListStatementCount: the deployment and application lists cost the
// same SQL statements for 40 rows as for 4 (edges are loaded eagerly).
func TestListStatementCount(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		d4, a4 := listStatements(t, db, 4)
		d40, a40 := listStatements(t, db, 40)
		t.Logf("SQL statements: deployments %d for 4, %d for 40; apps %d for 4, %d for 40", d4, d40, a4, a40)
		if d40 != d4 || a40 != a4 {
			t.Fatalf("a nested field loads per row: deployments %d vs %d, apps %d vs %d", d4, d40, a4, a40)
		}
	})
}
