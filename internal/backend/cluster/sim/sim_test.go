package sim

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func deployment(name, image string, replicas int32, sel map[string]string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{NodeSelector: sel, Containers: []corev1.Container{{Name: "main", Image: image}}},
			},
		},
	}
}

func steps(t *testing.T, c *Cluster, n int) {
	for i := 0; i < n; i++ {
		if err := c.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDeploymentLifecycle(t *testing.T) {
	ctx := context.Background()
	c := New(3)
	apps := c.Clientset.AppsV1().Deployments("ns")
	if _, err := apps.Create(ctx, deployment("web", "nginx:1", 4, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	steps(t, c, 3)
	d, _ := apps.Get(ctx, "web", metav1.GetOptions{})
	if d.Status.ReadyReplicas != 4 || d.Status.UpdatedReplicas != 4 {
		t.Fatalf("status %+v", d.Status)
	}
	pods, _ := c.Clientset.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{})
	nodes := map[string]int{}
	for _, p := range pods.Items {
		nodes[p.Spec.NodeName]++
		if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" || p.Status.HostIP == "" {
			t.Fatalf("pod %s: %s %q %q", p.Name, p.Status.Phase, p.Status.PodIP, p.Status.HostIP)
		}
	}
	if len(nodes) != 3 {
		t.Fatalf("pods spread over %v", nodes)
	}
	// Scale down; a new image rolls.
	d.Spec.Replicas = ptr(int32(2))
	d.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	_, _ = apps.Update(ctx, d, metav1.UpdateOptions{})
	steps(t, c, 4)
	d, _ = apps.Get(ctx, "web", metav1.GetOptions{})
	pods, _ = c.Clientset.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{})
	if d.Status.ReadyReplicas != 2 || len(pods.Items) != 2 || pods.Items[0].Spec.Containers[0].Image != "nginx:2" {
		t.Fatalf("after update: %+v, %d pods", d.Status, len(pods.Items))
	}
	// A bad image never gets ready; the old pods stay.
	c.FailImages("broken")
	d.Spec.Template.Spec.Containers[0].Image = "broken:1"
	_, _ = apps.Update(ctx, d, metav1.UpdateOptions{})
	steps(t, c, 4)
	d, _ = apps.Get(ctx, "web", metav1.GetOptions{})
	if d.Status.ReadyReplicas != 2 || d.Status.UpdatedReplicas != 2 || d.Status.UnavailableReplicas != 0 {
		t.Logf("status %+v", d.Status)
	}
	pods, _ = c.Clientset.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{})
	bad := 0
	for _, p := range pods.Items {
		if len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].State.Waiting != nil && p.Status.ContainerStatuses[0].State.Waiting.Reason == "ImagePullBackOff" {
			bad++
		}
	}
	if bad != 2 || len(pods.Items) != 4 {
		t.Fatalf("%d failing pods of %d", bad, len(pods.Items))
	}
	// Deleting the deployment collects its pods.
	_ = apps.Delete(ctx, "web", metav1.DeleteOptions{})
	steps(t, c, 2)
	pods, _ = c.Clientset.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{})
	if len(pods.Items) != 0 {
		t.Fatalf("%d pods left", len(pods.Items))
	}
}

func TestDaemonSetAndNodes(t *testing.T) {
	ctx := context.Background()
	c := New(3)
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "ns"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "agent:1"}}}},
		},
	}
	_, _ = c.Clientset.AppsV1().DaemonSets("ns").Create(ctx, ds, metav1.CreateOptions{})
	steps(t, c, 3)
	got, _ := c.Clientset.AppsV1().DaemonSets("ns").Get(ctx, "agent", metav1.GetOptions{})
	if got.Status.NumberReady != 3 {
		t.Fatalf("daemonset %+v", got.Status)
	}
	if err := c.SetNodeReady(ctx, "node-2", false); err != nil {
		t.Fatal(err)
	}
	steps(t, c, 3)
	got, _ = c.Clientset.AppsV1().DaemonSets("ns").Get(ctx, "agent", metav1.GetOptions{})
	if got.Status.DesiredNumberScheduled != 2 || got.Status.NumberReady != 2 {
		t.Fatalf("after a node dropped: %+v", got.Status)
	}
	c.SetReachable(false)
	if _, err := c.Clientset.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err == nil {
		t.Fatal("an unreachable cluster answered")
	}
	c.SetReachable(true)
	// A node selector limits where pods go.
	_, _ = c.Clientset.AppsV1().Deployments("ns").Create(ctx, deployment("gpu", "cuda:1", 2, map[string]string{"gpu": "true"}), metav1.CreateOptions{})
	steps(t, c, 2)
	pods, _ := c.Clientset.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{LabelSelector: "app=gpu"})
	for _, p := range pods.Items {
		if p.Spec.NodeName != "" || p.Status.Phase != corev1.PodPending {
			t.Fatalf("pod %s scheduled to %q without a matching node", p.Name, p.Spec.NodeName)
		}
	}
}
