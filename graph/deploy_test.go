package graph_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	entcluster "github.com/meridianplane/meridian/ent/cluster"
	"github.com/meridianplane/meridian/ent/tenant"
	"github.com/meridianplane/meridian/internal/backend/cluster"
	"github.com/meridianplane/meridian/internal/testenv"
)

const specFields = `deployType image ports { port hostPort } replicas minReplicas maxReplicas minCPU maxCPU isHPA minMemory maxMemory`

func waitOp(t *testing.T, e *testenv.Env, token, id string) map[string]any {
	t.Helper()
	var op map[string]any
	testenv.Eventually(t, 30*time.Second, func() bool {
		r := e.GQL(token, `query($id: ID!) { node(id: $id) { ... on Operation { id status lastError attempts } } }`, map[string]any{"id": id}).OK()
		op, _ = r.Get("node").(map[string]any)
		st := op["status"]
		return st == "succeeded" || st == "failed" || st == "cancelled"
	})
	return op
}

func localCluster(t *testing.T, e *testenv.Env) string {
	t.Helper()
	var id string
	testenv.Eventually(t, 20*time.Second, func() bool {
		r := e.GQL(e.AdminToken(), `{ clusters(where: {name: "local"}) { edges { node { id ready kubernetesVersion nodes { totalCount } } } } }`, nil).OK()
		id = r.Str("clusters.edges.0.node.id")
		return r.Get("clusters.edges.0.node.ready") == true && r.Num("clusters.edges.0.node.nodes.totalCount") == 3
	})
	return id
}

