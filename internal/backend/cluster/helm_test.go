package cluster

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meridianplane/meridian/internal/backend/chart"
	"github.com/meridianplane/meridian/internal/backend/cluster/sim"
)

// testChart builds a real chart archive: Helm's own scaffold, packaged.
func testChart(t *testing.T, version string) []byte {
	t.Helper()
	dir := t.TempDir()
	path, err := chartutil.Create("webapp", dir)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := loader.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ch.Metadata.Version = version
	out := t.TempDir()
	file, err := chartutil.Save(ch, out)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestChartLoadRejects(t *testing.T) {
	good := testChart(t, "0.1.0")
	if _, err := chart.Load(good, "replicaCount: 2\n"); err != nil {
		t.Fatalf("a good chart: %v", err)
	}
	if _, err := chart.Load([]byte("not a tarball"), ""); err == nil {
		t.Fatal("garbage loaded as a chart")
	}
	if _, err := chart.Load(good, "replicaCount: [1"); err == nil {
		t.Fatal("broken values accepted")
	}
	// A chart whose template does not render fails lint.
	dir := t.TempDir()
	path, _ := chartutil.Create("broken", dir)
	_ = os.WriteFile(filepath.Join(path, "templates", "bad.yaml"), []byte("kind: ConfigMap\nmetadata:\n  name: {{ .Values.nope.missing }}\n"), 0o644)
	ch, err := loader.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	file, _ := chartutil.Save(ch, t.TempDir())
	raw, _ := os.ReadFile(file)
	if _, err := chart.Load(raw, ""); err == nil {
		t.Fatal("a chart that does not render passed lint")
	}
}

func TestHelmOnSimulator(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := sim.New(3)
	go s.Run(ctx)
	c := &Conn{Kube: s.Clientset, ep: &endpoint{kube: s.Clientset, sim: s}}
	v1 := testChart(t, "0.1.0")
	if tracked, err := c.HelmApply(ctx, &ChartTarget{DeploymentID: 9, Release: "web", Namespace: "ns", Version: "1.0.1", Archive: v1, Values: "replicaCount: 2\n"}); err != nil || !tracked {
		t.Fatal(err)
	}
	d, err := s.Clientset.AppsV1().Deployments("ns").Get(ctx, "web-webapp", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 2 || d.Spec.Template.Labels[LabelDeployment] != "9" || d.Spec.Template.Labels[LabelWorkload] != "Deployment.web-webapp" || d.Labels["app.kubernetes.io/managed-by"] != "Helm" {
		t.Fatalf("installed deployment: %+v", d.ObjectMeta.Labels)
	}
	if _, err := c.HelmApply(ctx, &ChartTarget{DeploymentID: 9, Release: "web", Namespace: "ns", Version: "1.0.2", Archive: testChart(t, "0.2.0"), Values: "replicaCount: 3\n"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HelmRollback(ctx, "web", "ns", "1.0.1"); err != nil {
		t.Fatal(err)
	}
	hist, err := c.HelmHistory("web", "ns")
	if err != nil || len(hist) != 3 || hist[2].Labels[LabelVersion] != "1.0.1" || hist[2].Chart.Metadata.Version != "0.1.0" {
		t.Fatalf("history: %d revisions, %v", len(hist), err)
	}
	d, _ = s.Clientset.AppsV1().Deployments("ns").Get(ctx, "web-webapp", metav1.GetOptions{})
	if *d.Spec.Replicas != 2 {
		t.Fatalf("after rollback replicas %d", *d.Spec.Replicas)
	}
	secrets, _ := s.Clientset.CoreV1().Secrets("ns").List(ctx, metav1.ListOptions{LabelSelector: "owner=helm"})
	if len(secrets.Items) != 3 {
		t.Fatalf("%d release secrets in the cluster", len(secrets.Items))
	}
	if err := c.HelmUninstall(ctx, "web", "ns"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Clientset.AppsV1().Deployments("ns").Get(ctx, "web-webapp", metav1.GetOptions{}); err == nil {
		t.Fatal("the deployment survived uninstall")
	}
}
