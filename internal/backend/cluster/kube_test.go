package cluster_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/meridianplane/meridian/ent/node"
	"github.com/meridianplane/meridian/internal/appspec"
	"github.com/meridianplane/meridian/internal/backend/cluster"
	"github.com/meridianplane/meridian/internal/testenv"
)

// TestRealKubeAPIServer drives a real kube-apiserver (with etcd, no
// controller-manager): registration, node sync, node labels, server-side
// apply of a workload, and Helm releases. `make kube-testenv` builds the
// binaries; without them the test is skipped.
func TestRealKubeAPIServer(t *testing.T) {
	if !testenv.HaveKubeAPIServer() {
		t.Skip("kube-apiserver and etcd are not built: run make kube-testenv")
	}
	k, err := testenv.StartKubeAPIServer()
	if err != nil {
		t.Fatal(err)
	}
	defer k.Stop()
	cfg, err := clientcmd.RESTConfigFromKubeConfig(k.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	kube := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()

	e := testenv.Start(t, testenv.Databases()[0])
	tok := e.AdminToken()
	r := e.GQL(tok, `mutation($kc: String!) { registerCluster(input: {name: "real", kubeconfig: $kc}) { cluster { id } operation { id } } }`,
		map[string]any{"kc": string(k.Kubeconfig)}).OK()
	cid := r.Str("registerCluster.cluster.id")
	testenv.Eventually(t, 30*time.Second, func() bool {
		g := e.GQL(tok, `query($id: ID!) { node(id: $id) { ... on Operation { status lastError } } }`, map[string]any{"id": r.Str("registerCluster.operation.id")}).OK()
		if g.Str("node.status") == "failed" {
			t.Fatalf("connect: %s", g.Str("node.lastError"))
		}
		return g.Str("node.status") == "succeeded"
	})
	g := e.GQL(tok, `query($id: ID!) { node(id: $id) { ... on Cluster { ready kubernetesVersion } } }`, map[string]any{"id": cid}).OK()
	if g.Get("node.ready") != true || g.Str("node.kubernetesVersion") != "v1.35.1" {
		t.Fatalf("cluster after connect: %v", g.Data)
	}

	// Nodes: a node appears in the API server; Meridian records it.
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "edge-1"}}
	n, err = kube.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.7.7"}}
	n.Status.NodeInfo.KernelVersion = "6.6.0"
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "Test", LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
	if _, err := kube.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, func() bool {
		row, err := e.Client.Node.Query().Where(node.Name("edge-1")).Only(e.Sys())
		return err == nil && row.Address == "192.168.7.7" && row.Ready && row.KernelVersion == "6.6.0"
	})
	// A label set through Meridian lands on the node.
	if res := e.Do("POST", "/v1/node/label", map[string]any{"nodeLabel": "gpu", "clusterName": "real", "nodeName": []string{"edge-1"}}, testenv.Auth(tok)...); res.Status != 200 {
		t.Fatalf("label: %d %s", res.Status, res.Raw)
	}
	testenv.Eventually(t, 20*time.Second, func() bool {
		got, err := kube.CoreV1().Nodes().Get(ctx, "edge-1", metav1.GetOptions{})
		return err == nil && got.Labels[cluster.NodeLabelPrefix+"gpu"] == "true"
	})

	// Server-side apply of a workload.
	id, _ := strconv.Atoi(cid)
	c, err := e.Server.Clusters.Conn(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	spec := &appspec.Workload{DeployType: "deployment", Image: "nginx:1.25", Replicas: 3, MinReplicas: 2, MaxReplicas: 6, MinCPU: 10, MaxCPU: 100,
		MinMemory: 64, MaxMemory: 128, IsHPA: true, TargetCPUUtilization: 70, Ports: []appspec.Port{{Port: 80}}, MaxSurge: 1, MaxUnavailable: 1}
	tgt := &cluster.Target{DeploymentID: 42, Name: "web", Namespace: "meridian-test", Application: "web", Version: "1.0.1", NodeLabel: "gpu", Spec: spec}
	if err := c.Apply(ctx, tgt); err != nil {
		t.Fatal(err)
	}
	d, err := kube.AppsV1().Deployments("meridian-test").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 3 || d.Spec.Selector.MatchLabels[cluster.LabelDeployment] != "42" ||
		d.Spec.Template.Spec.NodeSelector[cluster.NodeLabelPrefix+"gpu"] != "true" ||
		d.Labels[cluster.LabelManagedBy] != "meridian" || d.Spec.Template.Labels[cluster.LabelVersion] != "1.0.1" ||
		d.Spec.Template.Spec.Containers[0].Resources.Limits.Cpu().MilliValue() != 1000 || d.ManagedFields[0].Manager != cluster.FieldManager {
		t.Fatalf("applied deployment: %+v", d)
	}
	hpa, err := kube.AutoscalingV2().HorizontalPodAutoscalers("meridian-test").Get(ctx, "web", metav1.GetOptions{})
	if err != nil || hpa.Spec.MaxReplicas != 6 || *hpa.Spec.MinReplicas != 2 || *hpa.Spec.Metrics[0].Resource.Target.AverageUtilization != 70 {
		t.Fatalf("hpa: %+v %v", hpa, err)
	}
	if svc, err := kube.CoreV1().Services("meridian-test").Get(ctx, "web", metav1.GetOptions{}); err != nil || svc.Spec.Ports[0].Port != 80 {
		t.Fatalf("service: %v", err)
	}
	// Applying again is idempotent; a daemonset replaces the deployment.
	spec2 := *spec
	spec2.DeployType, spec2.IsHPA = "daemonset", false
	tgt.Spec, tgt.Version = &spec2, "1.0.2"
	if err := c.Apply(ctx, tgt); err != nil {
		t.Fatal(err)
	}
	if _, err := kube.AppsV1().DaemonSets("meridian-test").Get(ctx, "web", metav1.GetOptions{}); err != nil {
		t.Fatalf("daemonset: %v", err)
	}
	if _, err := kube.AppsV1().Deployments("meridian-test").Get(ctx, "web", metav1.GetOptions{}); err == nil {
		t.Fatal("the old deployment survived the switch to a daemonset")
	}
	if _, err := kube.AutoscalingV2().HorizontalPodAutoscalers("meridian-test").Get(ctx, "web", metav1.GetOptions{}); err == nil {
		t.Fatal("the autoscaler survived isHPA off")
	}
	if err := c.Delete(ctx, "meridian-test", "web"); err != nil {
		t.Fatal(err)
	}

	// Helm: install, upgrade, rollback, uninstall with real release records.
	for i, v := range []string{"0.1.0", "0.2.0"} {
		_, err := c.HelmApply(ctx, &cluster.ChartTarget{DeploymentID: 43, Release: "webapp", Namespace: "meridian-test",
			Version: fmt.Sprintf("1.0.%d", i+1), Archive: testenv.ChartArchive(t, "webapp", v), Values: fmt.Sprintf("replicaCount: %d\n", i+2)})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.HelmRollback(ctx, "webapp", "meridian-test", "1.0.1"); err != nil {
		t.Fatal(err)
	}
	hist, err := c.HelmHistory("webapp", "meridian-test")
	if err != nil || len(hist) != 3 || hist[2].Chart.Metadata.Version != "0.1.0" {
		t.Fatalf("release history: %d revisions, %v", len(hist), err)
	}
	secrets, _ := kube.CoreV1().Secrets("meridian-test").List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,name=webapp"})
	if len(secrets.Items) != 3 {
		t.Fatalf("%d release records in the cluster", len(secrets.Items))
	}
	cd, err := kube.AppsV1().Deployments("meridian-test").Get(ctx, "webapp", metav1.GetOptions{})
	if err != nil || *cd.Spec.Replicas != 2 || cd.Spec.Template.Labels[cluster.LabelDeployment] != "43" {
		t.Fatalf("chart deployment after rollback: %v %v", cd, err)
	}
	if err := c.HelmUninstall(ctx, "webapp", "meridian-test"); err != nil {
		t.Fatal(err)
	}
	if _, err := kube.AppsV1().Deployments("meridian-test").Get(ctx, "webapp", metav1.GetOptions{}); err == nil {
		t.Fatal("the chart's deployment survived uninstall")
	}
}