// TestDeployLifecycle: deploy, upgrade, fail, roll back, scale and delete on
// the simulated cluster, all through GraphQL.
func TestDeployLifecycle(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		e := testenv.Start(t, db, testenv.WithSimulator)
		tok := e.AdminToken()
		cid := localCluster(t, e)
		r := e.GQL(tok, `{ clusterNodes(where: {hasClusterWith: [{name: "local"}]}, orderBy: {field: NAME}) { edges { node { name address ready operatingSystem kernelVersion cpus memory } } } }`, nil).OK()
		if r.Str("clusterNodes.edges.0.node.name") != "node-1" || r.Str("clusterNodes.edges.0.node.address") != "10.0.0.11" || r.Get("clusterNodes.edges.0.node.ready") != true || r.Num("clusterNodes.edges.0.node.cpus") != 8 {
			t.Fatalf("synced nodes: %v", r.Data)
		}
		app := e.GQL(tok, `mutation { createApplication(input: {name: "nginx1"}) { id } }`, nil).OK().Str("createApplication.id")
		spec := map[string]any{"deployType": "deployment", "image": "nginx:1.25", "ports": []any{map[string]any{"port": 8080, "hostPort": 9090}},
			"replicas": 2, "minReplicas": 1, "maxReplicas": 5, "minCPU": 10, "maxCPU": 200, "isHPA": true, "targetCPUUtilization": 80,
			"minMemory": 100, "maxMemory": 200, "env": []any{map[string]any{"name": "NGINX_PATH", "value": "/usr/share/nginx/"}},
			"volumes": []any{map[string]any{"path": "/host/usr/bin", "hostPath": "/usr/bin", "readOnly": true}}, "maxSurge": 1, "maxUnavailable": 1, "minReadySeconds": 0}
		newVersion := func(image string) string {
			s := map[string]any{}
			for k, v := range spec {
				s[k] = v
			}
			s["image"] = image
			return e.GQL(tok, `mutation($a: ID!, $s: WorkloadSpecInput!) { createApplicationVersion(input: {applicationID: $a, version: "1.2", spec: $s}) { version spec { `+specFields+` } } }`,
				map[string]any{"a": app, "s": s}).OK().Str("createApplicationVersion.version")
		}
		if v := newVersion("nginx:1.25"); v != "1.2.1" {
			t.Fatalf("first version %q, want 1.2.1", v)
		}
		if v := newVersion("nginx:1.26"); v != "1.2.2" {
			t.Fatalf("second version %q, want 1.2.2", v)
		}
		// Deploy 1.2.1.
		r = e.GQL(tok, `mutation($a: ID!, $c: ID!) { deploy(input: {applicationID: $a, version: "1.2.1", clusterID: $c, name: "web"}) { deployment { id status } operation { id status kind } } }`,
			map[string]any{"a": app, "c": cid}).OK()
		dep := r.Str("deploy.deployment.id")
		if op := waitOp(t, e, tok, r.Str("deploy.operation.id")); op["status"] != "succeeded" {
			t.Fatalf("install: %v", op)
		}
		// The rollout wait snoozed between checks (it held no worker): the
		// operation kept its rollout checkpoint.
		if op := e.Client.Operation.GetX(e.Sys(), mustInt(r.Str("deploy.operation.id"))); op.Checkpoint["applied"] == nil || op.Attempts != 1 {
			t.Fatalf("install operation: checkpoint %v after %d attempts", op.Checkpoint, op.Attempts)
		}
		status := func() map[string]any {
			r := e.GQL(tok, `query($id: ID!) { node(id: $id) { ... on Deployment { status message version { version } runningPods totalPods errorPods workloads { kind replicas runningPods pods { name ready node nodeIP } } revisions { edges { node { revision action result message toVersion { version } } } } } } }`,
				map[string]any{"id": dep}).OK()
			return r.Get("node").(map[string]any)
		}
		var last map[string]any
		defer func() {
			if t.Failed() {
				t.Logf("last status: %v", last)
			}
		}()
		testenv.Eventually(t, 10*time.Second, func() bool {
			last = status()
			return last["status"] == "running" && testenv.Path(last, "runningPods") == float64(2) && testenv.Path(last, "workloads.0.runningPods") == float64(2)
		})
		// The applied objects.
		sim := e.Server.Clusters.Simulator(mustInt(cid))
		ctx := context.Background()
		ns := adminNamespace(e)
		kd, err := sim.Clientset.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c0 := kd.Spec.Template.Spec.Containers[0]
		if c0.Image != "nginx:1.25" || c0.Ports[0].HostPort != 9090 || c0.Resources.Requests.Cpu().MilliValue() != 100 || c0.Resources.Limits.Memory().Value() != 200<<20 ||
			kd.Labels["app.kubernetes.io/managed-by"] != "meridian" || len(kd.ManagedFields) == 0 || kd.ManagedFields[0].Manager != "meridian" {
			t.Fatalf("applied deployment: %+v", kd)
		}
		if svc, err := sim.Clientset.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{}); err != nil || svc.Spec.Ports[0].Port != 8080 {
			t.Fatalf("service: %v %v", svc, err)
		}
		if hpa, err := sim.Clientset.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "web", metav1.GetOptions{}); err != nil || hpa.Spec.MaxReplicas != 5 || *hpa.Spec.Metrics[0].Resource.Target.AverageUtilization != 80 {
			t.Fatalf("hpa: %v %v", hpa, err)
		}
		// Upgrade to 1.2.2.
		r = e.GQL(tok, `mutation($d: ID!) { upgradeDeployment(id: $d, version: "1.2.2") { operation { id } } }`, map[string]any{"d": dep}).OK()
		if op := waitOp(t, e, tok, r.Str("upgradeDeployment.operation.id")); op["status"] != "succeeded" {
			t.Fatalf("upgrade: %v", op)
		}
		if s := status(); testenv.Path(s, "version.version") != "1.2.2" || s["status"] != "running" {
			t.Fatalf("after upgrade: %v", s)
		}
		// A version whose image cannot be pulled fails; the previous one stays.
		sim.FailImages("nginx:broken")
		newVersion("nginx:broken")
		r = e.GQL(tok, `mutation($d: ID!) { upgradeDeployment(id: $d, version: "1.2.3") { operation { id } } }`, map[string]any{"d": dep}).OK()
		op := waitOp(t, e, tok, r.Str("upgradeDeployment.operation.id"))
		if op["status"] != "failed" || !strings.Contains(op["lastError"].(string), "ImagePullBackOff") {
			t.Fatalf("broken upgrade: %v", op)
		}
		s := status()
		if s["status"] != "failed" || !strings.Contains(s["message"].(string), "ImagePullBackOff") || testenv.Path(s, "version.version") != "1.2.2" {
			t.Fatalf("after a failed rollout: %v", s)
		}
		if testenv.Path(s, "revisions.edges.2.node.result") != "failed" {
			t.Fatalf("the failed revision: %v", s["revisions"])
		}
		// One query: the deployments on the cluster whose workloads have
		// failing pods, with their application and last revision.
		var q *testenv.Result
		testenv.Eventually(t, 10*time.Second, func() bool {
			q = e.GQL(tok, `query($c: ID!) { deployments(where: {clusterID: $c, hasWorkloadsWith: [{errorPodsGT: 0}]}) {
				edges { node { name application { name } workloads { errorPods pods { reason } } revisions(last: 1) { edges { node { revision action result message } } } } } } }`,
				map[string]any{"c": cid}).OK()
			return len(asList(q.Get("deployments.edges"))) == 1
		})
		if q.Str("deployments.edges.0.node.application.name") != "nginx1" || q.Num("deployments.edges.0.node.revisions.edges.0.node.revision") != 3 ||
			q.Str("deployments.edges.0.node.revisions.edges.0.node.result") != "failed" {
			t.Fatalf("failing deployments: %v", q.Data)
		}
		// Rolling back to a version never deployed is refused; to 1.2.1 works.
		if r := e.GQL(tok, `mutation($d: ID!) { rollbackDeployment(id: $d, version: "1.2.3") { operation { id } } }`, map[string]any{"d": dep}); r.Code() != "BAD_USER_INPUT" || r.Field() != "version" {
			t.Fatalf("rollback to a never-deployed version: %v", r.Errors)
		}
		r = e.GQL(tok, `mutation($d: ID!) { rollbackDeployment(id: $d, version: "1.2.1") { operation { id } } }`, map[string]any{"d": dep}).OK()
		if op := waitOp(t, e, tok, r.Str("rollbackDeployment.operation.id")); op["status"] != "succeeded" {
			t.Fatalf("rollback: %v", op)
		}
		if s := status(); testenv.Path(s, "version.version") != "1.2.1" || s["status"] != "running" {
			t.Fatalf("after rollback: %v", s)
		}
		// Scale.
		wid := e.GQL(tok, `query($id: ID!) { node(id: $id) { ... on Deployment { workloads { id } } } }`, map[string]any{"id": dep}).OK().Str("node.workloads.0.id")
		if r := e.GQL(tok, `mutation($w: ID!) { scaleWorkload(id: $w, replicas: 9) { operation { id } } }`, map[string]any{"w": wid}); r.Code() != "BAD_USER_INPUT" || r.Field() != "replicas" {
			t.Fatalf("scale above maxReplicas: %v", r.Errors)
		}
		r = e.GQL(tok, `mutation($w: ID!) { scaleWorkload(id: $w, replicas: 4) { operation { id } } }`, map[string]any{"w": wid}).OK()
		if op := waitOp(t, e, tok, r.Str("scaleWorkload.operation.id")); op["status"] != "succeeded" {
			t.Fatalf("scale: %v", op)
		}
		// The operation ends once the four pods run.
		pods, _ := sim.Clientset.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "meridian.io/deployment-id=" + dep})
		ready := 0
		for _, p := range pods.Items {
			for _, c := range p.Status.Conditions {
				if c.Type == "Ready" && c.Status == "True" {
					ready++
				}
			}
		}
		if ready != 4 {
			t.Fatalf("scale finished with %d ready pods", ready)
		}
		testenv.Eventually(t, 10*time.Second, func() bool { return status()["runningPods"] == float64(4) })
		// Delete.
		r = e.GQL(tok, `mutation($d: ID!) { deleteDeployment(id: $d) { operation { id } } }`, map[string]any{"d": dep}).OK()
		if op := waitOp(t, e, tok, r.Str("deleteDeployment.operation.id")); op["status"] != "succeeded" {
			t.Fatalf("delete: %v", op)
		}
		if s := status(); s["status"] != "deleted" || s["totalPods"] != float64(0) {
			t.Fatalf("after delete: %v", s)
		}
		if _, err := sim.Clientset.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{}); err == nil {
			t.Fatal("the Kubernetes deployment survived")
		}
		// The cluster can go now that nothing runs on it.
		e.GQL(tok, `mutation($c: ID!) { deleteCluster(id: $c) }`, map[string]any{"c": cid}).OK()
		if n := e.Client.ContainerManager.Query().CountX(e.Sys()); n != 0 {
			t.Fatalf("%d container managers left", n)
		}
		if e.Server.Clusters.Simulator(mustInt(cid)) != nil {
			t.Fatal("still connected to the deleted cluster")
		}
	})
}

