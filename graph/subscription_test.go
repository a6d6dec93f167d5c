package graph_test

import (
	"testing"
	"time"

	"github.com/meridianplane/meridian/internal/testenv"
)

// collect reads a subscription until pred holds or the time is up.
func collect(t *testing.T, ch <-chan map[string]any, d time.Duration, pred func(map[string]any) bool) []map[string]any {
	t.Helper()
	var got []map[string]any
	deadline := time.After(d)
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				return got
			}
			got = append(got, m)
			if pred(m) {
				return got
			}
		case <-deadline:
			return got
		}
	}
}

// TestSubscriptions: deployment and operation changes stream over
// websocket, to the tenant that owns them only.
func TestSubscriptions(t *testing.T) {
	e := testenv.Start(t, testenv.Databases()[0], testenv.WithSimulator)
	tok := e.AdminToken()
	cid := localCluster(t, e)
	alice, _ := e.NewUser("alice", "normal")
	deps := e.Subscribe(tok, `subscription { deploymentStatusChanged { name status runningPods } }`, nil)
	ops := e.Subscribe(tok, `subscription { operationUpdated { kind status } }`, nil)
	aliceSees := e.Subscribe(alice, `subscription { deploymentStatusChanged { name status } }`, nil)
	anon := e.Subscribe("", `subscription { operationUpdated { kind } }`, nil)
	if m := collect(t, anon, 5*time.Second, func(map[string]any) bool { return true }); len(m) == 0 || m[0]["errors"] == nil {
		t.Fatalf("an anonymous subscription: %v", m)
	}
	app := e.GQL(tok, `mutation { createApplication(input: {name: "live"}) { id } }`, nil).OK().Str("createApplication.id")
	spec := map[string]any{"deployType": "deployment", "image": "live:1", "minCPU": 0, "maxCPU": 0, "isHPA": false, "minMemory": 0, "maxMemory": 0, "replicas": 2}
	e.GQL(tok, `mutation($a: ID!, $s: WorkloadSpecInput!) { createApplicationVersion(input: {applicationID: $a, version: "1.0", spec: $s}) { id } }`, map[string]any{"a": app, "s": spec}).OK()
	e.GQL(tok, `mutation($a: ID!, $c: ID!) { deploy(input: {applicationID: $a, version: "1.0.1", clusterID: $c, name: "live"}) { operation { id } } }`, map[string]any{"a": app, "c": cid}).OK()
	got := collect(t, deps, 20*time.Second, func(m map[string]any) bool {
		return testenv.Path(m, "data.deploymentStatusChanged.status") == "running" && testenv.Path(m, "data.deploymentStatusChanged.runningPods") == float64(2)
	})
	if len(got) == 0 || testenv.Path(got[len(got)-1], "data.deploymentStatusChanged.status") != "running" {
		t.Fatalf("deployment stream: %v", got)
	}
	seen := map[any]bool{}
	for _, m := range got {
		seen[testenv.Path(m, "data.deploymentStatusChanged.status")] = true
	}
	if !seen["deploying"] {
		t.Errorf("the stream skipped deploying: %v", got)
	}
	opsGot := collect(t, ops, 10*time.Second, func(m map[string]any) bool {
		return testenv.Path(m, "data.operationUpdated.status") == "succeeded"
	})
	if len(opsGot) == 0 || testenv.Path(opsGot[len(opsGot)-1], "data.operationUpdated.status") != "succeeded" {
		t.Fatalf("operation stream: %v", opsGot)
	}
	if leaked := collect(t, aliceSees, 500*time.Millisecond, func(map[string]any) bool { return true }); len(leaked) > 0 {
		t.Fatalf("alice saw the admin's deployment: %v", leaked)
	}
}

// TestSubscriptionsAcrossReplicas: on PostgreSQL, a subscriber on one
// replica hears the operations another replica carries out.
func TestSubscriptionsAcrossReplicas(t *testing.T) {
	var pg *testenv.Database
	for _, d := range testenv.Databases() {
		if d.Name == "postgres" {
			pg = &d
		}
	}
	if pg == nil {
		t.Skip("needs PostgreSQL (MERIDIAN_TEST_POSTGRES)")
	}
	dsn := pg.DSN(t)
	worker := testenv.StartDSN(t, dsn)
	replica := testenv.StartDSN(t, dsn, testenv.WithoutWorkers)
	tok := replica.AdminToken()
	ops := replica.Subscribe(tok, `subscription { operationUpdated { kind status } }`, nil)
	time.Sleep(200 * time.Millisecond) // let LISTEN start
	worker.GQL(worker.AdminToken(), `mutation { registerCluster(input: {name: "far", simulator: true}) { cluster { id } } }`, nil).OK()
	got := collect(t, ops, 20*time.Second, func(m map[string]any) bool {
		return testenv.Path(m, "data.operationUpdated.status") == "succeeded"
	})
	if len(got) == 0 || testenv.Path(got[len(got)-1], "data.operationUpdated.status") != "succeeded" {
		t.Fatalf("the replica heard: %v", got)
	}
}

// TestSubscriptionEndsAtLogout: a stream stops once its token is revoked.
func TestSubscriptionEndsAtLogout(t *testing.T) {
	e := testenv.Start(t, testenv.Databases()[0])
	tok := e.Login("admin", testenv.AdminPassword)
	ops := e.Subscribe(tok, `subscription { operationUpdated { kind status } }`, nil)
	time.Sleep(100 * time.Millisecond)
	if r := e.Do("DELETE", "/v1/authorization", nil, testenv.Auth(tok)...); r.Status != 200 {
		t.Fatalf("logout: %d", r.Status)
	}
	// The next event finds the session revoked and ends the stream.
	e.GQL(e.AdminToken(), `mutation { registerCluster(input: {name: "x", simulator: true}) { cluster { id } } }`, nil).OK()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-ops:
			if !ok {
				return
			}
			if m["errors"] == nil && m["data"] != nil {
				t.Fatalf("a revoked token still receives: %v", m)
			}
			if m["errors"] != nil {
				return // the server completed the subscription
			}
		case <-deadline:
			t.Fatal("the stream did not end after logout")
		}
	}
}
