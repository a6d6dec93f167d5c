package graph_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meridianplane/meridian/ent/deployment"
	"github.com/meridianplane/meridian/ent/deploymentrevision"
	"github.com/meridianplane/meridian/ent/operation"
	"github.com/meridianplane/meridian/internal/config"
	"github.com/meridianplane/meridian/internal/testenv"
)

// TestServerRestart: a server stopped with deployments pending and rolling
// out (in-process: its background work ends without finishing them) and
// started again on the same database finishes every operation exactly once.
func TestServerRestart(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "restart.db")
	slow := func(c *config.Config) {
		c.Simulator = true
		c.SimulatorTick = 300 * time.Millisecond // rollouts take a few ticks: some are mid-way at the stop
		c.Workers = 2
	}
	e := testenv.StartDSN(t, dsn, slow)
	tok := e.AdminToken()
	cid := localCluster(t, e)
	app := e.GQL(tok, `mutation { createApplication(input: {name: "svc"}) { id } }`, nil).OK().Str("createApplication.id")
	spec := map[string]any{"deployType": "deployment", "image": "svc:1", "replicas": 1, "minCPU": 0, "maxCPU": 0, "isHPA": false, "minMemory": 0, "maxMemory": 0}
	e.GQL(tok, `mutation($a: ID!, $s: WorkloadSpecInput!) { createApplicationVersion(input: {applicationID: $a, version: "1.0", spec: $s}) { id } }`, map[string]any{"a": app, "s": spec}).OK()
	const n = 6
	for i := 0; i < n; i++ {
		e.GQL(tok, `mutation($a: ID!, $c: ID!, $n: String!) { deploy(input: {applicationID: $a, version: "1.0.1", clusterID: $c, name: $n}) { operation { id } } }`,
			map[string]any{"a": app, "c": cid, "n": fmt.Sprintf("svc-%d", i)}).OK()
	}
	ctx := e.Sys()
	testenv.Eventually(t, 10*time.Second, func() bool {
		return e.Client.Operation.Query().Where(operation.KindEQ("deployment.apply"), operation.StatusEQ(operation.StatusRunning)).CountX(ctx) > 0
	})
	running := e.Client.Operation.Query().Where(operation.KindEQ("deployment.apply"), operation.StatusEQ(operation.StatusRunning)).CountX(ctx)
	pending := e.Client.Operation.Query().Where(operation.KindEQ("deployment.apply"), operation.StatusEQ(operation.StatusPending)).CountX(ctx)
	t.Logf("stopping with %d running and %d pending", running, pending)
	if pending == 0 {
		t.Fatal("nothing was pending at the stop; the test proves less than it should")
	}
	e.HTTP.Close()
	e.Server.Close()
	e.DB.Close()

	e2 := testenv.StartDSN(t, dsn, slow)
	ctx = e2.Sys()
	testenv.Eventually(t, 60*time.Second, func() bool {
		return e2.Client.Deployment.Query().Where(deployment.StatusEQ(deployment.StatusRunning), deployment.RunningPods(1)).CountX(ctx) == n
	})
	// The new process's simulated cluster started empty: every deployment
	// that was running is back in it.
	sim := e2.Server.Clusters.Simulator(mustInt(cid))
	testenv.Eventually(t, 20*time.Second, func() bool {
		l, err := sim.Clientset.AppsV1().Deployments(adminNamespace(e2)).List(context.Background(), metav1.ListOptions{})
		return err == nil && len(l.Items) == n
	})
	ops := e2.Client.Operation.Query().Where(operation.KindEQ("deployment.apply")).AllX(ctx)
	if len(ops) != n {
		t.Fatalf("%d apply operations, want %d", len(ops), n)
	}
	for _, op := range ops {
		if op.Status != operation.StatusSucceeded || op.FinishedAt == nil || op.Attempts != 1 {
			t.Errorf("operation %d: %s after %d attempts", op.ID, op.Status, op.Attempts)
		}
	}
	revs := e2.Client.DeploymentRevision.Query().AllX(ctx)
	for _, r := range revs {
		if r.Result != deploymentrevision.ResultSucceeded || r.FinishedAt == nil {
			t.Errorf("revision %d of deployment %d: %s", r.Revision, r.DeploymentID, r.Result)
		}
	}
	if len(revs) != n {
		t.Errorf("%d revisions, want %d (one install each)", len(revs), n)
	}
}