// TestDeployBadInput: bad requests get clear errors and store nothing.
func TestDeployBadInput(t *testing.T) {
	e := testenv.Start(t, testenv.Databases()[0], testenv.WithSimulator)
	tok := e.AdminToken()
	cid := localCluster(t, e)
	alice, _ := e.NewUser("alice", "normal")
	app := e.GQL(tok, `mutation { createApplication(input: {name: "api"}) { id } }`, nil).OK().Str("createApplication.id")
	good := map[string]any{"deployType": "deployment", "image": "api:1", "minCPU": 10, "maxCPU": 100, "isHPA": false, "minMemory": 64, "maxMemory": 128, "replicas": 2, "maxReplicas": 3}
	e.GQL(tok, `mutation($a: ID!, $s: WorkloadSpecInput!) { createApplicationVersion(input: {applicationID: $a, version: "1.0", spec: $s}) { id } }`, map[string]any{"a": app, "s": good}).OK()
	reg := e.GQL(alice, `mutation { registerCluster(input: {name: "mine", simulator: true}) { cluster { id } operation { id } } }`, nil).OK()
	aliceCluster := reg.Str("registerCluster.cluster.id")
	waitOp(t, e, alice, reg.Str("registerCluster.operation.id"))
	e.Server.Clusters.Flush(context.Background())
	with := func(k string, v any) map[string]any {
		s := map[string]any{}
		for kk, vv := range good {
			s[kk] = vv
		}
		s[k] = v
		return s
	}
	before := e.Snapshot()
	cases := []struct {
		name, token, query string
		vars               map[string]any
		code, field        string
	}{
		{"unparsable image", tok, `mutation($a: ID!, $s: WorkloadSpecInput!) { createApplicationVersion(input: {applicationID: $a, version: "1.0", spec: $s}) { id } }`, map[string]any{"a": app, "s": with("image", "Not An Image!")}, "BAD_USER_INPUT", "spec.image"},
		{"replicas above max", tok, `mutation($a: ID!, $s: WorkloadSpecInput!) { createApplicationVersion(input: {applicationID: $a, version: "1.0", spec: $s}) { id } }`, map[string]any{"a": app, "s": with("replicas", 9)}, "BAD_USER_INPUT", "spec.replicas"},
		{"bad deploy type", tok, `mutation($a: ID!, $s: WorkloadSpecInput!) { createApplicationVersion(input: {applicationID: $a, version: "1.0", spec: $s}) { id } }`, map[string]any{"a": app, "s": with("deployType", "statefulset")}, "BAD_USER_INPUT", "spec.deployType"},
		{"min above max cpu", tok, `mutation($a: ID!, $s: WorkloadSpecInput!) { createApplicationVersion(input: {applicationID: $a, version: "1.0", spec: $s}) { id } }`, map[string]any{"a": app, "s": with("minCPU", 500)}, "BAD_USER_INPUT", "spec.minCPU"},
		{"bad main version", tok, `mutation($a: ID!, $s: WorkloadSpecInput!) { createApplicationVersion(input: {applicationID: $a, version: "1.0.0", spec: $s}) { id } }`, map[string]any{"a": app, "s": good}, "BAD_USER_INPUT", "version"},
		{"version that does not exist", tok, `mutation($a: ID!, $c: ID!) { deploy(input: {applicationID: $a, version: "9.9.9", clusterID: $c, name: "x"}) { deployment { id } } }`, map[string]any{"a": app, "c": cid}, "NOT_FOUND", "version"},
		{"cluster of another tenant", tok, `mutation($a: ID!, $c: ID!) { deploy(input: {applicationID: $a, version: "1.0.1", clusterID: $c, name: "x"}) { deployment { id } } }`, map[string]any{"a": app, "c": aliceCluster}, "BAD_USER_INPUT", "clusterID"},
		{"alice deploys the admin's app", alice, `mutation($a: ID!, $c: ID!) { deploy(input: {applicationID: $a, version: "1.0.1", clusterID: $c, name: "x"}) { deployment { id } } }`, map[string]any{"a": app, "c": aliceCluster}, "NOT_FOUND", "applicationID"},
		{"bad deployment name", tok, `mutation($a: ID!, $c: ID!) { deploy(input: {applicationID: $a, version: "1.0.1", clusterID: $c, name: "Not_A_Label"}) { deployment { id } } }`, map[string]any{"a": app, "c": cid}, "BAD_USER_INPUT", "name"},
		{"two ways to reach a cluster", tok, `mutation { registerCluster(input: {name: "two", simulator: true, apiServer: "https://x", token: "t"}) { cluster { id } } }`, nil, "BAD_USER_INPUT", "kubeconfig"},
		{"not a kubeconfig", tok, `mutation { registerCluster(input: {name: "bad", kubeconfig: "hello"}) { cluster { id } } }`, nil, "BAD_USER_INPUT", "kubeconfig"},
		{"a kubeconfig that runs a command", tok, `mutation($k: String!) { registerCluster(input: {name: "evil", kubeconfig: $k}) { cluster { id } } }`, map[string]any{"k": execKubeconfig}, "BAD_USER_INPUT", "kubeconfig"},
		{"a kubeconfig that reads server files", tok, `mutation($k: String!) { registerCluster(input: {name: "evil", kubeconfig: $k}) { cluster { id } } }`, map[string]any{"k": fileKubeconfig}, "BAD_USER_INPUT", "kubeconfig"},
		{"a normal user registers a real cluster", alice, `mutation { registerCluster(input: {name: "real", apiServer: "https://10.1.2.3:6443", token: "t"}) { cluster { id } } }`, nil, "FORBIDDEN", ""},
	}
	for _, c := range cases {
		r := e.GQL(c.token, c.query, c.vars)
		if r.Code() != c.code || (c.field != "" && r.Field() != c.field) {
			t.Errorf("%s: %q field %q, want %q %q (%v)", c.name, r.Code(), r.Field(), c.code, c.field, r.Errors)
		}
	}
	if after := e.Snapshot(); after != before {
		t.Errorf("bad input changed the database:\nbefore %s\nafter  %s", before, after)
	}
}

