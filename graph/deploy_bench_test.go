package graph_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/deployment"
	"github.com/meridianplane/meridian/ent/operation"
	"github.com/meridianplane/meridian/internal/appspec"
	"github.com/meridianplane/meridian/internal/config"
	"github.com/meridianplane/meridian/internal/testenv"
)

// BenchmarkDeploy1000: deploy 1,000 small applications onto the simulated
// cluster through GraphQL; reports operations per second and the seconds
// until every deployment reports running. (One round whatever b.N.)
func BenchmarkDeploy1000(b *testing.B) {
	const n = 1000
	e := testenv.Start(b, testenv.Databases()[0], testenv.WithSimulator, func(c *config.Config) {
		c.Workers = 8
		c.SimulatorTick = 50 * time.Millisecond
		c.RolloutDeadline = 5 * time.Minute
	})
	tok := e.AdminToken()
	cid := localClusterB(b, e)
	ctx := e.Sys()
	tid := e.Client.Tenant.Query().FirstIDX(ctx)
	spec := &appspec.Workload{DeployType: "deployment", Image: "bench:1", Replicas: 1}
	apps := make([]int, n)
	for i := range apps {
		a := e.Client.Application.Create().SetTenantID(tid).SetName(fmt.Sprintf("app-%04d", i)).SaveX(ctx)
		e.Client.ApplicationVersion.Create().SetApplicationID(a.ID).SetMainVersion("1.0").SetSequence(1).SetVersion("1.0.1").
			SetKind("workload").SetSpec(spec).ExecX(ctx)
		apps[i] = a.ID
	}
	b.ResetTimer()
	start := time.Now()
	for i, a := range apps {
		e.GQL(tok, `mutation($a: ID!, $c: ID!, $n: String!) { deploy(input: {applicationID: $a, version: "1.0.1", clusterID: $c, name: $n}) { operation { id } } }`,
			map[string]any{"a": a, "c": cid, "n": fmt.Sprintf("app-%04d", i)}).OK()
	}
	enqueued := time.Since(start)
	var opsDone time.Duration
	for {
		done := e.Client.Operation.Query().Where(operation.KindEQ("deployment.apply"), operation.StatusIn(operation.StatusSucceeded, operation.StatusFailed)).CountX(ctx)
		if done == n && opsDone == 0 {
			opsDone = time.Since(start)
		}
		running := e.Client.Deployment.Query().Where(deployment.StatusEQ(deployment.StatusRunning), deployment.RunningPods(1)).CountX(ctx)
		if running == n {
			break
		}
		if time.Since(start) > 10*time.Minute {
			b.Fatalf("only %d of %d running after 10 minutes", running, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	all := time.Since(start)
	if opsDone == 0 {
		opsDone = all
	}
	b.ReportMetric(float64(n)/enqueued.Seconds(), "requests/s")
	b.ReportMetric(float64(n)/opsDone.Seconds(), "operations/s")
	b.ReportMetric(all.Seconds(), "s-until-all-running")
}

func localClusterB(b *testing.B, e *testenv.Env) int {
	var id int
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := e.Client.Cluster.Query().Only(e.Sys())
		if err == nil && c.Ready {
			id = c.ID
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if id == 0 {
		b.Fatal("the simulated cluster did not connect")
	}
	return id
}

// deploymentPage is the first page itself. (Asking for totalCount as well
// adds a COUNT over every visible row: at 100,000 deployments that alone
// doubles the latency on SQLite.)
const deploymentPage = `{ deployments(first: 100) { edges { node { name status application { name } cluster { name } workloads { name runningPods } } } } }`

// storeDeployments writes n deployments (with a workload each) directly.
func storeDeployments(b *testing.B, e *testenv.Env, n int) {
	ctx := e.Sys()
	tid := e.Client.Tenant.Query().FirstIDX(ctx)
	cl := e.Client.Cluster.Create().SetTenantID(tid).SetName("bench").SaveX(ctx)
	app := e.Client.Application.Create().SetTenantID(tid).SetName("bench").SaveX(ctx)
	ver := e.Client.ApplicationVersion.Create().SetApplicationID(app.ID).SetMainVersion("1.0").SetSequence(1).SetVersion("1.0.1").
		SetKind("workload").SetSpec(&appspec.Workload{DeployType: "deployment", Image: "x:1"}).SaveX(ctx)
	const batch = 1000
	for i := 0; i < n; i += batch {
		var ds []*ent.DeploymentCreate
		for j := i; j < min(n, i+batch); j++ {
			ds = append(ds, e.Client.Deployment.Create().SetTenantID(tid).SetName(fmt.Sprintf("d-%06d", j)).SetApplicationID(app.ID).
				SetVersionID(ver.ID).SetClusterID(cl.ID).SetNamespace("bench").SetStatus(deployment.StatusRunning))
		}
		created := e.Client.Deployment.CreateBulk(ds...).SaveX(ctx)
		var ws []*ent.WorkloadCreate
		for _, d := range created {
			ws = append(ws, e.Client.Workload.Create().SetTenantID(tid).SetDeploymentID(d.ID).SetName(d.Name).SetKind("Deployment").SetRunningPods(1).SetTotalPods(1))
		}
		e.Client.Workload.CreateBulk(ws...).ExecX(ctx)
	}
}

// pageLatency stores n deployments and returns the mean latency of the
// first page of 100 (with application, cluster and workloads) over GraphQL,
// and its SQL statements.
func pageLatency(b *testing.B, n, rounds int) (time.Duration, float64) {
	e := testenv.Start(b, testenv.Databases()[0])
	tok := e.AdminToken()
	storeDeployments(b, e, n)
	e.GQL(tok, deploymentPage, nil).OK() // warm up
	start, stmts := time.Now(), e.Statements()
	for i := 0; i < rounds; i++ {
		if r := e.GQL(tok, deploymentPage, nil); len(r.Errors) > 0 || len(asList(r.Get("deployments.edges"))) != 100 {
			b.Fatalf("page: %v", r.Errors)
		}
	}
	return time.Since(start) / time.Duration(rounds), float64(e.Statements()-stmts) / float64(rounds)
}

// BenchmarkDeploymentPage: the first page of 100 deployments with 100 and
// with 100,000 stored; reports both latencies and their ratio (target < 2).
// (One measurement whatever b.N.)
func BenchmarkDeploymentPage(b *testing.B) {
	small, sqlSmall := pageLatency(b, 100, 50)
	large, sqlLarge := pageLatency(b, 100000, 50)
	b.ReportMetric(float64(small.Microseconds())/1000, "ms@100")
	b.ReportMetric(float64(large.Microseconds())/1000, "ms@100k")
	b.ReportMetric(float64(large)/float64(small), "ratio")
	b.ReportMetric(sqlLarge, "sql/op@100k")
	if sqlSmall != sqlLarge {
		b.Errorf("SQL statements differ: %v at 100, %v at 100,000", sqlSmall, sqlLarge)
	}
}

// restPageLatency returns the mean latency and SQL statements of one page
// of 100 of GET /v1/deploy (with total, application, version and cluster).
func restPageLatency(b *testing.B, e *testenv.Env, tok string, page, rounds int) (time.Duration, float64) {
	path := fmt.Sprintf("/v1/deploy?page=%d&pageSize=100", page)
	want := fmt.Sprintf("d-%06d", (page-1)*100)
	check := func() {
		r := e.Do("GET", path, nil, testenv.Auth(tok)...)
		data, _ := r.Body["data"].([]any)
		if r.Status != 200 || len(data) != 100 || testenv.Path(r.Body, "data.0.deployName") != want {
			b.Fatalf("%s: %d, %d rows, first %v (want %s)", path, r.Status, len(data), testenv.Path(r.Body, "data.0.deployName"), want)
		}
	}
	check() // warm up
	start, stmts := time.Now(), e.Statements()
	for i := 0; i < rounds; i++ {
		check()
	}
	return time.Since(start) / time.Duration(rounds), float64(e.Statements()-stmts) / float64(rounds)
}

// BenchmarkRESTDeepPage: GET /v1/deploy over 100,000 deployments, page 1 and
// page 500 of 100 (rows 49,901-50,000); reports both latencies and their
// ratio (target < 2). The page is one LIMIT/OFFSET query, so page 500 does
// not read the 49,900 rows before it into Go. (One measurement whatever b.N.)
func BenchmarkRESTDeepPage(b *testing.B) {
	e := testenv.Start(b, testenv.Databases()[0])
	tok := e.AdminToken()
	storeDeployments(b, e, 100000)
	b.ResetTimer()
	first, sqlFirst := restPageLatency(b, e, tok, 1, 30)
	deep, sqlDeep := restPageLatency(b, e, tok, 500, 30)
	b.ReportMetric(float64(first.Microseconds())/1000, "ms@page1")
	b.ReportMetric(float64(deep.Microseconds())/1000, "ms@page500")
	b.ReportMetric(float64(deep)/float64(first), "ratio")
	b.ReportMetric(sqlDeep, "sql/op")
	if sqlFirst != sqlDeep {
		b.Errorf("SQL statements differ: %v on page 1, %v on page 500", sqlFirst, sqlDeep)
	}
}