// TestUnreachableCluster: a cluster that stops answering fails its
// deployments' operations with a clear error and recovers when it returns.
func TestUnreachableCluster(t *testing.T) {
	e := testenv.Start(t, testenv.Databases()[0], testenv.WithSimulator)
	tok := e.AdminToken()
	cid := localCluster(t, e)
	app := e.GQL(tok, `mutation { createApplication(input: {name: "svc"}) { id } }`, nil).OK().Str("createApplication.id")
	spec := map[string]any{"deployType": "daemonset", "image": "agent:1", "minCPU": 0, "maxCPU": 0, "isHPA": false, "minMemory": 0, "maxMemory": 0}
	e.GQL(tok, `mutation($a: ID!, $s: WorkloadSpecInput!) { createApplicationVersion(input: {applicationID: $a, version: "1.0", spec: $s}) { id } }`, map[string]any{"a": app, "s": spec}).OK()
	sim := e.Server.Clusters.Simulator(mustInt(cid))
	sim.SetReachable(false)
	testenv.Eventually(t, 10*time.Second, func() bool {
		c := e.Client.Cluster.Query().Where(entcluster.Name("local")).OnlyX(e.Sys())
		return !c.Ready && strings.Contains(c.LastError, "unreachable")
	})
	r := e.GQL(tok, `mutation($a: ID!, $c: ID!) { deploy(input: {applicationID: $a, version: "1.0.1", clusterID: $c, name: "agent"}) { operation { id } } }`,
		map[string]any{"a": app, "c": cid}).OK()
	op := waitOp(t, e, tok, r.Str("deploy.operation.id"))
	if op["status"] != "failed" || op["attempts"] != float64(3) || !strings.Contains(op["lastError"].(string), "unreachable") {
		t.Fatalf("deploy to an unreachable cluster: %v", op)
	}
	if r := e.GQL(tok, `mutation($c: ID!) { deleteCluster(id: $c) }`, map[string]any{"c": cid}); r.Code() != "CONFLICT" {
		t.Fatalf("deleting a cluster with a deployment: %v", r.Errors)
	}
	sim.SetReachable(true)
	testenv.Eventually(t, 10*time.Second, func() bool {
		return e.Client.Cluster.Query().Where(entcluster.Name("local")).OnlyX(e.Sys()).Ready
	})
	dep := e.GQL(tok, `{ deployments { edges { node { id status message } } } }`, nil).OK()
	if dep.Str("deployments.edges.0.node.status") != "failed" {
		t.Fatalf("deployment after the outage: %v", dep.Data)
	}
	// It can be deployed again once the cluster is back.
	r = e.GQL(tok, `mutation($d: ID!) { upgradeDeployment(id: $d, version: "1.0.1") { operation { id } } }`, map[string]any{"d": dep.Str("deployments.edges.0.node.id")}).OK()
	if op := waitOp(t, e, tok, r.Str("upgradeDeployment.operation.id")); op["status"] != "succeeded" {
		t.Fatalf("redeploy after the outage: %v", op)
	}
}

func mustInt(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestNodeLabelsReachKubernetes: node labels set through Meridian land on
// the Kubernetes nodes, and deployments placed by label run only there.
func TestNodeLabelsReachKubernetes(t *testing.T) {
	e := testenv.Start(t, testenv.Databases()[0], testenv.WithSimulator)
	tok := e.AdminToken()
	cid := localCluster(t, e)
	sim := e.Server.Clusters.Simulator(mustInt(cid))
	ctx := context.Background()
	r := e.Do("POST", "/v1/node/label", map[string]any{"nodeLabel": "gpu", "clusterName": "local", "nodeName": []string{"node-1", "node-3"}}, testenv.Auth(tok)...)
	if r.Status != 200 {
		t.Fatalf("label: %d %s", r.Status, r.Raw)
	}
	testenv.Eventually(t, 10*time.Second, func() bool {
		n, _ := sim.Clientset.CoreV1().Nodes().Get(ctx, "node-3", metav1.GetOptions{})
		return n.Labels["node.meridian.io/gpu"] == "true"
	})
	app := e.GQL(tok, `mutation { createApplication(input: {name: "cuda"}) { id } }`, nil).OK().Str("createApplication.id")
	spec := map[string]any{"deployType": "daemonset", "image": "cuda:12", "minCPU": 0, "maxCPU": 0, "isHPA": false, "minMemory": 0, "maxMemory": 0}
	e.GQL(tok, `mutation($a: ID!, $s: WorkloadSpecInput!) { createApplicationVersion(input: {applicationID: $a, version: "1.0", spec: $s}) { id } }`, map[string]any{"a": app, "s": spec}).OK()
	r2 := e.GQL(tok, `mutation($a: ID!, $c: ID!) { deploy(input: {applicationID: $a, version: "1.0.1", clusterID: $c, name: "cuda", nodeLabel: "gpu"}) { deployment { id } operation { id } } }`, map[string]any{"a": app, "c": cid}).OK()
	if op := waitOp(t, e, tok, r2.Str("deploy.operation.id")); op["status"] != "succeeded" {
		t.Fatalf("deploy by label: %v", op)
	}
	var nodes []string
	testenv.Eventually(t, 10*time.Second, func() bool {
		g := e.GQL(tok, `query($id: ID!) { node(id: $id) { ... on Deployment { workloads { pods { node } } } } }`, map[string]any{"id": r2.Str("deploy.deployment.id")}).OK()
		nodes = nil
		for _, p := range asList(g.Get("node.workloads.0.pods")) {
			nodes = append(nodes, testenv.Path(p, "node").(string))
		}
		return len(nodes) == 2
	})
	if nodes[0] != "node-1" || nodes[1] != "node-3" {
		t.Fatalf("pods on %v, want node-1 and node-3", nodes)
	}
	// Removing the label removes it from Kubernetes, and the record stays removed.
	r = e.Do("DELETE", "/v1/node/label", map[string]any{"nodeLabel": "gpu", "clusterName": "local", "nodeName": []string{"node-3"}}, testenv.Auth(tok)...)
	if r.Status != 200 {
		t.Fatalf("unlabel: %d %s", r.Status, r.Raw)
	}
	testenv.Eventually(t, 10*time.Second, func() bool {
		n, _ := sim.Clientset.CoreV1().Nodes().Get(ctx, "node-3", metav1.GetOptions{})
		_, has := n.Labels["node.meridian.io/gpu"]
		return !has
	})
	time.Sleep(300 * time.Millisecond)
	if r := e.Do("GET", "/v1/node?nodeLabel=gpu", nil, testenv.Auth(tok)...); r.Body["total"] != float64(1) {
		t.Fatalf("nodes labelled gpu: %s", r.Raw)
	}
}

// TestChartDeployment: a chart uploaded over GraphQL multipart is installed,
// upgraded, rolled back and uninstalled through Helm on the simulated cluster.
func TestChartDeployment(t *testing.T) {
	e := testenv.Start(t, testenv.Databases()[0], testenv.WithSimulator)
	tok := e.AdminToken()
	cid := localCluster(t, e)
	app := e.GQL(tok, `mutation { createApplication(input: {name: "webapp"}) { id } }`, nil).OK().Str("createApplication.id")
	upload := `mutation($input: UploadChartInput!) { uploadChart(input: $input) { version kind chartName chartVersion values } }`
	before := e.Snapshot()
	r := e.Upload(tok, upload, map[string]any{"input": map[string]any{"applicationID": app, "version": "1.0", "chart": nil}}, "input.chart", []byte("this is not a chart"))
	if r.Code() != "BAD_USER_INPUT" || r.Field() != "chart" {
		t.Fatalf("a file that is not a chart: %v", r.Errors)
	}
	if e.Snapshot() != before {
		t.Fatal("a rejected upload changed the database")
	}
	r = e.Upload(tok, upload, map[string]any{"input": map[string]any{"applicationID": app, "version": "1.0", "chart": nil, "values": "replicaCount: 2\n"}}, "input.chart", testenv.ChartArchive(t, "webapp", "0.1.0")).OK()
	if r.Str("uploadChart.version") != "1.0.1" || r.Str("uploadChart.kind") != "chart" || r.Str("uploadChart.chartName") != "webapp" || r.Str("uploadChart.chartVersion") != "0.1.0" {
		t.Fatalf("upload: %v", r.Data)
	}
	e.Upload(tok, upload, map[string]any{"input": map[string]any{"applicationID": app, "version": "1.0", "chart": nil, "values": "replicaCount: 3\n"}}, "input.chart", testenv.ChartArchive(t, "webapp", "0.2.0")).OK()
	r = e.GQL(tok, `mutation($a: ID!, $c: ID!) { deploy(input: {applicationID: $a, version: "1.0.1", clusterID: $c, name: "web"}) { deployment { id } operation { id } } }`, map[string]any{"a": app, "c": cid}).OK()
	dep := r.Str("deploy.deployment.id")
	if op := waitOp(t, e, tok, r.Str("deploy.operation.id")); op["status"] != "succeeded" {
		t.Fatalf("chart install: %v", op)
	}
	pods := func() float64 {
		return e.GQL(tok, `query($id: ID!) { node(id: $id) { ... on Deployment { runningPods } } }`, map[string]any{"id": dep}).OK().Num("node.runningPods")
	}
	testenv.Eventually(t, 10*time.Second, func() bool { return pods() == 2 })
	r = e.GQL(tok, `mutation($d: ID!) { upgradeDeployment(id: $d, version: "1.0.2") { operation { id } } }`, map[string]any{"d": dep}).OK()
	if op := waitOp(t, e, tok, r.Str("upgradeDeployment.operation.id")); op["status"] != "succeeded" {
		t.Fatalf("chart upgrade: %v", op)
	}
	testenv.Eventually(t, 10*time.Second, func() bool { return pods() == 3 })
	r = e.GQL(tok, `mutation($d: ID!) { rollbackDeployment(id: $d, version: "1.0.1") { operation { id } } }`, map[string]any{"d": dep}).OK()
	if op := waitOp(t, e, tok, r.Str("rollbackDeployment.operation.id")); op["status"] != "succeeded" {
		t.Fatalf("chart rollback: %v", op)
	}
	testenv.Eventually(t, 10*time.Second, func() bool { return pods() == 2 })
	sim := e.Server.Clusters.Simulator(mustInt(cid))
	secrets, _ := sim.Clientset.CoreV1().Secrets(adminNamespace(e)).List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm,name=web"})
	if len(secrets.Items) != 3 {
		t.Fatalf("helm keeps %d revisions in the cluster, want 3", len(secrets.Items))
	}
	r = e.GQL(tok, `mutation($d: ID!) { deleteDeployment(id: $d) { operation { id } } }`, map[string]any{"d": dep}).OK()
	if op := waitOp(t, e, tok, r.Str("deleteDeployment.operation.id")); op["status"] != "succeeded" {
		t.Fatalf("chart uninstall: %v", op)
	}
	if d, err := sim.Clientset.AppsV1().Deployments(adminNamespace(e)).List(context.Background(), metav1.ListOptions{}); err != nil || len(d.Items) != 0 {
		t.Fatalf("objects left after uninstall: %v %v", d, err)
	}
}

// TestDeleteDeploymentsByLabel: removing a node label with deleteDeploy
// deletes the deployments placed by it (OTE-Stack).
func TestDeleteDeploymentsByLabel(t *testing.T) {
	e := testenv.Start(t, testenv.Databases()[0], testenv.WithSimulator)
	tok := e.AdminToken()
	cid := localCluster(t, e)
	e.Do("POST", "/v1/node/label", map[string]any{"nodeLabel": "edge", "clusterName": "local", "nodeName": []string{"node-2"}}, testenv.Auth(tok)...)
	app := e.GQL(tok, `mutation { createApplication(input: {name: "probe"}) { id } }`, nil).OK().Str("createApplication.id")
	spec := map[string]any{"deployType": "daemonset", "image": "probe:1", "minCPU": 0, "maxCPU": 0, "isHPA": false, "minMemory": 0, "maxMemory": 0}
	e.GQL(tok, `mutation($a: ID!, $s: WorkloadSpecInput!) { createApplicationVersion(input: {applicationID: $a, version: "1.0", spec: $s}) { id } }`, map[string]any{"a": app, "s": spec}).OK()
	var opIDs []string
	for _, placement := range []string{"edge", "all"} {
		r := e.GQL(tok, `mutation($a: ID!, $c: ID!, $n: String!, $l: String!) { deploy(input: {applicationID: $a, version: "1.0.1", clusterID: $c, name: $n, nodeLabel: $l}) { operation { id } } }`,
			map[string]any{"a": app, "c": cid, "n": "probe-" + placement, "l": placement}).OK()
		opIDs = append(opIDs, r.Str("deploy.operation.id"))
	}
	for _, id := range opIDs {
		if op := waitOp(t, e, tok, id); op["status"] != "succeeded" {
			t.Fatalf("deploy: %v", op)
		}
	}
	r := e.Do("DELETE", "/v1/node/label", map[string]any{"nodeLabel": "edge", "clusterName": "local", "nodeName": []string{"node-2"}, "deleteDeploy": true}, testenv.Auth(tok)...)
	if r.Status != 200 {
		t.Fatalf("unlabel with deleteDeploy: %d %s", r.Status, r.Raw)
	}
	testenv.Eventually(t, 10*time.Second, func() bool {
		g := e.GQL(tok, `{ deployments(orderBy: {field: NAME}) { edges { node { name status } } } }`, nil).OK()
		return g.Str("deployments.edges.0.node.status") == "running" && g.Str("deployments.edges.1.node.status") == "deleted"
	})
}

func adminNamespace(e *testenv.Env) string {
	return cluster.Namespace("admin", e.Client.Tenant.Query().Where(tenant.Name("admin")).OnlyIDX(e.Sys()))
}

const execKubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: ["-c", "touch /tmp/pwned"]}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`

const fileKubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {tokenFile: /etc/shadow}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`
